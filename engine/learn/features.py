"""Features: each source's values as levels, decided on the training rows only.

A category keeps its values seen at least ``min_count`` times (the most common
first, up to ``MAX_LEVELS``); the rest are one level, ``(other)``, and a missing value
is its own level, ``(missing)``. A number (a number field, a custom field whose values
are numbers, an activity count, days since the last activity) falls in quantile bins
of the training values, missing again its own level. Tags: one column per common tag.

``Feature`` describes one source's columns; ``Design`` holds every row's columns in
compact form (one column index per row and coded feature, plus (row, column) pairs
for tags) and gives dense row chunks, so memory stays small at any size.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from funnel.engine.learn.sources import LAST_ACTIVITY, RawColumns

MISSING, OTHER = "(missing)", "(other)"
MAX_LEVELS = 24  # kept values of one category (beyond them: "(other)")
MAX_TAGS = 40
BINS = 8  # quantile bins of a number
NUMERIC_SHARE = 0.95  # a custom field is a number when this share of its values are


@dataclass
class Feature:
    """One source as model columns: what it reads and how values become columns."""

    source: str
    kind: str  # "category", "number" or "tags"
    kept: list[str] = field(default_factory=list)  # category values or tags, in order
    edges: list[float] = field(default_factory=list)  # number: bin edges
    weights: list[float] = field(default_factory=list)  # one per column, once fitted
    centre: float = 0.0  # the training rows' mean contribution (log-odds)

    @property
    def labels(self) -> list[str]:
        """One label per column."""
        if self.kind == "category":
            return [MISSING, OTHER] + self.kept
        if self.kind == "tags":
            return list(self.kept)
        cuts = [f"{edge:g}" for edge in self.edges]
        return [MISSING, f"< {cuts[0]}"] + [f"{low} to {high}" for low, high in
                                             zip(cuts, cuts[1:])] + [f">= {cuts[-1]}"]

    @property
    def width(self) -> int:
        return len(self.labels)

    def codes(self, values: Any) -> np.ndarray:
        """Per row, the column (0-based within this feature) a coded feature sets;
        ``values`` as ``source_values`` gives them (a ``Dictionary`` or numbers)."""
        if self.kind == "category":
            index = {value: number for number, value in enumerate(self.kept, 2)}
            table = np.fromiter((0 if text is None else index.get(text, 1) for text in
                                 map(text_of, values.distinct)), np.int32,
                                len(values.distinct))
            return table[values.codes]
        numbers = as_numbers(values)
        codes = np.searchsorted(np.asarray(self.edges), numbers, side="right") + 1
        codes[np.isnan(numbers)] = 0
        return codes.astype(np.int32)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"source": self.source, "kind": self.kind}
        if self.kind == "number":
            found["edges"] = self.edges
        else:
            found["values" if self.kind == "category" else "tags"] = self.kept
        found["columns"] = [{"level": level, "weight": round(weight, 6)}
                            for level, weight in zip(self.labels, self.weights)]
        found["centre"] = round(self.centre, 6)
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Feature":
        kind = data["kind"]
        kept = data.get("values") if kind == "category" else data.get("tags")
        feature = cls(str(data["source"]), kind, [str(v) for v in kept or []],
                      [float(edge) for edge in data.get("edges") or []])
        feature.weights = [float(column["weight"]) for column in data["columns"]]
        feature.centre = float(data.get("centre", 0.0))
        if len(feature.weights) != feature.width:
            raise ValueError(f"{feature.source}: {len(feature.weights)} weights for "
                             f"{feature.width} columns")
        return feature


# -- reading a source's values --------------------------------------------------
def text_of(value: Any) -> str | None:
    """A value as a category level: text, lists joined, missing as None."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def number_of(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return np.nan
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        return np.nan


@dataclass(frozen=True)
class Dictionary:
    """A column of Python values as codes into its distinct values (0 is None)."""

    codes: np.ndarray
    distinct: list

    @classmethod
    def of(cls, values: Sequence[Any]) -> "Dictionary":
        index: dict[Any, int] = {}
        distinct: list = [None]
        get = index.get
        codes = []
        for value in values:
            if value is None:
                codes.append(0)
                continue
            key = value if value.__class__ is str else _key(value)
            found = get(key)
            if found is None:
                found = index[key] = len(distinct)
                distinct.append(value)
            codes.append(found)
        return cls(np.array(codes, np.int32), distinct)


def _key(value: Any) -> Any:
    if isinstance(value, list):
        return ("list",) + tuple(_key(item) for item in value)
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return (value.__class__.__name__, value)


def source_values(raw: RawColumns, source: str, activity_kinds: Sequence[str]) -> Any:
    """The raw values of ``source`` for every row: numbers (an array), tag lists, or
    a ``Dictionary`` of the values as stored."""
    if source == "tags":
        return raw.tags
    if source == LAST_ACTIVITY:
        return raw.last_activity(activity_kinds)
    prefix, _, name = source.partition(".")
    if prefix == "activity":
        return raw.numbers(raw.decayed[name], 0.0)
    if prefix == "custom":
        sparse = raw.custom.get(name, {})
        values: list = [None] * len(raw)
        for row, value in sparse.items():
            values[row] = value
        return Dictionary.of(values)
    encoder = raw.fields[source]
    return Dictionary(np.array(encoder.codes, np.int32), encoder.distinct)


def as_numbers(values: Any) -> np.ndarray:
    if isinstance(values, np.ndarray):
        return values
    table = np.fromiter((number_of(value) for value in values.distinct), np.float64,
                        len(values.distinct))
    return table[values.codes]


def is_numeric(values: "Dictionary", rows: np.ndarray) -> bool:
    """Whether the values on ``rows`` are numbers (or text that reads as numbers)."""
    counts = np.bincount(values.codes[rows], minlength=len(values.distinct))
    present = [(value, int(counts[code])) for code, value in enumerate(values.distinct)
               if code and counts[code] and value != ""]
    if not present:
        return False
    total = sum(number for _, number in present)
    readable = sum(number for value, number in present if not np.isnan(number_of(value)))
    return readable >= NUMERIC_SHARE * total


def plan_feature(source: str, values: Any, rows: np.ndarray, min_count: int) -> Feature | None:
    """The feature ``source`` makes on the training ``rows`` (None: nothing to learn)."""
    if source == "tags":
        tag_counts: Counter = Counter()
        for row in rows:
            tags = values[row]
            if isinstance(tags, list):
                tag_counts.update(str(tag) for tag in set(tags))
        kept = [tag for tag, number in tag_counts.most_common(MAX_TAGS) if number >= min_count
                and number <= len(rows) - min_count]
        return Feature(source, "tags", sorted(kept)) if kept else None
    numeric = isinstance(values, np.ndarray) or is_numeric(values, rows)
    if numeric:
        seen = as_numbers(values)[rows]
        seen = seen[~np.isnan(seen)]
        if len(seen) < min_count:
            return None
        edges = np.unique(np.quantile(seen, np.linspace(0, 1, BINS + 1)[1:-1]))
        if len(edges) == 0 or (len(edges) == 1 and np.all(seen >= edges[0])
                               and len(seen) == len(rows)):
            return None  # one value for everyone: nothing to learn
        return Feature(source, "number", edges=[float(edge) for edge in edges])
    counts = np.bincount(values.codes[rows], minlength=len(values.distinct))
    texts: Counter = Counter()
    for code, value in enumerate(values.distinct):
        if counts[code]:
            texts[text_of(value)] += int(counts[code])
    missing = texts.pop(None, 0)
    kept = [text for text, number in texts.most_common(MAX_LEVELS) if number >= min_count]
    if not kept and not missing:
        return None
    levels_used = len(kept) + (missing >= min_count) + (sum(texts.values()) - sum(
        texts[text] for text in kept) >= min_count)
    if levels_used < 2:
        return None  # everyone (but a handful) in one level
    return Feature(source, "category", kept)


class Design:
    """Every row's model columns in compact form; see the module docstring."""

    def __init__(self, features: list[Feature], coded: list[np.ndarray],
                 tag_rows: np.ndarray, tag_columns: np.ndarray, rows: int) -> None:
        self.features = features
        self.offsets = np.cumsum([0] + [feature.width for feature in features])[:-1]
        self.width = int(sum(feature.width for feature in features))
        self.rows = rows
        coded_features = [number for number, feature in enumerate(features)
                          if feature.kind != "tags"]
        self.coded_features = coded_features
        self.codes = (np.stack([coded[number] + self.offsets[number]
                                for number in coded_features], axis=1).astype(np.int32)
                      if coded_features else np.zeros((rows, 0), np.int32))
        order = np.argsort(tag_rows, kind="stable")
        self.tag_rows = tag_rows[order]
        self.tag_columns = tag_columns[order]

    @classmethod
    def build(cls, features: list[Feature], inputs: list[Any], rows: int) -> "Design":
        coded: list[np.ndarray] = []
        tag_rows: list[np.ndarray] = []
        tag_columns: list[np.ndarray] = []
        offset = 0
        for feature, values in zip(features, inputs):
            if feature.kind == "tags":
                column_of = {tag: number for number, tag in enumerate(feature.kept)}
                pairs = [(row, offset + column_of[tag]) for row, tags in enumerate(values)
                         if isinstance(tags, list) for tag in set(map(str, tags))
                         if tag in column_of]
                if pairs:
                    found = np.array(pairs, np.int64)
                    tag_rows.append(found[:, 0])
                    tag_columns.append(found[:, 1])
                coded.append(np.zeros(0, np.int32))
            else:
                coded.append(feature.codes(values))
            offset += feature.width
        empty = np.zeros(0, np.int64)
        return cls(features, coded, np.concatenate(tag_rows) if tag_rows else empty,
                   np.concatenate(tag_columns) if tag_columns else empty, rows)

    def dense(self, rows: np.ndarray) -> np.ndarray:
        """The rows (sorted indices) as a dense 0/1 float32 matrix."""
        matrix = np.zeros((len(rows), self.width), np.float32)
        if self.codes.shape[1]:
            matrix[np.arange(len(rows))[:, None], self.codes[rows]] = 1.0
        if len(self.tag_rows):
            lo = np.searchsorted(self.tag_rows, rows, side="left")
            hi = np.searchsorted(self.tag_rows, rows, side="right")
            counts = hi - lo
            if counts.sum():
                which = np.repeat(np.arange(len(rows)), counts)
                starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
                picked = np.arange(counts.sum()) + starts
                matrix[which, self.tag_columns[picked]] = 1.0
        return matrix

    def linear(self, weights: np.ndarray) -> np.ndarray:
        """``X @ weights`` for every row, without building X."""
        total = weights[self.codes].sum(axis=1) if self.codes.shape[1] \
            else np.zeros(self.rows)
        if len(self.tag_rows):
            total += np.bincount(self.tag_rows, weights[self.tag_columns], minlength=self.rows)
        return total

    def feature_parts(self, weights: np.ndarray) -> np.ndarray:
        """Per row and feature, that feature's part of ``X @ weights`` (rows x features)."""
        parts = np.zeros((self.rows, len(self.features)))
        for position, number in enumerate(self.coded_features):
            parts[:, number] = weights[self.codes[:, position]]
        if len(self.tag_rows):
            owner = np.searchsorted(self.offsets, self.tag_columns, side="right") - 1
            np.add.at(parts, (self.tag_rows, owner), weights[self.tag_columns])
        return parts

    def transpose_times(self, vector: np.ndarray) -> np.ndarray:
        """``X.T @ vector`` without building X."""
        total = np.zeros(self.width)
        if self.codes.shape[1]:
            total += np.bincount(self.codes.ravel(), np.repeat(vector, self.codes.shape[1]),
                                 minlength=self.width)
        if len(self.tag_rows):
            total += np.bincount(self.tag_columns, vector[self.tag_rows], minlength=self.width)
        return total

    def subset(self, rows: np.ndarray) -> "Design":
        """The design of ``rows`` only (sorted indices), renumbered 0.."""
        part = Design.__new__(Design)
        part.features, part.offsets, part.width = self.features, self.offsets, self.width
        part.coded_features = self.coded_features
        part.rows = len(rows)
        part.codes = self.codes[rows]
        inside = np.isin(self.tag_rows, rows)
        part.tag_rows = np.searchsorted(rows, self.tag_rows[inside])
        part.tag_columns = self.tag_columns[inside]
        return part
