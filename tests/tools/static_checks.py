"""The static checks the tests run (and a person can run by hand).

``python tests/tools/static_checks.py`` runs both and exits non-zero on a problem:

- the type checker (mypy) over the ``funnel`` package as it installs;
- the import contracts in ``pyproject.toml`` (import-linter).

The source folders (``engine/``, ``tui/``, ``config/``) install as ``funnel.engine``,
``funnel.tui`` and ``funnel.presets``; mypy cannot follow the editable install's import
hook, so it checks a temporary tree of symbolic links shaped like the installed package.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = {"engine": "engine", "tui": "tui", "presets": "config"}


def run_mypy() -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="funnel-mypy-") as work:
        package = Path(work) / "funnel"
        package.mkdir()
        for name, folder in LAYOUT.items():
            (package / name).symlink_to(ROOT / folder, target_is_directory=True)
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
             "--cache-dir", str(ROOT / ".mypy_cache"), "-p", "funnel"],
            cwd=work, capture_output=True, text=True, timeout=600)


def run_import_linter() -> subprocess.CompletedProcess[str]:
    linter = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(linter), str(ROOT / "pyproject.toml"),
                           "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)


def main() -> int:
    status = 0
    for check in (run_mypy, run_import_linter):
        result = check()
        print(result.stdout + result.stderr)
        status |= result.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
