"""Saving a rules file: checked first, written atomically, never over a shipped preset."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from funnel.engine.errors import FunnelError
from funnel.engine.files import AtomicFile
from funnel.engine.rules.loading import parse_rules, presets_dir
from funnel.engine.rules.ruleset import Rules

FILE_MODE = 0o640  # owner reads and writes, group reads, nobody else
_ANY = object()
_CHECKOUT_PRESETS = Path(__file__).resolve().parents[2] / "config"


class RulesConflict(FunnelError):
    """The file to save over changed since the draft started (someone else saved)."""


def fingerprint(data: bytes | str) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def file_fingerprint(path: str | os.PathLike) -> str | None:
    """The sha256 of a file's bytes, or None when it does not exist."""
    try:
        return fingerprint(Path(path).read_bytes())
    except FileNotFoundError:
        return None
    except OSError as error:
        raise FunnelError(f"{path}: cannot read: {error.strerror or error}") from None


def is_preset(path: str | os.PathLike) -> bool:
    """Whether ``path`` is (or is inside) a directory of shipped presets: the installed
    one and the source checkout's ``config/``."""
    target = Path(path).expanduser().resolve()
    for shipped in {presets_dir().resolve(), _CHECKOUT_PRESETS.resolve()}:
        if target == shipped or shipped in target.parents:
            return True
    return False


def save_rules(text: str, target: str | os.PathLike, *, expect: str | None | object = _ANY,
               mode: int = FILE_MODE) -> Rules:
    """Check ``text`` as rules, write it atomically to ``target``, return the rules loaded
    from it (their ``source`` is ``target``).

    Creates the directory. Never writes into the shipped presets. ``expect`` is the
    fingerprint the target had when the draft started (None: it did not exist); if the
    file changed since, RulesConflict is raised and nothing is written. The new file
    goes to a temp file beside the target, is fsynced and renamed over it, and the
    directory is fsynced: a crash leaves the old file or the new one, never a mix.
    """
    path = Path(target).expanduser()
    if path.is_symlink():
        path = path.resolve()  # write where the link points; keep the link
    if is_preset(path):
        raise FunnelError(f"{path}: the shipped presets are never overwritten; save your "
                          "rules to your own file (--config DIR or --rules FILE.yaml)")
    raw = text.encode("utf-8")
    rules = parse_rules(raw, str(path))  # never write what would not load
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    except OSError as error:
        raise FunnelError(f"{path.parent}: cannot create the directory: "
                          f"{error.strerror or error}") from None
    if expect is not _ANY:
        current = file_fingerprint(path)
        if current != expect:
            raise RulesConflict(f"{path}: the rules file changed since you started editing "
                                "(saved from elsewhere?); nothing was written")
    if path.exists():
        mode = os.stat(path).st_mode & 0o777 & FILE_MODE or mode
    try:
        temp = AtomicFile(path, mode, exact_mode=True)
    except OSError as error:
        raise FunnelError(f"{path.parent}: cannot write there: {error.strerror or error}") \
            from None
    try:
        with temp:
            temp.write(raw)
            temp.install()
    except OSError as error:
        raise FunnelError(f"{path}: cannot save: {error.strerror or error}") from None
    return rules
