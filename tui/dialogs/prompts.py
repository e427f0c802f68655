"""Small typed modal dialogs: each asks one thing and dismisses with a typed answer
(None means cancelled): ``push_screen(dialog, callback)`` hands it to the callback.

A value the engine refuses never closes a dialog: it stays open with everything as
typed, the error (what is wrong, how to fix it) on the line under the field it is
about, and the focus on that field. Values are read by the engine's own parsers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from funnel.engine.errors import FieldError
from funnel.engine.model import SOURCES, parse_value
from funnel.engine.model.date_words import parse_day
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
    _Dialog .field-error { display: none; }
    _Dialog .field-error.-shown { display: block; }
    _Dialog OptionList { height: auto; max-height: 12; border: none; padding: 0; }
    _Dialog Input { margin: 0; }
    """

    def action_cancel(self) -> None:
        self.dismiss(None)

    def show_field_error(self, field_id: str, message: str) -> None:
        """``message`` (or nothing) on the error line under the input ``field_id``."""
        line = self.query_one(f"#{field_id}-error", Static)
        line.update(content(message))
        line.set_class(bool(message), "-shown")
        if message:
            self.set_focus(self.query_one(f"#{field_id}", Input))


def field_error(field_id: str) -> Static:
    """The (empty, hidden) error line that goes under the input ``field_id``."""
    return Static("", id=f"{field_id}-error", classes="error field-error")


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

    def answer(self, value: str) -> AnswerT:
        """The answer for ``value``; FieldError refuses it and keeps asking."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(content(self._title), classes="title")
            options = [Option(content(label), id=value) for value, label in self._choices]
            if self._other:
                options.append(Option(content(self._other), id=OTHER))
            yield OptionList(*options, id="choices")
            yield Input(placeholder="type, then Enter", id="other")
            yield field_error("other")
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
        try:
            answer = self.answer(value)
        except FieldError as error:
            self.show_field_error("other", error.reason)
            self.app.bell()
            return
        self.dismiss(answer)


class ChoiceDialog(_PickDialog[str]):
    """Answers with the picked choice's value, or the text typed for ``other``."""

    def answer(self, value: str) -> str:
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
        super().__init__("Follow up on…", snooze_choices(today),
                         other="a date (YYYY-MM-DD, next Friday, in 10 days)…")
        self._today = today

    def answer(self, value: str) -> FollowUp:
        if value == NO_DATE:
            return FollowUp(None)
        # The card's Follow-up field reads what is typed with this same parser.
        return FollowUp(parse_day(value, self._today))


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
    """Points to add to (or take from) a contact's score, with the reason. An answer
    that would change nothing (nothing typed; the adjustment it already has) is
    refused, saying so, rather than reported as done."""

    def __init__(self, points: int = 0, reason: str = "") -> None:
        super().__init__()
        self._points = points
        self._reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Adjust the score by hand", classes="title")
            yield Label("Points (e.g. 10 or -15; 0 removes the adjustment)")
            yield Input(value=str(self._points or ""), id="points", type="integer")
            yield field_error("points")
            yield Label("Reason")
            yield Input(value=self._reason, id="reason")
            yield field_error("reason")
            yield Static("Enter confirms · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#points", Input))

    @on(Input.Submitted, "#points")
    def _next(self) -> None:
        self.set_focus(self.query_one("#reason", Input))

    @on(Input.Submitted, "#reason")
    def _submitted(self) -> None:
        text = self.query_one("#points", Input).value.strip()
        reason = self.query_one("#reason", Input).value.strip()
        self.show_field_error("points", "")
        self.show_field_error("reason", "")
        if not text:
            self.show_field_error("points", "Type the points: 10 adds, -15 takes away, "
                                  "0 removes the adjustment")
            return
        try:
            points = parse_value("score_adjustment", text) or 0
        except FieldError as error:
            self.show_field_error("points", error.reason)
            return
        if points == 0 and not self._points:
            self.show_field_error("points", "0 changes nothing: there is no adjustment to "
                                  "remove; type e.g. 10 or -15")
        elif points and not reason:
            self.show_field_error("reason", "A reason is required: say why (e.g. met at the "
                                  "fair)")
        elif points == self._points and reason == self._reason:
            self.show_field_error("points", "That is the adjustment it has already; change the "
                                  "points or the reason (Esc cancels)")
        else:
            self.dismiss(ScoreAdjustment(points, reason))


class AddContactDialog(_Dialog[NewContactDetails]):
    """The few fields a new contact starts with; the card takes the rest. Each value
    is read as the engine reads typed text (a source as an import reads it: ``Trade
    Show``), and answered with its stored form (``trade_show``)."""

    FIELDS = (("name", "Name"), ("email", "Email"), ("phone", "Phone"),
              ("company", "Company"), ("title", "Job title"), ("source", "Source"))
    # One line per field (label, then a filled band), so all six, their errors and the
    # hint fit at 80x24; a bordered Input takes three lines.
    DEFAULT_CSS = """
    AddContactDialog > Vertical { width: 76; }
    AddContactDialog .form-row { height: 1; }
    /* Under each field its error line, blank while there is none: the gap between rows. */
    AddContactDialog .field-error { display: block; min-height: 1; margin-left: 11; }
    AddContactDialog .form-row Label { width: 11; }
    AddContactDialog .form-row Input, AddContactDialog .form-row Input:focus {
        width: 1fr; height: 1; border: none; padding: 0 1; background: $panel-lighten-2; }
    AddContactDialog .form-row Input:focus { background: $primary 40%; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("New contact", classes="title")
            for name, label in self.FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label)
                    yield Input(id=f"new-{name}", placeholder="e.g. trade show, web form"
                                if name == "source" else "",
                                suggester=SuggestFromList(SOURCES) if name == "source"
                                else None)
                yield field_error(f"new-{name}")
            yield Static("Tab moves · Enter on the last field adds · Esc cancels",
                         classes="hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#new-name", Input))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "new-source":
            self.focus_next()
            return
        values, errors = {}, {}
        for name, _ in self.FIELDS:
            try:
                values[name] = parse_value(name, self.query_one(f"#new-{name}", Input).value)
            except FieldError as error:
                errors[name] = error.reason
        if not (values.get("name") or values.get("email") or errors.keys() & {"name", "email"}):
            errors["name"] = "A name or an email is required: type at least one"
        for name, _ in reversed(self.FIELDS):  # the focus ends on the first bad field
            self.show_field_error(f"new-{name}", errors.get(name, ""))
        if not errors:
            self.dismiss(NewContactDetails(**{name: value or ""
                                              for name, value in values.items()}))
