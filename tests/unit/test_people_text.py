"""Names and reasons a person types are checked on the way in: printable text of a
bounded length. A name (``by``, the workspace's user, ``--user``, ``FUNNEL_USER``) is
one line of at most 64 characters without control or bidi characters; a reason
(``why``, a disqualify or score-adjust reason) is at most 2,000 characters and may
hold newlines and tabs but no other control or bidi character. Anything else is one
clear error naming the option and the character, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.engine.errors import FunnelError
from funnel.engine.model.people_text import NAME_MAX, REASON_MAX, check_name, check_reason
from funnel.engine.workspace.facade import Workspace

from cli_support import clean_env, run_cli

HOSTILE = {
    "ESC": "ev\x1bil",
    "OSC 52 clipboard": "x\x1b]52;c;cm0gLXJmIH4=\x1b\\",
    "CSI 2J clear": "x\x1b[2J",
    "OSC 8 link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "RLO": "ann\u202eaton",
    "C1 CSI": "ann\x9b31m",
    "DEL": "ann\x7f",
    "NUL": "ann\x00",
    "bell": "ann\x07",
    "lone surrogate": "ann\udcff",
    "isolate": "ann\u2066x\u2069",
}
GOOD_NAMES = ["anna", "Zoë Ødegård", "李雷", "O'Brien-Smith", "[/nope]", "[bold red]x[/]",
              "anna@example.com", "a" * NAME_MAX]


@pytest.mark.parametrize("bad", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_name_with_a_control_bidi_or_invalid_character_is_refused(bad: str) -> None:
    with pytest.raises(FunnelError) as caught:
        check_name(bad, "--by")
    message = str(caught.value)
    assert message.startswith("--by: ") and "use printable text" in message
    assert "\n" not in message
    # The message names the character by its escape, never by the character itself.
    assert not any(char in message for char in bad if not char.isprintable())


def test_the_error_names_the_character_and_where_it_is() -> None:
    with pytest.raises(FunnelError, match=r"^--by: contains a control character "
                                          r"\(\\x1b at character 3\); use printable text"):
        check_name("ev\x1bil", "--by")
    with pytest.raises(FunnelError, match=r"a bidi control \(\\u202e at character 4\)"):
        check_name("ann\u202eaton", "--by")


@pytest.mark.parametrize("bad", ["", "   ", "a\nb", "a\tb", "a\u2028b", "a" * (NAME_MAX + 1)],
                         ids=["empty", "blank", "newline", "tab", "line separator", "too long"])
def test_a_name_is_one_line_of_at_most_64_characters(bad: str) -> None:
    with pytest.raises(FunnelError, match=r"^by: "):
        check_name(bad, "by")


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_printable_names_in_any_script_are_accepted_as_given(name: str) -> None:
    assert check_name(name, "by") == name


@pytest.mark.parametrize("bad", [v for k, v in HOSTILE.items()], ids=HOSTILE.keys())
def test_a_reason_with_a_control_bidi_or_invalid_character_is_refused(bad: str) -> None:
    with pytest.raises(FunnelError, match=r"^--why: .*use printable text"):
        check_reason(bad, "--why")


def test_a_reason_may_span_lines_but_is_bounded() -> None:
    assert check_reason("called twice\n\tno answer; Zoë said 李雷 left", "why") \
        == "called twice\n\tno answer; Zoë said 李雷 left"
    assert check_reason("x" * REASON_MAX, "why") == "x" * REASON_MAX
    assert check_reason(None, "why") is None
    with pytest.raises(FunnelError, match=rf"^why: is {REASON_MAX + 1:,} characters long; "
                                          rf"at most {REASON_MAX:,}"):
        check_reason("x" * (REASON_MAX + 1), "why")


# -- where names and reasons enter: the workspace -----------------------------------
@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "funnel.json"
    with Workspace.open(path, None, user="setup") as workspace:
        workspace.add({"name": "Ada", "email": "ada@example.com", "title": "Analyst"})
    return path


def history_length(db: Path) -> int:
    with Workspace.open(db, None, create=False, user="reader") as workspace:
        return len(workspace.get(1)["history"])


def test_the_workspace_refuses_a_hostile_user_when_opened(db: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FunnelError, match="^user: contains a control character"):
        Workspace.open(db, None, user="x\x1b[2J")
    monkeypatch.setenv("FUNNEL_USER", "x\u202e")
    with pytest.raises(FunnelError, match="^FUNNEL_USER: contains a bidi control"):
        Workspace.open(db, None)


@pytest.mark.parametrize("command", ["edit", "move", "disqualify", "adjust", "unpin", "log",
                                     "add", "undo"])
def test_every_command_refuses_a_hostile_by_and_writes_nothing(db: Path, command: str) -> None:
    before = history_length(db)
    with Workspace.open(db, None, user="anna") as workspace:
        calls = {
            "edit": lambda by: workspace.edit(1, {"title": "CTO"}, by=by),
            "move": lambda by: workspace.move(1, "lost", "gone quiet", by=by),
            "disqualify": lambda by: workspace.disqualify(1, "student", by=by),
            "adjust": lambda by: workspace.adjust_score(1, 5, "met at a fair", by=by),
            "unpin": lambda by: workspace.unpin(1, by=by),
            "log": lambda by: workspace.log_activity(1, "call", by=by),
            "add": lambda by: workspace.add({"name": "Bo"}, by=by),
            "undo": lambda by: workspace.undo(by=by),
        }
        if command == "undo":
            workspace.edit(1, {"title": "CTO"})
            before += 1
        with pytest.raises(FunnelError, match="^by: contains a control character"):
            calls[command]("ev\x1b]52;c;eA==\x1b\\il")
        assert len(workspace) == 1
    assert history_length(db) == before


@pytest.mark.parametrize("command", ["edit", "move", "disqualify", "adjust", "unpin"])
def test_every_command_refuses_a_hostile_reason_and_writes_nothing(db: Path,
                                                                   command: str) -> None:
    before = history_length(db)
    bad = "gone\x1b[2J\u202e"
    with Workspace.open(db, None, user="anna") as workspace:
        calls = {
            "edit": lambda: workspace.edit(1, {"title": "CTO"}, why=bad),
            "move": lambda: workspace.move(1, "lost", bad),
            "disqualify": lambda: workspace.disqualify(1, bad),
            "adjust": lambda: workspace.adjust_score(1, 5, bad),
            "unpin": lambda: workspace.unpin(1, why=bad),
        }
        with pytest.raises(FunnelError, match="contains a control character"):
            calls[command]()
    assert history_length(db) == before


# -- the command line: one line on stderr, exit 2, nothing written ------------------
@pytest.mark.parametrize("option, value, said", [
    ("--by", "ev\x1b]52;c;eA==\x1b\\il", "--by: contains a control character (\\x1b at"),
    ("--by", "a" * 65, "--by: is 65 characters long; at most 64"),
    ("--why", "x\x1b[2J", "--why: contains a control character (\\x1b at character 2)"),
    ("--why", "x\u202e", "--why: contains a bidi control (\\u202e at character 2)"),
    ("--why", "x" * 2001, "--why: is 2,001 characters long; at most 2,000"),
], ids=["by-osc52", "by-too-long", "why-csi", "why-rlo", "why-too-long"])
def test_the_cli_refuses_hostile_by_and_why(db: Path, tmp_path: Path, option: str,
                                            value: str, said: str) -> None:
    before = history_length(db)
    for args in (["set", 1, "title=CTO"], ["move", 1, "lost", "--why", "gone quiet"],
                 ["disqualify", 1, "--why", "student"]):
        ran = run_cli(tmp_path, *args, option, value, "--db", db)
        assert ran.returncode == 2, (args, ran.stderr)
        assert said in ran.stderr and ran.stderr.count("\n") == 1, ran.stderr
        assert "\x1b" not in ran.stderr and "\u202e" not in ran.stderr
        assert "Traceback" not in ran.stderr and ran.stdout == ""
    assert history_length(db) == before


def test_the_cli_refuses_a_hostile_funnel_user_and_user(db: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    env = clean_env(tmp_path) | {"FUNNEL_USER": "x\x1b[2J"}
    ran = run_cli(tmp_path, "set", 1, "title=CTO", "--db", db, env=env)
    assert ran.returncode == 2 and "FUNNEL_USER: contains a control character" in ran.stderr
    assert "\x1b" not in ran.stderr
    # --user names who opens the app: refused before the app starts.
    from funnel.tui.app.app import FunnelApp

    started = []
    monkeypatch.setattr(FunnelApp, "run", lambda self, *a, **k: started.append(self))
    ran = run_cli(tmp_path, "--user", "x\x9b2J", "--db", db)
    assert ran.returncode == 2 and "--user: contains a control character (\\x9b" in ran.stderr
    assert not started and "\x9b" not in ran.stderr
