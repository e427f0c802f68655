"""``funnel check --db PATH [--no-repair] [--json]``: what it prints and its exit status.

Exit status: 0 when nothing acknowledged is damaged (an interrupted write that was
never acknowledged may have been cut: a notice), 1 when damage was found (and
repaired, unless ``--no-repair``), 2 when the files cannot be repaired. ``--json``
prints ``CheckReport.to_dict()``: ``status`` (healthy, repaired, damaged,
unrepairable), ``kinds`` (the kinds of damage found), ``damage`` (each with its
kind, place, detail, contacts and lost commits), ``quarantined`` (contact ids),
``quarantine`` (the file, if written), ``lost_commits`` and ``fatal``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from funnel.tui.cli.output import dumps, safe, safe_line


def run_check(db: Path, *, repair: bool, as_json: bool) -> int:
    from funnel.engine.store.check import check_database

    report = check_database(db, repair=repair)
    # The report quotes what it found in damaged files: shown, never run.
    if as_json:
        print(dumps(report.to_dict()))
    else:
        print(safe("\n".join(report.lines())))
    if report.fatal:
        print(f"funnel: {safe_line(db)}: {safe_line(report.fatal)}", file=sys.stderr)
    return report.exit_status
