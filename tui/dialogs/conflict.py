"""The dialog shown when a save is refused because someone changed the contact since:
what you saw, what is stored now (who, when) and what you wanted, side by side, and a
choice: keep theirs, overwrite with mine (recorded as an override), or edit again.

For marked contacts it comes once per refused contact and can settle the rest at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.errors import Clash, Conflict
from funnel.engine.model import FIELDS
from funnel.tui.widgets.text import content, fit, literal

Choice = Literal["theirs", "mine", "edit"]
FIELD_WIDTH, VALUE_WIDTH = 14, 15


@dataclass(frozen=True)
class Resolution:
    choice: Choice
    for_all: bool = False  # the same for every refused contact still to come


def label_of(name: str) -> str:
    spec = FIELDS.get(name)
    return spec.label if spec else name.replace("_", " ").capitalize()


def shown(value: Any) -> str:
    if value is None or value in ("", [], {}):
        return "(empty)"
    return literal(value)


def clash_lines(clashes: tuple[Clash, ...]) -> Content:
    """A small table: field, what you saw, what is there now, yours."""
    head = (fit("field", FIELD_WIDTH) + fit("you saw", VALUE_WIDTH) + fit("now", VALUE_WIDTH)
            + "yours")
    lines = [Content.styled(head, "dim")]
    for clash in clashes:
        mine = shown(clash.mine) if clash.mine is not None else "(not changing it)"
        row = (fit(label_of(clash.field), FIELD_WIDTH) + fit(shown(clash.seen), VALUE_WIDTH)
               + fit(shown(clash.theirs), VALUE_WIDTH) + mine)
        lines.append(Content(row))
        who = f"set by {clash.by}" if clash.by else "changed by another session"
        when = f" at {clash.at.replace('T', ' ').rstrip('Z')}" if clash.at else ""
        lines.append(Content.styled(f"  {label_of(clash.field)} {literal(who + when)}",
                                    "$warning"))
    return Content("\n").join(lines)


class ConflictDialog(ModalScreen[Resolution]):
    """Answers how to settle one refused save. Esc is the choice that loses nothing:
    edit again when ``can_edit``, else keep theirs."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="conflict.cancel"),
        Binding("t", "pick('theirs')", "Keep theirs", id="conflict.theirs"),
        Binding("m", "pick('mine')", "Overwrite with mine", id="conflict.mine"),
        Binding("e", "pick('edit')", "Edit again", id="conflict.edit"),
        Binding("T", "pick('theirs', True)", show=False, id="conflict.theirs_all"),
        Binding("M", "pick('mine', True)", show=False, id="conflict.mine_all"),
        Binding("j", "down", show=False),
        Binding("k", "up", show=False),
    ]
    DEFAULT_CSS = """
    ConflictDialog { align: center middle; }
    ConflictDialog > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: round $warning; padding: 0 1; background: $surface;
    }
    ConflictDialog .title { text-style: bold; margin-bottom: 1; }
    ConflictDialog #clashes { margin-bottom: 1; }
    ConflictDialog OptionList { height: auto; max-height: 8; border: none; padding: 0; }
    ConflictDialog .hint { color: $text-muted; }
    """

    def __init__(self, conflict: Conflict, name: str, *, can_edit: bool = False,
                 remaining: int = 0) -> None:
        super().__init__()
        self.conflict = conflict
        self._name = name
        self._can_edit = can_edit
        self._remaining = remaining  # refused contacts still to settle after this one

    def compose(self) -> ComposeResult:
        title = f"#{self.conflict.contact_id} {self._name} changed since you saw it"
        with Vertical():
            yield Label(content(title), classes="title")
            yield Static(clash_lines(self.conflict.clashes), id="clashes")
            options = [Option("t  keep theirs (discard mine)", id="theirs"),
                       Option("m  overwrite with mine (recorded as an override)", id="mine")]
            if self._can_edit:
                options.append(Option("e  edit again (my draft is kept)", id="edit"))
            if self._remaining:
                rest = f"{self._remaining} other refused contact" + \
                    ("s" if self._remaining > 1 else "")
                options += [Option(f"T  keep theirs here and for the {rest}", id="theirs-all"),
                            Option(f"M  overwrite with mine here and for the {rest}",
                                   id="mine-all")]
            yield OptionList(*options, id="choices")
            yield Static("Enter or a letter picks · Esc: "
                         + ("edit again" if self._can_edit else "keep theirs"), classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#choices", OptionList))

    def action_down(self) -> None:
        self.query_one("#choices", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#choices", OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(Resolution("edit" if self._can_edit else "theirs"))

    def action_pick(self, choice: Choice, for_all: bool = False) -> None:
        if choice == "edit" and not self._can_edit:
            return
        self.dismiss(Resolution(choice, for_all and self._remaining > 0))

    @on(OptionList.OptionSelected, "#choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        picked = event.option.id or "theirs"
        choice, _, every = picked.partition("-")
        self.action_pick(choice, bool(every))  # type: ignore[arg-type]
