"""History entries: every change to a contact is appended, never rewritten."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from funnel.engine.model import format_datetime

KINDS = ("created", "field", "stage", "activity", "merged", "unmerged")  # merges: issue #15


def entry(now: datetime, by: str, kind: str, *, field: str | None = None,
          before: Any = None, after: Any = None, why: str | None = None) -> dict[str, Any]:
    """One history record: when, what, from, to, by whom (a person or rule:NAME), why."""
    record: dict[str, Any] = {"at": format_datetime(now), "by": by, "kind": kind}
    if field is not None:
        record["field"] = field
    if kind in ("field", "stage"):
        record["from"] = before
        record["to"] = after
    elif after is not None:
        record["to"] = after
    if why:
        record["why"] = why
    return record
