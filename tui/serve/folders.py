"""Each served user's own folder: ``--files DIR`` holds ``DIR/USER/``, both mode 0700.

A session's app is told its folder (``--files-folder DIR/USER``) and may import from
and export to it only; without ``--files`` it is told that files are off
(``--no-files``). User names come from the key ring, which only accepts names that
are safe folder names (see ``keys.check_user_name``); the folder is still checked to
be a real folder directly inside ``DIR`` before a session is started in it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from funnel.engine.errors import FunnelError

PRIVATE = 0o700
SESSION_UMASK = 0o077  # what a served app writes is the serving account's alone (0600)


def prepare_files_root(root: Path) -> Path:
    """``root`` made absolute, created 0700 when missing; a clear error when unusable."""
    root = root.expanduser().absolute()
    try:
        root.mkdir(parents=True, mode=PRIVATE)
    except FileExistsError:
        pass
    except OSError as error:
        raise FunnelError(f"--files {root}: cannot create the folder ({error.strerror}); "
                          "choose another place") from None
    if not root.is_dir():
        raise FunnelError(f"--files {root}: not a folder; give a folder (it is created "
                          "when missing)")
    if not os.access(root, os.W_OK | os.X_OK):
        raise FunnelError(f"--files {root}: the serving account cannot write there; "
                          "choose another folder")
    return root


def user_folder(root: Path, user: str) -> Path:
    """``root/user``, created 0700 on the user's first session."""
    folder = root / user
    if folder.parent != root:  # the key ring refuses such names; never trust a path
        raise FunnelError(f"{user!r} is not a usable folder name")
    try:
        folder.mkdir(mode=PRIVATE)
    except FileExistsError:
        pass
    except OSError as error:
        raise FunnelError(f"{folder}: cannot create the user's folder "
                          f"({error.strerror})") from None
    try:
        mode = folder.lstat().st_mode
    except OSError as error:
        raise FunnelError(f"{folder}: cannot read the user's folder "
                          f"({error.strerror})") from None
    if not stat.S_ISDIR(mode):  # a symlink is not followed: it could lead anywhere
        raise FunnelError(f"{folder}: not a folder of its own (a symbolic link or a "
                          "file); move it away and a folder is created")
    return folder
