"""Likely duplicates: contacts that share a normalised email, a normalised phone, or a
similar name at the same company.

What "the same" means, simply:
- email: trimmed and casefolded (``Ana@Example.com`` is ``ana@example.com``);
- phone: its digits only, compared on the last 8 when it has at least 8 (so
  ``+47 912 34 567``, ``0047 91234567`` and ``912 34 567`` match); shorter numbers
  never match (too many collide);
- name at the same company: both names and companies casefolded, accents and
  punctuation removed, and the words compared in any order (``José Núñez`` is
  ``nunez, jose``); company words like Inc, Ltd, GmbH, AS, SA are left out. Both the
  name and the company must be given.

Contacts are grouped by these keys (one pass, a dict per kind of key; never pairwise),
and groups that share a contact are joined, so the cost grows with the number of
contacts, not its square. ``duplicate_column`` finds the same groups over the
columns (what the Duplicates view and the ``duplicate`` filter read).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

PHONE_DIGITS = 8  # the trailing digits two phone numbers are compared on
_WORD = re.compile(r"[^\W_]+")  # letters and digits: punctuation splits words
_COMPANY_FORMS = frozenset({"inc", "ltd", "llc", "gmbh", "ag", "as", "asa", "ab", "sa", "sl",
                            "srl", "spa", "bv", "nv", "oy", "co", "corp", "plc", "sp", "zoo", "kg"})


@dataclass
class DuplicateGroup:
    """Contacts that are likely one person, and why (``email: ana@example.com``)."""

    ids: list[int]
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"ids": self.ids, "reasons": self.reasons}


def plain_words(text: Any) -> list[str]:
    """``text`` casefolded, accents and punctuation removed, split into words."""
    if not isinstance(text, str):
        return []
    return list(_plain(text))


@functools.lru_cache(maxsize=65_536)  # company names repeat across many contacts
def _plain(text: str) -> tuple[str, ...]:
    folded = text.casefold()
    if not folded.isascii():  # only then can there be accents to take off
        decomposed = unicodedata.normalize("NFKD", folded)
        folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return tuple(_WORD.findall(folded))


def email_key(value: Any) -> str | None:
    return value.strip().casefold() or None if isinstance(value, str) else None


def phone_key(value: Any) -> str | None:
    digits = re.sub(r"\D", "", value) if isinstance(value, str) else ""
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else None


def name_key(document: dict) -> str | None:
    """The sorted words of the name, at the company's words (None unless both given)."""
    name, company = document.get("name"), document.get("company")
    if not isinstance(name, str) or not isinstance(company, str):
        return None
    company = company_words(company)
    name = name_words(name) if company else ""
    return f"{name} @ {company}" if len(name) >= 2 else None


@functools.lru_cache(maxsize=65_536)
def company_words(company: str) -> str:
    """A company's words that tell it apart (legal forms and single letters left out)."""
    return " ".join(word for word in _plain(company)
                    if len(word) > 1 and word not in _COMPANY_FORMS)  # "S.L.": s, l


@functools.lru_cache(maxsize=65_536)
def name_words(name: str) -> str:
    """A name's words sorted, so their order does not matter."""
    return " ".join(sorted(_plain(name)))


# The keys, one function each (``find_duplicates`` writes them out for speed).
KEYS = (("email", lambda document: email_key(document.get("email"))),
        ("phone", lambda document: phone_key(document.get("phone"))),
        ("name at company", name_key))


def find_duplicates(documents: Iterable[tuple[int, dict]]) -> list[DuplicateGroup]:
    """Every group of likely duplicates among ``documents`` (id, contact), lowest id
    first in each group, groups in the order of their lowest id."""
    buckets: dict[tuple[str, str], list[int]] = {}
    add = buckets.setdefault
    phone_of = phone_key
    for contact_id, document in documents:  # KEYS, written out: 100,000 times each
        get = document.get
        email = get("email")
        if email.__class__ is str and email:
            key = email_key(email)
            if key is not None:
                add(("email", key), []).append(contact_id)
        phone = get("phone")
        if phone.__class__ is str and phone:
            digits = phone_of(phone)
            if digits is not None:
                add(("phone", digits), []).append(contact_id)
        if get("company") and get("name"):
            name = name_key(document)
            if name is not None:
                add(("name at company", name), []).append(contact_id)
    parent: dict[int, int] = {}

    def root(item: int) -> int:
        while parent.get(item, item) != item:
            parent[item] = parent.get(parent[item], parent[item])  # halve the path
            item = parent[item]
        return item

    shared = [(kind_key, ids) for kind_key, ids in buckets.items() if len(ids) > 1]
    for _, ids in shared:
        first = root(ids[0])
        for other in ids[1:]:
            top = root(other)
            if top != first:
                parent[max(top, first)] = min(top, first)
                first = min(top, first)
    groups: dict[int, DuplicateGroup] = {}
    for (kind, key), ids in shared:
        group = groups.setdefault(root(ids[0]), DuplicateGroup([]))
        group.ids.extend(ids)
        group.reasons.append(f"{kind}: {key}")
    for group in groups.values():
        group.ids = sorted(set(group.ids))
    return sorted(groups.values(), key=lambda group: group.ids[0])


def duplicates_of(contact_id: int, groups: Iterable[DuplicateGroup]) -> DuplicateGroup | None:
    """The group ``contact_id`` is in, if any."""
    return next((group for group in groups if contact_id in group.ids), None)
