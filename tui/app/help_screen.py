"""The help screen, generated from the bindings that are really in force."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from funnel.engine.workspace.query import VIEWS

QUERY_HELP = """\
stage:lead  temp:hot  grade:4  type:SRL  source:trade_show  owner:me  tag:vip
score>60  fit>=20  engagement<10     overdue  rotting  manual  unowned  custom.City:pune
-stage:lost (a leading - negates)    acme  "van dijk" (text in name, company, email, title)"""


def describe_key(key: str) -> str:
    names = {"greater_than_sign": ">", "less_than_sign": "<", "slash": "/",
             "question_mark": "?", "plus": "+", "equals_sign": "=", "space": "space",
             "right_square_bracket": "]", "left_square_bracket": "[", "escape": "esc"}
    return ",".join(names.get(part, part) for part in key.split(","))


def help_section(title: str, bindings: Iterable[BindingType]) -> tuple[str, list[Binding]]:
    """A titled section of the help from a class's BINDINGS (all Binding objects here)."""
    return title, [binding for binding in bindings if isinstance(binding, Binding)]


def binding_lines(title: str, bindings: list[Binding]) -> list[Content]:
    lines = [Content.styled(title, "bold underline")]
    for binding in bindings:
        if not binding.description:
            continue
        lines.append(Content.styled(f"  {describe_key(binding.key):<16}", "bold")
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
        for title, bindings in self._sections:
            lines += binding_lines(title, bindings)
            lines.append(Content(""))
        lines.append(Content.styled("Filter language (/)", "bold underline"))
        lines += [Content("  " + line) for line in QUERY_HELP.splitlines()]
        lines.append(Content(""))
        lines.append(Content.styled("Views (v)", "bold underline"))
        lines += [Content(f"  {name:<10}{query or '(everything)'}") for name, query
                  in VIEWS.items()]
        with VerticalScroll():
            yield Static(Content("\n").join(lines), id="help-text")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

    def action_scroll(self, delta: int) -> None:
        self.query_one(VerticalScroll).scroll_relative(y=delta, animate=False)
