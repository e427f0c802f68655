"""Finding and reading a mapping: a preset name or a YAML file, or a guess without one.

A mapping file is YAML (the format is documented in ``config/x-education.yaml`` and
the README), read by the one line-tracking loader (``engine.yaml_lines``) with PyYAML's
safe constructors only. Two YAML habits that would bite here are switched off:
``Yes``/``No``/``on``/``off`` stay text (YAML 1.1 would make them booleans), and the
keys of ``values`` are taken exactly as written (so ``01`` stays ``01``).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Iterable

from funnel.engine.errors import ConfigError
from funnel.engine.inputs import RULES_LIMIT, InputFileError, read_input
from funnel.engine.rules.loading import presets_dir
from funnel.engine.transfer.mapping import Mapping
from funnel.engine.transfer.mapping_build import build_mapping
from funnel.engine.transfer.mapping_guess import guess_mapping
from funnel.engine.yaml_lines import load_yaml


def mapping_presets() -> list[str]:
    """The mapping presets shipped in ``config/`` (files whose first key is funnel_mapping)."""
    names = []
    for path in sorted(presets_dir().glob("*.yaml")):
        try:
            with open(path, encoding="utf-8") as handle:
                head = handle.read(65_536)  # the format's comment block comes first
        except OSError:
            continue
        if any(line.startswith("funnel_mapping:") for line in head.splitlines()):
            names.append(path.stem)
    return names


def resolve_mapping(spec: str | os.PathLike) -> Path:
    """A preset name (``x-education``) or a path to a mapping file."""
    text = str(spec)
    path = Path(text)
    if path.exists():  # read_input refuses what is not a regular file, saying what it is
        return path
    presets = mapping_presets()
    if text in presets:
        return presets_dir() / f"{text}.yaml"
    if os.sep in text or text.endswith((".yaml", ".yml")):
        raise ConfigError(text, None, "no such mapping file")
    close = difflib.get_close_matches(text, presets, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ConfigError(text, None, "no such mapping file or preset; presets: "
                      + (", ".join(presets) or "none") + hint)


def load_mapping(spec: str | os.PathLike) -> Mapping:
    """The mapping in a preset or a file; any problem is a ``ConfigError``."""
    path = resolve_mapping(spec)
    try:  # a regular file of at most RULES_LIMIT bytes (never a FIFO or a device)
        data = read_input(path, RULES_LIMIT, "mapping file")
    except InputFileError as error:
        raise ConfigError(str(path), None, error.reason) from None
    return parse_mapping(data, str(path))


def parse_mapping(data: bytes | str, source: str = "<mapping>") -> Mapping:
    """The mapping in a file's bytes or text; ``source`` names it in messages."""
    document = load_yaml(data, source, text_keys=True, booleans=False)
    return build_mapping(document, source)


def mapping_from(spec: Mapping | str | os.PathLike | None, header: Iterable[str]) -> Mapping:
    """A mapping as given, loaded from a preset or file, or (None) guessed from the header."""
    if isinstance(spec, Mapping):
        return spec
    if spec is None or str(spec) == "":
        return guess_mapping(header)
    return load_mapping(spec)

