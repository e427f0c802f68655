"""The import dialog shows what is typed, and an import made in it shows in the list.

Its File and Mapping boxes hold their text visibly at 120x36 and 80x24 (a focused
box once kept only its borders, the text clipped away); after an import the list,
its count and the views hold the new contacts without waiting for another change.
"""

from __future__ import annotations

from textual.widgets import Input

from pilot_support import settle, shown_ids, wait_until
from test_import_export_tui import GOOD, _wait_for_report

from funnel.tui.dialogs.transfer import ImportScreen


async def test_the_file_and_mapping_boxes_show_what_is_typed(app):
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        await pilot.press("i", *"fair.csv", "tab", *"x-education")
        for size in ((120, 36), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            assert isinstance(app.screen, ImportScreen)
            shot = app.export_screenshot()
            for selector, typed in (("#import-file", "fair.csv"),
                                    ("#import-map", "x-education")):
                box = app.screen.query_one(selector, Input)
                assert box.value == typed
                assert box.content_region.height >= 1 and box.content_region.width >= 20, (
                    size, selector, box.region, box.content_region)
                assert app.screen.region.contains_region(box.region), (size, selector)
                assert typed in shot, (size, selector, "not drawn")


async def test_an_import_made_in_the_app_shows_in_the_list(app, workspace, tmp_path):
    source = tmp_path / "fair.csv"
    source.write_text(GOOD, encoding="utf-8")
    count = len(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        assert f"{count:,} of {count:,}" in str(app.query_one("#contacts-status").render())
        await pilot.press("i")
        app.screen.query_one("#import-file", Input).value = str(source)
        await pilot.press("enter")
        await _wait_for_report(pilot, app, "would create 2")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not isinstance(app.screen, ImportScreen),
                         "the import dialog to close")
        assert len(workspace) == count + 2
        await wait_until(pilot, lambda: len(shown_ids(app)) == count + 2,
                         "the list to hold the imported contacts", timeout=10)
        await settle(pilot, app)
        assert set(workspace.ids()) == set(shown_ids(app))
        status = str(app.query_one("#contacts-status").render())
        assert f"{count + 2:,} of {count + 2:,}" in status, status
