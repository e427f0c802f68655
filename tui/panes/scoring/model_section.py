"""The Scoring tab's model section, and the fit of the rules' points from outcomes.

``ModelSection`` shows what the learned likelihood is worth next to the rules (its
text is ``model_text``), read again from the model file each time it is shown, and
scrolls when it does not fit. ``fit`` runs ``engine.learn.fit_rules`` in a worker
thread (it reads every contact) and posts ``Fitted`` with the proposed numbers; the
pane turns them into its draft, so they are previewed, saved by ctrl+s and reverted
by R like numbers typed by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from funnel.engine.errors import FunnelError
from funnel.engine.rules.ruleset import Rules
from funnel.engine.workspace.facade import Workspace

from funnel.tui.app.services import services
from funnel.tui.panes.scoring.model_text import model_report
from funnel.tui.widgets.background import Progress, Stopped

if TYPE_CHECKING:
    from funnel.engine.learn.fit_rules import FitRulesResult
    from funnel.engine.learn.model_file import Model

FITTING = "fitting the rules' points to the won and lost contacts"
REPORT_SECONDS = 0.25  # between two progress reports of the fit


def proposed_numbers(result: FitRulesResult) -> dict[str, float | None]:
    """The proposal as the draft's numbers: each rule's points, and its cap where the
    rule has one (keys as the rules file's numbers are named)."""
    numbers: dict[str, float | None] = {}
    for item in result.proposals:
        numbers[f"{item.rule.id}.points"] = item.proposed
        if item.rule.activity is not None and item.rule.maximum is not None:
            numbers[f"{item.rule.id}.max"] = item.proposed_max
    return numbers


class ModelSection(VerticalScroll):
    """See the module docstring. Hidden until the pane shows it (``m``)."""

    BINDINGS = [  # while it has focus the rules list is hidden: its keys scroll here
        Binding("j,down", "scroll_down", "Scroll down", show=False),
        Binding("k,up", "scroll_up", "Scroll up", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
        Binding("enter,e,h,l,left,right", "nothing", "", show=False),
    ]

    class Fitted(Message):
        """The fit of the rules' points is done: ``numbers`` for the draft of ``rules``."""

        def __init__(self, result: FitRulesResult, rules: Rules) -> None:
            super().__init__()
            self.result = result
            self.rules = rules
            self.numbers = proposed_numbers(result)

    def __init__(self, *, on_progress: Callable[[], None], id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_progress = on_progress  # the pane shows the progress in its status line
        self.model: Model | None = None
        self.problem = ""  # why the model file cannot be read
        self.fit_result: FitRulesResult | None = None
        self.progress = ""  # what the fit in progress says ("" when none runs)
        self._text = Static("", id="scoring-model-text")

    def compose(self) -> ComposeResult:
        yield self._text

    @property
    def _workspace(self) -> Workspace:
        return services(self).workspace

    @property
    def fitting(self) -> bool:
        return bool(self.progress)

    def action_nothing(self) -> None:
        """Keys of the hidden rules list do nothing here."""

    def reload(self) -> None:
        """Read the model file again (``funnel learn`` may have run meanwhile)."""
        try:
            self.model, self.problem = self._workspace.likelihood_model(), ""
        except FunnelError as error:
            self.model, self.problem = None, str(error)
        self.show()

    def show(self) -> None:
        if self.is_mounted:
            width = self.scrollable_content_region.width or self.app.size.width
            self._text.update(model_report(self.model, self.problem, self._workspace.rules,
                                           width, self.fit_result, self.progress))

    def on_resize(self) -> None:
        self.show()

    def on_show(self) -> None:
        # Shown (m, or back on the tab with it shown): its keys are the ones wanted.
        # After the refresh: the pane focuses its rules when the tab is shown.
        self.call_after_refresh(self.focus)

    # -- fitting the rules' points ------------------------------------------------------
    def fit(self) -> bool:
        """Start fitting the points of today's rules (False if a fit already runs)."""
        if self.fitting:
            return False
        self._progressed(FITTING + "…")
        workspace = self._workspace  # looked up here: the worker touches no widget
        self._fit(workspace, workspace.rules)
        return True

    @work(thread=True, exclusive=True, group="scoring-fit")
    def _fit(self, workspace: Workspace, rules: Rules) -> None:
        from funnel.engine.learn.fit_rules import fit_rules  # numpy: loaded when asked

        progress = Progress(lambda text: self.app.call_from_thread(self._progressed, text),
                            REPORT_SECONDS)
        try:
            result = fit_rules(workspace.documents, rules, workspace.now(),
                               progress=progress.percent(FITTING))
        except Stopped:  # cancelled: the app is closing
            return
        except FunnelError as error:
            self.app.call_from_thread(self._fit_failed, str(error))
            return
        self.app.call_from_thread(self._fit_done, result, rules)

    def _fit_done(self, result: FitRulesResult, rules: Rules) -> None:
        self.fit_result = result
        self._progressed("")
        self.post_message(self.Fitted(result, rules))

    def _fit_failed(self, message: str) -> None:
        self._progressed("")
        self.notify(message, severity="error", timeout=10)

    def _progressed(self, text: str) -> None:
        self.progress = text
        self.show()
        self._on_progress()
