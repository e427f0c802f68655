"""The Funnel tab: the lifecycle. Where contacts are, how they move, why they leave.

A table of the stages in funnel order (then the exits): how many are there now,
a bar sized to the terminal, the conversion to the next stage, the median days
in the stage, how many rot there, and the moves in and out over 7 and 30 days.
Below it, the exits by reason and the stage timeline of the contact under the
cursor in the Contacts tab. The figures (``reports.lifecycle_columns``, over the
columns' stage log) are computed in a worker thread, again about a second after
contacts change; j/k move between
stages, Enter lists a stage's contacts in the Contacts tab, r recomputes.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from funnel.engine.errors import FunnelError
from funnel.engine.reports import lifecycle, lifecycle_columns
from funnel.engine.reports.lifecycle import Lifecycle, Stay
from funnel.engine.rules.ruleset import Rules, Stage
from funnel.engine.workspace.facade import Workspace

from funnel.tui.app.services import services
from funnel.tui.panes.funnel.exits import exits_lines
from funnel.tui.panes.funnel.table import StageTable, detail_text
from funnel.tui.panes.funnel.timeline import timeline_lines
from funnel.tui.widgets.background import Progress, Recompute
from funnel.tui.widgets.text import literal

REFRESH_DELAY = 1.0  # seconds after a change before the figures are computed again
PROGRESS_SECONDS = 0.2  # the least time between two progress reports
REASONS = 8  # reasons kept per exit; fewer show when the space is short


class FunnelPane(Vertical):
    BINDINGS = [
        Binding("j,down", "cursor(1)", "Next stage", show=False, id="funnel.down"),
        Binding("k,up", "cursor(-1)", "Previous stage", show=False, id="funnel.up"),
        Binding("g,home", "jump(0)", "First stage", show=False, id="funnel.first"),
        Binding("G,end", "jump(-1)", "Last exit", show=False, id="funnel.last"),
        Binding("enter", "drill", "Show contacts", id="funnel.open"),
        Binding("r", "recompute", "Recompute", id="funnel.recompute"),
    ]
    DEFAULT_CSS = """
    FunnelPane { height: 1fr; }
    FunnelPane #funnel-status { height: 1; padding: 0 1; background: $boost;
        text-wrap: nowrap; text-overflow: ellipsis; }
    FunnelPane #funnel-detail { height: 1; padding: 0 1; color: $text-muted;
        text-wrap: nowrap; text-overflow: ellipsis; }
    FunnelPane #funnel-bottom { height: 1fr; margin-top: 1; }
    FunnelPane #funnel-exits-box { width: 1fr; min-width: 30; padding: 0 1;
        scrollbar-size-vertical: 1; }
    FunnelPane #funnel-timeline-box { width: 1fr; padding: 0 1; border-left: vkey $panel;
        scrollbar-size-vertical: 1; }
    FunnelPane #funnel-exits, FunnelPane #funnel-timeline { text-wrap: nowrap;
        text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.figures: Lifecycle | None = None
        self.rules: Rules | None = None  # the rules the figures and the rows are for
        self.cursor = 0
        self.selected: int | None = None  # the contact whose timeline is shown
        self._problem = ""
        self._figuring = Recompute[Lifecycle](
            self, group="funnel-lifecycle", task=self._figures_task, done=self._computed,
            failed=self._failed, on_progress=self._paint_status,
            waiting=self._waiting, start_text="computing…", report_every=PROGRESS_SECONDS)

    def compose(self) -> ComposeResult:
        yield Static("", id="funnel-status")
        yield StageTable(self, id="funnel-table")
        yield Static("", id="funnel-detail")
        with Horizontal(id="funnel-bottom"):
            with VerticalScroll(id="funnel-exits-box", can_focus=False):
                yield Static("", id="funnel-exits")
            with VerticalScroll(id="funnel-timeline-box", can_focus=False):
                yield Static("", id="funnel-timeline")

    @property
    def workspace(self) -> Workspace:
        return services(self).workspace

    @property
    def stages(self) -> tuple[Stage, ...]:
        rules = self.rules or self.workspace.rules
        return rules.stages + rules.exits

    @property
    def table(self) -> StageTable:
        return self.query_one(StageTable)

    @property
    def busy(self) -> bool:
        """The figures are being computed."""
        return self._figuring.busy

    @property
    def settled(self) -> bool:
        """The figures shown are up to date: nothing computing, nothing pending."""
        return self._figuring.settled

    def on_mount(self) -> None:
        self.rules = self.workspace.rules
        self._paint()
        tabs = next((node for node in self.ancestors if isinstance(node, TabbedContent)), None)
        if tabs is not None:
            self.watch(tabs, "active", self._tab_activated, init=False)

    def _tab_activated(self, active: str) -> None:
        """Focus the stages the moment the tab is switched to, so keys typed straight
        after the switch (2 j j Enter) already move here."""
        pane = next((node for node in self.ancestors if isinstance(node, TabPane)), None)
        if pane is not None and pane.id == active and self.table.focusable:
            self.screen.set_focus(self.table, scroll_visible=False)

    def on_show(self) -> None:
        focused = self.app.focused
        if focused is None or self not in focused.ancestors_with_self:
            self.table.focus()
        self._show_selected()
        self._figuring.resume()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._paint_exits)

    # -- moving and drilling down -----------------------------------------------------
    def move_to(self, index: int) -> None:
        stages = self.stages
        self.cursor = max(0, min(index, len(stages) - 1))
        self.table.refresh()
        self._paint_detail()

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_jump(self, index: int) -> None:
        self.move_to(index if index >= 0 else len(self.stages) - 1)

    def action_drill(self) -> None:
        stages = self.stages
        if not stages:
            return
        services(self).show_contacts("all", f"stage:{stages[self.cursor].id}")

    def action_recompute(self) -> None:
        self._figuring.changed(0)

    # -- changes ----------------------------------------------------------------------
    def contacts_changed(self, ids: tuple[int, ...]) -> None:
        """The workspace changed: the figures are computed again soon (now if the rules
        changed); the timeline follows at once. Called on the UI thread (the app posts
        each change to itself, from whichever thread committed it)."""
        if not self.is_mounted:
            return
        if self.workspace.rules is not self.rules:
            self.rules = self.workspace.rules
            self.figures = None  # other stages: nothing shown is valid any more
            self.cursor = max(0, min(self.cursor, len(self.stages) - 1))
            self._figuring.changed(0)
            self._paint()
        else:
            # A running computation still shows (it is nearly right); a burst of
            # changes gives one more computation after it.
            self._figuring.changed(REFRESH_DELAY, restart=False)
            self._paint_status()
        if self.selected is not None and (not ids or self.selected in ids):
            self._show_selected(force=True)

    def _waiting(self) -> str:
        """The Contacts tab classifying every contact: wait for it rather than run a
        second full classification beside it."""
        if services(self).contacts_ready():
            return ""
        return "waiting for the contacts to be classified…"

    def _figures_task(self) -> Callable[[Progress], Lifecycle]:
        workspace = self.workspace
        return lambda progress: lifecycle_columns.compute(  # over the columns' stage log
            workspace, progress=progress.percent("computing"), top_reasons=REASONS)

    def _computed(self, figures: Lifecycle) -> None:
        self._problem = ""
        self.figures = figures
        self._paint()

    def _failed(self, message: str) -> None:
        self._problem = message
        self._paint_status()

    # -- painting -------------------------------------------------------------------------
    def _paint(self) -> None:
        self.table.refresh(layout=True)
        self._paint_status()
        self._paint_detail()
        self._paint_exits()

    def _paint_status(self) -> None:
        figures = self.figures
        parts: list[Content] = []
        if figures is not None:
            parts.append(Content.styled(f"{figures.total:,} contacts", "bold"))
            parts.append(Content(f"{figures.in_funnel:,} in the funnel, {figures.out:,} out"))
            if figures.rotting:
                parts.append(Content.styled(f"{figures.rotting:,} rotting", "$warning"))
        else:
            parts.append(Content.styled("Funnel", "bold"))
        progress = self._figuring.progress
        if progress:
            parts.append(Content.styled(progress, "italic"))
        elif self._figuring.stale and figures is not None:
            parts.append(Content.styled("contacts changed, updating…", "italic dim"))
        if self._problem:
            parts.append(Content.styled(literal(self._problem), "$error"))
        if self.rules is not None:
            parts.append(Content.styled(f"rules: {literal(self.rules.name)}", "dim"))
        self.query_one("#funnel-status", Static).update(Content(" · ").join(parts))

    def _paint_detail(self) -> None:
        detail = self.query_one("#funnel-detail", Static)
        stages = self.stages
        if not stages:
            detail.update("")
            return
        stage = stages[self.cursor]
        item = None
        if self.figures is not None:
            try:
                item = self.figures.stage(stage.id)
            except KeyError:
                item = None
        detail.update(detail_text(stage, item, stages))

    def _paint_exits(self) -> None:
        box = self.query_one("#funnel-exits-box")
        height = box.content_size.height or 8
        self.query_one("#funnel-exits", Static).update(
            Content("\n").join(exits_lines(self.figures, height)))

    def _show_selected(self, force: bool = False) -> None:
        """Show the timeline of the contact under the cursor in the Contacts tab."""
        contact_id = services(self).selected_contact()
        if contact_id == self.selected and not force and contact_id is not None:
            return
        self.selected = contact_id
        document = None
        stays: list[Stay] = []
        rules = self.workspace.rules
        now = self.workspace.now()
        if contact_id is not None:
            try:
                document, classification = self.workspace.row(contact_id)
            except FunnelError:
                document = None
            else:
                stays = lifecycle.stage_timeline(document, now, classification.stage)
        self.query_one("#funnel-timeline", Static).update(
            Content("\n").join(timeline_lines(contact_id, document, stays, rules, now)))

