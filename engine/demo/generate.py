"""Synthetic but realistic contacts for demos, benchmarks and tests.

``generate_contacts(count, seed, now)`` yields field dicts that
``engine.model.new_contact(fields, now)`` accepts. The data mimics a European
sales team's inbox: names and companies in several languages and scripts,
sources with their own activity patterns, BANT known mostly for engaged
contacts, a few customers, ambassadors, lost deals and suspects, and roughly
one contact in 200 carrying markup-like or hostile text to keep front ends
honest.

The parts: ``people`` (who they are), ``activity`` (what they did), ``sales``
(what the team knows and did), over the tables in this package's JSON files
(``locales``, ``tables``).

Determinism: every random draw goes through one ``random.Random(seed)``; no
wall clock, no global random, no ``hash()`` of strings, no iteration over
sets. Speed: every table is built once at import, so a contact costs a few
dozen draws.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, Iterator

from funnel.engine.demo import activity, clock, people, sales
from funnel.engine.demo.locales import LOCALE_WEIGHTS
from funnel.engine.demo.runstate import RunState
from funnel.engine.demo.tables import ANONYMOUS_SOURCES, SOURCES, TIERS


def _contact(rng: random.Random, run: RunState) -> dict[str, Any]:
    # The order of the draws is the generator's contract with its seeds: keep it.
    source = SOURCES.pick(rng)
    who = people.person(rng, LOCALE_WEIGHTS.pick(rng))
    suspect = source in ANONYMOUS_SOURCES and rng.random() < 0.08
    tier = min(TIERS[source].pick(rng), 1) if suspect else TIERS[source].pick(rng)
    created = clock.created(rng, run.now)
    fields, decides = people.identity(rng, who, source, tier, suspect, run)
    fields["source"] = source
    fields["created_at"] = clock.iso(created)
    steps_at = activity.milestones(rng, tier, created, run.now)
    steps = [kind for _, kind, _ in steps_at]
    fields["activities"] = activity.activities(
        activity.nurture(rng, source, tier, suspect, created, run.now) + steps_at)
    sales.outcome(rng, fields, steps, tier)
    sales.bant(rng, fields, tier, decides)
    sales.acquisition(rng, fields, source, run)
    sales.handling(rng, fields, source, tier, created, run)
    sales.rare_extras(rng, fields)
    if "name" in fields and "referral_made" in steps:
        run.ambassadors.append(fields["name"])
    return fields


def generate_contacts(count: int, seed: int, now: datetime) -> Iterator[dict[str, Any]]:
    """Yield ``count`` field dicts for ``engine.model.new_contact(fields, now)``.

    The same (count, seed, now) always gives the same contacts; nothing is dated
    after ``now``.
    """
    rng = random.Random(seed)
    run = RunState(now=clock.epoch_seconds(now))
    for _ in range(count):
        yield _contact(rng, run)
