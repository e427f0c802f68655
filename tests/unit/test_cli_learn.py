"""``funnel learn`` on real databases: a differently shaped export mapped by a user
learns with no code change; show/stats gain the likelihood; too few outcomes are
refused; ``--fit-rules`` proposes points that rank better and saves only when asked."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import yaml

from cli_support import run_cli
from learn_support import write_leads, write_mapping

from funnel.engine.workspace.facade import Workspace


def test_a_user_mapped_export_gets_a_useful_model_and_show_stats_gain_it(tmp_path: Path) -> None:
    write_leads(tmp_path / "leads.csv", 1500, leak=True)
    write_mapping(tmp_path / "map.yaml")
    imported = run_cli(tmp_path, "import", "leads.csv", "--db", "d.json", "--map", "map.yaml")
    assert imported.returncode == 0, imported.stderr
    ran = run_cli(tmp_path, "learn", "--db", "d.json", "--json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["auc"] >= 0.78 and report["auc"] >= report["baseline_auc"] + 0.15
    assert report["positives"] + report["negatives"] == report["train"] + report["holdout"]
    assert report["split"].startswith("newest")  # the export's dates vary
    assert len(report["deciles"]) == 10 and report["brier"] < 0.2
    assert any(item["feature"] == "custom.Verdict" and "separates" in item["why"]
               for item in report["excluded"])
    assert "custom.Verdict" in ran.stderr and "warning" in ran.stderr
    model = json.loads((tmp_path / "d.json.model.json").read_text())
    assert model["trained_on"]["rules_fingerprint"] and model["validation"]["auc"] == report["auc"]
    assert {f["source"] for f in model["features"]} >= {"custom.Plan Interest", "custom.Age"}

    shown = json.loads(run_cli(tmp_path, "show", "1", "--db", "d.json", "--json").stdout)
    likelihood = shown["classification"]["likelihood"]
    factors = shown["classification"]["factors"]
    assert 0 < likelihood < 1 and {"feature", "value", "points"} == set(factors[0])
    assert [abs(f["points"]) for f in factors] == sorted((abs(f["points"]) for f in factors),
                                                          reverse=True)
    stats = json.loads(run_cli(tmp_path, "stats", "--db", "d.json", "--json").stdout)
    assert sum(stats["likelihood_tenths"].values()) == stats["total"] == 1500
    text = run_cli(tmp_path, "learn", "--db", "d.json")
    assert text.returncode == 0 and "model AUC" in text.stdout and "left out" in text.stdout


def test_too_few_outcomes_exit_2_with_one_line_and_nothing_written(tmp_path: Path) -> None:
    write_leads(tmp_path / "leads.csv", 60)
    write_mapping(tmp_path / "map.yaml")
    assert run_cli(tmp_path, "import", "leads.csv", "--db", "d.json", "--map",
                   "map.yaml").returncode == 0
    ran = run_cli(tmp_path, "learn", "--db", "d.json", "--json")
    assert ran.returncode == 2 and ran.stdout == ""
    assert ran.stderr.count("\n") == 1 and "at least 50 of each" in ran.stderr
    assert not (tmp_path / "d.json.model.json").exists()
    shown = json.loads(run_cli(tmp_path, "show", "1", "--db", "d.json", "--json").stdout)
    assert "likelihood" not in shown["classification"]  # no model: no likelihood
    wrong = run_cli(tmp_path, "learn", "--db", "d.json", "--save")
    assert wrong.returncode == 2 and "--fit-rules" in wrong.stderr


def _rules_data(tmp_path: Path, count: int = 1200) -> Path:
    """Contacts the default rules read, converting by other weights than today's:
    need and referrals matter most, authority little, the industry not at all."""
    rng = random.Random(11)
    items = []
    for number in range(count):
        fields = {"name": f"c{number}", "email": f"c{number}@example.com",
                  "need": rng.choice(["yes", "no", "unknown"]),
                  "authority": rng.choice(["yes", "unknown"]),
                  "industry": rng.choice(["software", "retail", "finance", "health"]),
                  "source": rng.choice(["referral", "web_form", "purchased_list"])}
        log_odds = (-0.5 + 2.0 * (fields["need"] == "yes") - 1.0 * (fields["need"] == "no")
                    + 1.5 * (fields["source"] == "referral")
                    + 0.2 * (fields["authority"] == "yes"))
        fields["outcome"] = "won" if rng.random() < 1 / (1 + math.exp(-log_odds)) else "lost"
        items.append(fields)
    db = tmp_path / "rules.json"
    with Workspace.open(db, user="tester") as workspace:
        workspace.add_many(items)
    return db


def test_fit_rules_beats_todays_points_and_saves_only_when_asked(tmp_path: Path) -> None:
    _rules_data(tmp_path)
    target = tmp_path / "xdg-config" / "funnel" / "rules.yaml"  # where the Scoring tab saves
    ran = run_cli(tmp_path, "learn", "--db", "rules.json", "--fit-rules", "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["proposed_auc"] > data["today_auc"] + 0.02
    assert data["saved"] is None and not target.exists()
    proposal = {item["rule"]: item for item in data["rules"]}
    assert proposal["fit.referral"]["proposed"] > proposal["fit.target_industry"]["proposed"]
    assert "converted" in proposal["fit.need"]["why"]
    grades = data["counts"]["proposed"]["grades"]
    assert sum(grades.values()) == 1200 and grades["1"] < 1000  # a spread kept, as today's
    saved = run_cli(tmp_path, "learn", "--db", "rules.json", "--fit-rules", "--save",
                    "--json")
    assert saved.returncode == 0, saved.stderr
    written = Path(json.loads(saved.stdout)["saved"])
    assert written == target and written.is_file()
    rules = yaml.safe_load(written.read_text())["scoring"]["fit"]
    points = {rule["id"]: rule["points"] for rule in rules}
    assert points["referral"] == proposal["fit.referral"]["proposed"]
    again = run_cli(tmp_path, "stats", "--db", "rules.json", "--json")
    assert again.returncode == 0  # the saved rules load
