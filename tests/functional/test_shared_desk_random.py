"""A randomized shared desk: command-line writers in their own processes and an app
driven by Pilot edit the same few fields of the same few contacts at once. Every
write carries what its author saw; each author logs what it was told (saved, or
refused with the value that refused it).

Afterwards the contacts' histories are held against the logs. Every value is unique,
so each history entry names the attempt that wrote it:
- every attempt told "saved" is in the history, and every one told "refused" is not;
- every entry replaced the value its author had been shown (the one they started
  from, or the one a refusal showed them before they chose to overwrite it).
A silent overwrite is an entry whose ``from`` its author never saw.

The default run is short (a few seconds); ``-m stress`` runs it for 60 s times
``FUNNEL_STRESS_SCALE``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.dialogs.conflict import ConflictDialog
from funnel.tui.panes.contacts.card import ContactScreen, FieldList

from conftest import fixed_clock
from pilot_support import move_to, settle, wait_until

SCALE = float(os.environ.get("FUNNEL_STRESS_SCALE", "").strip() or 1)
FIELDS = ("title", "owner", "notes")
CLI_WRITERS = 2

# One command-line writer: show, think a moment, set with --expect; log what it was told.
WRITER = textwrap.dedent("""
    import contextlib, io, json, random, sys, time
    from funnel.tui.cli.main import main
    db, name, log, ids, fields, until = sys.argv[1:7]
    ids = [int(i) for i in ids.split(",")]
    fields = fields.split(",")
    rng = random.Random(name)
    def run(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        return code, out.getvalue(), err.getvalue()
    with open(log, "a") as written:
        count = 0
        while time.time() < float(until):
            cid, field = rng.choice(ids), rng.choice(fields)
            code, out, err = run("show", cid, "--db", db, "--json")
            assert code == 0, err
            seen = json.loads(out)["fields"].get(field)
            time.sleep(rng.random() * 0.05)
            count += 1
            value = f"{name}-{count}"
            shown = "" if seen is None else seen
            code, out, err = run("set", cid, f"{field}={value}", "--expect", f"{field}={shown}",
                                 "--by", name, "--db", db, "--json")
            assert code in (0, 3), (code, err)
            entry = {"by": name, "id": cid, "field": field, "value": value, "seen": seen,
                     "told": "saved" if code == 0 else "refused"}
            written.write(json.dumps(entry) + "\\n")
            written.flush()
""")


def empty(value):
    return None if value in ("", None, [], {}) else value


async def app_writer(app: FunnelApp, pilot, ids: list[int], until: float,
                     rng: random.Random) -> list[dict]:
    """The person in the app: open a card, edit a field, think, save; on a refusal,
    keep theirs or overwrite with mine."""
    log: list[dict] = []
    count = 0
    while time.time() < until:
        cid, field = rng.choice(ids), rng.choice(FIELDS)
        await move_to(pilot, app, cid)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ContactScreen), "the card")
        fields = app.screen.query_one(FieldList)
        fields.highlighted = fields.get_option_index(field)
        await pilot.pause()
        await pilot.press("enter")
        card = app.screen
        assert card.editing == field
        seen = card.seen[field]
        await pilot.pause(rng.random() * 0.4)  # thinking; the others write meanwhile
        count += 1
        value = f"app-{count}"
        await pilot.press("ctrl+u", *value, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog)
                         or card.editing is None, "saved or refused")
        entry = {"by": "tester", "id": cid, "field": field, "value": value, "seen": seen}
        while isinstance(app.screen, ConflictDialog):
            shown = app.screen.conflict.clashes[0].theirs  # what the refusal showed
            if rng.random() < 0.5:
                entry["told"] = "refused"
                await pilot.press("t")
                break
            entry["seen"] = shown  # overwriting knowingly: based on what was shown
            await pilot.press("m")
            await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog)
                             or card.editing is None, "overwritten or refused again")
        else:
            entry["told"] = "saved"
        log.append(entry)
        await wait_until(pilot, lambda: app.screen is card and card.editing is None,
                         "the edit closed")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ContactScreen), "the list")
    return log


def check_no_silent_overwrite(db_path: Path, log: list[dict], ids: list[int]) -> None:
    by_value = {entry["value"]: entry for entry in log}
    with Workspace.open(db_path, None, create=False) as workspace:
        histories = {cid: workspace.get(cid)["history"] for cid in ids}
    written = set()
    for cid, history in histories.items():
        for step in history:
            if step.get("kind") != "field" or step.get("field") not in FIELDS:
                continue
            attempt = by_value.get(step.get("to"))
            if attempt is None:
                continue  # the generator's own values
            written.add(attempt["value"])
            assert attempt["told"] == "saved", f"written but its author was told refused: {step}"
            assert empty(step["from"]) == empty(attempt["seen"]), (
                f"silent overwrite: {attempt['by']} replaced {step['from']!r} on contact {cid} "
                f"but had been shown {attempt['seen']!r}")
    told_saved = {entry["value"] for entry in log if entry["told"] == "saved"}
    assert told_saved == written, f"saved but missing: {sorted(told_saved - written)[:5]}"


@pytest.mark.parametrize("seconds", [
    pytest.param(3, id="short"),
    pytest.param(60 * SCALE, id="long", marks=pytest.mark.stress),
])
async def test_no_silent_overwrites_on_a_shared_desk(workspace, db_path, tmp_path, seconds):
    app = FunnelApp(workspace, Settings(poll_seconds=0.5,
                                        rules_path=str(tmp_path / "config" / "rules.yaml")))
    logs = [tmp_path / f"cli{n}.jsonl" for n in range(CLI_WRITERS)]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        ids = app.contacts_pane.table.ids[:4]  # a few contacts: plenty of overlap
        until = time.time() + seconds
        env = {key: value for key, value in os.environ.items() if not key.startswith("FUNNEL_")}
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), f"cli{n}",
                                     str(logs[n]), ",".join(map(str, ids)), ",".join(FIELDS),
                                     str(until)], env=env, stderr=subprocess.PIPE, text=True)
                   for n in range(CLI_WRITERS)]
        try:
            log = await app_writer(app, pilot, ids, until, random.Random(seconds))
        finally:
            outcomes = [(writer.wait(timeout=120), writer.stderr.read()) for writer in writers]
    for code, errors in outcomes:
        assert code == 0, errors
    for path in logs:
        log += [json.loads(line) for line in path.read_text().splitlines()]
    told = [entry["told"] for entry in log]
    assert told.count("saved") > 3 and len({entry["by"] for entry in log}) == CLI_WRITERS + 1
    check_no_silent_overwrite(db_path, log, ids)
    for author in sorted({entry["by"] for entry in log}):
        mine = [entry["told"] for entry in log if entry["by"] == author]
        print(f"{author}: {len(mine)} attempts, {mine.count('saved')} saved, "
              f"{mine.count('refused')} refused")
