"""``fit_rules`` tells how far it is (the Scoring tab's f shows it as a percentage)
and stops when its progress callback raises: on a real imported database."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import run_cli
from learn_support import write_leads, write_mapping

from funnel.engine.learn.fit_rules import REPORT_EVERY, fit_rules
from funnel.engine.workspace.facade import Workspace


class Stop(Exception):
    pass


def test_progress_rises_to_the_total_and_a_raise_stops_the_fit(tmp_path: Path) -> None:
    write_leads(tmp_path / "leads.csv", 1200)
    write_mapping(tmp_path / "map.yaml")
    assert run_cli(tmp_path, "import", "leads.csv", "--db", "d.json", "--map",
                   "map.yaml").returncode == 0
    with Workspace.open(tmp_path / "d.json", None, create=False) as workspace:
        heard: list[tuple[int, int]] = []
        result = fit_rules(workspace.documents, workspace.rules, workspace.now(),
                           progress=lambda done, total: heard.append((done, total)))
        total = heard[-1][1]
        assert heard[-1] == (total, total)  # the end is said once it is reached
        assert total >= 1200 + 2 * result.holdout - 2  # every contact, the held-out twice
        assert len(heard) >= total // REPORT_EVERY
        assert [done for done, _ in heard] == sorted(done for done, _ in heard)
        assert all(done < total for done, _ in heard[:-1]) and {t for _, t in heard} == {total}

        def stop(done: int, total: int) -> None:
            raise Stop
        with pytest.raises(Stop):
            fit_rules(workspace.documents, workspace.rules, workspace.now(), progress=stop)
