"""How big the ``stress`` tests run: ``FUNNEL_STRESS_SCALE`` (a factor, default 1).

A module of its own, not a conftest function: test modules import it by name, and
``conftest`` is ambiguous when several test folders have one.
"""

from __future__ import annotations

import os

import pytest


def stress_scale() -> float:
    """``FUNNEL_STRESS_SCALE`` as a positive factor (1 when unset)."""
    text = os.environ.get("FUNNEL_STRESS_SCALE", "").strip() or "1"
    try:
        scale = float(text)
    except ValueError:
        raise pytest.UsageError(f"FUNNEL_STRESS_SCALE={text!r}: give a number, e.g. 1 or 4")
    if scale <= 0:
        raise pytest.UsageError(f"FUNNEL_STRESS_SCALE={text!r}: must be more than 0")
    return scale


def scaled(count: int, minimum: int = 1) -> int:
    """``count`` times ``FUNNEL_STRESS_SCALE``, at least ``minimum``."""
    return max(minimum, round(count * stress_scale()))


def fuzz_examples() -> int:
    """Generated inputs per entry point in a stress fuzz test.

    ``FUNNEL_FUZZ_EXAMPLES`` when set (the acceptance run: ``FUNNEL_FUZZ_EXAMPLES=10000
    pytest -m stress tests/unit/test_fuzz_*.py``); otherwise 500 × ``FUNNEL_STRESS_SCALE``,
    which keeps CI's small stress run to a minute or two. A knob of its own, so a big
    fuzz run does not also make the store torture tests enormous.
    """
    text = os.environ.get("FUNNEL_FUZZ_EXAMPLES", "").strip()
    if not text:
        return scaled(500)
    if not text.isdigit() or int(text) < 1:
        raise pytest.UsageError(f"FUNNEL_FUZZ_EXAMPLES={text!r}: give a whole number, e.g. 10000")
    return int(text)
