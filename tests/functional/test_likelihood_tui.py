"""The learned likelihood in the app, with real key presses on a real database whose
model ``funnel learn`` trained (likely_support): the card's likelihood and factors
(contact text shown literally), the Scoring tab's model section (m), and the fit of
the rules' points (f) that becomes a draft ctrl+s saves and R reverts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from textual.widgets import Static

from funnel.engine.learn.fit_rules import fit_rules
from funnel.engine.learn.model_file import load_model, model_path
from funnel.engine.rules.loading import load_rules
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.panes.contacts.card import ContactScreen
from funnel.tui.panes.scoring.model_section import ModelSection, proposed_numbers
from funnel.tui.panes.scoring.model_text import bar, model_report
from funnel.tui.panes.scoring.pane import ScoringPane

from conftest import fixed_clock
from likely_support import GOLD, learn, write_outcomes_db
from pilot_support import move_to, settle, wait_until
from test_scoring_tab import notifications, open_tab, settled

BLOCKS = set("█▏▎▍▌▋▊▉")


@pytest.fixture(scope="session")
def trained_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("learned") / "leads.json"
    write_outcomes_db(path)
    learn(path)
    return path


@pytest.fixture
def trained_db(trained_template: Path, tmp_path: Path) -> Path:
    for file in trained_template.parent.iterdir():
        if not file.name.endswith(".lock"):
            shutil.copy(file, tmp_path / file.name)
    return tmp_path / trained_template.name


@pytest.fixture
def trained(trained_db: Path, tmp_path: Path):
    """(the app, its workspace, where ctrl+s saves the rules)."""
    workspace = Workspace.open(trained_db, None, clock=fixed_clock, user="tester")
    target = tmp_path / "cfg" / "rules.yaml"
    yield FunnelApp(workspace, Settings(poll_seconds=0, rules_path=str(target))), workspace, target
    workspace.close()


def card_likely(app: FunnelApp):
    return app.screen.query_one("#card-likely", Static).render()


def section_text(app: FunnelApp) -> str:
    return str(app.query_one("#scoring-model-text", Static).render())


def heaviest(factors: list[dict], sign: int) -> list[dict]:
    return [item for item in factors if sign * item["points"] > 0][:3]  # weightiest first


async def open_card(pilot, app: FunnelApp, contact_id: int) -> None:
    await settle(pilot, app)
    await move_to(pilot, app, contact_id)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen), "the card")
    await pilot.pause()


# -- the card -------------------------------------------------------------------------
async def test_the_card_shows_the_likelihood_and_three_factors_each_way_literally(trained):
    app, workspace, _ = trained
    model = workspace.likelihood_model()
    assert model is not None
    # A contact whose heaviest factors for it include the segment that looks like markup.
    target = next(contact_id for contact_id in workspace.select("", "score", True)
                  if any(item["value"] == GOLD for item in
                         heaviest(workspace.likelihood(contact_id, model)[1], 1)))
    chance, factors = workspace.likelihood(target, model)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_card(pilot, app, target)
        shown = card_likely(app)
        lines = shown.plain.splitlines()
        assert lines[0] == f"Likelihood to convert  {100 * chance:.0f}%"
        expected = heaviest(factors, 1) + heaviest(factors, -1)
        assert len(lines) == 1 + len(expected) and len(expected) >= 4
        for line, item in zip(lines[1:], expected):
            points, what = line.split(None, 1)
            assert float(points) == pytest.approx(item["points"], abs=0.05)
            assert what == f"{item['feature']}: {item['value']}"
        # The value is shown as typed, brackets and all, and styles nothing.
        start = shown.plain.index(f"custom.Segment: {GOLD}")
        assert not [span for span in shown.spans if span.start <= start < span.end]


async def test_without_a_model_the_card_says_how_to_make_one_and_a_bad_file_is_one_line(
        app: FunnelApp, db_path: Path):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_card(pilot, app, app.contacts_pane.table.ids[0])
        shown = card_likely(app).plain
        assert shown.splitlines()[0] == "Likelihood: no model yet" and "funnel learn" in shown
        model_path(db_path).write_text("{ not a model")
        await pilot.press("n")  # the next contact: the card reads the model again
        await pilot.pause()
        shown = card_likely(app).plain
        assert shown.splitlines()[0] == "Likelihood: unreadable model"
        assert "not a readable model" in shown and "funnel learn" in shown
        assert len(shown.splitlines()) == 2 and isinstance(app.screen, ContactScreen)


# -- the model section ----------------------------------------------------------------
def test_bars_are_drawn_in_eighths_of_a_cell_and_keep_their_width():
    assert bar(0.5, 10) == "█████     "
    assert bar(1 / 16, 2) == "▏ "  # one eighth of one of two cells
    assert bar(0.99, 4) == "████" and bar(1.7, 3) == "███" and bar(-1, 3) == "   "


async def test_m_shows_the_model_section_with_its_held_out_figures_and_back(
        trained, trained_db: Path):
    app, _, _ = trained
    path = model_path(trained_db)
    saved = json.loads(path.read_text())
    validation = saved["validation"]
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_tab(pilot, app)
        await pilot.press("m")
        section = app.query_one(ModelSection)
        assert section.display and section.has_focus
        assert not pane.query_one("#scoring-body").display
        text = section_text(app)
        model_line = next(line for line in text.splitlines() if line.strip().startswith("model "))
        assert model_line.split()[1:3] == [f"{validation['auc']:.3f}",
                                           f"{validation['brier']:.3f}"]
        rules_line = next(line for line in text.splitlines() if "rules score" in line)
        assert rules_line.split()[2:4] == [f"{validation['baseline_auc']:.3f}",
                                           f"{validation['baseline_brier']:.3f}"]
        chart = [line.split() for line in text.splitlines()
                 if line.rstrip().endswith("×")]  # a tenth: bars, then its lift
        assert [int(words[0]) for words in chart] == list(range(1, 11))
        deciles = validation["deciles"]
        average = sum(t["observed"] * t["contacts"] for t in deciles) / sum(
            t["contacts"] for t in deciles)
        for words, tenth in zip(chart, deciles):
            percents = [word for word in words if word.endswith("%")]
            assert percents == [f"{100 * tenth['predicted']:.1f}%",
                                f"{100 * tenth['observed']:.1f}%"]
            assert words[-1] == f"{tenth['observed'] / average:.2f}×"  # the lift
        assert BLOCKS & set(text) and "not leaky" in text
        assert saved["trained_at"][:10] in text and "Heaviest weights" in text
        await pilot.press("1", "3")  # away and back: still shown, and its keys are the ones
        await pilot.pause()
        await pilot.press("G")  # they scroll it (taller than the screen)
        await pilot.pause()
        assert section.max_scroll_y > 0 and section.scroll_y == section.max_scroll_y
        await pilot.press("m")
        assert pane.query_one("#scoring-body").display and not section.display

        del saved["validation"]  # an older model file: the section says what it lacks
        saved["uses_after_contact"] = True
        path.write_text(json.dumps(saved))
        await pilot.press("m")  # shown again: read again
        text = section_text(app)
        assert "holds no held-out figures" in text and "LEAKY" in text


def test_a_model_file_with_unreadable_figures_is_said_not_a_crash(trained_template: Path):
    model = load_model(model_path(trained_template))
    assert model is not None
    model.validation["deciles"] = [{"tenth": 1, "contacts": "many", "predicted": "high"}]
    text = model_report(model, "", load_rules(None), 80).plain
    assert "figures cannot be read" in text and "funnel learn" in text
    assert "Rules' points fitted from outcomes" in text  # the fit key still works


# -- fitting the rules' points ---------------------------------------------------------
async def test_f_fits_the_points_into_the_draft_r_reverts_and_ctrl_s_saves(trained):
    app, workspace, target = trained
    expected = fit_rules(workspace.documents, workspace.rules, workspace.now())
    today = {f"{rule.id}.points": rule.points for rule in workspace.rules.fit
             + workspace.rules.engagement}
    today.update({f"{rule.id}.max": rule.maximum for rule in workspace.rules.engagement
                  if rule.activity is not None and rule.maximum is not None})
    changed = {key: value for key, value in proposed_numbers(expected).items()
               if value != today[key]}
    assert changed  # the data's signal moves some points
    said = notifications(app)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_tab(pilot, app)
        await pilot.press("f")
        await wait_until(pilot, lambda: pane.drafts, "the fitted points in the draft")
        assert pane.drafts == changed
        await pilot.press("R")  # a draft like any: reverted, nothing written
        await pilot.pause()
        assert not pane.drafts and pane.draft_rules is None and not target.exists()
        await pilot.press("f")
        await wait_until(pilot, lambda: pane.drafts, "the fitted points in the draft again")
        assert pane.drafts == changed
        await settled(pilot, pane)
        proposed = workspace.preview_rules(expected.rules)
        assert pane.draft_stats is not None
        assert pane.draft_stats["grades"] == proposed["grades"]
        status = str(pane.query_one("#scoring-status", Static).render())
        assert f"{len(changed)} unsaved changes" in status
        assert any(f"{expected.today_auc:.3f} today" in line
                   and f"{expected.proposed_auc:.3f} proposed" in line for line in said)
        await pilot.press("m")
        assert f"today's points {expected.today_auc:.3f}" in section_text(app)
        await pilot.press("m", "ctrl+s")
        await wait_until(pilot, lambda: workspace.rules.source == str(target)
                         and not pane.drafts, "the saved rules")
    saved = load_rules(target)
    for rule in saved.fit + saved.engagement:
        assert rule.points == changed.get(f"{rule.id}.points", today[f"{rule.id}.points"])
        if f"{rule.id}.max" in today:
            assert rule.maximum == changed.get(f"{rule.id}.max", today[f"{rule.id}.max"])


async def test_f_with_too_few_outcomes_says_why_in_one_line_and_drafts_nothing(app: FunnelApp):
    said = notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        pane: ScoringPane = await open_tab(pilot, app)
        await pilot.press("f")
        await wait_until(pilot, lambda: not pane.query_one(ModelSection).fitting,
                         "the fit to end")
        await pilot.pause()
        assert not pane.drafts
        refusal = [line for line in said if "at least 50 of each" in line]
        assert len(refusal) == 1 and "\n" not in refusal[0]


async def test_the_likely_column_sort_and_filter(trained):
    """The table's Likely column shows each row's likelihood (the column the filters
    read), the likely sort orders by it and likely>=N filters on it (issue #14)."""
    app, workspace, _ = trained
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        pane = app.contacts_pane
        table = pane.table
        table.set_columns(["flags", "name", "stage", "score", "likely"])
        pane.query_text = "likely>=50"
        table.sort_key = "likely"
        pane.reselect(keep=-1)
        await settle(pilot, app)
        assert table.ids == workspace.select("likely>=50", "likely")
        shown = [workspace.likelihood_of(contact_id) for contact_id in table.ids]
        assert shown and all(value >= 0.5 for value in shown)
        assert shown == sorted(shown, reverse=True)
        first = table.render_line(1).text
        assert first.rstrip().endswith(f"{shown[0] * 100:.0f}%")
