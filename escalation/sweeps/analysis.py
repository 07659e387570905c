"""Sensitivity indices of a sweep's metrics: Sobol (S1, ST) and Morris (mu*, sigma), via SALib.

Both read the points table in design order (the order SALib's samplers produced) and return
a tidy frame with one row per metric and variable, with confidence half-widths at ``level``
(SALib's bootstrap intervals). A metric that is missing at some point (a median day where no
trial reached the rung) or constant over the design has no indices; it is left out and named
in the returned notes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from escalation.sweeps.designs import Design


def _usable(frame: pd.DataFrame, column: str) -> tuple[np.ndarray | None, str | None]:
    values = frame[column].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        return None, f"{column}: missing at some points, so no indices"
    if np.ptp(values) == 0:
        return None, f"{column}: the same at every point, so no indices"
    return values, None


def _indices(
    design: Design,
    frame: pd.DataFrame,
    columns: Sequence[str],
    analyze: Callable[[np.ndarray], Mapping[str, Sequence[float]]],
    keys: tuple[str, ...],
) -> tuple[pd.DataFrame, list[str]]:
    """Run a SALib analysis on each usable metric column; one row per metric and variable."""
    rows, notes = [], []
    ordered = frame.sort_values("point")
    for column in columns:
        y, note = _usable(ordered, column)
        if y is None:
            notes.append(note)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            found = analyze(y)
        for i, name in enumerate(design.names):
            row = {"metric": column, "variable": name}
            row.update({key: float(found[key][i]) for key in keys})
            rows.append(row)
    return pd.DataFrame(rows, columns=["metric", "variable", *keys]), notes


def sobol_indices(
    design: Design,
    frame: pd.DataFrame,
    columns: Sequence[str],
    seed: int = 0,
    level: float = 0.95,
) -> tuple[pd.DataFrame, list[str]]:
    """First-order and total Sobol indices of each metric column, with confidence half-widths.

    Returns a frame with columns ``metric, variable, S1, S1_conf, ST, ST_conf`` and notes.
    """
    from SALib.analyze import sobol as salib_sobol

    def analyze(y: np.ndarray) -> Mapping[str, Sequence[float]]:
        return salib_sobol.analyze(
            design.problem(),
            y,
            calc_second_order=False,
            conf_level=level,
            print_to_console=False,
            seed=seed,
        )

    return _indices(design, frame, columns, analyze, ("S1", "S1_conf", "ST", "ST_conf"))


def morris_indices(
    design: Design,
    frame: pd.DataFrame,
    columns: Sequence[str],
    seed: int = 0,
    level: float = 0.95,
) -> tuple[pd.DataFrame, list[str]]:
    """Morris elementary-effect statistics of each metric column.

    Returns a frame with columns ``metric, variable, mu, mu_star, mu_star_conf, sigma`` and
    notes. SALib scales each variable to [0, 1], so an effect is the change in the metric per
    whole range of the variable (a linear ``c * x`` over ``[lo, hi]`` gives ``c * (hi - lo)``).
    """
    from SALib.analyze import morris as salib_morris

    def analyze(y: np.ndarray) -> Mapping[str, Sequence[float]]:
        return salib_morris.analyze(
            design.problem(),
            design.matrix,
            y,
            conf_level=level,
            num_levels=design.settings["levels"],
            print_to_console=False,
            seed=seed,
        )

    return _indices(design, frame, columns, analyze, ("mu", "mu_star", "mu_star_conf", "sigma"))


def indices(
    design: Design, frame: pd.DataFrame, columns: Sequence[str], seed: int = 0, level: float = 0.95
) -> tuple[pd.DataFrame | None, list[str]]:
    """The design's sensitivity indices: Sobol or Morris, or None for other designs."""
    if design.kind == "sobol":
        return sobol_indices(design, frame, columns, seed, level)
    if design.kind == "morris":
        return morris_indices(design, frame, columns, seed, level)
    return None, []
