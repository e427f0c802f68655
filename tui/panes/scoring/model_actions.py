"""The Scoring tab's keys for the learned model, mixed into ``ScoringPane``: ``m`` shows
the model section in place of the rules (and back), ``f`` fits the rules' points from
outcomes and makes the proposal the pane's draft: its numbers show as unsaved
changes, the preview counts them, ctrl+s saves them through the same atomic path as
numbers typed by hand, R reverts them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

from funnel.engine.errors import FunnelError
from funnel.engine.rules.editing import RulesText
from funnel.engine.rules.ruleset import Rules

from funnel.tui.panes.scoring.draft import with_number
from funnel.tui.panes.scoring.model_section import ModelSection

if TYPE_CHECKING:
    from funnel.engine.learn.fit_rules import FitRulesResult

MODEL_SHOWN = "-model"  # the pane's class while the model section replaces the rules


def fitted_note(result: FitRulesResult, changed: int) -> str:
    return (f"Fitted points: held-out AUC {result.today_auc:.3f} today, "
            f"{result.proposed_auc:.3f} proposed. {changed} number"
            f"{'s' if changed != 1 else ''} changed in the draft: ctrl+s saves, R reverts")


class ModelActions:
    """See the module docstring. The pane provides the draft's state and its upkeep."""

    _model: ModelSection
    text: RulesText | None
    problem: str
    drafts: dict[str, float | None]
    draft_text: str | None
    draft_rules: Rules | None
    base_rules: Rules | None
    editing: str | None

    def _end_edit(self, refocus: bool = True) -> None:
        raise NotImplementedError

    def _paint_all(self) -> None:
        raise NotImplementedError

    def _invalidate(self, keep_counts: bool = False, delay: float | None = None) -> None:
        raise NotImplementedError

    def _host(self) -> Widget:
        assert isinstance(self, Widget), "mixed into the Scoring pane"
        return self

    def action_model(self) -> None:
        pane = self._host()
        if self.editing is not None:  # the number being typed is dropped, as by Esc
            self._end_edit(refocus=False)
            self._invalidate(keep_counts=True, delay=0)
        shown = not pane.has_class(MODEL_SHOWN)
        pane.set_class(shown, MODEL_SHOWN)
        if shown:
            self._model.reload()
            self._model.focus()
        else:
            pane.query_one("#scoring-detail").focus()

    def action_fit_rules(self) -> None:
        pane = self._host()
        refused = ("Finish the number being edited first (Enter applies, Esc cancels)"
                   if self.editing is not None else
                   self.problem or "These rules cannot be edited here" if self.text is None
                   else "" if self._model.fit() else "The points are being fitted already")
        if refused:
            pane.app.bell()
            pane.notify(refused, severity="warning")

    def on_model_section_fitted(self, event: ModelSection.Fitted) -> None:
        """The fitted points become the draft (by name: a mixin's ``@on`` is not seen)."""
        pane = self._host()
        if self.text is None or event.rules is not self.base_rules or self.editing is not None:
            pane.notify("The rules changed (or a number is being edited) while the points "
                        "were fitted: press f again", severity="warning", timeout=10)
            return
        drafts = dict(self.drafts)
        for key, value in event.numbers.items():
            drafts = with_number(self.text, drafts, key, value)
        try:
            text, rules = self.text.draft(drafts)
        except FunnelError as error:
            pane.notify(f"The fitted points cannot be drafted: {error}", severity="error",
                        timeout=10)
            return
        changed = len(set(drafts.items()) - set(self.drafts.items()))
        self.drafts = drafts
        self.draft_text, self.draft_rules = (text, rules) if drafts else (None, None)
        self._paint_all()
        self._invalidate()
        pane.notify(fitted_note(event.result, changed), timeout=10)
