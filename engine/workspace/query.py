"""The filter language for contact lists, evaluated over columns.

A query is words separated by spaces; a contact must match all of them::

    stage:lead  temp:hot  grade:4  type:SRL  source:trade_show  owner:me
    tag:vip  country:poland  industry:software      field is (prefix of) value
    custom.City:mumbai                                an imported custom field
    score>60  fit>=20  engagement<10  grade>=3       numeric comparison
    likely>=60                                        the learned likelihood, in %
    size>=50  custom.Age>30                           (a custom field compares as a
                                                      number where it holds one)
    created>=2026-12-01  created<2026-12-01T09:00:00Z a moment (UTC)
    created:today  created:yesterday  follow_up:2026-12-24   within that day
    created<7d  last_activity>30d  follow_up<=0d       how long ago: h, d or w
    overdue  rotting  manual  unowned  unanswered     flags (unanswered: past the
                                                      rules' first-response deadline)
    duplicate  duplicate:42                           has a likely duplicate; #42's group
    -stage:lost  -tag:vip                             a leading '-' negates a term
    acme  "van dijk"                                  text in name, company, email, title

``owner:me`` means the user the workspace was opened for. Values compare
case-insensitively; ``stage:`` and ``temp:`` accept a comma list (stage:lead,prospect).
Each term is a mask over every row at once (``Query.mask``); a term over text is
decided once per distinct value and gathered by code.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from funnel.engine.errors import FunnelError
from funnel.engine.model import TEXT_SEARCH_FIELDS
from funnel.engine.workspace.dates_filter import DATE_NAMES, date_term
from funnel.engine.workspace.duplicate_column import duplicate_term
from funnel.engine.workspace.list_context import ListContext

Term = Callable[[ListContext], np.ndarray]

# Terms on a classification output: name -> which output.
_CLASS_TERMS = {"stage": "stage", "temp": "temperature", "temperature": "temperature",
                "type": "lead_type"}
_FIELD_TERMS = {"source": "source", "owner": "owner", "country": "country",
                "industry": "industry", "company": "company"}
_NUMBERS: dict[str, Callable[[ListContext], tuple[np.ndarray, np.ndarray]]] = {
    "score": lambda x: (x.result.score.astype(np.float64), _everywhere(x)),
    "fit": lambda x: (x.result.fit.astype(np.float64), _everywhere(x)),
    "engagement": lambda x: (x.result.engagement.astype(np.float64), _everywhere(x)),
    "grade": lambda x: (x.result.grade.astype(np.float64), _everywhere(x)),
    "size": lambda x: _present(x.table.numbers("company_size")),
    "likely": lambda x: _likely_percent(x),
}
_FLAGS: dict[str, Term] = {
    "overdue": lambda x: x.result.overdue.astype(bool),
    "rotting": lambda x: x.result.rotting.astype(bool),
    "unanswered": lambda x: x.result.unanswered.astype(bool),
    "manual": lambda x: x.result.manual.astype(bool),
    "unowned": lambda x: _field_table(x, "owner", lambda text: not text),
    "duplicate": duplicate_term(""),
}
_COMPARISON = re.compile(r"^([a-z_]+|custom\.[^<>=:]+)(>=|<=|>|<|=)(.+)$", re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
    "=": np.equal,
}

SORTS = ("attention", "score", "likely", "name", "company", "stage", "grade", "temperature",
         "type", "source", "owner", "created", "last_activity", "follow_up", "updated",
         "duplicates")

# Built-in views: a name, and the filter it stands for.
VIEWS = {
    "all": "",
    "inbox": "unowned stage:suspect,lead",   # new and untriaged: nobody has taken them
    "hot": "temp:hot -stage:customer,ambassador,disqualified,lost",
    "overdue": "overdue",
    "rotting": "rotting",
    "mine": "owner:me",
}


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]

    def mask(self, context: ListContext) -> np.ndarray:
        """Which rows match every term (dead rows never do)."""
        found = context.table.live().copy()
        for term in self.terms:
            found &= term(context)
        return found


def parse_query(text: str | None, me: str | None = None) -> Query:
    """The query ``text`` as terms; a FunnelError names a term that cannot work."""
    text = (text or "").strip()
    try:
        words = shlex.split(text)
    except ValueError:
        raise FunnelError(f"filter {text!r}: a quote is not closed") from None
    return Query(text, tuple(_term(word, me) for word in words))


def _term(word: str, me: str | None) -> Term:
    negate = word.startswith("-") and len(word) > 1 and not word[1:2].isdigit()
    test = _positive_term(word[1:] if negate else word, me)
    if negate:
        return lambda context: ~test(context)
    return test


def _positive_term(word: str, me: str | None) -> Term:
    lowered = word.lower()
    if lowered in _FLAGS:
        return _FLAGS[lowered]
    comparison = _COMPARISON.match(word)
    if comparison:
        found = _comparison(word, *comparison.groups())
        if found is not None:
            return found
    key, colon, value = word.partition(":")
    key = key.lower()
    if colon and key in DATE_NAMES:
        return date_term(word, key, "=", value)
    if colon and key.startswith("custom.") and len(key) > 7:
        name, wanted = word.partition(":")[0][7:], value.lower()
        return lambda x: _custom_text(x, name, wanted)
    if colon and key == "duplicate":
        return duplicate_term(value)
    if colon and key == "tag":
        tag = value.lower()
        return lambda x: x.coded("tags").gather(
            lambda tags: isinstance(tags, list) and tag in tags)
    if colon and key in _CLASS_TERMS:
        return _class_term(_CLASS_TERMS[key], _options(value))
    if colon and key in _FIELD_TERMS:
        if key == "owner" and value.lower() == "me":
            value = me or ""
        return _prefix_term(_FIELD_TERMS[key], _options(value))
    if colon and key == "grade":
        options = _options(value)
        return lambda x: _starts_any_table([str(grade) for grade in range(5)], options)[
            np.clip(x.result.grade, 0, 4)]
    if colon and key:
        raise FunnelError(f"filter: unknown term {key!r}; use one of "
                          + ", ".join(sorted(set(_FIELD_TERMS) | set(_CLASS_TERMS) | {"tag"}))
                          + ", score>N, created>=DATE, created<7d, " + ", ".join(_FLAGS))
    needle = word.lower()
    return lambda x: _text_search(x, needle)


def _comparison(word: str, name: str, op: str, bound: str) -> Term | None:
    key = name.lower()
    if key in DATE_NAMES:
        return date_term(word, key, op, bound)
    compare = OPS[op]
    if key.startswith("custom.") and len(name) > 7:
        if not _NUMBER.match(bound):
            raise FunnelError(f"filter: {word!r}: {name} {op} needs a number, e.g. {name}{op}10")
        custom_name, limit = name[7:], float(bound)
        return lambda x: _custom_number(x, custom_name, compare, limit)
    if key not in _NUMBERS:
        return None
    if not _NUMBER.match(bound):
        raise FunnelError(f"filter: {word!r}: {key} compares with a number, "
                          f"e.g. {key}{op}60")
    getter, limit = _NUMBERS[key], float(bound)

    def test(context: ListContext) -> np.ndarray:
        values, present = getter(context)
        return present & compare(values, limit)
    return test


def _likely_percent(context: ListContext) -> tuple[np.ndarray, np.ndarray]:
    """The learned likelihood as a percentage (``likely>=60``), where there is one."""
    values = context.likelihood() * 100.0
    return values, ~np.isnan(values)


def _options(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.lower().split(",") if part)


def _everywhere(context: ListContext) -> np.ndarray:
    return np.ones(context.rows, bool)


def _present(numbers: Any) -> tuple[np.ndarray, np.ndarray]:
    return numbers.values, numbers.present & ~np.isnan(numbers.values)


def _starts_any_table(texts: list[str], options: tuple[str, ...]) -> np.ndarray:
    """Per text: it equals or starts with one of ``options`` (none given: it is empty)."""
    if not options:
        return np.fromiter((not text for text in texts), bool, len(texts))
    return np.fromiter((bool(text) and text.startswith(options) for text in texts), bool,
                       len(texts))


def _class_term(which: str, options: tuple[str, ...]) -> Term:
    def test(context: ListContext) -> np.ndarray:
        codes, names = context.names(which)
        texts = [str(name if name is not None else "none").lower() for name in names]
        if not options:
            return np.zeros(context.rows, bool)
        return _starts_any_table(texts, options)[codes]
    return test


def _prefix_term(field: str, options: tuple[str, ...]) -> Term:
    return lambda x: _starts_any_field(x, field, options)


def _starts_any_field(context: ListContext, field: str, options: tuple[str, ...]) -> np.ndarray:
    texts, codes = context.lowered(field)
    return _starts_any_table(texts, options)[codes]


def _field_table(context: ListContext, field: str, test: Callable[[str], bool]) -> np.ndarray:
    texts, codes = context.lowered(field)
    return np.fromiter((test(text) for text in texts), bool, len(texts))[codes]


def _text_search(context: ListContext, needle: str) -> np.ndarray:
    found = np.zeros(context.rows, bool)
    for field in TEXT_SEARCH_FIELDS:
        found |= context.containing(field, needle)
    return found


def _custom_text(context: ListContext, name: str, wanted: str) -> np.ndarray:
    coded = context.custom(name)
    if not wanted:
        return coded.gather(lambda value: not value)
    return coded.gather(lambda value: value is not None and
                        str(value).lower().startswith(wanted))


def custom_number(value: Any) -> float:
    """A custom field's value as a number (NaN where it holds none)."""
    if isinstance(value, bool) or value is None:
        return np.nan
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return np.nan


def _custom_number(context: ListContext, name: str, compare: Callable[[Any, Any], Any],
                   limit: float) -> np.ndarray:
    numbers = context.custom(name).gather(custom_number, np.float64)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(numbers) & compare(numbers, limit)
