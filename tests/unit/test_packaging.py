"""The wheel ships the engine, the command line and the rules presets.

The wheel is built from a copy of the source tree (so the build's ``build/`` and
``*.egg-info`` folders never land in the checkout), then unpacked and used by a
fresh interpreter that cannot see the checkout: that is what a plain
``pip install .`` gives a user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The wheel is built once per worker: keep the module's tests on one worker.
# Building the wheel takes seconds of both cores: run with the stress tests (CI runs both).
pytestmark = [pytest.mark.xdist_group("wheel"), pytest.mark.stress]
IGNORED = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                 ".pytest_cache", ".hypothesis", ".venv", "venv", "*.pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = work / "dist"
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                             "-w", str(out), "-q"], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(out.glob("funnel_triage-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def isolated_env(unpacked: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNNEL_")}
    env["PYTHONPATH"] = str(unpacked)
    return env


def test_the_wheel_holds_the_code_and_the_presets(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for required in ("funnel/presets/default.yaml", "funnel/presets/fit-first.yaml",
                         "funnel/presets/x-education.yaml", "funnel/engine/transfer/importer.py",
                         "funnel/engine/rules/classify.py", "funnel/engine/workspace/__init__.py",
                         "funnel/tui/cli/main.py", "funnel/tui/cli/output.py",
                         "funnel/tui/app/app.tcss", "funnel/engine/demo/locales.json",
                         "funnel/engine/demo/firmographics.json",
                         "funnel/engine/demo/sources.json", "funnel/engine/demo/texts.json"):
            assert required in names, required
        # One namespace: nothing installs a top-level engine, tui or funnel_config.
        tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(
            (".dist-info", ".data"))}
        assert tops == {"funnel"}, tops
        entry_points = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        assert len(entry_points) == 1
        text = archive.read(entry_points[0]).decode()
    assert "[console_scripts]" in text
    lines = [line.replace(" ", "") for line in text.splitlines()]
    assert "funnel=funnel.tui.cli.main:main" in lines


def test_the_shipped_presets_are_the_checkout_s(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        for preset in ("default.yaml", "fit-first.yaml"):
            assert archive.read(f"funnel/presets/{preset}") == (ROOT / "config" / preset
                                                              ).read_bytes()


def test_an_installed_copy_finds_its_presets(unpacked: Path, tmp_path: Path) -> None:
    code = ("import json, os, sys; import funnel.engine, funnel.presets, funnel.tui.cli.main; "
            "from funnel.engine.rules.loading import presets_dir, load_rules; "
            "print(json.dumps({'engine': funnel.engine.__file__, "
            "'config': funnel.presets.__file__, "
            "'cli': funnel.tui.cli.main.__file__, 'presets': str(presets_dir()), "
            "'rules': [load_rules(n).name for n in ('fit-first', 'default')], "
            "'path': [os.path.abspath(p) for p in sys.path]}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                            env=isolated_env(unpacked), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    site = unpacked.resolve()
    for key in ("engine", "config", "cli", "presets"):
        assert Path(found[key]).resolve().is_relative_to(site), (key, found[key])
    assert Path(found["presets"]).resolve() == site / "funnel" / "presets"
    assert found["rules"] == ["fit-first", "default"]
    assert str(ROOT) not in found["path"]


def test_an_installed_copy_runs_the_command_line(unpacked: Path, tmp_path: Path) -> None:
    env = isolated_env(unpacked)
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    db = tmp_path / "leads.json"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "funnel.tui.cli", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=60)

    generated = run("generate", "--db", str(db), "--contacts", "30")
    assert generated.returncode == 0, generated.stderr
    stats = run("stats", "--db", str(db), "--rules", "fit-first", "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["rules"] == "fit-first" and data["total"] == 30
    rules = run("rules", "--rules", "default", "--db", str(db), "--json")
    assert rules.returncode == 0, rules.stderr
    assert Path(json.loads(rules.stdout)["source"]).resolve().is_relative_to(unpacked.resolve())
