"""Moments read as arrays agree with the per-contact parser on every text, valid or not."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.columns.iso_moments import stored_microseconds
from funnel.engine.columns.moments import micro_table, microseconds

two = st.integers(0, 99).map(lambda n: f"{n:02d}")
stored_like = st.builds(
    lambda year, month, day, hour, minute, second, z: (
        f"{year:04d}-{month}-{day}T{hour}:{minute}:{second}{z}"),
    st.integers(0, 9999), two, two, two, two, two, st.sampled_from(["Z", "z", "", "+01:00"]))
anything = st.one_of(stored_like, st.text(max_size=22), st.none(), st.integers(),
                     st.datetimes(timezones=st.just(timezone.utc)).map(
                         lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ")))


@settings(max_examples=300, deadline=None)
@given(st.lists(anything, max_size=30))
def test_array_reading_agrees_with_the_parser(values):
    micro, known = micro_table(values)
    for value, got, present in zip(values, micro.tolist(), known.tolist()):
        expected = microseconds(value)
        assert present == (expected is not None), value
        if present:
            assert got == expected, value


def test_the_calendar_edges():
    texts = ["1970-01-01T00:00:00Z", "2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z",
             "1900-02-29T00:00:00Z", "2000-02-29T23:59:59Z", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59Z", "2026-13-01T00:00:00Z", "2026-12-01T24:00:00Z",
             "2026-12-01T09:00:60Z", "2026-12-01T09:00:00"]
    micro, ok = stored_microseconds(texts)
    assert ok.tolist() == [True, True, False, False, True, True, True, False, False, False,
                           False]
    assert micro[1] == int(datetime(2024, 2, 29, 12, tzinfo=timezone.utc).timestamp()) * 10**6
    assert micro[5] == (datetime(1, 1, 1, tzinfo=timezone.utc)
                        - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds() * 10**6
