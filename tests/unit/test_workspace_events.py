"""Subscribers hear every commit after it has landed: with the workspace lock released,
and a subscriber that raises neither hides the change from the others nor undoes it."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.model import format_datetime
from funnel.engine.workspace.facade import ChangeEvent, Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(tmp_path / "funnel.json", "default", clock=lambda: NOW,
                        user="tester") as opened:
        yield opened


def lead(index: int = 0) -> dict:
    return {"name": f"Lead {index}", "email": f"lead{index}@example.com",
            "created_at": format_datetime(NOW - timedelta(days=3))}


def broken(event: ChangeEvent) -> None:
    raise RuntimeError("a subscriber with a bug")


def test_a_raising_subscriber_does_not_skip_the_next_nor_fail_add_many(workspace, caplog):
    heard: list[ChangeEvent] = []
    workspace.subscribe(broken)
    workspace.subscribe(heard.append)
    with caplog.at_level(logging.ERROR):
        ids = workspace.add_many([lead(1), lead(2)], by="tester")
    assert [(event.kind, event.ids) for event in heard] == [("add", tuple(ids))]
    assert len(workspace) == 2  # the commit landed
    assert "a subscriber with a bug" in caplog.text


def test_a_raising_subscriber_does_not_skip_the_next_nor_fail_an_edit(workspace):
    contact_id = workspace.add(lead())
    heard: list[ChangeEvent] = []
    workspace.subscribe(broken)
    workspace.subscribe(heard.append)
    result = workspace.edit(contact_id, {"owner": "anna"}, by="carmen")
    assert result.changed == {"owner": (None, "anna")}
    assert workspace.get(contact_id)["owner"] == "anna"
    workspace.undo(by="carmen")
    assert [(event.kind, event.ids, event.by) for event in heard] == [
        ("edit", (contact_id,), "carmen"), ("undo", (contact_id,), "carmen")]


def test_a_raising_subscriber_does_not_fail_a_batch_or_a_rules_switch(workspace):
    from funnel.engine.rules.loading import load_rules
    from funnel.engine.transfer.batch import NewContact

    heard: list[str] = []
    workspace.subscribe(broken)
    workspace.subscribe(lambda event: heard.append(event.kind))
    result = workspace.commit_batch([NewContact(lead(3), "imported")], [], "import")
    workspace.set_rules(load_rules("fit-first"))
    assert len(result.created) == 1 and heard == ["add", "rules"]


def other_thread_can_use_the_workspace(workspace: Workspace) -> bool:
    """From another thread, run something that needs the workspace lock; True if it
    finished (it would wait for ever if this thread held the lock)."""
    done = threading.Event()

    def work() -> None:
        workspace.classify_all()
        done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return done.wait(timeout=5)


@pytest.mark.parametrize("command", ["add", "edit", "move", "log", "undo", "batch"])
def test_subscribers_are_called_with_the_workspace_lock_released(workspace, command):
    from funnel.engine.transfer.batch import NewContact

    contact_id = workspace.add(lead())
    workspace.edit(contact_id, {"owner": "anna"})
    free: list[bool] = []
    workspace.subscribe(lambda event: free.append(other_thread_can_use_the_workspace(workspace)))
    if command == "add":
        workspace.add(lead(1))
    elif command == "edit":
        workspace.edit(contact_id, {"owner": "eva"})
    elif command == "move":
        workspace.move(contact_id, "lost", "went elsewhere")
    elif command == "log":
        workspace.log_activity(contact_id, "email_open")
    elif command == "undo":
        workspace.undo()
    else:
        workspace.commit_batch([NewContact(lead(2), "imported")], [], "import")
    assert free and all(free)


def test_a_subscriber_may_write_from_another_thread(workspace):
    contact_id = workspace.add(lead())
    written = threading.Event()

    def follow_up(event: ChangeEvent) -> None:
        if event.kind == "edit" and event.by == "carmen":
            def write() -> None:
                workspace.edit(contact_id, {"tags": ["followed"]}, by="robot")
                written.set()
            threading.Thread(target=write, daemon=True).start()
            assert written.wait(timeout=5)

    workspace.subscribe(follow_up)
    workspace.edit(contact_id, {"owner": "anna"}, by="carmen")
    document = workspace.get(contact_id)
    assert document["owner"] == "anna" and document["tags"] == ["followed"]
