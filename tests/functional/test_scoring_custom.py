"""The Scoring tab with rules that read custom fields (``custom.NAME``): the rules load,
the rule is listed with its condition as written, its points are tuned with real key
presses, and the preview counts the contacts as the per-contact classifier does."""

from __future__ import annotations

from pathlib import Path

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import presets_dir
from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings

from conftest import NOW, fixed_clock
from test_scoring_tab import open_tab, preview_text, row_index, row_text, settled, type_number

RULE = """\
    - id: relevant
      label: Relevant by the sales team
      when: 'custom."Lead Quality" in ["High in Relevance", "Might be"] and custom.Score >= 10'
      points: 5
"""


def _rules_file(tmp_path: Path) -> Path:
    text = (presets_dir() / "default.yaml").read_text(encoding="utf-8")
    head, marker, rest = text.partition("\n  fit:\n")
    path = tmp_path / "custom-rules.yaml"
    path.write_text(head + marker + RULE + rest, encoding="utf-8")
    return path


async def test_rules_reading_custom_fields_are_listed_tuned_and_previewed(tmp_path: Path):
    qualities = ("High in Relevance", "Might be", "Worst", None)
    contacts = []
    for number, fields in enumerate(generate_contacts(120, 3, NOW.replace(hour=0))):
        quality = qualities[number % 4]
        fields["custom"] = {"Score": str(number % 20)} | (
            {"Lead Quality": quality} if quality else {})
        contacts.append(fields)
    rules_file = _rules_file(tmp_path)
    with Workspace.open(tmp_path / "db.json", str(rules_file), clock=fixed_clock,
                        user="tester") as workspace:
        workspace.add_many(contacts, by="tester")
        app = FunnelApp(workspace, Settings(poll_seconds=0, rules_path=str(rules_file)))
        async with app.run_test(size=(120, 36)) as pilot:
            pane = await open_tab(pilot, app)
            line = row_text(pane.rows[row_index(pane, "fit.relevant.points")])
            assert 'custom."Lead Quality" in ["High in Relevance"' in line.replace("\n", " ")
            assert "+5" in line
            await type_number(pilot, pane, "fit.relevant.points", "60")
            await settled(pilot, pane)
            assert pane.drafts == {"fit.relevant.points": 60}
            draft = pane.draft_rules
            # The preview is what classifying each contact under the draft gives.
            grades = {str(grade): 0 for grade in (1, 2, 3, 4)}
            hits = 0
            for contact_id in workspace.ids():
                result = classify(workspace.get(contact_id), draft, NOW)
                grades[str(result.grade)] += 1
                hits += any(item.rule == "fit.relevant" for item in result.explanation or ())
            assert pane.draft_stats["grades"] == grades
            # Half of them are High or Might be, and two in five of those score 12-19.
            assert hits == 24
            assert pane.draft_stats["grades"] != pane.current_stats["grades"]
            assert "grade 4" in preview_text(app)
