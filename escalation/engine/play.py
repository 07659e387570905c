"""Playing one scenario's trials into a :class:`~escalation.engine.results.RunResult`.

The engine's entry point below the Python API: :func:`play` loads (if needed), applies
overrides, plays the blocks and assembles the result with the record ``run.json`` keeps.
:mod:`escalation.api`, comparisons and sweeps all call it, so none of them imports another.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import time
from collections.abc import Callable
from pathlib import Path

from escalation.engine.blocks import BLOCK_SIZE, block_specs, play_blocks
from escalation.engine.memory import check_memory
from escalation.engine.results import RunResult, assemble
from escalation.model.plan import Plan
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.load import load_scenario, locate, scenario_hash
from escalation.scenario.schema import MAX_HORIZON, MAX_TRIALS, Scenario

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


def play(
    source: str | Path | Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_block: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Play a scenario's Monte Carlo trials and return the result (see :func:`escalation.run`)."""
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
