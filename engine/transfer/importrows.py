"""Reading the rows of an import: a file's columns bound to a mapping's targets.

``RowReader`` turns each record of a table (``csvread``, or a JSON list read by
``jsonread``) into an ``Incoming`` contact, or into ``Problem``s naming the row,
the column, the value and what is wrong. It checks every value the way the model
will, so a plan that reads cleanly writes cleanly. ``importer`` drives it.
"""

from __future__ import annotations

import difflib
import json
import math
from datetime import datetime
from typing import Any

from funnel.engine.errors import FieldError
from funnel.engine.model import format_datetime, validate_custom
from funnel.engine.model.after_contact import validate_after_contact
from funnel.engine.rules.ruleset import Rules
from funnel.engine.transfer.cells import activities_from, parse_number, to_field, value_key
from funnel.engine.transfer.csvread import Record, Table, header_key, restore
from funnel.engine.transfer.importplan import ImportPlan
from funnel.engine.transfer.incoming import Incoming, Problem
from funnel.engine.transfer.mapping import Mapping, Target


class RowReader:
    """The file's columns bound to the mapping's targets; turns a record into Incoming."""

    def __init__(self, table: Table, mapping: Mapping, rules: Rules, plan: ImportPlan,
                 now: datetime) -> None:
        self.plan = plan
        self.mapping = mapping
        self.unit = plan.unit
        self.width = len(table.header)
        self.empty = mapping.empty_values
        self.empty_longest = max((len(v) + 8 for v in self.empty), default=0)
        self.keys: dict[str, str] = {}
        # (field, date format) -> cell -> its value (``field_value``)
        self.converted: dict[tuple[str, str | None], dict[str, Any]] = {}
        self.now = format_datetime(now)
        self.stages: dict[str, str] = {}  # value_key of a stage's id or label -> its id
        self.order: dict[str, int] = {}
        for stage in rules.stages + rules.exits:
            self.stages[value_key(stage.id)] = stage.id
            self.stages.setdefault(value_key(stage.label), stage.id)
            self.order[stage.id] = stage.order
        self.rules = rules
        self.kept: dict[str, int] = {}  # column -> values a guessed field could not take
        header = table.header
        first: dict[str, int] = {}
        for position, column in enumerate(header):
            if column:
                first.setdefault(header_key(column), position)
        self.bindings: list[tuple[int, str, Target, int | None]] = []
        bound: set[int] = set()
        for column_map in mapping.columns:
            index = first.get(column_map.key)
            if index is None:
                if not column_map.optional:
                    where = f"{mapping.source}:{column_map.line}: " if column_map.line else ""
                    close = _closest(column_map.column, [c for c in header if c])
                    plan.add_problem(Problem(
                        None, column_map.column, None,
                        f"{where}the mapping names column {column_map.column!r}, which the "
                        f"file does not have{close}; mark it 'optional: true' if it may be "
                        "missing", "mapping"))
                    plan.fatal = True
                else:
                    plan.columns.append((column_map.column, "(not in this file; optional)", ""))
                continue
            bound.add(index)
            for target in column_map.targets:
                at_index: int | None = None
                if target.at is not None:
                    at_index = first.get(header_key(target.at))
                    if at_index is None:
                        plan.add_problem(Problem(None, column_map.column, None,
                                                 f"'at: {target.at}' names a column the file "
                                                 "does not have", "mapping"))
                        plan.fatal = True
                self.bindings.append((index, header[index], target, at_index))
                note = column_map.note or ("recorded after contact: not learned from"
                                           if column_map.after_contact else "")
                plan.columns.append((header[index], target.describe(), note))
        used = {header_key(header[index]) for index in bound}
        for index, column in enumerate(header):
            if index in bound:
                continue
            label = column or f"column {index + 1}"
            if header_key(label) in used:
                number = 2
                while header_key(f"{label} ({number})") in used:
                    number += 1
                plan.warnings.append(f"column {index + 1} repeats the name {label!r}; kept as "
                                     f"'{label} ({number})'")
                label = f"{label} ({number})"
            used.add(header_key(label))
            if mapping.keep_unmapped:
                self.bindings.append((index, label, Target("custom", label), None))
                plan.columns.append((label, f"custom field {label!r}",
                                     "not in the mapping" if not mapping.guessed else ""))
            else:
                plan.columns.append((label, "ignored", "not in the mapping"))
        if mapping.guessed and not plan.fatal and all(
                target.kind in ("custom", "ignore") for _, _, target, _ in self.bindings):
            # A file named by mistake (a key, a log) would otherwise import its lines as
            # contacts with nothing but custom fields.
            plan.add_problem(Problem(None, None, None, "does not look like a contacts file: "
                                     "no column of its header names a contact field (such "
                                     "as email, name, company or phone); rename the "
                                     "columns, or give a mapping file (--map)", "file"))
            plan.fatal = True

    def column_of(self, field_name: str) -> str | None:
        return next((column for _, column, target, _ in self.bindings
                     if target.kind == "field" and target.name == field_name), None)

    def clean(self, raw: Any) -> Any:
        """The cell's value, or None when it is empty or a placeholder such as 'Select'."""
        if raw.__class__ is not str:
            return None if raw is None or raw == [] or raw == {} else raw
        if not raw:
            return None
        text = (restore(raw) if raw[0] == "'" else raw).strip()
        if not text or (len(text) <= self.empty_longest and self.key(text) in self.empty):
            return None
        return text

    def key(self, text: str) -> str:
        """``value_key`` of a cell, remembered: categorical columns repeat their values."""
        found = self.keys.get(text)
        if found is None:
            found = value_key(text)
            if len(self.keys) < 100_000:
                self.keys[text] = found
        return found

    def read(self, record: Record) -> Incoming | None:
        plan, unit = self.plan, self.unit
        cells = record.cells
        if len(cells) != self.width:
            extra = cells[self.width:]
            if len(cells) < self.width or any(isinstance(c, str) and c.strip() for c in extra):
                plan.add_problem(Problem(record.row, None, None,
                                         f"has {len(cells)} cells but the header has "
                                         f"{self.width} columns (a delimiter inside an unquoted "
                                         "cell, or a missing one?)", "shape", record.line,
                                         unit=unit))
                return None
        item = Incoming(record.row, record.line, rows=[record.row])
        custom = item.custom
        clean = self.clean
        bad = False
        for index, column, target, at_index in self.bindings:
            raw = cells[index]
            if raw == "" or raw is None:
                continue
            value = clean(raw)
            if value is None:
                continue
            if target.kind == "custom" and value.__class__ is str:
                if target.name not in custom:  # the common case, kept short
                    custom[target.name] = value
                continue
            try:
                self.apply(item, target, column, value, cells, at_index)
            except FieldError as error:
                if target.soft:
                    item.custom.setdefault(column, value if isinstance(value, str)
                                           else json.dumps(value, ensure_ascii=False))
                    self.kept[column] = self.kept.get(column, 0) + 1
                    continue
                bad = True
                named = error.field if target.kind in ("field", "stage", "stage_since") \
                    else None
                plan.add_problem(Problem(record.row, column, raw, error.reason, "value",
                                         record.line, named, unit))
            except _NotListed as error:
                bad = True
                plan.add_problem(Problem(record.row, column, raw, str(error), "value",
                                         record.line, None, unit))
        if item.custom:
            try:
                item.custom = validate_custom(item.custom)
            except FieldError as error:
                bad = True
                key = next((key for key in item.custom
                            if error.reason.startswith(f"{key}:")), None)
                named = next((c for _, c, target, _ in self.bindings
                              if target.kind == "custom" and target.name == key), key)
                plan.add_problem(Problem(record.row, named, None, error.reason, "value",
                                         record.line, None, unit))
        if bad:
            return None
        self.finish(item)
        return item

    def field_value(self, name: str, value: Any, date_format: str | None) -> Any:
        """``to_field``, remembered per field for text cells: columns such as country,
        source or a date repeat a few values over many rows. A field whose values do
        not repeat fills its own small memory and is then converted every time."""
        if value.__class__ is not str:
            return to_field(name, value, date_format)
        memory = self.converted.setdefault((name, date_format), {})
        found = memory.get(value, _UNSEEN)
        if found is _UNSEEN:
            found = to_field(name, value, date_format)  # a FieldError is not remembered
            if len(memory) < CONVERTED_PER_FIELD and found.__class__ in (str, int, float):
                memory[value] = found
        return found

    def translate(self, target: Target, value: Any) -> tuple[bool, Any]:
        """(translated, value): a cell through the target's ``values`` and ``other``."""
        if target.values is None:
            return False, value
        key = self.key(value) if isinstance(value, str) else value_key(json.dumps(value))
        if key in target.values:
            return True, target.values[key]
        if target.other == "keep":
            return False, value
        if target.other == "value":
            return True, target.other_value
        if target.other == "error":
            listed = ", ".join(sorted(target.values)[:12])
            raise _NotListed(f"{value!r} is not one of the values the mapping lists ({listed})")
        return True, None

    def apply(self, item: Incoming, target: Target, column: str, value: Any,
              cells: tuple, at_index: int | None) -> None:
        kind = target.kind
        if kind == "ignore":
            return
        cell = value
        translated, value = self.translate(target, value)
        if value is None:
            return
        if kind == "field":
            name = target.name
            if not translated:
                value = self.field_value(name, value, target.date_format
                                         or self.mapping.date_format)
            if value is None or value == []:
                return
            if name == "stage_pin" and value not in self.rules.by_id:
                raise FieldError(name, f"{value!r} is not a stage; use one of "
                                 + ", ".join(self.rules.stage_ids))
            fields = item.fields
            if name == "tags":
                tags = fields.setdefault("tags", [])
                tags += [tag for tag in value if tag not in tags]
            elif name in fields and name in ("name", "notes"):
                fields[name] = fields[name] + (" " if name == "name" else "\n") + value
            else:
                fields.setdefault(name, value)
        elif kind == "custom":
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            item.custom.setdefault(target.name, text)
        elif kind == "count":
            try:
                number = parse_number(value)
            except (ValueError, OverflowError):
                raise FieldError(target.name, f"{value!r} is not a number (of "
                                 f"{target.name} activities)") from None
            if not math.isfinite(number) or number < 0:
                raise FieldError(target.name, f"{value!r} is not a count of 0 or more")
            count = int(number // target.per) if target.per != 1 else int(number)
            note = f"import: {column}"
            item.totals[note] = (target.name, count, self.moment(cells, at_index, target))
        elif kind == "activities":
            if target.values is not None:
                kind_name = value if translated else None
                if kind_name is None:
                    return
                activity = {"kind": kind_name, "at": self.moment(cells, at_index, target),
                            "note": f"import: {column}: {cell}"}
                item.activities.append((activity, "event"))
            else:
                item.activities += [(activity, "exact") for activity in activities_from(value)]
        elif kind == "stage":
            stage = self.stages.get(value_key(str(value)))
            if stage is None:
                raise FieldError("stage", f"{value!r} is not a stage of the rules "
                                 f"{self.rules.name!r}; use one of "
                                 + ", ".join(self.rules.stage_ids))
            if item.stage is None or self.order[stage] > self.order[item.stage]:
                item.stage = stage
        elif kind == "after_contact":  # an export's list (JSON) or its text (CSV)
            if isinstance(value, str):
                value = [one.strip() for one in value.split(",") if one.strip()]
            sources = validate_after_contact(value)
            item.fields["after_contact"] = sorted(
                set(item.fields.get("after_contact") or ()) | set(sources))
        elif kind == "funnel_id":
            try:
                item.funnel_id = int(parse_number(value))
            except (ValueError, OverflowError, TypeError):
                raise FieldError("id", f"{value!r} is not a contact id") from None
        elif kind == "stage_since":
            item.stage_since = to_field("created_at", value, target.date_format
                                        or self.mapping.date_format)

    def moment(self, cells: tuple, at_index: int | None, target: Target) -> str | None:
        if at_index is None:
            return None  # the contact's created_at, or the import's time (see finish)
        value = self.clean(cells[at_index])
        if value is None:
            return None
        return to_field("created_at", value, target.date_format or self.mapping.date_format)

    def finish(self, item: Incoming) -> None:
        """Activities without a time of their own get the contact's created_at, else now."""
        when = item.fields.get("created_at") or self.now
        for activity, _ in item.activities:
            if activity.get("at") is None:
                activity["at"] = when
        for note, (kind, count, at) in list(item.totals.items()):
            item.totals[note] = (kind, count, at or when)


class _NotListed(Exception):
    pass


_UNSEEN = object()
CONVERTED_PER_FIELD = 4096  # cells remembered per field


def _closest(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
