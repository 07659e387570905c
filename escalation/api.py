"""The Python API for notebooks and scripts; the command line is a thin layer over it.

>>> import escalation
>>> result = escalation.run("scenarios/dec2021.yaml", trials=5000, seed=1)  # doctest: +SKIP
>>> result.summary                                                            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from escalation.engine.play import as_scenario, play, versions, with_overrides
from escalation.engine.results import RunResult
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import read_yaml

if TYPE_CHECKING:
    from escalation.sweeps.compare import CompareResult
    from escalation.sweeps.runner import SweepResult

__all__ = [
    "as_scenario",
    "compare",
    "is_experiment",
    "run",
    "sweep",
    "versions",
    "with_overrides",
]


def is_experiment(path: str | Path) -> bool:
    """Whether a YAML file is an experiment (it names a scenario and what to vary).

    Raises :class:`~escalation.scenario.yamlio.InputError` if the file cannot be read as YAML.
    """
    data, _ = read_yaml(path)
    return (
        isinstance(data, dict) and "scenario" in data and ("variables" in data or "design" in data)
    )


def run(
    source: str | Path | Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_block: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    keep_trials: bool = True,
) -> RunResult:
    """Play a scenario's Monte Carlo trials and return the result.

    Args:
        source: a scenario file or a loaded :class:`~escalation.scenario.schema.Scenario`.
        trials, seed, horizon: replace the scenario's defaults.
        workers: processes to play blocks in; the numbers do not depend on it.
        on_block: called as ``on_block(trials_done, trials_total)`` after each block.
        scheduler: play the blocks on a Dask cluster (``"local"`` or an address such as
            ``tcp://host:8786``; needs ``escalation[dask]``); the numbers do not depend on it.
        keep_trials: False streams the run: no table of trials (``result.trials`` is None),
            its summaries counted block by block exactly, in memory that does not grow with
            ``trials``; its drivers read a sample of the trials (see ``result.sample``).
    """
    return play(
        source,
        trials,
        seed,
        horizon,
        workers,
        on_block,
        scheduler=scheduler,
        keep_trials=keep_trials,
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
) -> SweepResult:
    """Run an experiment file: every point of its design, each with the same seed.

    ``seed`` and ``horizon`` replace the experiment's seed and the scenario's horizon; ``out``
    is the results folder (finished points are kept in ``<out>.partial/`` for
    ``resume``); ``workers`` and ``scheduler`` say where points are played (local processes, or
    ``"local"`` / an address for Dask); ``on_point(done, total)`` reports progress. Returns a
    :class:`~escalation.sweeps.runner.SweepResult`; see :func:`escalation.sweeps.api.sweep`.
    """
    from escalation.sweeps.api import sweep as run_experiment

    return run_experiment(
        experiment, trials, out, workers, scheduler, resume, on_point, seed=seed, horizon=horizon
    )


def compare(
    sources: Sequence[str | Path | Scenario],
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    out: str | Path | None = None,
    on_scenario: Callable[[int, int, str], None] | None = None,
) -> CompareResult:
    """Play several scenarios with the same seed and trials and set their outcomes side by side.

    ``trials`` and ``seed`` default to the first scenario's; with ``out`` the folder gets
    ``compare.csv``, ``run.json`` and ``report.html`` (written atomically). Returns a
    :class:`~escalation.sweeps.compare.CompareResult`.
    """
    from escalation.sweeps.compare import compare_scenarios

    result = compare_scenarios(
        sources, trials=trials, seed=seed, horizon=horizon, workers=workers, on_scenario=on_scenario
    )
    if out is not None:
        result.write(out)
    return result
