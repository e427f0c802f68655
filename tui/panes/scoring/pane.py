"""The Scoring tab: the active rules, their numbers tuned in place, the effect previewed.

Every rule is listed with its points and its condition (shown literally). A
number is edited where it stands (Enter or e): each keystroke is checked, a bad
value is reported under its row and cannot be applied. Applied numbers form a
draft (the rules file's text with only those numbers changed, comments kept);
a worker thread classifies every contact under the draft and the panel on the
right shows how temperature, grade, stage and lead type counts would move.
ctrl+s writes the user's rules file atomically and switches the workspace to
it, so every contact is reclassified; R drops the draft. m shows the learned model's
section in place of the rules; f fits the points from outcomes into the draft.
"""

from __future__ import annotations

from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from funnel.engine.errors import FunnelError
from funnel.engine.rules.editing import (EditError, RulesConflict, RulesText, format_number,
                                         save_rules)
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace

from funnel.tui.app.services import services
from funnel.tui.panes.scoring.draft import (inline_message, read_rules_file, typed_value,
                                            why_not_editable, with_number)
from funnel.tui.panes.scoring.model_actions import ModelActions
from funnel.tui.panes.scoring.model_section import ModelSection
from funnel.tui.panes.scoring.preview import PreviewPanel, Stats
from funnel.tui.panes.scoring.rows import build_rows, row_parts, short_path, value_of
from funnel.tui.panes.scoring.rule_list import EditLine, RuleDetail, RuleRow, RulesView
from funnel.tui.panes.scoring.status import detail_line, status_line
from funnel.tui.widgets.background import shown


class ScoringPane(ModelActions, Vertical):
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
        Binding("m", "model", "Model", id="scoring.model"),
        Binding("f", "fit_rules", "Fit the points to won and lost contacts (a draft)",
                show=False, id="scoring.fit_rules"),
        Binding("u", "app.undo", "Undo your last change, from any tab (rule edits: R)",
                show=False, id="scoring.undo"),
        Binding("escape", "cancel", "Cancel the edit", show=False, id="scoring.cancel"),
    ]
    DEFAULT_CSS = Path(__file__).with_name("pane.tcss").read_text(encoding="utf-8")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.base_rules: Rules | None = None  # the rules the list was built from
        self.text: RulesText | None = None  # their file, with its numbers located
        self.problem = ""  # why the rules cannot be edited here, if they cannot
        self.drafts: dict[str, float | None] = {}  # applied numbers: key -> value
        self.draft_text: str | None = None
        self.draft_rules: Rules | None = None
        self.editing: str | None = None  # the key of the number being edited
        self._list = RulesView(self._paint, id="scoring-rules")
        self._target_state: str | None = None  # the save target's fingerprint at load
        self._preview = PreviewPanel(on_progress=self._progressed, on_failed=self._failed,
                                     id="scoring-preview-box")
        self._model = ModelSection(on_progress=self._progressed, id="scoring-model")

    # -- building ----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="scoring-status")
        with Horizontal(id="scoring-body"):
            yield self._list
            yield self._preview
        yield self._model
        yield RuleDetail("", id="scoring-detail")

    @property
    def workspace(self) -> Workspace:
        return services(self).workspace

    @property
    def target(self) -> str | None:
        """Where Save writes: the user's rules file."""
        return services(self).settings.rules_path

    @property
    def current_stats(self) -> Stats | None:
        """The counts under the active rules (None until counted)."""
        return self._preview.current

    @property
    def draft_stats(self) -> Stats | None:
        """The counts under the draft (None while there is none, or it is counting)."""
        return self._preview.draft

    def load(self, keep_drafts: bool = False) -> None:
        """(Re)build the list from the workspace's rules and their file."""
        if self.editing is not None:
            self._end_edit(refocus=shown(self))
        kept = dict(self.drafts) if keep_drafts else {}
        self.base_rules = self.workspace.rules
        found = read_rules_file(self.base_rules, self.target)
        self.text, self.problem = found.text, found.problem
        self._target_state = found.target_state
        self.drafts = {}
        self.draft_text = self.draft_rules = None
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
        self._list.build(build_rows(self.base_rules, self.text))
        self.call_after_refresh(self._paint_all)

    # -- showing -------------------------------------------------------------------
    def _paint_all(self) -> None:
        rows = self._list.rows
        for row in rows:
            self._paint(row)
        self._show_status()
        self._show_detail()
        self._preview.show()
        if rows:
            rows[self.cursor].scroll_visible(animate=False)

    def _parts(self, row: RuleRow) -> list[Content]:
        return row_parts(row.spec, row.index == self.cursor, self._list.column, self.drafts,
                         self.text)

    def _paint(self, row: RuleRow) -> None:
        row.set_class(row.index == self.cursor, "-cursor")
        row.show(Content("").join(self._parts(row)))

    def _show_status(self) -> None:
        if self.base_rules is None:
            return
        line = status_line(self.base_rules, self.drafts,
                           self._model.progress or self._preview.progress,
                           self.problem, self.target)
        self.query_one("#scoring-status", Static).update(line, layout=False)

    def _show_detail(self) -> None:
        detail = self.query_one("#scoring-detail", Static)
        if not self._list.rows:
            detail.update("")
            return
        line = detail_line(self._list.rows[self.cursor].spec, self.selected_key, self.text,
                           self.drafts, self.editing)
        detail.update(line, layout=False)

    @property
    def rows(self) -> list[RuleRow]:
        """The rows of the list, in order (section titles left out)."""
        return list(self._list.rows)

    @property
    def cursor(self) -> int:
        return self._list.cursor

    @property
    def selected_key(self) -> str | None:
        return self._list.selected_key

    def on_resize(self) -> None:
        if self.current_stats is not None:
            self._preview.show()

    # -- moving ----------------------------------------------------------------------
    def _move(self, index: int) -> None:
        if not self._list.rows or self.editing is not None:
            return
        self._list.move(index)
        self._show_detail()

    def action_cursor(self, delta: int) -> None:
        self._move(self.cursor + delta)

    def action_jump(self, index: int) -> None:
        self._move(index if index >= 0 else len(self._list.rows) - 1)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self._list.size.height - 2))

    def action_column(self, column: int) -> None:
        if self._list.rows and self.editing is None and self._list.move_to_column(column):
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
        self._preview.resume()

    # -- editing -----------------------------------------------------------------------
    async def action_edit(self) -> None:
        rows = self._list.rows
        if self.editing is not None or not rows:
            return
        key, row = self.selected_key, rows[self.cursor]
        refused = why_not_editable(self.text, self.problem, row.spec.kind, key)
        if refused or key is None:
            self.app.bell()
            self.notify(refused, severity="warning")
            return
        value = value_of(key, self.drafts, self.text)
        self.editing = key
        line = EditLine(row, self._parts(row), row.spec.keys.index(key),
                        format_number(value) if value is not None else "", self._value_typed)
        field = line.field
        with self.app.batch_update():  # one frame for the row, the field and the footer
            # Awaited, so keys typed straight after Enter reach the field.
            await self._list.open_editor(line)
            field.cursor_position = len(field.value)
            field.focus()
            self._show_detail()

    def _value_typed(self, typed: str) -> float | None:
        """The typed text as a value for the number being edited; ValueError if it is not."""
        if self.editing is None or self.text is None:
            return None  # a keystroke that arrived after the edit ended
        value = typed_value(self.text, self.editing, typed, self.drafts)
        self._preview_typed(self.editing, value)
        return value

    def _preview_typed(self, key: str, value: float | None) -> None:
        """The what-if of every keystroke: count under the draft with the number as
        typed so far (not applied yet; Esc goes back to the applied draft)."""
        assert self.text is not None
        try:
            _, rules = self.text.draft(with_number(self.text, self.drafts, key, value))
        except EditError:
            return  # said inline by the edit line when applied
        self._preview.recount(rules, keep_counts=True, delay=0)

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
        drafts = with_number(self.text, self.drafts, key, value)
        try:
            text, rules = self.text.draft(drafts)
        except EditError as error:
            self._edit_line().show_error(inline_message(self.text, error))
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
        row = self._list.row_of(key)
        self._list.close_editor(row)
        if refocus:
            self.query_one(RuleDetail).focus()
        self._paint(row)
        self._show_detail()
        self._show_status()

    def action_cancel(self) -> None:
        if self.editing is not None:
            self._end_edit()
            self._invalidate(keep_counts=True, delay=0)  # back to the applied draft

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if self.editing is not None and event.widget.id == "scoring-edit":
            self._end_edit(refocus=False)  # focus went elsewhere: the edit is dropped

    def _edit_line(self) -> EditLine:
        return self.query_one(EditLine)

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
        previewed = self.draft_stats if not self._preview.busy else None
        self.workspace.set_rules(rules, by=self.workspace.user)  # we hear it: load()
        if previewed is not None:
            self._preview.current = previewed
            self._preview.show()
        # A demo's rules file is the demo's copy: it goes when the demo ends (issue #15).
        copy = " (the demo's copy, removed when the demo ends)" if \
            services(self).settings.demo else ""
        self.notify(f"Saved {count} change{'s' if count > 1 else ''} to "
                    f"{short_path(str(self.target))}{copy}; every contact is reclassified")

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
    def contacts_changed(self, ids: tuple[int, ...]) -> None:
        """The workspace changed: other rules (reload the list) or contacts (recount).
        Called on the UI thread (the app posts each change to itself, from whichever
        thread committed it)."""
        if self.base_rules is None:
            return  # not shown yet
        if self.workspace.rules is not self.base_rules:
            self.load(keep_drafts=self.workspace.rules.source == self.base_rules.source
                      and self.workspace.rules.fingerprint == self.base_rules.fingerprint)
            return
        self._invalidate(keep_counts=True)

    def _invalidate(self, keep_counts: bool = False, delay: float | None = None) -> None:
        """What the counts depend on changed: count again."""
        self._show_status()
        self._preview.recount(self.draft_rules if self.drafts else None, keep_counts, delay)

    @property
    def busy(self) -> bool:
        """A count is under way."""
        return self._preview.busy

    @property
    def settled(self) -> bool:
        """The counts shown are up to date (nothing computing, nothing pending)."""
        return self._preview.settled

    def _alive(self) -> bool:
        """Still on screen with its parts (a worker may report back while it closes)."""
        return bool(self.query("#scoring-status"))

    def _progressed(self) -> None:
        if self._alive():
            self._show_status()

    def _failed(self, message: str) -> None:
        if self._alive():
            self.problem = message
            self._show_status()
