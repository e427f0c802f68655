"""What reading an import produces: ``Incoming`` contacts, and ``Problem``s for rows
that cannot be imported (row number, column, the value, and why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from funnel.engine.transfer.csvread import header_key


@dataclass(frozen=True)
class Problem:
    """What is wrong with a row (or the file): row number, column, the value, why."""

    row: int | None
    column: str | None
    value: Any
    message: str
    kind: str  # file, mapping, shape, value, missing
    line: int | None = None
    field: str | None = None
    unit: str = "row"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value,
                "message": self.message, "kind": self.kind, "line": self.line}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"{self.unit} {self.row}" + (
                f" (line {self.line})" if self.line and self.line != self.row else ""))
        if self.column is not None:
            named = self.field is not None and header_key(self.column) != header_key(self.field)
            where.append(f'column "{self.column}"' + (f" ({self.field})" if named else ""))
        return (", ".join(where) + ": " if where else "") + self.message


@dataclass(eq=False, slots=True)
class Incoming:
    """One contact as the file gives it (several rows, when the file repeats it)."""

    row: int
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    # (activity, how): "exact" (a JSON list: added unless already there) or "event"
    activities: list[tuple[dict, str]] = field(default_factory=list)
    # a count column's note -> (activity kind, running total, when)
    totals: dict[str, tuple[str, int, str | None]] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    stage: str | None = None
    stage_since: str | None = None
    rows: list[int] = field(default_factory=list)
    funnel_id: int | None = None  # the id in the database an export came from
