"""``funnel log``: record a call, an email sent, a meeting or a note on a contact (and
the entry point of ``funnel duplicates`` and ``funnel merge``: ``cli.duplicates``).

    funnel log ID KIND --db D [--note TEXT] [--outcome O] [--at WHEN]
                              [--follow-up DATE] [--by NAME] [--json]

KIND is an activity kind (``call``, ``email`` = ``email_sent``, ``meeting``, ``note``,
or any other kind the rules know); WHEN is when it happened (default now: ``now``,
``yesterday``, ``2 hours ago``, ``2026-12-01``, ``2026-12-01T14:30``); DATE the next
follow-up (``tomorrow``, ``in 3 days``, ``next Monday``, ``2026-12-24``; ``none``
clears it). Everything is checked before the database is written: a bad kind, date,
outcome or id is one line on stderr and exit status 2. ``--json`` prints the
contact's id, the activity as stored, the fields changed and the classification
before and after (the shape of ``funnel set --json`` plus ``activity``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from funnel.engine.model.date_words import parse_day, parse_moment
from funnel.engine.model.dates import format_datetime
from funnel.engine.model.fields import WORK_OUTCOMES
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.work_log import LoggedWork, activity_kind, outcome_value

from funnel.tui.cli import duplicates
from funnel.tui.cli.output import dumps, edit_json, edit_text, safe

COMMANDS = ("log",) + duplicates.COMMANDS  # every command of issue #15 goes through here
CLEAR_WORDS = ("none", "clear", "-")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    log = commands.add_parser("log", parents=[common],
                              help="record a call, email, meeting or note on a contact")
    log.add_argument("id", type=int)
    log.add_argument("kind", metavar="KIND", help="call, email, meeting, note (or any "
                     "activity kind)")
    log.add_argument("--note", help="what was said or done (newlines allowed)")
    log.add_argument("--outcome", help="one of " + ", ".join(WORK_OUTCOMES))
    log.add_argument("--at", metavar="WHEN", help="when it happened (default: now; e.g. "
                     "yesterday, 2 hours ago, 2026-12-01T14:30)")
    log.add_argument("--follow-up", metavar="DATE", help="the next follow-up (tomorrow, "
                     "in 3 days, next Monday, YYYY-MM-DD; none clears it)")
    log.add_argument("--by", help="who did it (default: $USER)")
    log.add_argument("--json", action="store_true")
    duplicates.add_commands(commands, common)


def run(args: argparse.Namespace, db: Path, rules: Rules) -> int:
    from funnel.engine.workspace.facade import Workspace

    if args.command in duplicates.COMMANDS:
        return duplicates.run(args, db, rules)
    kind = activity_kind(args.kind)
    outcome = outcome_value(args.outcome)
    with Workspace.open(db, rules, create=False, user=args.by) as workspace:
        now = workspace.now()
        at = format_datetime(parse_moment(args.at, now, "--at"))
        follow_up = None
        if args.follow_up is not None:
            follow_up = ("" if args.follow_up.strip().casefold() in CLEAR_WORDS
                         else parse_day(args.follow_up, now.date(), "--follow-up").isoformat())
        workspace.get(args.id)  # a missing contact is refused before anything else
        result = workspace.log_activity(args.id, kind, at, by=args.by, note=args.note,
                                        outcome=outcome, follow_up=follow_up)
        data = logged_json(result)
        print(dumps(data) if args.json else safe(logged_text(data)))
    return 0


def logged_json(result: LoggedWork) -> dict[str, Any]:
    return {**edit_json(result), "activity": result.activity}


def logged_text(data: dict[str, Any]) -> str:
    activity = data["activity"]
    outcome = f" ({activity['outcome'].replace('_', ' ')})" if activity.get("outcome") else ""
    lines = [f"#{data['id']}: logged {activity['kind']}{outcome} at {activity['at']}"]
    if activity.get("note"):
        lines += ["  " + line for line in activity["note"].splitlines()]
    changes = edit_text(data).splitlines()[1:]  # the fields and badges that changed
    return "\n".join(lines + changes)
