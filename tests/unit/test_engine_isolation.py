"""The engine never imports a UI library (nor asyncssh): each module imports alone without Textual or Rich.

The modules are imported in a fresh interpreter, so nothing another test imported
(the TUI, pytest plugins) can hide or cause a leak: one interpreter imports them one
after another and names each module after whose import a UI package appeared (a
module already imported by an earlier one cannot hide a leak: the earlier one would
be named). One interpreter per module cost 38 s of the test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import funnel.engine as engine

ENGINE_DIR = Path(engine.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ENGINE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(("funnel.engine",) + parts)


MODULES = sorted(_module_name(path) for path in ENGINE_DIR.rglob("*.py"))
UI_PACKAGES = ("textual", "rich", "asyncssh")
PROBE = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
         "print(any(m.split('.')[0] in {ui!r} for m in sys.modules))").format(ui=UI_PACKAGES)


def imports_ui(module: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, module], cwd=cwd,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_engine_modules_are_discovered() -> None:
    assert {"funnel.engine", "funnel.engine.model", "funnel.engine.rules.classify",
            "funnel.engine.workspace", "funnel.engine.rules.loading",
            "funnel.engine.store.contacts"} <= set(MODULES)


LEAKS = ("import importlib, sys\n"
         "for name in sys.argv[1:]:\n"
         "    importlib.import_module(name)\n"
         "    if any(m.split('.')[0] in {ui!r} for m in sys.modules):\n"
         "        print(name)\n"
         "        break\n").format(ui=UI_PACKAGES)


def first_leak(modules: list[str], cwd: Path) -> str:
    """The first of ``modules`` whose import brought in a UI package ('' if none)."""
    result = subprocess.run([sys.executable, "-c", LEAKS, *modules], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_no_engine_module_imports_a_ui_library(tmp_path: Path) -> None:
    assert first_leak(MODULES, tmp_path) == ""


def test_the_leak_finder_names_the_module_that_leaks(tmp_path: Path) -> None:
    """Guard against a finder that can never name one."""
    pytest.importorskip("rich")
    assert first_leak(["funnel.engine.model", "rich.text", "funnel.engine.errors"],
                      tmp_path) == "rich.text"


def test_the_probe_does_see_a_ui_import(tmp_path: Path) -> None:
    """Guard against a probe that can never say True."""
    pytest.importorskip("rich")
    assert imports_ui("rich.text", tmp_path) == "True"


@pytest.mark.parametrize("module", ["funnel.tui.cli.main", "funnel.tui.cli.output"])
def test_the_headless_command_line_imports_no_ui_library(module: str, tmp_path: Path) -> None:
    assert imports_ui(module, tmp_path) == "False"


def test_a_headless_command_runs_without_a_ui_library(tmp_path: Path) -> None:
    db = tmp_path / "small.json"
    code = ("import sys; from funnel.tui.cli.main import main; "
            "codes = [main(['generate', '--db', sys.argv[1], '--contacts', '20']), "
            "main(['stats', '--db', sys.argv[1], '--json'])]; "
            "print(codes, any(m.split('.')[0] in ('textual', 'rich') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(db)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[0, 0] False"
