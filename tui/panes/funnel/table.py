"""The Funnel tab's stage table: each stage, then each exit, on one line of figures.

The table's text is a plain function of the stages, the figures and the cursor;
``StageTable`` draws it and turns clicks into the pane's moves.
"""

from __future__ import annotations

from typing import Protocol

from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from funnel.engine.reports import lifecycle
from funnel.engine.reports.lifecycle import Lifecycle, StageFigures
from funnel.engine.rules.ruleset import Stage

from funnel.tui.panes.funnel.cells import NOTHING, bar, days, movement, percent
from funnel.tui.widgets.text import literal

BAR_MIN = 6  # the bar's narrowest width, in cells

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
            cells.append(Content("…" if figures is None else NOTHING))
            cells += [Content("")] * (len(COLUMNS) - 2)
            rows.append(cells)
            continue
        if stage.is_exit or _last_funnel_stage(stages, index):
            conversion = ""  # nothing comes next
        elif item.conversion is None:
            conversion = NOTHING  # nobody got this far
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


class StagesShown(Protocol):
    """What the table draws, and what a click asks of: the pane that owns the cursor."""

    @property
    def stages(self) -> tuple[Stage, ...]: ...

    figures: Lifecycle | None
    cursor: int

    def move_to(self, index: int) -> None: ...

    def action_drill(self) -> None: ...


class StageTable(Widget, can_focus=True):
    """The stages, one line each; the pane owns the cursor and the figures."""

    DEFAULT_CSS = """
    StageTable { height: auto; padding: 0 1; }
    """

    def __init__(self, pane: StagesShown, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._pane = pane

    def render(self) -> Content:
        pane = self._pane
        return Content("\n").join(table_lines(pane.stages, pane.figures, pane.cursor,
                                              self.content_size.width, self.has_focus))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
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
