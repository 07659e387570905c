"""The Python API for notebooks and scripts; the command line is a thin layer over it.

>>> import escalation
>>> result = escalation.run("scenarios/dec2021.yaml", trials=5000, seed=1)  # doctest: +SKIP
>>> result.summary                                                            # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from escalation.engine.blocks import BLOCK_SIZE, block_specs, play_blocks
from escalation.engine.memory import check_memory
from escalation.engine.results import RunResult, assemble
from escalation.model.plan import Plan
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.load import load_scenario, locate, scenario_hash
from escalation.scenario.schema import MAX_HORIZON, MAX_TRIALS, Scenario
from escalation.scenario.yamlio import read_yaml

#: Packages whose versions a run records, so that a result can be reproduced.
RECORDED_PACKAGES = (
    "escalation",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "plotly",
    "pydantic",
)


def is_experiment(path: str | Path) -> bool:
    """Whether a YAML file is an experiment (it names a scenario and what to vary).

    Raises :class:`~escalation.scenario.yamlio.InputError` if the file cannot be read as YAML.
    """
    data, _ = read_yaml(path)
    return (
        isinstance(data, dict) and "scenario" in data and ("variables" in data or "design" in data)
    )


def as_scenario(source: str | Path | Scenario) -> Scenario:
    """A scenario from a path or an already loaded scenario."""
    return source if isinstance(source, Scenario) else load_scenario(source)


def with_overrides(
    scenario: Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
) -> Scenario:
    """The scenario with its default trials, seed or horizon replaced, re-validated."""
    changes = {
        key: value
        for key, value in (("trials", trials), ("seed", seed), ("horizon", horizon))
        if value is not None
    }
    if not changes:
        return scenario
    if "trials" in changes and not 1 <= changes["trials"] <= MAX_TRIALS:
        raise ValueError(f"trials must be between 1 and {MAX_TRIALS:,}")
    if "horizon" in changes and not 1 <= changes["horizon"] <= MAX_HORIZON:
        raise ValueError(f"horizon must be between 1 and {MAX_HORIZON} days")
    if "seed" in changes and not 0 <= changes["seed"] < 2**63:
        raise ValueError("seed must be between 0 and 2**63 - 1")
    return Scenario.model_validate({**scenario.model_dump(), **changes}).from_file(
        scenario.source_file
    )


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on."""
    found = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def run(
    source: str | Path | Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_block: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Play a scenario's Monte Carlo trials and return the result.

    Args:
        source: a scenario file or a loaded :class:`~escalation.scenario.schema.Scenario`.
        trials, seed, horizon: replace the scenario's defaults.
        workers: processes to play blocks in; the numbers do not depend on it.
        on_block: called as ``on_block(trials_done, trials_total)`` after each block.
    """
    started = time.perf_counter()
    scenario = with_overrides(as_scenario(source), trials, seed, horizon)
    check_memory(scenario)  # before the trials' columns are allocated
    plan = Plan.from_scenario(scenario)
    specs = block_specs(scenario.trials, scenario.seed)
    done = 0

    def progress(spec) -> None:
        nonlocal done
        done += spec.size
        if on_block is not None:
            on_block(done, scenario.trials)

    played = time.perf_counter()
    try:
        blocks = play_blocks(scenario, specs, workers=workers, on_block=progress)
    except ScenarioValueError as error:
        raise locate(error, scenario.source_file) from None
    assembled = time.perf_counter()
    trials_df, timeline = assemble(plan, blocks)
    finished = time.perf_counter()
    info = {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "source": str(source) if not isinstance(source, Scenario) else None,
        "seed": scenario.seed,
        "trials": scenario.trials,
        "horizon": scenario.horizon,
        "block_size": BLOCK_SIZE,
        "blocks": len(specs),
        "workers": workers,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "timings_seconds": {
            "prepare": round(played - started, 4),
            "play": round(assembled - played, 4),
            "assemble": round(finished - assembled, 4),
        },
        "trial_days_per_second": round(
            scenario.trials * scenario.horizon / max(assembled - played, 1e-9)
        ),
    }
    return RunResult(
        scenario=scenario,
        trials=trials_df,
        timeline=timeline,
        parameters=plan.parameter_columns(),
        info=info,
    )


def sweep(
    experiment: str | Path,
    trials: int | None = None,
    out: str | Path | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    resume: bool = False,
    on_point: Callable[[int, int], None] | None = None,
    seed: int | None = None,
    horizon: int | None = None,
):
    """Run an experiment file: every point of its design, each with the same seed.

    Args:
        experiment: an experiment YAML file (see :mod:`escalation.sweep.experiment`).
        trials: replaces the experiment's trials per point.
        seed: replaces the experiment's seed (by default the scenario's).
        horizon: replaces the scenario's horizon at every point.
        out: results folder. Finished points are kept in ``<out>.partial/`` as they finish;
            ``points.parquet``, ``run.json`` and ``report.html`` appear in ``out`` only when
            every point is done. Without it nothing is written (and nothing can be resumed).
        workers: local worker processes (or the workers of a ``scheduler="local"`` cluster).
        scheduler: None (local processes), ``"local"`` (a Dask LocalCluster) or the address
            of a Dask scheduler such as ``"tcp://host:8786"``. The numbers do not depend on it.
        resume: finish the interrupted sweep in ``out``, playing only the missing points.
        on_point: called as ``on_point(points_done, points_total)`` as points finish.

    Returns:
        a :class:`~escalation.sweep.runner.SweepResult`.
    """
    from escalation.scenario.yamlio import InputError
    from escalation.sweep.executors import make_executor
    from escalation.sweep.experiment import load_experiment
    from escalation.sweep.runner import run_sweep

    loaded = load_experiment(experiment, trials=trials, seed=seed, horizon=horizon)
    try:
        executor = make_executor(workers, scheduler)
    except ValueError as error:
        raise InputError(str(experiment), None, "--scheduler", str(error)) from None
    return run_sweep(loaded, out=out, executor=executor, resume=resume, on_point=on_point)


def compare(
    sources: Sequence[str | Path | Scenario],
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    on_scenario: Callable[[int, int, str], None] | None = None,
):
    """Play several scenarios with the same seed and trials and set their outcomes side by side.

    ``trials`` and ``seed`` default to the first scenario's; with ``out`` the folder gets
    ``compare.csv``, ``run.json`` and ``report.html`` (written atomically). Returns a
    :class:`~escalation.sweep.compare.CompareResult`.
    """
    from escalation.sweep.compare import compare_scenarios

    result = compare_scenarios(
        sources, trials=trials, seed=seed, horizon=horizon, workers=workers, on_scenario=on_scenario
    )
    if out is not None:
        result.write(out)
    return result
