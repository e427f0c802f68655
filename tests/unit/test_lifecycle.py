"""The lifecycle figures (engine.lifecycle) on hand-built histories, checked to the number."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from funnel.engine.reports import lifecycle
from funnel.engine.rules.classify import Classification
from funnel.engine.rules.loading import load_rules
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import format_datetime
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
RULES = load_rules(None)  # the default preset: suspect lead prospect opportunity customer
#                           ambassador; exits disqualified and lost


def ago(days: float) -> str:
    return format_datetime(NOW - timedelta(days=days))


def move(days_ago: float, before: str | None, after: str | None, by: str = "rule:x",
         why: str = "") -> dict:
    entry = {"at": ago(days_ago), "by": by, "kind": "stage", "field": "stage",
             "from": before, "to": after}
    if why:
        entry["why"] = why
    return entry


def contact(*moves: dict, **fields) -> dict:
    history = [{"at": ago(400), "by": "tester", "kind": "created", "why": "added"},
               {"at": ago(1), "by": "tester", "kind": "field", "field": "notes",
                "from": None, "to": "x"}]
    history[1:1] = moves  # other kinds of entries around the stage entries are skipped
    return {"created_at": ago(400), "history": history, **fields}


def result(stage: str, rotting: bool = False) -> Classification:
    return Classification(stage=stage, rules_stage=stage, stage_reason="", manual=False,
                          score=0, raw_score=0, fit=0, engagement=0, grade=1,
                          temperature="cold", lead_type=None, next_action="", rotting=rotting,
                          overdue=False, explanation=())


def people() -> list[tuple[dict, Classification]]:
    return [
        # A: lead 40 days ago, prospect 20 days ago, opportunity 5 days ago.
        (contact(move(40, None, "lead"), move(20, "lead", "prospect"),
                 move(5, "prospect", "opportunity")), result("opportunity")),
        # B: a lead for 10 days, rotting.
        (contact(move(10, None, "lead")), result("lead", rotting=True)),
        # C: got to prospect, moved back to lead by a person 3 days ago.
        (contact(move(100, None, "lead"), move(60, "lead", "prospect"),
                 move(3, "prospect", "lead", by="anna", why="no budget after all")),
         result("lead")),
        # D: suspect, lead, then disqualified 2 days ago (no contact details: the
        # rules alone would only make it a suspect, its history says lead).
        (contact(move(50, None, "suspect"), move(25, "suspect", "lead"),
                 move(2, "lead", "disqualified"), stage_pin="disqualified",
                 pin_reason="Not a fit", disqualify_reason="Not a fit"),
         result("disqualified")),
        # E: recorded only as lost, 8 days ago; its data (email, a demo request) makes
        # it an opportunity under the rules, so it counts as having reached one.
        (contact(move(8, None, "lost"), email="e@example.com", outcome="lost",
                 outcome_reason="Price too high",
                 activities=[{"kind": "demo_request", "at": ago(30), "count": 1}]),
         result("lost")),
        # F: a customer for 31 days (just outside the 30-day window), rotting.
        (contact(move(31, None, "customer")), result("customer", rotting=True)),
        # G: a lead since exactly 7 days ago (outside the 7-day window, inside 30).
        (contact(move(7, None, "lead")), result("lead")),
    ]


@pytest.fixture
def figures() -> lifecycle.Lifecycle:
    return lifecycle.lifecycle_of(people(), RULES, NOW)


def test_counts_are_the_stages_now(figures):
    assert [(s.id, s.count) for s in figures.stages] == [
        ("suspect", 0), ("lead", 3), ("prospect", 0), ("opportunity", 1), ("customer", 1),
        ("ambassador", 0)]
    assert [(s.id, s.count) for s in figures.exits] == [("disqualified", 1), ("lost", 1)]
    assert figures.total == 7 and figures.in_funnel == 5 and figures.out == 2
    assert figures.unrecorded == 0


def test_reached_and_conversion(figures):
    # Furthest stage: A opportunity, B lead, C prospect (history), D lead (history),
    # E opportunity (its data), F customer, G lead.
    reached = {s.id: s.reached for s in figures.stages}
    assert reached == {"suspect": 7, "lead": 7, "prospect": 4, "opportunity": 3,
                       "customer": 1, "ambassador": 0}
    conversion = {s.id: s.conversion for s in figures.stages}
    assert conversion["suspect"] == 1.0
    assert conversion["lead"] == pytest.approx(4 / 7)
    assert conversion["prospect"] == pytest.approx(3 / 4)
    assert conversion["opportunity"] == pytest.approx(1 / 3)
    assert conversion["customer"] == 0.0
    assert conversion["ambassador"] is None  # the last stage converts to nothing
    assert all(s.conversion is None for s in figures.exits)


def test_median_days_in_stage(figures):
    medians = {s.id: (s.median_days, s.stays) for s in figures.stages + figures.exits}
    # lead stays: A 20 (done), B 10 (now), C 40 (done) and 3 (now, after moving back),
    # D 23 (done), G 7 (now): 3 7 10 20 23 40 -> (10 + 20) / 2
    assert medians["lead"] == (pytest.approx(15.0), 6)
    assert medians["suspect"] == (pytest.approx(25.0), 1)  # D
    assert medians["prospect"] == (pytest.approx(36.0), 2)  # A 15, C 57
    assert medians["opportunity"] == (pytest.approx(5.0), 1)  # A, still there
    assert medians["customer"] == (pytest.approx(31.0), 1)
    assert medians["ambassador"] == (None, 0)
    assert medians["disqualified"] == (pytest.approx(2.0), 1)
    assert medians["lost"] == (pytest.approx(8.0), 1)


def test_rotting(figures):
    assert {s.id: s.rotting for s in figures.stages if s.rotting} == {"lead": 1, "customer": 1}
    assert figures.rotting == 2


def test_movement_in_the_last_7_and_30_days(figures):
    moved = {s.id: (s.entered[7], s.left[7], s.entered[30], s.left[30])
             for s in figures.stages + figures.exits}
    assert moved == {
        # in 7: C back (3 days); G entered exactly 7 days ago: not in (now-7d, now].
        # in 30: B, C, D, G; out 7: D; out 30: A, D.
        "lead": (1, 1, 4, 2),
        "suspect": (0, 0, 0, 1),  # D left 25 days ago
        "prospect": (0, 2, 1, 2),  # A in 20 days ago; A and C out within the week
        "opportunity": (1, 0, 1, 0),
        "customer": (0, 0, 0, 0),  # F entered 31 days ago
        "ambassador": (0, 0, 0, 0),
        "disqualified": (1, 0, 1, 0),
        "lost": (0, 0, 1, 0),
    }


def test_a_move_at_this_very_moment_counts_and_one_in_the_future_does_not():
    rows = [(contact(move(10, None, "lead"), move(0, "lead", "prospect")), result("prospect")),
            (contact(move(10, None, "lead"), move(-1, "lead", "prospect")), result("prospect"))]
    figures = lifecycle.lifecycle_of(rows, RULES, NOW)
    assert figures.stage("prospect").entered == {7: 1, 30: 1}
    assert figures.stage("lead").left == {7: 1, 30: 1}
    assert figures.stage("lead").entered == {7: 0, 30: 2}


def test_exit_reasons_top_and_other():
    def out(exit: str, **fields) -> tuple[dict, Classification]:
        return contact(move(5, "lead", exit), **fields), result(exit)

    rows = [out("disqualified", disqualify_reason="Not a fit") for _ in range(3)]
    rows += [out("disqualified", disqualify_reason="not  a FIT ")]  # the same reason
    rows += [out("disqualified", disqualify_reason="Student") for _ in range(2)]
    rows += [out("disqualified", disqualify_reason="Competitor") for _ in range(2)]
    rows += [out("disqualified", disqualify_reason="Only curious")]
    rows += [out("disqualified", disqualify_reason="Spam")]
    rows += [out("disqualified", stage_pin="disqualified", pin_reason="Duplicate")]
    rows += [out("disqualified")]
    rows += [out("lost", outcome="lost", outcome_reason="Price") for _ in range(2)]
    rows += [out("lost", stage_pin="lost", pin_reason="Went silent")]
    rows += [out("lost", outcome="lost", pin_reason="pinned elsewhere, not a reason here")]
    figures = lifecycle.lifecycle_of(rows, RULES, NOW, top_reasons=3)
    disqualified = figures.stage("disqualified")
    assert disqualified.count == 12
    assert [(r.reason, r.count) for r in disqualified.reasons] == [
        ("Not a fit", 4), ("Competitor", 2), ("Student", 2)]  # ties by name
    assert disqualified.other == 4  # Only curious, Spam, Duplicate, no reason given
    lost = figures.stage("lost")
    assert [(r.reason, r.count) for r in lost.reasons] == [
        ("Price", 2), (lifecycle.NO_REASON, 1), ("Went silent", 1)]
    assert lost.other == 0
    everything = lifecycle.lifecycle_of(rows, RULES, NOW, top_reasons=10).stage("disqualified")
    assert sum(r.count for r in everything.reasons) == 12 and everything.other == 0
    assert (lifecycle.NO_REASON, 1) in [(r.reason, r.count) for r in everything.reasons]
    assert ("Duplicate", 1) in [(r.reason, r.count) for r in everything.reasons]


def test_stage_not_recorded_in_history():
    rows = [
        (contact(), result("lead")),  # no stage entry at all
        (contact(move(9, None, "lead")), result("prospect")),  # the rules moved it since
        (contact(move(9, None, "not-a-stage-here")), result("lead")),  # other rules' id
    ]
    figures = lifecycle.lifecycle_of(rows, RULES, NOW)
    assert figures.unrecorded == 3
    assert figures.stage("lead").count == 2 and figures.stage("prospect").count == 1
    # The recorded lead stay of the second contact ended at an unknown time: no stay.
    assert figures.stage("lead").stays == 0 and figures.stage("prospect").stays == 0
    assert figures.stage("prospect").reached == 1 and figures.stage("lead").reached == 3
    assert figures.stage("lead").entered[30] == 1  # the unknown id is not counted


def test_bad_or_missing_times_are_left_out_of_durations():
    broken = contact(move(20, None, "lead"), move(10, "lead", "prospect"))
    broken["history"][1]["at"] = "garbage"
    backwards = contact(move(5, None, "lead"), move(9, "lead", "prospect"))
    figures = lifecycle.lifecycle_of([(broken, result("prospect")),
                                      (backwards, result("prospect"))], RULES, NOW)
    lead = figures.stage("lead")
    assert (lead.stays, lead.median_days) == (1, 0.0)  # only the backwards one, as 0 days
    prospect = figures.stage("prospect")
    assert prospect.stays == 2 and prospect.median_days == pytest.approx((10 + 9) / 2)


def test_timeline_of_one_contact():
    document = people()[0][0]
    stays = lifecycle.stage_timeline(document, NOW, "opportunity")
    assert [(s.stage, s.days, s.current) for s in stays] == [
        ("lead", pytest.approx(20.0), False), ("prospect", pytest.approx(15.0), False),
        ("opportunity", pytest.approx(5.0), True)]
    assert stays[0].entered == NOW - timedelta(days=40)
    assert stays[0].left == NOW - timedelta(days=20)
    assert stays[-1].left is None and stays[-1].by == "rule:x"
    moved_back = lifecycle.stage_timeline(people()[2][0], NOW, "lead")
    assert [(s.stage, s.by, s.why) for s in moved_back][-1] == ("lead", "anna",
                                                                "no budget after all")


def test_timeline_when_the_rules_moved_the_contact_unrecorded():
    document = people()[0][0]
    stays = lifecycle.stage_timeline(document, NOW, "customer")
    assert [(s.stage, s.days, s.current, s.recorded) for s in stays[-2:]] == [
        ("opportunity", None, False, True), ("customer", None, True, False)]
    assert lifecycle.stage_timeline({"history": []}, NOW) == []
    assert [s.stage for s in lifecycle.stage_timeline({}, NOW, "lead")] == ["lead"]


# -- through a real workspace ---------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def test_compute_over_a_workspace_matches_its_stats(tmp_path):
    clock = Clock()
    with Workspace.open(tmp_path / "f.json", None, clock=clock, user="tester") as workspace:
        workspace.add_many(generate_contacts(400, 3, NOW.replace(hour=0)), by="generator")
        calls: list[tuple[int, int]] = []
        figures = lifecycle.compute(workspace, progress=lambda done, total: calls.append(
            (done, total)))
        stats = workspace.stats()
        assert {s.id: s.count for s in figures.stages + figures.exits} == stats["stages"]
        assert figures.rotting == stats["rotting"] and figures.total == 400
        assert calls and calls[-1] == (800, 800)
        reached = [s.reached for s in figures.stages]
        assert reached == sorted(reached, reverse=True) and reached[0] == 400
        for stage in figures.stages[:-1]:
            assert 0.0 <= stage.conversion <= 1.0

        # A person moves a lead to prospect now, then back: the movement shows at once.
        lead = next(i for i in workspace.ids() if workspace.classification(i).stage == "lead")
        clock.now = NOW + timedelta(hours=1)
        workspace.move(lead, "prospect", "qualified on a call")
        after = lifecycle.compute(workspace)
        assert after.stage("prospect").count == figures.stage("prospect").count + 1
        assert after.stage("lead").count == figures.stage("lead").count - 1
        assert after.stage("prospect").entered[7] == figures.stage("prospect").entered[7] + 1
        assert after.stage("lead").left[7] == figures.stage("lead").left[7] + 1
        stays = lifecycle.stage_timeline(workspace.get(lead), clock.now, "prospect")
        assert stays[-1].stage == "prospect" and stays[-1].current
        assert stays[-1].by == "tester" and stays[-1].why == "qualified on a call"
        assert stays[-1].days == pytest.approx(0.0)


def test_progress_may_stop_the_computation(tmp_path):
    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done > total // 2:
            raise Stop

    with Workspace.open(tmp_path / "f.json", None, clock=Clock(), user="tester") as workspace:
        workspace.add_many(generate_contacts(4500, 5, NOW.replace(hour=0)), by="generator")
        workspace.classify_all()
        with pytest.raises(Stop):
            lifecycle.compute(workspace, progress=stop)
