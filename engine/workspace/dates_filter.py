"""Filter terms over moments: when a contact came in, was last active, is due.

``created>=2026-12-01`` and ``created<2026-12-01T09:00:00Z`` compare moments (UTC; a
date alone covers its whole day, so ``>2026-12-01`` means from the next day on);
``created:today`` (also ``yesterday``, ``tomorrow`` or a date) is within that day; an
age like ``created<7d`` or ``last_activity>30d`` (``h`` hours, ``d`` days, ``w`` weeks)
compares how long ago it was: ``<7d`` is newer than a week. A contact without the
moment never matches (``-created:today`` matches it).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

import numpy as np

from funnel.engine.errors import FunnelError
from funnel.engine.model import parse_datetime
from funnel.engine.workspace.list_context import ListContext

DATE_NAMES = frozenset({"created", "last_activity", "follow_up"})
_FIELDS = {"created": "created_at", "follow_up": "follow_up"}
_AGE = re.compile(r"^(\d{1,6})([hdw])$")
_UNIT_DAYS = {"h": 1 / 24, "d": 1.0, "w": 7.0}
_DAY = 86400.0
_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
}


def date_term(word: str, name: str, op: str, bound: str) -> Callable[[ListContext], np.ndarray]:
    """The mask of one date term (``op`` "=" for ``name:bound``); FunnelError if the
    bound is not a date, a moment, a day word or an age."""
    age = _AGE.match(bound.lower())
    if age:
        days = int(age.group(1)) * _UNIT_DAYS[age.group(2)]
        if op == "=":
            raise FunnelError(f"filter: {word!r}: use {name}<{bound} (newer than) or "
                              f"{name}>{bound} (older than)")
        compare = _OPS[op]

        def by_age(context: ListContext) -> np.ndarray:
            ages = (context.now.timestamp() - _moments(context, name)) / _DAY
            with np.errstate(invalid="ignore"):
                return ~np.isnan(ages) & compare(ages, days)
        return by_age
    start, end = _interval(word, name, bound)

    def by_moment(context: ListContext) -> np.ndarray:
        today = context.now.astimezone(timezone.utc).date()
        low, high = start(today), end(today)
        moments = _moments(context, name)
        with np.errstate(invalid="ignore"):
            if high == low:  # one moment: compare with it as it is
                return np.equal(moments, low) if op == "=" else _OPS[op](moments, low)
            if op == "=":
                return (moments >= low) & (moments < high)
            # A day: from its first moment on (>=), or after its last (>).
            return {">=": moments >= low, ">": moments >= high, "<": moments < low,
                    "<=": moments < high}[op]
    return by_moment


def _interval(word: str, name: str, bound: str
              ) -> tuple[Callable[[date], float], Callable[[date], float]]:
    """Functions of today giving the bound's first moment and the moment after it (the
    same moment for a bound that is a moment, not a day)."""
    lowered = bound.lower()
    if lowered in _WORDS:
        shift = _WORDS[lowered]
        return (lambda today: _midnight(today, shift), lambda today: _midnight(today, shift + 1))
    try:
        moment = parse_datetime(bound)
    except (ValueError, TypeError):
        raise FunnelError(f"filter: {word!r}: {name} compares with a date (2026-12-01), a "
                          "moment (2026-12-01T09:00:00Z), today, yesterday, or an age "
                          "like 7d") from None
    first = moment.timestamp()
    if "t" in lowered:
        return (lambda today: first, lambda today: first)
    return (lambda today: first, lambda today: first + _DAY)


def _midnight(day: date, shift: int) -> float:
    return (datetime.combine(day, time(), timezone.utc) + timedelta(days=shift)).timestamp()


def _moments(context: ListContext, name: str) -> np.ndarray:
    if name == "last_activity":
        days = context.facts().last_activity_days()
        moments = context.now.timestamp() - days.values * _DAY
        return np.where(days.present, moments, np.nan)
    return context.moments(_FIELDS[name])
