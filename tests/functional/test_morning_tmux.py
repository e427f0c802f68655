"""A scripted morning at the desk (issue #15's acceptance), in a real terminal at
120x36 and 80x24, on the demo's database (2,000 contacts, seed 1) and a config folder
of the test's own, driven by key presses only.

The morning: open; the New view; the newest hot lead is on the first screen (where the
engine's own order puts it); log a call on it with a note; mark every warm lead from a
trade show, give them in turn to two owners, undo that in one step, redo it; merge a
duplicate into the hot lead; save a view, quit, and open the app again straight into it.
Each step waits for what the screen shows and checks what the database holds.
"""

from __future__ import annotations

import re
import shlex
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from funnel.engine.workspace.facade import Workspace
from funnel.tui.cli.main import DEMO_CONTACTS, DEMO_SEED, main
from funnel.tui.panes.contacts.views import since_text

from tmux_support import Terminal, needs_tmux, poll

pytestmark = needs_tmux  # about 8 s a size
VIEWS = ["All", "New", "Inbox", "Hot", "Overdue follow-ups", "Rotting", "Mine"]
NOTE = "Called: wants a demo on Tuesday"
VIEW_NAME = "Hot first"


class Desk:
    """The database, the config folder and what the engine says about them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "demo.json"
        self.config = folder / "config"
        assert main(["--db", str(self.db), "generate", "--contacts", str(DEMO_CONTACTS),
                     "--seed", str(DEMO_SEED)]) == 0
        # The person last looked two days ago: New is what arrived since.
        self.since = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)
        (self.config / "funnel").mkdir(parents=True)
        (self.config / "funnel" / "desk.yaml").write_text(
            f"last_looked: '{self.since.isoformat()}'\n", encoding="utf-8")
        with self.open() as workspace:
            new = f"created>={since_text(self.since)}"
            self.hot = workspace.select(f"{new} temp:hot", "created")[0]
            email = workspace.get(self.hot)["email"]
            # A duplicate of the hot lead (the same email, shouted) arrives this morning.
            self.duplicate = workspace.add({"name": "F. Zhou", "email": email.upper()},
                                           by="webform")
            self.new_order = workspace.select(new, "created")
            self.all_order = workspace.select("", "created")
            self.warm_fair = workspace.select("temp:warm source:trade_show", "created")
            assert len(self.warm_fair) >= 3, "the demo data should hold a few to assign"
            self.owners_before = self.owners(workspace)
            self.turn = [name for name, _count in workspace.owners()[:2]]

    def open(self) -> Workspace:
        return Workspace.open(self.db, None, create=False)

    def owners(self, workspace: Workspace) -> dict[int, str | None]:
        return {cid: workspace.get(cid).get("owner") for cid in self.warm_fair}

    def read(self, look):
        with self.open() as workspace:
            return look(workspace)

    def app(self, exit_file: Path, width: int, height: int) -> Terminal:
        app = shlex.join([sys.executable, "-m", "funnel.tui.cli", "--db", str(self.db),
                          "--user", "anna"])
        env = {"TERM": "xterm-256color", "HOME": str(self.folder),
               "XDG_CONFIG_HOME": str(self.config)}
        # The window stays after the app ends (close() ends it): if the app dies, what
        # the test last saw is its traceback, not an empty screen.
        return Terminal(["sh", "-c", f"{app}; echo $? > {shlex.quote(str(exit_file))}; "
                         "sleep 600"], env=env, width=width, height=height)


def shown_label(document: dict) -> str:
    """How the Name column starts for a contact (its email when it has no name)."""
    return (document.get("name") or document.get("email") or "")[:8]


def row_on(screen: str, index: int) -> str:
    """The table's row ``index`` (from 0) as the screen shows it ("" if it has no such row)."""
    lines = screen.splitlines()
    header = next((n for n, line in enumerate(lines) if "Name" in line and "Stage" in line),
                  None)
    at = None if header is None else header + 1 + index
    return lines[at] if at is not None and at < len(lines) - 1 else ""


def pick_view(terminal: Terminal, current: str, wanted: str) -> None:
    """``v``, then down or up from the current view (where the picker starts) to
    ``wanted``. The keys after it go at once: they wait in the app for the view's rows
    (test_keys_after_reload), the test does not wait for them."""
    terminal.keys("v")
    terminal.wait_for("Enter shows")
    steps = VIEWS.index(wanted) - VIEWS.index(current)
    terminal.keys(*(["j"] * steps if steps > 0 else ["k"] * -steps), "Enter")
    terminal.wait_until(lambda screen: re.search(rf"^ {re.escape(wanted)} · ", screen, re.M)
                        and "Enter shows" not in screen, f"the {wanted} view")


def quit_app(terminal: Terminal, exit_file: Path) -> None:
    terminal.keys("q")
    poll(lambda: exit_file.exists() and exit_file.read_text().strip(),
         "the app to exit after q", last=terminal.screen)
    assert exit_file.read_text().strip() == "0"


# 6-10 s per size in a real terminal (16-20 s for both in parallel under load), so it
# is in the stress run. It failed 3 runs in 10 under load: not a lost key but the app
# dying when a view count arrived after the picker was dismissed (see
# test_keys_after_reload); 10 of 10 under load since. Its keys do not wait for the
# screen to settle: they wait in the app (typeahead) for the rows they act on.
@pytest.mark.stress
@pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])
def test_a_morning_at_the_desk(tmp_path: Path, size: tuple[int, int]):
    desk = Desk(tmp_path)
    total = DEMO_CONTACTS + 1
    exit_file = tmp_path / "exit"
    terminal = desk.app(exit_file, *size)
    try:
        terminal.wait_for(f"All · {total:,} of {total:,}")

        # The New view, from its first row: the newest hot lead is on the first screen,
        # on the row the engine's order gives it.
        pick_view(terminal, "All", "New")
        terminal.keys("g")
        index = desk.new_order.index(desk.hot)
        hot = desk.read(lambda w: w.get(desk.hot))
        label = shown_label(hot)
        screen = terminal.wait_until(lambda screen: label in row_on(screen, index),
                                     f"#{desk.hot} on row {index + 1} of the first screen")
        assert f"New · {len(desk.new_order):,} of {total:,} · sort: created" in screen

        # Log a call on it with a note.
        terminal.keys(*["j"] * index, "l")
        terminal.wait_for(f"Log work on #{desk.hot}")
        terminal.keys("Tab", "Tab")  # Kind (Call), Outcome, then the note
        terminal.keys("-l", NOTE)
        terminal.wait_for(NOTE)
        terminal.keys("C-s")
        terminal.wait_for(f"Logged call on #{desk.hot}")
        logged = desk.read(lambda w: w.get(desk.hot)["activities"])
        assert [a for a in logged if a["kind"] == "call"] == [
            {"kind": "call", "at": logged[-1]["at"], "note": NOTE}]

        # Every warm lead from a trade show, marked, given in turn to two owners.
        pick_view(terminal, "New", "All")
        terminal.keys("/")
        terminal.wait_for("(Enter keeps, Esc")
        terminal.keys("-l", "temp:warm source:trade_show")
        terminal.keys("Enter")
        terminal.wait_for(f"All · {len(desk.warm_fair)} of {total:,}")
        terminal.keys("*")
        terminal.wait_for(f"Marked {len(desk.warm_fair)}")
        terminal.keys("o")
        terminal.wait_for(f"for {len(desk.warm_fair)} contacts")
        terminal.wait_until(lambda screen: re.search(rf"{desk.turn[1]}\s+[\d,]+\s", screen),
                            "the people who own contacts, with their counts")
        # The turn built from the list, in one read: the first person, then the second.
        terminal.keys("Down", "Space", "Down", "Space")
        terminal.wait_for(", ".join(desk.turn))
        terminal.keys("Enter")
        terminal.wait_for(f"Assigned in turn to {', '.join(desk.turn)}")
        assigned = poll(lambda: desk.read(lambda w: (lambda o: o if set(o.values())
                                                     == set(desk.turn) else None)(
                                                         desk.owners(w))),
                        "every marked contact to belong to one of the two")
        assert assigned != desk.owners_before

        terminal.keys("u")  # one step: every one of them back
        terminal.wait_for("Undo: assign")
        poll(lambda: desk.read(desk.owners) == desk.owners_before, "the owners to be back",
             last=lambda: str(desk.read(desk.owners)))
        terminal.keys("C-r")
        terminal.wait_for("Redo: assign")
        poll(lambda: desk.read(desk.owners) == assigned, "the assignment to be redone",
             last=lambda: str(desk.read(desk.owners)))

        # Merge this morning's duplicate into the hot lead.
        terminal.keys("Escape")  # the filter goes
        terminal.wait_for(f"All · {total:,} of {total:,}")
        terminal.keys("g", *["j"] * desk.all_order.index(desk.hot), "D")
        terminal.wait_for(f"Merge into #{desk.hot}")
        terminal.wait_for(f"#{desk.duplicate}")
        terminal.keys("Enter")
        terminal.wait_for(f"Merge #{desk.duplicate} into #{desk.hot}?")
        terminal.keys("Enter")
        terminal.wait_for(f"Merged #{desk.duplicate} into #{desk.hot}")
        terminal.wait_for(f"All · {total - 1:,} of {total - 1:,}")
        merged = desk.read(lambda w: (desk.duplicate in w.ids(), w.get(desk.hot)))
        assert not merged[0]
        assert [e["to"]["id"] for e in merged[1]["history"] if e["kind"] == "merged"] \
            == [desk.duplicate]
        assert merged[1]["email"] == hot["email"]  # the kept contact's value wins

        # A view of one's own, saved, then the next morning opens into it.
        terminal.keys("/")
        terminal.wait_for("(Enter keeps, Esc")
        terminal.keys("-l", "temp:hot")
        terminal.keys("Enter")
        terminal.wait_for("filter: temp:hot")
        terminal.keys("v")
        terminal.wait_for("Enter shows")
        terminal.keys("s")
        terminal.wait_for("name of the new view")
        terminal.keys("-l", VIEW_NAME)
        terminal.keys("Enter")
        hot_count = desk.read(lambda w: len(w.select("temp:hot")))
        terminal.wait_for(f"{VIEW_NAME} · {hot_count:,} of {total - 1:,}")
        quit_app(terminal, exit_file)
    finally:
        terminal.close()
    saved = yaml.safe_load((desk.config / "funnel" / "desk.yaml").read_text("utf-8"))
    assert saved["views"][VIEW_NAME]["filter"] == "temp:hot"
    assert saved["last_view"] == f"saved:{VIEW_NAME}"

    exit_file.unlink()
    terminal = desk.app(exit_file, *size)
    try:
        screen = terminal.wait_for(f"{VIEW_NAME} · {hot_count:,} of {total - 1:,}")
        assert "sort: created" in screen
        quit_app(terminal, exit_file)
    finally:
        terminal.close()


def test_new_opens_at_the_newest(tmp_path: Path):
    """Choosing a view starts at its top: New shows the newest arrivals first (it kept
    the cursor on All's first contact, far down in New, before)."""
    desk = Desk(tmp_path)
    exit_file = tmp_path / "exit"
    terminal = desk.app(exit_file, 80, 24)
    try:
        total = DEMO_CONTACTS + 1
        terminal.wait_for(f"All · {total:,} of {total:,}")
        all_first, labels = desk.read(lambda w: (
            shown_label(w.get(w.select("", "attention")[0])),
            [shown_label(w.get(cid)) for cid in desk.new_order]))
        pick_view(terminal, "All", "New")  # no g: the first screen as the picker leaves it
        # Wait for New's rows (All's first row is in New too: not on New's first row).
        screen = terminal.wait_until(
            lambda screen: any(label in row_on(screen, 0) for label in labels)
            and all_first not in row_on(screen, 0), "New's rows")
        assert labels[0] in row_on(screen, 0), screen
    finally:
        terminal.close()


def test_owner_turn_typed_ahead(tmp_path: Path):
    desk = Desk(tmp_path)
    exit_file = tmp_path / "exit"
    terminal = desk.app(exit_file, 120, 36)
    try:
        total = DEMO_CONTACTS + 1
        terminal.wait_for(f"All · {total:,} of {total:,}")
        terminal.keys("Space", "Space")
        terminal.wait_for("2 marked")
        terminal.keys("o")
        terminal.wait_until(lambda screen: re.search(rf"{desk.turn[1]}\s+[\d,]+\s", screen),
                            "the people who own contacts, with their counts")
        terminal.keys("Down", "Space")  # the first person in the list joins the turn
        terminal.wait_until(lambda screen: re.search(rf"▊\s+{desk.turn[0]}\s+▎", screen),
                            f"{desk.turn[0]} alone on the line", timeout=3)
    finally:
        terminal.close()
