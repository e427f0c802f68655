"""The Scoring tab's what-if preview: every contact counted under the active rules
and under the draft, and the two side by side by temperature, grade, stage and lead
type. ``PreviewPanel`` keeps the counts up to date, counting in a worker thread
(``count``); their text is a plain function (``preview_text``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace

from funnel.tui.app.services import services
from funnel.tui.widgets.background import Progress, Recompute
from funnel.tui.widgets.text import literal

REFRESH_DELAY = 0.3  # seconds of quiet after contact changes before counting again
TEMPERATURE_ORDER = ("hot", "warm", "cold")

Stats = dict[str, Any]  # as workspace.stats(): the total, then counts by group and name


@dataclass(frozen=True)
class Counts:
    """What a count found: under the active rules, and under the draft (if any)."""

    current: Stats
    draft: Stats | None


def count(workspace: Workspace, draft: Rules | None, progress: Progress) -> Counts:
    """Count every contact under the active rules and under ``draft`` (worker thread)."""
    workspace.classify_all(progress.percent("counting"))
    current = workspace.stats()
    preview = workspace.preview_rules(draft, progress.percent("previewing")) \
        if draft is not None else None
    return Counts(current, preview)


def preview_text(current: Stats | None, draft: Stats | None, with_draft: bool,
                 progress: str, room: int) -> Content:
    """Counts now (and under the draft, with the change) by temperature, grade, stage
    and lead type, in ``room`` lines: blank lines between the groups only if they fit."""
    if current is None:
        return Content.styled("Preview\n", "bold") + Content.styled(
            progress or "counting contacts…", "italic")
    if with_draft:
        head = [Content.styled(f"{'':<12}{'now':>7}{'draft':>8}{'change':>8}", "bold")]
        if draft is None:
            head.append(Content.styled(progress or "computing the draft…",
                                       "italic $warning"))
    else:
        head = [Content.styled(f"{'':<12}{'now':>7}", "bold")
                + Content.styled("  edit a number", "dim"),
                Content.styled(f"{'':<21}to preview it", "dim")]
    shown = draft if with_draft else None
    groups = [
        [Content(f"{'contacts':<12}{current['total']:>7,}")],
        _group(current, shown, "temperatures", [(name, name) for name in TEMPERATURE_ORDER]),
        _group(current, shown, "grades",
               [(str(grade), f"grade {grade}") for grade in (4, 3, 2, 1)]),
        _group(current, shown, "stages", [(name, name) for name in current["stages"]]),
        _group(current, shown, "lead_types", [(name, name) for name in current["lead_types"]]),
    ]
    needed = len(head) + sum(len(group) + 1 for group in groups[:4])
    lines = list(head)
    for group in groups:
        if needed <= room:
            lines.append(Content(""))
        lines += group
    return Content("\n").join(lines)


def _group(current: Stats, draft: Stats | None, group: str,
           names: list[tuple[str, str]]) -> list[Content]:
    """One line per name: the count now, and under the draft with the change."""
    lines = []
    for name, label in names:
        now = current[group].get(name, 0)
        line = Content(f"{literal(label)[:12]:<12}{now:>7,}")
        if draft is not None:
            after = draft[group].get(name, 0)
            delta = after - now
            line += Content.styled(f"{after:>8,}", "bold" if delta else "dim")
            if delta:
                line += Content.styled(f"{delta:>+8,}",
                                       "bold $success" if delta > 0 else "bold $error")
        lines.append(line)
    return lines


class PreviewPanel(VerticalScroll):
    """The counts beside the list, kept up to date: the pane says what changed
    (``recount``); the panel counts in a worker and tells the pane how it goes."""

    def __init__(self, *, on_progress: Callable[[], None], on_failed: Callable[[str], None],
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.current: Stats | None = None  # counts under the active rules
        self.draft: Stats | None = None  # counts under the draft
        self._draft_rules: Rules | None = None  # the draft counted (None: no draft)
        self._on_progress = on_progress
        self._counting = Recompute[Counts](
            self, group="scoring-preview", task=self._count_task, done=self._counted,
            failed=on_failed, on_progress=self._progressed)

    def compose(self) -> ComposeResult:
        yield Static("", id="scoring-preview")

    @property
    def progress(self) -> str:
        return self._counting.progress

    @property
    def busy(self) -> bool:
        return self._counting.busy

    @property
    def settled(self) -> bool:
        return self._counting.settled

    def recount(self, draft: Rules | None, keep_counts: bool = False,
                delay: float | None = None) -> None:
        """Count again under the active rules and ``draft``: now, or after a quiet spell
        if only contacts changed (``keep_counts``: they change in bursts; the counts
        shown stay until the new ones replace them). ``delay`` overrides the wait."""
        self._draft_rules = draft
        if not keep_counts:
            self.draft = None
        self.show()
        self._counting.changed(delay if delay is not None else
                               REFRESH_DELAY if keep_counts else 0)

    def resume(self) -> None:
        self._counting.resume()

    def show(self) -> None:
        if not self.is_mounted:
            return
        room = self.size.height or 1000
        self.query_one("#scoring-preview", Static).update(preview_text(
            self.current, self.draft, self._draft_rules is not None, self.progress, room))

    def _count_task(self) -> Callable[[Progress], Counts]:
        workspace, draft = services(self).workspace, self._draft_rules
        return lambda progress: count(workspace, draft, progress)

    def _progressed(self) -> None:
        self._on_progress()
        if self.current is None or self._draft_rules is not None and self.draft is None:
            self.show()

    def _counted(self, counts: Counts) -> None:
        self.current, self.draft = counts.current, counts.draft
        self._on_progress()
        self.show()
