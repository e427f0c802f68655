"""Where a person left off, per database, in their desk file (``user_config.Desk``):
two sessions on two databases at once both keep theirs; old places are forgotten
beyond ``MAX_PLACES``; a damaged entry is reported and forgotten, the views kept."""

from __future__ import annotations

from pathlib import Path

import yaml

from funnel.tui.app.user_config import MAX_PLACES, Desk, Place


def test_two_sessions_on_two_databases_do_not_overwrite_each_other(tmp_path: Path):
    first, second = Desk.load(tmp_path), Desk.load(tmp_path)  # both open at once
    first.keep_place("/data/a.json", Place("hot", "source:trade_show", "score", True, 12))
    second.keep_place("/data/b.json", Place("rotting"))
    again = Desk.load(tmp_path)
    assert again.places == {"/data/a.json": Place("hot", "source:trade_show", "score", True, 12),
                            "/data/b.json": Place("rotting")}
    assert again.last_view == "rotting"  # the latest, for a database seen for the first time
    first.keep_place("/data/a.json", Place("mine"))  # its own place: this session's wins
    assert Desk.load(tmp_path).places["/data/a.json"] == Place("mine")
    assert Desk.load(tmp_path).places["/data/b.json"] == Place("rotting")


def test_only_the_latest_places_are_kept(tmp_path: Path):
    desk = Desk.load(tmp_path)
    for number in range(MAX_PLACES + 5):
        desk.keep_place(f"/data/{number}.json", Place("all"))
    kept = list(Desk.load(tmp_path).places)
    assert len(kept) == MAX_PLACES
    assert kept[0] == "/data/5.json" and kept[-1] == f"/data/{MAX_PLACES + 4}.json"


def test_a_damaged_place_is_reported_and_the_rest_of_the_desk_loads(tmp_path: Path):
    (tmp_path / "desk.yaml").write_text(yaml.safe_dump({
        "views": {"Warm": {"filter": "temp:warm", "sort": "score", "descending": False}},
        "places": {"/data/a.json": {"view": "hot", "descending": "yes", "contact": True},
                   "/data/b.json": ["not", "a", "place"]}}), encoding="utf-8")
    desk = Desk.load(tmp_path)
    assert not desk.problem and list(desk.views) == ["Warm"]
    assert desk.places == {"/data/a.json": Place("hot")}
    assert len(desk.place_notes) == 2
    assert "descending, contact" in desk.place_notes[0]
    assert "'/data/b.json'" in desk.place_notes[1] and "forgotten" in desk.place_notes[1]
