"""Where the person left off in this database, checked before the desk opens on it.

The desk (``user_config.Desk``) keeps one ``Place`` per database, keyed by the
database file's resolved path: the view, the filter typed on top of it, the sort and
its direction, and the contact under the cursor. ``resume`` answers what to open on:
each part that no longer fits (a view deleted since, a filter the language no longer
accepts, a sort that is gone) falls back to its default, and every such fallback is
told in one notice. A database never seen before opens on the last view used anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from funnel.engine.errors import FunnelError
from funnel.engine.workspace.query import SORTS, parse_query
from funnel.tui.app.user_config import Desk

DEFAULT_VIEW = "all"


@dataclass(frozen=True)
class Resumed:
    view: str
    filter: str = ""
    sort: tuple[str, bool] | None = None  # None: the view's own (or the one shown)
    contact: int | None = None  # the cursor goes back to it if it is still listed
    notice: str = ""  # what could not be restored, one line; "" when all was


def database_key(path: str) -> str:
    """The key a database's place is kept under: its file's resolved path."""
    return str(Path(path).expanduser().resolve())


def resume(desk: Desk, database: str, exists: Callable[[str], bool],
           label: Callable[[str], str], me: str | None) -> Resumed:
    """What to open ``database`` on (see the module docstring)."""
    problems = list(desk.place_notes)
    place = desk.places.get(database)
    if place is None:
        last = desk.last_view
        view = last if last and exists(last) else DEFAULT_VIEW
        return Resumed(view, notice=_notice(problems))
    view = place.view
    if not exists(view):
        problems.append(f"the view {label(view)!r} no longer exists (showing All)")
        view = DEFAULT_VIEW
    query = place.filter
    try:
        parse_query(query, me)
    except FunnelError as error:
        problems.append(f"the filter {query!r} no longer works ({error}); cleared")
        query = ""
    sort: tuple[str, bool] = (place.sort, place.descending)
    if place.sort not in SORTS:
        problems.append(f"the sort {place.sort!r} is unknown (sorted by attention)")
        sort = ("attention", False)
    return Resumed(view, query, sort, place.contact, _notice(problems))


def _notice(problems: list[str]) -> str:
    if not problems:
        return ""
    return "Where you left off could not all be restored: " + "; ".join(problems)
