"""Fuzzing the rule parsers (issue #12): the condition language, the rules loader, the
mapping loader and the key map loader.

For each entry point, generated input (random text, token soups, structured
expressions, random YAML structures and mutations of real files) must either load or
raise a ``FunnelError``: no other exception, no example over 5 s (``signal.alarm``
interrupts a hang, and each example is timed), and the process's peak memory grows
by less than 500 MB over the run.

The default run takes the ``funnel`` profile's 30 examples per test; the ``stress``
variants (``-m stress``) run ``fuzz_examples()`` per entry point (10,000 with
``FUNNEL_FUZZ_EXAMPLES=10000``).
"""

from __future__ import annotations

import argparse
import resource
import signal
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stress_scale import fuzz_examples
from funnel.engine.errors import FunnelError
from funnel.engine.rules.conditions import compile_condition
from funnel.engine.model import new_contact
from funnel.engine.rules.facts import (PHASE_OUTCOME, PHASE_SCORING, PHASE_STAGE, gather,
                                       vocabulary)
from funnel.engine.rules.loading import parse_rules
from funnel.engine.transfer.mapping_file import parse_mapping
from funnel.tui.cli.main import load_keymap

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_RULES = (ROOT / "config" / "default.yaml").read_text(encoding="utf-8")
MAPPING = (ROOT / "config" / "x-education.yaml").read_text(encoding="utf-8")
SECONDS = 5
MEMORY_GROWTH_MB = 500

NOW = datetime(2026, 8, 1, 12, 0, tzinfo=timezone.utc)
PHASES = (PHASE_SCORING, PHASE_STAGE, PHASE_OUTCOME)


def evaluation_input(title: str) -> tuple[dict, dict]:
    """A validated contact and its facts, as the classifier gives them to conditions."""
    contact = new_contact({"title": title[:200] or None, "need": "yes", "company_size": 40,
                           "tags": ["vip", "hot"], "source": "referral",
                           "budget_amount": 5000.0}, NOW)
    facts = gather(contact, NOW, 45.0)
    facts.update(fit=10, engagement=5, score=15, stage="lead", grade=2)
    return contact, facts


# -- the harness -----------------------------------------------------------------------

def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def survives(entry: Callable[[], Any]) -> None:
    """Run one example: it may raise only FunnelError, and must end within SECONDS."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"an example ran for more than {SECONDS} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(SECONDS)
    started = time.monotonic()
    try:
        entry()
    except FunnelError:
        pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < SECONDS


def fuzz(test: Callable[[], None], examples: int | None = None) -> None:
    """Run a ``@given`` test (``examples`` of them, or the profile's number) and check
    that peak memory grew by less than MEMORY_GROWTH_MB."""
    before = peak_mb()
    if examples is not None:
        test = settings(max_examples=examples, deadline=None,
                        suppress_health_check=list(HealthCheck))(test)
    test()
    assert peak_mb() - before < MEMORY_GROWTH_MB


# -- conditions ------------------------------------------------------------------------

PIECES = st.sampled_from([
    "need", "title", "company_size", "tags", "bant", "count.webinar", "days_since.call",
    "fit", "stage", "score", "source", "nosuch", "yes", "lead", "true", "none", "always",
    "==", "!=", "<", "<=", ">", ">=", "in", "not", "contains", "matches", "and", "or",
    "(", ")", "[", "]", ",", "0", "-1", "2.5", "1.", "9" * 40, "0." + "1" * 20, "'", '"',
    "\\", '"\\bceo\\b"', '"(a|b"', '"^(a+)+$"', '"(a*)*b"', '"\\1"', '"(?=x)"', "'*'",
    '"a{99999}"', '"[^\\d]{2,}"', "__import__", ".", "@", ";", "é", "\u202e", "\x00",
])
NAMES = st.sampled_from(["need", "title", "company_size", "tags", "fit", "score", "source",
                         "budget_amount", "count.call"])
LITERALS = st.one_of(
    st.integers(-10**20, 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["yes", "no", "referral", "web_form", "none", "true"]),
    st.text(max_size=20).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.lists(st.sampled_from(["yes", "no", "1", "'x'"]), max_size=5).map(
        lambda items: "[" + ", ".join(items) + "]"),
)
REGEX_PIECES = st.lists(st.sampled_from([
    "a", "b", ".", "*", "+", "?", "*?", "{2}", "{1,3}", "{,2}", "{999999}", "(", ")", "(?:",
    "[a-c]", "[^a]", "[", "]", "\\b", "\\B", "\\d", "\\w", "\\s", "\\1", "(?=", "(?i)", "|",
    "^", "$", "\\", "-", "\\x4", "\\N{DIGIT ONE}", "{", "}", "(?P<n>", "(?#c)",
]), max_size=30).map("".join)
COMPARISON = st.one_of(
    st.tuples(NAMES, st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in",
                                      "contains"]), LITERALS).map(" ".join),
    st.tuples(NAMES, REGEX_PIECES).map(
        lambda pair: f"{pair[0]} matches " + '"' + pair[1].replace("\\", "\\\\")
        .replace('"', '\\"') + '"'),
)
EXPRESSIONS = st.recursive(
    COMPARISON,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" and ", " or "]), inner).map("".join),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=40,
)
CHAINS = st.tuples(st.integers(1, 3_000), st.sampled_from([" and ", " or "]),
                   COMPARISON).map(lambda t: t[1].join([t[2]] * t[0]))
CONDITIONS = st.one_of(st.lists(PIECES, max_size=40).map(" ".join), st.text(max_size=200),
                       EXPRESSIONS, CHAINS)
TITLES = st.one_of(st.text(max_size=50), st.integers(0, 190).map(lambda n: "a" * n + "!"))


@given(CONDITIONS, st.sampled_from(PHASES), TITLES)
def _condition_case(text: str, phase: str, title: str) -> None:
    contact, facts = evaluation_input("".join(ch for ch in title if ch.isprintable()))

    def run() -> None:
        condition = compile_condition(text, vocabulary(phase, ("lead", "customer")))
        assert isinstance(condition(contact, facts), bool)
    survives(run)


def test_fuzz_conditions() -> None:
    fuzz(_condition_case)


@pytest.mark.stress
def test_fuzz_conditions_stress() -> None:
    fuzz(_condition_case, fuzz_examples())


# -- YAML documents: rules, mappings, key maps -----------------------------------------

YAML_PIECES = st.sampled_from([
    "\n", "  ", "- ", ": ", "a", "b: ", "[", "]", "{", "}", ",", "&x ", "*x", "&y ", "*y",
    "!!int ", "!!python/object:os.system ", "'", '"', "#", "? ", "<<: ", "9" * 30,
    "9" * 5_000, "1e400", ".nan", "yes", "~", "|\n  ", ">\n  ", "\t", "\ufeff", "\x00",
    "when: ", "points: ", "funnel_rules: 1\n", "funnel_mapping: 1\n", "per: ", "---\n",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
STRUCTURES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.text(max_size=10) | st.integers(0, 5), inner,
                                            max_size=5)),
    max_leaves=60,
)
DEEP = st.tuples(st.integers(1, 40_000), st.sampled_from(["[", "{a: ", "- "])).map(
    lambda t: "x: " + t[1] * t[0] + "\n")


def mutated(document: str) -> st.SearchStrategy[str]:
    """``document`` with a slice replaced by generated YAML-ish text."""
    return st.tuples(st.integers(0, len(document)), st.integers(0, 200),
                     st.lists(YAML_PIECES, max_size=12).map("".join)).map(
        lambda t: document[:t[0]] + t[2] + document[t[0] + t[1]:])


def documents(original: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=300),
        st.lists(YAML_PIECES, max_size=60).map("".join),
        STRUCTURES.map(lambda value: yaml.safe_dump(value, allow_unicode=True)),
        mutated(original),
        DEEP,
    )


@given(documents(DEFAULT_RULES))
def _rules_case(text: str) -> None:
    survives(lambda: parse_rules(text, "fuzz.yaml"))


@given(documents(MAPPING))
def _mapping_case(text: str) -> None:
    survives(lambda: parse_mapping(text, "fuzz.yaml"))


KEYMAP = "contacts.disqualify: x\ncontacts.edit: e\napp.quit: ctrl+q\n"
_KEYS_FOLDER = tempfile.TemporaryDirectory(prefix="funnel-fuzz-keys-")


@given(documents(KEYMAP))
def _keymap_case(text: str) -> None:
    folder = Path(_KEYS_FOLDER.name)
    (folder / "keys.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    survives(lambda: load_keymap(argparse.Namespace(config=folder)))


@pytest.mark.parametrize("case", [_rules_case, _mapping_case, _keymap_case],
                         ids=["rules", "mapping", "keymap"])
def test_fuzz_yaml_loaders(case: Callable[[], None]) -> None:
    fuzz(case)


@pytest.mark.stress
@pytest.mark.parametrize("case", [_rules_case, _mapping_case, _keymap_case],
                         ids=["rules", "mapping", "keymap"])
def test_fuzz_yaml_loaders_stress(case: Callable[[], None]) -> None:
    fuzz(case, fuzz_examples())
