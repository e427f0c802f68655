"""An import while others edit: it still succeeds, all or nothing, and never writes over
a change made after it was planned.

The other editor here is a second session on the same files (another ``ContactStore``,
as another process would have); ``test_import_race.py`` runs real ``funnel set``
processes. Each test plans, lets the other session commit, then applies:

- a field the file sets that someone changed meanwhile is a conflict of that row
  (row, contact, field, their value, the file's value, who), not a failure of the file,
  and their value stays; the row's other fields are still imported;
- changes to other fields merge; a contact added meanwhile with a row's email is
  updated, not duplicated;
- ``strict=True`` writes nothing when any row conflicts;
- a commit landing while the batch is being built is caught under the lock.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.transfer import importer
from funnel.engine.transfer.importer import apply_import, plan_import
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "leads.json"


@pytest.fixture
def workspace(db: Path):
    with Workspace.open(db, "default", clock=clock, user="importer") as opened:
        yield opened


@pytest.fixture
def other(db: Path, workspace: Workspace):
    """Another person's session on the same database (opened after ``workspace``)."""
    with Workspace.open(db, "default", clock=clock, user="olga") as opened:
        yield opened


def csv_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(text)
    return path


def files_of(db: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in db.parent.glob(db.name + "*")
            if not path.name.endswith(".lock")}


def seed(workspace: Workspace, *emails: str) -> list[int]:
    return workspace.add_many([{"email": email, "name": email.split("@")[0].title()}
                               for email in emails], by="seed")


def test_a_field_changed_after_the_plan_is_a_conflict_and_keeps_their_value(
        tmp_path, workspace, other) -> None:
    anna, bob, cleo = seed(workspace, "anna@x.pl", "bob@x.pl", "cleo@x.pl")
    path = csv_file(tmp_path, "email,title,company,tags\n"
                              "anna@x.pl,CEO,Acme,vip\n"
                              "bob@x.pl,CTO,Beta,\n"
                              "cleo@x.pl,COO,Gamma,\n"
                              "dora@x.pl,CFO,Delta,\n")
    plan = plan_import(path, None, workspace)
    assert plan.counts() == {"created": 1, "updated": 3, "unchanged": 0, "skipped": 0}
    other.refresh()
    other.edit(anna, {"title": "Founder"})  # a field the file sets: a conflict
    other.edit(bob, {"phone": "+48 123"})  # a field it does not: merges
    dora = other.add({"email": "dora@x.pl", "name": "Dora"})  # a row's contact, added meanwhile

    result = workspace.apply_import(plan)

    assert [(c.row, c.contact_id, c.field, c.theirs, c.in_file, c.by)
            for c in result.conflicts] == [(2, anna, "title", "Founder", "CEO", "olga")]
    assert result.conflicts[0].to_dict()["file"] == "CEO"
    assert result.counts()["created"] == 0 and sorted(result.updated) == [anna, bob, cleo, dora]
    assert result.replanned >= 3  # anna, bob and dora's rows were re-derived
    with Workspace.open(workspace._store.path, "default", clock=clock) as fresh:
        first = fresh.get(anna)
        assert (first["title"], first["company"], first["tags"]) == ("Founder", "Acme", ["vip"])
        second = fresh.get(bob)
        assert (second["title"], second["company"], second["phone"]) == ("CTO", "Beta", "+48 123")
        assert fresh.get(cleo)["title"] == "COO"
        fourth = fresh.get(dora)
        assert (fourth["name"], fourth["title"]) == ("Dora", "CFO") and len(fresh) == 4
        # The history says who wrote what, and the import's entries start from what
        # was there when it wrote: nothing was overwritten unseen.
        titles = [(h["by"], h["from"], h["to"]) for h in first["history"]
                  if h.get("field") == "title"]
        assert titles == [("olga", None, "Founder")]


def test_a_row_that_changed_nothing_when_planned_does_not_undo_a_later_edit(
        tmp_path, workspace, other) -> None:
    [anna] = seed(workspace, "anna@x.pl")
    workspace.edit(anna, {"title": "CEO", "tags": ["vip", "fair"]})
    path = csv_file(tmp_path, "email,title,tags\nanna@x.pl,CEO,vip\n")
    plan = plan_import(path, None, workspace)
    assert plan.counts()["unchanged"] == 1
    other.refresh()
    other.edit(anna, {"title": "Founder", "tags": ["fair"]})  # the tag the file has: removed

    result = workspace.apply_import(plan)

    assert sorted((c.field, c.theirs, c.in_file) for c in result.conflicts) == [
        ("tags", ["fair"], ["fair", "vip"]), ("title", "Founder", "CEO")]
    assert result.counts() == {"created": 0, "updated": 0, "unchanged": 1, "skipped": 0}
    workspace.refresh()
    assert (workspace.get(anna)["title"], workspace.get(anna)["tags"]) == ("Founder", ["fair"])


def test_tags_and_custom_fields_merge_unless_the_same_key_changed(
        tmp_path, workspace, other) -> None:
    [anna] = seed(workspace, "anna@x.pl")
    workspace.edit(anna, {"tags": ["a"]})
    path = csv_file(tmp_path, "email,tags,Booth,Badge\nanna@x.pl,b,B12,7\n")
    plan = plan_import(path, None, workspace)
    assert plan.incoming[0].custom == {"Booth": "B12", "Badge": "7"}
    other.refresh()
    other.edit(anna, {"tags": ["a", "c"]})
    with Workspace.open(workspace._store.path, "default", clock=clock) as third:
        # Custom fields change by import: Piotr's file sets the booth too.
        piotrs = tmp_path / "piotr.csv"
        piotrs.write_text("email,Booth\nanna@x.pl,A1\n")
        third.apply_import(plan_import(piotrs, None, third, by="piotr"))

    result = workspace.apply_import(plan)

    assert [(c.field, c.theirs, c.in_file, c.by) for c in result.conflicts] == [
        ("custom.Booth", "A1", "B12", "piotr")]
    workspace.refresh()
    stored = workspace.get(anna)
    assert stored["tags"] == ["a", "c", "b"]
    assert stored["custom"] == {"Booth": "A1", "Badge": "7"}


def test_strict_writes_nothing_when_a_row_conflicts(tmp_path, workspace, other, db) -> None:
    anna, bob = seed(workspace, "anna@x.pl", "bob@x.pl")
    path = csv_file(tmp_path, "email,title\nanna@x.pl,CEO\nbob@x.pl,CTO\nnew@x.pl,CFO\n")
    plan = plan_import(path, None, workspace)
    other.refresh()
    other.edit(bob, {"title": "Intern"})
    before = files_of(db)

    with pytest.raises(importer.ImportConflicted) as refused:
        apply_import(workspace, plan, strict=True)

    assert files_of(db) == before
    assert [(c.row, c.contact_id, c.field, c.theirs, c.in_file, c.by)
            for c in refused.value.conflicts] == [(3, bob, "title", "Intern", "CTO", "olga")]
    assert "1 row conflicts" in str(refused.value) and "nothing was imported" in str(
        refused.value)
    # Without --strict the same plan imports the rest.
    result = apply_import(workspace, plan)
    assert len(result.conflicts) == 1 and result.counts()["created"] == 1


def test_a_commit_while_the_batch_is_built_is_caught_under_the_lock(
        tmp_path, workspace, other) -> None:
    anna, bob = seed(workspace, "anna@x.pl", "bob@x.pl")
    path = csv_file(tmp_path, "email,title,company\nanna@x.pl,CEO,Acme\nbob@x.pl,CTO,Beta\n"
                              "eve@x.pl,CMO,Eve Inc\n")
    plan = plan_import(path, None, workspace)
    other.refresh()
    landed = []

    def meanwhile(phase: str, done: int, total: int) -> None:
        # Reported once the documents are built, before the lock is taken: the
        # import has already taken in everything committed before this moment.
        if phase == "write" and not landed:
            other.edit(anna, {"title": "Founder", "country": "PL"})
            landed.append(other.add({"email": "eve@x.pl", "name": "Eve"}))

    result = workspace.apply_import(plan, progress=meanwhile)

    assert landed, "the batch reported no progress before committing"
    assert [(c.contact_id, c.field, c.theirs) for c in result.conflicts] == [
        (anna, "title", "Founder")]
    workspace.refresh()
    first = workspace.get(anna)
    assert (first["title"], first["company"], first["country"]) == ("Founder", "Acme", "PL")
    assert workspace.get(landed[0])["title"] == "CMO" and len(workspace) == 3


def test_nothing_changed_since_the_plan_means_no_conflicts_and_no_replanning(
        tmp_path, workspace) -> None:
    [anna] = seed(workspace, "anna@x.pl")
    path = csv_file(tmp_path, "email,title\nanna@x.pl,CEO\nbob@x.pl,CTO\n")
    result = workspace.apply_import(plan_import(path, None, workspace))
    assert result.conflicts == [] and result.replanned == 0 and result.warnings == []
    assert workspace.get(anna)["title"] == "CEO" and len(workspace) == 2


def test_the_session_taking_in_a_change_while_the_batch_is_built_is_no_failure(
        tmp_path, workspace, other) -> None:
    # A front end refreshes its session on a timer while the import runs in a worker:
    # a contact may reach a newer revision between being revisited and being built.
    ids = seed(workspace, *(f"c{i}@x.pl" for i in range(600)))
    path = csv_file(tmp_path, "email,title\n" + "".join(f"c{i}@x.pl,T{i}\n"
                                                          for i in range(600)))
    plan = plan_import(path, None, workspace)
    other.refresh()
    last = ids[-1]

    def meanwhile(phase: str, done: int, total: int) -> None:
        if phase == "write" and done == 500:  # the last contact is not built yet
            other.edit(last, {"title": "Boss"})
            workspace.refresh()

    result = workspace.apply_import(plan, progress=meanwhile)

    assert [(c.contact_id, c.field, c.theirs) for c in result.conflicts] == [
        (last, "title", "Boss")]
    assert len(result.updated) == 599 and workspace.get(last)["title"] == "Boss"
    assert workspace.get(ids[0])["title"] == "T0"
