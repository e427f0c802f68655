"""Unsafe characters: one definition (C0, DEL, C1, bidi controls), shown visibly on
screen and in printed text; terminal controls refused in contact values, bidi controls
kept in values (real data has them) but refused in names and tags."""

from __future__ import annotations

import pytest

from funnel.engine.errors import FieldError
from funnel.engine.model import validate_custom, validate_value
from funnel.engine.text import UNSAFE, escape, visible
from funnel.tui.cli.output import safe
from funnel.tui.widgets.text import literal, multiline

BIDI = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
        "\u2066", "\u2067", "\u2068", "\u2069"]
C1 = [chr(code) for code in range(0x80, 0xA0)]
C0 = [chr(code) for code in range(0x20)] + ["\x7f"]


@pytest.mark.parametrize("char", C0 + C1 + BIDI, ids=lambda c: f"U+{ord(c):04X}")
def test_every_control_and_bidi_character_is_unsafe(char: str) -> None:
    assert UNSAFE.fullmatch(char)


@pytest.mark.parametrize("char", [" ", "a", "é", "\u00a0", "\u200d", "\u2028", "ش", "中"])
def test_ordinary_text_is_safe(char: str) -> None:
    assert not UNSAFE.search(char)


def test_escapes_name_the_character() -> None:
    assert escape("\x1b") == "\\x1b"
    assert escape("\x85") == "\\x85"
    assert escape("\u202e") == "\\u202e"


def test_printed_text_shows_c1_and_bidi_as_escapes_and_keeps_tabs_and_newlines() -> None:
    assert safe("a\u202eb\u2066c") == "a\\u202eb\\u2066c"
    assert safe("x\x9b31m\x85y") == "x\\x9b31m\\x85y"
    assert safe("x\x1b[31mred\x07") == "x\\x1b[31mred\\x07"
    assert safe("one\ttwo\nthree\r") == "one\ttwo\nthree\\x0d"
    assert safe(None) == ""


def test_one_line_text_shows_stand_ins() -> None:
    assert literal("Evil\x1b[2J\x07\tx\ny\rz") == "Evil␛[2J� x⏎y⏎z"
    assert literal("a\u202eb\u200fc\x9bd") == "a�b�c�d"
    assert "\u202e" not in literal(["ok", "evil\u202e"])
    assert multiline("line\u2067one\nline two") == "line�one\nline two"


def test_visible_leaves_safe_text_alone() -> None:
    text = "Ünïcode — 中文 ش"
    assert visible(text) is text
    assert visible(text, one_line=True) is text


@pytest.mark.parametrize("char", ["\x85", "\x9b", "\x1b", "\x07"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_contact_text_refuses_terminal_controls(char: str) -> None:
    with pytest.raises(FieldError, match="control characters are not allowed"):
        validate_value("name", f"Anna{char} Smith")
    with pytest.raises(FieldError, match="control characters are not allowed"):
        validate_custom({"badge": f"x{char}y"})


@pytest.mark.parametrize("char", ["\u202a", "\u202c", "\u202e", "\u2066", "\u061c", "\u200f"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_contact_values_keep_bidi_marks_but_screens_show_them(char: str) -> None:
    """Real data carries them (a phone copied from a mail client: U+202A…U+202C)."""
    assert validate_value("name", f"Anna{char} Smith") == f"Anna{char} Smith"
    assert validate_custom({"badge": f"x{char}y"}) == {"badge": f"x{char}y"}
    assert char not in literal(f"Anna{char} Smith")
    assert char not in safe(f"Anna{char} Smith")


@pytest.mark.parametrize("char", ["\x85", "\x1b", "\u202e", "\u2066", "\u061c", "\u200f"],
                         ids=lambda c: f"U+{ord(c):04X}")
def test_names_and_tags_refuse_controls_and_bidi(char: str) -> None:
    with pytest.raises(FieldError, match="not a custom field name"):
        validate_custom({f"bad{char}name": "x"})
    with pytest.raises(FieldError, match="not a tag"):
        validate_value("tags", [f"vip{char}x"])


def test_contact_text_keeps_tabs_and_newlines() -> None:
    assert validate_value("notes", "first\tline\nsecond") == "first\tline\nsecond"
    assert validate_custom({"note": "a\tb"}) == {"note": "a\tb"}
