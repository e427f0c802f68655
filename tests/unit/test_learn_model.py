"""Training on contacts whose custom fields carry a known signal: a useful, calibrated
model; factors that add up; the leakage guards; the saved file scores the same."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from funnel.engine.learn.model_file import load_model, save_model
from funnel.engine.learn.score import score_contacts
from funnel.engine.learn.train import NotEnoughOutcomes, learn
from funnel.engine.model import format_datetime, new_contact
from funnel.engine.rules.loading import load_rules

from learn_support import PLANS, signal

NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)
RULES = load_rules(None)


def contacts(count: int, *, seed: int = 2, echo: bool = False, marked: bool = False
             ) -> list[tuple[int, dict]]:
    """Documents whose outcome follows ``signal`` of two custom fields; ``echo`` adds a
    custom field that is the outcome, ``marked`` a telling field marked after_contact."""
    rng = random.Random(seed)
    found = []
    for number in range(count):
        plan, age = rng.choice(list(PLANS)), rng.randint(20, 65)
        won = rng.random() < 1 / (1 + math.exp(-signal(plan, age)))
        custom = {"plan": plan, "age": str(age), "region": rng.choice("NSEW")}
        if echo:
            custom["verdict"] = "yes" if won else "no"
        if marked:
            custom["call notes"] = "keen" if (won and rng.random() < 0.8) else "meh"
        created = NOW - timedelta(days=rng.uniform(1, 300))
        document = new_contact({"name": f"c{number}", "created_at": format_datetime(created),
                                "custom": custom, "outcome": "won" if won else "lost"}, NOW)
        if marked:
            document["after_contact"] = ["custom.call notes"]
        found.append((number + 1, document))
    return found


def oracle_auc(items: list[tuple[int, dict]], report_holdout: int) -> float:
    """AUC of the true log-odds on the newest ``report_holdout`` contacts."""
    newest = sorted(items, key=lambda item: item[1]["created_at"])[-report_holdout:]
    truth = np.array([signal(d["custom"]["plan"], int(d["custom"]["age"])) for _, d in newest])
    won = np.array([d["outcome"] == "won" for _, d in newest])
    from funnel.engine.learn.validate import auc
    return auc(truth, won.astype(float))


def test_a_known_signal_in_custom_fields_is_learned_and_calibrated() -> None:
    items = contacts(4000)
    model, report = learn(lambda: iter(items), RULES, NOW)
    assert report["split"].startswith("newest") and report["holdout"] == 1200
    assert report["auc"] >= oracle_auc(items, 1200) - 0.03
    assert report["auc"] > report["baseline_auc"] + 0.15  # the rules read no custom field
    for tenth in report["deciles"]:  # observed rates of 120 contacts: allow their noise
        noise = 2.5 * math.sqrt(tenth["observed"] * (1 - tenth["observed"]) / 120)
        assert tenth["contacts"] == 120 and tenth["gap"] <= 0.05 + noise, tenth
    # Against the true chances (no sampling noise): within 0.05 in every tenth.
    scored = score_contacts(model, items, NOW)
    truth = np.array([1 / (1 + math.exp(-signal(d["custom"]["plan"], int(d["custom"]["age"]))))
                      for _, d in items])
    for part in np.array_split(np.argsort(scored.likelihood), 10):
        assert abs(scored.likelihood[part].mean() - truth[part].mean()) <= 0.05
    sources = {feature.source: feature for feature in model.features}
    assert sources["custom.age"].kind == "number"  # numeric text read as numbers
    assert sources["custom.plan"].kind == "category"
    weights = dict(zip(sources["custom.plan"].labels, sources["custom.plan"].weights))
    assert weights["enterprise"] > weights["pro"] > weights["basic"]
    for key in ("auc", "brier", "train", "holdout", "positives", "negatives",
                "baseline_auc", "deciles", "excluded"):
        assert key in report


def test_factors_add_up_to_the_likelihood_and_the_file_scores_the_same(tmp_path: Path) -> None:
    items = contacts(1500)
    model, _ = learn(lambda: iter(items), RULES, NOW, baseline=False)
    path = save_model(model, tmp_path / "m.json")
    loaded = load_model(path)
    assert loaded is not None
    scored = score_contacts(model, items[:50], NOW)
    again = score_contacts(loaded, items[:50], NOW)
    assert np.allclose(scored.likelihood, again.likelihood, atol=1e-5)
    for row in range(50):
        factors = scored.factors(row)
        log_odds = model.baseline + sum(f["points"] for f in factors) / 10
        assert abs(1 / (1 + math.exp(-log_odds)) - scored.likelihood[row]) < 0.01
        points = [abs(f["points"]) for f in factors]
        assert points == sorted(points, reverse=True)
    enterprise = next(row for row, (_, d) in enumerate(items[:50])
                      if d["custom"]["plan"] == "enterprise")
    plan = next(f for f in scored.factors(enterprise) if f["feature"] == "custom.plan")
    assert plan["value"] == "enterprise" and plan["points"] > 0


def test_a_custom_field_equal_to_the_outcome_is_left_out_and_named() -> None:
    items = contacts(800, echo=True)
    model, report = learn(lambda: iter(items), RULES, NOW)
    assert "custom.verdict" not in [feature.source for feature in model.features]
    named = [item for item in report["excluded"] if item["feature"] == "custom.verdict"]
    assert named and "separates" in named[0]["why"]
    assert any("custom.verdict" in warning for warning in report["warnings"])
    assert report["auc"] < 0.9  # it really learned without the echo


def test_after_contact_sources_are_left_out_unless_asked_and_then_called_leaky() -> None:
    items = contacts(800, marked=True)
    model, report = learn(lambda: iter(items), RULES, NOW)
    assert "custom.call notes" not in [feature.source for feature in model.features]
    assert {"feature": "custom.call notes",
            "why": "recorded after the sales contact (marked after_contact by the mapping)"} \
        in report["excluded"]
    assert report["leaky"] is False
    leaky_model, leaky = learn(lambda: iter(items), RULES, NOW, use_after_contact=True)
    assert "custom.call notes" in [feature.source for feature in leaky_model.features]
    assert leaky["leaky"] is True and leaky_model.uses_after_contact
    assert leaky["warnings"][0].startswith("LEAKY")
    assert leaky["auc"] > report["auc"]


def test_too_few_outcomes_are_refused_with_one_clear_line() -> None:
    items = contacts(200)
    few = [item for item in items if item[1]["outcome"] == "lost"][:49] + \
        [item for item in items if item[1]["outcome"] == "won"][:80]
    with pytest.raises(NotEnoughOutcomes) as caught:
        learn(lambda: iter(few), RULES, NOW)
    message = str(caught.value)
    assert "\n" not in message and "49 lost" in message and "at least 50" in message
