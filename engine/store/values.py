"""Checking values before they are stored: only what JSON holds exactly gets to the disk."""

from __future__ import annotations

import math
from typing import Any

import orjson

from funnel.engine.errors import FieldError
from funnel.engine.store.documents import dump


def check_json_native(value: Any, where: str) -> None:
    """Refuse anything JSON cannot hold exactly, before it can reach the disk."""
    kind = type(value)
    if kind is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise FieldError(where, "text with an unpaired surrogate cannot be stored") from None
        return
    if value is None or kind is bool or kind is int:
        return
    if kind is float:
        if not math.isfinite(value):
            raise FieldError(where, f"{value!r} cannot be stored (not a finite number)")
        return
    if kind is list:
        for index, item in enumerate(value):
            check_json_native(item, f"{where}[{index}]")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise FieldError(where, f"key {key!r} cannot be stored (keys must be text)")
            check_json_native(item, f"{where}.{key}" if where else key)
        return
    raise FieldError(where, f"a {kind.__name__} cannot be stored (only JSON values)")


_EXACT = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATETIME \
    | orjson.OPT_PASSTHROUGH_DATACLASS  # such values reach ``_refuse`` instead


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def encode_document(document: Any, where: str) -> bytes:
    """Check a document as a commit does and encode it (UTF-8 JSON, as ``dump`` writes
    it), without holding any lock.

    The fast way (measured 3x faster than checking every value, then ``dump``):
    encode with orjson and read the bytes back; a document that comes back equal held
    only JSON values (a NaN, tuple, enum or UUID comes back as something else, and
    orjson refuses the rest). Anything else takes the checking way, which names the
    value that cannot be stored (or stores what orjson does not: ints past 64 bits).
    """
    if type(document) is not dict:
        raise FieldError(where, "a stored document must be a JSON object")
    try:
        encoded = orjson.dumps(document, default=_refuse, option=_EXACT)
        if orjson.loads(encoded) == document:
            # A copy of exactly its size: orjson's own bytes keep a buffer of 8 KB or
            # more (measured), and a big import holds every document's bytes.
            return memoryview(encoded).tobytes()
    except (TypeError, ValueError):
        pass
    check_json_native(document, where)
    return dump(document).encode("utf-8")
