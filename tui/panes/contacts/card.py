"""The contact card: every field, the classification and why, the lifecycle timeline.

Editing a field classifies a draft on every keystroke (nothing is written) and
shows what would change; Enter commits through the workspace, Esc discards.
"""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static

from funnel.engine.errors import Conflict, FieldError, FunnelError
from funnel.engine.model import FIELDS, parse_value
from funnel.engine.rules.classify import Classification
from funnel.engine.workspace.expectations import last_change, same_value
from funnel.engine.workspace.facade import EditResult, Workspace
from funnel.tui.app.services import services
from funnel.tui.dialogs.conflict import ConflictDialog, Resolution, shown
from funnel.tui.panes.contacts.card_content import (answer_badge, badges, explanation,
                                                    field_text, likelihood, timeline)
from funnel.tui.panes.contacts.field_list import FieldList
from funnel.tui.panes.contacts.triage import TriageActions, triage_bindings
from funnel.tui.panes.contacts.desk_actions import DeskActions
from funnel.tui.widgets.footer import TidyFooter
from funnel.tui.widgets.table_columns import contact_label
from funnel.tui.widgets.text import literal

IDLE_HINT = "Enter edits the highlighted field · + adjusts the score · P releases a pin"
EDITING_HINT = "Enter saves · Esc discards · the badges above show the draft"


class ContactScreen(DeskActions, TriageActions, Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="card.close"),
        Binding("enter,e", "edit", "Edit field", id="card.edit"),
        *triage_bindings("card", back="Back a stage", owner_and_tag_shown=False),
        Binding("plus,equals_sign", "adjust", "Adjust score", id="card.adjust"),
        Binding("l", "log_work", "Log work", id="card.log"),
        Binding("P", "unpin", "Unpin stage", show=False, id="card.unpin"),
        Binding("n", "step(1)", "Next contact", id="card.next"),
        Binding("N", "step(-1)", "Previous", show=False, id="card.previous"),
    ]

    def __init__(self, contact_id: int, ids: list[int] | None = None, *,
                 edit: bool = False) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.ids = ids or [contact_id]
        self._place: tuple[int, int | None] | None = None  # (contact, its index in ids)
        self._start_editing = edit
        self.editing: str | None = None
        self.seen: dict[str, Any] = {}  # the edited field as it was when the edit began
        self._refused: Conflict | None = None  # the last refusal, if "edit again" was picked
        self.draft_valid = True
        # The stored contact and classification drawn last (None while a draft shows):
        # a change heard later that left both as they are has nothing new to draw.
        self._drawn: tuple[dict, Classification] | None = None
        self._parts: dict[str, Content] = {}  # what each part of the card shows

    def compose(self) -> ComposeResult:
        with Vertical(id="card"):
            yield Static("", id="card-title")
            yield Static("", id="card-badges")
            with Horizontal(id="card-body"):
                yield FieldList(id="card-fields")
                with VerticalScroll(id="card-side"):
                    yield Static("", id="card-likely")
                    yield Static("", id="card-why")
                    yield Static("", id="card-timeline")
            with Horizontal(id="edit-bar"):
                yield Label("", id="edit-label")
                yield Input(id="edit-input")
            yield Static("", id="edit-error")
            yield Static("", id="edit-remote")
            yield Static(IDLE_HINT, id="edit-hint")
        yield TidyFooter()  # keys that do not fit are left out, never cut

    def on_mount(self) -> None:
        # The edit line and its hint keep their rows when idle: starting or ending an
        # edit then repaints two lines instead of laying out the whole card again.
        self._idle_edit_line()
        self.query_one("#edit-error").display = False
        self.query_one("#edit-remote").display = False
        self.show_contact()
        # Focus at once, not after a refresh: keys typed right after opening the card
        # (or the field, with e) belong to it.
        self.set_focus(self.query_one(FieldList))
        if self._start_editing:
            self.action_edit()

    @property
    def workspace(self) -> Workspace:
        return services(self).workspace

    def triage_targets(self) -> list[int]:
        return [self.contact_id]

    # -- showing ------------------------------------------------------------
    def show_contact(self, draft: Classification | None = None) -> None:
        try:
            document, result = self.workspace.row(self.contact_id)
        except FunnelError:
            self._drawn = None
            self._show_part("#card-title", Content(f"Contact {self.contact_id} no longer exists"))
            return
        self._drawn = (document, result) if draft is None else None
        name = contact_label(document)  # the name, email or external id
        company = literal(document.get("company"))
        index = self._index()
        where = "" if index is None else f"{index + 1:,} of {len(self.ids):,}"
        title = Content.styled(f"#{self.contact_id} ", "dim") + Content.styled(name, "bold")
        if company:
            title += Content(" · ") + Content(company)
        if where:
            title += Content.styled(f"   {where}", "dim")
        self._show_part("#card-title", title)
        self._show_part("#card-badges", badges(result, draft,
                                               answer_badge(self.workspace, document, result)))
        if draft is None:  # the stored contact's likelihood (a draft keeps what shows)
            self._show_part("#card-likely", likelihood(self.workspace, self.contact_id))
        self._show_part("#card-why", explanation(result, draft))
        self._show_part("#card-timeline", timeline(document))
        if self.editing is None:
            self.query_one(FieldList).show(document)

    def _index(self) -> int | None:
        """Where the contact is in the list the card was opened from. Looked up once per
        contact: the list may hold every contact, and the card draws on every keystroke
        of an edit."""
        if self._place is None or self._place[0] != self.contact_id:
            index = self.ids.index(self.contact_id) if self.contact_id in self.ids else None
            self._place = (self.contact_id, index)
        return self._place[1]

    def _show_part(self, selector: str, content: Content) -> None:
        """Show ``content`` in a part of the card, unless it shows just that already:
        an update lays the part out and draws it again, and a save or a keystroke in
        the edit line changes only some parts (the timeline stays while typing)."""
        shown = self._parts.get(selector)
        if shown is not None and shown.plain == content.plain and shown.spans == content.spans:
            return
        self._parts[selector] = content
        self.query_one(selector, Static).update(content)

    # -- editing ------------------------------------------------------------
    def action_edit(self) -> None:
        name = self.query_one(FieldList).highlighted_field
        if name is not None:
            self.start_edit(name)

    @on(OptionList.OptionSelected, "#card-fields")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.start_edit(event.option.id)

    def start_edit(self, name: str) -> None:
        spec = FIELDS[name]
        document = self.workspace.get(self.contact_id)
        self.editing = name
        self.seen = {name: document.get(name)}  # what the save will be based on
        self._refused = None
        field = self.query_one("#edit-input", Input)
        choices = list(spec.choices)
        if spec.kind == "stage":
            choices = list(self.workspace.rules.stage_ids)
        field.suggester = SuggestFromList(choices, case_sensitive=False) if choices else None
        hint = f" ({'/'.join(choices)})" if choices and len(choices) <= 4 else ""
        self.query_one("#edit-label", Label).update(Content(f"{spec.label}{hint}: "))
        with field.prevent(Input.Changed):
            field.value = field_text(document.get(name))
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
        # A date may be typed as a day in words (tomorrow), read as the snooze reads it.
        return {self.editing: parse_value(self.editing, self.query_one("#edit-input",
                                                                           Input).value,
                                          services(self).today())}

    @on(Input.Changed, "#edit-input")
    def _draft_changed(self, event: Input.Changed) -> None:
        self._preview_draft()

    def _preview_draft(self) -> None:
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
        try:
            if self._refused is not None:  # edit again after a refusal: knowingly over theirs
                result = self.workspace.override(self._redone(self._refused))
            else:
                result = self.workspace.edit(self.contact_id, self._draft(), expect=self.seen)
        except Conflict as conflict:
            self._ask_about(conflict)
            return
        except FunnelError as error:
            self._show_error(str(error))
            self.app.bell()
            return
        self._saved(name, result)

    def _saved(self, name: str, result: EditResult, over: str = "") -> None:
        self._end_edit()
        if result.changed:
            note = f"Saved {FIELDS[name].label}{over}"
            if result.stage_changed:
                note += f": stage {result.before.stage} → {result.after.stage}"
            self.app.notify(note)
        services(self).after_triage([self.contact_id])

    # -- a save refused because someone changed the field since ---------------
    def _redone(self, refused: Conflict) -> Conflict:
        """The refusal with the draft as it is now: what "overwrite" will write."""
        return Conflict(str(refused), contact_id=refused.contact_id, clashes=refused.clashes,
                        changes=self._draft(), expect=refused.expect)

    def _ask_about(self, conflict: Conflict) -> None:
        self.app.bell()
        self._show_remote("")
        document, _ = self.workspace.row(self.contact_id)
        name = contact_label(document)  # the name, email or external id
        self.app.push_screen(ConflictDialog(conflict, name, can_edit=True),
                             lambda answer: self._settle(conflict, answer))

    def _settle(self, conflict: Conflict, answer: Resolution | None) -> None:
        name = self.editing
        if name is None:
            return
        who = next((clash.by for clash in conflict.clashes if clash.by), None) or "someone"
        choice = answer.choice if answer else "edit"
        if choice == "theirs":
            self._end_edit()
            self.app.notify(f"Kept {who}'s {FIELDS[name].label}; yours was discarded")
        elif choice == "mine":
            try:
                result = self.workspace.override(self._redone(conflict))
            except Conflict as again:
                self._ask_about(again)
                return
            except FunnelError as error:
                self._show_error(str(error))
                return
            self._saved(name, result, f" over {who}'s change")
        else:  # edit again: the next Enter writes over theirs, which the person has now seen
            self._refused = conflict
            self._show_remote(f"{who} set it to {shown(conflict.clashes[0].theirs)}; "
                              "Enter saves yours over it, Esc discards yours")
            self.set_focus(self.query_one("#edit-input", Input))

    def _show_remote(self, message: str) -> None:
        line = self.query_one("#edit-remote", Static)
        line.update(Content.styled(literal(message), "$warning") if message else "")
        line.display = bool(message)

    def _remote_change_while_editing(self) -> None:
        """Flag at once a change another session made to the field being edited."""
        if self.editing is None:
            return
        try:
            document, _ = self.workspace.row(self.contact_id)
        except FunnelError:
            self._show_remote("this contact was deleted by someone else")
            return
        seen = self.seen.get(self.editing)
        if self._refused is not None:  # after "edit again", theirs is what was seen
            seen = next((clash.theirs for clash in self._refused.clashes
                         if clash.field == self.editing), seen)
        now = document.get(self.editing)
        if same_value(now, seen):
            if self._refused is None:
                self._show_remote("")
            return
        by, _ = last_change(document, self.editing)
        self._show_remote(f"changed by {by or 'someone else'} while you were typing: now "
                          f"{shown(now)} (Enter will ask which to keep)")

    def _end_edit(self) -> None:
        # Focus first: the edit line, disabled below, then has no focus to hand on (else
        # Textual looks for the next widget to focus, and focuses it, before this does).
        self.set_focus(self.query_one(FieldList))
        self.editing = None
        self._refused = None
        self._show_remote("")
        self._idle_edit_line()
        self._show_error("")
        self.show_contact()

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

    def on_key(self, event: events.Key) -> None:
        # Esc and q belong to the edit line while it is open.
        if self.editing is not None and event.key == "escape":
            event.stop()
            event.prevent_default()
            self.action_close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.editing is not None and action not in ("close",):
            return False
        return True

    # -- triage from the card (the shared ones come from TriageActions) ------
    def action_adjust(self) -> None:
        self.triage.adjust_score(self.contact_id)

    def action_unpin(self) -> None:
        self.triage.unpin(self.contact_id)

    def action_step(self, delta: int) -> None:
        index = self._index()
        if index is None:
            return
        index += delta
        if 0 <= index < len(self.ids):
            self.contact_id = self.ids[index]
            self._place = (self.contact_id, index)
            self.query_one(FieldList).highlighted = 1
            self.show_contact()

    def contacts_changed(self, ids: tuple[int, ...]) -> None:
        if not ids or self.contact_id in ids:
            if self.editing is None:
                if not self._drawn_already():
                    self.show_contact()
            else:  # the draft's badges, over what is stored now
                self._preview_draft()
                self._remote_change_while_editing()

    def _drawn_already(self) -> bool:
        """Whether the card shows the contact as stored now, classified as now (the
        change heard is this card's own save, drawn when it was made). Stored contacts
        and classifications are replaced, never changed in place, on every change."""
        if self._drawn is None:
            return False
        try:
            document, result = self.workspace.row(self.contact_id)
        except FunnelError:
            return False
        return document is self._drawn[0] and result is self._drawn[1]
