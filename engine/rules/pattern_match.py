"""A regular-expression search that takes time linear in the text: no pattern can hang
classification.

Python's ``re`` backtracks: ``^(a+)+$`` against 32 ``a`` and a ``!`` tries 2^32 ways
(a rule like that kept ``funnel stats`` busy for minutes). Here the program from
``pattern_syntax`` is run as a set of positions advanced together, one character at
a time (Thompson's construction), and each set met is remembered as a state of a
deterministic automaton built lazily: a text is then one dictionary look-up per
character. The states remembered are bounded (``MAX_STATES``): past it the memory is
cleared and rebuilt, so a pattern whose automaton would be huge costs at most the
pattern's size per character, never more.

    pattern = LinearPattern(r"\\b(ceo|founder)\\b")
    pattern.search("Co-Founder & CEO")   # True; case-insensitive, like re.IGNORECASE
"""

from __future__ import annotations

from typing import Any

from funnel.engine.rules.pattern_syntax import (ASSERT, CHAR, JUMP, MATCH, SPLIT,
                                                compile_pattern, is_word)

MAX_STATES = 10_000  # remembered states, each with its moves by character
_FOUND = -1  # a move that completes a match
_START, _WORD, _OTHER = 0, 1, 2  # what came before the current position


class _Tables:
    """The automaton built so far: states (positions, what came before) and their moves."""

    def __init__(self) -> None:
        self.ids: dict[tuple[frozenset[int], int], int] = {}
        self.states: list[tuple[frozenset[int], int]] = []
        self.moves: list[dict[str, int]] = []
        self.ends: dict[int, bool] = {}

    def state(self, positions: frozenset[int], before: int) -> int:
        key = (positions, before)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.states)
            self.states.append(key)
            self.moves.append({})
        return found


class LinearPattern:
    """A compiled pattern; ``search(text)`` says whether it matches anywhere in it."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.program = compile_pattern(pattern)
        self._tables = _Tables()
        self._tables.state(frozenset(), _START)  # state 0: the start of a text

    def search(self, text: str) -> bool:
        # One set of tables per search: another thread may start afresh meanwhile.
        tables, state = self._tables, 0
        moves = tables.moves
        last = len(text) - 1
        for index, char in enumerate(text):
            move = moves[state].get(char)
            if move is None or (index == last and char == "\n"):
                tables, move = self._advance(tables, state, char, index == last)
                moves = tables.moves
            if move == _FOUND:
                return True
            state = move
        found = tables.ends.get(state)
        if found is None:
            positions, before = tables.states[state]
            found = tables.ends[state] = self._closure(positions, before, None, False) is None
        return found

    def _advance(self, tables: _Tables, state: int, char: str, last: bool
                 ) -> tuple[_Tables, int]:
        positions, before = tables.states[state]
        chars = self._closure(positions, before, char, last)
        if chars is None:
            move = _FOUND
        else:
            program = self.program
            following = frozenset(program[pc][2] for pc in chars if program[pc][1](char))
            after = _WORD if is_word(char) else _OTHER
            if len(tables.states) >= MAX_STATES and (following, after) not in tables.ids:
                tables = self._tables = _Tables()  # start afresh: memory stays bounded
                tables.state(frozenset(), _START)
                return tables, tables.state(following, after)
            move = tables.state(following, after)
        if not (last and char == "\n"):  # "$" before a final newline: not a general move
            tables.moves[state][char] = move
        return tables, move

    def _closure(self, positions: frozenset[int], before: int, after: str | None,
                 last: bool) -> list[int] | None:
        """The CHAR steps reachable from ``positions`` (and a new start) without reading;
        None when MATCH is reachable. ``after`` is the next character (None: the end)."""
        program = self.program
        seen: set[int] = set()
        chars: list[int] = []
        stack = [0, *positions]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op, arg, following, other = program[pc]
            if op == CHAR:
                chars.append(pc)
            elif op == SPLIT:
                stack.append(following)
                stack.append(other)
            elif op == JUMP:
                stack.append(following)
            elif op == ASSERT:
                if _holds(arg, before, after, last):
                    stack.append(following)
            elif op == MATCH:
                return None
        return chars


def _holds(kind: Any, before: int, after: str | None, last: bool) -> bool:
    if kind == "A":
        return before == _START
    if kind == "Z":
        return after is None
    if kind == "$":  # the end, or just before a newline that ends the text
        return after is None or (last and after == "\n")
    word_before = before == _WORD
    word_after = after is not None and is_word(after)
    if kind == "b":
        return word_before != word_after
    return word_before == word_after and not (before == _START and after is None)
