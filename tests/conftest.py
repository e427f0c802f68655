"""Settings shared by every test: the ``stress`` marker's size and the Hypothesis profiles.

The default run (the README's command) leaves out tests marked ``stress`` (store
torture: ``kill -9`` during writes, processes writing at once; fuzzing with many
examples). Run them with ``-m stress``; ``FUNNEL_STRESS_SCALE`` sizes them (a factor,
default 1: small, as ``.ci/run`` runs them; 4 gives the full sizes).

Hypothesis profiles: ``funnel`` (loaded here: few examples, so the default run stays
quick) and ``stress`` (many examples; ``.ci/run`` passes ``--hypothesis-profile=stress``
to the stress run). A test's own ``@settings(max_examples=...)`` wins over either.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from stress_scale import scaled, stress_scale  # noqa: F401 (stress_scale: re-exported)


settings.register_profile("funnel", max_examples=20, deadline=None)  # stress: 500
settings.register_profile(
    "stress", max_examples=scaled(500), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "funnel"))


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (the README's run): one worker more than the cores this process may
    use, at most 4. Many tests spend part of their time waiting (on a terminal, a
    timer, another process); a third worker on two cores fills those gaps (measured:
    the functional tests take about a fifth less than with two)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return min(4, cores + 1)


@pytest.fixture(scope="session")
def stress_size():
    """``stress_size(n)``: ``n`` scaled by ``FUNNEL_STRESS_SCALE`` (at least 1)."""
    return scaled
