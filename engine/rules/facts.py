"""Facts about a contact that rule conditions can use, beyond its plain fields.

Rules are evaluated in three phases, and each phase may use only what is known
by then: scoring rules see fields and activity facts; stage rules also see the
scores; temperature and lead-type rules also see the stage and grade.
"""

from __future__ import annotations

import math
from datetime import datetime

from funnel.engine.rules.condition_names import Name, Vocabulary
from funnel.engine.rules.custom_fields import custom_field, custom_name_problem
from funnel.engine.model import ACTIVITY_KINDS, FIELDS, parse_datetime

SECONDS_PER_DAY = 86_400.0
_LN2 = math.log(2.0)

PHASE_SCORING = "scoring"
PHASE_STAGE = "stage"
PHASE_OUTCOME = "outcome"

# name -> what it means, shown in docs and the Scoring tab.
FACT_HELP = {
    "bant": "how many of budget, authority, need, timing are yes (0-4)",
    "bant_known": "how many of budget, authority, need, timing are not unknown (0-4)",
    "has_contact": "true when the contact has an email or a phone",
    "age_days": "days since the contact was created",
    "last_activity_days": "days since the latest activity (none if there is none)",
    "days_in_stage": "days since the contact entered its current stage",
    "overdue": "true when the follow-up date is before today",
    "activities": "total number of activities (counts included)",
    "count.<kind>": "how many activities of that kind, e.g. count.webinar",
    "days_since.<kind>": "days since the latest activity of that kind (none if never)",
    "custom.<name>": 'a custom field, e.g. custom.City or custom."Lead Quality" (a number '
                     "when it is written as one)",
    "fit": "the fit sub-score (stage, temperature and lead-type rules only)",
    "engagement": "the engagement sub-score (stage, temperature and lead-type rules only)",
    "score": "the total score 0-100 (stage, temperature and lead-type rules only)",
    "stage": "the stage this contact ends up in (temperature and lead-type rules only)",
    "grade": "the grade 1-4 (temperature and lead-type rules only)",
}


_NUMERIC_FACTS = {"bant", "bant_known", "age_days", "last_activity_days", "days_in_stage",
                  "activities", "fit", "engagement", "score", "grade", "likelihood"}


def _field(name: str) -> Name:
    spec = FIELDS[name]
    return Name(lambda c, f: c.get(name), spec.choices, ("contact", name),
                spec.kind in ("int", "number"))


def _fact(name: str, choices: tuple[str, ...] = ()) -> Name:
    return Name(lambda c, f: f.get(name), choices, ("facts", name), name in _NUMERIC_FACTS)


def _count(kind: str) -> Name | None:
    if kind not in ACTIVITY_KINDS:
        return None
    return Name(lambda c, f: f["counts"].get(kind, 0), (), ("facts", "counts", kind, 0), True)


def _days_since(kind: str) -> Name | None:
    if kind not in ACTIVITY_KINDS:
        return None
    return Name(lambda c, f: f["days_since"].get(kind), (), ("facts", "days_since", kind, None),
                True)


def _custom(name: str) -> Name:
    name = name.strip()  # stored names are trimmed
    problem = custom_name_problem(name)
    if problem:
        raise ValueError(problem)
    return custom_field(name)


def vocabulary(phase: str, stage_ids: tuple[str, ...] = ()) -> Vocabulary:
    names = {name: _field(name) for name in FIELDS}
    # likelihood: the learned chance to convert in % (none without a model).
    for fact in ("bant", "bant_known", "has_contact", "age_days", "last_activity_days",
                 "days_in_stage", "overdue", "activities", "likelihood"):
        names[fact] = _fact(fact)
    if phase in (PHASE_STAGE, PHASE_OUTCOME):
        for fact in ("fit", "engagement", "score"):
            names[fact] = _fact(fact)
    if phase == PHASE_OUTCOME:
        names["stage"] = _fact("stage", stage_ids)
        names["grade"] = _fact("grade")
    return Vocabulary(names, {"count": _count, "days_since": _days_since, "custom": _custom},
                      {"custom": "name"})


def _days_between(later: datetime, earlier_text: str | None) -> float | None:
    if not earlier_text:
        return None
    try:
        return (later - parse_datetime(earlier_text)).total_seconds() / SECONDS_PER_DAY
    except (ValueError, TypeError):
        return None


# (kinds, counts, decayed, days_since, newest_age, total, age_days, days_in_stage): what
# is costly to derive and does not depend on the rules, only on the contact and the day.
# Kept for every contact between passes, so it is compact: the per-kind figures are
# tuples in the order of ``kinds``, itself one tuple shared by all contacts alike.
ActivitySummary = tuple

_KINDS: dict[tuple[str, ...], tuple[str, ...]] = {}


def summarise_activities(contact: dict, now: datetime, half_life_days: float
                         ) -> ActivitySummary:
    """One pass over the activities: the costly part of the facts, and the only part
    worth keeping between classifications (it does not depend on the rules)."""
    counts: dict[str, int] = {}
    decayed: dict[str, float] = {}
    days_since: dict[str, float] = {}
    now_ts = now.timestamp()
    rate = _LN2 / half_life_days if half_life_days > 0 else 0.0
    exp = math.exp
    total = 0
    newest_age: float | None = None
    for activity in contact.get("activities") or ():
        kind = activity["kind"]
        amount = activity.get("count", 1)
        age = (now_ts - _timestamp(activity["at"])) / SECONDS_PER_DAY
        if age < 0:
            age = 0.0
        counts[kind] = counts.get(kind, 0) + amount
        decayed[kind] = decayed.get(kind, 0.0) + amount * exp(-rate * age)
        previous = days_since.get(kind)
        if previous is None or age < previous:
            days_since[kind] = age
        if newest_age is None or age < newest_age:
            newest_age = age
        total += amount
    kinds = tuple(counts)
    kinds = _KINDS.setdefault(kinds, kinds)
    return (kinds, tuple(counts.values()), tuple(decayed.values()),
            tuple(days_since.values()), newest_age, total,
            _days_between(now, contact.get("created_at")),
            _days_between(now, contact.get("stage_since") or contact.get("created_at")))


def gather(contact: dict, now: datetime, half_life_days: float,
           summary: ActivitySummary | None = None) -> dict:
    """Compute the facts of one contact (``summary`` may come from a cache).

    Besides the named facts it keeps ``decayed``: per activity kind, the sum of
    counts weighted by ``0.5 ** (age / half_life)``, which engagement rules use.
    """
    if summary is None:
        summary = summarise_activities(contact, now, half_life_days)
    kinds, counts, decayed, days_since, newest_age, total, age_days, days_in_stage = summary
    bant = 0
    known = 0
    for key in ("budget", "authority", "need", "timing"):
        value = contact.get(key)
        if value == "yes":
            bant += 1
        if value in ("yes", "no"):
            known += 1
    follow_up = contact.get("follow_up")
    return {
        "counts": dict(zip(kinds, counts)),
        "decayed": dict(zip(kinds, decayed)),
        "days_since": dict(zip(kinds, days_since)),
        "bant": bant,
        "bant_known": known,
        "has_contact": bool(contact.get("email") or contact.get("phone")),
        "age_days": age_days,
        "last_activity_days": newest_age,
        "days_in_stage": days_in_stage,
        "overdue": bool(follow_up and follow_up < now.date().isoformat()),
        "activities": total,
    }


_TIMESTAMPS: dict[str, float] = {}


def _timestamp(text: str) -> float:
    """Parse an activity time once; generated and imported data repeat many values."""
    cached = _TIMESTAMPS.get(text)
    if cached is None:
        cached = parse_datetime(text).timestamp()
        if len(_TIMESTAMPS) > 100_000:  # a bound on the memory it costs
            _TIMESTAMPS.clear()
        _TIMESTAMPS[text] = cached
    return cached
