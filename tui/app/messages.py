"""Messages the app posts to itself and its panes."""

from __future__ import annotations

from textual.message import Message


class ContactsChanged(Message):
    """Contacts were committed (by this session or another): posted from any thread,
    handled on the UI thread."""

    def __init__(self, kind: str, ids: tuple[int, ...], by: str) -> None:
        super().__init__()
        self.kind = kind  # add, edit, move, undo, redo, rules, remote, …
        self.ids = ids
        self.by = by
