"""Fuzzing the import readers (issue #12): whatever bytes a CSV or JSON file holds,
``plan_import`` either plans it or raises a ``FunnelError`` (one clear message) —
never another exception, never longer than 5 s for one file; and a plan it accepts
applies or is refused with a ``FunnelError`` too.

The default run tries a few dozen files of each kind; the ``stress`` variants
``fuzz_examples()`` each (``-m stress``; 10,000 with ``FUNNEL_FUZZ_EXAMPLES=10000``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stress_scale import fuzz_examples
from funnel.engine.errors import FunnelError
from funnel.engine.transfer.importer import plan_import
from funnel.engine.workspace.facade import Workspace

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
EXAMPLE_SECONDS = 5
MEMORY_MB = 500  # what one example may add to the process's memory, at its peak

FIELD_NAMES = ["email", "Email Address", "name", "First Name", "company", "title", "phone",
               "country", "Lead Source", "created_at", "tags", "notes", "budget", "stage",
               "activities", "external_id", "Total Visits", "custom.colour", "id", ""]
ODD_CELLS = ["", " ", '"', '""', 'a"b', "a,b", "a;b", "a\tb", "a|b", "x\ny", "x\r\ny", "\r",
             "\x00", "=1+1", "'=HYPERLINK(1)", "@SUM(A1)", "-", "Select", "N/A", "yes",
             "no", "2024-02-30", "2024-01-01T10:00:00Z", "31/12/2024", "a@x.pl",
             "A@X.PL", "x@", "1,250", "1e400", "-5", "nan", "inf", "[", "[{}]",
             '[{"kind": "webinar", "at": "2025-01-31T10:00:00Z"}]', "\u202eevil",
             "\x1b]52;c;AAAA\x07", "9" * 5000, "\ufeff", "Zoë €"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
             "utf-32-le", "utf-32-be", "cp1252", "latin-1"]

cells = st.one_of(st.sampled_from(ODD_CELLS), st.text(max_size=30))
# One huge cell now and then: up to past the reader's limit of a million characters.
huge_cells = st.builds(lambda char, count: char * count, st.sampled_from('x",\n\x00é'),
                       st.integers(0, 1_200_000))
headers = st.lists(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)),
                   min_size=1, max_size=12)


@st.composite
def csv_files(draw: Callable) -> bytes:
    """A CSV file as people's tools (and attackers) write them: any header, ragged rows,
    any quoting, delimiter and encoding, and now and then a few stray bytes."""
    header = draw(headers)
    rows = draw(st.lists(st.lists(cells, max_size=len(header) + 2), max_size=8))
    if rows and rows[0] and draw(st.integers(0, 3)) == 0:
        rows[0][0] = draw(huge_cells)
    delimiter = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    out = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(out, delimiter=delimiter, quoting=draw(st.sampled_from(
            [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])))
        writer.writerow(header)
        writer.writerows(rows)
    else:  # written by hand: quotes and delimiters in cells left as they are
        ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
        out.write(ending.join(delimiter.join(row) for row in [header, *rows]))
    data = out.getvalue().encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
    return data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.sampled_from(ODD_CELLS)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20)
contacts = st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES + ["fields", "custom"]),
                                     st.text(max_size=8)), json_values, max_size=8)


@st.composite
def json_files(draw: Callable) -> bytes:
    """JSON documents of any shape (mostly lists of objects), deeply nested now and then,
    with escapes JSON allows but text cannot hold, in any Unicode encoding."""
    shape = draw(st.integers(0, 5))
    if shape == 0:
        text = json.dumps(draw(json_values))
    elif shape == 1:
        depth = draw(st.integers(1, 200_000))
        text = '[{"email": "a@x.pl", "x": ' + "[" * depth + "]" * depth + "}]"
    elif shape == 2:
        text = '[{"email": "a@x.pl", "name": "' + draw(st.sampled_from(
            ["\\ud800", "\\udfff", "\\ud83d\\ude00", "\\u0000", "\\"])) + '"}]'
    elif shape == 3:
        return b"[" + draw(st.binary(max_size=200))
    else:
        text = json.dumps({"contacts": draw(st.lists(contacts, max_size=6))} if shape == 4
                          else draw(st.lists(contacts, max_size=6)))
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "utf-32"])),
                       errors="surrogatepass" if shape == 2 else "strict")


def memory_mb(key: str) -> float:
    """VmRSS (now) or VmHWM (the peak since ``start_peak``) of this process, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no {key} in /proc/self/status")


def start_peak() -> float:
    """Measure the peak memory (VmHWM) afresh from now (Linux); returns VmRSS now."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return memory_mb("VmRSS")


def try_import(workspace: Workspace, data: bytes, name: str, scratch: Path) -> None:
    """Plan against ``workspace``; a clean plan is planned again and applied in a new
    database in ``scratch`` (so the examples do not pile up contacts). FunnelError is
    the only way to fail, and no example costs more than MEMORY_MB."""
    before = start_peak()
    started = time.process_time()
    try:
        plan = plan_import(data, None, workspace, name=name)
        plan.summary()
        for problem in plan.problems:
            assert str(problem)
        if plan.ok:
            with Workspace.open(scratch / "apply.json", "default", clock=lambda: NOW,
                                user="fuzz") as fresh:
                fresh.apply_import(plan_import(data, None, fresh, name=name))
    except FunnelError as error:
        assert str(error).strip() and "\n" not in str(error).strip()
    finally:
        for path in scratch.glob("apply.json*"):
            path.unlink()
    assert memory_mb("VmHWM") - before < MEMORY_MB
    # CPU time, not the wall clock: on a shared machine other processes' turns count too.
    assert time.process_time() - started < EXAMPLE_SECONDS


def fuzz(tmp_path: Path, files: Any, name: str, examples: int | None) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with Workspace.open(tmp_path / "fuzz.json", "default", clock=lambda: NOW,
                        user="fuzz") as workspace:
        options: dict[str, Any] = {"deadline": None,  # timed in CPU seconds instead
                                   "suppress_health_check": [HealthCheck.too_slow,
                                                             HealthCheck.data_too_large]}
        if examples is not None:
            options["max_examples"] = examples

        @settings(**options)
        @given(files)
        def check(data: bytes) -> None:
            try_import(workspace, data, name, scratch)

        check()


def test_any_csv_file_is_planned_or_refused_clearly(tmp_path: Path) -> None:
    fuzz(tmp_path, csv_files(), "fuzz.csv", None)


def test_any_json_file_is_planned_or_refused_clearly(tmp_path: Path) -> None:
    fuzz(tmp_path, json_files(), "fuzz.json", None)


def test_raw_bytes_are_planned_or_refused_clearly(tmp_path: Path) -> None:
    fuzz(tmp_path, st.binary(max_size=400), "fuzz.csv", None)


@pytest.mark.stress
def test_stress_csv(tmp_path: Path) -> None:
    fuzz(tmp_path, csv_files(), "fuzz.csv", fuzz_examples())


@pytest.mark.stress
def test_stress_json(tmp_path: Path) -> None:
    fuzz(tmp_path, json_files(), "fuzz.json", fuzz_examples())


@pytest.mark.stress
def test_stress_raw_bytes(tmp_path: Path) -> None:
    fuzz(tmp_path, st.binary(max_size=4000), "fuzz.csv", fuzz_examples())

