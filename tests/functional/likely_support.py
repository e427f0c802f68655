"""A small real database whose contacts have outcomes, and a model learned from it.

Generated contacts (as the demo makes them) get a custom field ``Segment`` and an
outcome drawn from a logistic model the tests know: referrals and the segment that
looks like markup (``[bold]gold[/]``) convert more, purchased lists and ``bronze``
less; one in ten stays open. ``funnel learn`` (the CLI, in-process) trains on it in
well under a second.
"""

from __future__ import annotations

import math
import random
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.facade import Workspace
from funnel.tui.cli.main import main

from conftest import NOW, fixed_clock

GOLD = "[bold]gold[/]"  # a value a markup parser would eat: the card must show it as is
SEGMENTS = (GOLD, "silver", "bronze")


def log_odds(contact: dict) -> float:
    segment = contact["custom"]["Segment"]
    return (-0.5 + 2.0 * (contact.get("source") == "referral")
            - 1.5 * (contact.get("source") == "purchased_list")
            + 1.8 * (segment == GOLD) - 1.0 * (segment == "bronze"))


def write_outcomes_db(path: Path, count: int = 400, seed: int = 11) -> None:
    rng = random.Random(seed)
    contacts = list(generate_contacts(count, seed, NOW.replace(hour=0)))
    for contact in contacts:
        contact["custom"] = {"Segment": rng.choice(SEGMENTS)}
        if rng.random() < 0.9:
            won = rng.random() < 1 / (1 + math.exp(-log_odds(contact)))
            contact["outcome"] = "won" if won else "lost"
    with Workspace.open(path, None, clock=fixed_clock, user="generator") as workspace:
        workspace.add_many(contacts, by="generator")


def learn(path: Path) -> None:
    """``funnel learn --db PATH``: the model saved beside the database."""
    with redirect_stdout(StringIO()):
        assert main(["learn", "--db", str(path)]) == 0
