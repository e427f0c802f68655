"""The contact card: every field, the classification and why, the lifecycle timeline.

Editing a field classifies a draft on every keystroke (nothing is written) and
shows what would change; Enter commits through the workspace, Esc discards.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.errors import FieldError, FunnelError
from funnel.engine.model import FIELDS, parse_value

from funnel.tui.widgets.text import literal, multiline

_GROUPS = ("identity", "acquisition", "qualification", "handling")
IDLE_HINT = "Enter edits the highlighted field · + adjusts the score · P releases a pin"
EDITING_HINT = "Enter saves · Esc discards · the badges above show the draft"


def field_text(name: str, value: Any) -> str:
    """A field's value as the text you would type to set it."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class FieldList(OptionList):
    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False),
                Binding("g", "first", show=False), Binding("G", "last", show=False)]


def badges(result, draft=None) -> Content:
    """Stage, score, grade, temperature, lead type; with a draft, old → new where they differ."""
    def pair(label: str, before: Any, after: Any, style: str = "bold") -> Content:
        head = Content.styled(f"{label} ", "dim")
        if draft is None or before == after:
            return head + Content.styled(str(before), style)
        return head + Content.styled(str(before), "strike dim") + Content(" → ") + \
            Content.styled(str(after), "bold reverse")
    other = draft or result
    temperature_style = {"hot": "bold $error", "warm": "bold $warning",
                         "cold": "bold $primary"}.get(result.temperature, "bold")
    parts = [
        pair("Stage", result.stage + (" (pinned)" if result.manual else ""),
             other.stage + (" (pinned)" if other.manual else "")),
        pair("Score", result.score, other.score),
        pair("Fit", result.fit, other.fit, ""),
        pair("Eng", result.engagement, other.engagement, ""),
        pair("Grade", result.grade, other.grade),
        pair("Temp", result.temperature, other.temperature, temperature_style),
        pair("Type", result.lead_type or "–", other.lead_type or "–"),
    ]
    line = Content("  ").join(parts)
    flags = []
    if other.rotting:
        flags.append(Content.styled(" ROTTING ", "bold reverse $warning"))
    if other.overdue:
        flags.append(Content.styled(" OVERDUE ", "bold reverse $error"))
    if flags:
        line += Content("  ") + Content(" ").join(flags)
    return line


def explanation(result, draft=None) -> Content:
    shown = draft or result
    lines = [Content.styled("Why this score", "bold underline")]
    for item in shown.explanation:
        points = f"{item.points:+d}"
        lines.append(Content.styled(f"{points:>4} ", "bold") + Content(literal(item.label)))
    total = f"= {shown.raw_score} raw, {shown.score} shown (0-100)"
    lines.append(Content.styled(total, "dim"))
    lines.append(Content(""))
    lines.append(Content.styled("Stage", "bold underline"))
    lines.append(Content(literal(shown.stage_reason)))
    if shown.manual and shown.rules_stage != shown.stage:
        lines.append(Content.styled(f"the rules alone would say: {shown.rules_stage}", "italic"))
    lines.append(Content(""))
    lines.append(Content.styled("Next action", "bold underline"))
    lines.append(Content(literal(shown.next_action)))
    return Content("\n").join(lines)


def timeline(document: dict) -> Content:
    lines = [Content.styled("Timeline", "bold underline")]
    for entry in reversed(document.get("history") or []):
        when = (entry.get("at") or "")[:16].replace("T", " ")
        kind = entry.get("kind")
        if kind == "stage":
            what = Content.styled(f"{entry.get('from') or '–'} → {entry.get('to')}", "bold")
        elif kind == "field":
            what = Content(f"{entry.get('field')}: {literal(entry.get('from')) or '–'} → "
                           f"{literal(entry.get('to')) or '–'}")
        elif kind == "activity":
            activity = entry.get("to") or {}
            what = Content(f"activity {literal(activity.get('kind'))}")
        else:
            what = Content(literal(kind))
        line = Content.styled(when + " ", "dim") + what + \
            Content.styled(f"  by {literal(entry.get('by'))}", "dim")
        if entry.get("why"):
            line += Content.styled(" — " + literal(entry["why"]), "italic")
        lines.append(line)
    return Content("\n").join(lines)


class ContactScreen(Screen):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="card.close"),
        Binding("enter,e", "edit", "Edit field", id="card.edit"),
        Binding("greater_than_sign,right_square_bracket", "advance", "Advance",
                id="card.advance"),
        Binding("less_than_sign,left_square_bracket", "back", "Back a stage", id="card.back"),
        Binding("m", "move", "Move to…", show=False, id="card.move"),
        Binding("d", "disqualify", "Disqualify", id="card.disqualify"),
        Binding("z", "snooze", "Follow-up", id="card.snooze"),
        Binding("o", "assign", "Owner", show=False, id="card.assign"),
        Binding("t", "tag", "Tag", show=False, id="card.tag"),
        Binding("plus,equals_sign", "adjust", "Adjust score", id="card.adjust"),
        Binding("P", "unpin", "Unpin stage", show=False, id="card.unpin"),
        Binding("n", "step(1)", "Next contact", id="card.next"),
        Binding("N", "step(-1)", "Previous", show=False, id="card.previous"),
    ]

    def __init__(self, contact_id: int, ids: list[int] | None = None, *,
                 edit: bool = False) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.ids = ids or [contact_id]
        self._start_editing = edit
        self.editing: str | None = None
        self.draft_valid = True
        self._committing = False
        self._shown_fields: list | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="card"):
            yield Static("", id="card-title")
            yield Static("", id="card-badges")
            with Horizontal(id="card-body"):
                yield FieldList(id="card-fields")
                with VerticalScroll(id="card-side"):
                    yield Static("", id="card-why")
                    yield Static("", id="card-timeline")
            with Horizontal(id="edit-bar"):
                yield Label("", id="edit-label")
                yield Input(id="edit-input")
            yield Static("", id="edit-error")
            yield Static(IDLE_HINT, id="edit-hint")
        yield Footer()

    def on_mount(self) -> None:
        # The edit line and its hint keep their rows when idle: starting or ending an
        # edit then repaints two lines instead of laying out the whole card again.
        self._idle_edit_line()
        self.query_one("#edit-error").display = False
        self.show_contact()
        self.query_one(FieldList).focus()
        if self._start_editing:
            self.call_after_refresh(self.action_edit)

    @property
    def workspace(self):
        return self.app.workspace

    # -- showing ------------------------------------------------------------
    def show_contact(self, draft=None) -> None:
        try:
            document, result = self.workspace.row(self.contact_id)
        except FunnelError:
            self.query_one("#card-title", Static).update(
                f"Contact {self.contact_id} no longer exists")
            return
        name = literal(document.get("name") or document.get("email") or "(no name)")
        company = literal(document.get("company"))
        where = f"{self.ids.index(self.contact_id) + 1} of {len(self.ids)}" \
            if self.contact_id in self.ids else ""
        title = Content.styled(f"#{self.contact_id} ", "dim") + Content.styled(name, "bold")
        if company:
            title += Content(" · ") + Content(company)
        if where:
            title += Content.styled(f"   {where}", "dim")
        self.query_one("#card-title", Static).update(title)
        self.query_one("#card-badges", Static).update(badges(result, draft))
        self.query_one("#card-why", Static).update(explanation(result, draft))
        self.query_one("#card-timeline", Static).update(timeline(document))
        if self.editing is None:
            self._fill_fields(document)

    def _fill_fields(self, document: dict) -> None:
        fields = self.query_one(FieldList)
        highlighted = fields.highlighted
        options: list[Option] = []
        for group in _GROUPS:
            options.append(Option(Content.styled(f"── {group}", "dim"), disabled=True))
            for name, spec in FIELDS.items():
                if spec.group != group:
                    continue
                value = document.get(name)
                if spec.multiline:
                    text = multiline(field_text(name, value)).replace("\n", " ⏎ ")
                else:
                    text = literal(field_text(name, value))
                label = Content.styled(f"{spec.label[:18]:<18} ",
                                       "dim" if not spec.editable else "")
                options.append(Option(label + Content(text), id=name,
                                      disabled=not spec.editable))
        custom = document.get("custom") or {}
        if custom:
            options.append(Option(Content.styled("── custom", "dim"), disabled=True))
            for key, value in custom.items():
                options.append(Option(Content.styled(f"{literal(key)[:18]:<18} ", "dim")
                                      + Content(literal(value)), disabled=True))
        activities = document.get("activities") or []
        options.append(Option(Content.styled(f"── activities ({len(activities)})", "dim"),
                              disabled=True))
        for activity in reversed(activities[-30:]):
            count = activity.get("count", 1)
            options.append(Option(Content.styled(
                f"{activity['at'][:10]} {literal(activity['kind'])}"
                + (f" ×{count}" if count != 1 else ""), "dim"), disabled=True))
        shown = [(option.id, option.prompt) for option in options]
        previous = self._shown_fields
        self._shown_fields = shown
        if previous is not None and len(previous) == len(shown) and all(
                old[0] == new[0] for old, new in zip(previous, shown)):
            # Same contact layout: replace only the rows whose text changed (cheap).
            for index, (old, new) in enumerate(zip(previous, shown)):
                if old[1] != new[1]:
                    fields.replace_option_prompt_at_index(index, new[1])
            return
        fields.set_options(options)
        if highlighted is not None and highlighted < len(options):
            fields.highlighted = highlighted
        elif fields.highlighted is None or fields.highlighted == 0:
            fields.highlighted = 1

    # -- editing ------------------------------------------------------------
    def action_edit(self) -> None:
        fields = self.query_one(FieldList)
        if fields.highlighted is None:
            return
        option = fields.get_option_at_index(fields.highlighted)
        if option.id is None or option.disabled:
            return
        self.start_edit(option.id)

    @on(OptionList.OptionSelected, "#card-fields")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.start_edit(event.option.id)

    def start_edit(self, name: str) -> None:
        spec = FIELDS[name]
        document = self.workspace.get(self.contact_id)
        self.editing = name
        field = self.query_one("#edit-input", Input)
        choices = list(spec.choices)
        if spec.kind == "stage":
            choices = list(self.workspace.rules.stage_ids)
        field.suggester = SuggestFromList(choices, case_sensitive=False) if choices else None
        hint = f" ({'/'.join(choices)})" if choices and len(choices) <= 4 else ""
        self.query_one("#edit-label", Label).update(Content(f"{spec.label}{hint}: "))
        with field.prevent(Input.Changed):
            field.value = field_text(name, document.get(name))
        field.cursor_position = len(field.value)
        field.disabled = False
        self.query_one("#edit-bar").set_class(True, "-editing")
        self._show_error("")
        self.query_one("#edit-hint", Static).update(EDITING_HINT)
        self.draft_valid = True
        self.set_focus(field)  # at once: the keys typed next belong to the edit line
        fields = self.query_one(FieldList)
        self.call_after_refresh(fields.scroll_to_highlight)  # the edit line took a row

    def _draft(self) -> dict[str, Any]:
        assert self.editing is not None
        return {self.editing: parse_value(self.editing, self.query_one("#edit-input",
                                                                           Input).value)}

    @on(Input.Changed, "#edit-input")
    def _draft_changed(self, event: Input.Changed) -> None:
        if self.editing is None:
            return
        try:
            draft = self.workspace.preview(self.contact_id, self._draft())
        except FieldError as error:
            self.draft_valid = False
            self._show_error(str(error.reason if hasattr(error, "reason") else error))
            return
        except FunnelError as error:
            self.draft_valid = False
            self._show_error(str(error))
            return
        self.draft_valid = True
        self._show_error("")
        self.show_contact(draft)

    @on(Input.Submitted, "#edit-input")
    def _commit(self, event: Input.Submitted) -> None:
        if self.editing is None:
            return
        if not self.draft_valid:
            self.app.bell()
            return
        name = self.editing
        self._committing = True  # this screen redraws once, below, not per notification
        try:
            result = self.workspace.edit(self.contact_id, self._draft())
        except FunnelError as error:
            self._show_error(str(error))
            self.app.bell()
            return
        finally:
            self._committing = False
        self._end_edit()
        if result.changed:
            note = f"Saved {FIELDS[name].label}"
            if result.stage_changed:
                note += f": stage {result.before.stage} → {result.after.stage}"
            self.app.notify(note)
        self.app.after_triage([self.contact_id])

    def _end_edit(self) -> None:
        self.editing = None
        self._idle_edit_line()
        self._show_error("")
        self.show_contact()
        self.query_one(FieldList).focus()

    def _idle_edit_line(self) -> None:
        field = self.query_one("#edit-input", Input)
        with field.prevent(Input.Changed):
            field.value = ""
        field.disabled = True  # out of the focus chain until a field is opened
        self.query_one("#edit-label", Label).update("")
        self.query_one("#edit-bar").set_class(False, "-editing")
        self.query_one("#edit-hint", Static).update(IDLE_HINT)

    def _show_error(self, message: str) -> None:
        error = self.query_one("#edit-error", Static)
        error.update(Content.styled(literal(message), "$error") if message else "")
        error.display = bool(message)

    def action_close(self) -> None:
        if self.editing is not None:
            self._end_edit()  # Esc discards the draft
            self.app.notify("Edit discarded")
            return
        self.dismiss()

    def on_key(self, event) -> None:
        # Esc and q belong to the edit line while it is open.
        if self.editing is not None and event.key == "escape":
            event.stop()
            event.prevent_default()
            self.action_close()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.editing is not None and action not in ("close",):
            return False
        return True

    # -- triage from the card --------------------------------------------------
    def action_advance(self) -> None:
        self.app.triage.advance([self.contact_id])

    def action_back(self) -> None:
        self.app.triage.back([self.contact_id])

    def action_move(self) -> None:
        self.app.triage.move_to([self.contact_id])

    def action_disqualify(self) -> None:
        self.app.triage.disqualify([self.contact_id])

    def action_snooze(self) -> None:
        self.app.triage.snooze([self.contact_id])

    def action_assign(self) -> None:
        self.app.triage.assign([self.contact_id])

    def action_tag(self) -> None:
        self.app.triage.tag([self.contact_id])

    def action_adjust(self) -> None:
        self.app.triage.adjust_score(self.contact_id)

    def action_unpin(self) -> None:
        try:
            self.workspace.unpin(self.contact_id)
        except FunnelError as error:
            self.app.notify(str(error), severity="error")
            return
        self.app.notify("Stage back to automatic")
        self.app.after_triage([self.contact_id])

    def action_step(self, delta: int) -> None:
        if self.contact_id not in self.ids:
            return
        index = self.ids.index(self.contact_id) + delta
        if 0 <= index < len(self.ids):
            self.contact_id = self.ids[index]
            self.query_one(FieldList).highlighted = 1
            self.show_contact()

    def contacts_changed(self, ids: tuple[int, ...]) -> None:
        if self._committing:
            return
        if not ids or self.contact_id in ids:
            self.show_contact()
