"""The ``funnel`` command: opens the app, or runs a headless subcommand.

Exit status: 0 on success, 2 on a user error (one line on stderr, no traceback), 3
when an edit is refused because the contact changed since (``--expect``); ``check``
exits 1 when it found damage (see ``check``).
Headless subcommands never import Textual, so they start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn, Sequence

from funnel.engine.errors import Conflict, FunnelError
from funnel.engine.model import parse_value, utc_now

from funnel.tui.cli import learn as cli_learn, output as cli_output, worklog
from funnel.tui.serve.options import add_serve_command, serve_settings

DEMO_CONTACTS = 2000
DEMO_SEED = 1


def default_db() -> Path:
    if os.environ.get("FUNNEL_DB"):
        return Path(os.environ["FUNNEL_DB"])
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "funnel" / "funnel.json"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, like every user error
        command = self.prog.partition(" ")[2]  # "move" of "funnel move"
        raise FunnelError(f"{command + ': ' if command else ''}{message} (see --help)")


def _common_options(default: object) -> "_Parser":
    """``--db``, ``--rules`` and ``--config``, taken before the command or after it."""
    common = _Parser(add_help=False)
    common.add_argument("--db", type=Path, default=default, help="database file (default: "
                        "$FUNNEL_DB or $XDG_DATA_HOME/funnel/funnel.json)")
    common.add_argument("--rules", default=default,
                        help="rules: a preset (default, fit-first) or a YAML file")
    common.add_argument("--config", type=Path, metavar="DIR", default=default,
                        help="a directory holding your rules.yaml")
    return common


def build_parser() -> argparse.ArgumentParser:
    # The subcommands' copies default to "not given" (SUPPRESS), so an option given
    # before the command (`funnel --rules fit-first stats`) is not reset by the
    # subcommand's own default; given in both places, the one after the command wins.
    common = _common_options(argparse.SUPPRESS)

    parser = _Parser(prog="funnel", parents=[_common_options(None)],
                     description="Triage inbound leads: stages, scores and temperature.")
    parser.add_argument("--demo", action="store_true", help="open on a fresh demo database")
    parser.add_argument("--user", help="who you are: 'by' in history, 'me' in filters "
                        "(default: $FUNNEL_USER or $USER)")
    # How `funnel serve` starts a session: its files only in DIR (by name), or none.
    parser.add_argument("--files-folder", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--no-files", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    generate = commands.add_parser("generate", parents=[common],
                                   help="write N realistic synthetic contacts")
    generate.add_argument("--contacts", type=int, required=True, metavar="N")
    generate.add_argument("--seed", type=int, default=1)

    stats = commands.add_parser("stats", parents=[common],
                                help="counts by stage, temperature, grade, lead type")
    stats.add_argument("--json", action="store_true")

    show = commands.add_parser("show", parents=[common],
                               help="one contact with its classification and history")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")

    set_ = commands.add_parser("set", parents=[common], help="edit fields through the engine")
    set_.add_argument("id", type=int)
    set_.add_argument("assignments", nargs="+", metavar="FIELD=VALUE")
    set_.add_argument("--by", help="who makes the change (default: $USER)")
    set_.add_argument("--why", help="why, recorded in the history")
    set_.add_argument("--expect", action="append", default=[], metavar="FIELD=VALUE",
                     help="refuse (exit 3) unless FIELD still holds VALUE; repeatable")
    set_.add_argument("--json", action="store_true")

    move = commands.add_parser("move", parents=[common],
                               help="move a contact to a stage by hand (a reason is required)")
    move.add_argument("id", type=int)
    move.add_argument("stage")
    move.add_argument("--why", required=True)
    move.add_argument("--by")
    move.add_argument("--expect", action="append", default=[], metavar="FIELD=VALUE",
                     help="refuse (exit 3) unless FIELD still holds VALUE; repeatable")
    move.add_argument("--json", action="store_true")

    disqualify = commands.add_parser("disqualify", parents=[common],
                                     help="disqualify a contact with a reason")
    disqualify.add_argument("id", type=int)
    disqualify.add_argument("--why", required=True)
    disqualify.add_argument("--by")
    disqualify.add_argument("--expect", action="append", default=[], metavar="FIELD=VALUE",
                     help="refuse (exit 3) unless FIELD still holds VALUE; repeatable")
    disqualify.add_argument("--json", action="store_true")

    check = commands.add_parser("check", parents=[common],
                                help="verify the database files and repair what can be repaired")
    check.add_argument("--no-repair", action="store_true", help="only report")
    check.add_argument("--json", action="store_true")

    import_ = commands.add_parser("import", parents=[common],
                                  help="import contacts from a CSV or JSON file (all or nothing)")
    import_.add_argument("file", type=Path, metavar="FILE")
    import_.add_argument("--map", metavar="MAP", help="a mapping file, or a preset "
                         "(x-education); default: a best guess from the header")
    import_.add_argument("--dry-run", action="store_true",
                         help="show the mapping, the first rows and the counts; write nothing")
    import_.add_argument("--skip-bad", action="store_true",
                         help="import the good rows even if some rows have errors")
    import_.add_argument("--source", help="the source of contacts the file does not give one "
                         "(e.g. trade_show)")
    import_.add_argument("--by", help="who the history records (default: import:FILE)")
    import_.add_argument("--strict", action="store_true",
                         help="import nothing (exit 2) if someone changes a field the file "
                         "sets while it imports (default: keep their value, list it)")
    import_.add_argument("--json", action="store_true")

    export = commands.add_parser("export", parents=[common],
                                 help="export contacts (a filter selects) as CSV or JSON")
    export.add_argument("filter", nargs="*", metavar="FILTER",
                        help="the Contacts tab's filter, e.g. temp:hot source:trade_show "
                        "(put -- before words starting with -)")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--stage", help="only contacts in this stage")
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write to FILE (default: standard output); an existing file "
                        "is replaced only with --force")
    export.add_argument("--force", action="store_true",
                        help="replace FILE if it exists (never a database or a dotfile)")
    export.add_argument("--bom", action="store_true",
                        help="start the CSV with a byte-order mark (for Excel)")

    rules = commands.add_parser("rules", parents=[common],
                                help="check and print the active rules")
    rules.add_argument("--json", action="store_true")

    add_serve_command(commands, common)  # its options: funnel.tui.serve.options
    worklog.add_commands(commands, common)  # funnel log, duplicates, merge (issue #15)
    cli_learn.add_command(commands, common)  # funnel learn (issue #14)
    return parser


def rules_spec(args: argparse.Namespace) -> str | None:
    if args.rules:
        return args.rules
    if args.config is not None:
        candidate = args.config / "rules.yaml"
        if not candidate.is_file():
            raise FunnelError(f"{args.config}: no rules.yaml in this config directory")
        return str(candidate)
    if os.environ.get("FUNNEL_RULES"):
        return os.environ["FUNNEL_RULES"]
    saved = user_rules_path(args)
    return str(saved) if saved.is_file() else None


def config_dir(args: argparse.Namespace) -> Path:
    if args.config is not None:
        return args.config
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "funnel"


def user_rules_path(args: argparse.Namespace) -> Path:
    """Where the Scoring tab saves rules (the shipped presets are never written)."""
    if args.rules and Path(args.rules).suffix in (".yaml", ".yml"):
        return Path(args.rules)
    return config_dir(args) / "rules.yaml"


def load_keymap(args: argparse.Namespace) -> dict[str, str]:
    """Optional ``keys.yaml`` in the config directory: binding id -> keys, checked."""
    from funnel.tui.app.keymap_scopes import read_keymap  # loads the app's classes

    return read_keymap(config_dir(args) / "keys.yaml")


def parse_assignments(assignments: Sequence[str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals or not name:
            raise FunnelError(f"{assignment!r}: write FIELD=VALUE, e.g. need=yes")
        changes[name.strip()] = parse_value(name.strip(), text)
    return changes


def parse_expectations(assignments: Sequence[str]) -> dict[str, Any] | None:
    """``--expect FIELD=VALUE``: values of fields, or of what the rules derive
    (stage, score, temperature…), that must still hold for the edit to be written."""
    from funnel.engine.workspace.expectations import DERIVED

    if not assignments:
        return None
    expect: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        name = name.strip()
        if not equals or not name:
            raise FunnelError(f"--expect {assignment!r}: write FIELD=VALUE, e.g. owner=anna")
        if name in DERIVED:  # stage, score…: as the rules derive them
            text = text.strip()
            expect[name] = int(text) if text.lstrip("-").isdigit() else (text or None)
        else:
            expect[name] = parse_value(name, text)
    return expect


def check_people_text(args: argparse.Namespace) -> None:
    """``--by``, ``--user`` and ``--why``, checked before anything is opened: printable
    text of a bounded length (the engine checks them too; here the error names the option)."""
    from funnel.engine.model.people_text import check_name, check_reason

    for option in ("by", "user"):
        if getattr(args, option, None) is not None:
            check_name(getattr(args, option), f"--{option}")
    check_reason(getattr(args, "why", None), "--why")


def main(argv: Sequence[str] | None = None) -> int:
    args = None
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except Conflict as error:  # refused, not bad input: the script may re-read and retry
        print(f"funnel: {cli_output.safe_line(error)}", file=sys.stderr)
        if getattr(args, "json", False):
            print(cli_output.dumps(cli_output.conflict_json(error)))
        return 3
    except FunnelError as error:  # the one place errors are printed: shown, never run
        print(f"funnel: {cli_output.safe_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _run(args: argparse.Namespace) -> int:
    from funnel.engine.rules.loading import load_rules
    from funnel.engine.workspace.facade import Workspace

    check_people_text(args)
    rules = load_rules(rules_spec(args))
    if args.command is None:
        return _open_app(args, rules)
    db = args.db or default_db()
    if args.command == "generate":
        return _generate(db, rules, args.contacts, args.seed)
    if args.command == "rules":  # needs no database
        _emit(cli_output.rules_json(rules), args.json, cli_output.rules_text)
        return 0
    if args.command in ("import", "export"):
        from funnel.tui.cli import transfer as cli_transfer

        return cli_transfer.run(args, db, rules)
    if args.command == "check":
        from funnel.tui.cli.check import run_check

        return run_check(db, repair=not args.no_repair, as_json=args.json)
    if args.command == "serve":
        return _serve(args, db, rules)
    if args.command in worklog.COMMANDS:
        return worklog.run(args, db, rules)
    if args.command == "learn":
        return cli_learn.run(args, db, rules, user_rules_path(args))
    with Workspace.open(db, rules, create=False, user=getattr(args, "by", None),
                        early_columns=args.command == "stats") as workspace:
        for warning in workspace.warnings:
            print(f"funnel: warning: {cli_output.safe_line(warning)}", file=sys.stderr)
        if args.command == "stats":
            _emit(cli_learn.stats_json(workspace, args.json), args.json, cli_output.stats_text)
        elif args.command == "show":
            _emit(cli_learn.show_json(workspace, args.id), args.json, cli_output.card_text)
        elif args.command == "set":
            result = workspace.edit(args.id, parse_assignments(args.assignments), args.by,
                                    args.why, expect=parse_expectations(args.expect))
            _emit(cli_output.edit_json(result), args.json, cli_output.edit_text)
        elif args.command == "move":
            result = workspace.move(args.id, args.stage, args.why, args.by,
                                    expect=parse_expectations(args.expect))
            _emit(cli_output.edit_json(result), args.json, cli_output.edit_text)
        elif args.command == "disqualify":
            result = workspace.disqualify(args.id, args.why, args.by,
                                          expect=parse_expectations(args.expect))
            _emit(cli_output.edit_json(result), args.json, cli_output.edit_text)
    return 0


def _serve(args: argparse.Namespace, db: Path, rules) -> int:
    from funnel.engine.workspace.facade import Workspace

    try:
        from funnel.tui.serve.server import ServeConfig, run
    except ImportError as error:
        raise FunnelError(f"serve: {error.name or 'asyncssh'} is not installed; "
                          "pip install asyncssh") from None
    from funnel.tui.serve.hostkey import default_host_key_path

    db = db.resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    with Workspace.open(db, rules, user="serve") as workspace:  # fail now, not per session
        contacts = len(workspace)
        for warning in workspace.warnings:
            print(f"funnel: warning: {cli_output.safe_line(warning)}", file=sys.stderr)
    app_args = []
    spec = rules_spec(args)
    if spec:
        app_args.append(f"--rules={Path(spec).resolve() if Path(spec).is_file() else spec}")
    if args.config is not None:
        app_args.append(f"--config={args.config.resolve()}")
    return run(ServeConfig(
        db=db, app_args=app_args, contacts=contacts, **serve_settings(args),
        authorized_keys=args.authorized_keys or config_dir(args) / "authorized_keys",
        host_key=args.host_key or default_host_key_path()))


def _emit(data: Any, as_json: bool, as_text) -> None:
    if as_json:
        print(cli_output.dumps(data))
    else:
        print(cli_output.safe(as_text(data)))


def _generate(db: Path, rules, count: int, seed: int, quiet: bool = False) -> int:
    from funnel.engine.demo.generate import generate_contacts
    from funnel.engine.workspace.facade import Workspace

    if count < 1:
        raise FunnelError("generate: --contacts must be 1 or more")
    with Workspace.open(db, rules, user="generator") as workspace:
        if len(workspace):
            raise FunnelError(f"{db}: already holds {len(workspace)} contacts; generate into "
                              "a new database file")
        now = utc_now().replace(hour=0, minute=0, second=0)
        workspace.add_many(generate_contacts(count, seed, now), by="generator")
        if not quiet:
            print(f"wrote {count} contacts to {db}")
    return 0


def _open_app(args: argparse.Namespace, rules) -> int:
    import shutil

    from funnel.tui.cli.demo import demo_rules, demo_settings
    from funnel.tui.cli.transfer import app_files

    files = app_files(args)  # refused before anything is created
    demo_folder = None
    if args.demo:
        demo_folder = Path(tempfile.mkdtemp(prefix="funnel-demo-"))
        db = demo_folder / "demo.json"
        rules = demo_rules(args, rules)
        _generate(db, rules, DEMO_CONTACTS, DEMO_SEED, quiet=True)
    else:
        db = args.db or default_db()
        db.parent.mkdir(parents=True, exist_ok=True)
    from funnel.engine.workspace.facade import Workspace

    from funnel.tui.app.app import FunnelApp, Settings

    settings = Settings(title=f"Funnel · {db.name}", rules_path=str(user_rules_path(args)),
                        keymap=load_keymap(args) or None, config_dir=str(config_dir(args)),
                        **files)
    settings = demo_settings(settings, demo_folder)  # a demo's config is its own
    try:
        with Workspace.open(db, rules, user=args.user, early_columns=True) as workspace:
            FunnelApp(workspace, settings).run()
    finally:
        if demo_folder is not None:
            shutil.rmtree(demo_folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
