"""A demo contact's activities: how they arrived, how they engaged since, and the
sales steps they reached (none of it after ``now``)."""

from __future__ import annotations

import random
from typing import Any

from funnel.engine.demo.clock import DAY, iso, office_hours
from funnel.engine.demo.draws import between
from funnel.engine.demo.tables import NURTURE, OPENERS

Event = tuple[int, str, int]  # (seconds since the epoch, kind, count)

# Follow-on activity count range per tier.
_NURTURE_COUNT = ((0, 2), (1, 4), (3, 9), (4, 12), (5, 15))


def nurture(rng: random.Random, source: str, tier: int, suspect: bool, created: int,
            now: int) -> list[Event]:
    """Opening activities at creation plus follow-on engagement over the next months."""
    events: list[Event] = []
    opener = ("page_visit",) if suspect else OPENERS[source].pick(rng)
    for step, kind in enumerate(opener):
        at = min(now, created + step * between(rng, 30, 900))
        events.append((at, kind, _visits(rng) if kind == "page_visit" else 1))
    low, high = _NURTURE_COUNT[tier]
    span = min(now - created, between(rng, 14, 330) * DAY)
    mix = NURTURE[source]
    for _ in range(between(rng, low, high)):
        kind = "page_visit" if suspect else mix.pick(rng)
        at = created + int(rng.random() * span)
        events.append((at, kind, _visits(rng) if kind == "page_visit" else 1))
    return events


def _visits(rng: random.Random) -> int:
    """Pages in one visit: usually one, sometimes a longer browse."""
    return 1 if rng.random() < 0.55 else between(rng, 2, 9)


def _milestone_plan(rng: random.Random, tier: int) -> list[tuple[str, int, int]]:
    """Sales steps in funnel order, each with the gap in days before it."""
    plan: list[tuple[str, int, int]] = []
    if tier == 2 and rng.random() < 0.5:
        plan.append(("call", 2, 30))
    if tier >= 3:
        demo = rng.random() < 0.7
        if demo:
            plan.append(("demo_request", 1, 20))
        if rng.random() < 0.8:
            plan.append(("call", 1, 10))
        if rng.random() < 0.6:
            plan.append(("meeting", 3, 21))
        if not demo or rng.random() < 0.5:
            plan.append(("quote_request", 2, 20))
    if tier == 4:
        plan.append(("purchase", 5, 45))
        if rng.random() < 0.1:
            plan.append(("purchase", 30, 120))  # a repeat order
        if rng.random() < 0.3:
            plan.append(("referral_made", 20, 120))
    return plan


def milestones(rng: random.Random, tier: int, created: int, now: int) -> list[Event]:
    """Lay the plan out in time; steps that would fall after ``now`` have not happened."""
    plan = _milestone_plan(rng, tier)
    if not plan:
        return []
    at = created + int(rng.random() * 0.4 * (now - created))
    events = []
    for kind, low, high in plan:
        # Calls, meetings and orders happen in office hours.
        at = office_hours(rng, at + between(rng, low, high) * DAY)
        if at > now:
            break
        events.append((at, kind, 1))
    return events


def activities(events: list[Event]) -> list[dict[str, Any]]:
    """The events in time order, as the model's activity dicts."""
    events.sort()
    result = []
    for at, kind, count in events:
        activity: dict[str, Any] = {"kind": kind, "at": iso(at)}
        if count > 1:
            activity["count"] = count
        result.append(activity)
    return result
