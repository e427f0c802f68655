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
