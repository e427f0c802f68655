"""The Funnel tab's figures counted over the columns' stage log equal the figures of a
pass over every document: generated contacts under both presets, after moves, exits,
merges, hand-made histories (unreadable moments, unknown stages) and edits."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.reports import lifecycle, lifecycle_columns
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def both(workspace):
    return lifecycle.compute(workspace, top_reasons=8), \
        lifecycle_columns.compute(workspace, top_reasons=8)


@pytest.mark.parametrize("preset", ["default", "fit-first"])
def test_generated_contacts_give_the_same_figures_both_ways(tmp_path, preset):
    path = tmp_path / "d.json"
    with Workspace.open(path, preset, clock=lambda: NOW, user="ola") as workspace:
        workspace.add_many(generate_contacts(1200, 7, NOW.replace(hour=0)))
        ids = workspace.ids()
        workspace.move(ids[0], "opportunity", "demo booked")
        workspace.disqualify(ids[1], "spam")
        workspace.move(ids[2], "lost", "went with a rival")
        by_documents, by_columns = both(workspace)
        assert by_columns == by_documents
        assert by_columns.total == len(workspace) and sum(s.stays for s in by_columns.stages)
    with Workspace.open(path, preset, clock=lambda: NOW, user="ola") as again:
        assert again._cache._columns._load() is not None  # the stage log from the cache
        by_documents, by_columns = both(again)
        assert by_columns == by_documents


def test_odd_histories_merges_and_edits_give_the_same_figures(tmp_path):
    path = tmp_path / "d.json"
    with Workspace.open(path, "default", clock=lambda: NOW, user="ola") as workspace:
        workspace.add_many(generate_contacts(300, 3, NOW.replace(hour=0)))
        ids = workspace.ids()
        workspace._shared.store.compact()  # everything into the snapshot, to edit it
    # A hand-edited snapshot: moments that do not read, a stage no rules know,
    # a move to nowhere, a non-text stage; opened again (read the general way).
    data = json.loads(path.read_text())
    contacts = data["tables"]["contacts"]
    odd = [{"at": "someday", "by": "x", "kind": "stage", "from": None, "to": "lead"},
           {"at": "2026-11-01T09:00:00Z", "by": "x", "kind": "stage", "from": "lead",
            "to": "limbo"},
           {"at": "2026-11-02T09:00:00Z", "by": "x", "kind": "stage", "from": "limbo",
            "to": 7},
           {"at": "2026-11-03T09:00:00Z", "by": "x", "kind": "stage", "from": 7,
            "to": "prospect"},
           {"at": "2026-11-04T09:00:00Z", "by": "x", "kind": "stage", "from": "prospect",
            "to": "prospect"},
           {"at": "2026-12-30T09:00:00Z", "by": "x", "kind": "stage", "from": "prospect",
            "to": "opportunity"}]  # in the future: not movement yet
    contacts[str(ids[5])]["history"] += odd
    contacts[str(ids[6])]["history"] += odd[3:]
    path.write_text(json.dumps(data))
    later = NOW + timedelta(days=3)
    with Workspace.open(path, "default", clock=lambda: later, user="ola") as workspace:
        workspace.merge(ids[10], ids[11])
        workspace.edit(ids[12], {"notes": "called"})
        workspace.move(ids[13], "customer", "signed")
        by_documents, by_columns = both(workspace)
        assert by_columns == by_documents
        assert by_columns.unrecorded == by_documents.unrecorded
