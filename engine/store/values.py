"""Checking values before they are stored: only what JSON holds exactly gets to the disk."""

from __future__ import annotations

import math
from typing import Any

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


def encode_document(document: Any, where: str) -> str:
    """Check a document as a commit does and encode it, without holding any lock."""
    if type(document) is not dict:
        raise FieldError(where, "a stored document must be a JSON object")
    check_json_native(document, where)
    return dump(document)
