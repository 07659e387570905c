"""Smoke test of benchmarks/run.py on tiny sizes, so the script does not rot.

Nothing here asserts a time: only that every figure is produced, finite and well formed.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    """The benchmark module, loaded from its file (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(bench, dec2021_path: Path):
    """Every benchmark at tiny sizes (the memory run is one short subprocess)."""
    settings = bench.Settings(
        trials=(300, 2000),
        workers=(1,),
        repeats=1,
        baseline_trials=5,
        baseline_at=2000,
        memory_trials=(300,),
        memory_workers=(1,),
        horizon_trials=300,
        horizons=(10, 20),
        check_trials=500,
        profile_trials=300,
        calls_sizes=(100, 1000),
        floor_days=20,
        startup_repeats=1,
        explore_trials=300,
    )
    two_sided = ROOT / "scenarios" / "kargil1999.yaml"
    return bench.measure(settings, dec2021_path, log=lambda message: None, two_sided_path=two_sided)


def test_every_figure_is_measured(tiny) -> None:
    times = [*tiny.throughput.values(), tiny.baseline_seconds, tiny.floor_seconds, tiny.row_bytes]
    times += [seconds for _, seconds in tiny.horizon_times]
    times += [seconds for pair in tiny.startup.values() for seconds in pair]
    assert len(tiny.startup) == 2 and "escalation --help" in tiny.startup
    assert set(tiny.throughput) == {(300, 1), (2000, 1)}
    assert all(math.isfinite(t) and t > 0 for t in times)
    assert [(n, w) for n, w, _, _ in tiny.memory] == [(300, 1)]
    assert all(peak > 10**7 for *_, peak in tiny.memory)  # an interpreter with numpy at least


def test_explore_replay_is_measured(bench, tiny) -> None:
    found = tiny.explore
    assert found.trials == 300
    assert all(math.isfinite(t) and t > 0 for t in (found.build, found.replay))
    assert set(found.parts) == {"baseline", "play", "table", "figures"}
    rows = bench.explore_rows(tiny)
    assert [r.item for r in rows] == ["9 explore", "9 explore"] and rows[1].target


def test_the_two_sided_scenario_is_measured(bench, tiny) -> None:
    found = tiny.two_sided
    assert (found.scenario, found.trials) == ("kargil1999.yaml", 2000)
    assert all(math.isfinite(t) and t > 0 for t in (found.seconds, found.floor_seconds))
    rows = bench.two_sided_rows(tiny)
    assert [r.item for r in rows] == ["11 two-sided", "11 two-sided"] and rows[1].target


def test_baseline_plays_the_same_outcomes(tiny) -> None:
    assert tiny.baseline_shares.keys() == tiny.engine_shares.keys()
    assert sum(tiny.baseline_shares.values()) == pytest.approx(1.0)
    assert sum(tiny.engine_shares.values()) == pytest.approx(1.0)


def test_profile_finds_no_compilation_and_no_loop_over_trials(tiny) -> None:
    assert tiny.compiles_during_play == 0
    assert "ncalls" in tiny.profile
    small, large = (tiny.calls_per_day[n] for n in sorted(tiny.calls_per_day))
    assert large <= 1.5 * small  # calls per day do not grow with the block's trials


def test_table_and_markdown_name_every_item_and_target(bench, tiny) -> None:
    table = bench.rows(tiny)
    items = {row.item for row in table}
    assert {"1 throughput", "2 baseline", "3 floor", "4 memory", "5 scaling", "6 profile"} <= items
    assert "7 start-up" in items and "11 two-sided" in items
    assert any(row.target.startswith(">= 2.5 M") for row in table)  # the rate of issues 8, 9
    judged = [row for row in table if row.target]
    assert all(row.status == "met" or row.status.startswith("GAP") for row in judged if row.status)
    text = bench.markdown(tiny, table, quick=True, seconds=1.0)
    assert "| item | figure | value | target | status |" in text
    assert "python benchmarks/run.py --quick" in text
    assert bench.text_table(table).count("\n") == len(table) + 1


def test_exponent_recovers_a_power_law(bench) -> None:
    x = [1e3, 1e4, 1e5]
    assert bench.exponent(x, [3 * v**1.0 for v in x]) == pytest.approx(1.0)
    assert bench.exponent(x, list(np.sqrt(x))) == pytest.approx(0.5)


@pytest.mark.slow
def test_the_scale_item_runs_on_tiny_sizes(bench, dec2021_path: Path) -> None:
    """Item 10 at a few thousand trials: the streamed run's peak, and Dask against one worker."""
    pytest.importorskip(
        "dask.distributed", reason="Dask is an optional extra: pip install 'escalation[dask]'"
    )
    found = bench.scale_check(dec2021_path, trials=3000, compare_trials=2000, dask_workers=1)
    assert found.peak > 10**7 and math.isfinite(found.seconds)
    assert found.same == {"summary.csv": True, "timeline.csv": True, "trials": True}
    rows = bench.scale_rows(found)
    assert [row.item for row in rows] == ["10 scale", "10 scale"]
    assert rows[1].status == "met" and "identical" in rows[1].value
