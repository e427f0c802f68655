"""``funnel duplicates`` and ``funnel merge``: find likely duplicates, merge two contacts.

    funnel duplicates --db D [--json]
    funnel merge KEEP OTHER --db D [--why TEXT] [--by NAME] [--json]

``duplicates`` lists groups of contacts that share an email, a phone or a similar
name at the same company (``engine.workspace.duplicates`` defines "the same"), with
the reasons; ``--json`` gives ``{"groups": [{"ids": [...], "reasons": [...]}]}``.
``merge`` keeps KEEP, fills its empty fields from OTHER, keeps OTHER's differing
values in KEEP's notes and history, unions tags, activities and histories and
deletes OTHER, in one commit; ``--json`` gives the kept and removed ids, the fields
filled, the values set aside, and the classification before and after.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from funnel.engine.rules.ruleset import Rules

from funnel.tui.cli.output import dumps, safe

COMMANDS = ("duplicates", "merge")


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    duplicates = commands.add_parser("duplicates", parents=[common],
                                     help="list groups of likely duplicate contacts")
    duplicates.add_argument("--json", action="store_true")
    merge = commands.add_parser("merge", parents=[common],
                                help="merge contact OTHER into KEEP (OTHER is deleted)")
    merge.add_argument("keep", type=int, metavar="KEEP")
    merge.add_argument("other", type=int, metavar="OTHER")
    merge.add_argument("--why", help="why, recorded in the history")
    merge.add_argument("--by", help="who merges (default: $USER)")
    merge.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, db: Path, rules: Rules) -> int:
    from funnel.engine.workspace.facade import Workspace

    with Workspace.open(db, rules, create=False, user=getattr(args, "by", None)) as workspace:
        if args.command == "duplicates":
            groups = [group.to_dict() for group in workspace.duplicates()]
            if args.json:
                print(dumps({"groups": groups}))
            else:
                print(safe(_groups_text(workspace, groups)))
            return 0
        result = workspace.merge(args.keep, args.other, args.by, args.why).to_dict()
        print(dumps(result) if args.json else safe(_merged_text(result)))
    return 0


def _groups_text(workspace: Any, groups: list[dict[str, Any]]) -> str:
    if not groups:
        return "no likely duplicates"
    lines = [f"{len(groups)} groups of likely duplicates"]
    for group in groups:
        lines.append("")
        lines.append("  " + "; ".join(group["reasons"]))
        for contact_id in group["ids"]:
            document = workspace.row(contact_id)[0]
            lines.append(f"    #{contact_id:<7} {document.get('name') or '(no name)'}"
                         f"  {document.get('email') or ''}  {document.get('company') or ''}")
    return "\n".join(lines)


def _merged_text(result: dict[str, Any]) -> str:
    lines = [f"merged #{result['removed']} into #{result['kept']} (#{result['removed']} "
             "is deleted)"]
    for name, value in result["filled"].items():
        lines.append(f"  {name}: filled with {value}")
    for name, value in result["set_aside"].items():
        lines.append(f"  {name}: kept #{result['kept']}'s; #{result['removed']}'s {value} "
                     "is in the notes")
    before, after = result["before"], result["after"]
    for key in ("stage", "score", "temperature"):
        if before[key] != after[key]:
            lines.append(f"  {key}: {before[key]} -> {after[key]}")
    return "\n".join(lines)
