"""The ``funnel serve`` command line: its options, and the settings they make.

Only argparse here (no asyncssh), so building the ``funnel`` parser stays cheap.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_serve_command(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``serve`` to the ``funnel`` subcommands (``commands``)."""
    serve = commands.add_parser("serve", parents=[common],
                                help="serve the app over SSH: one live session per user")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--port", type=int, default=2222, help="default 2222")
    serve.add_argument("--authorized-keys", type=Path, metavar="FILE",
                       help="who may connect, one public key per line in OpenSSH format "
                       "(default: $XDG_CONFIG_HOME/funnel/authorized_keys)")
    serve.add_argument("--host-key", type=Path, metavar="FILE",
                       help="the server's private key, created on first start "
                       "(default: $XDG_DATA_HOME/funnel/ssh_host_ed25519_key)")
    serve.add_argument("--files", type=Path, metavar="DIR",
                       help="each user may import from and export to DIR/USER only "
                       "(created 0700); without it, import and export are off")
    serve.add_argument("--idle-timeout", type=float, default=3600, metavar="SECONDS",
                       help="end sessions without a key press for this long (0: never; "
                       "default 3600)")
    serve.add_argument("--max-sessions", type=int, default=16, metavar="N",
                       help="sessions open at once (default 16)")
    serve.add_argument("--max-sessions-per-user", type=int, default=3, metavar="N",
                       help="sessions one user may have open at once (default 3)")
    serve.add_argument("--max-unauthenticated", type=int, default=32, metavar="N",
                       help="connections not logged in yet, at once (default 32)")
    serve.add_argument("--login-grace", type=float, default=10, metavar="SECONDS",
                       help="time a connection has to log in (default 10)")


def serve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ServeConfig`` fields that come straight from the options."""
    return {"host": args.host, "port": args.port, "files": args.files,
            "idle_timeout": args.idle_timeout, "max_sessions": args.max_sessions,
            "max_sessions_per_user": args.max_sessions_per_user,
            "max_unauthenticated": args.max_unauthenticated,
            "login_grace": args.login_grace}
