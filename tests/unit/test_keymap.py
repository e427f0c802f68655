"""keys.yaml: an unknown id or a key taken twice is refused, with file, line and ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.engine.errors import FunnelError

from cli_support import run_cli


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The app is not really run: a key map that is accepted shows as an app opened."""
    from funnel.tui.app.app import FunnelApp

    opened: list[object] = []
    monkeypatch.setattr(FunnelApp, "run", lambda app, *a, **k: opened.append(app))
    return opened


def funnel_with_keys(tmp_path: Path, keys: str):
    """``funnel --db DB`` with ``keys`` as the user's keys.yaml (in XDG_CONFIG_HOME)."""
    config = tmp_path / "xdg-config" / "funnel"
    config.mkdir(parents=True)
    (config / "keys.yaml").write_text(keys, encoding="utf-8")
    return run_cli(tmp_path, "--db", tmp_path / "db.json")


def test_an_unknown_id_names_the_file_the_line_and_the_ids_meant(tmp_path: Path) -> None:
    result = funnel_with_keys(tmp_path, "contacts.disqualify: x\ncontacts.disqualfy: d\n")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "keys.yaml:2:" in line and "'contacts.disqualfy'" in line
    assert "contacts.disqualify" in line  # the id it was meant to be
    assert not (tmp_path / "db.json").exists()  # refused before anything was opened


def test_a_good_key_map_opens_the_app_with_it(tmp_path: Path, no_terminal) -> None:
    result = funnel_with_keys(tmp_path, "contacts.disqualify: ctrl+k\napp.quit: ctrl+q\n")
    assert result.returncode == 0, result.stderr
    assert no_terminal[0].settings.keymap == {"contacts.disqualify": "ctrl+k",
                                              "app.quit": "ctrl+q"}


def test_a_key_taken_from_quit_names_both_bindings(tmp_path: Path) -> None:
    result = funnel_with_keys(tmp_path, "# mine\ncontacts.tag: q\n")
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "keys.yaml:2:" in line
    assert "contacts.tag" in line and "app.quit" in line and "'q'" in line


def test_two_remapped_bindings_on_one_key_clash_in_the_card(tmp_path: Path) -> None:
    result = funnel_with_keys(tmp_path, "card.adjust: y\ncard.edit: enter,y\n")
    assert result.returncode == 2
    assert "card.adjust" in result.stderr and "card.edit" in result.stderr


def test_a_key_of_the_same_tab_is_named_with_what_it_does() -> None:
    from funnel.tui.app.keymap_scopes import check_user_keymap

    with pytest.raises(FunnelError, match=r"contacts.export \(Export view…\).*'x'"):
        check_user_keymap({"contacts.disqualify": "x"}, "keys.yaml")


@pytest.mark.parametrize("keymap", [
    {"contacts.tag": "ctrl+t", "card.tag": "ctrl+t"},  # never active at once
    {"app.quit": "ctrl+q", "contacts.tag": "q"},  # quit moved away first: q is free
    {"contacts.disqualify": "ctrl+k", "card.disqualify": "ctrl+k"},
])
def test_keys_that_do_not_clash_are_taken(keymap: dict[str, str]) -> None:
    from funnel.tui.app.keymap_scopes import check_user_keymap

    check_user_keymap(keymap, "keys.yaml")  # no error
