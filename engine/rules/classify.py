"""``classify(contact, rules, now)``: where one contact stands, and exactly why.

Pure and deterministic for a given ``now``: it reads the contact document and
the rules and returns a ``Classification``; it never writes anything. Every
point of the score appears in the explanation, so the explanation's points
always add up to ``raw_score`` (the score before clamping to 0-100).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from funnel.engine.rules.facts import ActivitySummary, gather
from funnel.engine.rules.first_response import is_unanswered
from funnel.engine.rules.ruleset import Rules, Stage

ADJUSTMENT_RULE = "manual.adjustment"


class Contribution(NamedTuple):
    rule: str
    label: str
    points: int

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "label": self.label, "points": self.points}


@dataclass(slots=True)  # not frozen: a frozen init costs a third of classify's time
class Classification:
    stage: str
    rules_stage: str  # what the rules alone say, ignoring pins and forward-only
    stage_reason: str
    manual: bool  # the stage is pinned by a person
    score: int
    raw_score: int
    fit: int
    engagement: int
    grade: int
    temperature: str
    lead_type: str | None
    next_action: str
    rotting: bool
    overdue: bool
    # None when derived in bulk without one (Workspace.classification fills it in).
    explanation: tuple[Contribution, ...] | None
    # Past its first-response deadline with no one having answered (issue #15).
    unanswered: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "rules_stage": self.rules_stage,
            "stage_reason": self.stage_reason,
            "manual": self.manual,
            "score": self.score,
            "raw_score": self.raw_score,
            "fit": self.fit,
            "engagement": self.engagement,
            "grade": self.grade,
            "temperature": self.temperature,
            "lead_type": self.lead_type,
            "next_action": self.next_action,
            "rotting": self.rotting,
            "overdue": self.overdue,
            "unanswered": self.unanswered,
            "explanation": None if self.explanation is None
            else [item.to_dict() for item in self.explanation],
        }


def classify(contact: dict, rules: Rules, now: datetime,
             summary: ActivitySummary | None = None, *,
             explain: bool = True, likelihood: float | None = None) -> Classification:
    """``summary`` may be passed in from ``summarise_activities(contact, now,
    rules.half_life_days)`` (same contact, moment and half-life): a rules change
    then reuses it. ``explain=False`` (bulk passes: lists, counts) leaves the
    explanation out, as None; everything else is the same. ``likelihood``: the
    contact's learned chance to convert in % (None: no model), for rules that read it."""
    facts = gather(contact, now, rules.half_life_days, summary)
    facts["likelihood"] = likelihood  # the learned chance in % (rules may read it)
    explanation: list[Contribution] = []
    add = explanation.append if explain else _ignore

    fit = 0
    for rule_id, label, points, test in rules.fit_plan:
        if points and test(contact, facts):
            add(Contribution(rule_id, label, points))
            fit += points

    engagement = 0
    decayed = facts["decayed"]
    for rule_id, label, per, test, activity, maximum in rules.engagement_plan:
        if activity is not None:
            amount = decayed.get(activity)
            if not amount:
                continue
            value = amount * per
            if maximum is not None:
                value = min(value, maximum) if per > 0 else max(value, maximum)
            points = round(value)
        elif test(contact, facts):
            points = round(per)
        else:
            continue
        if points:
            add(Contribution(rule_id, label, points))
            engagement += points

    adjustment = contact.get("score_adjustment") or 0
    if adjustment and explain:
        reason = contact.get("score_adjustment_reason") or "no reason given"
        add(Contribution(ADJUSTMENT_RULE, f"Adjusted by hand: {reason}", int(adjustment)))
    raw = fit + engagement + int(adjustment)
    score = 0 if raw < 0 else 100 if raw > 100 else raw
    grade = rules.grade_for(score)
    facts["fit"] = fit
    facts["engagement"] = engagement
    facts["score"] = score

    by_rules = _stage_by_rules(contact, rules, facts)
    stage, manual, reason = _effective_stage(contact, rules, by_rules)

    facts["stage"] = stage.id
    facts["grade"] = grade
    temperature = rules.temperature_default
    for value, test in rules.temperature_plan:
        if test(contact, facts):
            temperature = value
            break
    lead_type = rules.lead_type_default
    for value, test in rules.lead_type_plan:
        if test(contact, facts):
            lead_type = value
            break

    return Classification(
        stage=stage.id,
        rules_stage=by_rules.id,
        stage_reason=reason,
        manual=manual,
        score=score,
        raw_score=raw,
        fit=fit,
        engagement=engagement,
        grade=grade,
        temperature=temperature,
        lead_type=lead_type,
        next_action=contact.get("next_action") or stage.next_action,
        rotting=_rotting(contact, stage, facts),
        # A closed contact (an exit: disqualified, lost) asks for no follow-up.
        overdue=facts["overdue"] and not stage.is_exit,
        explanation=tuple(explanation) if explain else None,
        unanswered=is_unanswered(contact, rules, facts, stage),
    )


def _ignore(_item: object) -> None:
    """Stands in for ``list.append`` when no explanation is wanted."""


def _stage_by_rules(contact: dict, rules: Rules, facts: dict) -> Stage:
    """An exit whose condition holds, else the furthest stage whose condition holds."""
    for stage, test in rules.exit_plan:
        if test(contact, facts):
            return stage
    for stage, test in rules.stage_plan:
        if test(contact, facts):
            return stage
    return rules.stages[0]


def _effective_stage(contact: dict, rules: Rules, by_rules: Stage) -> tuple[Stage, bool, str]:
    pin = rules.by_id.get(contact.get("stage_pin") or "")
    if pin is not None:
        why = contact.get("pin_reason") or "no reason given"
        note = "" if pin is by_rules else f"; the rules alone would give {by_rules.id}"
        return pin, True, f"set by hand to {pin.id} ({why}){note}"
    # A stage stored under other rules (another preset) says nothing about these.
    same_rules = contact.get("stage_rules") in (None, rules.name)
    current = rules.by_id.get(contact.get("stage") or "") if same_rules else None
    if by_rules.is_exit:
        return by_rules, False, f"{by_rules.id}: {by_rules.when.text}"  # type: ignore[union-attr]
    if current is not None and current.is_exit and current.when is None:
        return current, False, (f"{current.id} until a person moves it"
                                f"; the rules alone would give {by_rules.id}")
    if current is not None and not current.is_exit and current.order > by_rules.order:
        return current, False, (f"kept at {current.id}: automatic moves only go forward"
                                f"; the rules alone would give {by_rules.id}")
    return by_rules, False, rules.reached_reason[by_rules.id]


def _rotting(contact: dict, stage: Stage, facts: dict) -> bool:
    if stage.rotting_days is None or stage.is_exit or stage.id != contact.get("stage"):
        # An exit is closed, and a stage the contact has only just entered cannot rot.
        return False
    idle = facts["days_in_stage"]
    last = facts["last_activity_days"]
    if last is not None and (idle is None or last < idle):
        idle = last
    return idle is not None and idle > stage.rotting_days
