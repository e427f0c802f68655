"""Render screenshots/*.svg from the real app on a generated database.

    python screenshots/render.py

Each picture is taken after real key presses through Textual's Pilot, on a fixed
day, so re-running it only changes the pictures when the app's look changes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from funnel.engine.demo.generate import generate_contacts  # noqa: E402
from funnel.engine.workspace.facade import Workspace  # noqa: E402
from funnel.tui.app.app import FunnelApp, Settings  # noqa: E402

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
SIZE = (120, 36)

# name -> the keys that lead there from the Contacts tab
SHOTS = {
    "contacts": ("j", "j", "space", "j", "space", "j"),
    "contacts-filtered": ("slash", *"temp:hot score>40", "enter"),
    "card-mid-edit": ("enter", *["j"] * 13, "enter", "ctrl+u", *"yes"),
    "funnel": ("2",),
    "scoring": ("3", "j", "j"),
    "help": ("question_mark",),
    "conflict": ("enter", "j", "j", "j", "j", "enter", "BOB:title=Head of Sales",
                 "ctrl+u", *"Chief Revenue Officer", "enter"),  # last: it writes
}


async def settle(pilot) -> None:
    app = pilot.app
    for _ in range(500):
        await pilot.pause(0.02)
        if app.contacts_pane.ready and not any(w.is_running for w in app.workers):
            break
    await pilot.pause(0.2)


async def colleague_edits(db: Path, app: FunnelApp, assignment: str) -> None:
    field, _, value = assignment.partition("=")
    with Workspace.open(db, None, clock=lambda: NOW, user="bob") as bob:
        bob.edit(app.screen.contact_id, {field: value})  # type: ignore[attr-defined]
    app._poll()


async def shoot(db: Path, name: str, keys: tuple[str, ...], folder: Path) -> Path:
    with Workspace.open(db, None, clock=lambda: NOW, user="anna") as workspace:
        app = FunnelApp(workspace, Settings(poll_seconds=0,
                                            rules_path=str(folder / "rules.yaml")))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for key in keys:
                if key.startswith("BOB:"):  # a colleague's commit, heard by the next poll
                    await colleague_edits(db, app, key[4:])
                    continue
                await pilot.press(key)
            await settle(pilot)
            path = app.save_screenshot(f"{name}.svg", str(HERE))
    return Path(path)


async def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "screenshots.json"
        with Workspace.open(db, None, clock=lambda: NOW, user="generator") as workspace:
            workspace.add_many(generate_contacts(2000, 1, NOW.replace(hour=0)),
                               by="generator")
        for name, keys in SHOTS.items():
            print(await shoot(db, name, keys, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
