"""Likely duplicates over the columns (``duplicate_column``): the same groups as the
per-document finder, kept until the data changes, and what the ``duplicate`` filter
and the ``duplicates`` sort make of them through ``Workspace.select`` on a real file."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from funnel.engine.columns.table import ContactColumns
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.errors import FunnelError
from funnel.engine.workspace.duplicate_column import NO_GROUP, duplicate_groups
from funnel.engine.workspace.duplicates import find_duplicates
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
PLANTED = [
    {"name": "Ana Lima", "email": "Ana@Example.com "},
    {"name": "A. Lima", "email": "ana@example.com", "phone": "+47 912 34 567"},
    {"name": "Somebody", "phone": "0047 91234567"},  # joined to the two above by phone
    {"name": "José Núñez", "company": "Acme Inc."},
    {"name": "Nunez, Jose", "company": "ACME"},
    {"name": "José Núñez", "company": "Other Ltd"},  # another company: not the same
    {"name": "José Núñez"},  # no company: never matched by name
    {"name": "Short", "phone": "12345"}, {"name": "Shorter", "phone": "012345"},
    {"name": "X", "company": "Acme"}, {"name": "X", "company": "Acme"},  # one letter: no
    {"email": ""}, {"email": ""},  # empty values never match
]


def column_groups(documents: list[tuple[int, dict]]) -> list[list[int]]:
    table = ContactColumns.build(documents)
    groups = duplicate_groups(table)
    found: dict[int, list[int]] = {}
    for row, group in enumerate(groups.tolist()):
        if group != NO_GROUP:
            found.setdefault(group, []).append(table.ids[row])
    return sorted(sorted(ids) for ids in found.values())


def test_the_columns_find_what_the_documents_do_on_planted_cases():
    documents = list(enumerate(PLANTED, 1))
    expected = [group.ids for group in find_duplicates(documents)]
    assert expected == [[1, 2, 3], [4, 5]]
    assert column_groups(documents) == expected


def test_the_columns_find_what_the_documents_do_on_generated_contacts():
    documents = list(enumerate(generate_contacts(3000, 5, NOW), 1))
    documents += [(5000 + number, fields) for number, fields in enumerate(PLANTED)]
    expected = sorted(group.ids for group in find_duplicates(documents))
    assert len(expected) > 5  # the generator's names collide at its companies
    assert column_groups(documents) == expected


def test_groups_are_kept_until_the_table_changes():
    table = ContactColumns.build(list(enumerate(PLANTED, 1)))
    first = duplicate_groups(table)
    assert duplicate_groups(table) is first  # not computed again per keystroke
    table.put(6, {"name": "Nunez Jose", "company": "Acme GmbH"})  # joins 4 and 5
    again = duplicate_groups(table)
    assert again is not first and again[table.row_of[6]] == 4
    table.remove(2)  # 1 and 3 were joined only through 2
    assert duplicate_groups(table)[table.row_of[1]] == NO_GROUP


@pytest.fixture
def workspace(tmp_path: Path):
    with Workspace.open(tmp_path / "funnel.json", None, clock=lambda: NOW,
                        user="tester") as opened:
        opened.add_many([dict(fields) for fields in PLANTED], by="setup")
        yield opened


def test_filter_and_sort_keep_each_group_together(workspace: Workspace):
    assert workspace.select("duplicate", "duplicates") == [1, 2, 3, 4, 5]
    assert workspace.select("duplicate", "duplicates", True) == [5, 4, 3, 2, 1]
    assert workspace.select("duplicate:5", "name") == [4, 5]
    assert workspace.select("duplicate:6") == [] and workspace.select("duplicate:999") == []
    assert set(workspace.select("-duplicate")) == set(range(6, len(PLANTED) + 1))
    with pytest.raises(FunnelError, match="duplicate:abc"):
        workspace.select("duplicate:abc")


def test_an_edit_is_seen_and_a_merge_leaves_the_view(workspace: Workspace):
    workspace.edit(6, {"company": "ACME Inc"})  # now José Núñez at Acme too
    assert workspace.select("duplicate", "duplicates") == [1, 2, 3, 4, 5, 6]
    group = workspace.duplicates_of(6)
    assert group is not None and group.ids == [4, 5, 6]
    assert group.reasons == ["name at company: jose nunez @ acme"]
    workspace.merge(4, 5)
    workspace.merge(4, 6)
    assert workspace.select("duplicate", "duplicates") == [1, 2, 3]
    assert workspace.duplicates_of(4) is None
