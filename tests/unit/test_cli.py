"""The ``funnel`` command line on real database files.

Every test calls ``main()`` in-process (``cli_support.run_cli``: what the ``funnel``
console script calls), from ``tmp_path``, with the ``FUNNEL_*`` variables removed and
the XDG folders pointed at empty ones, so nothing outside ``tmp_path`` is read or
written; a few smoke tests at the end run real processes (the console script, and
``python -m funnel.tui.cli``). The 2,000-contact database is generated once per module
(all of the module's tests run on one xdist worker) and copied for each test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from funnel.engine.rules.loading import load_rules, presets_dir
from funnel.engine.errors import FieldError
from funnel.engine.workspace.facade import Workspace

from cli_support import Ran, clean_env, run_cli, run_process

CONTACTS = 2000
BANT = ("budget", "authority", "need", "timing")
STATS_GROUPS = ("stages", "temperatures", "grades", "lead_types")
CLASSIFICATION_KEYS = {"stage", "rules_stage", "stage_reason", "manual", "score", "raw_score",
                       "fit", "engagement", "grade", "temperature", "lead_type", "next_action",
                       "rotting", "overdue", "explanation"}
HISTORY_KEYS = {"at", "by", "kind"}


# The module's generated database is built once: keep its tests on one worker.
pytestmark = pytest.mark.xdist_group("cli-2000")


# -- helpers -----------------------------------------------------------------------
cli_env = clean_env


def funnel(cwd: Path, *args: Any, env: dict[str, str] | None = None) -> Ran:
    """``funnel ARGS`` from ``cwd``, in this process."""
    return run_cli(cwd, *args, env=env)


def ok_json(cwd: Path, *args: str) -> Any:
    result = funnel(cwd, *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def assert_user_error(result: Ran | subprocess.CompletedProcess[str], *fragments: str) -> str:
    """Exit 2, exactly one line on stderr starting 'funnel:', no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("funnel: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    return line


def stage_order(stage_id: str, rules: str = "default") -> int:
    return load_rules(rules).by_id[stage_id].order


# -- fixtures ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def master_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    db = folder / "leads.json"
    result = funnel(folder, "generate", "--db", db, "--contacts", CONTACTS, "--seed", 1)
    assert result.returncode == 0, result.stderr
    assert f"wrote {CONTACTS} contacts" in result.stdout
    return db


@pytest.fixture
def db(master_db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "leads.json"
    shutil.copy(master_db, copy)
    return copy


@pytest.fixture(scope="module")
def cold_lead(master_db: Path) -> int:
    """A cold lead with an email, not pinned, whose BANT is not all yes."""
    with Workspace.open(master_db, create=False) as workspace:
        rows = workspace.contacts("stage:lead temp:cold")
        candidates = sorted(
            row.id for row in rows
            if row.contact.get("email") and not row.contact.get("stage_pin")
            and not all(row.contact.get(name) == "yes" for name in BANT)
            and row.classification.stage == "lead"
            and row.classification.temperature == "cold")
    assert candidates, "the generated data should hold cold leads with an email"
    return candidates[0]


# -- generate and stats --------------------------------------------------------------
def test_stats_json_counts_every_contact_once_per_group(db: Path) -> None:
    stats = ok_json(db.parent, "stats", "--db", db, "--json")
    assert stats["total"] == CONTACTS
    assert stats["rules"] == "default"
    for group in STATS_GROUPS:
        assert group in stats, group
        assert sum(stats[group].values()) == CONTACTS, (group, stats[group])
    populated = [stage for stage, count in stats["stages"].items() if count > 0]
    assert len(populated) >= 4, stats["stages"]
    assert isinstance(stats["rotting"], int) and 0 <= stats["rotting"] <= CONTACTS
    assert isinstance(stats["overdue"], int) and 0 <= stats["overdue"] <= CONTACTS


def test_stats_text_names_the_total_and_the_rules(db: Path) -> None:
    result = funnel(db.parent, "stats", "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{CONTACTS} contacts (rules: default)")
    for heading in ("stages", "temperatures", "grades", "lead types"):
        assert f"\n{heading}\n" in result.stdout


def test_read_only_commands_leave_the_database_bytes_alone(db: Path, cold_lead: int) -> None:
    before = db.read_bytes()
    for args in (("stats", "--json"), ("show", cold_lead), ("show", cold_lead, "--json"),
                 ("stats", "--rules", "fit-first")):
        assert funnel(db.parent, *args, "--db", db).returncode == 0, args
    assert db.read_bytes() == before


def test_fit_first_rules_give_other_stage_counts(db: Path) -> None:
    default = ok_json(db.parent, "stats", "--db", db, "--json")
    fit_first = ok_json(db.parent, "stats", "--db", db, "--rules", "fit-first", "--json")
    assert fit_first["rules"] == "fit-first"
    assert fit_first["total"] == CONTACTS
    assert sum(fit_first["stages"].values()) == CONTACTS
    assert fit_first["stages"] != default["stages"]


# -- the acceptance flow: qualify a cold lead ----------------------------------------
def test_set_bant_turns_a_cold_lead_into_a_hot_opportunity(db: Path, cold_lead: int) -> None:
    result = funnel(db.parent, "set", cold_lead, "budget=yes", "authority=yes", "need=yes",
                    "timing=yes", "--by", "reviewer", "--db", db)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    card = ok_json(db.parent, "show", cold_lead, "--db", db, "--json")
    c = card["classification"]
    assert c["temperature"] == "hot"
    assert c["stage"] == "opportunity"
    assert stage_order(c["stage"]) > stage_order("lead")
    assert c["manual"] is False
    assert all(card["fields"][name] == "yes" for name in BANT)

    history = card["history"]
    moves = [h for h in history if h["kind"] == "stage" and h.get("from") == "lead"
             and h.get("to") == "opportunity"]
    assert len(moves) == 1, history
    assert moves[0]["by"].strip() and moves[0]["why"].strip()

    field_entries = [h for h in history if h["kind"] == "field" and h.get("field") in BANT]
    assert {h["field"] for h in field_entries} >= {n for n in BANT}
    assert all(h["by"] == "reviewer" for h in field_entries), field_entries

    points = [item["points"] for item in c["explanation"]]
    assert sum(points) == c["raw_score"]
    assert c["score"] == max(0, min(100, c["raw_score"]))


def test_set_json_reports_what_changed_and_both_classifications(db: Path,
                                                                cold_lead: int) -> None:
    data = ok_json(db.parent, "set", cold_lead, "need=yes", "--by", "reviewer",
                   "--why", "said so on the call", "--db", db, "--json")
    assert data["id"] == cold_lead
    assert data["changed"]["need"]["to"] == "yes"
    assert data["changed"]["need"]["from"] != "yes"
    assert set(data["before"]) >= CLASSIFICATION_KEYS
    assert set(data["after"]) >= CLASSIFICATION_KEYS
    card = ok_json(db.parent, "show", cold_lead, "--db", db, "--json")
    need = [h for h in card["history"] if h.get("field") == "need"]
    assert need[-1]["why"] == "said so on the call" and need[-1]["by"] == "reviewer"


def test_every_explanation_adds_up_in_show(db: Path, cold_lead: int) -> None:
    for rules in ("default", "fit-first"):
        c = ok_json(db.parent, "show", cold_lead, "--db", db, "--rules", rules,
                    "--json")["classification"]
        assert sum(item["points"] for item in c["explanation"]) == c["raw_score"]
        assert c["score"] == max(0, min(100, c["raw_score"]))


# -- bad values ----------------------------------------------------------------------
def test_a_value_outside_the_choices_is_refused_and_nothing_is_written(
        db: Path, cold_lead: int) -> None:
    before = db.read_bytes()
    result = funnel(db.parent, "set", cold_lead, "authority=maybe", "--db", db)
    line = assert_user_error(result, "authority", "maybe")
    for allowed in ("yes", "no", "unknown"):
        assert re.search(rf"\b{allowed}\b", line.split("maybe", 1)[1]), line
    assert db.read_bytes() == before


def test_one_bad_value_among_good_ones_writes_nothing(db: Path, cold_lead: int) -> None:
    before = db.read_bytes()
    result = funnel(db.parent, "set", cold_lead, "need=yes", "budget_amount=lots", "--db", db)
    assert_user_error(result, "budget_amount")
    assert db.read_bytes() == before


@pytest.mark.parametrize("args, fragments", [
    (("set", "{id}", "nosuch=1"), ("nosuch",)),
    (("set", "{id}", "need"), ("need", "FIELD=VALUE")),
    (("set", "{id}", "=yes"), ("FIELD=VALUE",)),
    (("set", "{id}", "follow_up=next tuesday"), ("follow_up",)),
    (("set", "{id}", "email=not-an-address"), ("email",)),
    (("set", "{id}", "stage_pin=nowhere"), ("stage_pin", "nowhere")),
    (("set", "{id}", "name=x\x1b[31mred"), ("name", "control")),
    (("show", "999999"), ("999999",)),
    (("set", "999999", "need=yes"), ("999999",)),
    (("move", "999999", "lead", "--why", "x"), ("999999",)),
    (("move", "{id}", "lead"), ("--why",)),
    (("move", "{id}", "nowhere", "--why", "x"), ("nowhere",)),
    (("disqualify", "{id}"), ("--why",)),
    (("show", "abc"), ("abc",)),
    (("stats", "--rules", "no-such-preset"), ("no-such-preset",)),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else None)
def test_user_errors_exit_2_with_one_line(db: Path, cold_lead: int, args: tuple[str, ...],
                                          fragments: tuple[str, ...]) -> None:
    before = db.read_bytes()
    args = tuple(arg.replace("{id}", str(cold_lead)) for arg in args)
    assert_user_error(funnel(db.parent, *args, "--db", db), *fragments)
    assert db.read_bytes() == before


def test_a_missing_database_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "leads.json"
    assert_user_error(funnel(tmp_path, "stats", "--db", missing), str(missing), "generate")
    assert not missing.exists()
    assert not missing.parent.exists()


def test_the_default_database_is_used_when_no_db_is_given(db: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    env["FUNNEL_DB"] = str(db)
    result = funnel(tmp_path, "stats", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == CONTACTS


@pytest.mark.parametrize("content", ['{"foo": {}}', "not json", "[]", '"text"'],
                         ids=["foreign-tables", "not-json", "json-list", "json-string"])
def test_a_file_that_is_not_a_funnel_database_is_refused(tmp_path: Path,
                                                         content: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    before = path.read_bytes()
    assert_user_error(funnel(tmp_path, "stats", "--db", path), "other.json",
                      "not a Funnel database")
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", ["{}", '{"contacts": []}'], ids=["empty-object",
                                                                     "contacts-list"])
def test_a_read_only_command_never_rewrites_a_foreign_json_file(tmp_path: Path,
                                                                content: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    result = funnel(tmp_path, "stats", "--db", path)
    assert path.read_bytes() == content.encode()
    assert_user_error(result, "other.json")


def test_a_damaged_contact_document_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "damaged.json"
    path.write_text(json.dumps({"meta": {"1": {"app": "funnel", "schema": 1}},
                                "contacts": {"1": {}}}), encoding="utf-8")
    before = path.read_bytes()
    assert_user_error(funnel(tmp_path, "set", "1", "need=yes", "--db", path), "damaged.json")
    assert path.read_bytes() == before


def test_a_bad_rules_file_is_named_with_its_line(db: Path, tmp_path: Path) -> None:
    lines = (presets_dir() / "default.yaml").read_text(encoding="utf-8").splitlines()
    target = next(i for i, text in enumerate(lines)
                  if text.strip() == "when: budget_amount >= 5000")
    lines[target] = lines[target].replace("budget_amount", "budget_amout")
    rules = tmp_path / "my-rules.yaml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = assert_user_error(funnel(tmp_path, "stats", "--db", db, "--rules", rules),
                             "my-rules.yaml", "budget_amout")
    assert f"my-rules.yaml:{target + 1}:" in line
    rules_line = assert_user_error(funnel(tmp_path, "rules", "--rules", rules, "--db", db),
                                   "my-rules.yaml")
    assert f":{target + 1}:" in rules_line


def test_generate_refuses_a_database_that_has_contacts(db: Path) -> None:
    before = db.read_bytes()
    result = funnel(db.parent, "generate", "--db", db, "--contacts", 5)
    assert_user_error(result, str(CONTACTS), "new database")
    assert db.read_bytes() == before


@pytest.mark.parametrize("count", ["0", "-3"])
def test_generate_needs_at_least_one_contact(tmp_path: Path, count: str) -> None:
    target = tmp_path / "new.json"
    assert_user_error(funnel(tmp_path, "generate", "--db", target, f"--contacts={count}"),
                      "--contacts")
    assert not target.exists()


def test_generate_writes_a_new_database_only_its_owner_can_write(tmp_path: Path) -> None:
    target = tmp_path / "small.json"
    result = funnel(tmp_path, "generate", "--db", target, "--contacts", 25, "--seed", 7)
    assert result.returncode == 0, result.stderr
    assert ok_json(tmp_path, "stats", "--db", target, "--json")["total"] == 25
    assert target.stat().st_mode & 0o022 == 0  # neither group nor others may write


# -- show ------------------------------------------------------------------------------
def test_show_json_shape(db: Path, cold_lead: int) -> None:
    card = ok_json(db.parent, "show", cold_lead, "--db", db, "--json")
    assert card["id"] == cold_lead
    assert {"id", "fields", "activities", "classification", "history"} <= set(card)
    assert isinstance(card["fields"], dict) and "email" in card["fields"]
    assert isinstance(card["activities"], list)
    c = card["classification"]
    assert set(c) >= CLASSIFICATION_KEYS
    assert c["stage"] == "lead" and c["temperature"] == "cold"
    assert isinstance(c["score"], int) and 0 <= c["score"] <= 100
    assert c["grade"] in (1, 2, 3, 4)
    assert isinstance(c["explanation"], list)
    for item in c["explanation"]:
        assert {"rule", "points"} <= set(item)
        assert isinstance(item["rule"], str) and item["rule"]
        assert isinstance(item["points"], int)
    assert card["history"], "a generated contact has a creation entry"
    for entry in card["history"]:
        assert HISTORY_KEYS <= set(entry), entry


def test_show_text_prints_markup_literally(db: Path) -> None:
    with Workspace.open(db, create=False) as workspace:
        with pytest.raises(FieldError) as refused:
            workspace.add({"name": "x\x1b[31mred", "email": "x@example.com"})
        assert refused.value.field == "name"
        new_id = workspace.add({"name": "[bold red]ACME[/]", "company": "[link=http://x]Co[/]",
                                "email": "acme@example.com"}, by="tester")
    result = funnel(db.parent, "show", new_id, "--db", db)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"#{new_id}  [bold red]ACME[/]  [link=http://x]Co[/]")
    assert "\x1b" not in result.stdout


def test_show_text_neutralises_escapes_already_in_the_file(db: Path, cold_lead: int) -> None:
    """Even a hand-edited file cannot make `show` send escape sequences to the terminal."""
    data = json.loads(db.read_text(encoding="utf-8"))
    data["tables"]["contacts"][str(cold_lead)]["name"] = "x\x1b[31mred\x07"
    db.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    result = funnel(db.parent, "show", cold_lead, "--db", db)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "x\\x1b[31mred\\x07" in result.stdout


# -- move and disqualify ---------------------------------------------------------------
def test_moving_back_pins_the_stage_and_says_what_the_rules_give(db: Path,
                                                                 cold_lead: int) -> None:
    result = funnel(db.parent, "move", cold_lead, "suspect", "--why", "wrong person",
                    "--by", "anna", "--db", db)
    assert result.returncode == 0, result.stderr
    card = ok_json(db.parent, "show", cold_lead, "--db", db, "--json")
    c = card["classification"]
    assert c["manual"] is True
    assert c["stage"] == "suspect"
    assert c["rules_stage"] == "lead"
    assert "lead" in c["stage_reason"] and "wrong person" in c["stage_reason"]
    assert card["fields"]["stage_pin"] == "suspect"
    assert card["fields"]["pin_reason"] == "wrong person"
    moves = [h for h in card["history"] if h["kind"] == "stage" and h.get("to") == "suspect"]
    assert moves and moves[-1]["by"] == "anna" and moves[-1]["why"] == "wrong person"
    assert moves[-1]["from"] == "lead"


def test_a_pin_survives_a_later_edit_that_would_move_it_forward(db: Path,
                                                                cold_lead: int) -> None:
    assert funnel(db.parent, "move", cold_lead, "suspect", "--why", "wrong person",
                  "--db", db).returncode == 0
    data = ok_json(db.parent, "set", cold_lead, "budget=yes", "authority=yes", "need=yes",
                   "timing=yes", "--db", db, "--json")
    assert data["after"]["stage"] == "suspect"
    assert data["after"]["rules_stage"] == "opportunity"


def test_disqualify_records_the_reason(db: Path, cold_lead: int) -> None:
    result = funnel(db.parent, "disqualify", cold_lead, "--why", "student", "--db", db)
    assert result.returncode == 0, result.stderr
    card = ok_json(db.parent, "show", cold_lead, "--db", db, "--json")
    assert card["classification"]["stage"] == "disqualified"
    assert card["classification"]["manual"] is True
    assert card["fields"]["disqualify_reason"] == "student"
    stats = ok_json(db.parent, "stats", "--db", db, "--json")
    assert stats["stages"]["disqualified"] >= 1


# -- the app entry points and rules ----------------------------------------------------
def test_demo_opens_the_app_on_a_fresh_database_and_cleans_up(tmp_path: Path,
                                                               monkeypatch) -> None:
    # The app itself is driven in tests/functional; here: what --demo hands it.
    from funnel.tui.app import app as app_module
    from funnel.tui.cli import main as cli

    seen = {}

    def run(self):
        seen["contacts"] = len(self.workspace)
        seen["files"] = sorted(path.name for path in tmp_path.glob("funnel-demo-*/*"))
    monkeypatch.setattr(app_module.FunnelApp, "run", run)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert cli.main(["--demo"]) == 0
    assert seen["contacts"] == 2000
    assert "demo.json" in seen["files"], "the demo database goes in TMPDIR"
    assert not list(tmp_path.glob("funnel-demo-*")), "and is removed when the app closes"


def test_rules_prints_the_preset_when_given_a_database(db: Path) -> None:
    data = ok_json(db.parent, "rules", "--rules", "fit-first", "--db", db, "--json")
    assert data["name"] == "fit-first"
    assert {stage["id"] for stage in data["stages"]} >= {"suspect", "lead", "prospect",
                                                          "opportunity"}


def test_rules_needs_no_database(tmp_path: Path) -> None:
    result = funnel(tmp_path, "rules", "--rules", "fit-first")
    assert result.returncode == 0, result.stderr
    assert "fit-first" in result.stdout.splitlines()[0]


# -- real processes: what only a process shows -------------------------------------------
def test_the_console_script_prints_what_main_prints(db: Path) -> None:
    """The installed ``funnel`` script (beside ``sys.executable``) runs the same main()."""
    script = Path(sys.executable).with_name("funnel")
    assert script.is_file(), f"no console script at {script}: pip install -e '.[test]'"
    result = run_process(db.parent, "stats", "--db", db, "--json", script=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    stats = json.loads(result.stdout)  # the --json contract: one JSON document on stdout
    assert stats["total"] == CONTACTS and set(STATS_GROUPS) <= set(stats)
    assert result.stdout == funnel(db.parent, "stats", "--db", db, "--json").stdout


def test_user_errors_in_a_real_process_exit_2_with_one_line(db: Path, cold_lead: int) -> None:
    before = db.read_bytes()
    bad_value = run_process(db.parent, "set", cold_lead, "authority=maybe", "--db", db)
    assert_user_error(bad_value, "authority", "maybe")
    bad_arguments = run_process(db.parent, "move", cold_lead, "lead", "--db", db, script=True)
    assert_user_error(bad_arguments, "--why")
    assert db.read_bytes() == before
