"""Edit the numbers of a rules file in place, keeping every comment and the layout.

The Scoring tab tunes a rule's points (and an activity rule's ``max``), the grade
thresholds and the engagement half-life. The file is never re-dumped: each
number is found in the text by the YAML parser's own marks and only its
characters are replaced, so comments, blank lines, quoting and key order all
stay as the person wrote them. The result is checked with ``parse_rules`` (the
same loader that opens the app) before anyone can use or save it, and saving
writes atomically, never into the shipped presets.

Here lives ``RulesText``, the editor; ``number_slots`` finds the numbers (and says
how they are addressed), ``number_checks`` checks values, ``saving`` writes the file.
The names the Scoring tab uses from those are re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from funnel.engine.errors import ConfigError
from funnel.engine.rules.loading import parse_rules
from funnel.engine.rules.number_checks import (EditError, check_number, format_number,
                                               parse_number)
from funnel.engine.rules.number_slots import GRADES, HALF_LIFE, Slot, locate_numbers
from funnel.engine.rules.ruleset import Rules
from funnel.engine.rules.saving import (RulesConflict, file_fingerprint, fingerprint, is_preset,
                                        save_rules)

__all__ = ["GRADES", "HALF_LIFE", "EditError", "RulesConflict", "RulesText", "Slot",
           "file_fingerprint", "format_number", "is_preset", "parse_number", "save_rules"]


class RulesText:
    """The text of a rules file with its editable numbers located."""

    def __init__(self, text: str, source: str = "<rules>") -> None:
        self.text = text
        self.source = source
        self.slots: dict[str, Slot] = locate_numbers(text, source)
        self.stale = False  # the file changed on disk since the rules were loaded (``of``)

    @classmethod
    def of(cls, rules: Rules) -> "RulesText":
        """The text the active rules were loaded from (``rules.source``).

        ``stale`` tells whether the file changed on disk since the rules were loaded.
        """
        path = Path(rules.source)
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise ConfigError(rules.source, None, "cannot read the rules file to edit it: "
                              f"{error.strerror or error}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ConfigError(rules.source, None, f"not UTF-8 text (byte {error.start})") \
                from None
        found = cls(text, rules.source)
        found.stale = fingerprint(raw) != rules.fingerprint
        return found

    # -- editing -----------------------------------------------------------------
    def check(self, key: str, value: float | None,
              draft: Mapping[str, float | None] | None = None) -> None:
        """Refuse a value that cannot go into this slot; EditError names the rule.

        With ``draft`` (the other numbers being edited), also what depends on them: a
        cap has the sign of its points, grade bars rise from grade 2 to 4. ``draft``
        loading through ``parse_rules`` stays the final word.
        """
        check_number(self.slots, self.source, key, value, draft)

    def apply(self, edits: Mapping[str, float | None]) -> str:
        """New text with ``edits`` (key -> value; None removes an optional ``max``).

        Each value is checked on its own (``check``); the whole file is not: use
        ``draft`` for that. Only the characters of the numbers change.
        """
        changes: list[tuple[int, int, str]] = []
        newline = "\r\n" if "\r\n" in self.text else "\n"
        for key, value in edits.items():
            self.check(key, value, edits)
            slot = self.slots[key]
            if value is None:
                if slot.value is not None:
                    assert slot.whole_line is not None
                    changes.append((*slot.whole_line, ""))
            elif slot.value is None:
                before = "" if slot.insert_at == 0 or \
                    self.text[slot.insert_at - 1:slot.insert_at] == "\n" else newline
                changes.append((slot.insert_at, slot.insert_at,
                                f"{before}{slot.indent}{slot.name}: {format_number(value)}"
                                f"{newline}"))
            elif value != slot.value:
                changes.append((slot.start, slot.end, format_number(value)))
        text = self.text
        for start, end, new in sorted(changes, reverse=True):
            text = text[:start] + new + text[end:]
        return text

    def draft(self, edits: Mapping[str, float | None], source: str | None = None
              ) -> tuple[str, Rules]:
        """The edited text and the rules it loads as; EditError (file, line, rule) if the
        result is not valid rules (grades out of order, a cap of the wrong sign...)."""
        text = self.apply(edits)
        source = source or self.source
        try:
            rules = parse_rules(text, source)
        except ConfigError as error:
            raise EditError(source, error.line, error.reason,
                            self._blame(edits, error.line, source)) from None
        return text, rules

    def _blame(self, edits: Mapping[str, float | None], line: int | None, source: str
               ) -> str | None:
        """Which edit made the rules invalid: the one whose line the error names, else
        the one without which they load (grade 3 raised above grade 4 is reported on
        grade 4's line)."""
        if line is not None:
            # Back to the numbering of the original text: added or removed `max` lines
            # above the error moved it.
            shift = 0
            for key in sorted(edits, key=lambda k: self.slots[k].line):
                slot, value = self.slots[key], edits[key]
                if slot.value is None and value is not None:
                    if line == slot.line + shift:
                        return key  # the added line itself
                    shift += line > slot.line + shift
                elif slot.value is not None and value is None:
                    shift -= line >= slot.line + shift
            for key in edits:
                if self.slots[key].line == line - shift:
                    return key
        changed = [key for key, value in edits.items() if value != self.slots[key].value]
        for key in changed:
            try:
                parse_rules(self.apply({k: v for k, v in edits.items() if k != key}), source)
            except ConfigError:
                continue
            return key
        return None  # broken without these edits too, or only by several together
