"""Experiments over scenarios: parameter sweeps, sensitivity analysis, comparisons.

An experiment file names a scenario, the fields to vary (by dotted path), a design (grid,
one-at-a-time, Latin hypercube, Sobol, Morris), trials per point and metrics. Every point is
played with the same seed (common random numbers), on this machine or a Dask cluster, and each
finished point is stored at once so that an interrupted sweep can be resumed.

Modules: :mod:`~escalation.sweeps.experiment` (the file format), :mod:`~.variables` (dotted
paths), :mod:`~.designs`, :mod:`~.metrics`, :mod:`~.evaluate` (one point), :mod:`~.store`,
:mod:`~.runner` (a whole sweep, on the engine's executors), :mod:`~.analysis` (Sobol and Morris
indices), :mod:`~.report` and :mod:`~.compare` (several scenarios side by side), :mod:`~.api` (the
function behind :func:`escalation.sweep`; the package is named apart from it, so that importing
the package never rebinds the function).

The names below are imported on first use, so that loading one module of the package (an
experiment file, for ``escalation validate``) does not load the reports and their plotting.
"""

from __future__ import annotations

from escalation.lazy import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "CompareResult": "escalation.sweeps.compare",
    "compare_scenarios": "escalation.sweeps.compare",
    "Design": "escalation.sweeps.designs",
    "Factor": "escalation.sweeps.designs",
    "make_design": "escalation.sweeps.designs",
    "ScenarioEvaluator": "escalation.sweeps.evaluate",
    "Experiment": "escalation.sweeps.experiment",
    "LoadedExperiment": "escalation.sweeps.experiment",
    "load_experiment": "escalation.sweeps.experiment",
    "SweepError": "escalation.sweeps.runner",
    "SweepResult": "escalation.sweeps.runner",
    "run_design": "escalation.sweeps.runner",
    "run_sweep": "escalation.sweeps.runner",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
