"""The values a saved model reads, taken from the workspace's columns instead of the
documents: scoring 100,000 contacts then parses no document at all.

Each source becomes what ``RawColumns.add`` would have made of every live row: a
field's codes through its own dictionary (identity text as "given", other values as
text), tags as lists, custom fields by row, and per activity kind the faded count and
the days since the latest (from ``FactColumns``, which equal the per-contact facts).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.learn.model_file import Model
from funnel.engine.learn.score import Scored
from funnel.engine.learn.sources import GIVEN, PRESENCE_FIELDS, Encoder, RawColumns

_SCALARS = (str, int, float, bool)


def scored_from_columns(model: Model, table: ContactColumns, now: datetime) -> Scored:
    """Every live row of ``table`` scored under ``model`` (rows in ``Scored.ids`` order)."""
    rows = np.flatnonzero(table.live())
    raw = RawColumns.for_sources({feature.source for feature in model.features})
    raw.ids = table.id_array()[rows].tolist()
    raw.labels = [-1] * len(rows)
    for name, encoder in raw.fields.items():
        _fill_field(encoder, table, name, rows)
    tags = table.coded("tags")
    raw.tags = [tags.values[code] for code in tags.codes[rows].tolist()]
    for name in raw.custom_wanted or ():
        column = table.custom.get(name)
        if column is None:
            continue
        codes = column.codes[:table.rows][rows]
        kept = {place: column.values[code] for place, code in enumerate(codes.tolist())
                if code and column.values[code] not in (None, "")}
        if kept:
            raw.custom[name] = kept
    if raw.activities_wanted:
        facts = FactColumns(table, now, model.half_life_days)
        for kind in raw.decayed:
            since = facts.days_since(kind)
            has = np.flatnonzero(since.present[rows])
            if len(has):
                places = has.tolist()
                raw.decayed[kind] = dict(zip(places, facts.decayed(kind)[rows][has].tolist()))
                raw.ages[kind] = dict(zip(places, since.values[rows][has].tolist()))
    return Scored(model, raw)


def _fill_field(encoder: Encoder, table: ContactColumns, name: str, rows: np.ndarray) -> None:
    """``encoder`` as ``RawColumns.add`` fills it, from the column's dictionary."""
    coded = table.coded(name)
    mapping = np.zeros(len(coded.values), np.int64)
    for code, value in enumerate(coded.values):
        mapping[code] = _encode(encoder, name, value)
    encoder.codes = mapping[coded.codes[rows]].tolist()


def _encode(encoder: Encoder, name: str, value: Any) -> int:
    if value is None or value == "":
        return 0
    if name in PRESENCE_FIELDS:
        value = GIVEN
    elif value.__class__ not in _SCALARS:
        value = str(value)
    found = encoder.index.get(value)
    if found is None:
        found = encoder.index[value] = len(encoder.distinct)
        encoder.distinct.append(value)
    return found
