"""What every part of a workspace shares: the store, the active rules, the clock and
the one lock that writes and bulk classification take turns on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from funnel.engine.errors import NotFound
from funnel.engine.rules.ruleset import Rules
from funnel.engine.store.contacts import ContactStore

Clock = Callable[[], datetime]


@dataclass
class Shared:
    store: ContactStore
    rules: Rules  # replaced by Workspace.set_rules; every part reads it from here
    clock: Clock
    # A front end may classify everything in a worker thread while the person keeps
    # editing; writes and classification chunks take turns on this lock.
    lock: threading.RLock = field(default_factory=threading.RLock)

    def document(self, contact_id: int) -> dict:
        """The stored contact, shared with the store: never mutate it."""
        document = self.store.get(contact_id)
        if document is None:
            raise NotFound(f"no contact with id {contact_id}")
        return document
