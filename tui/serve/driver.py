"""The terminal driver of a session under ``funnel serve``.

Textual's Linux driver, plus: SIGTERM and SIGHUP ask the app to exit the way ``q``
does, instead of killing the process where it stands. The message is handled between
two events, so an edit being committed finishes first and the workspace is closed
properly. ``funnel serve`` selects it for its children with
``TEXTUAL_DRIVER=tui.serve_driver:ServeDriver``; a local ``funnel`` never uses it.
"""

from __future__ import annotations

import asyncio
import signal

from textual import messages
from textual.drivers.linux_driver import LinuxDriver

EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class ServeDriver(LinuxDriver):
    def start_application_mode(self) -> None:
        super().start_application_mode()
        loop = asyncio.get_running_loop()
        for signum in EXIT_SIGNALS:
            loop.add_signal_handler(signum, self._exit_requested)

    def _exit_requested(self) -> None:
        asyncio.ensure_future(self._app._post_message(messages.ExitApp()))

    def stop_application_mode(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            for signum in EXIT_SIGNALS:
                loop.remove_signal_handler(signum)
        super().stop_application_mode()
