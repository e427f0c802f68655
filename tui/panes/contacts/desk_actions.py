"""Keys for logging work (``l``, the list and the card) and merging a duplicate (``D``,
the list), issue #15: actions mixed into the Contacts pane and the contact card,
which hand over to ``work_logging`` and ``merging``."""

from __future__ import annotations

from textual.binding import Binding
from textual.widget import Widget

from funnel.tui.app.services import services
from funnel.tui.panes.contacts.merging import find_and_merge
from funnel.tui.panes.contacts.work_logging import log_work


def desk_bindings() -> list[Binding]:
    return [Binding("l", "log_work", "Log work", id="contacts.log"),
            Binding("D", "duplicates", "Merge a duplicate…", show=False,
                    id="contacts.duplicates")]


class DeskActions:
    """Mixed into the Contacts pane and the card; acts on ``triage_targets()`` like
    triage does (the marked contacts, else the current one)."""

    def triage_targets(self) -> list[int]:
        raise NotImplementedError

    def action_log_work(self) -> None:
        assert isinstance(self, Widget), "mixed into a widget"
        log_work(self, self.triage_targets())  # the marked contacts, else the current one

    def action_duplicates(self) -> None:
        assert isinstance(self, Widget), "mixed into a widget"
        find_and_merge(self, services(self).selected_contact())
