"""Change events and the bus that tells subscribers about them.

Commits publish their events after the workspace lock is released, so a subscriber
may call back into the workspace, from this thread or another, without waiting on a
lock its own caller holds. A subscriber that raises is logged and skipped: the change
has landed by then, and the other subscribers must still hear about it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Literal

ChangeKind = Literal["add", "edit", "move", "undo", "redo", "rules", "remote"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChangeEvent:
    """What subscribers hear: which contacts changed, how, and by whom."""

    kind: ChangeKind  # "remote": another session committed it; "rules": all contacts
    ids: tuple[int, ...]
    by: str


Subscriber = Callable[[ChangeEvent], None]


class EventBus:
    def __init__(self) -> None:
        # Replaced, never changed in place: a publish in another thread iterates over
        # the list it started with while someone subscribes or leaves.
        self._subscribers: tuple[Subscriber, ...] = ()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` after every change; returns the unsubscribe function."""
        self._subscribers += (callback,)

        def leave() -> None:
            subscribers = list(self._subscribers)
            subscribers.remove(callback)
            self._subscribers = tuple(subscribers)
        return leave

    def publish(self, events: Iterable[ChangeEvent]) -> None:
        """Tell every subscriber about every event, in order. Never call it holding the
        workspace lock."""
        for event in events:
            for callback in self._subscribers:
                try:
                    callback(event)
                except Exception:  # a subscriber's bug must not hide a committed change
                    log.exception("a subscriber failed on %s (the change is committed)",
                                  event)
