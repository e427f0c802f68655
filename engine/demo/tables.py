"""The demo's shared tables, read once from ``firmographics.json``, ``sources.json`` and
``texts.json``: who the contacts work for, where they come from and what they wrote.

Weighted tables are written as ``[item, weight]`` rows (``[title, decides?, weight]``
for titles, ``[low, high, weight]`` for company sizes); the order of the rows is part
of the table, since a seed replays the same draws against it.
"""

from __future__ import annotations

from typing import Any

from funnel.engine.demo.datafiles import load_table
from funnel.engine.demo.draws import Weighted


def _weighted(rows: list[list[Any]]) -> Weighted[Any]:
    return Weighted([(item, weight) for item, weight in rows])


# -- firmographics, titles, team -------------------------------------------------------
_FIRMOGRAPHICS = load_table("firmographics")

# Phone number shapes by country: a template and the digit count of each gap.
PHONES: dict[str, tuple[str, tuple[int, ...]]] = {
    country: (template, tuple(gaps))
    for country, (template, gaps) in _FIRMOGRAPHICS["phones"].items()}
ALL_COUNTRIES = tuple(PHONES)
INDUSTRIES: Weighted[str] = _weighted(_FIRMOGRAPHICS["industries"])
TITLES: Weighted[tuple[str, bool]] = Weighted([
    ((title, decides), weight) for title, decides, weight in _FIRMOGRAPHICS["titles"]])
# Employees, skewed small.
SIZE_BUCKETS: Weighted[tuple[int, int]] = Weighted([
    ((low, high), weight) for low, high, weight in _FIRMOGRAPHICS["company_sizes"]])
TEAM: tuple[str, ...] = tuple(_FIRMOGRAPHICS["team"])
TAGS: tuple[str, ...] = tuple(_FIRMOGRAPHICS["tags"])

# -- sources and engagement ------------------------------------------------------------
_SOURCES = load_table("sources")

SOURCES: Weighted[str] = _weighted(_SOURCES["sources"])
# How much of the firmographics a source usually brings (purchased lists: most).
RICHNESS: dict[str, float] = dict(_SOURCES["richness"])
# Sources where someone can show up without leaving contact details.
ANONYMOUS_SOURCES: tuple[str, ...] = tuple(_SOURCES["anonymous"])
# Engagement tiers: 0 cold, 1 light, 2 engaged, 3 opportunity, 4 customer.
TIERS: dict[str, Weighted[int]] = {
    source: Weighted(list(enumerate(_SOURCES["tiers"].get(source, _SOURCES["tiers"]["default"]))))
    for source in SOURCES.options}
# What a source records at creation: alternative opening sequences.
OPENERS: dict[str, Weighted[tuple[str, ...]]] = {
    source: Weighted([(tuple(kinds), weight) for kinds, weight in options])
    for source, options in _SOURCES["openers"].items()}
# The follow-on engagement each source tends to bring.
_MIXES: dict[str, Weighted[str]] = {
    name: _weighted(rows) for name, rows in _SOURCES["nurture_mixes"].items()}
_BY_SOURCE: dict[str, str] = _SOURCES["nurture_by_source"]
NURTURE: dict[str, Weighted[str]] = {
    source: _MIXES[_BY_SOURCE.get(source, _BY_SOURCE["default"])] for source in SOURCES.options}

# -- free text -------------------------------------------------------------------------
_TEXTS = load_table("texts")

# Markup-like or hostile text, and the fields it lands in.
HOSTILE: tuple[str, ...] = tuple(_TEXTS["hostile"])
HOSTILE_FIELDS: Weighted[str] = _weighted(_TEXTS["hostile_fields"])
NOTES: tuple[str, ...] = tuple(_TEXTS["notes"])
# Next actions by tier (see sales.py).
ACTIONS: tuple[tuple[str, ...], ...] = tuple(tuple(row) for row in _TEXTS["next_actions"])
LOST_REASONS: tuple[str, ...] = tuple(_TEXTS["lost_reasons"])
DISQUALIFY_REASONS: tuple[str, ...] = tuple(_TEXTS["disqualify_reasons"])
ADJUSTMENTS: tuple[tuple[int, str], ...] = tuple(
    (points, reason) for points, reason in _TEXTS["score_adjustments"])
