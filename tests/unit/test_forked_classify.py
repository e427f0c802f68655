"""A full classification shared with a forked child gives the same answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from funnel.engine.workspace import forked
from funnel.engine.rules.loading import load_rules, parse_rules
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.workspace.cache import ClassificationCache
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
FIELDS = ("stage", "rules_stage", "stage_reason", "manual", "score", "raw_score", "fit",
          "engagement", "grade", "temperature", "lead_type", "next_action", "rotting",
          "overdue")

pytestmark = pytest.mark.skipif(not forked.can_fork(), reason="needs fork and two cores")


@pytest.fixture
def workspace(tmp_path):
    with Workspace.open(tmp_path / "f.json", None, clock=lambda: NOW) as opened:
        opened.add_many(generate_contacts(400, 11, NOW), by="test")
        yield opened


def _plain(classes):
    return {cid: tuple(getattr(c, name) for name in FIELDS) for cid, c in classes.items()}


def test_forked_pass_matches_a_single_process_pass(workspace, monkeypatch):
    expected = _plain(workspace.classify_all())
    explanations = {cid: workspace.classification(cid).explanation for cid in workspace.ids()}
    for rules in (load_rules("fit-first"), load_rules("default")):
        workspace.set_rules(rules)
        monkeypatch.setattr(forked, "MIN_ITEMS", 1_000_000)
        sequential = _plain(workspace.classify_all())
        workspace.set_rules(rules)
        monkeypatch.setattr(forked, "MIN_ITEMS", 10)
        seen = []
        split = _plain(workspace.classify_all(lambda done, total: seen.append((done, total))))
        assert split == sequential
        assert seen[-1] == (400, 400)
    assert split == expected
    # Half came back without explanations; asking for one derives it, the same as before.
    for contact_id in workspace.ids():
        assert workspace.classification(contact_id).explanation == explanations[contact_id]


def test_a_failed_child_falls_back_to_doing_it_here(workspace, monkeypatch):
    expected = _plain(workspace.classify_all())
    monkeypatch.setattr(forked, "MIN_ITEMS", 10)
    monkeypatch.setattr(forked.marshal, "dumps", lambda value: b"not marshal")
    workspace.set_rules(load_rules("default"))
    assert _plain(workspace.classify_all()) == expected


def test_stats_and_select_agree_after_a_forked_pass(workspace, monkeypatch):
    before = workspace.stats(), workspace.select("temp:hot", "score")
    workspace.set_rules(load_rules("default"))
    monkeypatch.setattr(forked, "MIN_ITEMS", 10)
    assert (workspace.stats(), workspace.select("temp:hot", "score")) == before


def _fresh(workspace, rules):
    """Every contact classified from its full document, as the card would."""
    return {cid: tuple(getattr(workspace.explained(cid), name) for name in FIELDS)
            for cid in workspace.ids()} if workspace.rules is rules else None


def test_kept_slim_copies_follow_rules_that_read_other_fields(workspace, monkeypatch):
    default = load_rules("default")
    workspace.classify_all()  # slim copies kept for what the default rules read
    assert "country" not in default.contact_keys
    text = open(default.source, encoding="utf-8").read().replace(
        "industry in [software, manufacturing, finance, logistics]",
        "industry in [software, manufacturing, finance, logistics] or country == Poland")
    by_country = parse_rules(text, "country.yaml")
    assert "country" in by_country.contact_keys
    for minimum in (1_000_000, 10):
        monkeypatch.setattr(forked, "MIN_ITEMS", minimum)
        preview = workspace.preview_rules(by_country)
        workspace.set_rules(by_country)
        bulk = _plain(workspace.classify_all())
        assert bulk == _fresh(workspace, by_country)
        assert preview == workspace.stats()
        workspace.set_rules(default)
        workspace.classify_all()


def test_an_edit_is_seen_by_the_next_bulk_pass(workspace):
    workspace.classify_all()
    target = workspace.ids()[7]
    workspace.edit(target, {"budget": "yes", "authority": "yes", "need": "yes",
                            "timing": "yes", "email": "x@y.co"}, by="test")
    workspace.set_rules(load_rules("default"))  # a rules change: bulk pass from caches
    bulk = workspace.classify_all()[target]
    assert bulk.temperature == "hot"
    assert tuple(getattr(bulk, name) for name in FIELDS) == tuple(
        getattr(workspace.explained(target), name) for name in FIELDS)


@pytest.mark.parametrize("query", ["", "temp:hot", "stage:lead owner:me", "ana", "-tag:vip",
                                   "score>30 country:pol", "unowned size>=50",
                                   "custom.city:x", "rotting"])
@pytest.mark.parametrize("sort", ["attention", "name", "company", "follow_up", "updated",
                                  "owner"])
def test_select_over_slim_copies_matches_the_full_documents(workspace, query, sort):
    from funnel.engine.workspace.query import parse_query, sort_key
    workspace.classify_all()
    workspace.edit(workspace.ids()[3], {"name": "Ana Changed"}, by="test")  # no slim copy
    test = parse_query(query, workspace.user)
    rules = workspace.rules
    order = {stage.id: stage.order for stage in rules.stages + rules.exits}
    key = sort_key(sort, order)
    rows = [(cid, workspace.get(cid), workspace.explained(cid)) for cid in workspace.ids()]
    expected = [row[0] for row in sorted((row for row in rows if test(row[1], row[2])),
                                         key=key)]
    assert workspace.select(query, sort) == expected


@pytest.mark.parametrize("minimum", [1_000_000, 10])
def test_a_preview_under_another_half_life_leaves_the_caches_right(workspace, monkeypatch,
                                                                    minimum):
    monkeypatch.setattr(forked, "MIN_ITEMS", minimum)
    default = load_rules("default")
    workspace.classify_all()
    text = open(default.source, encoding="utf-8").read()
    assert "half_life_days: 45" in text
    faster = parse_rules(text.replace("half_life_days: 45", "half_life_days: 5"), "hl.yaml")
    preview = workspace.preview_rules(faster)
    workspace.set_rules(default)  # reclassified from the caches the preview walked past
    assert _plain(workspace.classify_all()) == _fresh(workspace, default)
    workspace.set_rules(faster)
    assert workspace.stats() == preview
    assert _plain(workspace.classify_all()) == _fresh(workspace, faster)


def test_two_threads_classifying_at_once_share_one_pass(workspace, monkeypatch):
    import threading
    calls = []
    original = ClassificationCache._classify_pending

    def counted(self, progress):
        calls.append(len(self._classes))
        return original(self, progress)
    monkeypatch.setattr(ClassificationCache, "_classify_pending", counted)
    workspace.set_rules(load_rules("default"))
    results = []
    threads = [threading.Thread(target=lambda: results.append(_plain(workspace.classify_all())))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0] == results[1] and len(results[0]) == 400
    assert calls[0] == 0 and all(done == 400 for done in calls[1:])  # the second found it done
