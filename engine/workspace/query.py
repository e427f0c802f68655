"""The filter language for contact lists, and the sort orders.

A query is words separated by spaces; a contact must match all of them::

    stage:lead  temp:hot  grade:4  type:SRL  source:trade_show  owner:me
    tag:vip  country:poland  industry:software      field is (prefix of) value
    custom.City:mumbai                                an imported custom field
    score>60  fit>=20  engagement<10  grade>=3       numeric comparison
    overdue  rotting  manual  unowned                 flags
    -stage:lost  -tag:vip                             a leading '-' negates a term
    acme  "van dijk"                                  text in name, company, email, title

``owner:me`` means the user the workspace was opened for. Values compare
case-insensitively; ``stage:`` and ``temp:`` accept a comma list (stage:lead,prospect).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from funnel.engine.rules.classify import Classification
from funnel.engine.errors import FunnelError
from funnel.engine.model import TEXT_SEARCH_FIELDS

Test = Callable[[dict, Classification], bool]

_FIELD_TERMS = {
    "stage": lambda d, c: c.stage,
    "temp": lambda d, c: c.temperature,
    "temperature": lambda d, c: c.temperature,
    "grade": lambda d, c: str(c.grade),
    "type": lambda d, c: c.lead_type or "none",
    "source": lambda d, c: d.get("source"),
    "owner": lambda d, c: d.get("owner"),
    "country": lambda d, c: d.get("country"),
    "industry": lambda d, c: d.get("industry"),
    "company": lambda d, c: d.get("company"),
}
_NUMBERS = {
    "score": lambda d, c: c.score,
    "fit": lambda d, c: c.fit,
    "engagement": lambda d, c: c.engagement,
    "grade": lambda d, c: c.grade,
    "size": lambda d, c: d.get("company_size"),
}
_FLAGS: dict[str, Test] = {
    "overdue": lambda d, c: c.overdue,
    "rotting": lambda d, c: c.rotting,
    "manual": lambda d, c: c.manual,
    "unowned": lambda d, c: not d.get("owner"),
}
_COMPARISON = re.compile(r"^([a-z_]+)(>=|<=|>|<|=)(-?\d+(?:\.\d+)?)$")
_OPS = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, "=": lambda a, b: a == b,
}

SORTS = ("attention", "score", "name", "company", "stage", "grade", "temperature", "type",
         "source", "owner", "created", "follow_up", "updated")

# Built-in views: a name, and the filter it stands for.
VIEWS = {
    "all": "",
    "inbox": "unowned stage:suspect,lead",   # new and untriaged: nobody has taken them
    "hot": "temp:hot -stage:customer,ambassador,disqualified,lost",
    "overdue": "overdue",
    "rotting": "rotting",
    "mine": "owner:me",
}
_TEMPERATURE_RANK = {"hot": 0, "warm": 1, "cold": 2}


@dataclass(frozen=True)
class Query:
    text: str
    tests: tuple[Test, ...]
    # It tests imported custom fields, which slim copies of contacts leave out.
    reads_custom: bool = False

    def __call__(self, document: dict, classification: Classification) -> bool:
        for test in self.tests:
            if not test(document, classification):
                return False
        return True


def parse_query(text: str | None, me: str | None = None) -> Query:
    text = (text or "").strip()
    try:
        words = shlex.split(text)
    except ValueError:
        raise FunnelError(f"filter {text!r}: a quote is not closed") from None
    return Query(text, tuple(_term(word, me) for word in words),
                 any(word.lstrip("-").lower().startswith("custom.") for word in words))


def _term(word: str, me: str | None) -> Test:
    negate = word.startswith("-") and len(word) > 1 and not word[1:2].isdigit()
    test = _positive_term(word[1:] if negate else word, me)
    if negate:
        return lambda d, c: not test(d, c)
    return test


def _positive_term(word: str, me: str | None) -> Test:
    lowered = word.lower()
    if lowered in _FLAGS:
        return _FLAGS[lowered]
    comparison = _COMPARISON.match(lowered)
    if comparison and comparison.group(1) in _NUMBERS:
        name, op, number = comparison.groups()
        getter, compare, bound = _NUMBERS[name], _OPS[op], float(number)
        return lambda d, c: (value := getter(d, c)) is not None and compare(value, bound)
    key, colon, value = word.partition(":")
    key = key.lower()
    if colon and key.startswith("custom.") and len(key) > 7:
        name, wanted = word.partition(":")[0][7:], value.lower()
        return lambda d, c: (str((d.get("custom") or {}).get(name, "")).lower()
                             .startswith(wanted) if wanted
                             else not (d.get("custom") or {}).get(name))
    if colon and key == "tag":
        tag = value.lower()
        return lambda d, c: tag in (d.get("tags") or ())
    if colon and key in _FIELD_TERMS:
        if key == "owner" and value.lower() == "me":
            value = me or ""
        getter = _FIELD_TERMS[key]
        options = tuple(part for part in value.lower().split(",") if part)
        if not options:
            return lambda d, c: not getter(d, c)
        return lambda d, c: _starts_with_any(getter(d, c), options)
    if colon and key:
        raise FunnelError(f"filter: unknown term {key!r}; use one of "
                          + ", ".join(sorted(set(_FIELD_TERMS) | {"tag"})) + ", score>N, "
                          + ", ".join(_FLAGS))
    needle = word.lower()
    return lambda d, c: any(needle in (d.get(name) or "").lower() for name in TEXT_SEARCH_FIELDS)


def _starts_with_any(value: object, options: tuple[str, ...]) -> bool:
    if value is None:
        return False
    text = str(value).lower()
    return any(text == option or text.startswith(option) for option in options)


# The sort orders that read a document field no slim copy keeps.
SORTS_READING_MORE = frozenset({"updated"})


SortKey = Callable[[tuple[int, dict, Classification]], tuple[Any, ...]]


def sort_key(order: str, stage_order: dict[str, int]) -> SortKey:
    """Keys for ``sorted`` over (id, document, classification) rows; ascending."""
    if order == "attention":
        # Overdue follow-ups and rotting contacts first, then hot before cold, best score.
        return lambda row: (not row[2].overdue, not row[2].rotting,
                            _TEMPERATURE_RANK.get(row[2].temperature, 3), -row[2].score, row[0])
    if order == "score":
        return lambda row: (-row[2].score, row[0])
    if order in ("name", "company"):
        return lambda row: ((row[1].get(order) or "\uffff").casefold(), row[0])
    if order == "grade":
        return lambda row: (-row[2].grade, -row[2].score, row[0])
    if order == "temperature":
        return lambda row: (_TEMPERATURE_RANK.get(row[2].temperature, 3), -row[2].score, row[0])
    if order == "type":
        return lambda row: (row[2].lead_type or "\uffff", -row[2].score, row[0])
    if order in ("source", "owner"):
        return lambda row: ((row[1].get(order) or "\uffff").casefold(), -row[2].score, row[0])
    if order == "created":
        return lambda row: (row[1].get("created_at") or "", row[0])
    if order == "updated":
        return lambda row: (row[1].get("updated_at") or "", row[0])
    if order == "follow_up":
        return lambda row: (row[1].get("follow_up") or "9999", row[0])
    if order == "stage":
        return lambda row: (stage_order.get(row[2].stage, 0), -row[2].score, row[0])
    raise FunnelError(f"sort: unknown order {order!r}; use one of " + ", ".join(SORTS))
