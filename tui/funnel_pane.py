"""The Funnel tab (placeholder until the lifecycle view lands)."""

from textual.containers import Vertical
from textual.widgets import Static


class FunnelPane(Vertical):
    def compose(self):
        yield Static("Funnel: coming in this issue")

    def contacts_changed(self, ids) -> None:
        pass
