"""The Duplicates view (issue #15): every contact with a likely duplicate at once, in
the view picker with its count, each next to its duplicate; ``D`` merges from it and
the view's count drops. The pair is imported with the real command line."""

from __future__ import annotations

from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from funnel.engine.workspace.facade import Workspace
from funnel.tui.app.app import FunnelApp, Settings
from funnel.tui.cli.main import main
from funnel.tui.dialogs.prompts import ChoiceDialog
from funnel.tui.dialogs.views import ViewsDialog

from conftest import fixed_clock
from pilot_support import idle, settle, wait_until

PAIR = ("name,email,phone,company,source\n"
        "Dana Pike,dana@northwind.example,+47 912 34 567,Northwind Ltd,web_form\n"
        '"Pike, Dana",d.pike@northwind.example,0047 91234567,NORTHWIND,trade_show\n')


def picker_line(app: FunnelApp, label: str) -> str:
    assert isinstance(app.screen, ViewsDialog)
    choices = app.screen.query_one("#views")
    lines = [str(choices.get_option_at_index(index).prompt)
             for index in range(choices.option_count)]
    return next(line for line in lines if line.startswith(label))


async def test_the_duplicates_view_shows_both_and_a_merge_takes_them_out(db_path: Path,
                                                                        tmp_path: Path):
    csv = tmp_path / "pair.csv"
    csv.write_text(PAIR, encoding="utf-8")
    with redirect_stdout(StringIO()):
        assert main(["import", str(csv), "--db", str(db_path)]) == 0
    with Workspace.open(db_path, None, clock=fixed_clock, user="tester") as workspace:
        pair = workspace.select("northwind.example", "name")
        # The template database has no duplicates: the pair is the only group.
        assert [group.ids for group in workspace.duplicates()] == [sorted(pair)]
        app = FunnelApp(workspace, Settings(poll_seconds=0, config_dir=str(tmp_path / "cfg"),
                                            rules_path=str(tmp_path / "cfg" / "rules.yaml")))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot, app)
            await pilot.press("v")
            await wait_until(pilot, lambda: "…" not in picker_line(app, "Duplicates"),
                             "the Duplicates view to be counted")
            assert "       2  duplicate" in picker_line(app, "Duplicates")
            await pilot.press("end", "enter")  # the last built-in view
            await settle(pilot, app)
            pane = app.contacts_pane
            assert pane.view == "duplicates"
            assert list(pane.table.ids) == sorted(pair)  # next to each other
            status = str(app.query_one("#contacts-status").render())
            assert status.startswith(f"Duplicates · 2 of {len(workspace):,}")
            assert "sort: duplicates" in status
            screen = "\n".join(pane.table.render_line(y).text for y in range(1, 3))
            assert "Dana Pike" in screen and "Pike, Dana" in screen

            await pilot.press("D")
            await wait_until(pilot, lambda: isinstance(app.screen, ChoiceDialog),
                             "the duplicate to be offered")
            offered = str(app.screen.query_one("#choices").get_option_at_index(0).prompt)
            assert offered.startswith(f"#{max(pair)}")
            await pilot.press("enter")
            await idle(pilot)
            await pilot.press("enter")  # merge
            await settle(pilot, app)
            assert max(pair) not in workspace.ids()
            assert list(pane.table.ids) == []
            status = str(app.query_one("#contacts-status").render())
            assert status.startswith(f"Duplicates · 0 of {len(workspace):,}")
            await pilot.press("v")
            await wait_until(pilot, lambda: "…" not in picker_line(app, "Duplicates"),
                             "the Duplicates view to be counted again")
            assert "       0  duplicate" in picker_line(app, "Duplicates")
