"""First-response deadlines (issue #15): is a fresh contact still waiting for a person?

Speed matters most for fresh inbound leads (DOMAIN.md §5), so the rules may give a
deadline per kind of contact (``first_response``: first matching entry wins). A contact
is *unanswered* when its deadline has passed (``created_at`` + hours < now), no person
has worked it (no activity of ``PERSON_KINDS``: what the work log records) and it is
not closed (in an exit, or with an outcome). ``engine.columns.first_response`` decides
the same for every row at once; ``response_due`` says by when (for the card).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from funnel.engine.model import parse_datetime
from funnel.engine.rules.facts import gather
from funnel.engine.rules.ruleset import Rules, Stage

# The activity kinds a person makes (``engine.workspace.work_log.LOGGED_KINDS``).
PERSON_KINDS = ("call", "email_sent", "meeting", "note")
HOURS_PER_DAY = 24.0


def deadline_hours(contact: dict, rules: Rules, facts: dict) -> float | None:
    """Hours this contact may wait for a first answer (None: no deadline applies)."""
    for within_hours, test in rules.response_plan:
        if test(contact, facts):
            return within_hours
    return None


def is_unanswered(contact: dict, rules: Rules, facts: dict, stage: Stage) -> bool:
    """Past its first-response deadline, never worked by a person, and still open."""
    if not rules.response_plan or stage.is_exit or contact.get("outcome"):
        return False
    age_days = facts["age_days"]
    if age_days is None:  # no creation time: no deadline can have passed
        return False
    counts = facts["counts"]
    if any(counts.get(kind) for kind in PERSON_KINDS):
        return False
    hours = deadline_hours(contact, rules, facts)
    return hours is not None and age_days * HOURS_PER_DAY > hours


def response_due(contact: dict, rules: Rules, now: datetime, stage_id: str) -> datetime | None:
    """The moment this contact must be answered by (past or ahead), or None: no deadline
    applies, a person has already worked it, or it is closed (``stage_id``: its stage)."""
    stage = rules.by_id.get(stage_id)
    if not rules.response_plan or stage is None or stage.is_exit or contact.get("outcome"):
        return None
    facts = gather(contact, now, rules.half_life_days)
    if facts["age_days"] is None or any(facts["counts"].get(kind) for kind in PERSON_KINDS):
        return None
    hours = deadline_hours(contact, rules, facts)
    if hours is None:
        return None
    try:
        return parse_datetime(contact["created_at"]) + timedelta(hours=hours)
    except OverflowError:  # created at the end of time: the deadline never comes
        return None
