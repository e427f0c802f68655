"""The desk of one person: saved views, chosen columns, the last view, when they last
looked, and where they left off in each database (view, filter, sort, the contact).

Kept in ``desk.yaml`` in the user's config directory (the one ``rules.yaml`` and
``keys.yaml`` come from; a demo session has a temporary one), so the app reopens the
way it was left; a served app's people share the server's directory, so each has
``desks/USER.yaml`` there. Without a directory (tests, ``Settings.config_dir`` None) the desk
lives in memory only. A file that cannot be read is reported once and never
overwritten: the person may have been editing it by hand.

    views:                 # name -> filter and sort
      Hot trade shows: {filter: "temp:hot source:trade_show", sort: score, descending: true}
    columns: [flags, name, stage, score, custom.City]
    last_view: saved:Hot trade shows
    last_looked: "2026-12-03T08:00:00+00:00"
    places:                # per database (its resolved path), the latest last
      /home/ola/leads.json: {view: hot, filter: "source:trade_show", sort: score,
                             descending: true, contact: 1234}

``places`` is state the app keeps, not settings: an entry that cannot be read is
reported and forgotten (the rest of the desk still loads), and a save takes in what
another session wrote for other databases meanwhile, so two databases never fight.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from funnel.engine.errors import FunnelError
from funnel.engine.inputs import RULES_LIMIT, read_input
from funnel.engine.yaml_lines import load_yaml

FILE_NAME = "desk.yaml"
FIRST_LOOK = timedelta(hours=24)  # on a first run "new" means the last day
MAX_VIEWS = 100
MAX_NAME = 40
MAX_PLACES = 50  # databases remembered; the one left longest ago is forgotten first
HEADER = "# Funnel keeps your saved views, columns and last view here (funnel edits it).\n"


@dataclass(frozen=True)
class SavedView:
    name: str
    filter: str
    sort: str = "attention"
    descending: bool = False


@dataclass(frozen=True)
class Place:
    """Where the person left off in one database."""

    view: str
    filter: str = ""
    sort: str = "attention"
    descending: bool = False
    contact: int | None = None  # the contact under the cursor

    def to_dict(self) -> dict[str, Any]:
        found = {"view": self.view, "filter": self.filter, "sort": self.sort,
                 "descending": self.descending, "contact": self.contact}
        return {key: value for key, value in found.items() if value is not None}


@dataclass
class Desk:
    views: dict[str, SavedView] = field(default_factory=dict)
    columns: list[str] | None = None  # None: the table's default columns
    last_view: str | None = None
    last_looked: datetime | None = None
    path: Path | None = None  # None: kept in memory only
    problem: str = ""  # why the file could not be read (it is then left alone)
    places: dict[str, Place] = field(default_factory=dict)  # database path -> place
    place_notes: list[str] = field(default_factory=list)  # places that could not be read
    _kept_here: set[str] = field(default_factory=set, init=False, repr=False)  # written here

    @classmethod
    def load(cls, folder: str | os.PathLike | None, person: str | None = None) -> "Desk":
        """The desk saved in ``folder`` (empty if there is none, or none yet).
        ``person``: one desk per person in a folder several people share (the
        served app's), ``desks/PERSON.yaml``."""
        if folder is None:
            return cls()
        path = Path(folder) / FILE_NAME
        if person is not None:
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", person).lstrip(".") or "_"
            path = Path(folder) / "desks" / f"{safe[:64]}.yaml"
        if not path.is_file():
            return cls(path=path)
        try:
            return _parse(path)
        except FunnelError as error:
            return cls(problem=f"{error} (your views and columns are not saved until it "
                               "is fixed or removed)")

    def look(self, now: datetime) -> datetime:
        """Remember ``now`` as the last look; answer the one before it (a first run:
        a day ago). What arrived since is the New view."""
        before = self.last_looked or now - FIRST_LOOK
        self.last_looked = now
        self.save()
        return before

    def save_view(self, view: SavedView) -> None:
        name = " ".join(view.name.split())
        if not name or len(name) > MAX_NAME:
            raise FunnelError(f"a view's name is 1 to {MAX_NAME} characters")
        if name not in self.views and len(self.views) >= MAX_VIEWS:
            raise FunnelError(f"at most {MAX_VIEWS} saved views: delete one first")
        self.views[name] = SavedView(name, view.filter, view.sort, view.descending)
        self.save()

    def delete_view(self, name: str) -> None:
        self.views.pop(name, None)
        self.save()

    def remember(self, *, last_view: str | None = None,
                 columns: list[str] | None = None) -> None:
        if last_view is not None:
            self.last_view = last_view
        if columns is not None:
            self.columns = list(columns)
        self.save()

    def keep_place(self, database: str, place: Place) -> None:
        """Remember where the person is in ``database`` (also the last view) and save."""
        self.places.pop(database, None)
        self.places[database] = place  # the latest last
        self._kept_here.add(database)
        self.last_view = place.view
        self.save()

    def save(self) -> None:
        """Write the desk (atomically: a temporary file replaces the old one)."""
        if self.path is None:
            return
        self._take_in_other_places()
        data: dict[str, Any] = {
            "views": {name: {"filter": view.filter, "sort": view.sort,
                             "descending": view.descending}
                      for name, view in self.views.items()},
            "columns": self.columns,
            "last_view": self.last_view,
            "last_looked": self.last_looked.isoformat() if self.last_looked else None,
            "places": {key: place.to_dict() for key, place in self.places.items()} or None,
        }
        text = HEADER + yaml.safe_dump({key: value for key, value in data.items()
                                        if value is not None}, sort_keys=False,
                                       allow_unicode=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".desk-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, self.path)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            self.problem = f"{self.path}: not saved ({error.strerror or error})"

    def _take_in_other_places(self) -> None:
        """Places other sessions saved since this desk was read (for other databases)
        are kept; this session's own win. At most ``MAX_PLACES``, the oldest dropped."""
        assert self.path is not None
        try:
            on_disk = _parse(self.path).places if self.path.is_file() else {}
        except FunnelError:
            on_disk = {}  # unreadable now: what this session knows is written
        merged = {key: place for key, place in on_disk.items() if key not in self._kept_here}
        merged.update((key, place) for key, place in self.places.items()
                      if key in self._kept_here or key not in on_disk)
        self.places = dict(list(merged.items())[-MAX_PLACES:])


def _parse(path: Path) -> Desk:
    source = str(path)
    data = load_yaml(read_input(path, RULES_LIMIT, "desk"), source, text_keys=True) or {}
    if not isinstance(data, dict):
        raise FunnelError(f"{source}: expected views, columns, last_view and last_looked")
    lines = getattr(data, "lines", {})

    def problem(key: str, what: str) -> FunnelError:
        line = lines.get(key)
        return FunnelError(f"{source}{f':{line}' if line else ''}: {key}: {what}")

    desk = Desk(path=path)
    views = data.get("views") or {}
    if not isinstance(views, dict):
        raise problem("views", "expected names, each with a filter and a sort")
    for name, spec in views.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("filter", ""), str) \
                or not isinstance(spec.get("sort", "attention"), str) \
                or not isinstance(spec.get("descending", False), bool):
            raise problem("views", f"{name!r}: write {{filter: TEXT, sort: NAME, "
                          "descending: true|false}")
        desk.views[str(name)] = SavedView(str(name), spec.get("filter", ""),
                                          spec.get("sort", "attention"),
                                          spec.get("descending", False))
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise problem("columns", "expected a list of column names")
        desk.columns = columns
    last_view = data.get("last_view")
    desk.last_view = last_view if isinstance(last_view, str) else None
    last_looked = data.get("last_looked")
    if last_looked is not None:
        try:
            desk.last_looked = datetime.fromisoformat(str(last_looked))
        except ValueError:
            raise problem("last_looked", "expected a date and time like "
                          "2026-12-03T08:00:00+00:00") from None
        if desk.last_looked.tzinfo is None:
            raise problem("last_looked", "give the time zone, e.g. +00:00")
    places = data.get("places") or {}
    if isinstance(places, dict):
        for key, spec in places.items():
            place, wrong = _place(spec)
            if place is None:
                desk.place_notes.append(f"{source}: places: {key!r}: not readable, forgotten")
                continue
            desk.places[str(key)] = place
            if wrong:
                desk.place_notes.append(f"{source}: places: {key!r}: {', '.join(wrong)} "
                                        "not readable, left at the default")
    else:
        line = lines.get("places")
        desk.place_notes.append(f"{source}{f':{line}' if line else ''}: places: expected "
                                "database paths, each with a view, filter and sort; forgotten")
    return desk


_PLACE_DEFAULTS = {"filter": (str, ""), "sort": (str, "attention"),
                   "descending": (bool, False), "contact": (int, None)}


def _place(spec: Any) -> tuple[Place | None, list[str]]:
    """A place as written, each value of the wrong type left at its default, and the
    names of those; None when there is not even a view."""
    if not isinstance(spec, dict) or not isinstance(spec.get("view"), str):
        return None, []
    values: dict[str, Any] = {}
    wrong = []
    for key, (kind, default) in _PLACE_DEFAULTS.items():
        value = spec.get(key, default)
        fits = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not fits and not (value is None and default is None):
            wrong.append(key)
            value = default
        values[key] = value
    return Place(spec["view"], **values), wrong
