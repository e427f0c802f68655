"""Small typed modal dialogs: each asks one thing and dismisses with a typed answer
(None means cancelled): ``push_screen(dialog, callback)`` hands it to the callback."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.model import SOURCES
from funnel.tui.widgets.text import content

DISQUALIFY_REASONS = (
    "not a fit (outside the target market)",
    "no need the product solves",
    "no budget",
    "just curious / student",
    "competitor",
    "spam or fake details",
    "duplicate of another contact",
)
OTHER = "__other__"  # the option that opens the line for typing your own answer
NO_DATE = "none"  # the follow-up option that clears the date

AnswerT = TypeVar("AnswerT")


@dataclass(frozen=True)
class ScoreAdjustment:
    points: int  # 0 removes the adjustment
    reason: str


@dataclass(frozen=True)
class FollowUp:
    day: date | None  # None clears the follow-up date


@dataclass(frozen=True)
class NewContactDetails:
    """What the Add dialog asks for; empty strings were left blank."""

    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    title: str = ""
    source: str = ""

    def fields(self) -> dict[str, str]:
        """The fields that were filled in, as the workspace takes them."""
        return {name: value for name, value in asdict(self).items() if value}


class _Dialog(ModalScreen[AnswerT]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    DEFAULT_CSS = """
    _Dialog { align: center middle; }
    _Dialog > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    _Dialog .title { text-style: bold; margin-bottom: 1; }
    _Dialog .hint { color: $text-muted; }
    _Dialog .error { color: $error; }
    _Dialog OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    _Dialog Input { margin: 0; }
    """

    def action_cancel(self) -> None:
        self.dismiss(None)


class _PickDialog(_Dialog[AnswerT]):
    """Pick one of some choices, or (with ``other``) type your own; ``answer`` turns
    the picked value or typed text into the dialog's answer."""

    BINDINGS = [Binding("j", "down", show=False), Binding("k", "up", show=False)]

    def __init__(self, title: str, choices: list[tuple[str, str]], *, other: str | None = None,
                 hint: str = "") -> None:
        super().__init__()
        self._title = title
        self._choices = choices  # (value, label)
        self._other = other
        self._hint = hint

    def answer(self, value: str) -> AnswerT | None:
        """The answer for ``value``, or None to refuse it and keep asking."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            options = [Option(content(label), id=value) for value, label in self._choices]
            if self._other:
                options.append(Option(content(self._other), id=OTHER))
            yield OptionList(*options, id="choices")
            yield Input(placeholder="type, then Enter", id="other")
            yield Static(content(self._hint or "Enter picks · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#other", Input).display = False
        self.set_focus(self.query_one("#choices", OptionList))

    def action_down(self) -> None:
        self.query_one("#choices", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#choices", OptionList).action_cursor_up()

    @on(OptionList.OptionSelected, "#choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == OTHER:
            field = self.query_one("#other", Input)
            field.display = True
            self.set_focus(field)  # at once: the keys typed next belong to it
            return
        if event.option.id is not None:
            self._give(event.option.id)

    @on(Input.Submitted, "#other")
    def _typed(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            self._give(text)

    def _give(self, value: str) -> None:
        answer = self.answer(value)
        if answer is None:
            self.app.bell()
            return
        self.dismiss(answer)


class ChoiceDialog(_PickDialog[str]):
    """Answers with the picked choice's value, or the text typed for ``other``."""

    def answer(self, value: str) -> str | None:
        return value


def snooze_choices(today: date) -> list[tuple[str, str]]:
    monday = today + timedelta(days=7 - today.weekday())
    picks = [
        ("tomorrow", today + timedelta(days=1)),
        ("in 3 days", today + timedelta(days=3)),
        ("next Monday", monday),
        ("in 2 weeks", today + timedelta(days=14)),
        ("in a month", today + timedelta(days=30)),
        ("in 3 months", today + timedelta(days=91)),
    ]
    choices, seen = [], set()
    for label, day in picks:
        if day not in seen:  # "in 3 days" may be next Monday
            seen.add(day)
            choices.append((day.isoformat(), f"{label:<12} {day.isoformat()} ({day:%a})"))
    choices.append((NO_DATE, "clear the follow-up date"))
    return choices


class SnoozeDialog(_PickDialog[FollowUp]):
    """When to follow up: a day offered, a date typed, or no date at all."""

    def __init__(self, today: date) -> None:
        super().__init__("Follow up on…", snooze_choices(today), other="a date (YYYY-MM-DD)…")

    def answer(self, value: str) -> FollowUp | None:
        if value == NO_DATE:
            return FollowUp(None)
        try:
            return FollowUp(date.fromisoformat(value))
        except ValueError:
            self.query_one(".hint", Static).update(content(f"{value!r} is not a date "
                                                           "(YYYY-MM-DD)"))
            return None


class TextDialog(_Dialog[str]):
    """Type one line. Empty answers are refused unless ``allow_empty``."""

    def __init__(self, title: str, value: str = "", *, hint: str = "",
                 allow_empty: bool = False, suggestions: list[str] | None = None) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._hint = hint
        self._allow_empty = allow_empty
        self._suggestions = suggestions or []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            yield Input(value=self._value, id="answer",
                        suggester=SuggestFromList(self._suggestions, case_sensitive=False)
                        if self._suggestions else None)
            yield Static("", id="error", classes="error")
            yield Static(content(self._hint or "Enter confirms · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#answer", Input))

    @on(Input.Submitted, "#answer")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text and not self._allow_empty:
            self.query_one("#error", Static).update("An answer is required (Esc cancels)")
            return
        self.dismiss(text)


class ScoreAdjustDialog(_Dialog[ScoreAdjustment]):
    """Points to add to (or take from) a contact's score, with the reason."""

    def __init__(self, points: int = 0, reason: str = "") -> None:
        super().__init__()
        self._points = points
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Adjust the score by hand", classes="title")
            yield Label("Points (e.g. 10 or -15; 0 removes the adjustment)")
            yield Input(value=str(self._points or ""), id="points", type="integer")
            yield Label("Reason")
            yield Input(value=self._reason, id="reason")
            yield Static("", id="error", classes="error")
            yield Static("Enter confirms · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#points", Input))

    @on(Input.Submitted, "#points")
    def _next(self) -> None:
        self.set_focus(self.query_one("#reason", Input))

    @on(Input.Submitted, "#reason")
    def _submitted(self) -> None:
        text = self.query_one("#points", Input).value.strip() or "0"
        reason = self.query_one("#reason", Input).value.strip()
        try:
            points = int(text)
        except ValueError:
            self.query_one("#error", Static).update("Points must be a whole number")
            return
        if points and not reason:
            self.query_one("#error", Static).update("A reason is required")
            return
        self.dismiss(ScoreAdjustment(points, reason))


class AddContactDialog(_Dialog[NewContactDetails]):
    """The few fields a new contact starts with; the card takes the rest."""

    FIELDS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"),
              ("company", "Company"), ("title", "Job title"), ("source", "Source"))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New contact", classes="title")
            for name, label in self.FIELDS:
                yield Input(placeholder=label, id=f"new-{name}",
                            suggester=SuggestFromList(SOURCES) if name == "source" else None)
            yield Static("", id="error", classes="error")
            yield Static("Tab moves · Enter on the last field adds · Esc cancels",
                         classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#new-name", Input))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "new-source":
            self.focus_next()
            return
        details = NewContactDetails(**{name: self.query_one(f"#new-{name}", Input).value.strip()
                                       for name, _ in self.FIELDS})
        if not (details.name or details.email):
            self.query_one("#error", Static).update("A name or an email is required")
            return
        self.dismiss(details)
