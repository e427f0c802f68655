"""The Scoring tab (placeholder until the rules editor lands)."""

from textual.containers import Vertical
from textual.widgets import Static


class ScoringPane(Vertical):
    def compose(self):
        yield Static("Scoring: coming in this issue")

    def contacts_changed(self, ids) -> None:
        pass
