"""The demo generator's tables, read from the JSON files shipped next to this module.

The files are package data (``pyproject.toml`` ships ``funnel.engine.demo/*.json``),
so they are read with ``importlib.resources``: that works from a wheel as well as
from the source tree. Each is read once, when the module that needs it is imported.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

_PACKAGE = __name__.rpartition(".")[0]


def load_table(name: str) -> Any:
    """The parsed contents of ``<name>.json`` in this package."""
    text = resources.files(_PACKAGE).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return _interned(json.loads(text))


def _interned(value: Any) -> Any:
    # Sources and kinds are compared with literals and looked up in dicts for every
    # contact; interned, like the literals they replace, those are identity checks.
    if isinstance(value, str):
        return sys.intern(value)
    if isinstance(value, list):
        return [_interned(item) for item in value]
    if isinstance(value, dict):
        return {sys.intern(key): _interned(item) for key, item in value.items()}
    return value
