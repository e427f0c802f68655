"""The Funnel tab: the lifecycle. Where contacts are, how they move, why they leave.

A table of the stages in funnel order (then the exits): how many are there now,
a bar sized to the terminal, the conversion to the next stage, the median days
in the stage, how many rot there, and the moves in and out over 7 and 30 days.
Below it, the exits by reason and the stage timeline of the contact under the
cursor in the Contacts tab. The figures (``engine.lifecycle``) are computed in a
worker thread, again about a second after contacts change; j/k move between
stages, Enter lists a stage's contacts in the Contacts tab, r recomputes.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from funnel.engine.reports import lifecycle
from funnel.engine.errors import FunnelError
from funnel.engine.reports.lifecycle import Lifecycle, StageFigures, Stay
from funnel.engine.rules.ruleset import Rules, Stage

from funnel.tui.widgets.text import fit, literal

REFRESH_DELAY = 1.0  # seconds after a change before the figures are computed again
PROGRESS_SECONDS = 0.2  # the least time between two progress reports
REASONS = 8  # reasons kept per exit; fewer show when the space is short
BAR_MIN = 6  # the bar's narrowest width, in cells
_EIGHTHS = " ▏▎▍▌▋▊▉"
_NOTHING = "–"


class _Stopped(Exception):
    """Raised from the progress callback to end a computation nobody waits for."""


# -- text of the cells (plain functions: the tests use them too) -------------------------

def bar(fraction: float, width: int) -> str:
    """A bar of ``width`` cells filled to ``fraction``, in eighths of a cell.

    Anything above nothing shows at least a sliver, so a small stage is not mistaken
    for an empty one.
    """
    if width <= 0:
        return ""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    if fraction > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text + " " * (width - len(text))


def number(value: int) -> str:
    """A count in at most five cells: 9,999 then 12.3k, 123k, 1.2M."""
    if value < 10_000:
        return f"{value:,}"
    if value < 100_000:
        return f"{value / 1000:.1f}k"
    if value < 1_000_000:
        return f"{value // 1000}k"
    return f"{value / 1_000_000:.1f}M"


def days(value: float | None) -> str:
    if value is None:
        return _NOTHING
    if value < 1:
        return "<1d"
    if value < 10:
        return f"{value:.1f}d"
    return f"{value:,.0f}d"


def percent(value: float | None) -> str:
    if value is None:
        return ""
    if 0 < value < 0.005:
        return "<1%"
    return f"{value * 100:.0f}%"


def movement(entered: int, left: int) -> Content:
    """'+12 −3': moves in, then out; a dim dot when nothing moved."""
    if not entered and not left:
        return Content.styled("·", "dim")
    return Content.assemble((f"+{number(entered)}", "$success" if entered else "dim"), " ",
                            (f"−{number(left)}", "$error" if left else "dim"))


# -- the stage table ------------------------------------------------------------------

# (heading, right-aligned): each column is as wide as its widest cell; the bar takes
# what the others leave.
COLUMNS = (("Stage", False), ("now", True), ("→next", True), ("median", True), ("rot", True),
           ("7d in/out", True), ("30d in/out", True), ("", False))
BAR = 7  # the bar's column: last, so the numbers stay together
GUTTER = 2
LABEL_MAX = 16


def table_lines(stages: tuple[Stage, ...], figures: Lifecycle | None, cursor: int,
                width: int, focused: bool) -> list[Content]:
    """The table's lines, ``width`` cells wide: a heading, then each stage and exit."""
    known = {item.id: item for item in figures.stages + figures.exits} if figures else {}
    biggest = max([item.count for item in known.values()] + [1])
    rows: list[list[Content]] = []
    for index, stage in enumerate(stages):
        item = known.get(stage.id)
        label_style = "bold" if index == cursor else ("italic" if stage.is_exit else "")
        cells = [Content.styled(literal(stage.label), label_style)]
        if item is None:
            cells.append(Content("…" if figures is None else _NOTHING))
            cells += [Content("")] * (len(COLUMNS) - 2)
            rows.append(cells)
            continue
        if stage.is_exit or _last_funnel_stage(stages, index):
            conversion = ""  # nothing comes next
        elif item.conversion is None:
            conversion = _NOTHING  # nobody got this far
        else:
            conversion = percent(item.conversion)
        cells += [Content(f"{item.count:,}"), Content(conversion),
                  Content(days(item.median_days)),
                  Content.styled(f"{item.rotting:,}", "bold $warning") if item.rotting
                  else Content.styled("·", "dim")]
        cells += [movement(item.entered.get(window, 0), item.left.get(window, 0))
                  for window in lifecycle.WINDOWS]
        cells.append(Content(""))  # the bar, once its width is known
        rows.append(cells)
    widths = [max([len(title)] + [row[column].cell_length for row in rows])
              for column, (title, _) in enumerate(COLUMNS)]
    widths[0] = min(widths[0], LABEL_MAX)
    widths[BAR] = max(BAR_MIN, width - GUTTER - sum(widths) - (len(COLUMNS) - 1) - 1)

    def line(cells: list[Content]) -> Content:
        fitted = []
        for cell, cells_width, (_, right) in zip(cells, widths, COLUMNS):
            if cell.cell_length > cells_width:
                cell = cell.truncate(cells_width, ellipsis=True)
            fitted.append(cell.right(cells_width) if right else cell.pad_right(
                cells_width - cell.cell_length))
        return Content(" ").join(fitted)

    lines = [Content.styled(" " * GUTTER, "bold") + line(
        [Content.styled(title, "bold") for title, _ in COLUMNS])]
    for index, (stage, cells) in enumerate(zip(stages, rows)):
        item = known.get(stage.id)
        if item is not None:
            cells[BAR] = Content.styled(bar(item.count / biggest, widths[BAR]),
                                        "$text-muted" if stage.is_exit else "$accent")
        here = index == cursor
        text = Content.styled("▶ " if here else "  ", "bold") + line(cells)
        if here:
            text = text.stylize_before("on $accent 40%" if focused else "on $accent 15%")
        lines.append(text)
    return lines


def _last_funnel_stage(stages: tuple[Stage, ...], index: int) -> bool:
    following = stages[index + 1] if index + 1 < len(stages) else None
    return following is None or following.is_exit


class StageTable(Widget, can_focus=True):
    """The stages, one line each; the pane owns the cursor and the figures."""

    DEFAULT_CSS = """
    StageTable { height: auto; padding: 0 1; }
    """

    def __init__(self, pane: "FunnelPane", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pane = pane

    def render(self) -> Content:
        pane = self._pane
        return Content("\n").join(table_lines(pane.stages, pane.figures, pane.cursor,
                                              self.content_size.width, self.has_focus))

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1 + len(self._pane.stages)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1  # below the heading
        if 0 <= row < len(self._pane.stages):
            if row == self._pane.cursor and event.chain >= 2:
                self._pane.action_drill()
            else:
                self._pane.move_to(row)


# -- exits and the timeline --------------------------------------------------------------

def exits_lines(figures: Lifecycle | None, height: int) -> list[Content]:
    """Each exit with its most common reasons, folded to fit ``height`` lines."""
    lines = [Content.styled("Exits by reason", "bold underline")]
    if figures is None:
        return lines + [Content.styled("computing…", "italic dim")]
    exits = figures.exits
    if not exits:
        return lines + [Content.styled("these rules have no exits", "dim")]
    room = max(len(exits) * 2, height - 1)  # each exit gets its line and at least one more
    for position, item in enumerate(exits):
        share = room // len(exits) + (1 if position < room % len(exits) else 0)
        lines.append(Content.assemble((literal(item.label), "bold"), f"  {item.count:,}"))
        if not item.count:
            continue
        reasons = [(reason.reason, reason.count) for reason in item.reasons]
        other = item.other
        shown = max(1, share - 1)
        if shown == 1 and reasons:
            reasons, other = reasons[:1], 0  # one line: the top reason, rather than "other"
        elif len(reasons) + (1 if other else 0) > shown:
            other += sum(count for _, count in reasons[shown - 1:])
            reasons = reasons[:shown - 1]
        for reason, count in reasons:
            lines.append(_reason_line(reason, count, item.count, False))
        if other:
            lines.append(_reason_line("other reasons", other, item.count, True))
    return lines


def _reason_line(reason: str, count: int, total: int, dim: bool) -> Content:
    share = f"{count * 100 // max(total, 1)}%"
    line = Content.assemble(f"{count:>6,} ", (f"{share:>4} ", "dim"),
                            (literal(reason), "dim italic" if dim else ""))
    return line


def timeline_lines(contact_id: int | None, document: dict | None, stays: list[Stay],
                   rules: Rules, now: datetime) -> list[Content]:
    """The stays of the selected contact, newest first: stage, days, from → to, by, why."""
    title = Content.styled("Stage timeline", "bold underline")
    if contact_id is None or document is None:
        return [title, Content.styled("Select a contact in the Contacts tab (1) to see "
                                      "its stages here.", "dim")]
    name = literal(document.get("name") or document.get("email") or "no name")
    lines = [title + Content("  ") + Content.styled(name, "bold")
             + Content.styled(f" #{contact_id}", "dim")]
    if not stays:
        lines.append(Content.styled("no stage recorded yet", "dim"))
    labels = {stage.id: literal(stage.label) for stage in rules.stages + rules.exits}
    label_width = min(LABEL_MAX, max(len(label) for label in labels.values()))
    for stay in reversed(stays):
        label = labels.get(stay.stage) or literal(stay.stage)
        if not stay.recorded:
            when = "now, by the rules"
        else:
            when = f"{_date(stay.entered, now)} → " + ("now" if stay.current
                                                       else _date(stay.left, now))
        lines.append(Content.assemble(("▶ " if stay.current else "  ", "bold"),
                                      (fit(label, label_width), "bold" if stay.current else ""),
                                      f" {days(stay.days):>5}  ", (when, "dim")))
        who = literal(stay.by)
        if stay.why:
            who += " — " + literal(stay.why)
        if who:
            lines.append(Content.styled("    " + who, "dim italic"))
    return lines


def _date(moment: datetime | None, now: datetime) -> str:
    """'30 Oct' this year, '30 Oct 2025' another."""
    if moment is None:
        return "?"
    if moment.year == now.year:
        return f"{moment.day} {moment.strftime('%b')}"
    return f"{moment.day} {moment.strftime('%b %Y')}"


# -- the pane -------------------------------------------------------------------------------

class FunnelPane(Vertical):
    class _Changed(Message):
        """Contacts changed in another thread (an import's worker): handled in the UI's."""

        def __init__(self, ids: tuple[int, ...]) -> None:
            super().__init__()
            self.ids = ids

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
        self.busy = False  # a computation is running
        self.selected: int | None = None  # the contact whose timeline is shown
        self._progress = ""
        self._problem = ""
        self._stale = True  # contacts changed since the running or shown computation began
        self._timer: Timer | None = None
        self._started = 0  # numbers the computations: only the latest one's result shows
        self._ui_thread = threading.get_ident()

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
    def workspace(self):
        return self.app.workspace

    @property
    def stages(self) -> tuple[Stage, ...]:
        rules = self.rules or self.workspace.rules
        return rules.stages + rules.exits

    @property
    def table(self) -> StageTable:
        return self.query_one(StageTable)

    @property
    def settled(self) -> bool:
        """The figures shown are up to date: nothing computing, nothing pending."""
        return not self.busy and not self._stale and self._timer is None

    def on_mount(self) -> None:
        self._ui_thread = threading.get_ident()
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
        if self._stale and self._timer is None and not self.busy:
            self._schedule(0)

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
        self.app.show_contacts("all", f"stage:{stages[self.cursor].id}")

    def action_recompute(self) -> None:
        self._stale = True
        self._schedule(0, restart=True)

    # -- changes ----------------------------------------------------------------------
    def contacts_changed(self, ids) -> None:
        """The workspace changed: the figures are computed again soon (now if the rules
        changed); the timeline follows at once. May be called from any thread."""
        if threading.get_ident() != self._ui_thread:
            self.post_message(self._Changed(tuple(ids)))  # thread-safe, never blocks
            return
        if not self.is_mounted:
            return
        self._stale = True
        if self.workspace.rules is not self.rules:
            self.rules = self.workspace.rules
            self.figures = None  # other stages: nothing shown is valid any more
            self.cursor = max(0, min(self.cursor, len(self.stages) - 1))
            self._paint()
            self._schedule(0, restart=True)
        elif self._timer is None and not self.busy:
            self._schedule(REFRESH_DELAY)  # a burst of changes gives one computation
        else:
            self._paint_status()
        if self.selected is not None and (not ids or self.selected in ids):
            self._show_selected(force=True)

    @on(_Changed)
    def _changed_elsewhere(self, message: _Changed) -> None:
        message.stop()
        self.contacts_changed(message.ids)

    def _schedule(self, delay: float, restart: bool = False) -> None:
        """Compute after ``delay`` seconds. A computation already running finishes
        first (its result shows, then another follows) unless ``restart``."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._shown():
            return  # computed when the tab is shown
        if delay:
            self._timer = self.set_timer(delay, self._scheduled)
            return
        if self.busy and not restart:
            return  # _computed schedules the next one
        if not self._contacts_classified():
            # The Contacts tab is classifying every contact: wait for it rather than
            # run a second full classification beside it.
            self._progress = "waiting for the contacts to be classified…"
            self._paint_status()
            self._timer = self.set_timer(0.25, self._scheduled)
            return
        self._stale = False
        self.busy = True
        self._started += 1
        self._progress = "computing…"
        self._paint_status()
        self._compute(self._started)  # exclusive: a running one is told to stop

    def _scheduled(self) -> None:
        self._timer = None
        self._schedule(0)

    def _contacts_classified(self) -> bool:
        try:
            return bool(getattr(self.app.contacts_pane, "ready", True))
        except NoMatches:
            return True

    def _shown(self) -> bool:
        return self.is_mounted and all(node.display for node in self.ancestors_with_self
                                       if hasattr(node, "display"))

    @work(thread=True, exclusive=True, group="funnel-lifecycle")
    def _compute(self, generation: int) -> None:
        worker = get_current_worker()
        shown = [time.monotonic()]

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise _Stopped
            now = time.monotonic()
            if now - shown[0] >= PROGRESS_SECONDS and done < total:
                shown[0] = now  # a few times a second: each report waits for the screen
                self.app.call_from_thread(self._set_progress,
                                          f"computing {done * 100 // max(total, 1)}%")

        try:
            figures = lifecycle.compute(self.workspace, progress=progress, top_reasons=REASONS)
        except _Stopped:
            return
        except FunnelError as error:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, generation, str(error))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._computed, generation, figures)

    def _set_progress(self, text: str) -> None:
        if self.busy:
            self._progress = text
            self._paint_status()

    def _computed(self, generation: int, figures: Lifecycle) -> None:
        if generation != self._started:
            return  # a newer computation is running; its result will show
        self.busy = False
        self._progress = self._problem = ""
        self.figures = figures
        self._paint()
        if self._stale:
            self._schedule(REFRESH_DELAY)  # contacts changed while this one ran

    def _failed(self, generation: int, message: str) -> None:
        if generation != self._started:
            return
        self.busy = False
        self._progress = ""
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
        if self._progress:
            parts.append(Content.styled(self._progress, "italic"))
        elif self._stale and figures is not None:
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
        try:
            contact_id = self.app.contacts_pane.table.current
        except NoMatches:  # no Contacts tab: nothing is selected
            contact_id = None
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


def detail_text(stage: Stage, item: StageFigures | None, stages: tuple[Stage, ...]) -> Content:
    """One line about the stage under the cursor: what its numbers mean."""
    label = literal(stage.label)
    if item is None:
        return Content.assemble((label, "bold"), " · Enter lists its contacts")
    parts = [Content.styled(label, "bold")]
    if not stage.is_exit:
        index = stages.index(stage)
        following = stages[index + 1] if index + 1 < len(stages) else None
        reached = f"{item.reached:,} got this far"
        if following is not None and not following.is_exit and item.conversion is not None:
            reached += f", {percent(item.conversion)} of them on to {literal(following.label)}"
        parts.append(Content(reached))
    if item.stays:
        parts.append(Content(f"median {days(item.median_days)} over {item.stays:,} "
                             f"stay{'s' if item.stays != 1 else ''}"))
    if stage.rotting_days is not None:
        parts.append(Content(f"rots after {stage.rotting_days:g}d idle"))
    parts.append(Content(f"Enter lists the {item.count:,}"))
    return Content(" · ").join(parts)
