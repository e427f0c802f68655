"""The Funnel tab driven with real key presses: figures, drill-down, live updates."""

from __future__ import annotations

import threading

import pytest
from rich.cells import cell_len

from funnel.engine.reports import lifecycle
from funnel.tui.panes.funnel.cells import days, percent
from funnel.tui.panes.funnel.pane import FunnelPane

from pilot_support import settle, shown_ids, wait_until


async def funnel_settled(pilot, app) -> FunnelPane:
    """Wait until the Funnel tab shows figures that are up to date."""
    pane = app.query_one(FunnelPane)
    await pilot.pause()  # a change just made has been heard
    await wait_until(pilot, lambda: pane.settled and pane.figures is not None,
                     "the figures to be computed")
    await pilot.pause()
    return pane


def table_text(pane: FunnelPane) -> list[str]:
    return str(pane.table.render()).splitlines()


def text_of(app, selector: str) -> str:
    return str(app.query_one(selector).render())


async def open_funnel(pilot, app) -> FunnelPane:
    await settle(pilot, app)
    await pilot.press("2")
    assert app.query_one("TabbedContent").active == "funnel"
    return await funnel_settled(pilot, app)


async def test_numbers_shown_match_the_engine(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        expected = lifecycle.compute(workspace, top_reasons=8)
        assert pane.figures == expected
        stats = workspace.stats()
        assert {s.id: s.count for s in expected.stages + expected.exits} == stats["stages"]
        lines = table_text(pane)
        stages = workspace.rules.stages + workspace.rules.exits
        assert len(lines) == 1 + len(stages)
        for line, stage in zip(lines[1:], stages):
            figures = expected.stage(stage.id)
            cells = line.split()
            assert stage.label in line
            assert f"{figures.count:,}" in cells
            assert days(figures.median_days) in cells
            if figures.conversion is not None:
                assert percent(figures.conversion) in cells
            entered, left = figures.entered[7], figures.left[7]
            if entered or left:
                assert f"+{entered}" in cells and f"−{left}" in cells
            assert (f"{figures.rotting:,}" if figures.rotting else "·") in cells
        status = text_of(app, "#funnel-status")
        assert f"{expected.total:,} contacts" in status
        assert f"{expected.rotting:,} rotting" in status
        exits = text_of(app, "#funnel-exits")
        for item in expected.exits:
            assert f"{item.label}  {item.count:,}" in exits
            if item.reasons:
                assert item.reasons[0].reason in exits  # the most common one always shows


async def test_cursor_and_enter_drill_down_to_the_stage(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        assert pane.cursor == 0
        await pilot.press("j", "down", "k")
        assert pane.cursor == 1
        stage = workspace.rules.stages[1]
        assert table_text(pane)[2].startswith("▶ " + stage.label)
        assert stage.label in text_of(app, "#funnel-detail")
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.query_one("TabbedContent").active == "contacts"
        contacts = app.contacts_pane
        assert contacts.full_query() == f"stage:{stage.id}"
        ids = shown_ids(app)
        assert len(ids) == pane.figures.stage(stage.id).count > 0
        assert all(workspace.classification(i).stage == stage.id for i in ids)
        assert contacts.table.has_focus


async def test_enter_on_an_exit(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        await pilot.press("G")  # the last row: the last exit
        last = workspace.rules.exits[-1]
        assert pane.cursor == len(workspace.rules.stages) + len(workspace.rules.exits) - 1
        await pilot.press("enter")
        await settle(pilot, app)
        ids = shown_ids(app)
        assert len(ids) == pane.figures.stage(last.id).count
        assert all(workspace.classification(i).stage == last.id for i in ids)
        await pilot.press("2", "g")  # back, and to the top
        assert pane.cursor == 0


async def test_a_move_updates_the_counts(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        before = pane.figures
        lead = workspace.select("stage:lead", "score")[0]
        workspace.move(lead, "prospect", "qualified on a call", by="tester")
        # The pane hears of it: a recompute is on its way (a second after the change).
        await wait_until(pilot, lambda: not pane.settled, "the change to be heard")
        pane = await funnel_settled(pilot, app)
        after = pane.figures
        assert after.stage("lead").count == before.stage("lead").count - 1
        assert after.stage("prospect").count == before.stage("prospect").count + 1
        assert after.stage("prospect").entered[7] == before.stage("prospect").entered[7] + 1
        assert after.stage("lead").left[7] == before.stage("lead").left[7] + 1
        assert after == lifecycle.compute(workspace, top_reasons=8)
        line = next(line for line in table_text(pane) if "Prospect" in line)
        assert f"{after.stage('prospect').count:,}" in line.split()


async def test_changes_while_hidden_are_counted_when_shown(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        before = pane.figures.stage("disqualified").count
        await pilot.press("1")
        await settle(pilot, app)
        target = app.contacts_pane.table.current
        workspace.disqualify(target, "Only curious", by="tester")
        await pilot.press("2")
        pane = await funnel_settled(pilot, app)
        assert pane.figures.stage("disqualified").count == before + 1
        assert "Only curious" in text_of(app, "#funnel-exits")


async def test_r_recomputes(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        first = pane.figures
        await pilot.press("r")
        assert pane.busy or pane.figures is not first
        pane = await funnel_settled(pilot, app)
        assert pane.figures is not first and pane.figures == first


async def test_timeline_of_the_contact_under_the_cursor(app, workspace):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        lead = next(i for i in workspace.select("stage:lead", "name")
                    if workspace.get(i).get("email"))
        # Filtered to the one contact (the filter's keys are the Contacts tab's tests).
        app.contacts_pane.set_view("all", workspace.get(lead)["email"])
        await settle(pilot, app)
        contact_id = app.contacts_pane.table.current
        assert contact_id == lead
        workspace.move(contact_id, "opportunity", "asked for a quote", by="tester")
        await pilot.press("2")
        await funnel_settled(pilot, app)
        timeline = text_of(app, "#funnel-timeline")
        document = workspace.get(contact_id)
        assert f"#{contact_id}" in timeline
        assert (document.get("name") or document.get("email") or "no name")[:10] in timeline
        assert "▶ Opportunity" in timeline and "asked for a quote" in timeline
        assert "  Lead" in timeline
        stays = lifecycle.stage_timeline(document, workspace.now(),
                                         workspace.classification(contact_id).stage)
        assert timeline.count("→") == sum(1 for stay in stays if stay.recorded)


async def test_contact_text_is_shown_literally(app, workspace):
    hostile = "[bold red]x[/] [link=http://x]click[/]"
    contact_id = workspace.add({"name": hostile, "email": "h@example.com"}, by="tester")
    workspace.disqualify(contact_id, "[b]not[/b] a [red]fit", by="tester")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.contacts_pane.set_view("all", "h@example")
        await settle(pilot, app)
        assert app.contacts_pane.table.current == contact_id
        await pilot.press("2")
        await funnel_settled(pilot, app)
        assert "[b]not[/b] a [red]fit" in text_of(app, "#funnel-exits")
        timeline = text_of(app, "#funnel-timeline")
        assert "[bold red]x[/]" in timeline
        assert "[b]not[/b] a [red]fit" in timeline


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_fits_the_terminal(app, size):
    async with app.run_test(size=size) as pilot:
        pane = await open_funnel(pilot, app)
        table = pane.table
        width = table.content_size.width
        lines = table_text(pane)
        assert all(cell_len(line) <= width for line in lines)
        screen = app.screen.region
        assert table.region.height == len(lines) and screen.contains_region(table.region)
        # The bar takes what the numbers leave: the biggest stage's reaches the edge.
        biggest = max(lines[1:], key=lambda line: line.count("█"))
        assert cell_len(biggest.rstrip()) >= width - 2
        assert biggest.count("█") >= width - 66
        for selector in ("#funnel-status", "#funnel-detail", "#funnel-exits-box",
                         "#funnel-timeline-box"):
            region = app.query_one(selector).region
            assert region.height >= 1 and screen.contains_region(region)
        # Both exits and at least their top reason fit without scrolling.
        box = app.query_one("#funnel-exits-box")
        exits = text_of(app, "#funnel-exits").splitlines()
        assert len(exits) <= box.content_size.height
        for item in pane.figures.exits:
            assert any(line.startswith(item.label) for line in exits)


async def test_no_color(monkeypatch, workspace):
    monkeypatch.setenv("NO_COLOR", "1")
    from funnel.tui.app.app import FunnelApp, Settings

    app = FunnelApp(workspace, Settings(poll_seconds=0))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        pane = await open_funnel(pilot, app)
        await pilot.press("j")
        # Without colour the cursor still shows (a marker, bold), and so do the bars.
        assert table_text(pane)[2].startswith("▶ ")
        assert "█" in "".join(table_text(pane))
        svg = app.export_screenshot()
        assert "▶" in svg


async def test_help_lists_the_funnel_keys(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await open_funnel(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        ids = {binding.id for binding in FunnelPane.BINDINGS}
        assert {"funnel.down", "funnel.up", "funnel.open", "funnel.recompute"} <= ids
        text = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        assert "Recompute" in text and "Show contacts" in text


async def test_changes_from_another_thread(app, workspace):
    """An import commits in a worker thread: the pane hears it there, safely."""
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_funnel(pilot, app)
        before = pane.figures.total
        done = threading.Event()

        def add_in_a_thread() -> None:
            workspace.add_many([{"name": "From a thread", "email": "t@example.com"}],
                               by="tester")
            done.set()

        threading.Thread(target=add_in_a_thread).start()
        assert done.wait(10)
        await wait_until(pilot, lambda: pane.settled and pane.figures.total == before + 1,
                         "the figures to count the contact added in the thread")
        assert pane.figures == lifecycle.compute(workspace, top_reasons=8)
