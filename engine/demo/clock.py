"""Time for the demo generator: whole seconds since the epoch, formatted fast.

Formatting a timestamp is the generator's hottest path, so days are cached and
the time of day is looked up in tables built once.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from funnel.engine.demo.draws import between

DAY = 86_400


@lru_cache(maxsize=None)
def day(days: int) -> str:
    """Days since the epoch as YYYY-MM-DD."""
    return (date(1970, 1, 1) + timedelta(days=days)).isoformat()


_MINUTES = tuple(f"T{minute // 60:02d}:{minute % 60:02d}:" for minute in range(1440))
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))


def iso(ts: int) -> str:
    """Seconds since the epoch as 2026-08-01T10:00:00Z."""
    days, seconds = divmod(ts, DAY)
    minutes, second = divmod(seconds, 60)
    return day(days) + _MINUTES[minutes] + _SECONDS[second]


def office_hours(rng: random.Random, ts: int) -> int:
    """The same day, at a time between 08:00 and 18:00 UTC."""
    return ts - ts % DAY + between(rng, 8 * 3600, 18 * 3600)


def epoch_seconds(now: datetime) -> int:
    # A naive ``now`` means UTC, as in model.parse_datetime; drop the fraction so
    # nothing generated can be later than ``now``.
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return int(now.timestamp())


def created(rng: random.Random, now: int) -> int:
    """Within the last year, denser recently, with a few from the last two days."""
    if rng.random() < 0.03:
        return now - int(rng.random() * 2 * DAY)
    moment = now - int(365 * DAY * rng.random() ** 1.25)
    if rng.random() < 0.75:
        # Most people fill forms and visit booths by day; today's slot may still
        # be ahead, then take yesterday's.
        moment = office_hours(rng, moment)
        if moment > now:
            moment -= DAY
    return moment
