"""The files that make up a database, their permission, and the temp files a killed
process can leave beside them.

For a database at ``PATH``: ``PATH`` (the snapshot), ``PATH.journal`` (the commits
since) and ``PATH.lock`` (held by a writer while it commits); ``PATH.columns`` is a
cache beside them that may be deleted at any time.
"""

from __future__ import annotations

import errno
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from funnel.engine.errors import StorageError

FILE_MODE = 0o640  # owner reads and writes, group reads, nobody else


@dataclass
class StorePaths:
    snapshot: Path
    journal: Path
    lock: Path

    @property
    def quarantine(self) -> Path:
        """Where ``funnel check`` keeps what it could not read (appended, never replaced)."""
        return self.snapshot.with_name(self.snapshot.name + ".quarantine")

    @property
    def columns(self) -> Path:
        """The column cache beside the database (``funnel.engine.columns.sidecar``): never
        trusted over these files, so deleting it is always safe."""
        return self.snapshot.with_name(self.snapshot.name + ".columns")

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> "StorePaths":
        snapshot = Path(path)
        return cls(snapshot, snapshot.with_name(snapshot.name + ".journal"),
                   snapshot.with_name(snapshot.name + ".lock"))


def check_hint(path: str | os.PathLike[str]) -> str:
    """The fix for damage, named for the database whose file ``path`` is."""
    snapshot = str(path)
    for suffix in (".journal", ".lock"):
        snapshot = snapshot.removesuffix(suffix)
    return f"repair it with: funnel check --db {shlex.quote(snapshot)}"


def write_error(path: Path, error: OSError) -> StorageError:
    """Say plainly when a write failed because the folder or file is read-only."""
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(f"{path.parent}: cannot write here ({error.strerror}); the "
                            "database can only be read")
    return StorageError(f"{path}: {error.strerror}")


def remove_stale_temps(paths: StorePaths) -> list[Path]:
    """Delete temp files left by a process killed mid-write (its pid is gone).

    Temp files are named ``.NAME.PID.RANDOM.tmp`` or ``.compact`` (see ``funnel.engine.files``).
    """
    removed = []
    for target in (paths.snapshot, paths.journal, paths.columns):
        prefix = f".{target.name}."
        for candidate in target.parent.glob(prefix + "*"):
            rest = candidate.name[len(prefix):].split(".")
            if len(rest) != 3 or rest[2] not in ("tmp", "compact") or not rest[0].isdigit():
                continue
            if _alive(int(rest[0])):
                continue
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
