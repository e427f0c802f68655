"""Running the ``funnel`` command line in-process, for the CLI tests.

``run_cli(cwd, *args)`` calls ``funnel.tui.cli.main.main(args)`` the way the console
script does, from ``cwd``, in an environment without the user's ``FUNNEL_*`` settings
and with ``XDG_DATA_HOME``/``XDG_CONFIG_HOME`` in empty folders under ``cwd`` (so nothing
outside the test's folder is read or written), and returns what a process would
have given: the exit status and everything written to stdout and stderr.

Starting a Python process per command cost about a third of a second each, for
hundreds of commands; a few tests still run real processes (``funnel`` next to
``sys.executable``, ``python -m funnel.tui.cli``) to check what only a process shows:
the console script, the exit status and that no traceback escapes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

CONSOLE_SCRIPT = Path(sys.executable).with_name("funnel")


@dataclass
class Ran:
    """What one run of ``funnel`` gave, like ``subprocess.CompletedProcess``."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a run: no ``FUNNEL_*``, XDG folders empty and under ``home``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
    env["XDG_DATA_HOME"] = str(home / "xdg-data")  # an empty place: no default database
    env["XDG_CONFIG_HOME"] = str(home / "xdg-config")  # no saved rules, no key map
    env["TMPDIR"] = str(home)
    env.pop("PYTHONPATH", None)
    return env


def run_cli(cwd: Path, *args: Any, env: dict[str, str] | None = None) -> Ran:
    """``funnel ARGS`` run in this process from ``cwd`` (environment: ``clean_env(cwd)``)."""
    from funnel.tui.cli.main import main

    argv = [str(arg) for arg in args]
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = StringIO(), StringIO()
    os.environ.clear()
    os.environ.update(clean_env(Path(cwd)) if env is None else env)
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:  # argparse's --help; a process would exit so too
                code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    assert isinstance(code, int), f"main() returned {code!r}, not an exit status"
    return Ran(argv, code, out.getvalue(), err.getvalue())


def run_process(cwd: Path, *args: Any, env: dict[str, str] | None = None,
                script: bool = False, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``funnel ARGS`` as a real process: the console script beside ``sys.executable``
    (``script=True``) or ``python -m funnel.tui.cli``."""
    command = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "funnel.tui.cli"]
    return subprocess.run([*command, *map(str, args)], cwd=cwd,
                          env=clean_env(Path(cwd)) if env is None else env,
                          capture_output=True, text=True, timeout=timeout)
