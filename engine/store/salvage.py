"""Saving the readable documents of a damaged run of ``"id":{document},...`` bytes.

Both places documents are stored hold them as such runs: a journal record's ``put``
and a snapshot's lines (one document each, or more when a newline was lost). When
the whole cannot be parsed, each document is found by its braces (strings taken
into account) and parsed alone with ``documents.parse_document``; after one that
cannot be, the walk picks up again at the next ``,"id":{``.
"""

from __future__ import annotations

import re

from funnel.engine.store.documents import parse_document

_KEY = re.compile(rb'\s*"([^"\\]{1,64})":(?=\{)')
_NEXT_KEY = re.compile(rb',\s*"([^"\\]{1,64})":\{')
_TOKENS = re.compile(rb'\\.|["{}]', re.S)


def _object_end(data: bytes, start: int) -> int | None:
    """Where the JSON object starting at ``start`` ends."""
    depth, in_string = 0, False
    for token in _TOKENS.finditer(data, start):
        mark = token.group()
        if mark[:1] == b"\\":
            continue
        if mark == b'"':
            in_string = not in_string
        elif not in_string:
            depth += 1 if mark == b"{" else -1
            if depth == 0:
                return token.end()
    return None


def salvage_documents(data: bytes, start: int = 0) -> tuple[dict[str, dict], list[str]]:
    """The documents from ``start`` on that parse, and the ids of those that do not (an
    id that is not UTF-8 comes back with U+FFFD in it)."""
    saved: dict[str, dict] = {}
    lost: list[str] = []
    found = _KEY.match(data, start)
    while found is not None:
        key = found.group(1).decode("utf-8", "replace")
        value = found.end()
        end = _object_end(data, value)
        if end is not None:
            document = parse_document(data[value:end])
            rest = data[end:].lstrip()
            if document is not None and rest[:1] in (b",", b"}", b""):
                saved[key] = document
                after = len(data) - len(rest)
                found = _KEY.match(data, after + 1) if rest[:1] == b"," else None
                continue
        lost.append(key)
        resync = _NEXT_KEY.search(data, value)
        found = _KEY.match(data, resync.start() + 1) if resync else None
    return saved, lost
