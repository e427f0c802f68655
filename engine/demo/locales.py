"""The demo's languages: names, companies, titles, countries and free-mail domains.

The tables are in ``locales.json``; this module turns them into ``Locale`` records
once, at import (transliterating names for email addresses then, not per contact).
Its shape, per language code::

    "weight": how often a contact comes from this language (relative)
    "male", "female": first names
    "surnames": "Kowalski|Kowalska" where the surname agrees with gender
    "companies": {"pattern", "roots", "words", "suffixes", "tlds"}: every root with
        every business word; "words" follow the top-level "word_industries" order
    "titles": [title, decides?] in the local language
    "countries": [country, weight]
    "free_mail": domains for private addresses
    optional "family_first" (East Asian order), "joiner" ("" for Chinese and
    Korean names) and "double_surname" (Spanish: chance of a second surname)

A name written ``"王:wang"`` gives its romanisation; others are transliterated.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Sequence

from funnel.engine.demo.datafiles import load_table
from funnel.engine.demo.draws import Weighted

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}
# Letters NFKD cannot take apart, plus the German and Nordic email conventions.
_SPECIAL = {
    "ł": "l", "ø": "o", "æ": "ae", "å": "aa", "ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue",
}
_TRANSLIT = str.maketrans({
    **_CYRILLIC, **{key.upper(): value for key, value in _CYRILLIC.items()},
    **_SPECIAL, **{key.upper(): value for key, value in _SPECIAL.items() if key != "ß"},
})


def slug(text: str) -> str:
    """Lowercase ASCII letters and digits only: safe in an email or a domain."""
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in plain.lower() if ch.isascii() and ch.isalnum())


def _part(entry: str) -> tuple[str, str]:
    """``"王:wang"`` gives an explicit romanisation; otherwise transliterate."""
    display, _, roman = entry.partition(":")
    return display, roman or slug(display)


@dataclass(frozen=True)
class Company:
    name: str
    domain: str
    industry: str | None  # None: the name says nothing, pick one at random


@dataclass(frozen=True)
class Locale:
    male: tuple[tuple[str, str], ...]  # (display, slug)
    female: tuple[tuple[str, str], ...]
    # (male display, female display, male slug, female slug)
    surnames: tuple[tuple[str, str, str, str], ...]
    family_first: bool  # East Asian order: family name first
    joiner: str  # "" for Chinese and Korean names, " " otherwise
    companies: tuple[Company, ...]
    titles: tuple[tuple[str, bool], ...]  # local-language titles (title, decides?)
    countries: Weighted[str]
    free_mail: tuple[str, ...]
    double_surname: float = 0.0  # Spanish: chance of a second surname


def _surnames(entries: Sequence[str]) -> tuple[tuple[str, str, str, str], ...]:
    """``"Kowalski|Kowalska"`` for languages whose surnames agree with gender."""
    table = []
    for entry in entries:
        male, _, female = entry.partition("|")
        male_display, male_slug = _part(male)
        female_display, female_slug = _part(female or male)
        table.append((male_display, female_display, male_slug, female_slug))
    return tuple(table)


def _companies(spec: dict[str, Any], industries: Sequence[str | None]) -> tuple[Company, ...]:
    """Every root with every business word; suffix and domain style rotate by index."""
    pattern, suffixes, tlds = spec["pattern"], spec["suffixes"], spec["tlds"]
    companies = []
    for i, root_entry in enumerate(spec["roots"]):
        root, root_slug = _part(root_entry)
        for j, (word_entry, industry) in enumerate(zip(spec["words"], industries)):
            word, word_slug = _part(word_entry)
            name = pattern.format(root=root, word=word, suffix=suffixes[(i + j) % len(suffixes)])
            joint = "-" if (i + j) % 3 == 0 else ""
            tld = tlds[(i * 7 + j) % len(tlds)]
            companies.append(Company(name, f"{root_slug}{joint}{word_slug}.{tld}", industry))
    return tuple(companies)


def _locale(spec: dict[str, Any], industries: Sequence[str | None]) -> Locale:
    return Locale(
        male=tuple(_part(entry) for entry in spec["male"]),
        female=tuple(_part(entry) for entry in spec["female"]),
        surnames=_surnames(spec["surnames"]),
        family_first=spec.get("family_first", False),
        joiner=spec.get("joiner", " "),
        companies=_companies(spec["companies"], industries),
        titles=tuple((title, decides) for title, decides in spec["titles"]),
        countries=Weighted([(country, weight) for country, weight in spec["countries"]]),
        free_mail=tuple(spec["free_mail"]),
        double_surname=spec.get("double_surname", 0.0),
    )


def _load() -> tuple[dict[str, Locale], Weighted[Locale]]:
    table = load_table("locales")
    industries = table["word_industries"]
    locales = {code: _locale(spec, industries) for code, spec in table["locales"].items()}
    weights = Weighted([(locales[code], spec["weight"])
                        for code, spec in table["locales"].items()])
    return locales, weights


LOCALES, LOCALE_WEIGHTS = _load()
