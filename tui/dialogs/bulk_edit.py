"""The bulk edit form: pick a field, type its value, and every marked contact gets it.

The value is read as the card reads it (``parse_value``: choices as an import spells
them, days in words) and checked before the form closes (``check``); a bad value is
shown under the line and the form stays open with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.errors import FieldError
from funnel.engine.model import FIELDS
from funnel.tui.widgets.text import content

Check = Callable[[str, str], Any]  # (field, typed text) -> the value, or FieldError


@dataclass(frozen=True)
class BulkEdit:
    field: str
    value: Any  # as stored (None: cleared)


def editable_fields() -> list[tuple[str, str]]:
    """(field, what the list shows) for every field a person may edit."""
    return [(name, f"{spec.label:<26} {spec.describe_allowed()}"[:60])
            for name, spec in FIELDS.items() if spec.editable]


class BulkEditDialog(ModalScreen[BulkEdit]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="bulk_edit.cancel"),
        Binding("j", "down", "Next field", show=False, id="bulk_edit.down"),
        Binding("k", "up", "Previous field", show=False, id="bulk_edit.up"),
    ]
    DEFAULT_CSS = """
    BulkEditDialog { align: center middle; }
    BulkEditDialog > Vertical {
        width: 68; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    BulkEditDialog .title { text-style: bold; margin-bottom: 1; }
    BulkEditDialog .hint { color: $text-muted; }
    BulkEditDialog #bulk-value-error { color: $error; display: none; }
    BulkEditDialog #bulk-value-error.-shown { display: block; }
    BulkEditDialog OptionList { height: auto; max-height: 10; border: none; padding: 0; }
    BulkEditDialog Input { margin: 0; }
    """

    def __init__(self, title: str, check: Check) -> None:
        super().__init__()
        self._title = title
        self._check = check
        self.field: str | None = None  # picked

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            yield OptionList(*[Option(content(label), id=name)
                               for name, label in editable_fields()], id="bulk-fields")
            yield Label("", id="bulk-field-label")
            yield Input(placeholder="the new value (empty clears it)", id="bulk-value")
            yield Static("", id="bulk-value-error")
            yield Static(content("Enter picks the field, then Enter sets it on every "
                                 "contact · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#bulk-value", Input).display = False
        self.set_focus(self.query_one("#bulk-fields", OptionList))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_down(self) -> None:
        self.query_one("#bulk-fields", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#bulk-fields", OptionList).action_cursor_up()

    @on(OptionList.OptionSelected, "#bulk-fields")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.field = event.option.id
        if self.field is None:
            return
        spec = FIELDS[self.field]
        self.query_one("#bulk-field-label", Label).update(
            content(f"{spec.label}: {spec.describe_allowed()}"))
        line = self.query_one("#bulk-value", Input)
        line.display = True
        self.set_focus(line)  # at once: the keys typed next belong to the value

    @on(Input.Submitted, "#bulk-value")
    def _typed(self, event: Input.Submitted) -> None:
        if self.field is None:
            return
        try:
            value = self._check(self.field, event.value)
        except FieldError as error:
            message = self.query_one("#bulk-value-error", Static)
            message.update(content(error.reason))
            message.add_class("-shown")
            self.app.bell()
            return  # the form stays open with what was typed
        self.dismiss(BulkEdit(self.field, value))
