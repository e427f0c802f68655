"""The Scoring tab: the active rules, their numbers tuned in place, the effect previewed.

Every rule is listed with its points and its condition (shown literally). A
number is edited where it stands (Enter or e): each keystroke is checked, a bad
value is reported under its row and cannot be applied. Applied numbers form a
draft (the rules file's text with only those numbers changed, comments kept);
a worker thread classifies every contact under the draft and the panel on the
right shows how temperature, grade, stage and lead type counts would move.
ctrl+s writes the user's rules file atomically and switches the workspace to
it, so every contact is reclassified; R drops the draft.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from funnel.engine.errors import FunnelError
from funnel.engine.rules.ruleset import Rules
from funnel.engine.rules.editing import (HALF_LIFE, EditError, RulesConflict, RulesText,
                               file_fingerprint, format_number, is_preset, parse_number,
                               save_rules)

from funnel.tui.widgets.text import fit, literal

REFRESH_DELAY = 0.3  # seconds of quiet after contact changes before the preview is redone
CELL_WIDTH = 7
TEMPERATURE_ORDER = ("hot", "warm", "cold")


class _Stopped(Exception):
    """Raised from a progress callback to end a preview nobody waits for any more."""


@dataclass(frozen=True)
class RowSpec:
    """What one row of the list stands for."""

    kind: str  # fit, engagement, half_life, grade, temperature, lead_type
    keys: tuple[str | None, str | None]  # the numbers in its two cells (None: none)
    label: str
    condition: str = ""  # shown literally
    value: str = ""  # the first cell of a row without numbers (hot, SRL, ...)
    line: int = 0
    note: str = ""  # said in the detail line


def build_rows(rules: Rules, text: RulesText | None) -> list[tuple[str, list[RowSpec]]]:
    """The sections of the list and their rows, in the order of the rules file."""
    slots = text.slots if text is not None else {}

    def key(name: str) -> str | None:
        return name if name in slots else None

    fit_rows = [RowSpec("fit", (key(f"{rule.id}.points"), None), rule.label,
                        rule.when.text if rule.when else "", line=rule.line)
                for rule in rules.fit]
    engagement = []
    for rule in rules.engagement:
        if rule.activity:
            engagement.append(RowSpec(
                "engagement", (key(f"{rule.id}.points"), key(f"{rule.id}.max")), rule.label,
                f"each {rule.activity}", line=rule.line,
                note=f"points per {rule.activity}, halving every half-life; max caps the total"))
        else:
            engagement.append(RowSpec("engagement", (key(f"{rule.id}.points"), None),
                                      rule.label, rule.when.text if rule.when else "",
                                      line=rule.line, note="flat points; they do not fade"))
    engagement.insert(0, RowSpec("half_life", (key(HALF_LIFE), None),
                                 "Half-life of engagement points, in days",
                                 note="an activity's points halve every this many days"))
    grades = [RowSpec("grade", (key(f"grades.{grade}"), None), f"Grade {grade}",
                      note=f"grade {grade}: a score of at least this")
              for grade, _ in rules.grades]
    grades.append(RowSpec("grade", (None, None), "Grade 1", "below grade 2",
                          note="grade 1: everything below grade 2"))
    temperatures = [RowSpec("temperature", (None, None), choice.label
                            if choice.label != choice.value else "", choice.when.text,
                            value=choice.value, line=choice.line) for choice in rules.temperatures]
    temperatures.append(RowSpec("temperature", (None, None), "otherwise", "",
                                value=rules.temperature_default))
    lead_types = [RowSpec("lead_type", (None, None), choice.label
                          if choice.label != choice.value else "", choice.when.text,
                          value=choice.value, line=choice.line) for choice in rules.lead_types]
    lead_types.append(RowSpec("lead_type", (None, None), "otherwise", "",
                              value=rules.lead_type_default or "none"))
    return [
        ("Fit: who they are (flat points when the condition holds)", fit_rows),
        ("Engagement: what they do (fades with the half-life)", engagement),
        ("Grades: the lowest score of each", grades),
        ("Temperature (first match wins)", temperatures),
        ("Lead types (first match wins)", lead_types),
    ]


def number_text(key: str, value: float | None) -> str:
    if value is None:
        return "no cap" if key.endswith(".max") else ""
    if key.startswith("grades."):
        return f"≥{format_number(value)}"
    if key == HALF_LIFE:
        return f"{format_number(value)}d"
    if key.endswith(".max"):
        return f"≤{format_number(value)}"
    return f"+{format_number(value)}" if value > 0 else format_number(value)


def short_path(path: str) -> str:
    home = str(Path.home())
    return "~" + path[len(home):] if home != "/" and path.startswith(home + "/") else path


class RuleRow(Static):
    """One row of the list: a gutter, the number cells, the label and the condition."""

    class Clicked(Message):
        def __init__(self, row: "RuleRow") -> None:
            super().__init__()
            self.row = row

    def __init__(self, spec: RowSpec, index: int, painter) -> None:
        super().__init__("", classes=f"rule-row -{spec.kind}")
        self.spec = spec
        self.index = index
        self._painter = painter

    def on_mount(self) -> None:
        self._painter(self)

    def show(self, line: Content) -> None:
        # One line of fixed size: repaint it without a layout pass of the whole screen.
        self.update(line, layout=False)

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Clicked(self))


class EditLine(Vertical):
    """A number being edited, in place of its row: the row's text either side of the
    field, and under it what is wrong with the value typed."""

    def __init__(self, row: RuleRow, before: Content, field: Input, after: Content) -> None:
        super().__init__(id="scoring-editing", classes="rule-row -cursor")
        self.row = row
        self._parts = (before, field, after)

    def compose(self) -> ComposeResult:
        before, field, after = self._parts
        with Horizontal(classes="rule-edit-line"):
            head = Static(before, classes="rule-edit-before")
            head.styles.width = before.cell_length
            yield head
            yield field
            yield Static(after, classes="rule-edit-after")
        yield Static("", id="scoring-error", classes="rule-error")

    def show_error(self, message: str) -> None:
        error = self.query_one("#scoring-error", Static)
        error.update(Content.styled("✗ " + literal(message), "$error") if message else "")
        error.display = bool(message)
        if message:  # once laid out (shown, then wrapped), scroll it all into view
            self.call_after_refresh(self._reveal, error)

    def _reveal(self, widget: Static) -> None:
        if widget.is_attached and widget.display:
            self.screen.scroll_to_widget(widget, animate=False)


class RulesView(VerticalScroll, can_focus=False):
    """The scrolling list of rules."""


class RuleDetail(Static, can_focus=True):
    """What the cursor is on, in full. It holds the keyboard focus for the list (the
    keys are the pane's): a focus change then restyles this one widget, not every row,
    as it would if the list itself took focus."""



class ScoringPane(Vertical):
    BINDINGS = [
        Binding("j,down", "cursor(1)", "Next rule", show=False, id="scoring.down"),
        Binding("k,up", "cursor(-1)", "Previous rule", show=False, id="scoring.up"),
        Binding("h,left", "column(0)", "Points", show=False, id="scoring.left"),
        Binding("l,right", "column(1)", "Cap (max)", show=False, id="scoring.right"),
        Binding("g,home", "jump(0)", "First rule", show=False, id="scoring.first"),
        Binding("G,end", "jump(-1)", "Last rule", show=False, id="scoring.last"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="scoring.page_down"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="scoring.page_up"),
        Binding("enter,e", "edit", "Edit number", id="scoring.edit"),
        Binding("ctrl+s", "save", "Save rules", id="scoring.save"),
        Binding("R", "revert", "Revert draft", id="scoring.revert"),
        Binding("escape", "cancel", "Cancel the edit", show=False, id="scoring.cancel"),
    ]
    DEFAULT_CSS = """
    ScoringPane { height: 1fr; }
    ScoringPane #scoring-status { height: 1; padding: 0 1; background: $boost;
        text-wrap: nowrap; text-overflow: ellipsis; }
    ScoringPane #scoring-body { height: 1fr; }
    ScoringPane RulesView { width: 1fr; height: 1fr; scrollbar-size-vertical: 1; }
    ScoringPane #scoring-preview-box { width: 38; height: 1fr; border-left: vkey $panel;
        padding: 0 0 0 1; scrollbar-size-vertical: 1; overflow-x: hidden; }
    ScoringPane #scoring-preview { text-wrap: nowrap; }
    ScoringPane #scoring-detail { height: 2; padding: 0 1; background: $boost;
        text-overflow: ellipsis; }
    ScoringPane .rule-section { height: 1; padding: 0 1; text-style: bold; color: $accent;
        text-wrap: nowrap; text-overflow: ellipsis; margin-top: 1; }
    ScoringPane .rule-section.-first { margin-top: 0; }
    ScoringPane .rule-row { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ScoringPane EditLine.rule-row { height: auto; }
    ScoringPane .rule-edit-line { height: 1; }
    ScoringPane .rule-edit-after { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    ScoringPane .rule-row.-cursor { background: $accent 40%; }
    ScoringPane .rule-error { display: none; height: auto; padding-left: 2; color: $error; }
    ScoringPane .rule-edit { width: 7; height: 1; border: none; padding: 0;
        background: $boost; }
    ScoringPane .rule-edit:focus { border: none; background: $accent 30%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.base_rules: Rules | None = None  # the rules the list was built from
        self.text: RulesText | None = None  # their file, with its numbers located
        self.problem = ""  # why the rules cannot be edited here, if they cannot
        self.drafts: dict[str, float | None] = {}  # applied numbers: key -> value
        self.draft_text: str | None = None
        self.draft_rules: Rules | None = None
        self.current_stats: dict | None = None  # counts under the active rules
        self.draft_stats: dict | None = None  # counts under the draft
        self.busy = False  # a preview is being computed
        self.editing: str | None = None  # the key of the number being edited
        self.cursor = 0
        self.column = 0
        self._rows: list[RuleRow] = []
        self._progress = ""
        self._stale = True  # the counts need computing again
        self._target_state: str | None = None  # the save target's fingerprint at load
        self._timer: Timer | None = None
        self._generation = 0  # bumped whenever what the preview depends on changes

    # -- building ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="scoring-status")
        with Horizontal(id="scoring-body"):
            yield RulesView(id="scoring-rules")
            with VerticalScroll(id="scoring-preview-box"):
                yield Static("", id="scoring-preview")
        yield RuleDetail("", id="scoring-detail")

    @property
    def workspace(self):
        return self.app.workspace

    @property
    def target(self) -> str | None:
        """Where Save writes: the user's rules file."""
        return self.app.settings.rules_path

    def load(self, keep_drafts: bool = False) -> None:
        """(Re)build the list from the workspace's rules and their file."""
        if self.editing is not None:
            self._end_edit(refocus=self._shown())
        rules = self.workspace.rules
        kept = dict(self.drafts) if keep_drafts else {}
        self.base_rules = rules
        self.problem = ""
        try:
            self.text = RulesText.of(rules)
        except FunnelError as error:
            self.text = None
            self.problem = f"read only: {error}"
        if self.text is not None and self.text.stale:
            self.problem = ("the rules file changed on disk since Funnel loaded it; drafts "
                            "start from the file as it is now")
        try:
            self._target_state = file_fingerprint(self.target) if self.target else None
        except FunnelError as error:
            self._target_state = None
            self.problem = str(error)
        self.drafts = {}
        self.draft_text = self.draft_rules = self.draft_stats = None
        self._build_list()
        if kept and self.text is not None:
            usable = {key: value for key, value in kept.items() if key in self.text.slots}
            try:
                self.draft_text, self.draft_rules = self.text.draft(usable)
                self.drafts = usable
            except FunnelError:
                self.app.notify("The draft no longer fits the new rules; it was dropped",
                                severity="warning")
        self._invalidate()

    def _build_list(self) -> None:
        assert self.base_rules is not None
        sections = build_rows(self.base_rules, self.text)
        specs = [spec for _, section in sections for spec in section]
        if [row.spec.kind for row in self._rows] == [spec.kind for spec in specs]:
            # The same shape (after a save or a revert): repaint, do not mount again.
            for row, spec in zip(self._rows, specs):
                row.spec = spec
            self.call_after_refresh(self._paint_all)
            return
        view = self.query_one(RulesView)
        view.remove_children()
        widgets: list = []
        self._rows = []
        for number, (title, section) in enumerate(sections):
            widgets.append(Static(title, classes="rule-section" + (" -first" if not number
                                                                   else "")))
            for spec in section:
                row = RuleRow(spec, len(self._rows), self._paint)
                self._rows.append(row)
                widgets.append(row)
        view.mount_all(widgets)
        self.cursor = min(self.cursor, len(self._rows) - 1)
        self.call_after_refresh(self._paint_all)

    # -- showing -------------------------------------------------------------------
    def value_of(self, key: str) -> float | None:
        if key in self.drafts:
            return self.drafts[key]
        assert self.text is not None
        return self.text.slots[key].value

    def _paint_all(self) -> None:
        for row in self._rows:
            self._paint(row)
        self._show_status()
        self._show_detail()
        self._show_preview()
        if self._rows:
            self._rows[self.cursor].scroll_visible(animate=False)

    def _parts(self, row: RuleRow) -> list[Content]:
        """The pieces of a row's line: gutter, its number cells, label and condition."""
        spec = row.spec
        here = row.index == self.cursor
        changed = any(key in self.drafts for key in spec.keys if key)
        parts = [Content(("▶" if here else " ") + ("*" if changed else " "))]
        columns = 2 if spec.kind in ("engagement", "half_life") else 1
        for column, key in enumerate(spec.keys[:columns]):
            if key is None:
                if column == 0 and spec.value:
                    parts.append(Content.styled(fit(literal(spec.value), CELL_WIDTH - 1),
                                                "bold") + Content(" "))
                else:
                    parts.append(Content(" " * CELL_WIDTH))
                continue
            style = "bold underline" if key in self.drafts else ""
            if self.text is not None and self.text.slots[key].locked:
                style = "dim"
            shown = number_text(key, self.value_of(key))[:CELL_WIDTH - 1]
            text = Content(" " * (CELL_WIDTH - 1 - len(shown))) + Content.styled(shown, style)
            if here and column == self.column:
                text = text.stylize("reverse")
            parts.append(text + Content(" "))
        desc = [Content(literal(spec.label))] if spec.label else []
        if spec.condition:
            desc.append(Content.styled(literal(" ".join(spec.condition.split())), "dim"))
        parts.append(Content("  ").join(desc))
        return parts

    def _paint(self, row: RuleRow) -> None:
        row.set_class(row.index == self.cursor, "-cursor")
        row.show(Content("").join(self._parts(row)))

    def _show_status(self) -> None:
        rules = self.base_rules
        if rules is None:
            return
        parts = [Content.styled(f"Rules: {literal(rules.name)}", "bold")]
        if self.drafts:
            count = len(self.drafts)
            parts.append(Content.styled(f"{count} unsaved change{'s' if count > 1 else ''}",
                                        "bold $warning"))
        if self._progress:
            parts.append(Content.styled(self._progress, "italic"))
        if self.problem:
            parts.append(Content.styled(literal(self.problem), "$warning"))
        if self.drafts and self.target:
            parts.append(Content(f"ctrl+s saves to {literal(short_path(str(self.target)))}"))
        elif is_preset(rules.source):
            parts.append(Content("the shipped preset (never changed: ctrl+s saves your copy)"))
        else:
            parts.append(Content(literal(short_path(rules.source))))
        self.query_one("#scoring-status", Static).update(Content(" · ").join(parts),
                                                         layout=False)

    def _show_detail(self) -> None:
        detail = self.query_one("#scoring-detail", Static)
        if not self._rows:
            detail.update("")
            return
        spec = self._rows[self.cursor].spec
        key = self.selected_key
        parts: list[Content] = []
        if key is not None and self.text is not None:
            slot = self.text.slots[key]
            head = Content.styled(f"{slot.what}: {slot.title}", "bold")
            if key in self.drafts:
                head += Content(f" {number_text(key, self.drafts[key])} (was "
                                f"{number_text(key, slot.value)})")
            parts.append(head)
            if slot.locked:
                parts.append(Content.styled(f"not editable here: {slot.locked}", "$warning"))
        elif spec.label:
            parts.append(Content.styled(literal(spec.label), "bold"))
        if spec.note:
            parts.append(Content(spec.note))
        if spec.condition and not spec.condition.startswith("each "):
            parts.append(Content.styled("when ", "dim") + Content(literal(
                " ".join(spec.condition.split()))))
        line = self.text.slots[key].line if key is not None and self.text else spec.line
        if line:
            parts.append(Content.styled(f"line {line}", "dim"))
        if self.editing is not None:
            parts = [Content.styled("Enter applies · Esc cancels · an empty cap means no cap"
                                    if self.editing.endswith(".max") else
                                    "Enter applies · Esc cancels", "bold")] + parts
        elif key is None and spec.kind in ("temperature", "lead_type"):
            parts.append(Content.styled("(edited in the rules file, not here)", "dim"))
        detail.update(Content(" · ").join(parts), layout=False)

    @property
    def rows(self) -> list[RuleRow]:
        """The rows of the list, in order (section titles left out)."""
        return list(self._rows)

    @property
    def selected_key(self) -> str | None:
        if not self._rows:
            return None
        keys = self._rows[self.cursor].spec.keys
        return keys[self.column] if keys[self.column] is not None else keys[0]

    def _show_preview(self) -> None:
        """Counts now (and under the draft, with the change) by temperature, grade, stage
        and lead type. Blank lines between the groups only when there is room."""
        box = self.query_one("#scoring-preview", Static)
        current, draft = self.current_stats, self.draft_stats
        if current is None:
            box.update(Content.styled("Preview\n", "bold") + Content.styled(
                self._progress or "counting contacts…", "italic"))
            return
        with_draft = bool(self.drafts)
        if with_draft:
            head = [Content.styled(f"{'':<12}{'now':>7}{'draft':>8}{'change':>8}", "bold")]
            if draft is None:
                head.append(Content.styled(self._progress or "computing the draft…",
                                           "italic $warning"))
        else:
            head = [Content.styled(f"{'':<12}{'now':>7}", "bold")
                    + Content.styled("  edit a number", "dim"),
                    Content.styled(f"{'':<21}to preview it", "dim")]
        groups = [
            [Content(f"{'contacts':<12}{current['total']:>7,}")],
            self._group(current, draft, "temperatures",
                        [(name, name) for name in TEMPERATURE_ORDER]),
            self._group(current, draft, "grades",
                        [(str(grade), f"grade {grade}") for grade in (4, 3, 2, 1)]),
            self._group(current, draft, "stages", [(name, name) for name in current["stages"]]),
            self._group(current, draft, "lead_types",
                        [(name, name) for name in current["lead_types"]]),
        ]
        room = self.query_one("#scoring-preview-box").size.height or 1000
        needed = len(head) + sum(len(group) + 1 for group in groups[:4])
        lines = list(head)
        for group in groups:
            if needed <= room:
                lines.append(Content(""))
            lines += group
        box.update(Content("\n").join(lines))

    def _group(self, current: dict, draft: dict | None, group: str,
               names: list[tuple[str, str]]) -> list[Content]:
        lines = []
        for name, label in names:
            now = current[group].get(name, 0)
            line = Content(f"{literal(label)[:12]:<12}{now:>7,}")
            if self.drafts and draft is not None:
                after = draft[group].get(name, 0)
                delta = after - now
                line += Content.styled(f"{after:>8,}", "bold" if delta else "dim")
                if delta:
                    line += Content.styled(f"{delta:>+8,}",
                                           "bold $success" if delta > 0 else "bold $error")
            lines.append(line)
        return lines

    def on_resize(self) -> None:
        if self.current_stats is not None:
            self._show_preview()

    # -- moving ----------------------------------------------------------------------
    def _move(self, index: int) -> None:
        if not self._rows or self.editing is not None:
            return
        index = max(0, min(index, len(self._rows) - 1))
        old, self.cursor = self.cursor, index
        if self._rows[index].spec.keys[self.column] is None:
            self.column = 0
        self._paint(self._rows[old])
        self._paint(self._rows[index])
        self._rows[index].scroll_visible(animate=False)
        self._show_detail()

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_jump(self, index: int) -> None:
        self._move(index if index >= 0 else len(self._rows) - 1)

    def action_page(self, direction: int) -> None:
        height = max(1, self.query_one(RulesView).size.height - 2)
        self._move(self.cursor + direction * height)

    def action_column(self, column: int) -> None:
        if not self._rows or self.editing is not None:
            return
        if self._rows[self.cursor].spec.keys[column] is None:
            return
        self.column = column
        self._paint(self._rows[self.cursor])
        self._show_detail()

    @on(RuleRow.Clicked)
    def _clicked(self, event: RuleRow.Clicked) -> None:
        self.query_one(RuleDetail).focus()
        self._move(event.row.index)

    def on_show(self) -> None:
        if self.base_rules is None:
            self.load()  # built when first shown: the app starts on another tab
        focused = self.app.focused
        if focused is None or self not in focused.ancestors_with_self:
            self.query_one(RuleDetail).focus()
        if self._stale:
            self._schedule(0)

    # -- editing -----------------------------------------------------------------------
    async def action_edit(self) -> None:
        if self.editing is not None or not self._rows:
            return
        key = self.selected_key
        if key is None or self.text is None:
            self.app.bell()
            kind = self._rows[self.cursor].spec.kind
            self.notify(self.problem or "These rules cannot be edited here"
                        if self.text is None else
                        "Grade 1 has no bar of its own: edit grade 2's" if kind == "grade" else
                        "Only numbers are edited here; conditions and first-match rules live "
                        f"in {short_path(self.text.source)}", severity="warning")
            return
        slot = self.text.slots[key]
        if slot.locked:
            self.app.bell()
            self.notify(f"{slot.what}: {slot.title} is not editable here: {slot.locked}",
                        severity="warning")
            return
        row = self._rows[self.cursor]
        column = row.spec.keys.index(key)
        value = self.value_of(key)
        field = Input(format_number(value) if value is not None else "",
                      classes="rule-edit", id="scoring-edit")
        self.editing = key
        parts = self._parts(row)
        line = EditLine(row, Content("").join(parts[:column + 1]), field,
                        Content("").join(parts[column + 2:]))
        with self.app.batch_update():  # one frame for the row, the field and the footer
            row.display = False
            # Awaited, so keys typed straight after Enter reach the field.
            await self.query_one(RulesView).mount(line, after=row)
            field.cursor_position = len(field.value)
            field.focus()
            self._show_detail()

    def _inline(self, error: EditError) -> str:
        """An error as said under its own row: without the rule's name, which is right
        above; with the line when it is about another one."""
        assert self.text is not None
        message = error.reason
        slot = self.text.slots.get(error.key or "")
        if slot is not None and message.startswith(f"{slot.what}: "):
            message = message[len(slot.what) + 2:]
        if error.line and (slot is None or slot.line != error.line):
            message += f" (line {error.line})"
        return message

    def _value_typed(self, typed: str) -> float | None:
        """The typed text as a value for the number being edited; ValueError if it is not."""
        assert self.editing is not None and self.text is not None
        if not typed.strip() and self.text.slots[self.editing].optional:
            return None
        value = parse_number(typed)
        others = {key: other for key, other in self.drafts.items() if key != self.editing}
        try:
            self.text.check(self.editing, value, others)
        except EditError as error:
            raise ValueError(self._inline(error)) from None
        return value

    @on(Input.Changed, "#scoring-edit")
    def _typed(self, event: Input.Changed) -> None:
        if self.editing is None:
            return
        try:
            self._value_typed(event.value)
        except ValueError as error:
            self._edit_line().show_error(str(error))
            return
        self._edit_line().show_error("")

    @on(Input.Submitted, "#scoring-edit")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_edit()

    def _apply_edit(self) -> bool:
        """Apply the number being typed to the draft; False (and said inline) if invalid."""
        if self.editing is None or self.text is None:
            return True
        key = self.editing
        try:
            value = self._value_typed(self.query_one("#scoring-edit", Input).value)
        except ValueError as error:
            self._edit_line().show_error(str(error))
            self.app.bell()
            return False
        drafts = dict(self.drafts)
        if value == self.text.slots[key].value:
            drafts.pop(key, None)  # back to what the file says
        else:
            drafts[key] = value
        try:
            text, rules = self.text.draft(drafts)
        except EditError as error:
            self._edit_line().show_error(self._inline(error))
            self.app.bell()
            return False
        self.drafts = drafts
        self.draft_text, self.draft_rules = (text, rules) if drafts else (None, None)
        with self.app.batch_update():
            self._end_edit()
            self._invalidate()
        return True

    def _end_edit(self, refocus: bool = True) -> None:
        key = self.editing
        self.editing = None
        if key is None:
            return
        row = self._row_of(key)
        for line in self.query(EditLine):
            line.remove()
        row.display = True
        if refocus:
            self.query_one(RuleDetail).focus()
        self._paint(row)
        self._show_detail()
        self._show_status()

    def action_cancel(self) -> None:
        if self.editing is not None:
            self._end_edit()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if self.editing is not None and event.widget.id == "scoring-edit":
            self._end_edit(refocus=False)  # focus went elsewhere: the edit is dropped

    def _edit_line(self) -> EditLine:
        return self.query_one(EditLine)

    def _row_of(self, key: str) -> RuleRow:
        return next(row for row in self._rows if key in row.spec.keys)

    # -- saving and reverting ---------------------------------------------------------
    def action_save(self) -> None:
        if self.editing is not None and not self._apply_edit():
            return
        if not self.drafts or self.draft_text is None:
            self.notify("No changes to save")
            return
        if not self.target:
            self.notify("No rules file to save to: start Funnel with --config DIR",
                        severity="error")
            return
        count = len(self.drafts)
        try:
            rules = save_rules(self.draft_text, self.target, expect=self._target_state)
        except RulesConflict as error:
            self.notify(f"{error}. Your draft is kept; R reverts to the file as it is now.",
                        severity="error", timeout=10)
            return
        except FunnelError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        previewed = self.draft_stats if not self.busy else None
        self.workspace.set_rules(rules, by=self.workspace.user)  # we hear it: load()
        if previewed is not None:
            self.current_stats = previewed
            self._show_preview()
        self.notify(f"Saved {count} change{'s' if count > 1 else ''} to "
                    f"{short_path(str(self.target))}; every contact is reclassified")

    def action_revert(self) -> None:
        if self.editing is not None:
            self._end_edit()
        if not self.drafts:
            self.notify("Nothing to revert")
            return
        count = len(self.drafts)
        self.load()
        self.notify(f"Reverted {count} change{'s' if count > 1 else ''}")

    # -- the preview ------------------------------------------------------------------
    def contacts_changed(self, ids) -> None:
        """The workspace changed: other rules (reload the list) or contacts (recount)."""
        if self.base_rules is None:
            return  # not shown yet
        if self.workspace.rules is not self.base_rules:
            self.load(keep_drafts=self.workspace.rules.source == self.base_rules.source
                      and self.workspace.rules.fingerprint == self.base_rules.fingerprint)
            return
        self._invalidate(keep_counts=True)

    def _invalidate(self, keep_counts: bool = False) -> None:
        """What the counts depend on changed: count again (now if the tab is shown)."""
        self._generation += 1
        self._stale = True
        if not keep_counts:
            self.draft_stats = None
        if self.base_rules is not None:
            self._show_status()
            self._show_preview()
        self._schedule(0 if not keep_counts else REFRESH_DELAY)

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._shown():
            return  # counted when the tab is shown
        if delay:
            self._timer = self.set_timer(delay, self._scheduled)
            return
        self._stale = False
        self.busy = True
        # Started after the next frame: the change that asked for it shows first.
        self.call_after_refresh(self._launch, self._generation)

    def _launch(self, generation: int) -> None:
        if generation == self._generation and self._alive():
            self._compute(self.draft_rules if self.drafts else None, generation)

    def _alive(self) -> bool:
        """Still on screen (a worker may report back while the app is closing)."""
        return self.is_attached and self.is_mounted and bool(self.query("#scoring-status"))

    def _scheduled(self) -> None:
        self._timer = None
        self._schedule(0)

    def _shown(self) -> bool:
        return self.is_mounted and all(node.display for node in self.ancestors_with_self
                                       if hasattr(node, "display"))

    @work(thread=True, exclusive=True, group="scoring-preview")
    def _compute(self, draft: Rules | None, generation: int) -> None:
        worker = get_current_worker()
        workspace = self.workspace

        def reporter(what: str):
            def progress(done: int, total: int) -> None:
                if worker.is_cancelled:
                    raise _Stopped
                if done < total:
                    self.app.call_from_thread(self._set_progress,
                                              f"{what} {done * 100 // max(total, 1)}%")
            return progress

        try:
            workspace.classify_all(reporter("counting"))
            current = workspace.stats()
            preview = workspace.preview_rules(draft, reporter("previewing")) \
                if draft is not None else None
        except _Stopped:
            return
        except FunnelError as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._computed, generation, current, preview)

    @property
    def settled(self) -> bool:
        """The counts shown are up to date (nothing computing, nothing pending)."""
        return not self.busy and not self._stale and self._timer is None

    def _set_progress(self, text: str) -> None:
        if not self._alive():
            return
        self._progress = text
        self._show_status()
        if self.current_stats is None or self.drafts and self.draft_stats is None:
            self._show_preview()

    def _computed(self, generation: int, current: dict, preview: dict | None) -> None:
        if generation != self._generation or not self._alive():
            return  # something changed meanwhile: a newer count is coming
        self.busy = False
        self.busy = False
        self._progress = ""
        self.current_stats = current
        self.draft_stats = preview
        self._show_status()
        self._show_preview()

    def _failed(self, message: str) -> None:
        self.busy = False
        if not self._alive():
            return
        self._progress = ""
        self.problem = message
        self._show_status()
