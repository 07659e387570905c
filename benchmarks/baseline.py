"""The per-trial baseline: the engine's own model class playing one trial per Mesa model.

This is how a Mesa user runs Monte Carlo: a model class built from keyword parameters, one
model per trial, run by :func:`mesa.batch_run` with a ``DataCollector``. The class here only
adapts :class:`~escalation.model.crisis.CrisisModel` (``n = 1``) to that interface; the trial
itself is played by the same code as a block of the vectorized engine.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import mesa
import numpy as np

from escalation.api import as_scenario
from escalation.model.crisis import CrisisModel
from escalation.model.plan import Plan

_PLANS: dict[str, Plan] = {}


def _plan(scenario: str) -> Plan:
    """The compiled scenario, once per process: a fair baseline does not re-read YAML."""
    if scenario not in _PLANS:
        _PLANS[scenario] = Plan.from_scenario(as_scenario(scenario))
    return _PLANS[scenario]


class SingleTrialCrisis(CrisisModel):
    """One trial of a scenario as an ordinary Mesa model, for :func:`mesa.batch_run`.

    Args:
        scenario: path of the scenario file.
        seed: the trial's seed (its own stream, not a block's).
    """

    def __init__(self, scenario: str, seed: int) -> None:
        super().__init__(_plan(scenario), 1, seed)
        # batch_run reads the data collected at its last step (index steps - 1): collect
        # at the end of every step, not at the start.
        self.datacollector = mesa.DataCollector(model_reporters={"outcome": "outcome"})
        self.running = True

    @property
    def outcome(self) -> int:
        """Outcome code of the trial if it were judged now."""
        return int(self.classify()[0])

    def step(self) -> None:
        """Play a day, collect, and stop once the trial has ended or reached the horizon."""
        super().step()
        self.datacollector.collect(self)
        self.running = bool(self.live[0]) and self.day < self.plan.horizon


def run_baseline(scenario: str | Path, trials: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """Play ``trials`` single-trial models with :func:`mesa.batch_run` in this process.

    Returns the seconds per trial and each trial's outcome code.
    """
    path = str(scenario)
    _plan(path)  # compile before timing, as the vectorized engine does
    horizon = _plan(path).horizon
    # One run per parameter combination: Mesa 3.3 says so with iterations=1, Mesa 3.4+ with
    # one rng entry (None: the model seeds itself from its `seed` parameter).
    repeat = (
        {"rng": [None]}
        if "rng" in inspect.signature(mesa.batch_run).parameters
        else {"iterations": 1}
    )
    started = time.perf_counter()
    rows = mesa.batch_run(
        SingleTrialCrisis,
        parameters={"scenario": path, "seed": range(seed, seed + trials)},
        number_processes=1,
        max_steps=horizon,
        data_collection_period=-1,
        display_progress=False,
        **repeat,
    )
    elapsed = time.perf_counter() - started
    return elapsed / trials, np.array([row["outcome"] for row in rows], dtype=np.int64)
