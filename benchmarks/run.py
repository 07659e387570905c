"""Benchmarks of the engine, side by side in one run; prints a table and writes BENCHMARKS.md.

    python benchmarks/run.py            # full run: writes BENCHMARKS.md
    python benchmarks/run.py --quick    # a few minutes: prints every figure, writes nothing
                                        # unless --out is given

What it measures, on one scenario (default: the shipped dec2021):

1. throughput of the engine in trial-days per second at 10^3 to 10^6 trials, 1 and 2 workers;
2. the per-trial baseline: the same model class playing one trial per Mesa model through
   ``mesa.batch_run``, against the engine on one core, per trial;
3. the floor: drawing the random numbers one trial-day consumes (same generator, same block
   size), as a ratio to the engine's time per trial-day;
4. peak memory of ``escalation run`` at several trial counts, each in its own process, and
   how it grows;
5. scaling: fitted exponents of time against trials and against horizon, and the speed-up
   of two workers over one;
6. a profile of one block;
7. start-up: wall time of ``escalation --help`` and ``escalation validate`` on the scenario,
   each in a fresh process (imports are deferred so that both take under half a second).
8. the backtest of the whole casebook (every case in ``scenarios/`` at its default trials, one
   worker, files written), against the target of issue 10.
9. a replay of the explore page (issue 12): 20,000 trials of the scenario after a change, on
   one core, as the page does it (settings written and validated, trials played, the paired
   table against the scenario as written, the figures), the scenario as written already played.
10. runs that outgrow one machine (``--scale``, issue 13): peak memory of ``escalation run
    --trials 10000000 --no-trials`` on one worker, and a Dask run (``--scheduler local``) against
    a one-worker run at 10^6 trials, file by file.
11. a two-sided scenario (``--two-sided``, default the shipped kargil1999): throughput on one
    worker and the distance from its own random-number floor (issue 8).

    python benchmarks/run.py --explore  # item 9 only; writes nothing
    python benchmarks/run.py --scale    # item 10 only; writes nothing
    python benchmarks/run.py --with-scale  # the full run with item 10 (BENCHMARKS.md)

Times are wall-clock seconds from ``time.perf_counter``, best of the repeats. No test asserts
any of them: ``tests/test_benchmarks.py`` only runs these functions on tiny sizes.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import math
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import run_baseline  # noqa: E402

from escalation.api import as_scenario, versions, with_overrides  # noqa: E402
from escalation.engine.blocks import (  # noqa: E402
    BLOCK_SIZE,
    block_specs,
    play_block,
    play_blocks,
)
from escalation.model.crisis import CrisisModel  # noqa: E402
from escalation.model.plan import Plan  # noqa: E402
from escalation.scenario.schema import Scenario  # noqa: E402

DEFAULT_SCENARIO = ROOT / "scenarios" / "dec2021.yaml"
DEFAULT_CASEBOOK = ROOT / "scenarios"
DEFAULT_TWO_SIDED = ROOT / "scenarios" / "kargil1999.yaml"

#: Targets of issue 4.
TARGET_BASELINE = 500.0  # engine at least this many times faster per trial, at 10^5 trials
TARGET_FLOOR = 10.0  # engine within this factor of drawing its random numbers
TARGET_RATE = 2.5e6  # trial-days/s of dec2021 on one worker (issues 8 and 9)
TARGET_PEAK = 1.5e9  # bytes of peak RSS at 10^6 trials
TARGET_SPEEDUP = 1.7  # two workers over one, at 10^6 trials
TARGET_STARTUP = 0.5  # seconds for `escalation --help` and `escalation validate` (issue 11)
TARGET_BACKTEST = 120.0  # seconds for the whole casebook at default trials on one worker
TARGET_EXPLORE = 1.0  # seconds, "about a second", for a replay of 20,000 trials (issue 12)
TARGET_STREAMED_PEAK = 500e6  # bytes of peak RSS of a --no-trials run of 10^7 trials (issue 13)
SCALE_TRIALS = 10**7  # the streamed run of item 10
SCALE_COMPARE = 10**6  # the Dask run compared with one worker in item 10
EXPONENT_BAND = (0.9, 1.1)  # "near 1"


@dataclass(frozen=True)
class Settings:
    """Sizes of one benchmark run."""

    trials: tuple[int, ...] = (10**3, 10**4, 10**5, 10**6)
    workers: tuple[int, ...] = (1, 2)
    repeats: int = 3
    baseline_trials: int = 2000
    baseline_at: int = 10**5  # the engine's size compared with the baseline and the floor
    memory_trials: tuple[int, ...] = (10**4, 10**5, 250_000, 500_000, 10**6)
    memory_workers: tuple[int, ...] = (1, 2)
    horizon_trials: int = 4 * BLOCK_SIZE
    horizons: tuple[int, ...] = (30, 60, 120, 240, 480)
    check_trials: int = 20_000  # engine outcome shares and the trials table's row size
    profile_trials: int = BLOCK_SIZE  # the profiled block
    calls_sizes: tuple[int, ...] = (1024, BLOCK_SIZE)  # block sizes whose calls are counted
    floor_days: int = 2000  # days of draws timed for the floor
    startup_repeats: int = 9  # fresh processes per start-up command
    seed: int = 1
    explore_trials: int = 20_000  # trials of one replay of the explore page


FULL = Settings()
QUICK = Settings(
    repeats=1,
    baseline_trials=300,
    memory_trials=(10**4, 10**5, 300_000, 10**6),
    memory_workers=(1,),
    horizon_trials=2 * BLOCK_SIZE,
    horizons=(30, 60, 120, 240),
    startup_repeats=5,
)


@dataclass
class Results:
    """Everything one run measured."""

    settings: Settings
    scenario: str
    horizon: int
    throughput: dict[tuple[int, int], float] = field(default_factory=dict)  # seconds
    pool_start: tuple[float, float] = (math.nan, math.nan)  # first pool, a later pool
    baseline_seconds: float = math.nan  # per trial
    baseline_shares: dict[str, float] = field(default_factory=dict)
    engine_shares: dict[str, float] = field(default_factory=dict)
    floor_seconds: float = math.nan  # per trial-day
    world_seconds: float = math.nan  # per trial: drawing its parameters
    uniforms_per_trial_day: float = math.nan
    memory: list[tuple[int, int, float, int]] = field(default_factory=list)  # n, w, s, bytes
    row_bytes: float = math.nan
    horizon_times: list[tuple[int, float]] = field(default_factory=list)
    profile: str = ""
    calls_per_day: dict[int, float] = field(default_factory=dict)
    compiles_during_play: int = -1
    startup: dict[str, tuple[float, float]] = field(default_factory=dict)  # best, median s
    backtest: BacktestTime | None = None
    explore: ExploreTime | None = None
    two_sided: TwoSided | None = None
    scale: ScaleCheck | None = None


@dataclass(frozen=True)
class TwoSided:
    """Item 11: a two-sided scenario's speed on one worker, and its random-number floor."""

    scenario: str
    horizon: int
    trials: int
    seconds: float
    floor_seconds: float  # per trial-day


@dataclass(frozen=True)
class ExploreTime:
    """Replays of the explore page: best of the repeats, whole and in parts, seconds."""

    trials: int
    build: float
    replay: float
    parts: dict[str, float]


@dataclass(frozen=True)
class BacktestTime:
    """One backtest of a casebook: how many cases and trials, and the wall time."""

    casebook: str
    cases: int
    trials: int
    seconds: float
    note: str = ""


# --------------------------------------------------------------------------- measurements


def _best(function, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def throughput(
    scenario: Scenario, trials: tuple[int, ...], workers: tuple[int, ...], repeats: int, seed: int
) -> dict[tuple[int, int], float]:
    """Seconds to play ``n`` trials with ``w`` workers (engine only: no table, no files).

    A run with two workers includes starting its pool (the fork server is already up).
    """
    play_blocks(scenario, block_specs(min(trials), seed))  # compile the scenario, warm caches
    times = {}
    for w in workers:
        for n in trials:
            specs = block_specs(n, seed)
            times[(n, w)] = _best(lambda s=specs, w=w: play_blocks(scenario, s, workers=w), repeats)
    return times


def two_sided(path: Path, trials: int, repeats: int, seed: int, floor_days: int) -> TwoSided:
    """Item 11: ``trials`` of a two-sided scenario on one worker, beside its floor."""
    scenario = as_scenario(path)
    seconds = throughput(scenario, (trials,), (1,), repeats, seed)[(trials, 1)]
    floor = rng_floor(Plan.from_scenario(scenario), floor_days)
    return TwoSided(Path(path).name, scenario.horizon, trials, seconds, floor)


def pool_start(scenario: Scenario) -> tuple[float, float]:
    """Seconds for a two-worker run of two one-trial blocks: first pool, then a later one.

    The first includes starting the fork server (which imports the engine once); later pools
    fork from it. Either way each worker compiles the scenario once.
    """
    specs = block_specs(2, 0, block_size=1)
    first = _best(lambda: play_blocks(scenario, specs, workers=2), 1)
    later = _best(lambda: play_blocks(scenario, specs, workers=2), 1)
    return first, later


def outcome_shares(plan: Plan, codes: np.ndarray) -> dict[str, float]:
    """Share of each outcome among outcome codes."""
    counts = np.bincount(codes, minlength=len(plan.outcomes))
    return {
        name: float(c) / max(len(codes), 1) for name, c in zip(plan.outcomes, counts, strict=True)
    }


def engine_shares(scenario: Scenario, trials: int, seed: int) -> dict[str, float]:
    """Outcome shares from the engine, to check the baseline plays the same model."""
    blocks = play_blocks(scenario, block_specs(trials, seed))
    plan = Plan.from_scenario(scenario)
    return outcome_shares(plan, np.concatenate([b.outcome for b in blocks]))


def uniforms_per_trial_day(plan: Plan) -> float:
    """Uniform draws one trial consumes per day: the day's rows plus its world, spread."""
    rows = plan.rows
    world = len(plan.parameters) + sum(len(p.points) for p in plan.paths.values())
    world += len(plan.deciders) + len(plan.policies)  # a type per decider, a follow per policy
    return rows + world / plan.horizon


def rng_floor(plan: Plan, days: int = 2000) -> float:
    """Seconds to draw one trial-day's uniforms with the engine's generator and block size.

    The generator is numpy's default (PCG64), which Mesa's ``model.rng`` is; the day's rows are
    drawn into one preallocated ``(rows, BLOCK_SIZE)`` buffer, as the engine does.
    """
    rng = np.random.default_rng(0)
    per_day = uniforms_per_trial_day(plan)
    rows = math.floor(per_day)
    buffer = np.empty((rows, BLOCK_SIZE))
    world = np.empty((max(round((per_day - rows) * plan.horizon), 1), BLOCK_SIZE))

    def draw() -> None:
        for day in range(days):
            rng.random(out=buffer)
            if day % plan.horizon == 0:
                rng.random(out=world)

    seconds = _best(draw, 3)
    return seconds / (days * BLOCK_SIZE) * per_day / (rows + world.shape[0] / plan.horizon)


#: Runs a command and prints its peak RSS. A child's ``ru_maxrss`` counts the memory of
#: the process it was forked from (Linux keeps the high-water mark across exec), so the
#: command is started from this small launcher rather than from the benchmark process.
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def world_time(plan: Plan, repeats: int = 3) -> float:
    """Seconds per trial to draw a block's world (parameters, path points, types)."""
    rng = np.random.default_rng(0)
    return _best(lambda: plan.draw_world(rng, BLOCK_SIZE), repeats) / BLOCK_SIZE


def peak_rss(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of a command run in its own process."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *command], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    try:
        peak, status = (int(word) for word in done.stdout.split())
    except ValueError:
        status, peak = -1, 0
    if done.returncode != 0 or status != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return seconds, peak * scale


def memory(
    scenario_path: Path, trials: tuple[int, ...], workers: tuple[int, ...], seed: int
) -> list[tuple[int, int, float, int]]:
    """Peak RSS of ``escalation run`` (every output file written) at each trial count."""
    found = []
    with tempfile.TemporaryDirectory() as folder:
        for w in workers:
            for n in trials if w == 1 else trials[-1:]:
                out = Path(folder) / f"run-{n}-{w}"
                command = [sys.executable, "-m", "escalation", "run", str(scenario_path)]
                command += ["--trials", str(n), "--seed", str(seed), "--workers", str(w)]
                command += ["--out", str(out), "--quiet"]
                seconds, peak = peak_rss(command)
                found.append((n, w, seconds, peak))
                shutil.rmtree(out, ignore_errors=True)
    return found


def row_bytes(scenario: Scenario, trials: int = 20_000) -> float:
    """Bytes per trial of the trials table in memory (its one row of inputs and outcomes)."""
    from escalation.api import run

    table = run(scenario, trials=trials, seed=1).trials
    return float(table.memory_usage(deep=True, index=True).sum()) / trials


def horizon_scaling(
    scenario: Scenario, trials: int, horizons: tuple[int, ...], repeats: int, seed: int
) -> list[tuple[int, float]]:
    """Seconds to play ``trials`` trials at each horizon, one worker."""
    found = []
    for horizon in horizons:
        varied = with_overrides(scenario, horizon=horizon)
        specs = block_specs(trials, seed)
        play_blocks(varied, specs[:1])  # compile outside the timing
        found.append((horizon, _best(lambda v=varied, s=specs: play_blocks(v, s), repeats)))
    return found


def exponent(x: list[float], y: list[float]) -> float:
    """Slope of log y against log x, by least squares."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def profile_block(
    scenario: Scenario, trials: int = BLOCK_SIZE, seed: int = 1, top: int = 14
) -> tuple[str, int]:
    """cProfile of one block of ``trials`` trials: the top functions, and compilations.

    Returns the printed statistics (top functions by internal time) and how many expressions
    were compiled while the block played (0: conditions are compiled once per scenario).
    """
    spec = block_specs(trials, seed)[0]
    play_block(scenario, block_specs(1, seed)[0])  # compile the scenario outside the profile
    profiler = cProfile.Profile()
    profiler.enable()
    play_block(scenario, spec)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    compiles = sum(
        calls[1]
        for (file, _, name), calls in stats.stats.items()  # type: ignore[attr-defined]
        if name in ("compile_expression", "from_scenario") or file.endswith("yamlio.py")
    )
    stats.sort_stats("tottime").print_stats(top)
    text = stream.getvalue()
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    head = next((line.strip() for line in lines if "function calls" in line), "")
    body = [line.replace(str(ROOT) + os.sep, "").rstrip() for line in lines[start:] if line]
    return "\n".join([head, "", *body]), compiles


def calls_per_day(scenario: Scenario, sizes: tuple[int, ...] = (1024, BLOCK_SIZE)) -> dict:
    """Python function calls per simulated day at each block size.

    Equal counts at different sizes show that no Python loop runs over trials.
    """
    plan = Plan.from_scenario(scenario)
    found = {}
    for n in sizes:
        model = CrisisModel(plan, n, 7)
        profiler = cProfile.Profile()
        profiler.enable()
        days = 0
        while days < plan.horizon and model.live.any():
            model.step()
            days += 1
        profiler.disable()
        model.release()
        stats = pstats.Stats(profiler)
        found[n] = stats.total_calls / max(days, 1)  # type: ignore[attr-defined]
    return found


def console_command() -> list[str]:
    """The installed ``escalation`` command (``python -m escalation`` if there is none)."""
    script = Path(sys.executable).with_name("escalation")
    found = str(script) if script.exists() else shutil.which("escalation")
    return [found] if found else [sys.executable, "-m", "escalation"]


def startup_times(scenario_path: Path, repeats: int) -> dict[str, tuple[float, float]]:
    """Best and median wall seconds of ``--help`` and ``validate``, each in a fresh process."""
    command = console_command()
    found = {}
    for label, args in (
        ("escalation --help", ["--help"]),
        (f"escalation validate {scenario_path.name}", ["validate", str(scenario_path)]),
    ):
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            done = subprocess.run([*command, *args], capture_output=True, check=False)
            seconds.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"{label} failed:\n{done.stderr.decode()[-2000:]}")
        found[label] = (min(seconds), float(np.median(seconds)))
    return found


def backtest_time(casebook: Path, trials: int | None = None, workers: int = 1) -> BacktestTime:
    """Wall time of ``escalation backtest`` on a folder: load, play, score, write the files.

    Works on whatever cases the folder holds; a folder without cases (or without an outcomes
    file) gives zero cases and no time, with the reason in ``note``.
    """
    from escalation.backtest import run_backtest
    from escalation.scenario.yamlio import InputError

    started = time.perf_counter()
    try:
        result = run_backtest(casebook, trials=trials, workers=workers)
    except InputError as error:
        return BacktestTime(str(casebook), 0, 0, math.nan, str(error))
    with tempfile.TemporaryDirectory() as folder:
        result.write(Path(folder) / "backtest")
    seconds = time.perf_counter() - started
    trials_in_all = int(result.table["trials"].sum())
    return BacktestTime(str(casebook), len(result.table), trials_in_all, seconds)


def explore_time(scenario_path: Path, trials: int, repeats: int) -> ExploreTime:
    """One replay of the explore page after a change, as the page plays it, on one core.

    The scenario as written is played first (the page keeps it); each repeat then changes a
    different setting (so no replay is reused), writes and validates the scenario (build) and
    plays it with its paired table and figures (replay). Best of ``repeats``.
    """
    from escalation.explore.document import Explorer
    from escalation.explore.replay import Replayer

    explorer = Explorer(scenario_path)
    replayer = Replayer(explorer)
    try:
        first = replayer.wait(replayer.submit("bench", explorer.build({"trials": trials})))
        if first.state != "done":
            raise RuntimeError(f"the explore replay failed: {first.error}")
        best_build, best_replay, parts = math.inf, math.inf, {}
        policies = list(explorer.controls.policies)
        for index in range(repeats):
            started = time.perf_counter()
            change = {"trials": trials, "enabled": {policies[index % len(policies)]: False}}
            if index >= len(policies):
                change["horizon"] = explorer.scenario.horizon - index  # still a new setting
            built = explorer.build(change)
            built_at = time.perf_counter()
            job = replayer.wait(replayer.submit("bench", built), timeout=600)
            if job.state != "done":
                raise RuntimeError(f"the explore replay failed: {job.error}")
            replay = time.perf_counter() - built_at
            best_build = min(best_build, built_at - started)
            if replay < best_replay:
                best_replay, parts = replay, dict(job.replay.timings)
        return ExploreTime(trials, best_build, best_replay, parts)
    finally:
        replayer.close()


@dataclass(frozen=True)
class ScaleCheck:
    """Item 10: a streamed run's memory, and a Dask run against one worker."""

    trials: int  # of the --no-trials run
    seconds: float
    peak: int  # bytes
    compare_trials: int
    one_seconds: float  # --workers 1, trials kept in memory
    dask_seconds: float  # --scheduler local, trials written as a dataset
    dask_workers: int
    same: dict[str, bool]  # file or table -> identical


def scale_check(
    scenario_path: Path,
    trials: int = SCALE_TRIALS,
    compare_trials: int = SCALE_COMPARE,
    seed: int = 1,
    dask_workers: int = 2,
) -> ScaleCheck:
    """Peak RSS of ``escalation run --trials TRIALS --no-trials`` (one worker, a fresh
    process), and ``escalation run --trials COMPARE`` on one worker against the same run with
    ``--scheduler local --workers DASK_WORKERS``: summary.csv and timeline.csv byte for byte,
    and the trials table (one file) against the dataset the Dask run writes."""
    import pandas as pd

    from escalation.engine.dataset import read_trials

    base = [sys.executable, "-m", "escalation", "run", str(scenario_path), "--seed", str(seed)]
    with tempfile.TemporaryDirectory() as folder:
        streamed = Path(folder) / "streamed"
        command = [*base, "--trials", str(trials), "--no-trials", "--out", str(streamed), "-q"]
        seconds, peak = peak_rss(command)
        one, dask = Path(folder) / "one", Path(folder) / "dask"
        timed = {}
        for out, extra in (
            (one, ["--workers", "1"]),
            (dask, ["--scheduler", "local", "--workers", str(dask_workers)]),
        ):
            started = time.perf_counter()
            subprocess.run(
                [*base, "--trials", str(compare_trials), *extra, "--out", str(out), "-q"],
                capture_output=True,
                check=True,
            )
            timed[out] = time.perf_counter() - started
        same = {
            name: (one / name).read_bytes() == (dask / name).read_bytes()
            for name in ("summary.csv", "timeline.csv")
        }
        try:
            pd.testing.assert_frame_equal(read_trials(dask), read_trials(one), check_exact=True)
            same["trials"] = True
        except AssertionError:
            same["trials"] = False
    return ScaleCheck(
        trials, seconds, peak, compare_trials, timed[one], timed[dask], dask_workers, same
    )


def scale_rows(found: ScaleCheck) -> list[Row]:
    """Item 10 as rows of the table."""
    identical = all(found.same.values())
    differing = ", ".join(name for name, ok in found.same.items() if not ok)
    return [
        Row(
            "10 scale",
            f"peak RSS, escalation run --trials {found.trials:,} --no-trials (1 worker)",
            f"{found.peak / 1e6:,.0f} MB; {found.seconds:.0f} s",
            f"< {TARGET_STREAMED_PEAK / 1e6:.0f} MB",
            _status(found.peak < TARGET_STREAMED_PEAK, f"{found.peak / 1e6:,.0f} MB"),
        ),
        Row(
            "10 scale",
            f"--trials {found.compare_trials:,}: --scheduler local --workers "
            f"{found.dask_workers} against --workers 1 (summary.csv, timeline.csv, trials)",
            f"{'identical' if identical else 'differ: ' + differing}; "
            f"{found.dask_seconds:.0f} s against {found.one_seconds:.0f} s",
            "identical",
            _status(identical, differing),
        ),
    ]


#: How item 10 is measured, for BENCHMARKS.md.
SCALE_TEXT = (
    "10. **Scale** (`python benchmarks/run.py --scale`, not part of the full run: it takes "
    "several minutes): `python -m escalation run ... --trials 10000000 --no-trials` with one "
    "worker in a fresh process; the peak is the child's `ru_maxrss` from `os.wait4`, as for "
    "item 4. The run keeps no table: each block's result is folded into exact counts and "
    "dropped, and the drivers read a sample of the first blocks (at least 65,536 trials), so "
    "memory does not grow with the trials. Then `escalation run --trials 1000000` on one "
    "worker (the table in memory, trials.parquet) against the same command with "
    "`--scheduler local --workers 2` (a Dask LocalCluster; the run streams and writes its "
    "trials as the dataset trials/): summary.csv and timeline.csv compared byte for byte, "
    "the trials table against the dataset read back, value for value. The two times include "
    "starting the interpreter and, for Dask, the cluster."
)


def measure(
    settings: Settings,
    scenario_path: Path,
    log=print,
    casebook: Path | None = None,
    two_sided_path: Path | None = None,
) -> Results:
    """Run every benchmark; ``log`` reports progress.

    The backtest only with a ``casebook``, item 11 only with a ``two_sided_path``.
    """
    scenario = as_scenario(scenario_path)
    plan = Plan.from_scenario(scenario)
    results = Results(settings, str(scenario_path), scenario.horizon)
    if 2 in settings.workers:
        log("pool start-up ...")
        results.pool_start = pool_start(scenario)
    log("throughput ...")
    results.throughput = throughput(
        scenario, settings.trials, settings.workers, settings.repeats, settings.seed
    )
    log(f"per-trial baseline: {settings.baseline_trials} trials through mesa.batch_run ...")
    results.baseline_seconds, codes = run_baseline(scenario_path, settings.baseline_trials)
    results.baseline_shares = outcome_shares(plan, codes)
    results.engine_shares = engine_shares(scenario, settings.check_trials, settings.seed)
    log("random-number floor ...")
    results.floor_seconds = rng_floor(plan, settings.floor_days)
    results.uniforms_per_trial_day = uniforms_per_trial_day(plan)
    results.world_seconds = world_time(plan)
    log("memory (each run in its own process) ...")
    results.memory = memory(
        scenario_path, settings.memory_trials, settings.memory_workers, settings.seed
    )
    results.row_bytes = row_bytes(scenario, settings.check_trials)
    log("horizon scaling ...")
    results.horizon_times = horizon_scaling(
        scenario, settings.horizon_trials, settings.horizons, settings.repeats, settings.seed
    )
    log("profile ...")
    results.profile, results.compiles_during_play = profile_block(
        scenario, settings.profile_trials, settings.seed
    )
    results.calls_per_day = calls_per_day(scenario, settings.calls_sizes)
    log("start-up (fresh processes) ...")
    results.startup = startup_times(scenario_path, settings.startup_repeats)
    if casebook is not None:
        log(f"backtest of {casebook} (default trials, one worker) ...")
        results.backtest = backtest_time(casebook)
    log("explore replays ...")
    results.explore = explore_time(scenario_path, settings.explore_trials, settings.repeats)
    if two_sided_path is not None:
        log(f"two-sided scenario {two_sided_path.name} ...")
        results.two_sided = two_sided(
            two_sided_path,
            settings.baseline_at,
            settings.repeats,
            settings.seed,
            settings.floor_days,
        )
    return results


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    item: str
    figure: str
    value: str
    target: str = ""
    status: str = ""


def _rate(trial_days: float, seconds: float) -> str:
    return f"{trial_days / seconds / 1e6:,.2f} M/s ({seconds / trial_days * 1e9:,.0f} ns)"


def _status(ok: bool, gap: str) -> str:
    return "met" if ok else f"GAP: {gap}"


def rows(results: Results) -> list[Row]:
    """The table's rows, with each target and whether it is met."""
    s = results.settings
    h = results.horizon
    out: list[Row] = []
    t = results.throughput
    for w in s.workers:
        for n in s.trials:
            if (n, w) in t:
                out.append(
                    Row(
                        "1 throughput",
                        f"{n:,} trials, {w} worker{'s' if w > 1 else ''}",
                        _rate(n * h, t[(n, w)]) + f"; {t[(n, w)]:.2f} s",
                        "trial-days/s (time per trial-day)",
                    )
                )
    one = [n for n, w in t if w == 1]
    if one:
        n = s.baseline_at if s.baseline_at in one else max(one)
        rate = n * h / t[(n, 1)]
        out.append(
            Row(
                "1 throughput",
                f"{n:,} trials, 1 worker, against the target",
                f"{rate / 1e6:.2f} M trial-days/s",
                f">= {TARGET_RATE / 1e6:.1f} M/s",
                _status(rate >= TARGET_RATE, f"{rate / 1e6:.2f} M/s"),
            )
        )
    if not math.isnan(results.pool_start[0]):
        first, later = results.pool_start
        out.append(
            Row(
                "1 throughput",
                "2-worker pool start-up",
                f"{first:.2f} s first, {later:.2f} s later",
            )
        )
    at = s.baseline_at if (s.baseline_at, 1) in t else max(n for n, w in t if w == 1)
    engine_trial = t[(at, 1)] / at
    ratio = results.baseline_seconds / engine_trial
    out.append(
        Row(
            "2 baseline",
            f"mesa.batch_run, 1 trial per model ({s.baseline_trials:,} trials)",
            f"{results.baseline_seconds * 1e3:.2f} ms per trial",
        )
    )
    out.append(
        Row(
            "2 baseline",
            f"engine, {at:,} trials, 1 worker",
            f"{engine_trial * 1e6:.1f} us per trial",
        )
    )
    out.append(
        Row(
            "2 baseline",
            "engine speed-up per trial",
            f"{ratio:,.0f}x",
            f">= {TARGET_BASELINE:.0f}x",
            _status(ratio >= TARGET_BASELINE, f"{ratio / TARGET_BASELINE:.2f} of target"),
        )
    )
    draws = results.floor_seconds * h
    rest = engine_trial - results.world_seconds - draws
    out.append(
        Row(
            "2 baseline",
            "engine per trial: world draw + random draws (floor) + the rest",
            f"{results.world_seconds * 1e6:.1f} + {draws * 1e6:.1f} + {rest * 1e6:.1f} us",
        )
    )
    ceiling = results.baseline_seconds / (results.world_seconds + draws)
    out.append(
        Row(
            "2 baseline",
            "speed-up if all but the world and random draws were free",
            f"{ceiling:,.0f}x",
        )
    )
    gap = max(
        abs(results.baseline_shares[k] - results.engine_shares[k]) for k in results.engine_shares
    )
    out.append(
        Row(
            "2 baseline",
            "largest outcome-share gap, baseline vs engine",
            f"{gap:.3f} (Monte Carlo noise of {s.baseline_trials:,} trials)",
        )
    )
    per_day = t[(at, 1)] / (at * h)
    floor_ratio = per_day / results.floor_seconds
    out.append(
        Row(
            "3 floor",
            f"drawing {results.uniforms_per_trial_day:.1f} uniforms per trial-day (PCG64, "
            f"block {BLOCK_SIZE:,})",
            f"{results.floor_seconds * 1e9:.1f} ns per trial-day",
        )
    )
    out.append(
        Row(
            "3 floor",
            f"engine / floor ({at:,} trials, 1 worker)",
            f"{per_day * 1e9:.1f} ns / {results.floor_seconds * 1e9:.1f} ns = {floor_ratio:.1f}x",
            f"<= {TARGET_FLOOR:.0f}x",
            _status(floor_ratio <= TARGET_FLOOR, f"{floor_ratio:.1f}x"),
        )
    )
    single = [(n, sec, b) for n, w, sec, b in results.memory if w == 1]
    for n, w, sec, b in results.memory:
        target, status = "", ""
        if n == max(m[0] for m in single) and w == 1:
            target = f"< {TARGET_PEAK / 1e9:.1f} GB at 10^6"
            status = _status(b < TARGET_PEAK, f"{b / 1e9:.2f} GB")
        out.append(
            Row(
                "4 memory",
                f"peak RSS, escalation run --trials {n:,}" + (f" --workers {w}" if w > 1 else ""),
                f"{b / 1e6:,.0f} MB (run took {sec:.1f} s)",
                target,
                status,
            )
        )
    if len(single) >= 3:
        n = np.array([m[0] for m in single], dtype=float)
        b = np.array([m[2] for m in single], dtype=float)
        slope, intercept = np.polyfit(n, b, 1)
        # The smallest run is the fixed cost (interpreter, libraries); the rest grows.
        growth = exponent(list(n[1:] - n[0]), list(np.maximum(b[1:] - b[0], 1.0)))
        out.append(
            Row(
                "4 memory",
                "least-squares fit: peak = fixed + per trial",
                f"{intercept / 1e6:,.0f} MB + {slope:,.0f} B per trial",
            )
        )
        out.append(
            Row(
                "4 memory",
                "growth: exponent of peak above the smallest run; per trial / table row",
                f"exponent {growth:.2f}; {slope:,.0f} B / {results.row_bytes:,.0f} B = "
                f"{slope / results.row_bytes:.1f} rows",
                "linear in the rows (exponent <= 1.1)",
                _status(growth <= EXPONENT_BAND[1], f"exponent {growth:.2f}"),
            )
        )
    singles = sorted((n, sec) for (n, w), sec in t.items() if w == 1 and n >= 10**4)
    if len(singles) >= 2:
        e = exponent([n for n, _ in singles], [sec for _, sec in singles])
        out.append(
            Row(
                "5 scaling",
                f"exponent of time vs trials ({singles[0][0]:,}-{singles[-1][0]:,}, 1 worker)",
                f"{e:.2f}",
                "near 1",
                _status(EXPONENT_BAND[0] <= e <= EXPONENT_BAND[1], f"{e:.2f}"),
            )
        )
    if len(results.horizon_times) >= 2:
        days = [x for x, _ in results.horizon_times]
        seconds = [y for _, y in results.horizon_times]
        e = exponent(days, seconds)
        per_day, fixed = np.polyfit(days, seconds, 1)
        trials = s.horizon_trials
        out.append(
            Row(
                "5 scaling",
                f"exponent of time vs horizon ({days[0]}-{days[-1]} days, {trials:,} trials)",
                f"{e:.2f}; fit {fixed / trials * 1e6:.1f} us per trial + "
                f"{per_day / trials * 1e9:.0f} ns per trial-day",
                "near 1, not above",
                _status(e <= EXPONENT_BAND[1], f"{e:.2f}"),
            )
        )
    top = max(n for n, _ in t)
    if (top, 1) in t and (top, 2) in t:
        speedup = t[(top, 1)] / t[(top, 2)]
        out.append(
            Row(
                "5 scaling",
                f"speed-up of 2 workers over 1 at {top:,} trials",
                f"{speedup:.2f}x",
                f">= {TARGET_SPEEDUP}x",
                _status(speedup >= TARGET_SPEEDUP, f"{speedup:.2f}x"),
            )
        )
    if results.calls_per_day:
        counts = ", ".join(f"{c:,.0f} at {n:,} trials" for n, c in results.calls_per_day.items())
        same = max(results.calls_per_day.values()) <= 1.5 * min(results.calls_per_day.values())
        out.append(
            Row(
                "6 profile",
                "Python calls per day",
                counts,
                "independent of trials",
                _status(same, "grows with trials"),
            )
        )
        out.append(
            Row(
                "6 profile",
                "expressions compiled while a block plays",
                str(results.compiles_during_play),
                "0",
                _status(results.compiles_during_play == 0, "conditions parsed per step"),
            )
        )
    out += startup_rows(results)
    out += backtest_rows(results)
    out += explore_rows(results)
    if results.scale is not None:
        out += scale_rows(results.scale)
    out += two_sided_rows(results)
    return out


def startup_rows(results: Results) -> list[Row]:
    """Item 7: each start-up command's best and median wall time against the target."""
    repeats = results.settings.startup_repeats
    return [
        Row(
            "7 start-up",
            f"{label}, fresh process (best of {repeats}; median)",
            f"{best:.2f} s; {median:.2f} s",
            f"< {TARGET_STARTUP} s",
            _status(median < TARGET_STARTUP, f"median {median:.2f} s"),
        )
        for label, (best, median) in results.startup.items()
    ]


def backtest_rows(results: Results) -> list[Row]:
    """Item 8: the whole casebook's backtest on one worker against the target."""
    found = results.backtest
    if found is None:
        return []
    path = Path(found.casebook).resolve()
    folder = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    if found.cases == 0:
        return [Row("8 backtest", f"{folder}/ at default trials, 1 worker", "no case to play")]
    return [
        Row(
            "8 backtest",
            f"{folder}/: {found.cases} cases, {found.trials:,} trials in all, 1 worker",
            f"{found.seconds:.1f} s",
            f"< {TARGET_BACKTEST:.0f} s",
            _status(found.seconds < TARGET_BACKTEST, f"{found.seconds:.0f} s"),
        )
    ]


def explore_rows(results: Results) -> list[Row]:
    """Item 9: a replay of the explore page against "about a second"."""
    found = results.explore
    if found is None:
        return []
    parts = found.parts
    detail = (
        f"{found.replay:.2f} s (play {parts.get('play', math.nan):.2f} s, paired table "
        f"{parts.get('table', math.nan):.2f} s, figures {parts.get('figures', math.nan):.2f} s)"
    )
    return [
        Row(
            "9 explore",
            f"settings written and validated (build), {Path(results.scenario).name}",
            f"{found.build:.3f} s",
        ),
        Row(
            "9 explore",
            f"replay of {found.trials:,} trials after a change, 1 core",
            detail,
            f"about {TARGET_EXPLORE:.0f} s (<= {1.2 * TARGET_EXPLORE:.1f} s)",
            _status(found.replay <= 1.2 * TARGET_EXPLORE, f"{found.replay:.1f} s"),
        ),
    ]


def two_sided_rows(results: Results) -> list[Row]:
    """Item 11: the two-sided scenario's throughput and distance from its floor."""
    found = results.two_sided
    if found is None:
        return []
    per_day = found.seconds / (found.trials * found.horizon)
    ratio = per_day / found.floor_seconds
    return [
        Row(
            "11 two-sided",
            f"{found.scenario}, {found.trials:,} trials, 1 worker",
            _rate(found.trials * found.horizon, found.seconds) + f"; {found.seconds:.2f} s",
            "trial-days/s (time per trial-day)",
        ),
        Row(
            "11 two-sided",
            f"engine / floor ({found.scenario})",
            f"{per_day * 1e9:.1f} ns / {found.floor_seconds * 1e9:.1f} ns = {ratio:.1f}x",
            f"<= {TARGET_FLOOR:.0f}x",
            _status(ratio <= TARGET_FLOOR, f"{ratio:.1f}x"),
        ),
    ]


def text_table(table: list[Row]) -> str:
    """The rows as aligned plain text."""
    header = Row("item", "figure", "value", "target", "status")
    cells = [header, *table]
    widths = [max(len(getattr(r, f)) for r in cells) for f in ("item", "figure", "value", "target")]
    lines = []
    for r in cells:
        parts = [
            getattr(r, f).ljust(wd)
            for f, wd in zip(("item", "figure", "value", "target"), widths, strict=True)
        ]
        lines.append("  ".join([*parts, r.status]).rstrip())
        if r is header:
            lines.append("-" * len(lines[0]))
    return "\n".join(lines)


def markdown_table(table: list[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| item | figure | value | target | status |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.item} | {r.figure} | {r.value} | {r.target} | {r.status} |" for r in table]
    return "\n".join(lines)


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_total = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory_total = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "logical cores": str(os.cpu_count()),
        "memory": memory_total,
        "system": platform.platform(),
        "commit": commit,
    }


def notes(results: Results) -> list[str]:
    """What the figures mean for the targets, in words, from the measured numbers."""
    s, t, h = results.settings, results.throughput, results.horizon
    found = []
    at = s.baseline_at if (s.baseline_at, 1) in t else max(n for n, w in t if w == 1)
    engine_trial = t[(at, 1)] / at
    draws = results.floor_seconds * h
    world = results.world_seconds
    ceiling = results.baseline_seconds / (world + draws)
    found.append(
        f"- **Baseline.** The engine plays a trial in {engine_trial * 1e6:.1f} us: "
        f"{world * 1e6:.1f} us draw the trial's world (mostly the beta quantiles, scipy's "
        f"`betaincinv`, for which no faster method gives the same digits) and "
        f"{draws * 1e6:.1f} us are the random draws themselves. Were everything else free, "
        f"the speed-up would be {ceiling:,.0f}x. The baseline runs the same model class, so "
        "what made a day of the engine cheaper (cached expressions, work on the trials "
        "concerned only, tables made once per block) made each one-trial model cheaper too; "
        "what remains of it is Mesa's and Python's cost per model and per day."
    )
    if len(results.horizon_times) >= 2:
        days = [x for x, _ in results.horizon_times]
        seconds = [y for _, y in results.horizon_times]
        per_day, fixed = np.polyfit(days, seconds, 1)
        n = s.horizon_trials
        found.append(
            f"- **Horizon.** Time grows less than linearly with the horizon because each "
            f"trial's world is drawn once whatever the horizon (the fit's "
            f"{fixed / n * 1e6:.1f} us per trial) and trials that have ended cost less on "
            f"later days; the linear part is {per_day / n * 1e9:.0f} ns per trial-day."
        )
    single = [(n, b) for n, w, _, b in results.memory if w == 1]
    if len(single) >= 3:
        slope, intercept = np.polyfit([n for n, _ in single], [b for _, b in single], 1)
        found.append(
            f"- **Memory.** About {intercept / 1e6:,.0f} MB of interpreter and libraries, plus "
            f"{slope:,.0f} B per trial: one copy of the trials table "
            f"({results.row_bytes:,.0f} B per trial; blocks are copied into whole columns as "
            "they arrive and the table takes those columns without copying) and, at the "
            "peak, the report's drivers analysis, which holds the varying parameters and their "
            "ranks as two trials x parameters matrices."
        )
    pools = {w: b for n, w, _, b in results.memory if n == max(m[0] for m in results.memory)}
    if 1 in pools and 2 in pools and not math.isnan(results.pool_start[0]):
        found.append(
            f"- **Two workers.** The fork server starts once per process "
            f"({results.pool_start[0]:.1f} s, importing the engine; later pools "
            f"{results.pool_start[1]:.2f} s). Each block's result is copied into the columns "
            f"as it arrives and then dropped, so the parent's peak with two workers "
            f"({pools[2] / 1e6:,.0f} MB) stays that of one ({pools[1] / 1e6:,.0f} MB)."
        )
    if (10**3, 2) in t:
        found.append(
            f"- With {BLOCK_SIZE:,} trials per block, runs of one block (10^3 trials) play in "
            "this process whatever the number of workers."
        )
    return found


def markdown(results: Results, table: list[Row], quick: bool, seconds: float) -> str:
    """BENCHMARKS.md: machine, versions, commands, the table, the profile, how it is measured."""
    s = results.settings
    info = machine()
    found = versions()
    mode = "quick (`--quick`)" if quick else "full"
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    scenario = os.path.relpath(results.scenario, ROOT)
    parts = [
        "# Benchmarks",
        "",
        f"Measured {when}, {mode} run of `benchmarks/run.py` on `{scenario}` "
        f"(horizon {results.horizon} days), which took {seconds / 60:.1f} minutes.",
        "",
        "## Machine and versions",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "- " + ", ".join(f"{name} {version}" for name, version in found.items()),
        "",
        "## Reproduce",
        "",
        "```",
        "python benchmarks/run.py --with-scale  # the full run with item 10; writes this file",
        "python benchmarks/run.py               # the full run without item 10",
        "python benchmarks/run.py --quick       # a few minutes; prints the same figures",
        "```",
        "",
        "Times are wall-clock, best of "
        f"{s.repeats} repeat{'s' if s.repeats > 1 else ''}; the machine may be shared, so "
        "compare figures from one run with each other rather than across runs.",
        "",
        "## Results",
        "",
        markdown_table(table),
        "",
        "## Notes on the targets",
        "",
        *notes(results),
        "",
        "## How each figure is measured",
        "",
        "1. **Throughput**: `play_blocks` on the scenario's trials in blocks of "
        f"{BLOCK_SIZE:,}, without building the table or writing files; trial-days are "
        "trials x horizon. Two workers use the fork-server pool of `escalation run "
        "--workers 2`, whose start-up is included.",
        "2. **Baseline**: `mesa.batch_run` over `benchmarks/baseline.py:SingleTrialCrisis`, "
        "the engine's own `CrisisModel` with one trial per model, a `DataCollector` that "
        "collects the outcome each step and `running` set false once the trial has ended. "
        f"It is measured on {s.baseline_trials:,} trials and reported per trial; the engine "
        f"per trial is its time for {s.baseline_at:,} trials with one worker. Both run in one "
        "process on one core; the scenario is compiled once for both.",
        "3. **Floor**: the uniforms one trial-day consumes (the day's rows of draws plus the "
        "trial's share of its world, drawn once per trial), drawn with numpy's PCG64 (the "
        f"generator of `mesa.Model.rng`) into a preallocated block of {BLOCK_SIZE:,} trials.",
        "4. **Memory**: `python -m escalation run ... --trials N` in a fresh process each, every "
        "output file written (trials.parquet, timeline, summary, report); the peak is the "
        "child's `ru_maxrss` from `os.wait4`. The fit is least squares of peak against "
        "trials; its exponent is that of the part above the fixed cost. One row of the trials "
        "table is its in-memory size per trial.",
        "5. **Scaling**: least-squares slopes of log time against log trials (from the "
        "throughput runs, 10^4 and up) and against log horizon.",
        "6. **Profile**: cProfile of one block (below), Python calls per simulated day at two "
        "block sizes, and the scenario compilations while a block plays. `step`'s own time is "
        "mostly the day's random draws, drawn into a buffer allocated once per block (as are "
        "the per-trial tables of rung terms and threat weights and the daily counts); what a "
        "day still allocates is a few masks over the block and arrays over the trials "
        "concerned.",
        "8. **Backtest**: `run_backtest` on the casebook folder (every scenario with a `case:` "
        "block, each at its own default trials and seed) with one worker, then its three files "
        "written to a temporary folder: what `escalation backtest scenarios` does. One run "
        "(not best of the repeats); it measures whatever cases the folder holds when it runs.",
        "9. **Explore**: what the page does after a change, in this process: the settings "
        "written into a scenario and validated, the trials played with the scenario's seed, "
        "the paired table against the scenario as written (already played), and the figures.",
        SCALE_TEXT
        + ("" if results.scale is not None else " Not measured in this run (`--with-scale`)."),
        "11. **Two-sided**: the throughput of item 1 and the floor of item 3 for a scenario in "
        "which two actors decide (`--two-sided`, default kargil1999), at the baseline's trials "
        "on one worker.",
        "",
        "## Profile of one block",
        "",
        "```",
        results.profile,
        "```",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write the Markdown file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat")
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="Markdown file to write (default: BENCHMARKS.md for a full run, none for --quick)",
    )
    parser.add_argument(
        "--startup",
        action="store_true",
        help="measure only item 7, the start-up of --help and validate, and write nothing",
    )
    parser.add_argument("--casebook", type=Path, default=DEFAULT_CASEBOOK)
    parser.add_argument(
        "--with-scale",
        action="store_true",
        help="a full run that also measures item 10 (several more minutes)",
    )
    parser.add_argument(
        "--two-sided",
        type=Path,
        default=DEFAULT_TWO_SIDED,
        help="two-sided scenario of item 11 (default: scenarios/kargil1999.yaml)",
    )
    parser.add_argument(
        "--backtest",
        action="store_true",
        help="measure only item 8, the backtest of --casebook, and write nothing",
    )
    parser.add_argument(
        "--explore",
        action="store_true",
        help="measure only item 9, a replay of the explore page, and write nothing",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help=f"measure only item 10, runs of {SCALE_TRIALS:,} and {SCALE_COMPARE:,} trials "
        "(--no-trials memory; Dask against one worker), print it with its description for "
        "BENCHMARKS.md, and write nothing",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    if args.explore:
        only = Results(settings, str(args.scenario), 0)
        only.explore = explore_time(args.scenario, settings.explore_trials, settings.repeats)
        print(text_table(explore_rows(only)))
        return 0
    if args.scale:
        found = scale_check(args.scenario)
        print(text_table(scale_rows(found)))
        print()
        print(markdown_table(scale_rows(found)))
        print()
        print(SCALE_TEXT)
        return 0
    if args.startup:
        only = Results(settings, str(args.scenario), 0)
        only.startup = startup_times(args.scenario, settings.startup_repeats)
        print(text_table(startup_rows(only)))
        return 0
    if args.backtest:
        only = Results(settings, str(args.scenario), 0)
        only.backtest = backtest_time(args.casebook)
        print(text_table(backtest_rows(only)) or "no case")
        if only.backtest.note:
            print(only.backtest.note)
        return 0
    out = args.out if args.out is not None else (None if args.quick else ROOT / "BENCHMARKS.md")
    started = time.perf_counter()
    results = measure(
        settings,
        args.scenario,
        log=lambda m: print(m, file=sys.stderr),
        casebook=args.casebook,
        two_sided_path=args.two_sided,
    )
    if args.with_scale:
        print("scale: a streamed run and a Dask run ...", file=sys.stderr)
        results.scale = scale_check(args.scenario)
    seconds = time.perf_counter() - started
    table = rows(results)
    print(text_table(table))
    print()
    print("\n".join(notes(results)))
    print()
    print(results.profile)
    if out is not None:
        out.write_text(markdown(results, table, args.quick, seconds))
        print(f"\nwritten to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
