"""Keys typed ahead reach what the earlier keys opened, in order.

Textual routes a key to whatever has focus when the key arrives, and runs a key's
binding only when the key has bubbled back up to the app. Keys that arrive together
(a fast typist, a paste without bracketed paste, a script, an SSH packet) are all
routed before the first one has opened its dialog or filter line, so they land on the
list behind it; keys arriving while a dialog mounts go to a screen with no focus yet.

So the app hands keys over one at a time: the next key waits until the previous one
has been handled all the way up (and whatever it posted on the way), and until the
screen now on top has mounted and taken focus. Keys that cannot open or close
anything go straight on: text typed into an input line, and keys bound only to moving
a cursor or scrolling (waiting after them would cost a repaint per key, and a held-down
key would fall behind). Only: an action that does not apply passes its key on to the
next one bound to it (Down on the owner picker's line, which cannot scroll, takes the
person to the list), so a key that may run anything but a move waits like any other.

A widget whose content is still being replaced holds keys too: the Contacts list is
shown at once but sorted by a worker, and a filter, a sort, a view or an edit (which
may move the contact, or take it out of the view) is applied by another.
A key typed meanwhile (``e``, ``d``, a cursor move) would act on the rows that are
about to go, not on the ones the person asked for. Such a widget has a ``key_hold``
(``KeyHold``); while it is held, keys bound for it, or for anything inside it, wait,
and the keys after them wait behind them; they go on, in order, when it is released.
Keys that only change what is asked for (open the filter line, sort) need not wait:
the widget names their actions. Nor do text typed into an input line, keys bound
above the widget (switch tabs, help, quit) or priority bindings.

Keys typed before the app has even started reach it too, but the terminal was still
in line mode when they were typed, and that turns Enter into a newline (ctrl+j): the
app reads ctrl+j as Enter, as shells and editors do, so that Enter is not lost.
"""

from __future__ import annotations

import asyncio
from collections import deque
from functools import partial
from typing import Any, Awaitable, Callable

from textual import events
from textual.app import App, ScreenStackError
from textual.message_pump import MessagePump
from textual.widget import Widget
from textual.widgets import Input

# A key whose handling never reports back (its widget was removed mid-way) holds the
# next ones this long at most.
SETTLE_TIMEOUT = 2.0
# Passes up the key's path: one for the key, one for the messages its handlers posted
# (a table's Opened, which the pane turns into the contact card).
PASSES = 2
# Actions (by the start of their name) that only move a cursor or scroll.
MOVES = ("cursor", "scroll", "page", "jump", "first", "last")


class KeyHold:
    """Held while what keys act on is still changing; a waiting key goes on when it is
    released. ``passes``: actions that never wait (they change what is asked for, not
    act on what is shown). Only used on the UI thread."""

    def __init__(self, passes: tuple[str, ...] = ()) -> None:
        self.passes = passes
        self._held = False
        self._waiting: list[Callable[[], object]] = []

    @property
    def held(self) -> bool:
        return self._held

    def set(self, held: bool) -> None:
        self._held = held
        if not held:
            waiting, self._waiting = self._waiting, []
            for go_on in waiting:
                go_on()

    def when_released(self, go_on: Callable[[], object]) -> None:
        if self._held:
            self._waiting.append(go_on)
        else:
            go_on()


def action_name(action: str) -> str:
    """``app.tab('contacts')`` → ``tab``."""
    return action.split("(")[0].rsplit(".", 1)[-1]


class Typeahead:
    def __init__(self, app: App[Any], route: Callable[[events.Key], Awaitable[None]]) -> None:
        self._app = app
        self._route = route  # Textual's own handling of a key from the terminal
        self._waiting: deque[events.Key] = deque()
        self._busy = False
        self._press = 0  # numbers the key in flight, so a late report is ignored
        self._timeout: asyncio.TimerHandle | None = None

    async def receive(self, key: events.Key) -> None:
        """Take a key from the terminal: route it now, or after the keys before it."""
        if key.key == "ctrl+j":  # Enter, typed while the terminal was in line mode
            key = events.Key("enter", "\r")
        if self._busy:
            self._waiting.append(key)
        else:
            await self._dispatch(key)

    async def _dispatch(self, key: events.Key) -> None:
        self._busy = True
        self._press += 1
        press = self._press
        focused = self._app.focused
        target = focused or self._app.screen
        path: list[MessagePump] = list(target.ancestors_with_self)
        hold = self._holding(focused, path, key)
        if hold is not None:
            # Later keys queue behind this one (still busy); it is routed afresh, to
            # whatever has focus then, once the list it was typed at is final.
            hold.when_released(partial(self._app.call_later, self._redispatch, press, key))
            return
        if self._goes_straight_on(focused, key):
            await self._route(key)
            self._release(press)
            return
        await self._route(key)
        self._timeout = asyncio.get_running_loop().call_later(
            SETTLE_TIMEOUT, self._app.call_later, self._release, press)
        self._settle(press, path, PASSES)

    async def _redispatch(self, press: int, key: events.Key) -> None:
        if press == self._press:  # still the key in flight (the app is not closing)
            await self._dispatch(key)

    def _holding(self, focused: Widget | None, path: list[MessagePump],
                 key: events.Key) -> KeyHold | None:
        """The held ``key_hold`` on the key's path that it must wait for, if any."""
        if isinstance(focused, Input):
            return None  # typed into the line (or ends it): nothing shown is acted on
        for index, node in enumerate(path):
            hold = getattr(node, "key_hold", None)
            if not (isinstance(hold, KeyHold) and hold.held):
                continue
            active = self._app.active_bindings.get(key.key)
            if active is None:
                return hold  # does nothing, but keeps its place in the line
            if active.binding.priority or active.node not in path[:index + 1]:
                return None  # quit, palette, tabs, help: not about the held content
            return None if action_name(active.binding.action) in hold.passes else hold
        return None

    def _goes_straight_on(self, focused: Widget | None, key: events.Key) -> bool:
        if isinstance(focused, Input) and key.is_printable:
            return True  # the line takes it, and stops it there
        actions = self._bound_actions(key.key)
        return bool(actions) and all(action_name(action).startswith(MOVES)
                                     for action in actions)

    def _bound_actions(self, key: str) -> list[str]:
        """Every action bound to ``key`` from the focused widget up to the app (or the
        modal screen). Not only the first: an action that does not apply passes the key
        on to the next (Down on a line that cannot scroll reaches the dialog's "to the
        list"), so a key is only a move if every action it may run is one."""
        try:
            chain = self._app.screen._modal_binding_chain
        except ScreenStackError:  # the app is closing
            return []
        return [binding.action for _node, bindings in chain
                for binding in bindings.key_to_bindings.get(key, ())]

    def _settle(self, press: int, path: list[MessagePump], passes: int) -> None:
        if passes:
            self._walk(path, partial(self._settle, press, path, passes - 1))
            return
        try:
            top: list[MessagePump] = [self._app, self._app.screen]
        except ScreenStackError:  # the app is closing
            top = [self._app]
        self._walk(top, partial(self._release, press))

    def _walk(self, path: list[MessagePump], then: Callable[[], None]) -> None:
        """Call ``then`` once each node on ``path`` in turn has handled what it had
        queued (messages bubble up the path, so each node is asked after its child)."""
        for index, node in enumerate(path):
            if node.call_later(self._walk, path[index + 1:], then):
                return
            # A node that is closing takes no more messages: go on without it.
        then()

    def _release(self, press: int) -> None:
        if press != self._press or not self._busy:
            return  # already released (by the timeout, or the other way round)
        self._press += 1  # a second report for this key finds it released
        if self._timeout is not None:
            self._timeout.cancel()
            self._timeout = None
        if self._waiting:
            self._app.call_later(self._dispatch, self._waiting.popleft())
        else:
            self._busy = False
