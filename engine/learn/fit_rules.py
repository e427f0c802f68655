"""Rule points fitted from outcomes: today's fit and engagement rules, new whole points.

Each rule is an indicator per contact, read the way the rules read it: a fit rule or
a flat engagement rule fires (1) or not (0); an activity rule counts its faded
activities up to its cap (``max / points`` activities). An L2 logistic regression of
won vs lost on those indicators, fitted on the training part, gives each rule a
weight in log-odds; points are the weights times one scale, rounded to whole points,
the scale chosen on the training part: the clamped 0-100 score must rank about as
well as at the best scale, and among those its mean stays nearest today's.
The held-out AUC of today's points and of the proposal are measured the same way:
the rules classify each held-out contact, as known before its outcome, under each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import numpy as np

from funnel.engine.learn.examples import label
from funnel.engine.learn.logistic import sigmoid
from funnel.engine.learn.sources import NEVER, NOT_TRAITS
from funnel.engine.learn.strip import as_learned
from funnel.engine.learn.train import Documents, check_counts
from funnel.engine.learn.validate import HOLDOUT_SHARE, auc, split
from funnel.engine.model import parse_datetime
from funnel.engine.rules.classify import classify
from funnel.engine.rules.editing import RulesText
from funnel.engine.rules.facts import gather
from funnel.engine.rules.number_checks import POINTS_LIMIT
from funnel.engine.rules.ruleset import Rules, ScoreRule

SCALES = (2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 60.0)
AUC_SLACK = 0.005  # scales ranking this close to the best are as good: keep the spread
L2 = 1.0
MIN_EVIDENCE = 10  # a rule counting for fewer training contacts keeps today's points
REPORT_EVERY = 500  # contacts between two progress reports

Progress = Callable[[int, int], None]  # (done, total) steps; may raise to stop early


@dataclass
class Proposal:
    rule: ScoreRule
    today: float
    proposed: int
    today_max: float | None
    proposed_max: float | None
    weight: float  # log-odds per unit of the indicator
    fired_won: float  # share converting among contacts it counts for
    others_won: float

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.id, "label": self.rule.label, "today": self.today,
                "proposed": self.proposed, "today_max": self.today_max,
                "proposed_max": self.proposed_max, "weight": round(self.weight, 4),
                "why": self.why}

    counted: int = 0  # training contacts it counts for

    @property
    def why(self) -> str:
        if self.counted < MIN_EVIDENCE:
            return (f"it counts for {self.counted} training contacts with an outcome: too "
                    "few to judge, today's points kept")
        effect = ("raises the odds" if self.proposed > 0 else "lowers the odds"
                  if self.proposed < 0 else "adds nothing")
        return (f"{100 * self.fired_won:.0f}% of the contacts it counts for converted vs "
                f"{100 * self.others_won:.0f}% of the others; next to the other rules it "
                f"{effect}")


def _indicators(view: dict, rules: Rules, moment: datetime) -> list[float]:
    facts = gather(view, moment, rules.half_life_days)
    found = []
    for rule in rules.fit + rules.engagement:
        if rule.activity is not None:
            amount = facts["decayed"].get(rule.activity, 0.0)
            if rule.maximum is not None and rule.points:
                amount = min(amount, rule.maximum / rule.points)
            found.append(float(amount))
        else:
            assert rule.when is not None
            found.append(1.0 if rule.when.test(view, facts) else 0.0)
    return found


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights (then intercept) of a small dense L2 logistic regression."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = L2 * np.eye(design.shape[1])
    penalty[-1, -1] = 1e-9
    for _ in range(50):
        p = sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta


@dataclass
class FitRulesResult:
    proposals: list[Proposal]
    text: str  # the rules file with the proposed points
    rules: Rules  # the rules that text loads as
    today_auc: float
    proposed_auc: float
    train: int
    holdout: int
    split: str

    def to_dict(self) -> dict[str, Any]:
        return {"today_auc": round(self.today_auc, 4),
                "proposed_auc": round(self.proposed_auc, 4),
                "train": self.train, "holdout": self.holdout, "split": self.split,
                "rules": [proposal.to_dict() for proposal in self.proposals]}


def fit_rules(documents: Documents, rules: Rules, now: datetime, *,
              use_after_contact: bool = False, progress: Progress | None = None
              ) -> FitRulesResult:
    """``progress(done, total)`` hears how far it is: the steps are the contacts read
    (a second pass, after one that counts them) and the held-out contacts classified
    under today's points and the proposal (their number estimated until the split)."""
    marked: set[str] = set()
    contacts = labelled = 0
    for _, document in documents():
        contacts += 1
        if label(document) is not None:
            labelled += 1
            if isinstance(document.get("after_contact"), list):
                marked.update(str(item) for item in document["after_contact"])
    total = contacts + 2 * int(round(HOLDOUT_SHARE * labelled))
    step = _Steps(progress, total)
    skip = set(NEVER) | set(NOT_TRAITS) | (set() if use_after_contact else marked)
    views, labels, created, rows = [], [], [], []
    for _, document in documents():
        step.one()
        value = label(document)
        if value is None:
            continue
        view, moment = as_learned(document, skip, now)
        views.append((view, moment))
        labels.append(value)
        created.append(_seconds(document.get("created_at")))
        rows.append(_indicators(view, rules, moment))
    y = np.asarray(labels, np.int64)
    check_counts(y)
    x = np.asarray(rows, np.float64).reshape(len(rows), len(rules.fit) + len(rules.engagement))
    train, held, how = split(y, np.asarray(created, np.float64))
    weights = _fit(x[train], y[train].astype(np.float64))[:-1]
    scale = _scale(x[train], y[train].astype(np.float64), rules, weights)
    proposals = _proposals(rules, weights, scale, x[train], y[train])
    edits: dict[str, float | None] = {}
    for proposal in proposals:
        edits[f"{proposal.rule.id}.points"] = proposal.proposed
        if proposal.rule.activity is not None and proposal.rule.maximum is not None:
            edits[f"{proposal.rule.id}.max"] = proposal.proposed_max
    text, proposed_rules = RulesText.of(rules).draft(edits)
    observed = y[held].astype(np.float64)
    today = np.array([step.one(classify(views[row][0], rules, views[row][1],
                                        explain=False).score) for row in held], np.float64)
    after = np.array([step.one(classify(views[row][0], proposed_rules, views[row][1],
                                        explain=False).score) for row in held], np.float64)
    step.done()
    return FitRulesResult(proposals, text, proposed_rules, auc(today, observed),
                          auc(after, observed), int(len(train)), int(len(held)), how)


class _Steps:
    """Counts steps and tells ``progress`` every ``REPORT_EVERY`` of them."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress = progress
        self.total = max(total, 1)
        self.count = 0

    def one(self, value: float = 0.0) -> float:
        self.count += 1
        if self._progress is not None and self.count % REPORT_EVERY == 0:
            self._progress(min(self.count, self.total - 1), self.total)
        return value

    def done(self) -> None:
        if self._progress is not None:
            self._progress(self.total, self.total)


def _whole(rule: ScoreRule, weight: float, scale: float) -> tuple[int, float | None]:
    points = int(np.clip(round(weight * scale), -POINTS_LIMIT, POINTS_LIMIT))
    if rule.activity is None or rule.maximum is None:
        return points, None
    cap = rule.maximum / rule.points if rule.points else 1.0  # activities up to the cap
    return points, float(np.clip(round(points * cap), -POINTS_LIMIT, POINTS_LIMIT))


def _scale(x: np.ndarray, y: np.ndarray, rules: Rules, weights: np.ndarray) -> float:
    """Points per log-odds: among the scales whose clamped, rounded score ranks the
    training part about as well as the best, the one whose mean score is nearest
    today's (so grades and temperatures keep their meaning)."""
    today = np.array([rule.points for rule in rules.fit + rules.engagement], np.float64)
    today_mean = float(np.clip(np.rint(x @ today), 0, 100).mean())
    ranked = {scale: auc(_points_score(x, rules, weights, scale), y) for scale in SCALES}
    best = max(ranked.values())
    good = [scale for scale, value in ranked.items() if value >= best - AUC_SLACK]
    return min(good, key=lambda scale: abs(
        float(_points_score(x, rules, weights, scale).mean()) - today_mean))


def _points_score(x: np.ndarray, rules: Rules, weights: np.ndarray, scale: float) -> np.ndarray:
    counted = (x > 0).sum(axis=0)
    points = np.array([_whole(rule, weight, scale)[0] if enough >= MIN_EVIDENCE else
                       round(rule.points) for rule, weight, enough in
                       zip(rules.fit + rules.engagement, weights, counted)], np.float64)
    return np.clip(np.rint(x @ points), 0, 100)


def _proposals(rules: Rules, weights: np.ndarray, scale: float, x: np.ndarray,
               y: np.ndarray) -> list[Proposal]:
    found = []
    for column, (rule, weight) in enumerate(zip(rules.fit + rules.engagement, weights)):
        fired = x[:, column] > 0
        if fired.sum() >= MIN_EVIDENCE:
            points, cap = _whole(rule, float(weight), scale)
        else:
            points, cap = round(rule.points), rule.maximum
        found.append(Proposal(rule, rule.points, points, rule.maximum, cap, float(weight),
                              float(y[fired].mean()) if fired.any() else float("nan"),
                              float(y[~fired].mean()) if (~fired).any() else float("nan"),
                              int(fired.sum())))
    return found


def _seconds(text: Any) -> float:
    try:
        return parse_datetime(text).timestamp()
    except (ValueError, TypeError, AttributeError):
        return float("nan")

