"""Fuzz: any text as ``--by`` and ``--why`` through ``funnel set``: exit 0 (stored) or
2 (refused, one line), never a traceback, and nothing printed holds a raw control or
bidi character, whatever was typed.

Each example is one in-process run on a database shared by the examples (a contact
picked among a few, so no history grows long); the stress run makes
``fuzz_examples()`` of them (10,000 with ``FUNNEL_FUZZ_EXAMPLES=10000``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.engine.workspace.facade import Workspace

from cli_support import run_cli
from stress_scale import fuzz_examples

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CONTACTS = 20

# What an attacker reaches for, mixed with ordinary letters of several scripts.
NASTY = ["\x1b", "\x1b]52;c;", "\x1b\\", "\x1b[2J", "\x1b]8;;", "\x07", "\x9b", "\x85",
         "\u202e", "\u2066", "\u2028", "\n", "\r", "\t", "\x00", "\x7f", "[/nope]", "[b]",
         "é", "李", "ش", "Ø", " ", "-", "="]
typed = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.lists(st.sampled_from(NASTY) | st.text(max_size=4), max_size=12).map("".join),
    st.text(alphabet="ab ", min_size=60, max_size=70),  # around the name limit
    st.integers(1_990, 2_010).map(lambda n: "w" * n),  # around the reason limit
)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("fuzz-people")
    db = folder / "funnel.json"
    with Workspace.open(db, None, user="setup") as workspace:
        workspace.add_many([{"name": f"Lead {n}", "email": f"lead{n}@example.com"}
                            for n in range(CONTACTS)])
    return folder, db


def one_run(folder: Path, db: Path, contact: int, title: str, by: str | None,
            why: str | None) -> None:
    args: list[object] = ["set", contact, f"title={title}", "--db", db]
    if by is not None:
        args.append(f"--by={by}")
    if why is not None:
        args.append(f"--why={why}")
    ran = run_cli(folder, *args)
    assert ran.returncode in (0, 2), (args, ran.returncode, ran.stderr)
    assert "Traceback" not in ran.stderr
    for stream in (ran.stdout, ran.stderr):
        found = RAW.search(stream)
        assert found is None, f"raw {found.group()!r} printed for {args!r}: {stream!r}"
    if ran.returncode == 2:
        assert ran.stderr.count("\n") == 1 and ran.stdout == "", ran.stderr
        return
    # Stored: whoever reads the contact or is refused over it sees the name and reason.
    for args in (["show", contact, "--db", db],
                 ["set", contact, "title=COO", "--expect", "title=nobody", "--db", db]):
        ran = run_cli(folder, *args)
        assert ran.returncode in (0, 3), (args, ran.stderr)
        for stream in (ran.stdout, ran.stderr):
            found = RAW.search(stream)
            assert found is None, f"raw {found.group()!r} printed for {args!r}: {stream!r}"


@given(contact=st.integers(1, CONTACTS), title=st.sampled_from(["CTO", "CEO"]), by=typed,
       why=typed)
@settings(max_examples=25)
def test_typed_names_and_reasons_are_stored_or_refused_and_never_printed_raw(
        shared, contact, title, by, why) -> None:
    one_run(*shared, contact, title, by, why)


@pytest.mark.stress
@given(contact=st.integers(1, CONTACTS), title=st.sampled_from(["CTO", "CEO"]), by=typed,
       why=typed)
@settings(max_examples=fuzz_examples())
def test_typed_names_and_reasons_stress(shared, contact, title, by, why) -> None:
    one_run(*shared, contact, title, by, why)
