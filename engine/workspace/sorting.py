"""Sort orders of contact lists, as keys over columns (``np.lexsort``, stable).

Every order ends with the contact id, so the order is total and a descending list is
the ascending one reversed. "attention" is the triage order: open contacts before
closed ones (an exit, an outcome, a purchase); among open ones, fresh hot leads first
(arrived within ``FRESH_DAYS``: speed matters most for them), then overdue follow-ups
and contacts past their first-response deadline (unanswered),
then rotting contacts, then the rest; within each, hot before warm before cold, the
best score first, the newest first.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from funnel.engine.columns.narrow import narrowed
from funnel.engine.errors import FunnelError
from funnel.engine.model import ACTIVITY_KINDS
from funnel.engine.workspace.duplicate_column import duplicate_order
from funnel.engine.workspace.list_context import ListContext
from funnel.engine.workspace.query import SORTS

FRESH_DAYS = 2.0
_TEMPERATURE_RANK = {"hot": 0, "warm": 1, "cold": 2}
_LATE = np.inf  # a missing date sorts after every date
_PURCHASE = ACTIVITY_KINDS.index("purchase") if "purchase" in ACTIVITY_KINDS else -1

Keys = list[np.ndarray]  # most significant first


def order_rows(context: ListContext, rows: np.ndarray, order: str, descending: bool
               ) -> np.ndarray:
    """``rows`` (row numbers) in ``order``; FunnelError for an unknown order."""
    make = _ORDERS.get(order)
    if make is None:
        raise FunnelError(f"sort: unknown order {order!r}; use one of " + ", ".join(SORTS))
    ids = context.table.id_array()
    keys = [narrowed(key[rows]) for key in make(context)] + [ids[rows]]  # radix
    ordered = rows[np.lexsort(keys[::-1])]
    return ordered[::-1] if descending else ordered


def _temperature_rank(context: ListContext) -> np.ndarray:
    codes, names = context.names("temperature")
    ranks = np.array([_TEMPERATURE_RANK.get(name, 3) for name in names], np.int64)
    return ranks[codes]


def _type_rank(context: ListContext) -> np.ndarray:
    """Lead types by name (none last)."""
    codes, names = context.names("lead_type")
    keys = [name if name is not None else "\uffff" for name in names]
    ranks = np.array([sorted(keys).index(key) for key in keys], np.int64)
    return ranks[codes]


def _stage_order(context: ListContext) -> np.ndarray:
    rules = context.rules
    orders = np.array([rules.by_id[stage_id].order for stage_id in context.result.stage_ids],
                      np.int64)
    return orders[context.result.stage]


def closed(context: ListContext) -> np.ndarray:
    """Contacts triage has no work for: in an exit, with an outcome, or who bought."""
    rules = context.rules
    exits = np.array([rules.by_id[stage_id].is_exit for stage_id in context.result.stage_ids],
                     bool)
    done = exits[context.result.stage] | (context.coded("outcome").codes != 0)
    if _PURCHASE >= 0:
        done |= context.facts().count("purchase").values > 0
    return done


def _moment_key(context: ListContext, field: str, newest_first: bool = False) -> np.ndarray:
    moments = context.moments(field)
    if newest_first:
        moments = -moments
    return np.where(np.isnan(moments), _LATE, moments)


def _attention(context: ListContext) -> Keys:
    result = context.result
    created = context.moments("created_at")
    with np.errstate(invalid="ignore"):
        fresh = (context.now.timestamp() - created) / 86400.0 < FRESH_DAYS
    temperature = _temperature_rank(context)
    urgency = np.full(context.rows, 3, np.int64)
    urgency[result.rotting.astype(bool)] = 2
    urgency[result.overdue.astype(bool)] = 1
    urgency[result.unanswered.astype(bool)] = 1  # as urgent as an overdue follow-up
    urgency[fresh & (temperature == 0)] = 0
    return [closed(context), urgency, temperature, -result.score.astype(np.int64),
            _moment_key(context, "created_at", newest_first=True)]


def _text_then_score(field: str) -> Callable[[ListContext], Keys]:
    return lambda x: [x.text_ranks(field), -x.result.score.astype(np.int64)]


def _last_activity(context: ListContext) -> Keys:
    days = context.facts().last_activity_days()
    return [np.where(days.present, days.values, _LATE)]  # the most recent first


_ORDERS: dict[str, Callable[[ListContext], Keys]] = {
    "attention": _attention,
    "score": lambda x: [-x.result.score.astype(np.int64)],
    "likely": lambda x: [np.nan_to_num(-x.likelihood(), nan=_LATE),
                         -x.result.score.astype(np.int64)],
    "name": lambda x: [x.text_ranks("name")],
    "company": lambda x: [x.text_ranks("company")],
    "grade": lambda x: [-x.result.grade.astype(np.int64), -x.result.score.astype(np.int64)],
    "temperature": lambda x: [_temperature_rank(x), -x.result.score.astype(np.int64)],
    "type": lambda x: [_type_rank(x), -x.result.score.astype(np.int64)],
    "source": _text_then_score("source"),
    "owner": _text_then_score("owner"),
    "created": lambda x: [_moment_key(x, "created_at", newest_first=True),
                          _temperature_rank(x), -x.result.score.astype(np.int64)],
    "last_activity": _last_activity,
    "follow_up": lambda x: [_moment_key(x, "follow_up")],
    "updated": lambda x: [_moment_key(x, "updated_at", newest_first=True)],
    "stage": lambda x: [_stage_order(x), -x.result.score.astype(np.int64)],
    "duplicates": duplicate_order,  # likely duplicates next to each other
}
