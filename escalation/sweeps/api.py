"""The sweep of the Python API: an experiment file played point by point.

``escalation.sweep(...)`` and :func:`escalation.api.sweep` call :func:`sweep`; it lives in this
package so that the API imports the sweep package and never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from escalation.engine.executors import make_executor
from escalation.scenario.yamlio import InputError
from escalation.sweeps.experiment import load_experiment
from escalation.sweeps.runner import SweepResult, run_sweep


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

    Args:
        experiment: an experiment YAML file (see :mod:`escalation.sweeps.experiment`).
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
        a :class:`~escalation.sweeps.runner.SweepResult`.
    """
    loaded = load_experiment(experiment, trials=trials, seed=seed, horizon=horizon)
    try:
        executor = make_executor(workers, scheduler)
    except ValueError as error:
        raise InputError(str(experiment), None, "--scheduler", str(error)) from None
    return run_sweep(loaded, out=out, executor=executor, resume=resume, on_point=on_point)
