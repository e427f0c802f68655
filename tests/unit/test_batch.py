"""Workspace.commit_batch: many new and changed contacts in one transaction."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.transfer.batch import BatchUpdate, NewContact, StaleBatch
from funnel.engine.errors import FieldError
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOW


@pytest.fixture
def workspace(tmp_path: Path):
    with Workspace.open(tmp_path / "leads.json", "default", clock=clock, user="t") as opened:
        yield opened


def journal_lines(workspace: Workspace) -> int:
    path = Path(str(workspace._store.path) + ".journal")
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def test_creates_and_updates_are_one_journal_record(workspace, tmp_path) -> None:
    existing = workspace.add({"email": "a@x.pl"})
    before = journal_lines(workspace)
    result = workspace.commit_batch(
        [NewContact({"email": "b@x.pl", "custom": {"Badge": "7"}}, "from a test",
                    stage="lead"),
         NewContact({"email": "c@x.pl"}, "from a test")],
        [BatchUpdate(existing, workspace.get(existing)["rev"], {"title": "CEO"}, "a test")],
        "batch", version=workspace.version)
    assert journal_lines(workspace) == before + 1
    assert result.created == [existing + 1, existing + 2] and result.updated == [existing]
    with Workspace.open(tmp_path / "leads.json", "default", clock=clock) as reopened:
        assert reopened.get(existing)["title"] == "CEO"
        assert reopened.get(existing + 1)["custom"] == {"Badge": "7"}
        stage_entry = reopened.get(existing + 1)["history"][1]
        assert (stage_entry["kind"], stage_entry["to"], stage_entry["by"]) == ("stage", "lead",
                                                                           "batch")


def test_a_batch_planned_before_another_commit_is_refused_whole(workspace) -> None:
    version = workspace.version
    workspace.add({"email": "late@x.pl"})
    before = journal_lines(workspace)
    with pytest.raises(StaleBatch):
        workspace.commit_batch([NewContact({"email": "b@x.pl"}, "t")], [], "batch",
                               version=version)
    assert journal_lines(workspace) == before and len(workspace) == 1


def test_an_update_of_a_changed_revision_is_stale(workspace) -> None:
    cid = workspace.add({"email": "a@x.pl"})
    rev = workspace.get(cid)["rev"]
    workspace.edit(cid, {"title": "CTO"})
    with pytest.raises(StaleBatch):
        workspace.commit_batch([], [BatchUpdate(cid, rev, {"title": "CEO"}, "t")], "batch")


def test_bad_values_fail_before_anything_is_written(workspace) -> None:
    before = journal_lines(workspace)
    with pytest.raises(FieldError, match="email"):
        workspace.commit_batch([NewContact({"email": "ok@x.pl"}, "t"),
                                NewContact({"email": "broken"}, "t")], [], "batch")
    with pytest.raises(FieldError, match="unpaired surrogate"):
        workspace.commit_batch([NewContact({"name": "bad \udc00 text"}, "t")], [], "batch")
    with pytest.raises(FieldError, match="'nowhere' is not a stage"):
        workspace.commit_batch([NewContact({"email": "x@x.pl"}, "t", stage="nowhere")], [],
                               "batch")
    assert journal_lines(workspace) == before and len(workspace) == 0


def test_an_empty_batch_writes_nothing(workspace) -> None:
    before = journal_lines(workspace)
    result = workspace.commit_batch([], [], "batch")
    assert result.created == [] and result.lock_seconds == 0
    assert journal_lines(workspace) == before


def test_compaction_failing_after_a_big_batch_is_a_warning_not_a_failure(
        workspace, tmp_path, monkeypatch) -> None:
    import errno

    from funnel.engine.store.contacts import ContactStore
    from funnel.engine.workspace.writer import BULK_COMPACT

    def disk_full(self: ContactStore) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ContactStore, "compact", disk_full)
    result = workspace.commit_batch([NewContact({"email": f"c{i}@x.pl"}, "t")
                                     for i in range(BULK_COMPACT)], [], "batch")
    assert len(result.created) == BULK_COMPACT
    assert len(result.warnings) == 1 and "No space left on device" in result.warnings[0]
    with Workspace.open(tmp_path / "leads.json", "default", clock=clock) as reopened:
        assert len(reopened) == BULK_COMPACT


def test_a_live_batch_takes_in_what_others_committed_and_tells_subscribers(
        workspace, tmp_path) -> None:
    from funnel.engine.transfer.importer import apply_import, plan_import

    cid = workspace.add({"email": "a@x.pl"})
    path = tmp_path / "leads.csv"
    path.write_text("email,title\na@x.pl,CEO\n")
    plan = plan_import(path, None, workspace)
    heard = []
    workspace.subscribe(heard.append)
    with Workspace.open(tmp_path / "leads.json", "default", clock=clock, user="o") as other:
        other.edit(cid, {"phone": "+48 123 456"})
    result = apply_import(workspace, plan)
    assert [(event.kind, event.ids) for event in heard] == [("remote", (cid,)),
                                                           ("edit", (cid,))]
    assert result.updated == [cid] and result.replanned == 1
    assert (workspace.get(cid)["phone"], workspace.get(cid)["title"]) == ("+48 123 456", "CEO")
