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
from funnel.tui.app.user_config import FIRST_LOOK  # noqa: E402
from funnel.tui.panes.contacts.views import since_text  # noqa: E402

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


def generate(db: Path) -> None:
    with Workspace.open(db, None, clock=lambda: NOW, user="generator") as workspace:
        workspace.add_many(generate_contacts(2000, 1, NOW.replace(hour=0)), by="generator")


def morning_app(workspace: Workspace, config: Path) -> FunnelApp:
    return FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(config),
                                         rules_path=str(config / "rules.yaml")))


async def shoot_morning(db: Path, config: Path) -> list[Path]:
    """The morning of issue #15, one picture a step, in one session and the next."""
    taken: list[Path] = []

    async def picture(app: FunnelApp, pilot, name: str) -> None:
        await settle(pilot)
        taken.append(Path(app.save_screenshot(f"{name}.svg", str(HERE))))

    with Workspace.open(db, None, clock=lambda: NOW, user="anna") as workspace:
        new = f"created>={since_text(NOW - FIRST_LOOK)}"
        hot = workspace.select(f"{new} temp:hot", "created")[0]
        duplicate = workspace.add({"name": "F. Zhou",
                                   "email": workspace.get(hot)["email"].upper()}, by="webform")
        turn = ", ".join(name for name, _count in workspace.owners()[:2])
        app = morning_app(workspace, config)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("v", "j", "enter", "g")  # All -> New, from its first row
            await picture(app, pilot, "morning-1-new-view")
            index = workspace.select(new, "created").index(hot)
            await pilot.press(*["j"] * index, "l", "tab", "tab",
                              *"Called: wants a demo on Tuesday")
            await picture(app, pilot, "morning-2-log-call")
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("v", "k", "enter", "slash", *"temp:warm source:trade_show",
                              "enter", "*")
            await picture(app, pilot, "morning-3-marked")
            await pilot.press("o")
            await settle(pilot)
            await pilot.press("ctrl+u", *turn)
            await picture(app, pilot, "morning-4-round-robin")
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("u")  # every one of them back, in one step
            await settle(pilot)
            await pilot.press("ctrl+r")
            await settle(pilot)
            await pilot.press("escape", "g",
                              *["j"] * workspace.select("", "created").index(hot), "D")
            await settle(pilot)
            await pilot.press("enter")  # the duplicate; next: are you sure?
            await picture(app, pilot, "morning-5-merge")
            await pilot.press("enter")
            await settle(pilot)
            assert duplicate not in workspace.ids(), "the merge did not happen"
            await pilot.press("slash", *"temp:hot", "enter", "v")
            await settle(pilot)
            await pilot.press("s", *"Hot first", "enter")
            await settle(pilot)
        again = morning_app(workspace, config)  # the next morning opens into it
        async with again.run_test(size=SIZE) as pilot:
            await picture(again, pilot, "morning-6-saved-view")
    return taken


async def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "screenshots.json"
        generate(db)
        for name, keys in SHOTS.items():
            print(await shoot(db, name, keys, Path(folder)))
        morning_db = Path(folder) / "morning.json"
        generate(morning_db)
        for path in await shoot_morning(morning_db, Path(folder) / "morning-config"):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
