"""Editing a rules file's numbers in place (engine/rules_edit.py): the text keeps every
comment and its layout, bad values are refused naming the rule, saving is atomic and
never touches the shipped presets."""

from __future__ import annotations

import difflib
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.rules.classify import classify
from funnel.engine.rules.loading import load_rules, parse_rules, presets_dir
from funnel.engine.errors import ConfigError, FunnelError
from funnel.engine.model import format_datetime, new_contact
from funnel.engine.rules.editing import (GRADES, HALF_LIFE, EditError, RulesConflict, RulesText,
                               file_fingerprint, format_number, is_preset, parse_number,
                               save_rules)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
PRESETS = ("default", "fit-first")


def preset_text(name: str) -> str:
    return (ROOT / "config" / f"{name}.yaml").read_text(encoding="utf-8")


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(old line, new line) for each line that differs; fails if lines were added or cut."""
    old, new = before.splitlines(), after.splitlines()
    assert len(old) == len(new), "".join(difflib.unified_diff(old, new, lineterm="\n"))
    return [(a, b) for a, b in zip(old, new) if a != b]


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")
            or " #" in line]


def rule(rules, rule_id):
    return next(r for r in rules.fit + rules.engagement if r.id == rule_id)


def shape(items) -> list[dict]:
    """Rules as comparable data (compiled conditions compare by identity)."""
    return [{name: (value.text if hasattr(value, "text") else value)
             for name, value in vars(item).items()} for item in items]


def ago(days: float) -> str:
    return format_datetime(NOW - timedelta(days=days))


# -- locating the numbers -------------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_every_editable_number_is_found_with_its_line(preset):
    rules = load_rules(preset)
    text = RulesText.of(rules)
    assert not text.stale
    lines = text.text.splitlines()
    for score_rule in rules.fit + rules.engagement:
        slot = text.slots[f"{score_rule.id}.points"]
        assert slot.value == score_rule.points and not slot.locked
        assert lines[slot.line - 1].strip().startswith("points:")
        assert text.text[slot.start:slot.end] == format_number(score_rule.points)
        if score_rule.activity:
            cap = text.slots[f"{score_rule.id}.max"]
            assert cap.value == score_rule.maximum
            assert lines[cap.line - 1].strip() == f"max: {format_number(cap.value)}"
        else:
            assert f"{score_rule.id}.max" not in text.slots
    for grade, lowest in rules.grades:
        slot = text.slots[f"grades.{grade}"]
        assert slot.value == lowest and lines[slot.line - 1].strip().startswith(f"{grade}:")
    assert text.slots[HALF_LIFE].value == rules.half_life_days


# -- editing keeps everything else ---------------------------------------------------

@pytest.mark.parametrize("preset", PRESETS)
def test_edits_change_only_the_numbers_and_keep_every_comment(preset):
    base = load_rules(preset)
    text = RulesText.of(base)
    fit_rule, engagement_rule = base.fit[0], next(r for r in base.engagement if r.activity)
    edits = {f"{fit_rule.id}.points": fit_rule.points + 7,
             f"{engagement_rule.id}.points": 2.5,
             f"{engagement_rule.id}.max": engagement_rule.maximum + 4,
             "grades.4": 80, "grades.2": 15, HALF_LIFE: 30}
    new_text, rules = text.draft(edits)
    assert comments(new_text) == comments(text.text)
    changes = changed_lines(text.text, new_text)
    assert len(changes) == len(edits)
    for old, new in changes:  # same key, same indentation, only the value differs
        assert old.split(":")[0] == new.split(":")[0]
    assert rule(rules, fit_rule.id).points == fit_rule.points + 7
    assert rule(rules, engagement_rule.id).points == 2.5
    assert rule(rules, engagement_rule.id).maximum == engagement_rule.maximum + 4
    assert dict(rules.grades) == {4: 80, 3: dict(base.grades)[3], 2: 15}
    assert rules.half_life_days == 30
    # Everything not edited is the same as before.
    assert [r.id for r in rules.fit + rules.engagement] == [r.id for r in base.fit
                                                            + base.engagement]
    assert shape(rules.stages + rules.exits) == shape(base.stages + base.exits)
    assert shape(rules.temperatures) == shape(base.temperatures)
    assert shape(rules.lead_types) == shape(base.lead_types)
    assert shape(rules.fit[1:]) == shape(base.fit[1:])


def test_edits_round_trip_through_a_new_rules_text():
    text = RulesText(preset_text("default"), "mine.yaml")
    once = text.apply({"fit.need.points": 22})
    again = RulesText(once, "mine.yaml")
    assert again.slots["fit.need.points"].value == 22
    assert again.apply({"fit.need.points": 15}) == text.text
    assert text.apply({}) == text.text
    assert text.apply({"fit.need.points": 15}) == text.text  # unchanged value: same bytes


def test_a_comment_on_the_same_line_stays():
    source = preset_text("default").replace("      points: 15\n",
                                            "      points: 15   # need is what matters\n", 1)
    text = RulesText(source, "mine.yaml")
    new = text.apply({"fit.need.points": 30})
    assert "      points: 30   # need is what matters\n" in new
    assert changed_lines(source, new) == [("      points: 15   # need is what matters",
                                           "      points: 30   # need is what matters")]


def test_flow_style_and_crlf_files_are_edited_in_place():
    source = preset_text("default").replace(
        "    - id: need\n      label: \"BANT: has a need we solve\"\n"
        "      when: need == yes\n      points: 15\n",
        "    - {id: need, label: \"BANT: has a need we solve\", when: need == yes, "
        "points: 15}  # flow\n")
    assert source != preset_text("default")
    new = RulesText(source, "mine.yaml").apply({"fit.need.points": 9})
    assert "when: need == yes, points: 9}  # flow\n" in new
    crlf = preset_text("default").replace("\n", "\r\n")
    new_text, rules = RulesText(crlf, "mine.yaml").draft({"grades.3": 50,
                                                          "engagement.webinar.max": None})
    assert "\n" not in new_text.replace("\r\n", "")
    assert dict(rules.grades)[3] == 50 and rule(rules, "engagement.webinar").maximum is None


def test_a_missing_cap_is_added_on_its_own_line_and_can_be_removed_again():
    source = preset_text("default").replace("      points: 8\n      max: 16\n",
                                            "      points: 8\n", 1)
    text = RulesText(source, "mine.yaml")
    slot = text.slots["engagement.webinar.max"]
    assert slot.value is None and not slot.locked
    new_text, rules = text.draft({"engagement.webinar.max": 24})
    assert "      points: 8\n      max: 24\n" in new_text
    assert rule(rules, "engagement.webinar").maximum == 24
    assert len(new_text.splitlines()) == len(source.splitlines()) + 1
    removed, rules = RulesText(new_text, "mine.yaml").draft({"engagement.webinar.max": None})
    assert removed == source and rule(rules, "engagement.webinar").maximum is None


def test_anchors_and_tags_in_front_of_a_number_are_kept():
    source = preset_text("default").replace("  half_life_days: 45\n",
                                            "  half_life_days: !!int 45\n", 1)
    new = RulesText(source, "mine.yaml").apply({HALF_LIFE: 60})
    assert "  half_life_days: !!int 60\n" in new


def test_aliased_or_quoted_numbers_are_not_edited_behind_the_persons_back():
    source = preset_text("default").replace("      points: 15\n", "      points: &p 15\n", 1)
    source = source.replace("      points: 10\n    - id: no_need", "      points: *p\n"
                            "    - id: no_need", 1)
    assert rule(parse_rules(source, "mine.yaml"), "fit.timing").points == 15
    text = RulesText(source, "mine.yaml")
    assert "alias" in text.slots["fit.need.points"].locked
    assert "alias" in text.slots["fit.timing.points"].locked
    with pytest.raises(EditError, match="fit rule 'need': points cannot be edited here"):
        text.apply({"fit.need.points": 20})
    quoted = RulesText(preset_text("default").replace("  half_life_days: 45\n",
                                                      "  half_life_days: '45'\n"), "mine.yaml")
    assert "not written as a plain number" in quoted.slots[HALF_LIFE].locked


# -- refusing bad values -------------------------------------------------------------

@pytest.mark.parametrize("key, value, message", [
    ("fit.need.points", 2.5, "fit rule 'need': points must be a whole number"),
    ("fit.need.points", 150, "fit rule 'need': points must be between -100 and 100"),
    ("engagement.gone_quiet.points", 1.5,
     "engagement rule 'gone_quiet': points must be a whole number"),
    ("engagement.webinar.points", 1.125, "engagement rule 'webinar': points takes at most 2"),
    ("engagement.webinar.max", -4, "engagement rule 'webinar': max must have the sign of points"),
    ("fit.need.points", None, "fit rule 'need': points needs a number"),
    ("grades.3", 80, "grades: grade 3 must be below grade 4's 70"),
    ("grades.3", 20, "grades: grade 3 must be above grade 2's 20"),
    ("grades.2", 101, "grades: grade 2 must be between 0 and 100"),
    ("engagement.webinar.points", -1, "engagement rule 'webinar': points must have the sign "
                                      "of its max (16)"),
    (HALF_LIFE, 0, "scoring: half_life_days must be more than 0"),
    (HALF_LIFE, float("nan"), "scoring: half_life_days must be a number"),
    ("fit.no_such_rule.points", 5, "fit.no_such_rule.points: there is no such number"),
])
def test_invalid_values_are_refused_naming_the_rule_and_line(key, value, message):
    text = RulesText(preset_text("default"), "mine.yaml")
    with pytest.raises(EditError) as caught:
        text.draft({key: value})
    error = caught.value
    assert message in str(error)
    assert str(error).startswith("mine.yaml:") or key not in text.slots
    if key in text.slots:
        assert error.key == key
        assert error.line in (text.slots[key].line, text.slots["grades.4"].line)
        assert f"mine.yaml:{error.line}: " in str(error)


def test_a_rejected_draft_names_the_edit_that_broke_it_among_several():
    text = RulesText(preset_text("default"), "mine.yaml")
    with pytest.raises(EditError) as caught:
        text.draft({"fit.need.points": 30, "grades.3": 75, HALF_LIFE: 20})
    assert caught.value.key == "grades.3"
    # Numbers that depend on each other are checked together: raising grade 4 first
    # makes room for grade 3.
    _, rules = text.draft({"grades.4": 90, "grades.3": 75})
    assert dict(rules.grades) == {4: 90, 3: 75, 2: 20}


def test_a_file_already_broken_elsewhere_blames_no_edit():
    broken = preset_text("default").replace("  2: 20\n", "  2: 50\n")
    with pytest.raises(ConfigError):
        parse_rules(broken, "mine.yaml")
    text = RulesText(broken, "mine.yaml")
    with pytest.raises(EditError, match="grade 3 needs a higher score than grade 2") as caught:
        text.draft({"fit.need.points": 20})
    assert caught.value.key is None and caught.value.line == text.slots["grades.3"].line
    _, rules = text.draft({"grades.2": 30})  # the edit that mends it goes through
    assert dict(rules.grades)[2] == 30


@pytest.mark.parametrize("typed, value", [("20", 20), (" -5 ", -5), ("2.5", 2.5), (".5", 0.5),
                                          ("+3", 3), ("7.", 7)])
def test_parse_number_accepts_plain_numbers(typed, value):
    assert parse_number(typed) == value


@pytest.mark.parametrize("typed", ["", "abc", "1e3", "nan", "inf", "0x10", "1,5", "1.234",
                                   "5 5", "--5"])
def test_parse_number_refuses_anything_else(typed):
    with pytest.raises(ValueError):
        parse_number(typed)


@settings(max_examples=60, deadline=None)
@given(points=st.integers(-100, 100), grade4=st.integers(71, 100), half=st.integers(1, 3650),
       per=st.decimals(min_value="0.01", max_value="100", places=2))
def test_any_valid_value_round_trips(points, grade4, half, per):
    text = RulesText(preset_text("default"), "mine.yaml")
    edits = {"fit.budget.points": points, "grades.4": grade4, HALF_LIFE: half,
             "engagement.downloads.points": float(per)}
    new_text, rules = text.draft(edits)
    again = RulesText(new_text, "mine.yaml")
    for key, value in edits.items():
        assert again.slots[key].value == value
    assert rule(rules, "fit.budget").points == points
    assert yaml.safe_load(new_text)["scoring"]["half_life_days"] == half
    assert comments(new_text) == comments(text.text)


# -- saving --------------------------------------------------------------------------

def test_save_is_atomic_private_and_leaves_no_temp_files(tmp_path):
    preset = presets_dir() / "default.yaml"
    shipped = preset.read_bytes()
    text = RulesText.of(load_rules("default"))
    new_text, _ = text.draft({"fit.need.points": 40})
    target = tmp_path / "config" / "funnel" / "rules.yaml"
    saved = save_rules(new_text, target, expect=None)
    assert target.read_text(encoding="utf-8") == new_text
    assert sorted(os.listdir(target.parent)) == ["rules.yaml"]
    assert stat.S_IMODE(target.stat().st_mode) & 0o037 == 0  # no write for group, none for others
    assert saved.source == str(target) and saved.fingerprint == file_fingerprint(target)
    assert preset.read_bytes() == shipped  # the shipped preset is untouched
    # Saving again over it keeps its (private) mode.
    os.chmod(target, 0o600)
    again, _ = RulesText(new_text, str(target)).draft({"fit.need.points": 41})
    save_rules(again, target, expect=saved.fingerprint)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(target.parent)) == ["rules.yaml"]


def test_saved_rules_load_and_classify_differently_as_expected(tmp_path):
    base = load_rules("default")
    text = RulesText.of(base)
    new_text, _ = text.draft({"fit.need.points": 40, "grades.4": 60})
    target = tmp_path / "rules.yaml"
    save_rules(new_text, target)
    loaded = load_rules(str(target))
    assert rule(loaded, "fit.need").points == 40 and dict(loaded.grades)[4] == 60
    contact = new_contact({"email": "a@b.co", "need": "yes", "budget": "yes",
                           "authority": "yes", "title": "CEO", "created_at": ago(5)}, NOW)
    before, after = classify(contact, base, NOW), classify(contact, loaded, NOW)
    assert after.fit == before.fit + 25
    assert before.score == 55 and before.grade == 3
    assert after.score == 80 and after.grade == 4
    nobody = new_contact({"email": "c@d.co", "created_at": ago(5)}, NOW)
    assert classify(nobody, loaded, NOW).score == classify(nobody, base, NOW).score


def test_shipped_presets_are_never_written(tmp_path):
    for name in PRESETS:
        preset = presets_dir() / f"{name}.yaml"
        shipped = preset.read_bytes()
        assert is_preset(preset) and is_preset(ROOT / "config" / f"{name}.yaml")
        with pytest.raises(FunnelError, match="shipped presets are never overwritten"):
            save_rules(preset_text(name), preset)
        assert preset.read_bytes() == shipped
    assert not is_preset(tmp_path / "rules.yaml")
    assert sorted(p.name for p in presets_dir().iterdir() if p.name.startswith(".")) == []


def test_a_symlinked_rules_file_stays_a_link(tmp_path):
    real = tmp_path / "dotfiles" / "rules.yaml"
    real.parent.mkdir()
    real.write_text(preset_text("default"))
    link = tmp_path / "config" / "rules.yaml"
    link.parent.mkdir()
    link.symlink_to(real)
    mine = RulesText(preset_text("default"), str(link)).apply({"fit.need.points": 30})
    save_rules(mine, link, expect=file_fingerprint(link))
    assert link.is_symlink() and real.read_text() == mine
    assert os.listdir(link.parent) == ["rules.yaml"] and os.listdir(real.parent) == \
        ["rules.yaml"]


def test_invalid_text_is_never_saved(tmp_path):
    target = tmp_path / "rules.yaml"
    target.write_text(preset_text("default"))
    broken = preset_text("default").replace("  4: 70\n", "  4: 10\n")
    with pytest.raises(ConfigError, match="grade 4 needs a higher score"):
        save_rules(broken, target)
    assert target.read_text() == preset_text("default")
    assert os.listdir(tmp_path) == ["rules.yaml"]


def test_a_file_changed_since_the_draft_started_is_not_overwritten(tmp_path):
    target = tmp_path / "rules.yaml"
    target.write_text(preset_text("default"))
    started = file_fingerprint(target)
    someone_else = preset_text("default").replace("  2: 20\n", "  2: 25\n")
    target.write_text(someone_else)
    mine = RulesText(preset_text("default"), str(target)).apply({"fit.need.points": 30})
    with pytest.raises(RulesConflict, match="changed since you started editing"):
        save_rules(mine, target, expect=started)
    assert target.read_text() == someone_else
    with pytest.raises(RulesConflict):  # it was expected not to exist yet
        save_rules(mine, target, expect=None)
    assert os.listdir(tmp_path) == ["rules.yaml"]


def test_a_file_changed_on_disk_since_loading_is_reported_as_stale(tmp_path):
    target = tmp_path / "rules.yaml"
    target.write_text(preset_text("default"))
    rules = load_rules(str(target))
    assert not RulesText.of(rules).stale
    target.write_text(preset_text("default").replace("  2: 20\n", "  2: 25\n"))
    assert RulesText.of(rules).stale


def test_unreadable_source_is_a_clear_error():
    rules = parse_rules(preset_text("default"), "<rules>")
    with pytest.raises(ConfigError, match="cannot read the rules file to edit it"):
        RulesText.of(rules)


def test_all_keys_are_addressable():
    text = RulesText(preset_text("default"), "mine.yaml")
    assert set(GRADES) | {HALF_LIFE} <= set(text.slots)


def test_the_preview_of_a_draft_is_what_saving_it_gives(tmp_path):
    """Workspace.preview_rules on the draft (with progress, as the Scoring tab runs it)
    counts what the workspace shows once the saved file is its rules."""
    from funnel.engine.demo.generate import generate_contacts
    from funnel.engine.workspace.facade import Workspace

    with Workspace.open(tmp_path / "d.json", None, clock=lambda: NOW, user="t") as workspace:
        workspace.add_many(generate_contacts(4500, 3, NOW.replace(hour=0)))
        before = workspace.stats()
        text = RulesText.of(workspace.rules)
        new_text, draft = text.draft({"fit.need.points": 40, "grades.4": 60})
        heard = []
        preview = workspace.preview_rules(draft, lambda done, total: heard.append((done,
                                                                                     total)))
        assert heard and heard[-1] == (4500, 4500)  # over columns: one step, then done
        assert preview["grades"] != before["grades"]
        assert preview["grades"]["4"] > before["grades"]["4"]
        assert workspace.stats() == before  # previewing switched nothing
        workspace.set_rules(save_rules(new_text, tmp_path / "cfg" / "rules.yaml"))
        assert workspace.stats() == preview
