"""Who a demo contact is: name, email, phone, country, title and company.

How much a contact tells about themselves depends on the source (``RICHNESS``)
and on how engaged they are; suspects (anonymous visitors) tell almost nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from funnel.engine.demo.draws import between, one_of
from funnel.engine.demo.locales import LOCALE_WEIGHTS, Company, Locale
from funnel.engine.demo.runstate import RunState
from funnel.engine.demo.tables import (ALL_COUNTRIES, INDUSTRIES, PHONES, RICHNESS,
                                       SIZE_BUCKETS, TITLES)

# Chance that someone who gave an email also gave a phone: cards and lists carry both.
_ALSO_PHONE = {"trade_show": 0.6, "inbound_call": 1.0, "referral": 0.5, "purchased_list": 0.5}


@dataclass
class Person:
    name: str
    first: str  # ASCII slugs for email addresses
    last: str
    locale: Locale


def person(rng: random.Random, locale: Locale) -> Person:
    female = rng.random() < 0.5
    first, first_slug = one_of(rng, locale.female if female else locale.male)
    male_last, female_last, male_slug, female_slug = one_of(rng, locale.surnames)
    last, last_slug = (female_last, female_slug) if female else (male_last, male_slug)
    if locale.double_surname and rng.random() < locale.double_surname:
        last = f"{last} {one_of(rng, locale.surnames)[0]}"
    name = f"{last}{locale.joiner}{first}" if locale.family_first else f"{first} {last}"
    return Person(name, first_slug, last_slug, locale)


def random_name(rng: random.Random) -> str:
    return person(rng, LOCALE_WEIGHTS.pick(rng)).name


def _email(rng: random.Random, who: Person, company: Company | None, run: RunState) -> str:
    """first.last@company-domain in most cases; numbered when the address is taken."""
    if company is None or rng.random() < 0.12:
        domain = one_of(rng, who.locale.free_mail)
    else:
        domain = company.domain
    style = rng.random()
    if style < 0.6:
        local = f"{who.first}.{who.last}"
    elif style < 0.78:
        local = f"{who.first[:1]}{who.last}"
    elif style < 0.9:
        local = f"{who.first}{who.last}"
    else:
        local = who.first
    address = f"{local}@{domain}"
    # Slugs hold no digits, so "local<n>" can never collide with another base address.
    used = run.emails.get(address, 0) + 1
    run.emails[address] = used
    return address if used == 1 else f"{local}{used}@{domain}"


def _phone(rng: random.Random, country: str) -> str:
    template, gaps = PHONES[country]
    return template.format(*(f"{int(rng.random() * 10 ** size):0{size}d}" for size in gaps))


def _country(rng: random.Random, locale: Locale) -> str:
    if rng.random() < 0.03:  # expats and travellers
        return one_of(rng, ALL_COUNTRIES)
    return locale.countries.pick(rng)


def _title(rng: random.Random, locale: Locale) -> tuple[str, bool]:
    if locale.titles and rng.random() < 0.3:
        return one_of(rng, locale.titles)
    return TITLES.pick(rng)


def _company_size(rng: random.Random) -> int:
    low, high = SIZE_BUCKETS.pick(rng)
    return between(rng, low, high)


def _contact_channels(rng: random.Random, source: str) -> tuple[bool, bool]:
    """(has email, has phone) for someone who left details."""
    phone_only = 0.5 if source == "inbound_call" else 0.085
    if rng.random() < phone_only:
        return False, True
    return True, rng.random() < _ALSO_PHONE.get(source, 0.25)


def identity(rng: random.Random, who: Person, source: str, tier: int, suspect: bool,
             run: RunState) -> tuple[dict[str, Any], bool]:
    """Who they are; also whether the title suggests a decision maker."""
    locale = who.locale
    fields: dict[str, Any] = {}
    richness = RICHNESS.get(source, 0.5) + 0.08 * tier
    company = one_of(rng, locale.companies) if rng.random() < 0.88 else None
    country = _country(rng, locale)
    if suspect:
        # Anonymous: most have no name at all, some a name seen on a badge or a like.
        if rng.random() < 0.4:
            fields["name"] = who.name
    else:
        # A newsletter sign-up often gives just an address.
        if source != "newsletter" or rng.random() < 0.6:
            fields["name"] = who.name
        has_email, has_phone = _contact_channels(rng, source)
        if has_email:
            fields["email"] = _email(rng, who, company, run)
        if has_phone:
            fields["phone"] = _phone(rng, country)
    if rng.random() < 0.5 + richness / 2:
        fields["country"] = country
    decides = False
    if rng.random() < richness + 0.2:
        fields["title"], decides = _title(rng, locale)
    if company is not None and (not suspect or rng.random() < 0.3):
        _firmographics(rng, fields, company, richness)
    return fields, decides


def _firmographics(rng: random.Random, fields: dict[str, Any], company: Company,
                   richness: float) -> None:
    if rng.random() < richness + 0.3:
        fields["company"] = company.name
    if rng.random() < richness:
        # The name hints at the industry, but forms and lists often say otherwise.
        hinted = company.industry is not None and rng.random() < 0.85
        fields["industry"] = company.industry if hinted else INDUSTRIES.pick(rng)
    if rng.random() < richness:
        fields["company_size"] = _company_size(rng)
