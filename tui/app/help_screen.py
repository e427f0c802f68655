"""The help screen, generated from the bindings that are really in force."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable, Mapping

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from funnel.engine.workspace.query import VIEWS
from funnel.tui.app.keymap import key_list, keymap_keys
from funnel.tui.app.services import services

KEY_WIDTH = 24  # the widest keys' column; longer keys get a line of their own

QUERY_HELP = """\
stage:lead  temp:hot  grade:4  type:SRL  source:trade_show  owner:me  tag:vip
score>60  fit>=20  engagement<10  overdue  unanswered  rotting  manual  unowned  custom.City:pune
-stage:lost (a leading - negates)    acme  "van dijk" (text in name, company, email, title)"""


def describe_key(key: str) -> str:
    names = {"greater_than_sign": ">", "less_than_sign": "<", "slash": "/",
             "question_mark": "?", "plus": "+", "equals_sign": "=", "space": "space",
             "right_square_bracket": "]", "left_square_bracket": "[", "escape": "esc",
             "asterisk": "*", "minus": "-"}
    return ",".join(names.get(part, part) for part in key.split(","))


def help_section(title: str, bindings: Iterable[BindingType]) -> tuple[str, list[Binding]]:
    """A titled section of the help from a class's BINDINGS (all Binding objects here)."""
    return title, [binding for binding in bindings if isinstance(binding, Binding)]


def in_force(sections: list[tuple[str, list[Binding]]],
             keymap: Mapping[str, str] | None) -> list[tuple[str, list[Binding]]]:
    """The sections as the keys really are: remapped by the user's key map, and each
    key shown only where it acts. Sections come nearest first (the focused widget,
    then its pane, then the app), as Textual looks for a key's binding; a key an
    earlier section holds never reaches a later one (the card's q goes back, so the
    app's q Quit is not listed there)."""
    taken: set[str] = set()
    result = []
    for title, bindings in sections:
        shown, holds = [], set()
        for binding in bindings:
            keys = [key for key in key_list(keymap_keys(binding, keymap)) if key not in taken]
            holds.update(keys)
            if keys:
                shown.append(replace(binding, key=",".join(keys)))
        taken |= holds
        result.append((title, shown))
    return result


def binding_lines(title: str, bindings: list[Binding], width: int = KEY_WIDTH) -> list[Content]:
    """A title, then one line per binding: its keys in a column of ``width``, then what
    it does; keys longer than the column get a line of their own, so the two never meet."""
    lines = [Content.styled(title, "bold underline")]
    for binding in bindings:
        if not binding.description:
            continue
        keys = describe_key(binding.key)
        if len(keys) > width:
            lines.append(Content.styled(f"  {keys}", "bold"))
            keys = ""
        lines.append(Content.styled(f"  {keys:<{width}}  ", "bold")
                     + Content(binding.description))
    return lines


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss_help", "Close", id="help.close"),
                Binding("j,down", "scroll(1)", show=False),
                Binding("k,up", "scroll(-1)", show=False)]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    """

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self._sections = sections

    def compose(self) -> ComposeResult:
        lines: list[Content] = [Content.styled("Funnel: keys", "bold"), Content("")]
        sections = in_force(self._sections, services(self).settings.keymap)
        width = min(KEY_WIDTH, max((len(describe_key(binding.key)) for _, bindings in sections
                                    for binding in bindings), default=0))
        for title, bindings in sections:
            lines += binding_lines(title, bindings, width)
            lines.append(Content(""))
        lines.append(Content.styled("Filter language (/)", "bold underline"))
        lines += [Content("  " + line) for line in QUERY_HELP.splitlines()]
        lines.append(Content(""))
        lines.append(Content.styled("Views (v)", "bold underline"))
        lines += [Content(f"  {name:<10}{query or '(everything)'}") for name, query
                  in VIEWS.items()]
        lines += [Content("  new       arrived since you last opened Funnel, newest first"),
                  Content("  your own  v, then s: the current filter and sort, saved by name; "
                          "C chooses columns")]
        with VerticalScroll():
            yield Static(Content("\n").join(lines), id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

    def action_scroll(self, delta: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=delta, animate=False)
