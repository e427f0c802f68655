"""The card's list of fields: every field by group (the editable ones selectable), then
the custom fields and the latest activities, all shown literally."""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content
from textual.visual import VisualType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from funnel.engine.model import FIELDS
from funnel.tui.panes.contacts.card_content import field_text
from funnel.tui.widgets.text import literal, multiline

GROUPS = ("identity", "acquisition", "qualification", "handling")
LABEL_WIDTH = 18
SHOWN_ACTIVITIES = 30


def field_options(document: dict) -> list[Option]:
    """One option per row; an option's id is its field's name (None for the others)."""
    options: list[Option] = []
    for group in GROUPS:
        options.append(Option(Content.styled(f"── {group}", "dim"), disabled=True))
        for name, spec in FIELDS.items():
            if spec.group != group:
                continue
            value = document.get(name)
            if spec.multiline:
                text = multiline(field_text(value)).replace("\n", " ⏎ ")
            else:
                text = literal(field_text(value))
            label = Content.styled(f"{spec.label[:LABEL_WIDTH]:<{LABEL_WIDTH}} ",
                                   "dim" if not spec.editable else "")
            options.append(Option(label + Content(text), id=name, disabled=not spec.editable))
    custom = document.get("custom") or {}
    if custom:
        options.append(Option(Content.styled("── custom", "dim"), disabled=True))
        for key, value in custom.items():
            options.append(Option(Content.styled(f"{literal(key)[:LABEL_WIDTH]:<{LABEL_WIDTH}} ",
                                                 "dim") + Content(literal(value)), disabled=True))
    activities = document.get("activities") or []
    options.append(Option(Content.styled(f"── activities ({len(activities)})", "dim"),
                          disabled=True))
    for activity in reversed(activities[-SHOWN_ACTIVITIES:]):
        count = activity.get("count", 1)
        options.append(Option(Content.styled(
            f"{activity['at'][:10]} {literal(activity['kind'])}"
            + (f" ×{count}" if count != 1 else ""), "dim"), disabled=True))
    return options


class FieldList(OptionList):
    BINDINGS = [Binding("j", "cursor_down", show=False), Binding("k", "cursor_up", show=False),
                Binding("g", "first", show=False), Binding("G", "last", show=False)]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._shown: list[tuple[str | None, VisualType]] | None = None  # (id, prompt) per row

    def show(self, document: dict) -> None:
        """Show ``document``'s fields, keeping the highlighted row."""
        options = field_options(document)
        shown = [(option.id, option.prompt) for option in options]
        previous = self._shown
        self._shown = shown
        if previous is not None and len(previous) == len(shown) and all(
                old[0] == new[0] for old, new in zip(previous, shown)):
            # Same rows as before: replace only the prompts whose text changed (cheap).
            for index, (old, new) in enumerate(zip(previous, shown)):
                if old[1] != new[1]:
                    self.replace_option_prompt_at_index(index, new[1])
            return
        highlighted = self.highlighted
        self.set_options(options)
        if highlighted is not None and highlighted < len(options):
            self.highlighted = highlighted
        elif self.highlighted is None or self.highlighted == 0:
            self.highlighted = 1  # the first field, under its group's heading

    @property
    def highlighted_field(self) -> str | None:
        """The editable field under the cursor, if any."""
        if self.highlighted is None:
            return None
        option = self.get_option_at_index(self.highlighted)
        return None if option.id is None or option.disabled else option.id
