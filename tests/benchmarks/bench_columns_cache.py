"""Benchmark: save and load the column cache beside the store (``engine.columns.sidecar``).

    python tests/benchmarks/bench_columns_cache.py [--rows 100000] [--arrays 20] [--repeat 5]

Writes ``--arrays`` columns of ``--rows`` values (float64, int32, bool in turn) plus a
dictionary of ``--rows // 10`` strings in the meta, then prints the median of
``--repeat`` saves and loads (warm page cache: the figure a second opening sees) beside
its share of the budget (``funnel stats --json`` whole process with the cache <= 1 s
at 100,000 contacts: loading the cache may take a twentieth of it) and beside two
baselines measured in the same run: numpy's own ``.npz`` (``allow_pickle=False``) and
the same arrays parsed from JSON with orjson (what a cache of documents would cost).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

from funnel.engine.columns.sidecar import CacheKey, load_columns, save_columns, sidecar_path

BUDGET_LOAD_MS = 50.0  # a twentieth of the 1 s `funnel stats --json` budget
BUDGET_SAVE_MS = 300.0  # off the keypress path; ctrl+s's 300 ms is the ceiling


def line(what: str, figure: float, unit: str, budget: float | None = None,
         baseline: float | None = None, baseline_name: str = "") -> None:
    text = f"{what:<34} {figure:9.2f} {unit:<3}"
    if budget is not None:
        text += f"  budget {budget:g} {unit} (x{figure / budget:.2f})"
    if baseline is not None:
        text += f"  vs {baseline_name} {baseline:.2f} {unit} ({baseline / figure:.1f}x)"
    print(text, flush=True)


def columns(rows: int, count: int) -> dict[str, np.ndarray]:
    generator = np.random.default_rng(1)
    made: dict[str, np.ndarray] = {}
    for index in range(count):
        kind = index % 3
        if kind == 0:
            made[f"number_{index}"] = generator.random(rows) * 1000
        elif kind == 1:
            made[f"codes_{index}"] = generator.integers(0, 500, rows, dtype=np.int32)
        else:
            made[f"missing_{index}"] = generator.random(rows) < 0.3
    return made


def timed(action, repeat: int) -> float:
    """The median wall time of ``action`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--arrays", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    arrays = columns(options.rows, options.arrays)
    meta = {"dictionary": [f"Company {number}" for number in range(options.rows // 10)]}
    key = CacheKey(1, "0badc0de", "f" * 64, "bench-1")
    with tempfile.TemporaryDirectory(prefix="funnel-bench-cols-") as folder:
        database = Path(folder) / "big.json"
        save_ms = timed(lambda: save_columns(database, key, arrays, meta), options.repeat)
        found = load_columns(database, key)
        assert found is not None and all(np.array_equal(found[0][name], array)
                                         for name, array in arrays.items())
        load_ms = timed(lambda: load_columns(database, key), options.repeat)
        stale_ms = timed(lambda: load_columns(database, CacheKey(2, "x", "y", "z")),
                         options.repeat)
        size_mb = sidecar_path(database).stat().st_size / 2**20

        npz = Path(folder) / "baseline.npz"
        npz_save_ms = timed(lambda: np.savez(npz, **arrays), options.repeat)

        def load_npz() -> None:
            with np.load(npz, allow_pickle=False) as loaded:
                for name in loaded.files:
                    loaded[name]

        npz_load_ms = timed(load_npz, options.repeat)
        as_json = orjson.dumps({name: array.tolist() for name, array in arrays.items()})
        json_ms = timed(lambda: orjson.loads(as_json), options.repeat)

    print(f"{options.arrays} arrays x {options.rows:,} rows, {len(meta['dictionary']):,} "
          f"strings in the meta; cache file {size_mb:.1f} MB")
    if options.rows != 100_000:
        print("(the budgets are those at 100,000 rows)")
    line("save (atomic, fsynced)", save_ms, "ms", BUDGET_SAVE_MS, npz_save_ms,
         "np.savez (no fsync)")
    line("load (checked, warm)", load_ms, "ms", BUDGET_LOAD_MS, npz_load_ms, "np.load .npz")
    line("load (checked, warm)", load_ms, "ms", None, json_ms, "orjson parse of the arrays")
    line("refuse a stale cache", stale_ms, "ms", BUDGET_LOAD_MS)


if __name__ == "__main__":
    main()
