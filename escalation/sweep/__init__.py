"""Experiments over scenarios: parameter sweeps, sensitivity analysis, comparisons.

An experiment file names a scenario, the fields to vary (by dotted path), a design (grid,
one-at-a-time, Latin hypercube, Sobol, Morris), trials per point and metrics. Every point is
played with the same seed (common random numbers), on this machine or a Dask cluster, and each
finished point is stored at once so that an interrupted sweep can be resumed.

Modules: :mod:`~escalation.sweep.experiment` (the file format), :mod:`~.variables` (dotted
paths), :mod:`~.designs`, :mod:`~.metrics`, :mod:`~.evaluate` (one point), :mod:`~.executors`,
:mod:`~.store`, :mod:`~.runner` (a whole sweep), :mod:`~.analysis` (Sobol and Morris indices),
:mod:`~.report` and :mod:`~.compare` (several scenarios side by side).
"""

from escalation.sweep.compare import CompareResult, compare_scenarios
from escalation.sweep.designs import Design, Factor, make_design
from escalation.sweep.evaluate import ScenarioEvaluator
from escalation.sweep.executors import (
    DaskExecutor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from escalation.sweep.experiment import Experiment, LoadedExperiment, load_experiment
from escalation.sweep.runner import SweepError, SweepResult, run_design, run_sweep

__all__ = [
    "CompareResult",
    "DaskExecutor",
    "Design",
    "ExecutorError",
    "Experiment",
    "Factor",
    "LoadedExperiment",
    "ProcessExecutor",
    "ScenarioEvaluator",
    "SerialExecutor",
    "SweepError",
    "SweepResult",
    "compare_scenarios",
    "load_experiment",
    "make_design",
    "make_executor",
    "run_design",
    "run_sweep",
]
