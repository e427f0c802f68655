"""A footer that never cuts a key in half.

Textual's footer lays every shown binding side by side and cuts whatever passes the
right edge (``d Disqualifi…`` at 120 columns, ``> Adv`` at 80), and the app's own keys
come last, so Help was the first to go. This one leaves out the keys that do not fit
(the help, ``?``, and the palette, ctrl+p, list them all) and always keeps Help.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # (not exported: the footer's own part)

ALWAYS = ("help",)  # actions whose key always shows


class TidyFooter(Footer):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._widths: dict[int, int] = {}  # each key's width, measured while shown

    async def recompose(self) -> None:
        await super().recompose()
        self._widths.clear()
        self.call_after_refresh(self._tidy)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._tidy)

    def _width(self, key: FooterKey) -> int:
        if key.display and key.outer_size.width:
            self._widths[id(key)] = key.outer_size.width
        # Not laid out yet (a screen covered by a dialog is not): as Textual draws it,
        # a space, the key, a space, what it does, a space.
        return self._widths.get(id(key)) or (cell_len(key.key_display)
                                             + cell_len(key.description) + 3)

    def _tidy(self) -> None:
        keys = list(self.query(FooterKey))
        if not keys or not self.size.width:
            return
        for key in keys:  # measure everything shown before anything is hidden
            self._width(key)
        docked = [key for key in keys if key.has_class("-command-palette")]
        kept = [key for key in keys if key.action in ALWAYS and key not in docked]
        room = self.size.width - sum(self._width(key) for key in docked + kept)
        full = False  # from the first key that does not fit on: none (no gaps)
        for key in keys:
            if key in docked or key in kept:
                continue
            fits = not full and self._width(key) <= room
            full = not fits
            if fits:
                room -= self._width(key)
            if key.display != fits:
                key.display = fits
