"""Which files a person may name: export targets anywhere, and plain names in a folder.

- ``check_export_target(path, force=...)``: an export never replaces a Funnel
  database (its snapshot, journal, lock or quarantine, known by name and by content),
  a dotfile, a symbolic link or anything that is not a regular file (a folder, a
  FIFO, a device); an existing file only with ``force``.
- ``install_new(temp, target)``: puts a finished ``AtomicFile`` in place with a rename
  that cannot replace (a hard link, then the temp name goes), so a file that appears
  between the check and the rename is kept, not overwritten.
- ``resolve_in_folder(folder, name)``: a served session reads and writes only inside
  its own folder, by plain file name: no ``/``, no ``..``, no dotfiles, no control
  characters, no symbolic links.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from pathlib import Path

from funnel.engine.errors import FunnelError
from funnel.engine.files import AtomicFile, fsync_directory
from funnel.engine.inputs import file_kind
from funnel.engine.store.layout import StorePaths
from funnel.engine.text import UNSAFE, visible

NAME_LIMIT = 255  # bytes: what Linux file systems allow in one name
STORE_SUFFIXES = (".columns", ".journal", ".lock", ".quarantine")
SNIFF_BYTES = 512
# How a snapshot and a journal start (TinyDB's stock layout, schema 1, is looked at below).
DATABASE_STARTS = (b'{"funnel":', b'{"journal":')
# Errors of os.link on file systems without hard links (FAT, some network mounts).
NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS,
                 errno.EXDEV}


class ExportTargetError(FunnelError):
    """An export may not write to this path (never, whatever the person says)."""


class ExportTargetExists(ExportTargetError):
    """The export's file exists: replacing it needs the person's say-so (``--force``)."""


class FolderNameError(FunnelError):
    """A served session named a file other than by a plain name in its folder."""


def _shown(path: str | os.PathLike[str]) -> str:
    return visible(os.fspath(path), one_line=True)


def _kind(mode: int) -> str | None:
    """What a non-regular file is, for the message (None: a regular file)."""
    return None if stat.S_ISREG(mode) else file_kind(mode)


def _looks_like_database(path: Path) -> bool:
    """Whether an existing regular file is one of a Funnel database's files, by its
    neighbours (``X.journal`` beside ``X``) or by how it starts."""
    if StorePaths.of(path).journal.exists():
        return True
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False  # unreadable: the rename decides, and we are not replacing it blind
    try:
        head = os.read(descriptor, SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(descriptor)
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b'{"meta":'):
        return b'"app": "funnel"' in head or b'"app":"funnel"' in head
    return head.startswith(DATABASE_STARTS)


def _store_file_of(path: Path) -> Path | None:
    """The database whose journal, lock or quarantine ``path`` would be, if it exists."""
    for suffix in STORE_SUFFIXES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            owner = path.with_name(path.name[:-len(suffix)])
            if owner.is_file():
                return owner
    return None


def check_export_target(path: str | os.PathLike[str], *, force: bool) -> None:
    """Refuse ``path`` as an export's file unless writing it is safe (see the module doc).

    Raises ``ExportTargetExists`` for an existing regular file when not ``force`` (the
    one refusal a person may override) and ``ExportTargetError`` for the others.
    """
    target = Path(path)
    shown = _shown(target)
    if target.name in ("", ".", ".."):
        raise ExportTargetError(f"{shown}: names a folder; give a file name, e.g. "
                                "contacts.csv")
    if target.name.startswith("."):
        raise ExportTargetError(f"{shown}: is a dotfile (the name starts with '.'), where "
                                "settings and keys live; Funnel never writes one: choose a "
                                "name without the leading dot")
    folder = target.parent
    if not folder.is_dir():
        raise ExportTargetError(f"{shown}: the folder {_shown(folder)} does not exist")
    owner = _store_file_of(target)
    if owner is not None:
        raise ExportTargetError(f"{shown}: is a file of the Funnel database "
                                f"{_shown(owner)}; Funnel never replaces it: choose "
                                "another name")
    try:
        info = target.lstat()
    except FileNotFoundError:
        return
    kind = _kind(info.st_mode)
    if kind is not None:
        raise ExportTargetError(f"{shown}: is {kind}; an export writes a regular file: "
                                "choose another name")
    if _looks_like_database(target):
        raise ExportTargetError(f"{shown}: is a Funnel database; Funnel never replaces it "
                                "with an export: choose another name")
    if not force:
        raise ExportTargetExists(f"{shown}: exists; pass --force to replace it, or choose "
                                 "another name")


def install_new(temp: AtomicFile, target: str | os.PathLike[str]) -> None:
    """Put ``temp`` in place as ``target``, which must not exist (``ExportTargetExists``
    if it does by now). The temp file is removed either way."""
    target = Path(target)
    temp.sync()
    try:
        os.link(temp.temp, target)  # unlike a rename, fails if the target exists
    except FileExistsError:
        temp.discard()
        raise ExportTargetExists(f"{_shown(target)}: exists (it appeared while exporting); "
                                 "pass --force to replace it, or choose another name") from None
    except OSError as error:
        if error.errno not in NO_HARD_LINKS:
            raise
        # No hard links on this file system: check, then rename (a narrow window).
        if os.path.lexists(target):
            temp.discard()
            raise ExportTargetExists(f"{_shown(target)}: exists; pass --force to replace "
                                     "it, or choose another name") from None
        temp.install()
        return
    temp.discard()  # the target holds the data now; the temp name goes
    fsync_directory(target.parent)


def _bad_character(name: str) -> str | None:
    for char in name:
        if UNSAFE.match(char) or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return char
    return None


def resolve_in_folder(folder: str | os.PathLike[str], name: str) -> Path:
    """``name`` as a file directly inside ``folder``, or ``FolderNameError`` saying why
    not. Leading and trailing spaces are dropped (a typing slip, not part of a name)."""
    base = Path(folder)
    if not base.is_dir():
        raise FolderNameError(f"the files folder {_shown(base)} does not exist; ask whoever "
                              "runs the server to create it")
    text = name.strip()
    where = f"files are read from and written to {_shown(base)}"
    if not text:
        raise FolderNameError(f"give a file name; {where}")
    bad = _bad_character(text)
    if bad is not None:
        raise FolderNameError(f"{visible(text, one_line=True)}: a file name cannot hold "
                              f"control characters (here {visible(bad)}); type a plain name")
    if "/" in text or "\\" in text:
        raise FolderNameError(f"{text}: give a file name only, without '/' or '\\'; {where}")
    if text.startswith("."):
        raise FolderNameError(f"{text}: names starting with '.' are not allowed (no dotfiles, "
                              f"no '..'); {where}")
    if len(text.encode("utf-8")) > NAME_LIMIT:
        raise FolderNameError(f"{text[:40]}…: a file name may be at most {NAME_LIMIT} bytes "
                              "long")
    resolved = base.resolve()
    path = resolved / text
    if path.is_symlink() or not path.resolve().is_relative_to(resolved):
        raise FolderNameError(f"{text}: is a symbolic link; only files in the folder itself "
                              f"can be used ({where})")
    return path


__all__ = ["ExportTargetError", "ExportTargetExists", "FolderNameError", "check_export_target",
           "install_new", "resolve_in_folder"]
