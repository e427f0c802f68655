"""The child process of one ``funnel serve`` session: ``funnel`` on its own terminal.

``python -I -m funnel.tui.serve.session ARGS`` is ``funnel ARGS``, after taking the pty it was
started on as its controlling terminal (it leads a new session, so a window change
on the pty reaches it as SIGWINCH, and a hang-up as SIGHUP).
"""

from __future__ import annotations

import fcntl
import sys
import termios


def main(argv: list[str] | None = None) -> int:
    try:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    except OSError:
        pass  # not a session leader, or no terminal: resizes then come in band only
    from funnel.tui.cli.main import main as funnel_main

    return funnel_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
