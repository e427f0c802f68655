"""The typed, validated rules the classifier runs on (built by ``engine.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from funnel.engine.rules.conditions import Condition

TEMPERATURES = ("hot", "warm", "cold")


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    order: int  # position in the funnel; exits sort after every stage
    when: Condition | None  # None: only a person can put a contact here
    next_action: str
    rotting_days: float | None
    is_exit: bool = False
    line: int = 0


@dataclass(frozen=True)
class ScoreRule:
    id: str  # qualified: "fit.decision_maker", "engagement.webinar"
    family: str  # "fit" or "engagement"
    label: str
    points: float
    when: Condition | None = None  # flat points when it holds
    activity: str | None = None  # points per activity of this kind, faded by age
    maximum: float | None = None  # cap for activity rules
    line: int = 0


@dataclass(frozen=True)
class ChoiceRule:
    """One entry of an ordered first-match list (temperature, lead type)."""

    value: str
    label: str
    when: Condition
    line: int = 0


@dataclass(frozen=True)
class ResponseDeadline:
    """Answer a contact this condition holds for within ``within_hours`` of its creation."""

    when: Condition
    within_hours: float
    line: int = 0


@dataclass(frozen=True)
class Rules:
    name: str
    description: str
    source: str  # the file these rules came from
    fingerprint: str  # sha256 of the file's bytes: cached classifications key on it
    stages: tuple[Stage, ...]  # the funnel, in order
    exits: tuple[Stage, ...]
    fit: tuple[ScoreRule, ...]
    engagement: tuple[ScoreRule, ...]
    half_life_days: float
    grades: tuple[tuple[int, float], ...]  # (grade, lowest score), best grade first
    temperature_default: str
    temperatures: tuple[ChoiceRule, ...]
    lead_type_default: str | None
    lead_types: tuple[ChoiceRule, ...]
    # First-response deadlines (issue #15), first match wins; empty: no deadlines.
    first_response: tuple[ResponseDeadline, ...] = ()
    by_id: dict[str, Stage] = field(default_factory=dict, init=False, compare=False, hash=False)
    # Plain tuples of what classify needs, so its hot loop does no attribute lookups.
    fit_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    engagement_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    stage_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    exit_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    temperature_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    lead_type_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    response_plan: tuple = field(default=(), init=False, compare=False, hash=False)
    # Per stage, why the rules put a contact there: one shared string, not one each.
    reached_reason: dict = field(default_factory=dict, init=False, compare=False, hash=False)
    # A condition reads the learned likelihood: classifying needs the model's scores.
    reads_likelihood: bool = field(default=False, init=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.by_id.update({stage.id: stage for stage in self.stages + self.exits})
        set_ = object.__setattr__
        set_(self, "fit_plan", tuple(
            (rule.id, rule.label, round(rule.points), rule.when.test)  # type: ignore[union-attr]
            for rule in self.fit))
        set_(self, "engagement_plan", tuple(
            (rule.id, rule.label, rule.points, rule.when.test if rule.when else None,
             rule.activity, rule.maximum) for rule in self.engagement))
        # Furthest stage first: the first whose condition holds is the one reached.
        set_(self, "stage_plan", tuple((stage, stage.when.test) for stage in reversed(self.stages)
                                       if stage.when is not None))
        set_(self, "temperature_plan", tuple((c.value, c.when.test) for c in self.temperatures))
        set_(self, "lead_type_plan", tuple((c.value, c.when.test) for c in self.lead_types))
        set_(self, "response_plan", tuple((d.within_hours, d.when.test)
                                          for d in self.first_response))
        set_(self, "exit_plan", tuple((stage, stage.when.test) for stage in self.exits
                                      if stage.when is not None))
        for stage in self.stages + self.exits:
            when = stage.when.text if stage.when is not None else "always"
            self.reached_reason[stage.id] = f"{stage.id}: {' '.join(when.split())}"
        set_(self, "reads_likelihood", any("likelihood" in condition.names
                                           for condition in self.conditions()))

    def conditions(self) -> list[Condition]:
        """Every condition in these rules."""
        found = [stage.when for stage in self.stages + self.exits]
        found += [rule.when for rule in self.fit + self.engagement]
        found += [choice.when for choice in self.temperatures + self.lead_types]
        found += [deadline.when for deadline in self.first_response]
        return [condition for condition in found if condition is not None]

    def stage(self, stage_id: str) -> Stage:
        return self.by_id[stage_id]

    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(stage.id for stage in self.stages + self.exits)

    def grade_for(self, score: float) -> int:
        for grade, lowest in self.grades:
            if score >= lowest:
                return grade
        return 1
