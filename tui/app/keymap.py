"""The user's key map (``keys.yaml``): checked against the bindings really declared.

A key map names bindings by id (``contacts.disqualify: x``). Textual ignores an id it
does not know and lets the nearest binding of a key win, so a typo or a key that is
already taken would change nothing, or quietly take over another command. Here an
unknown id is an error naming the file, the line and the ids it may have meant, and a
key the map gives to a binding that is active together with another binding holding
the same key is an error naming both.

Which bindings are active at once is written down in ``keymap_scopes``: the app's own
keys are active everywhere; each tab, the contact card and each dialog adds its own.
Clashes among the shipped defaults are deliberate (the card's ``q`` goes back, the
app's ``q`` quits elsewhere) and are not reported: only a key the map sets is.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Mapping

from textual.binding import Binding, BindingType

from funnel.engine.errors import FunnelError

# Characters as Textual names their keys, so "?" and "question_mark" are one key.
_KEY_NAMES = {">": "greater_than_sign", "<": "less_than_sign", "/": "slash",
              "?": "question_mark", "+": "plus", "=": "equals_sign", " ": "space",
              "]": "right_square_bracket", "[": "left_square_bracket", "*": "asterisk",
              "-": "minus", "!": "exclamation_mark", ".": "full_stop", ",": "comma",
              "esc": "escape", "return": "enter"}


def key_list(keys: str) -> list[str]:
    """The keys of a binding's ``key`` text ("pagedown,ctrl+f"), named as Textual does."""
    parts = [part.strip() for part in keys.split(",")] if keys.strip() != "," else [","]
    return [_KEY_NAMES.get(part, part) for part in parts if part]


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    return [item for item in items if isinstance(item, Binding) and item.id]


def class_bindings(*classes: type) -> list[Binding]:
    """The bindings with an id of ``classes`` and of the classes they inherit from."""
    found: list[Binding] = []
    for cls in classes:
        for ancestor in reversed(cls.__mro__):
            found += _bindings(ancestor.__dict__.get("BINDINGS", []))
    return found


def check_keymap(keymap: Mapping[str, str], source: str, scopes: Mapping[str, list[Binding]],
                 lines: Mapping[str, int] | None = None) -> None:
    """Raise FunnelError for the first id that names no binding, or key that clashes.
    ``scopes``: each place of the app with every binding active there
    (``funnel.tui.app.keymap_scopes``)."""
    lines = lines or {}
    known = sorted({binding.id for bindings in scopes.values() for binding in bindings
                    if binding.id})

    def where(binding_id: str) -> str:
        line = lines.get(binding_id)
        return f"{source}:{line}" if line else source

    for binding_id in keymap:
        if binding_id not in known:
            near = difflib.get_close_matches(binding_id, known, n=3, cutoff=0.5)
            scope = binding_id.partition(".")[0] + "."
            near = near or [name for name in known if name.startswith(scope)][:6]
            hint = f"did you mean {', '.join(near)}?" if near else \
                f"known ids: {', '.join(known[:8])}, …"
            raise FunnelError(f"{where(binding_id)}: no key binding has the id "
                              f"{binding_id!r}; {hint} (the help, ?, lists the keys)")
        if not key_list(keymap[binding_id]):
            raise FunnelError(f"{where(binding_id)}: {binding_id}: no key given; write "
                              "e.g. 'x' or 'ctrl+x,d'")
    for place, bindings in scopes.items():
        _check_place(place, bindings, keymap, where)


def _check_place(place: str, bindings: list[Binding], keymap: Mapping[str, str],
                 where) -> None:
    holders: dict[str, list[Binding]] = {}
    for binding in bindings:
        keys = keymap.get(binding.id or "", binding.key)
        for key in dict.fromkeys(key_list(keys)):
            holders.setdefault(key, []).append(binding)
    for key, holding in holders.items():
        ids = list(dict.fromkeys(binding.id for binding in holding))
        remapped = [binding_id for binding_id in ids if binding_id in keymap]
        if len(ids) < 2 or not remapped:
            continue
        mine = remapped[0]
        other = next(binding_id for binding_id in ids if binding_id != mine)
        described = next(binding.description for binding in holding if binding.id == other)
        raise FunnelError(f"{where(mine)}: {mine} and {other} ({described or 'no name'}) "
                          f"both get the key {key!r}, and both are active in {place}; "
                          "give one of them another key")


def keymap_keys(binding: Binding, keymap: Mapping[str, str] | None) -> str:
    """The keys ``binding`` really answers to, once the key map is applied."""
    if keymap and binding.id and binding.id in keymap:
        return keymap[binding.id]
    return binding.key
