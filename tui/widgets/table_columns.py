"""The contact table's columns: every column there is, what a cell shows, and which
columns fit a terminal of a given width.

A person may choose and order their own columns (the Contacts tab's ``C``), from the
catalogue below and from the contacts' custom fields (``custom.City``, read from each
visible row's document). When the terminal is too narrow for all of them, the least
needed go first (``priority``): at 80 columns the list keeps what triage reads (name,
stage, score, temperature, source, owner, follow-up, with room for a name) and drops
company, lead type and grade, which the card shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel.engine.rules.classify import Classification
from funnel.engine.workspace.query import SORTS
from funnel.tui.widgets.text import literal

MARK_WIDTH = 2  # the "● " mark column
CUSTOM = "custom."


@dataclass(frozen=True)
class Column:
    key: str  # the field it shows; also the sort order it stands for, if there is one
    title: str
    width: int  # the least it is shown at
    priority: int  # lower stays longer when the terminal is narrow
    right: bool = False
    grow: int = 0  # cells more it takes when there is room

    @property
    def sortable(self) -> bool:
        return self.key in SORTS or self.key == "flags"


CATALOGUE = (
    Column("flags", "!", 2, 1),
    Column("name", "Name", 18, 0, grow=22),
    Column("company", "Company", 12, 5, grow=12),
    Column("stage", "Stage", 11, 0),
    Column("score", "Score", 5, 0, right=True),
    Column("grade", "G", 1, 6),
    Column("temperature", "Temp", 4, 1),
    Column("type", "Type", 4, 5),
    Column("source", "Source", 10, 3, grow=4),
    Column("owner", "Owner", 8, 2, grow=4),
    Column("follow_up", "Follow-up", 10, 2),
    Column("created", "Created", 10, 3),
    Column("external_id", "External id", 12, 3, grow=24),
    Column("email", "Email", 16, 3, grow=16),
    Column("phone", "Phone", 12, 4, grow=4),
    Column("title", "Job title", 12, 4, grow=8),
    Column("country", "Country", 10, 4, grow=4),
    Column("industry", "Industry", 10, 4, grow=6),
    Column("tags", "Tags", 10, 5, grow=10),
    Column("likely", "Likely", 6, 4, right=True),  # the learned likelihood, in %
)
BY_KEY = {column.key: column for column in CATALOGUE}
DEFAULT_KEYS = ("flags", "name", "company", "stage", "score", "grade", "temperature", "type",
                "source", "owner", "follow_up")
COLUMNS = tuple(BY_KEY[key] for key in DEFAULT_KEYS)  # the table's columns unless chosen


def column_for(key: str) -> Column | None:
    """The column ``key`` names: one of the catalogue, or a custom field's."""
    if key in BY_KEY:
        return BY_KEY[key]
    name = key[len(CUSTOM):] if key.startswith(CUSTOM) else ""
    if name:
        return Column(key, literal(name), max(6, min(len(name), 12)), 3, grow=10)
    return None


def contact_label(document: dict, contact_id: int | None = None) -> str:
    """What names a contact in a list: the name, else the email, else the external id
    (imported leads often have only that), else its number."""
    for field in ("name", "email", "external_id"):
        if document.get(field):
            return literal(document[field])
    return f"#{contact_id}" if contact_id is not None else "(no name)"


def cell_value(key: str, document: dict, result: Classification,
               contact_id: int | None = None) -> str:
    if key == "flags":  # ! overdue follow-up, else ? unanswered; ~ rotting in its stage
        first = "!" if result.overdue else "?" if result.unanswered else ""
        return first + ("~" if result.rotting else "")
    if key == "name":
        return contact_label(document, contact_id)
    if key == "stage":
        return result.stage + ("*" if result.manual else "")
    if key == "score":
        return str(result.score)
    if key == "grade":
        return str(result.grade)
    if key == "temperature":
        return result.temperature
    if key == "type":
        return result.lead_type or "–"
    if key == "follow_up":
        return document.get("follow_up") or ""
    if key == "created":
        return (document.get("created_at") or "")[:10]
    if key.startswith(CUSTOM):
        return literal((document.get("custom") or {}).get(key[len(CUSTOM):]))
    return literal(document.get(key))


def layout_columns(width: int, columns: tuple[Column, ...] = COLUMNS
                   ) -> list[tuple[Column, int]]:
    """The columns that fit in ``width`` cells, with their widths (one space between).
    Columns are taken by priority at their least width; the room left is shared out a
    cell at a time among those that grow."""
    kept: list[Column] = []
    used = MARK_WIDTH
    for column in sorted(columns, key=lambda column: column.priority):
        need = column.width + (1 if kept else 0)
        if used + need <= width:
            kept.append(column)
            used += need
    kept.sort(key=columns.index)
    widths = {column.key: column.width for column in kept}
    spare = max(0, width - used)
    growing = [column for column in kept if column.grow
               and widths[column.key] < column.width + column.grow]
    while spare and growing:
        for column in list(growing):
            if not spare:
                break
            widths[column.key] += 1
            spare -= 1
            if widths[column.key] >= column.width + column.grow:
                growing.remove(column)
    return [(column, widths[column.key]) for column in kept]
