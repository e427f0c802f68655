"""Errors a user can cause. Front ends print ``str(error)`` as one line and exit 2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FunnelError(Exception):
    """Base class: a problem with the user's input, files or request, never a bug."""


class FieldError(FunnelError):
    """A contact field was given a value it cannot hold."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class ConfigError(FunnelError):
    """A rules file could not be loaded: names the file, the line and the rule."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.reason = message


class ConditionError(FunnelError):
    """A rule condition has a syntax or name error (position is 0-based in the text)."""

    def __init__(self, text: str, position: int, message: str) -> None:
        super().__init__(f"{message} (at column {position + 1} of {text!r})")
        self.text = text
        self.position = position
        self.reason = message


class NotFound(FunnelError):
    """No contact with the requested id."""


class StorageError(FunnelError):
    """The database file cannot be opened or written."""


@dataclass(frozen=True)
class Clash:
    """One field an edit was based on that someone changed since."""

    field: str
    seen: Any  # the value the editor started from (or expected)
    theirs: Any  # the value stored now
    mine: Any  # the value the edit would have written (None: the edit did not set it)
    by: str | None = None  # who made the change that is stored now, if the history says
    at: str | None = None  # when


class Conflict(FunnelError):
    """An edit was based on values of a contact that someone else has changed since.

    Not a StorageError: the database is fine, another session simply got there first.
    ``clashes`` names each field, what the editor saw, what is stored now and who
    stored it; ``changes`` and ``expect`` are the refused edit, so a front end can
    offer to apply it over theirs (``Workspace.override``)."""

    def __init__(self, message: str, *, contact_id: int | None = None,
                 clashes: tuple[Clash, ...] = (), changes: dict[str, Any] | None = None,
                 expect: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.contact_id = contact_id
        self.clashes = clashes
        self.changes = dict(changes or {})
        self.expect = dict(expect or {})
