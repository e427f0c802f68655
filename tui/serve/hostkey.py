"""The server's host key: generated on first start, then kept (mode 0600).

Clients remember it (``known_hosts``) and warn loudly if it ever changes, so it must
survive restarts. The default lives in ``$XDG_DATA_HOME/funnel/`` beside the default
database, readable by the serving account only, like OpenSSH's own host keys.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from funnel.engine.errors import FunnelError

KEY_NAME = "ssh_host_ed25519_key"


def default_host_key_path() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "funnel" / KEY_NAME


def load_or_create_host_key(path: Path):
    """The private key at ``path``, created (ed25519, 0600) when there is none yet.

    Returns ``(key, created)``.
    """
    import asyncssh

    if not path.exists():
        return _create(path), True
    try:
        mode = path.stat().st_mode
    except OSError as error:
        raise FunnelError(f"{path}: cannot read the host key ({error.strerror})") from None
    if not stat.S_ISREG(mode):
        raise FunnelError(f"{path}: the host key must be a file")
    if mode & 0o077:
        raise FunnelError(f"{path}: the host key is readable by others "
                          f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 {path}")
    try:
        return asyncssh.read_private_key(str(path)), False
    except (asyncssh.KeyImportError, ValueError) as error:
        raise FunnelError(f"{path}: not a usable private host key ({error}); move it "
                          "away to have a new one generated") from None
    except OSError as error:
        raise FunnelError(f"{path}: cannot read the host key ({error.strerror})") from None


def _create(path: Path):
    import asyncssh

    key = asyncssh.generate_private_key("ssh-ed25519", comment="funnel serve host key")
    data = key.export_private_key("openssh")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server started at the same moment: use its key
        return load_or_create_host_key(path)[0]
    except OSError as error:
        raise FunnelError(f"{path}: cannot create the host key ({error.strerror}); "
                          "choose another place with --host-key") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise FunnelError(f"{path}: cannot write the host key ({error.strerror})") from None
    try:  # for admins: `ssh-keygen -lf` on it, or a line for clients' known_hosts
        (path.parent / (path.name + ".pub")).write_bytes(key.export_public_key("openssh"))
    except OSError:
        pass
    return key
