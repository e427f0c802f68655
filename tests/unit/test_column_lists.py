"""Lists over columns (issue #13): filters, dates, sorts and counts answered from the
column store agree with the per-contact classifier, and the store's changes (this
session's, another process's) reach the next answer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.demo.generate import generate_contacts
from funnel.engine.errors import FunnelError
from funnel.engine.model import format_datetime
from funnel.engine.rules.classify import classify
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(tmp_path / "d.json", None, clock=lambda: NOW, user="ola") as opened:
        opened.add_many(generate_contacts(1500, 11, NOW.replace(hour=0)))
        yield opened


def reference(workspace, keep) -> list[int]:
    """Ids (ascending) whose document and per-contact classification ``keep`` accepts."""
    return [contact_id for contact_id, document in workspace.documents()
            if keep(document, classify(document, workspace.rules, NOW))]


@pytest.mark.parametrize("query, keep", [
    ("temp:hot", lambda d, c: c.temperature == "hot"),
    ("-stage:lead,prospect", lambda d, c: c.stage not in ("lead", "prospect")),
    ("score>=40 fit<30", lambda d, c: c.score >= 40 and c.fit < 30),
    ("unowned rotting", lambda d, c: not d.get("owner") and c.rotting),
    ("type:none", lambda d, c: c.lead_type is None),
    ("source:trade", lambda d, c: (d.get("source") or "").startswith("trade")),
])
def test_a_filter_over_columns_is_the_per_contact_answer(workspace, query, keep):
    assert sorted(workspace.select(query, "score")) == reference(workspace, keep)


def test_every_classification_read_back_from_columns_is_the_per_contact_one(workspace):
    everyone = workspace.classify_all()
    assert len(everyone) == len(workspace)
    for contact_id, document in workspace.documents():
        assert everyone[contact_id] == classify(document, workspace.rules, NOW, explain=False)


def test_dates_in_the_filter(workspace):
    yesterday = format_datetime(NOW - timedelta(days=1))
    old = format_datetime(NOW - timedelta(days=40))
    fresh = workspace.add({"name": "Fresh", "email": "f@example.com"})  # created NOW
    workspace._shared.store.put(fresh, dict(workspace.get(fresh), created_at=yesterday))
    workspace.refresh()
    stale = workspace.add({"name": "Stale", "email": "s@example.com"})
    workspace._shared.store.put(stale, dict(workspace.get(stale), created_at=old))
    workspace.refresh()
    workspace._cache.forget([fresh, stale])

    def created(document):
        return datetime.fromisoformat(document["created_at"].replace("Z", "+00:00"))

    assert fresh in workspace.select("created:yesterday")
    assert stale not in workspace.select("created<7d")
    assert stale in workspace.select("created>30d")
    assert sorted(workspace.select("created>=2026-11-21")) == reference(
        workspace, lambda d, c: created(d) >= datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert sorted(workspace.select("created>2026-11-21")) == reference(
        workspace, lambda d, c: created(d) >= datetime(2026, 11, 22, tzinfo=timezone.utc))
    moment = "2026-11-21T09:00:00Z"
    assert sorted(workspace.select(f"created<={moment}")) == reference(
        workspace, lambda d, c: created(d) <= datetime(2026, 11, 21, 9, tzinfo=timezone.utc))


@pytest.mark.parametrize("query, message", [
    ("score>abc", "score compares with a number"),
    ("created>soon", "created compares with a date"),
    ("created:7d", "use created<7d"),
    ("custom.age>old", "needs a number"),
    ("foo:bar", "unknown term 'foo'"),
])
def test_a_term_that_cannot_work_is_an_error_not_zero_matches(workspace, query, message):
    with pytest.raises(FunnelError, match=message):
        workspace.select(query)


def test_custom_fields_compare_as_numbers_where_they_hold_numbers(workspace):
    ids = workspace.ids()[:4]
    for contact_id, value in zip(ids, [5, "12", "twelve", 40.5]):
        workspace._shared.store.put(contact_id, dict(workspace.get(contact_id),
                                                     custom={"Age": value}))
    workspace._cache.forget(ids)
    assert sorted(workspace.select("custom.Age>10")) == sorted([ids[1], ids[3]])
    assert workspace.select("custom.Age:tw") == [ids[2]]


def test_an_edit_reaches_the_next_list_and_counts(workspace):
    before = workspace.stats()
    target = workspace.select("-temp:hot -stage:customer,ambassador,lost,disqualified")[0]
    workspace.edit(target, {"budget": "yes", "authority": "yes", "need": "yes",
                            "timing": "yes"})
    assert target in workspace.select("temp:hot")
    after = workspace.stats()
    assert after["temperatures"]["hot"] == before["temperatures"]["hot"] + 1
    assert workspace.classify_all()[target] == workspace.classification(target).__class__(
        **{**workspace.classification(target).to_dict(), "explanation": None})


def test_another_process_commit_reaches_this_session(tmp_path, workspace):
    path = workspace._shared.store.path
    target = workspace.select("temp:cold unowned")[0]
    with Workspace.open(path, None, clock=lambda: NOW, user="eve") as other:
        other.edit(target, {"owner": "eve"})
    workspace.refresh()
    assert target in workspace.select("owner:eve")
    assert target not in workspace.select("unowned")


def test_sorts_are_stable_and_descending_is_the_reverse(workspace):
    for order in ("score", "name", "company", "stage", "created", "follow_up", "attention"):
        ascending = workspace.select("", order)
        assert workspace.select("", order, descending=True) == ascending[::-1]
        assert sorted(ascending) == sorted(workspace.ids())


def test_attention_puts_closed_contacts_last_and_fresh_hot_leads_first(workspace):
    order = workspace.select("", "attention")
    closed = set(workspace.select("stage:customer,ambassador,lost,disqualified"))
    first_closed = min(order.index(contact_id) for contact_id in closed)
    assert all(order.index(contact_id) >= first_closed for contact_id in closed)
    assert not closed & set(order[:first_closed])
    hot = workspace.add({"name": "New hot", "email": "hot@example.com", "budget": "yes",
                         "authority": "yes", "need": "yes", "timing": "yes"})
    assert workspace.classification(hot).temperature == "hot"
    order = workspace.select("", "attention")
    fresh_hot = set(workspace.select("temp:hot created<2d"))
    assert hot in fresh_hot
    # Only other fresh hot leads (with a better score) may come before it.
    assert set(order[:order.index(hot)]) <= fresh_hot
    assert order.index(hot) < len(fresh_hot)


def test_edits_while_the_columns_are_built_reach_them(tmp_path, monkeypatch):
    """The first build reads the documents a chunk at a time without holding the lock
    between chunks; a contact edited meanwhile is read again, not left as it was."""
    from funnel.engine.workspace import column_build

    monkeypatch.setattr(column_build, "BUILD_CHUNK", 100)
    with Workspace.open(tmp_path / "b.json", None, clock=lambda: NOW, user="ola") as workspace:
        workspace.add_many(generate_contacts(450, 3, NOW.replace(hour=0)))
        workspace._cache._columns._table = None  # as a session that has not built yet
        target = workspace.ids()[-1]
        extend = column_build.ContactColumns.extend

        def edit_once_midway(table, pairs):
            extend(table, pairs)
            if table.rows == 100:  # after the first chunk, before the last one is read
                workspace.edit(target, {"owner": "midway"})
                workspace.add({"name": "Added meanwhile", "email": "new@example.com"})
        monkeypatch.setattr(column_build.ContactColumns, "extend", edit_once_midway)
        assert workspace.select("owner:midway") == [target]
        assert len(workspace.select("")) == 451
        assert workspace.select("meanwhile")
