"""Work redone in a thread whenever what it depends on changes.

The Funnel tab's figures and the Scoring tab's preview count every contact: too slow
for the UI thread, and out of date as soon as a contact or the rules change. A pane
owns one ``Recompute`` and tells it when its inputs changed (``changed``); the helper
waits for a burst of changes to pass, runs the pane's task in a worker thread with
progress, drops results a later change made wrong, and reports failures. While the
pane is hidden nothing runs: ``resume`` (from ``on_show``) catches up.

Every method is called on the UI thread; only the task runs in the worker. The task
is made on the UI thread (``task()`` returns the function to run), so it reads the
pane's state there and the worker never touches a widget.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

from textual.app import App
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from funnel.engine.errors import FunnelError

T = TypeVar("T")

WAIT_POLL = 0.25  # seconds between two looks at what a computation waits for


class Stopped(Exception):
    """Raised from a progress callback to end a task nobody waits for any more."""


class Progress:
    """What a task gets in its worker thread: progress callbacks for engine code.

    Each callback also ends the task (raises ``Stopped``) once its result is no longer
    wanted, so a superseded count stops at its next report instead of running on.
    """

    def __init__(self, report: Callable[[str], None], every: float) -> None:
        self._worker = get_current_worker()
        self._report = report
        self._every = every
        # A throttled task says nothing in its first ``every`` seconds either.
        self._last = time.monotonic() if every else 0.0

    def percent(self, label: str) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback that shows "label N%"."""

        def progress(done: int, total: int) -> None:
            if self._worker.is_cancelled:
                raise Stopped
            if done >= total:
                return  # finished: the result is about to show instead
            now = time.monotonic()
            if now - self._last < self._every:
                return
            self._last = now  # each report waits for the UI: a few a second is plenty
            self._report(f"{label} {done * 100 // max(total, 1)}%")
        return progress


def shown(widget: Widget) -> bool:
    """Mounted and on screen: neither it nor a container above it hidden (another tab)."""
    return widget.is_mounted and all(node.display for node in widget.ancestors_with_self)


class Recompute(Generic[T]):
    """One background computation kept up to date for ``host``.

    ``task()`` (UI thread) returns the function the worker runs; its result goes to
    ``done`` and a ``FunnelError`` message to ``failed``, both on the UI thread and only
    for the latest run. ``on_progress`` is called when ``progress`` (the text to show)
    changes. ``waiting()``, if given, says what a run must wait for (shown as progress;
    "" when it may start). ``start_text`` is shown from the start, before any report.
    Nothing runs while ``visible()`` is false (by default: while the host is hidden).
    """

    def __init__(self, host: Widget, *, group: str,
                 task: Callable[[], Callable[[Progress], T]],
                 done: Callable[[T], None],
                 failed: Callable[[str], None],
                 on_progress: Callable[[], None] | None = None,
                 waiting: Callable[[], str] | None = None,
                 start_text: str = "",
                 report_every: float = 0.0,
                 visible: Callable[[], bool] | None = None) -> None:
        self._host = host
        self._group = group
        self._task = task
        self._done = done
        self._failed = failed
        self._on_progress = on_progress
        self._waiting = waiting
        self._start_text = start_text
        self._report_every = report_every
        self._visible = visible or (lambda: shown(host))
        self.progress = ""  # what the run in progress (or the wait) says; "" when none
        self.stale = True  # the inputs changed since the last run began
        self._generation = 0  # the latest run's number: only its result shows
        self._running = False  # that run is queued or running
        self._worker: Worker[None] | None = None
        self._timer: Timer | None = None
        self._again = 0.0  # the delay of the last change: a run that ends stale waits it

    @property
    def busy(self) -> bool:
        """A run is queued or in progress."""
        return self._running

    @property
    def settled(self) -> bool:
        """What was computed last is up to date: nothing running, nothing pending."""
        return not self.busy and not self.stale and self._timer is None

    def changed(self, delay: float = 0.0, *, restart: bool = True) -> None:
        """The inputs changed: compute again after ``delay`` seconds of quiet.

        ``restart``: a run in progress is wrong now; it is stopped, its result dropped,
        and each further change puts the next run off again. Otherwise a run in
        progress finishes and shows (it is nearly right), the next follows ``delay``
        after it, and changes meanwhile ride along with the first one's timer.
        """
        self.stale = True
        self._again = delay
        if restart:
            self._drop_running()
            self._schedule(delay)
        elif self._timer is None and not self.busy:
            self._schedule(delay)

    def resume(self) -> None:
        """The host is visible again: catch up with what changed while it was not."""
        if self.stale and self._timer is None and not self.busy:
            self._schedule(0)

    # -- scheduling (UI thread) ------------------------------------------------------
    def _drop_running(self) -> None:
        self._generation += 1  # whatever is queued or running reports to nobody
        self._running = False
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def _schedule(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._visible():
            return  # computed when shown (resume)
        if delay:
            self._timer = self._host.set_timer(delay, self._due)
            return
        if self.busy:
            return  # its end starts the next one
        reason = self._waiting() if self._waiting is not None else ""
        if reason:
            self._set_progress(reason)
            self._timer = self._host.set_timer(WAIT_POLL, self._due)
            return
        self._start()

    def _due(self) -> None:
        self._timer = None
        self._schedule(0)

    def _start(self) -> None:
        self.stale = False
        self._generation += 1
        self._running = True
        if self._start_text:
            self._set_progress(self._start_text)
        # Launched after the next frame: the change that asked for it shows first.
        self._host.call_after_refresh(self._launch, self._generation)

    def _launch(self, generation: int) -> None:
        if generation != self._generation or not self._alive():
            return
        run = partial(self._run, self._host.app, self._task(), generation)
        self._worker = self._host.run_worker(run, group=self._group, exclusive=True,
                                             thread=True)

    def _alive(self) -> bool:
        """Still in the app (a worker may report back while the app is closing)."""
        return self._host.is_attached and self._host.is_mounted

    # -- the worker thread -------------------------------------------------------------
    def _run(self, app: App[object], task: Callable[[Progress], T], generation: int) -> None:
        worker = get_current_worker()
        progress = Progress(lambda text: app.call_from_thread(self._progressed, generation,
                                                              text), self._report_every)
        try:
            result = task(progress)
        except Stopped:
            return  # dropped: whoever dropped it has moved on
        except FunnelError as error:
            if not worker.is_cancelled:
                app.call_from_thread(self._broke, generation, str(error))
            return
        if not worker.is_cancelled:
            app.call_from_thread(self._finished, generation, result)

    # -- back on the UI thread -----------------------------------------------------------
    def _progressed(self, generation: int, text: str) -> None:
        if generation == self._generation and self._alive():
            self._set_progress(text)

    def _set_progress(self, text: str) -> None:
        self.progress = text
        if self._on_progress is not None:
            self._on_progress()

    def _finished(self, generation: int, result: T) -> None:
        if self._end(generation):
            self._done(result)
            if self.stale:
                self._schedule(self._again)  # changed while this one ran: once more

    def _broke(self, generation: int, message: str) -> None:
        if self._end(generation):
            self._failed(message)

    def _end(self, generation: int) -> bool:
        """The run is over: True if its outcome is wanted (the latest run, host alive)."""
        if generation != self._generation:
            return False  # dropped by a change meanwhile: a newer run is due
        self._running = False
        self._worker = None
        self.progress = ""
        return self._alive()
