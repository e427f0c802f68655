"""``learn``: from the contacts' outcomes to a validated, calibrated, saved-ready model.

Steps: read the contacts that teach (as known before their outcome); refuse below
``MIN_EACH`` of either label; split off the held-out part; plan features on the
training part; leave out what leaks; fit on the training part and calibrate on
out-of-fold scores of it (each row scored by a model fitted on the other three
quarters: honest, and every training row counts); measure on the held-out part next
to the rules' own score of the same contacts. The saved model is then planned and
fitted the same way on every contact with an outcome (more data; the figures
reported are the held-out model's, and the model file says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

import numpy as np

from funnel.engine.errors import FunnelError
from funnel.engine.learn import leakage
from funnel.engine.learn.calibrate import fit_platt
from funnel.engine.learn.examples import known_before_outcome, label
from funnel.engine.learn.features import Design, Feature, plan_feature, source_values
from funnel.engine.learn.logistic import fit_logistic, sigmoid
from funnel.engine.learn.model_file import Model
from funnel.engine.learn.sources import NEVER, NOT_TRAITS, RawColumns
from funnel.engine.learn.strip import rules_scores
from funnel.engine.learn.threads import one_blas_thread
from funnel.engine.learn.validate import auc, brier, deciles, split, stratified_part
from funnel.engine.model import ACTIVITY_KINDS, format_datetime
from funnel.engine.rules.ruleset import Rules

MIN_EACH = 50
L2 = 1.0
FOLDS = 4  # calibration is fitted on out-of-fold scores of the training part
SEED = 42

Documents = Callable[[], Iterable[tuple[int, dict]]]  # a fresh pass over the contacts


class NotEnoughOutcomes(FunnelError):
    """Too few won or lost contacts to learn from."""


@dataclass
class Fitted:
    """A model fitted on some rows, and the design it was fitted over."""

    model: Model
    design: Design
    weights: np.ndarray
    warnings: list[str] = field(default_factory=list)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = self.design.linear(self.weights)[rows] + self.model.intercept
        return sigmoid(self.model.slope * z + self.model.shift)


def read_examples(items: Iterable[tuple[int, dict]], now: datetime, half_life: float
                  ) -> RawColumns:
    """The contacts with a label, each as known when its outcome was set."""
    raw = RawColumns()
    for contact_id, document in items:
        value = label(document)
        if value is None:
            continue
        view, moment = known_before_outcome(document)
        raw.add(contact_id, view, moment or now, half_life, value)
    return raw


def check_counts(y: np.ndarray) -> tuple[int, int]:
    positives, negatives = int((y == 1).sum()), int((y == 0).sum())
    if positives < MIN_EACH or negatives < MIN_EACH:
        raise NotEnoughOutcomes(
            f"learn: {positives} won and {negatives} lost or disqualified contacts; at "
            f"least {MIN_EACH} of each are needed (set outcome=won/lost on more contacts, "
            "or map the export's outcome column)")
    return positives, negatives


def skipped_sources(raw: RawColumns, use_after_contact: bool) -> set[str]:
    skip = set(NEVER) | set(NOT_TRAITS)
    return skip if use_after_contact else skip | raw.after_contact


def plan(raw: RawColumns, rows: np.ndarray, y: np.ndarray, use_after_contact: bool
         ) -> tuple[list[Feature], list[Any], list[leakage.Exclusion], list[str]]:
    """Features planned on ``rows``, their inputs, what was left out, warnings."""
    excluded = leakage.fixed_exclusions()
    if not use_after_contact:
        excluded += leakage.after_contact_exclusions(raw.after_contact)
    skip = skipped_sources(raw, use_after_contact)
    kinds = leakage.allowed_activity_kinds(ACTIVITY_KINDS, skip)
    min_count = max(10, int(round(0.002 * len(rows))))
    features, inputs = [], []
    for source in raw.source_names():
        if source in skip:
            continue
        values = source_values(raw, source, kinds)
        feature = plan_feature(source, values, rows, min_count)
        if feature is not None:
            features.append(feature)
            inputs.append(values)
    warnings: list[str] = []
    design = Design.build(features, inputs, len(raw))
    separating = _separating(design, rows, y)
    for name, value in separating:
        excluded.append(leakage.Exclusion(name, leakage.separating_why(value)))
        warnings.append(f"left out {name}: {leakage.separating_why(value)}")
    dropped = {name for name, _ in separating}
    kept_features, kept_inputs = [], []
    for feature, values in zip(features, inputs):
        if feature.source in dropped:
            continue
        if feature.kind == "tags":
            feature.kept = [tag for tag in feature.kept if f"tags:{tag}" not in dropped]
            if not feature.kept:
                continue
        kept_features.append(feature)
        kept_inputs.append(values)
    return kept_features, kept_inputs, excluded, warnings


def _separating(design: Design, rows: np.ndarray, y: np.ndarray) -> list[tuple[str, float]]:
    found = []
    coded = {number: position for position, number in enumerate(design.coded_features)}
    dense = None
    for number, feature in enumerate(design.features):
        if number in coded:
            codes = design.codes[rows, coded[number]] - design.offsets[number]
            parts = leakage.single_feature_auc(feature, codes, None, y[rows])
        else:
            if dense is None:
                dense = design.dense(rows)
            start = int(design.offsets[number])
            parts = leakage.single_feature_auc(feature, None,
                                               dense[:, start:start + feature.width], y[rows])
        found += [(name, value) for name, value in parts if value >= leakage.SEPARATES]
    return found


def fit(raw: RawColumns, rows: np.ndarray, half_life: float, use_after_contact: bool,
        seed: int = SEED) -> Fitted:
    """Plan, fit and calibrate a model on ``rows`` (see the module docstring)."""
    y = np.asarray(raw.labels, np.float64)
    features, inputs, excluded, warnings = plan(raw, rows, y, use_after_contact)
    design = Design.build(features, inputs, len(raw))
    with one_blas_thread():
        weights, intercept = fit_logistic(design.subset(rows), y[rows], L2)
        z, observed = _out_of_fold(design, rows, y, seed)
    slope, shift = fit_platt(z, observed)
    parts = design.feature_parts(weights)[rows]
    for number, feature in enumerate(features):
        start = int(design.offsets[number])
        feature.weights = [float(w) for w in weights[start:start + feature.width]]
        feature.centre = float(parts[:, number].mean()) if len(rows) else 0.0
    skip = skipped_sources(raw, use_after_contact)
    model = Model(features=features, intercept=float(intercept), slope=slope, shift=shift,
                  half_life_days=half_life, uses_after_contact=use_after_contact,
                  activity_kinds=leakage.allowed_activity_kinds(ACTIVITY_KINDS, skip),
                  excluded=excluded)
    return Fitted(model, design, weights, warnings)


def _out_of_fold(design: Design, rows: np.ndarray, y: np.ndarray, seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every row from a model fitted without it (``FOLDS`` stratified folds),
    and their labels: what calibration is fitted on."""
    scores, labels = [], []
    rest = rows
    for fold in range(FOLDS, 0, -1):
        rest, part = stratified_part(rest, y, 1.0 / fold, seed + fold) if fold > 1 \
            else (rest[:0], rest)
        fit_rows = np.setdiff1d(rows, part, assume_unique=True)
        weights, intercept = fit_logistic(design.subset(fit_rows), y[fit_rows], L2)
        scores.append(design.linear(weights)[part] + intercept)
        labels.append(y[part])
    return np.concatenate(scores), np.concatenate(labels)


def learn(documents: Documents, rules: Rules, now: datetime, *,
          use_after_contact: bool = False, baseline: bool = True,
          trained_on: dict[str, Any] | None = None) -> tuple[Model, dict[str, Any]]:
    """Train, validate and retrain on everything: (the model to save, the report)."""
    half_life = rules.half_life_days
    raw = read_examples(documents(), now, half_life)
    y = np.asarray(raw.labels, np.int64)
    positives, negatives = check_counts(y)
    train_rows, held_rows, how = split(y, np.asarray(raw.created, np.float64))
    held_out = fit(raw, train_rows, half_life, use_after_contact)
    probabilities = held_out.probabilities(held_rows)
    observed = y[held_rows].astype(np.float64)
    report: dict[str, Any] = {
        "auc": round(auc(probabilities, observed), 4),
        "brier": round(brier(probabilities, observed), 4),
        "train": int(len(train_rows)), "holdout": int(len(held_rows)),
        "positives": positives, "negatives": negatives, "split": how,
        "baseline_auc": None, "baseline_brier": None,
        "deciles": deciles(probabilities, observed),
        "uses_after_contact": use_after_contact, "leaky": use_after_contact,
        "after_contact_sources": sorted(raw.after_contact),
        "warnings": list(held_out.warnings),
    }
    if baseline:
        held_ids = {raw.ids[row]: row for row in held_rows}
        scores = rules_scores(documents(), held_ids, rules, now,
                              skipped_sources(raw, use_after_contact))
        held_y = y[list(held_ids.values())].astype(np.float64)
        report["baseline_auc"] = round(auc(scores.astype(np.float64), held_y), 4)
        # The score read as a chance (score/100), as people tend to read it.
        report["baseline_brier"] = round(brier(np.clip(scores / 100.0, 0.0, 1.0), held_y), 4)
        report["baseline"] = ("the rules' score of the same held-out contacts, from what "
                              "the model may read (as known before the outcome"
                              + ("" if use_after_contact else ", after-contact sources left out")
                              + ")")
    final = fit(raw, np.flatnonzero(y >= 0), half_life, use_after_contact)
    model = final.model
    model.trained_at = format_datetime(now)
    model.trained_on = dict(trained_on or {}, contacts=len(raw), positives=positives,
                            negatives=negatives, rules=rules.name,
                            rules_fingerprint=rules.fingerprint,
                            saved="retrained on every contact with an outcome after "
                                  "validation; the figures are the held-out model's")
    report["excluded"] = [item.to_dict() for item in model.excluded]
    report["warnings"] = sorted(set(report["warnings"]) | set(final.warnings))
    if use_after_contact:
        report["warnings"].insert(0, "LEAKY: this model learns from after-contact data "
                                  f"({', '.join(sorted(raw.after_contact)) or 'none marked'});"
                                  " its figures overstate how it ranks new leads")
    report["features"] = len(model.features)
    model.validation = {key: report[key] for key in (
        "auc", "brier", "baseline_auc", "baseline_brier", "train", "holdout", "positives", "negatives",
        "split", "deciles")}
    return model, report
