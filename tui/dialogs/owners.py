"""The owner picker: type a name, or pick among the people who own contacts (with how
many each owns); choose several to give the contacts to them in turn (round-robin).

The line at the top is what Enter assigns: one name, several separated by commas (in
turn, in that order), or nothing (nobody). In the list below it, Enter picks the
highlighted person alone, and space adds (or removes) the highlighted person to the
names on the line, so a turn can be built from the list, a typed new name included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.errors import FieldError
from funnel.engine.model.people_text import check_name
from funnel.tui.widgets.text import content

HINT = ("Enter confirms · ↓ the people who own contacts · space adds one to the turn "
        "(several: in turn, in list order) · Esc cancels")


@dataclass(frozen=True)
class OwnerChoice:
    owners: tuple[str, ...]  # (): nobody; one: all to them; several: in turn, in this order


def names_on(line: str) -> list[str]:
    """The names typed on the line (comma-separated), each once, in order."""
    names: list[str] = []
    for part in line.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names


class OwnerDialog(ModalScreen[OwnerChoice]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="owners.cancel"),
        Binding("down", "to_list", "The people who own contacts", show=False,
                id="owners.list"),
    ]
    DEFAULT_CSS = """
    OwnerDialog { align: center middle; }
    OwnerDialog > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    OwnerDialog .title { text-style: bold; margin-bottom: 1; }
    OwnerDialog .hint { color: $text-muted; }
    OwnerDialog #owner-error { color: $error; display: none; }
    OwnerDialog #owner-error.-shown { display: block; }
    OwnerDialog OptionList { height: auto; max-height: 10; border: none; padding: 0; }
    OwnerDialog Input { margin: 0; }
    """

    def __init__(self, title: str, value: str,
                 owners: Callable[[], list[tuple[str, int]]]) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._owners = owners  # -> (name, contacts owned), most first; read in a worker
        self._turn_built = False  # space was used in the list: Enter gives the line

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            yield Input(self._value, id="owner-name", select_on_focus=False)
            yield Static("", id="owner-error")
            yield OptionList(id="owner-list")
            yield Static(content(HINT), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#owner-list", OptionList).display = False
        self.set_focus(self.query_one("#owner-name", Input))  # at once: typing goes there
        self._load_owners()

    @work(thread=True, exclusive=True, group="owners")
    def _load_owners(self) -> None:
        owners = self._owners()  # every contact is read: not on the UI thread
        self.app.call_from_thread(self._show_owners, owners)

    def _show_owners(self, owners: list[tuple[str, int]]) -> None:
        if self not in self.app.screen_stack or not self.is_attached:
            return  # a name was typed and given before the list came: it is going
        options = self.query_one("#owner-list", OptionList)
        options.add_options([Option(content(f"{name:<28} {count:>7,}"), id=name)
                             for name, count in owners])
        options.display = bool(owners)

    @property
    def line(self) -> Input:
        return self.query_one("#owner-name", Input)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_to_list(self) -> None:
        options = self.query_one("#owner-list", OptionList)
        if self.line.has_focus and options.option_count:
            self.set_focus(options)
            if options.highlighted is None:
                options.highlighted = 0

    def on_key(self, event) -> None:
        options = self.query_one("#owner-list", OptionList)
        if not options.has_focus:
            return
        if event.key == "space":
            event.stop()
            self._toggle(options)
        elif event.key == "up" and options.highlighted in (None, 0):
            event.stop()
            self.set_focus(self.line)

    def _toggle(self, options: OptionList) -> None:
        if options.highlighted is None:
            return
        name = options.get_option_at_index(options.highlighted).id or ""
        names = names_on(self.line.value)
        if not self._turn_built and self.line.value.strip() == self._value:
            names = []  # the name suggested at first is not part of the turn unless chosen
        names = [n for n in names if n != name] if name in names else names + [name]
        # The turn goes in the list's order (deterministic), names typed anew after it.
        listed = [options.get_option_at_index(index).id
                  for index in range(options.option_count)]
        names.sort(key=lambda n: listed.index(n) if n in listed else len(listed))
        self.line.value = ", ".join(names)
        self._turn_built = True

    @on(OptionList.OptionSelected, "#owner-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if self._turn_built:  # the turn built with space, as the line shows it
            self._give(names_on(self.line.value))
        else:
            self._give([event.option.id or ""])

    @on(Input.Submitted, "#owner-name")
    def _typed(self, event: Input.Submitted) -> None:
        self._give(names_on(event.value))

    def _give(self, names: list[str]) -> None:
        try:
            owners = tuple(check_name(name, "owner") for name in names if name)
        except FieldError as error:
            line = self.query_one("#owner-error", Static)
            line.update(content(error.reason))
            line.add_class("-shown")
            self.set_focus(self.line)
            self.app.bell()
            return
        self.dismiss(OwnerChoice(owners))
