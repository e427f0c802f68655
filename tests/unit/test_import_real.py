"""End to end on real data: the X Education lead export with the shipped mapping.

The file lives in ``../shared/data/`` beside the checkout (as in CI); without it
these tests are skipped, saying why. Timing is the benchmark's job
(tests/benchmarks/bench_import.py), not these tests'.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import Ran, run_cli

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "x-education-leads.csv"
ROWS = 9237

pytestmark = [
    pytest.mark.skipif(not DATA.is_file(), reason=f"the real lead export is not at "
                       f"{DATA} (CI keeps ../shared beside the checkout)"),
    # The imported database is built once per worker: keep the module on one worker.
    pytest.mark.xdist_group("x-education"),
]


def funnel(cwd: Path, *args: object) -> Ran:
    """``funnel ARGS`` from ``cwd``, in this process (``cli_support.run_cli``)."""
    return run_cli(cwd, *args)


def files_of(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in db.parent.glob(db.name + "*")
            if not p.name.endswith(".lock")}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("x-education")
    result = funnel(folder, "import", DATA, "--db", "leads.json", "--map", "x-education",
                    "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["created"], data["updated"], data["unchanged"], data["skipped"]) == (
        ROWS, 0, 0, 0)
    assert data["errors"] == [] and data["duplicates_in_file"] == []
    return folder / "leads.json"


def test_importing_again_creates_none_and_changes_nothing(imported: Path) -> None:
    before = files_of(imported)
    result = funnel(imported.parent, "import", DATA, "--db", imported, "--map",
                    "x-education", "--json")
    data = json.loads(result.stdout)
    assert (data["created"], data["updated"], data["unchanged"]) == (0, 0, ROWS)
    assert files_of(imported) == before


def test_the_contacts_spread_over_stages_and_temperatures(imported: Path) -> None:
    stats = json.loads(funnel(imported.parent, "stats", "--db", imported, "--json").stdout)
    assert stats["total"] == ROWS
    stages = {stage: count for stage, count in stats["stages"].items() if count}
    # A closed export: Converted = 1 is a customer and 0 a lead that did not buy (lost,
    # "not converted (export)"), so every contact sits in one of the two.
    assert stages == {"customer": 3559, "lost": ROWS - 3559}
    temperatures = stats["temperatures"]
    assert all(temperatures[t] > 0.05 * ROWS for t in ("hot", "warm", "cold"))
    assert sum(1 for count in stats["grades"].values() if count) >= 3


def test_one_contact_reads_as_the_row_said(imported: Path) -> None:
    shown = json.loads(funnel(imported.parent, "show", "3", "--db", imported, "--json").stdout)
    # Row 4 of the file: 660727, Direct Traffic, converted, Will revert after reading.
    fields = shown["fields"]
    assert (fields["external_id"], fields["source"], fields["outcome"]) == ("660727",
                                                                           "web_form", "won")
    assert shown["custom"]["Prospect ID"] == "8cc8c611-a219-4f35-ad23-fdfd2656bd8a"
    assert shown["custom"]["Tags"] == "Will revert after reading the email"
    assert "Select" not in shown["custom"].values()
    kinds = {a["kind"]: a.get("count", 1) for a in shown["activities"]}
    assert kinds["page_visit"] == 2 and kinds["email_open"] == 1
    assert shown["classification"]["stage"] == "customer"


def test_a_copy_with_one_broken_row_is_refused_and_changes_nothing(
        imported: Path, tmp_path: Path) -> None:
    lines = DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[1234].split(",")
    cells[7] = "many"  # TotalVisits of row 1235
    lines[1234] = ",".join(cells)
    broken = tmp_path / "broken.csv"
    broken.write_text("".join(lines), encoding="utf-8")
    before = files_of(imported)
    result = funnel(imported.parent, "import", broken, "--db", imported, "--map", "x-education")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"funnel: import {broken}: row 1235, column \"TotalVisits\": 'many' is not a number "
        "(of page_visit activities); nothing was imported (fix it, or pass --skip-bad to "
        "import the other rows)"]
    assert files_of(imported) == before


@pytest.mark.stress  # 11 s: a round trip of the whole export; CI's stress run keeps it
def test_export_and_import_into_an_empty_database_gives_the_same(imported: Path,
                                                                 tmp_path: Path) -> None:
    folder = imported.parent
    assert funnel(folder, "export", "--db", imported, "-o", tmp_path / "all.csv").returncode == 0
    copied = funnel(tmp_path, "import", "all.csv", "--db", "copy.json", "--json")
    assert json.loads(copied.stdout)["created"] == ROWS, copied.stderr
    original = funnel(folder, "export", "--db", imported, "--format", "json").stdout
    copy = funnel(tmp_path, "export", "--db", "copy.json", "--format", "json").stdout

    def comparable(text: str) -> list:
        # History and revisions tell how each copy was made; everything else must match.
        return [{k: v for k, v in d.items() if k not in ("history", "rev")}
                for d in json.loads(text)]
    assert comparable(copy) == comparable(original)
