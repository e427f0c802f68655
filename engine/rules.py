"""The typed, validated rules the classifier runs on (built by ``engine.config``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .conditions import Condition

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
    by_id: dict[str, Stage] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        self.by_id.update({stage.id: stage for stage in self.stages + self.exits})

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
