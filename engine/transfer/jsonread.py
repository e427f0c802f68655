"""Reading a JSON import into a ``Table``: the shape ``csvread`` gives a CSV file, so
the same ``RowReader`` checks both. Cells keep their JSON values (lists, numbers)."""

from __future__ import annotations

import json
from typing import Any

from funnel.engine.transfer.csvread import ImportFileError, Record, Table, decode


def read_json(data: bytes, path: str) -> Table:
    """A list of contacts: the documents ``funnel export --format json`` writes, or flat
    objects whose keys are read like a CSV header."""
    text, encoding = decode(data, path)
    try:
        items = json.loads(text)
    except ValueError as error:
        line = getattr(error, "lineno", None)
        raise ImportFileError(path, f"not valid JSON ({getattr(error, 'msg', error)}"
                              f"{f' at line {line}' if line else ''})") from None
    if isinstance(items, dict) and isinstance(items.get("contacts"), list):
        items = items["contacts"]
    if not isinstance(items, list):
        raise ImportFileError(path, "a JSON import is a list of contacts: [{...}, {...}]")
    flats = []
    header: dict[str, None] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ImportFileError(path, "is not an object of fields", index + 1)
        flat = _flatten(item)
        flats.append(flat)
        header.update(dict.fromkeys(flat))
    names = tuple(header)
    records = tuple(Record(index + 1, 0, tuple(flat.get(name) for name in names))
                    for index, flat in enumerate(flats))
    return Table(encoding, "", names, records)


def _flatten(item: dict) -> dict[str, Any]:
    if isinstance(item.get("fields"), dict):  # the export's document shape
        flat = {"id": item.get("id"), **item["fields"]}
        flat["activities"] = item.get("activities") or []
        for key, value in (item.get("custom") or {}).items():
            flat[f"custom.{key}"] = value
        classification = item.get("classification") or {}
        if classification.get("stage"):
            flat["stage"] = classification["stage"]
        if item.get("stage_since"):
            flat["stage_since"] = item["stage_since"]
        return flat
    flat = {}
    for key, value in item.items():
        if key == "custom" and isinstance(value, dict):
            for custom_key, custom_value in value.items():
                flat[f"custom.{custom_key}"] = custom_value
        else:
            flat[str(key)] = value
    return flat
