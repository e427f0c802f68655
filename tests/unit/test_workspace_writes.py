"""Every change goes through the one write path (``Writer.commit``), and its refusals
are the right kind of error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.errors import Conflict, FunnelError, StorageError
from funnel.engine.model import format_datetime
from funnel.engine.transfer.batch import BatchUpdate, NewContact
from funnel.engine.workspace.facade import Workspace
from funnel.engine.workspace.writer import Writer

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(tmp_path / "funnel.json", "default", clock=lambda: NOW,
                        user="tester") as opened:
        yield opened


@pytest.fixture
def commits(monkeypatch):
    """How many times each test's commands went through ``Writer.commit``."""
    counted: list[int] = []
    original = Writer.commit

    def counting(self, write, **options):
        counted.append(1)
        return original(self, write, **options)
    monkeypatch.setattr(Writer, "commit", counting)
    return counted


def lead(index: int = 0) -> dict:
    return {"name": f"Lead {index}", "email": f"lead{index}@example.com",
            "created_at": format_datetime(NOW - timedelta(days=3))}


@pytest.mark.parametrize("command", [
    lambda ws, cid: ws.add(lead(1)),
    lambda ws, cid: ws.add_many([lead(1), lead(2)]),
    lambda ws, cid: ws.edit(cid, {"owner": "anna"}),
    lambda ws, cid: ws.move(cid, "lost", "went elsewhere"),
    lambda ws, cid: ws.disqualify(cid, "a student"),
    lambda ws, cid: ws.unpin(cid),
    lambda ws, cid: ws.adjust_score(cid, 5, "met at a fair"),
    lambda ws, cid: ws.log_activity(cid, "email_open"),
    lambda ws, cid: ws.commit_batch([NewContact(lead(3), "imported")],
                                    [BatchUpdate(cid, ws.get(cid)["rev"], {"owner": "eva"},
                                                 "imported")], "import"),
], ids=["add", "add_many", "edit", "move", "disqualify", "unpin", "adjust_score",
        "log_activity", "commit_batch"])
def test_every_command_commits_once_through_the_write_path(workspace, commits, command):
    contact_id = workspace.add(lead())
    workspace.move(contact_id, "lost", "pinned first, so unpin has something to do")
    commits.clear()
    version = workspace.version
    command(workspace, contact_id)
    assert commits == [1] and workspace.version == version + 1


def test_undo_and_redo_commit_through_the_write_path(workspace, commits):
    contact_id = workspace.add(lead())
    workspace.edit(contact_id, {"owner": "anna"})
    commits.clear()
    workspace.undo()
    workspace.redo()
    assert commits == [1, 1] and workspace.get(contact_id)["owner"] == "anna"


def test_a_conflict_is_its_own_kind_of_error_not_a_storage_failure(tmp_path):
    assert issubclass(Conflict, FunnelError) and not issubclass(Conflict, StorageError)
    path = tmp_path / "shared.json"
    with Workspace.open(path, "default", clock=lambda: NOW, user="anna") as anna, \
            Workspace.open(path, "default", clock=lambda: NOW, user="bartek") as bartek:
        contact_id = anna.add(lead())
        bartek.refresh()
        anna.edit(contact_id, {"owner": "anna"})
        heard = []
        bartek.subscribe(heard.append)
        with pytest.raises(Conflict) as raised:
            bartek.edit(contact_id, {"owner": "bartek"})
        assert not isinstance(raised.value, StorageError)
        # Refused, but the session shows the winner's version straight away.
        assert [(event.kind, event.ids) for event in heard] == [("remote", (contact_id,))]
        assert bartek.get(contact_id)["owner"] == "anna"
