"""What the sales team knows and did about a demo contact: BANT answers, owner and
follow-up, tags, notes, referrals, outcome, and the rare hostile value."""

from __future__ import annotations

import random
from typing import Any

from funnel.engine.demo.clock import DAY, day
from funnel.engine.demo.draws import between, one_of
from funnel.engine.demo.people import random_name
from funnel.engine.demo.runstate import RunState
from funnel.engine.demo.tables import (ACTIONS, ADJUSTMENTS, DISQUALIFY_REASONS, HOSTILE,
                                       HOSTILE_FIELDS, LOST_REASONS, NOTES, TAGS, TEAM)

PRICE = 5_000  # the product price the budget amounts are spread around

# Chance that a BANT answer is known, and that a known one is "yes", per tier.
_BANT_KNOWN = (0.03, 0.1, 0.4, 0.75, 0.9)
_BANT_YES = (0.35, 0.4, 0.55, 0.7, 0.95)
_OWNED = (0.05, 0.15, 0.5, 0.9, 0.95)  # chance someone on the team owns the contact
_DEAL_STEPS = ("demo_request", "quote_request", "meeting")


def bant(rng: random.Random, fields: dict[str, Any], tier: int, decides: bool) -> None:
    """Answers known mostly for engaged contacts; authority follows the title,
    budget follows the amount when there is one."""
    known, yes = _BANT_KNOWN[tier], _BANT_YES[tier]
    if rng.random() < 0.04 + 0.12 * tier:
        # Log-uniform 500..100,000: a good share lands far below the price.
        amount = 500 * 200 ** rng.random()
        step = 100 if amount < PRICE else 1000
        fields["budget_amount"] = int(round(amount / step) * step)
    for answer in ("budget", "authority", "need", "timing"):
        if rng.random() >= known:
            continue
        if answer == "authority":
            chance = 0.85 if decides else 0.15
        elif answer == "budget" and "budget_amount" in fields:
            chance = 0.9 if fields["budget_amount"] >= PRICE else 0.2
        else:
            chance = yes
        fields[answer] = "yes" if rng.random() < chance else "no"


def handling(rng: random.Random, fields: dict[str, Any], source: str, tier: int,
             created: int, run: RunState) -> None:
    """Owner, follow-up, next action, tags, notes: what the team has done so far."""
    owned = rng.random() < _OWNED[tier]
    if owned:
        fields["owner"] = one_of(rng, TEAM)
        if rng.random() < 0.6 and "outcome" not in fields:
            # Around today, a good part of it already overdue.
            fields["follow_up"] = day(run.now // DAY + between(rng, -21, 35))
        if rng.random() < 0.5:
            stage = 4 if fields.get("outcome") == "won" else tier
            fields["next_action"] = one_of(rng, ACTIONS[stage])
    tags = _tags(rng, source, tier, created)
    if tags:
        fields["tags"] = tags
    if rng.random() < 0.05 + 0.08 * tier:
        fields["notes"] = one_of(rng, NOTES)


def _tags(rng: random.Random, source: str, tier: int, created: int) -> list[str]:
    tags = []
    if source == "trade_show" and rng.random() < 0.4:
        tags.append(f"event-{day(created // DAY)[:4]}")
    if rng.random() < 0.06:
        tags.append(one_of(rng, TAGS))
    if tier >= 3 and rng.random() < 0.15:
        tags.append("vip")
    return list(dict.fromkeys(tags))  # keep order, drop repeats


def acquisition(rng: random.Random, fields: dict[str, Any], source: str,
                run: RunState) -> None:
    """Who referred them, and the id a purchased list or partner gave them."""
    if source == "referral" and rng.random() < 0.9 or source == "partner" and rng.random() < 0.1:
        use_known = run.ambassadors and rng.random() < 0.7
        fields["referred_by"] = one_of(rng, run.ambassadors) if use_known else random_name(rng)
    if rng.random() < {"purchased_list": 0.9, "partner": 0.4}.get(source, 0.03):
        run.external_id += between(rng, 1, 40)
        fields["external_id"] = f"EXT-{run.external_id:06d}"


def outcome(rng: random.Random, fields: dict[str, Any], steps: list[str], tier: int) -> None:
    """Won with a purchase; some opportunities lost; a few early contacts disqualified."""
    if "purchase" in steps:
        fields["outcome"] = "won"
    elif tier >= 3 and any(step in _DEAL_STEPS for step in steps) and rng.random() < 0.35:
        fields["outcome"] = "lost"
        fields["outcome_reason"] = one_of(rng, LOST_REASONS)
    elif tier <= 1 and rng.random() < 0.02:
        reason = one_of(rng, DISQUALIFY_REASONS)
        # Disqualifying is a person's pin of the exit stage, with the reason kept twice:
        # as why the stage is pinned and as the disqualification reason itself.
        fields.update(stage_pin="disqualified", pin_reason=reason, disqualify_reason=reason)


def rare_extras(rng: random.Random, fields: dict[str, Any]) -> None:
    """A manual score adjustment, or text a front end might interpret, each 1 in 200."""
    if rng.random() < 0.005:
        fields["score_adjustment"], fields["score_adjustment_reason"] = one_of(rng, ADJUSTMENTS)
    if rng.random() < 0.005:
        # Markup-like or hostile text where a front end might interpret it.
        fields[HOSTILE_FIELDS.pick(rng)] = one_of(rng, HOSTILE)
