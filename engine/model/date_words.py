"""Dates and moments as a person types them: ``tomorrow``, ``in 3 days``, ``next
Monday``, ``2 days ago``, ``2026-12-24``.

``parse_day`` reads a day (a follow-up date); it takes every label the follow-up
picker (``z``) offers and gives the same day for it: a month is 30.4 days rounded
(``in a month`` is 30 days, ``in 3 months`` 91), a weekday is the next one after
today. ``parse_moment`` reads when something happened (a logged call): ``now``, a
day word (at the current time of day, so ``yesterday`` is 24 hours ago), ``N hours
ago`` or a full ``YYYY-MM-DDTHH:MM[:SS][Z]``. Everything is UTC, like the documents.
Errors are FieldError naming the field they were typed for, saying what is accepted.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from funnel.engine.errors import FieldError
from funnel.engine.model.dates import parse_datetime

MAX_LENGTH = 64  # nobody types a longer date; a longer text is refused before parsing
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNIT_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4}
_SPAN = re.compile(r"(?:(in) )?(a|an|\d{1,4}) (day|week|month)s?(?: (ago))?")
_HOURS_AGO = re.compile(r"(a|an|\d{1,4}) (hour|minute)s? ago")
_NAMED = {"today": 0, "tomorrow": 1, "yesterday": -1}
DAY_HELP = ("a date as YYYY-MM-DD, or today, tomorrow, yesterday, next Monday, "
            "in 3 days, in 2 weeks, in a month, 2 days ago")
MOMENT_HELP = ("now, a date (YYYY-MM-DD, yesterday, 2 days ago), 3 hours ago, "
               "or YYYY-MM-DDTHH:MM")


def _words(text: str) -> str:
    return " ".join(text.strip().casefold().split())


def parse_day(text: str, today: date, field: str = "follow_up") -> date:
    """The day ``text`` names, counted from ``today``; FieldError if it names none."""
    words = _words(text)
    if len(words) > MAX_LENGTH:
        raise FieldError(field, f"is {len(words)} characters long; write {DAY_HELP}")
    day = _day(words, today)
    if day is None:
        raise FieldError(field, f"{text.strip()!r} is not a date; write {DAY_HELP}")
    return day


def _day(words: str, today: date) -> date | None:
    if words in _NAMED:
        return today + timedelta(days=_NAMED[words])
    weekday = words.removeprefix("next ").removeprefix("on ")
    if weekday in WEEKDAYS:  # the next one after today (today's weekday: a week on)
        ahead = (WEEKDAYS.index(weekday) - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    span = _SPAN.fullmatch(words)
    if span is not None and bool(span.group(1)) != bool(span.group(4)):  # in … / … ago
        amount = 1 if span.group(2) in ("a", "an") else int(span.group(2))
        days = round(amount * _UNIT_DAYS[span.group(3)])
        return today + timedelta(days=-days if span.group(4) else days)
    try:
        return date.fromisoformat(words) if re.fullmatch(r"\d{4}-\d\d-\d\d", words) else None
    except ValueError:  # 2026-02-31
        return None


def parse_moment(text: str | None, now: datetime, field: str = "at") -> datetime:
    """The moment ``text`` names (UTC, whole seconds); empty or ``now`` is ``now``.

    A moment in the future is refused: what is logged has happened.
    """
    words = _words(text or "")
    if len(words) > MAX_LENGTH:
        raise FieldError(field, f"is {len(words)} characters long; write {MOMENT_HELP}")
    moment = _moment(words, now)
    if moment is None:
        raise FieldError(field, f"{(text or '').strip()!r} is not a moment; write {MOMENT_HELP}")
    moment = moment.replace(microsecond=0)
    if moment > now + timedelta(minutes=1):
        raise FieldError(field, f"{(text or '').strip()!r} is in the future; log what has "
                         "happened (a follow-up date is for what is next)")
    return moment


def _moment(words: str, now: datetime) -> datetime | None:
    if words in ("", "now", "just now"):
        return now
    ago = _HOURS_AGO.fullmatch(words)
    if ago is not None:
        amount = 1 if ago.group(1) in ("a", "an") else int(ago.group(1))
        return now - (timedelta(hours=amount) if ago.group(2) == "hour"
                      else timedelta(minutes=amount))
    day = _day(words, now.date())
    if day is not None:  # a day: at this time of day, so "yesterday" is 24 hours ago
        return datetime.combine(day, now.astimezone(timezone.utc).time().replace(microsecond=0),
                                tzinfo=timezone.utc)
    if re.fullmatch(r"\d{4}-\d\d-\d\d[t ]\d\d:\d\d(:\d\d)?z?", words):
        try:
            return parse_datetime(words.replace(" ", "T").upper())
        except ValueError:
            return None
    return None

