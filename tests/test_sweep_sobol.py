"""Sobol verification: the Ishigami function through the sweep's own design, executor, analysis.

Ishigami, f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3 with a = 7, b = 0.1, has
known indices (Ishigami and Homma 1990; e.g. Saltelli et al. 2008, Global Sensitivity Analysis):
S1 = (0.3139, 0.4424, 0) and ST = (0.5576, 0.4424, 0.2437).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from escalation.engine.executors import SerialExecutor
from escalation.sweeps.analysis import sobol_indices
from escalation.sweeps.designs import Factor, make_design
from escalation.sweeps.runner import run_design

A, B = 7.0, 0.1
S1 = np.array([0.3139, 0.4424, 0.0])
ST = np.array([0.5576, 0.4424, 0.2437])
#: Six indices are checked at once, so each interval is at the Bonferroni level 1 - 0.05 / 6:
#: with a correct implementation all six cover the truth with probability at least 95%.
LEVEL = 1 - 0.05 / 6


def ishigami(point: Mapping[str, float]) -> dict[str, float]:
    """The Ishigami function as a sweep evaluator."""
    x1, x2, x3 = point["x1"], point["x2"], point["x3"]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)}


def test_ishigami_indices_match_the_analytic_values() -> None:
    factors = [Factor(f"x{i}", range=(-math.pi, math.pi)) for i in (1, 2, 3)]
    design = make_design("sobol", factors, samples=2**12, seed=20211207)
    frame = run_design(design, ishigami, SerialExecutor())
    assert len(frame) == 2**12 * 5
    table, notes = sobol_indices(design, frame, ["y"], seed=1, level=LEVEL)
    assert notes == []
    s1, s1_conf = table["S1"].to_numpy(), table["S1_conf"].to_numpy()
    st, st_conf = table["ST"].to_numpy(), table["ST_conf"].to_numpy()
    assert np.all(np.abs(s1 - S1) <= s1_conf), (s1, s1_conf)
    assert np.all(np.abs(st - ST) <= st_conf), (st, st_conf)
    # The intervals are informative, not trivially wide: each well under the gaps between
    # the indices it is meant to tell apart.
    assert np.all(s1_conf < 0.1) and np.all(st_conf < 0.1)
