"""The facts of ``engine.rules.facts`` for every row at once, at one moment.

``FactColumns(table, now, half_life_days)`` computes what ``gather`` computes per
contact, as arrays, with the same floating-point steps in the same order so each
figure is bit for bit the scalar one: ages are whole microseconds divided as
``timedelta.total_seconds()`` divides them; activity ages are the scalar's
``(now_ts - moment) / 86400`` clamped at 0; per-kind sums add in the documents' order.
Each fact is computed on first use and kept.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import numpy as np

from funnel.engine.columns.encoded import Coded, EncodedColumn, Numbers
from funnel.engine.columns.table import ContactColumns
from funnel.engine.model import ACTIVITY_KINDS
from funnel.engine.rules.facts import SECONDS_PER_DAY

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_EXACT = 2**53  # microseconds beyond this are not exact as floats: divided one by one
_BANT = ("budget", "authority", "need", "timing")


class FactColumns:
    """Facts of every row of ``table`` at ``now``; see the module docstring."""

    def __init__(self, table: ContactColumns, now: datetime, half_life_days: float) -> None:
        self.table = table
        self.now = now
        self.half_life_days = half_life_days
        self.rows = table.rows
        self._now_ts = now.timestamp()
        self._now_us = (now - _EPOCH) // _MICROSECOND
        self._cache: dict[str, Any] = {}

    def _kept(self, key: str, compute: Callable[[], Any]) -> Any:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = compute()
        return found

    # -- facts from fields -------------------------------------------------
    def bant(self) -> Numbers:
        return self._kept("bant", lambda: self._count_bant(lambda v: v == "yes"))

    def bant_known(self) -> Numbers:
        return self._kept("bant_known", lambda: self._count_bant(lambda v: v in ("yes", "no")))

    def _count_bant(self, test: Callable[[Any], bool]) -> Numbers:
        total = np.zeros(self.rows, np.int64)
        for key in _BANT:
            total += self.table.coded(key).gather(test)
        return Numbers.of(total.astype(np.float64), integral=True)

    def has_contact(self) -> Coded:
        def compute() -> Coded:
            email, phone = self.table.columns["email"], self.table.columns["phone"]
            rows = self.rows  # (``truthy``: a cache's values stay unparsed)
            either = email.truthy()[email.codes[:rows]] | phone.truthy()[phone.codes[:rows]]
            return Coded(either.astype(np.int32), [False, True])
        return self._kept("has_contact", compute)

    def overdue(self) -> Coded:
        today = self.now.date().isoformat()

        def late(value: Any) -> bool:
            try:
                return bool(value and value < today)
            except TypeError:
                return False
        return self._kept("overdue", lambda: Coded(
            self.table.coded("follow_up").gather(late).astype(np.int32), [False, True]))

    def age_days(self) -> Numbers:
        created = self.table.columns["created_at"]
        return self._kept("age_days", lambda: self._days_since_text(
            created.codes[:self.rows], created))

    def days_in_stage(self) -> Numbers:
        def compute() -> Numbers:
            since, created = self.table.columns["stage_since"], self.table.columns["created_at"]
            since_codes = since.codes[:self.rows]
            # stage_since or created_at: the first when it is truthy; one dictionary of both.
            codes = np.where(since.truthy()[since_codes], since_codes,
                             created.codes[:self.rows].astype(np.int64) + since.size)
            return self._days_since_text(codes, since, created)
        return self._kept("days_in_stage", compute)

    def _days_since_text(self, codes: np.ndarray, *columns: EncodedColumn) -> Numbers:
        """Days from each row's moment (``codes`` into the columns' dictionaries one
        after the other) to now."""
        tables = [column.moments() for column in columns]
        present = np.concatenate([known for _, known in tables])[codes]
        elapsed = self._now_us - np.concatenate([micro for micro, _ in tables])[codes]
        days = elapsed.astype(np.float64) / 1e6 / SECONDS_PER_DAY
        for row in np.flatnonzero(present & (np.abs(elapsed) >= _EXACT)):
            days[row] = int(elapsed[row]) / 10**6 / SECONDS_PER_DAY
        return Numbers.of(days, present, integral=False)

    # -- facts from activities ---------------------------------------------
    def _per_kind(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        return self.table.activities.by_kind()

    def _ages(self, moments: np.ndarray) -> np.ndarray:
        ages = (self._now_ts - moments) / SECONDS_PER_DAY
        ages[ages < 0] = 0.0
        return ages

    def count(self, kind: str) -> Numbers:
        # Made on each use, not kept: a bincount is milliseconds even at a million rows,
        # and keeping every kind's would hold 9 MB a kind there.
        rows, _, amounts = self._per_kind()[ACTIVITY_KINDS.index(kind)]
        total = np.bincount(rows, amounts, minlength=self.rows)[:self.rows]
        return Numbers.of(total, integral=True)

    def days_since(self, kind: str) -> Numbers:
        def compute() -> Numbers:
            rows, moments, _ = self._per_kind()[ACTIVITY_KINDS.index(kind)]
            return self._newest(rows, moments)
        return self._kept("days_since." + kind, compute)

    def _newest(self, rows: np.ndarray, moments: np.ndarray) -> Numbers:
        # The smallest age is the age of the latest moment: the same float either way.
        latest = np.full(self.rows, -np.inf)
        np.maximum.at(latest, rows, moments)
        present = latest > -np.inf
        ages = np.zeros(self.rows)
        ages[present] = self._ages(latest[present])
        return Numbers.of(ages, present, integral=False)

    def decayed(self, kind: str) -> np.ndarray:
        """Per row, the counts of ``kind`` weighted by ``0.5 ** (age / half_life)``."""
        def compute() -> np.ndarray:
            rows, moments, amounts = self._per_kind()[ACTIVITY_KINDS.index(kind)]
            rate = math.log(2.0) / self.half_life_days if self.half_life_days > 0 else 0.0
            # math.exp, not np.exp: numpy's differs in the last bit for one value in
            # twenty, and a sum that lands on .5 would then round the other way.
            exponents = (-rate * self._ages(moments)).tolist()
            weights = amounts * np.fromiter(map(math.exp, exponents), np.float64,
                                            len(exponents))
            return np.bincount(rows, weights, minlength=self.rows)[:self.rows]
        return self._kept("decayed." + kind, compute)

    def activities(self) -> Numbers:
        def compute() -> Numbers:
            total = np.zeros(self.rows)
            for kind in ACTIVITY_KINDS:
                total += self.count(kind).values
            return Numbers.of(total, integral=True)
        return self._kept("activities", compute)

    def last_activity_days(self) -> Numbers:
        def compute() -> Numbers:
            parts = self._per_kind()
            return self._newest(np.concatenate([rows for rows, _, _ in parts]),
                                np.concatenate([moments for _, moments, _ in parts]))
        return self._kept("last_activity_days", compute)

    # -- by name ---------------------------------------------------------
    def named(self, name: str) -> Coded | Numbers | None:
        """The fact a condition calls ``name`` (None if there is no such fact)."""
        prefix, _, kind = name.partition(".")
        if kind and kind in ACTIVITY_KINDS:
            if prefix == "count":
                return self.count(kind)
            if prefix == "days_since":
                return self.days_since(kind)
            return None
        method = _NAMED.get(name)
        return method(self) if method is not None else None


_NAMED: dict[str, Callable[[FactColumns], Coded | Numbers]] = {
    "bant": FactColumns.bant, "bant_known": FactColumns.bant_known,
    "has_contact": FactColumns.has_contact, "overdue": FactColumns.overdue,
    "age_days": FactColumns.age_days, "days_in_stage": FactColumns.days_in_stage,
    "activities": FactColumns.activities, "last_activity_days": FactColumns.last_activity_days,
}
