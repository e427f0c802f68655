"""Issue #14's acceptance on real data: the X Education export, imported with the
shipped mapping, then ``funnel learn`` with and without the after-contact columns,
and ``--fit-rules``. Skipped (saying why) when ``../shared/data`` is not there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run_cli

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "x-education-leads.csv"

pytestmark = [
    pytest.mark.skipif(not DATA.is_file(), reason=f"the real lead export is not at {DATA}"),
    pytest.mark.xdist_group("x-education-learn"),
]


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("x-education-learn")
    ran = run_cli(folder, "import", DATA, "--db", "leads.json", "--map", "x-education")
    assert ran.returncode == 0, ran.stderr
    return folder


def learned(folder: Path, *options: str) -> dict:
    ran = run_cli(folder, "learn", "--db", "leads.json", "--json", *options)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_without_after_contact_columns_it_beats_the_rules_and_is_calibrated(
        imported: Path) -> None:
    report = learned(imported)
    assert report["positives"] == 3559 and report["negatives"] == 5678
    assert not report["leaky"] and report["after_contact_sources"]
    excluded = {item["feature"] for item in report["excluded"]}
    assert {"custom.Tags", "custom.Lead Quality"} <= excluded
    assert report["auc"] >= 0.88
    assert report["auc"] >= report["baseline_auc"] + 0.15
    assert report["brier"] <= 0.13
    for tenth in report["deciles"]:
        assert tenth["contacts"] >= 100 and tenth["gap"] <= 0.05, tenth


def test_with_after_contact_columns_it_ranks_almost_perfectly_and_says_leaky(
        imported: Path) -> None:
    report = learned(imported, "--use-after-contact")
    assert report["leaky"] and report["warnings"][0].startswith("LEAKY")
    assert report["auc"] >= 0.97


def test_fitted_rule_points_beat_todays_on_the_held_out_part(imported: Path) -> None:
    ran = run_cli(imported, "learn", "--db", "leads.json", "--fit-rules", "--json")
    assert ran.returncode == 0, ran.stderr
    data = json.loads(ran.stdout)
    assert data["proposed_auc"] > data["today_auc"] + 0.05
    assert data["saved"] is None
