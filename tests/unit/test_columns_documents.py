"""Columns hold what the documents hold, and their facts are the per-contact facts.

Also the home of the hypothesis strategies the other ``test_columns_*`` files use:
documents with missing values, odd text, many tags and activities (unsorted ones,
future ones, counts), stored stages and pins, and extreme dates.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.engine.columns.fact_columns import FactColumns
from funnel.engine.columns.table import ContactColumns
from funnel.engine.demo.generate import generate_contacts
from funnel.engine.model import ACTIVITY_KINDS, FIELDS, format_datetime, new_contact
from funnel.engine.rules.facts import gather

NOW = datetime(2026, 8, 1, 12, 0, 30, 250_000, tzinfo=timezone.utc)  # microseconds on purpose
HALF_LIFE = 45.0
STAGE_IDS = ("suspect", "lead", "prospect", "opportunity", "customer", "ambassador",
             "disqualified", "lost")
SAMPLE_TEXT = ("CEO", "ceo", "Chief Executive", "Head of Sales", "VP Marketing", "Manager",
               "Team Lead", "директор", "社長", "Ünïcode ß", "5000", "none", "yes", "a b",
               "co-founder", "Software", "software", "x" * 40, "[bold]x[/]", "'quoted'")
TAGS = ("vip", "VIP", "partner", "trial", "ß", "emea", "q1", "hot-lead", "x1", "renewal",
        "b2b", "ünï", "late", "dup", "api")
PATTERNS = ("ceo|cto", "^c", r"\bvp\b", "5", "[0-9]+", ".", "ß", "head", r"^$", "soft")

_WORDS = st.text(st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Zs", "Po")),
                 max_size=12)
TEXT = st.one_of(st.sampled_from(SAMPLE_TEXT), _WORDS)
DAY = timedelta(days=1)


def moments(spread_days: int = 400) -> st.SearchStrategy[str]:
    """Moments around NOW (some in the future), now and then at the ends of time."""
    near = st.integers(-spread_days * 86_400, 20 * 86_400).map(
        lambda seconds: format_datetime(NOW - timedelta(seconds=seconds)))
    return st.one_of(near, near, near, st.sampled_from(
        ("1000-01-02T00:00:00Z", "9999-12-30T00:00:00Z", format_datetime(NOW))))


def _field_value(name: str) -> st.SearchStrategy[Any]:
    spec = FIELDS[name]
    if spec.choices:
        return st.sampled_from(spec.choices)
    if name == "company_size":
        return st.sampled_from((0, 5, 9, 10, 50, 51, 5000, 5001, 10**9))
    if name == "score_adjustment":
        return st.integers(-100, 100)
    if spec.kind == "number":
        return st.one_of(st.sampled_from((0, 999, 1000, 4999.5, 5000, 5000.0, 10**15)),
                         st.floats(0, 1e7, allow_nan=False), st.integers(0, 10**6))
    if spec.kind == "email":
        return st.sampled_from(("a@b.co", "Ann@Example.com"))
    if spec.kind == "phone":
        return st.sampled_from(("+44 20 1234 5678", "12345"))
    if spec.kind == "date":
        return st.integers(-40, 40).map(lambda days: (NOW.date() + days * DAY).isoformat())
    if spec.kind == "datetime":
        return moments()
    if spec.kind == "tags":
        return st.lists(st.sampled_from(TAGS), max_size=8)
    if spec.kind == "stage":
        return st.sampled_from(STAGE_IDS + ("gone",))
    return TEXT


@st.composite
def activity_lists(draw: st.DrawFn) -> list[dict]:
    return draw(st.lists(st.builds(
        lambda kind, at, count: {"kind": kind, "at": at, **({"count": count} if count > 1
                                                            else {})},
        st.sampled_from(ACTIVITY_KINDS[:6] + ("demo_request", "call")), moments(),
        st.sampled_from((1, 1, 1, 2, 7))), max_size=25))


# Custom fields as imports leave them: text, some of it numbers ("34", "2.5", "-1e3"),
# some of it almost numbers ("inf", "1_000"); names differing only by case.
CUSTOM_NAMES = ("City", "city", "Score", "Lead Quality", "age")
CUSTOM_TEXT = ("Mumbai", "mumbai", "Delhi", "34", "34.0", "0034", "2.5", "-1e3", "10", "9",
               "inf", "nan", "1_000", "High in Relevance", "Might be", "yes", "none", "x" * 45,
               "9" * 41)


@st.composite
def documents(draw: st.DrawFn) -> dict:
    """A stored contact document: validated like every stored one, then given the
    state the engine keeps (stage, since when, under which rules), its activities
    sometimes out of order, and sometimes custom fields."""
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), unique=True, max_size=20))
    fields = {name: draw(_field_value(name)) for name in names}
    fields["activities"] = draw(activity_lists())
    fields["custom"] = draw(st.dictionaries(st.sampled_from(CUSTOM_NAMES),
                                            st.sampled_from(CUSTOM_TEXT), max_size=4))
    document = new_contact(fields, NOW)
    if draw(st.booleans()):
        document["stage"] = draw(st.sampled_from(STAGE_IDS + ("gone",)))
        document["stage_rules"] = draw(st.sampled_from(("default", "fit-first", "other")))
        document["stage_since"] = draw(moments())
    if document.get("activities") and draw(st.booleans()):
        document["activities"] = list(reversed(document["activities"]))
    return document


def demo_documents(count: int, seed: int = 7) -> list[dict]:
    """Contacts from the demo generator, as ``funnel generate`` makes them."""
    return [new_contact(fields, NOW) for fields in generate_contacts(count, seed, NOW)]


def scalar_value(facts: dict, name: str) -> Any:
    """A named fact as ``gather`` gives it to a condition."""
    prefix, _, kind = name.partition(".")
    if prefix == "count":
        return facts["counts"].get(kind, 0)
    if prefix == "days_since":
        return facts["days_since"].get(kind)
    return facts[name]


FACT_NAMES = ("bant", "bant_known", "has_contact", "age_days", "last_activity_days",
              "days_in_stage", "overdue", "activities") + tuple(
    f"{prefix}.{kind}" for prefix in ("count", "days_since") for kind in ACTIVITY_KINDS)


def column_value(facts: FactColumns, name: str, row: int) -> Any:
    column = facts.named(name)
    assert column is not None, name
    if hasattr(column, "python"):
        return column.python(row)
    return column.values[column.codes[row]]


def assert_same_facts(table: ContactColumns, items: list[tuple[int, dict]]) -> None:
    """Every fact of every contact, from columns, equals ``gather``'s, bit for bit."""
    facts = FactColumns(table, NOW, HALF_LIFE)
    for contact_id, document in items:
        row = table.row_of[contact_id]
        expected = gather(document, NOW, HALF_LIFE)
        for name in FACT_NAMES:
            got, want = column_value(facts, name, row), scalar_value(expected, name)
            assert got == want and type(got) is type(want), (name, got, want, document)
        for kind in ACTIVITY_KINDS:
            assert facts.decayed(kind)[row] == expected["decayed"].get(kind, 0.0), kind


def test_demo_contacts_columns_hold_their_values_and_facts() -> None:
    """200 generated contacts: each row gives back the document's values, and every
    fact from the columns equals the per-contact one."""
    items = list(enumerate(demo_documents(200)))
    table = ContactColumns.build(items)
    assert len(table) == 200 and table.live().all()
    for contact_id, document in items:
        values = table.values(table.row_of[contact_id])
        assert values == {key: value for key, value in document.items() if key in values}
        assert set(values) == {key for key in document if key in table.columns}
    assert_same_facts(table, items)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=12))
def test_property_generated_documents_facts_agree_with_gather(docs: list[dict]) -> None:
    """Missing values, far-off dates, future and unsorted activities: the same facts."""
    items = list(enumerate(docs, start=100))
    assert_same_facts(ContactColumns.build(items), items)


def test_far_dates_are_exact_days() -> None:
    """A creation date a thousand years back is beyond a float's exact microseconds; its
    age in days is still exactly the per-contact figure."""
    document = new_contact({"created_at": "1000-01-02T00:00:00Z"}, NOW)
    table = ContactColumns.build([(1, document)])
    assert FactColumns(table, NOW, HALF_LIFE).age_days().python(0) == \
        gather(document, NOW, HALF_LIFE)["age_days"]
