"""Undo and redo walk back and forth through several of one's own changes to one
contact (each undo leaves the contact as the change before it left it), but never over
another session's change in between."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def path(tmp_path):
    return tmp_path / "d.json"


def open_as(path, user):
    return Workspace.open(path, None, clock=lambda: NOW, user=user)


def test_three_edits_of_one_contact_undo_and_redo_in_turn(path):
    with open_as(path, "ola") as desk:
        contact = desk.add({"name": "Ann", "email": "ann@example.com"})
        for note in ("first", "second", "third"):
            desk.edit(contact, {"notes": note})
        notes = lambda: desk.get(contact)["notes"]  # noqa: E731
        assert desk.undo().ids == (contact,) and notes() == "second"
        assert desk.undo().ids == (contact,) and notes() == "first"
        desk.undo()
        assert desk.get(contact).get("notes") in (None, "")
        desk.redo()
        desk.redo()
        assert notes() == "second"
        desk.undo()
        assert notes() == "first"
        desk.redo()
        desk.redo()
        assert notes() == "third"


def test_an_undo_stops_at_another_sessions_change_in_between(path):
    with open_as(path, "ola") as desk, open_as(path, "eve") as other:
        contact = desk.add({"name": "Ann", "email": "ann@example.com"})
        desk.edit(contact, {"notes": "mine 1"})
        other.refresh()
        other.edit(contact, {"title": "CFO"})  # eve's change between ola's two
        desk.refresh()
        desk.edit(contact, {"notes": "mine 2"})
        desk.undo()
        assert desk.get(contact)["notes"] == "mine 1"
        with pytest.raises(FunnelError, match="changed since"):
            desk.undo()  # would put eve's title back to none
        assert desk.get(contact)["title"] == "CFO"
