"""The synthetic contact generator: deterministic, valid, varied, never in the future."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import SOURCES, new_contact, parse_datetime

NOW = datetime(2026, 8, 1, 10, 0, tzinfo=timezone.utc)
COUNT = 2000

# One detector per language or script the generator is meant to cover.
SCRIPTS = {
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "han": re.compile(r"[\u4e00-\u9fff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\uac00-\ud7af]"),
    "polish": re.compile(r"[ąćęłńśźżĄĆĘŁŃŚŹŻ]"),
    "norwegian": re.compile(r"[æøåÆØÅ]"),
    "spanish": re.compile(r"[ñÑáéíóúÁÉÍÓÚ]"),
    "german": re.compile(r"[äöüßÄÖÜ]"),
}
MARKUP = re.compile(r"\[/?[a-z]|<[a-z/]|^=[A-Z]+\(|DROP TABLE", re.IGNORECASE)


@pytest.fixture(scope="module")
def contacts() -> list[dict[str, Any]]:
    return list(generate_contacts(COUNT, 42, NOW))


def test_yields_the_requested_count(contacts: list[dict[str, Any]]) -> None:
    assert len(contacts) == COUNT
    assert list(generate_contacts(0, 42, NOW)) == []


def test_same_seed_gives_identical_output() -> None:
    assert list(generate_contacts(500, 7, NOW)) == list(generate_contacts(500, 7, NOW))


def test_different_seeds_give_different_output() -> None:
    assert list(generate_contacts(50, 7, NOW)) != list(generate_contacts(50, 8, NOW))


def test_every_contact_is_accepted_by_the_model(contacts: list[dict[str, Any]]) -> None:
    for fields in contacts:
        document = new_contact(fields, NOW)
        assert document["created_at"] == fields["created_at"]
        assert len(document.get("activities", [])) == len(fields["activities"])


def test_every_source_is_used(contacts: list[dict[str, Any]]) -> None:
    assert set(SOURCES) <= {fields["source"] for fields in contacts}


def test_names_cover_several_languages_and_scripts(contacts: list[dict[str, Any]]) -> None:
    text = "\n".join(fields.get("name") or "" for fields in contacts)
    found = [script for script, pattern in SCRIPTS.items() if pattern.search(text)]
    assert len(found) >= 5, found


def test_nothing_is_dated_after_now(contacts: list[dict[str, Any]]) -> None:
    for fields in contacts:
        created = parse_datetime(fields["created_at"])
        assert created <= NOW
        for activity in fields["activities"]:
            assert created <= parse_datetime(activity["at"]) <= NOW, (fields, activity)


def test_naive_now_is_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert list(generate_contacts(100, 3, naive)) == list(generate_contacts(100, 3, NOW))


def test_created_at_spreads_over_about_a_year(contacts: list[dict[str, Any]]) -> None:
    ages = [(NOW - parse_datetime(fields["created_at"])).days for fields in contacts]
    assert max(ages) > 300
    assert min(ages) <= 2


def test_emails_are_unique(contacts: list[dict[str, Any]]) -> None:
    emails = [fields["email"].lower() for fields in contacts if fields.get("email")]
    duplicates = [email for email, seen in Counter(emails).items() if seen > 1]
    assert not duplicates
    assert all(email.isascii() for email in emails)


def test_contact_channels_mix(contacts: list[dict[str, Any]]) -> None:
    phone_only = [c for c in contacts if not c.get("email") and c.get("phone")]
    unreachable = [c for c in contacts if not c.get("email") and not c.get("phone")]
    assert 0.05 * COUNT < len(phone_only) < 0.2 * COUNT
    assert unreachable, "expected a few anonymous suspects"
    assert all(c["activities"] for c in unreachable)


def test_some_markup_looking_text_is_present(contacts: list[dict[str, Any]]) -> None:
    hostile = [c for c in contacts
               if MARKUP.search(c.get("name") or "") or MARKUP.search(c.get("company") or "")]
    assert hostile
    # Rare, as in real data: about one contact in 200 across all text fields.
    assert len(hostile) < COUNT / 50


def test_outcomes_follow_the_activities(contacts: list[dict[str, Any]]) -> None:
    outcomes = Counter(fields.get("outcome") for fields in contacts)
    assert outcomes["won"] and outcomes["lost"]
    for fields in contacts:
        kinds = {activity["kind"] for activity in fields["activities"]}
        if fields.get("outcome") == "won":
            assert "purchase" in kinds
        if "referral_made" in kinds:
            assert "purchase" in kinds
        if fields.get("outcome") == "lost":
            assert fields.get("outcome_reason")


def test_bant_is_mostly_unknown_but_sometimes_answered(contacts: list[dict[str, Any]]) -> None:
    bant = ("budget", "authority", "need", "timing")
    all_unknown = sum(not any(name in fields for name in bant) for fields in contacts)
    assert 0.3 * COUNT < all_unknown < 0.9 * COUNT
    assert any(all(fields.get(name) in ("yes", "no") for name in bant) for fields in contacts)
