"""The column cache beside the store: named numpy arrays and their metadata in one file.

``PATH.columns`` (``StorePaths.columns``), beside the database ``PATH``, holds columns
built from one state of the store under that state's ``CacheKey``: the journal
sequence and the chain's sum there (``ContactStore.position``: a backup or another
file at the same sequence differs), the rules' fingerprint, the columns' schema (a
version string the caller owns) and, when stored values depend on "now", the day.
The cache is only ever a shortcut: ``load_columns`` gives None, and never raises, for
anything but a file written whole for exactly that key; the caller then builds from
the store. Deleting the file is always safe; a folder that cannot be written just
means no cache.

The file (integers little-endian)::

    b"FUNNELC\\n" | format version u32 | header length u32 | header CRC-32 u32 | 0 u32
    header: JSON {"key": {...}, "meta": {...}, "data": {"bytes": N, "crc": C},
                  "arrays": [{"name", "dtype", "shape", "offset"}, ...]}
    zero bytes up to a multiple of 64, then the data: each array's bytes in C order at
    its "offset" (a multiple of 64), zero bytes between

The header's CRC covers the header and the data's CRC every byte of the data, so any
changed byte is seen. Loading checks the key before reading the data, checks that the
header and every array lie inside the file (no allocation beyond the file's own size,
which is itself bounded), then reads the data with one read into one buffer whose
views are the arrays: no pickle, no object arrays, no parsing per value. Text goes in
as dictionary codes plus a JSON list of the strings in ``meta``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import stat
import struct
import zlib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from funnel.engine.files import AtomicFile
from funnel.engine.rules.ruleset import Rules
from funnel.engine.store.contacts import ContactStore
from funnel.engine.store.layout import FILE_MODE as STORE_FILE_MODE, StorePaths

FORMAT_VERSION = 1
MAGIC = b"FUNNELC\n"
_PREFIX = struct.Struct("<8sIIII")  # magic, version, header length, header CRC, zero
ALIGN = 64
MAX_HEADER_BYTES = 256 * 2**20  # the metadata (dictionaries of text) included
MAX_FILE_BYTES = 2 * 2**30  # twenty times a million contacts' columns
MAX_DIMENSIONS = 8
# As the database's own files: the people (the group) who may read the contacts may
# read their cache too, or every session of theirs would build the columns again.
FILE_MODE = STORE_FILE_MODE
_KINDS = frozenset("biufcmM")  # numbers, booleans and dates: fixed size, nothing to unpickle
_DTYPE = re.compile(r"[<>|][biufcmM][0-9]{1,2}(\[[0-9]{0,4}[a-zA-Z]{1,2}\])?")

Arrays = dict[str, np.ndarray]
Meta = dict[str, Any]
Expected = Mapping[str, tuple[Any, tuple[int | None, ...]]]  # name -> (dtype, shape)

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CacheKey:
    """What makes a cache valid: all of it must equal what the file was written for."""

    seq: int  # the journal sequence the columns were built at
    chain: str  # the journal chain's sum there (or the snapshot's): which history
    rules: str  # the rules file's fingerprint (sha256 of its bytes)
    schema: str  # the columns' layout, versioned by the code that builds them
    day: str | None = None  # ISO date, when stored values depend on "now"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def cache_key(store: ContactStore, rules: Rules | str, schema: str,
              day: date | None = None) -> CacheKey | None:
    """The key of the data ``store`` holds now: take it from the same state the columns
    are built from (before any refresh). None when that state may not be cached."""
    position = store.position
    if position is None:
        return None
    fingerprint = rules if isinstance(rules, str) else rules.fingerprint
    return CacheKey(position[0], position[1], fingerprint, schema,
                    day.isoformat() if day is not None else None)


def sidecar_path(database: str | os.PathLike[str]) -> Path:
    """Where the cache of the database at ``database`` lives."""
    return StorePaths.of(database).columns


@dataclasses.dataclass
class CacheRead:
    """What ``read_columns`` found: the arrays and meta, or why there are none."""

    arrays: Arrays | None
    meta: Meta | None
    reason: str  # "loaded", or why the cache was not used (for logs)
    written: dict[str, Any] | None = None  # the key it was written for (read_any_columns)

    def serves(self, key: CacheKey) -> "CacheRead":
        """This read if it was written for ``key``; else a miss saying what differs."""
        if self.arrays is None or self.written == key.to_dict():
            return self
        return CacheRead(None, None, _stale(self.written, key), self.written)


class _Miss(Exception):
    """The cache cannot be used; the message says why."""


# -- writing --------------------------------------------------------------------------


def save_columns(database: str | os.PathLike[str], key: CacheKey,
                 arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> bool:
    """Write the cache of ``database`` atomically (temp file, fsync, rename; mode 0640, as the store's files).

    Returns False, having changed nothing, when it cannot be written (a read-only
    folder, a full disk, something other than a file at its path): no cache is not an
    error. Arrays that are not plain numbers, booleans or dates (object, text or
    structured dtypes) and meta that is not JSON are the caller's mistake: ValueError
    or TypeError.
    """
    if not isinstance(key, CacheKey):
        raise TypeError("save_columns needs a CacheKey (cache_key gave None: do not save)")
    entries, views, data_bytes = _plan(arrays)
    crc = 0
    position = 0
    for entry, view in zip(entries, views):
        crc = zlib.crc32(bytes(entry["offset"] - position), crc)
        crc = zlib.crc32(view, crc)
        position = entry["offset"] + len(view)
    header = orjson.dumps({"key": key.to_dict(), "meta": dict(meta),
                           "data": {"bytes": data_bytes, "crc": crc}, "arrays": entries})
    if len(header) > MAX_HEADER_BYTES:
        raise ValueError(f"the columns' metadata is {len(header)} bytes; at most "
                         f"{MAX_HEADER_BYTES} fit in a cache: store big lists as arrays")
    target = sidecar_path(database)
    try:
        if target.exists() and not target.is_file():
            log.info("%s: not a file; the column cache is not written", target)
            return False
        with AtomicFile(target, FILE_MODE, exact_mode=True) as temp:
            temp.write(_PREFIX.pack(MAGIC, FORMAT_VERSION, len(header), zlib.crc32(header), 0))
            temp.write(header)
            temp.write(bytes(_padding(_PREFIX.size + len(header))))
            position = 0
            for entry, view in zip(entries, views):
                temp.write(bytes(entry["offset"] - position))
                temp.write(view)
                position = entry["offset"] + len(view)
            temp.install()
    except OSError as error:
        log.info("%s: the column cache is not written: %s", target, error.strerror or error)
        return False
    return True


def _plan(arrays: Mapping[str, np.ndarray]) -> tuple[list[dict[str, Any]], list[memoryview], int]:
    """Each array's header entry and bytes, and the data's length."""
    entries: list[dict[str, Any]] = []
    views: list[memoryview] = []
    offset = 0
    for name, array in arrays.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"a column's name must be non-empty text, not {name!r}")
        if not isinstance(array, np.ndarray):
            raise TypeError(f"column {name}: a numpy array is needed, not "
                            f"{type(array).__name__}")
        _check_dtype(array.dtype, f"column {name}")
        if array.ndim > MAX_DIMENSIONS:
            raise ValueError(f"column {name}: {array.ndim} dimensions; at most "
                             f"{MAX_DIMENSIONS}")
        flat = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
        entries.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape),
                        "offset": offset})
        views.append(flat.data)
        offset += _aligned(flat.nbytes)
    end = entries[-1]["offset"] + len(views[-1]) if entries else 0
    return entries, views, end


def _check_dtype(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None \
            or _DTYPE.fullmatch(dtype.str) is None:
        raise ValueError(f"{where}: dtype {dtype} cannot be cached (numbers, booleans and "
                         "dates only; text goes as dictionary codes)")


def _aligned(size: int) -> int:
    return -(-size // ALIGN) * ALIGN


def _padding(size: int) -> int:
    return _aligned(size) - size


# -- reading --------------------------------------------------------------------------


def load_columns(database: str | os.PathLike[str], key: CacheKey | None, *,
                 expect: Expected | None = None) -> tuple[Arrays, Meta] | None:
    """The arrays and meta cached for ``key``, or None (the reason is logged; see
    ``read_columns``). Never raises for a missing, stale or damaged cache."""
    found = read_columns(database, key, expect=expect)
    if found.arrays is None or found.meta is None:
        log.debug("%s: column cache not used: %s", sidecar_path(database), found.reason)
        return None
    return found.arrays, found.meta


def read_columns(database: str | os.PathLike[str], key: CacheKey | None, *,
                 expect: Expected | None = None) -> CacheRead:
    """``load_columns`` with the reason. ``expect`` (name -> (dtype, shape), None in a
    shape for any length) names every array the caller wants, exactly."""
    if key is None:
        return CacheRead(None, None, "this state of the store may not be cached")
    return _read_file(database, key, expect)


def read_any_columns(database: str | os.PathLike[str]) -> CacheRead:
    """The cache as ``read_columns`` reads it (every check but the key's), for whichever
    key it was written for (``written``): for reading it while the store is still being
    opened, the key checked when it is known (``CacheRead.serves``)."""
    return _read_file(database, None, None)


def _read_file(database: str | os.PathLike[str], key: CacheKey | None,
               expect: Expected | None) -> CacheRead:
    target = sidecar_path(database)
    try:
        descriptor = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return CacheRead(None, None, "no cache")
    except OSError as error:
        return CacheRead(None, None, f"cannot open it: {error.strerror or error}")
    try:
        arrays, meta, written = _read(descriptor, key, expect)
    except _Miss as miss:
        return CacheRead(None, None, str(miss))
    except OSError as error:
        return CacheRead(None, None, f"cannot read it: {error.strerror or error}")
    except (ValueError, TypeError, KeyError, OverflowError, MemoryError,
            RecursionError) as error:  # a header shaped in a way the checks missed
        return CacheRead(None, None, f"damaged ({type(error).__name__}: {error})")
    finally:
        os.close(descriptor)
    return CacheRead(arrays, meta, "loaded", written)


def _read(descriptor: int, key: CacheKey | None, expect: Expected | None
          ) -> tuple[Arrays, Meta, dict[str, Any]]:
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        raise _Miss("not a regular file")
    size = info.st_size
    if size > MAX_FILE_BYTES:
        raise _Miss(f"{size} bytes, more than a cache may be ({MAX_FILE_BYTES})")
    prefix = _read_exactly(descriptor, _PREFIX.size, "its prefix")
    magic, version, header_length, header_crc, zero = _PREFIX.unpack(prefix)
    if magic != MAGIC or zero != 0:
        raise _Miss("not a column cache")
    if version != FORMAT_VERSION:
        raise _Miss(f"format version {version}; this Funnel reads {FORMAT_VERSION}")
    data_start = _aligned(_PREFIX.size + header_length)
    if header_length > MAX_HEADER_BYTES or data_start > size:
        raise _Miss(f"truncated or damaged: its header claims {header_length} bytes; the "
                    f"file has {size}")
    header_bytes = _read_exactly(descriptor, header_length, "its header")
    if zlib.crc32(header_bytes) != header_crc:
        raise _Miss("damaged: the header's checksum does not match")
    header = orjson.loads(header_bytes)
    if not isinstance(header, dict) or not isinstance(header.get("meta"), dict):
        raise _Miss("damaged: the header is not laid out as a cache's")
    written = header.get("key")
    if not isinstance(written, dict):
        raise _Miss("damaged: the header has no key")
    if key is not None and written != key.to_dict():
        raise _Miss(_stale(written, key))
    data = header.get("data")
    if not isinstance(data, dict) or not _whole(data.get("bytes")) or \
            not _whole(data.get("crc")):
        raise _Miss("damaged: the header does not say how long the data is")
    if data_start + data["bytes"] != size:
        raise _Miss(f"truncated or extended: {size} bytes, the header says "
                    f"{data_start + data['bytes']}")
    layout = _layout(header.get("arrays"), data["bytes"])
    if expect is not None:
        _check_expected(layout, expect)
    if any(_read_exactly(descriptor, data_start - _PREFIX.size - header_length, "padding")):
        raise _Miss("damaged: bytes after the header")
    buffer = np.empty(data["bytes"], dtype=np.uint8)  # bounded: exactly the file's rest
    view = buffer.data
    filled = 0
    while filled < len(view):
        count = os.readv(descriptor, [view[filled:]])
        if count == 0:
            raise _Miss("truncated while being read")
        filled += count
    if zlib.crc32(view) != data["crc"]:
        raise _Miss("damaged: the data's checksum does not match")
    arrays = {name: buffer[offset:offset + nbytes].view(dtype).reshape(shape)
              for name, (dtype, shape, offset, nbytes) in layout.items()}
    return arrays, header["meta"], written


def _read_exactly(descriptor: int, count: int, what: str) -> bytes:
    chunks, missing = [], count
    while missing:
        chunk = os.read(descriptor, missing)
        if not chunk:
            raise _Miss(f"truncated: the file ends within {what}")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _whole(value: object) -> bool:
    return type(value) is int and value >= 0


def _stale(written: object, key: CacheKey) -> str:
    """Why a cache written for ``written`` does not serve ``key``: what differs."""
    wanted = key.to_dict()
    if not isinstance(written, dict):
        return "damaged: the header has no key"
    differ = [name for name in wanted if written.get(name) != wanted[name]] or ["key"]
    return "stale: written for another " + ", ".join(differ) + " (" + "; ".join(
        f"{name} {written.get(name)!r}, now {wanted.get(name)!r}" for name in differ) + ")"


_Layout = dict[str, tuple[np.dtype, tuple[int, ...], int, int]]  # dtype, shape, offset, bytes


def _layout(entries: object, data_bytes: int) -> _Layout:
    """Each array's dtype, shape and place, checked to lie in the data without overlap."""
    if not isinstance(entries, list):
        raise _Miss("damaged: the header lists no arrays")
    layout: _Layout = {}
    end = 0
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("dtype"), str) or not _whole(entry.get("offset")) \
                or not isinstance(entry.get("shape"), list):
            raise _Miss("damaged: an array's entry is not laid out as a cache's")
        name, text, shape, offset = entry["name"], entry["dtype"], entry["shape"], \
            entry["offset"]
        if name in layout:
            raise _Miss(f"damaged: array {name} is listed twice")
        if _DTYPE.fullmatch(text) is None:
            raise _Miss(f"array {name} has dtype {text!r}, which a cache may not hold")
        dtype = np.dtype(text)
        try:
            _check_dtype(dtype, f"array {name}")
        except ValueError as error:
            raise _Miss(str(error)) from None
        if len(shape) > MAX_DIMENSIONS or not all(_whole(side) for side in shape):
            raise _Miss(f"damaged: array {name} has shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        if offset % ALIGN or offset < end or offset + nbytes > data_bytes:
            raise _Miss(f"damaged: array {name} ({nbytes} bytes at {offset}) overlaps another "
                        f"or does not fit in the {data_bytes} bytes of data")
        layout[name] = dtype, tuple(shape), offset, nbytes
        end = offset + nbytes
    if end != data_bytes:
        raise _Miss(f"damaged: the arrays end at byte {end} of {data_bytes}")
    return layout


def _check_expected(layout: _Layout, expect: Expected) -> None:
    if set(layout) != set(expect):
        raise _Miss("holds other arrays than expected: "
                    + ", ".join(sorted(set(layout) ^ set(expect))))
    for name, (dtype, shape) in expect.items():
        found_dtype, found_shape = layout[name][:2]
        if found_dtype != np.dtype(dtype):
            raise _Miss(f"array {name} is {found_dtype}, not {np.dtype(dtype)}")
        if len(found_shape) != len(shape) or any(
                want is not None and want != side for want, side in zip(shape, found_shape)):
            raise _Miss(f"array {name} has shape {found_shape}, not {shape}")
