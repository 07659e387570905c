"""Experimental designs: which points of the input space a sweep evaluates.

A design knows nothing of scenarios: it works on :class:`Factor`\\ s, each with a list of
``values`` or a ``range``, and returns a list of points (one value per factor). The kinds:

``grid``
    Every combination of the factors' values; the first factor varies slowest.
``oat``
    One at a time: a baseline point (every factor left as the scenario has it, written as
    None), then each factor set to each of its values while the others stay at baseline.
``lhs``
    A Latin hypercube of ``samples`` points (:class:`scipy.stats.qmc.LatinHypercube`, seeded).
``sobol``
    Saltelli's scheme on a scrambled Sobol sequence (:func:`SALib.sample.sobol.sample`, no
    second-order terms): ``samples * (factors + 2)`` points, ``samples`` a power of 2.
``morris``
    ``samples`` Morris trajectories on a grid of ``levels`` levels
    (:func:`SALib.sample.morris.sample`): ``samples * (factors + 1)`` points.

Every design is a pure function of its factors, settings and seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: The design kinds, and which need ranges (the rest take values).
KINDS = ("grid", "oat", "lhs", "sobol", "morris")
CONTINUOUS = ("lhs", "sobol", "morris")
#: Most points a design may have; beyond this a typo is likelier than intent.
MAX_POINTS = 200_000


class DesignError(ValueError):
    """A design that cannot be built from its factors and settings."""


@dataclass(frozen=True)
class Factor:
    """One input of a design: a list of ``values`` or a numeric ``range`` ``(lo, hi)``.

    ``steps`` turns a range into evenly spaced values for a grid.
    """

    name: str
    values: tuple[Any, ...] | None = None
    range: tuple[float, float] | None = None
    steps: int | None = None

    def levels(self) -> tuple[Any, ...]:
        """The values a grid or one-at-a-time design takes."""
        if self.values is not None:
            return self.values
        if self.range is not None and self.steps is not None:
            return tuple(float(x) for x in np.linspace(*self.range, self.steps))
        raise DesignError(f"variable '{self.name}' needs 'values' (or 'range' with 'steps')")

    @property
    def kind(self) -> str:
        """Column type of the factor's values: ``number``, ``flag`` or ``text``."""
        if self.values is None:
            return "number"
        if all(isinstance(v, bool) for v in self.values):
            return "flag"
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in self.values):
            return "number"
        return "text"

    @property
    def dtype(self) -> str:
        """The pandas dtype of the factor's column."""
        return {"number": "float64", "flag": "boolean", "text": "string"}[self.kind]


@dataclass
class Design:
    """The points of a design, in evaluation order, and what SALib needs to analyse them.

    Attributes:
        kind: one of :data:`KINDS`.
        factors: the inputs, in column order.
        points: one mapping per point from factor name to value (None: left unchanged).
        matrix: for continuous designs, the points as an ``(n, factors)`` float array.
        settings: the design's own settings (samples, levels, seed), for the record.
        shape: for a grid, the number of values of each factor.
    """

    kind: str
    factors: list[Factor]
    points: list[dict[str, Any]]
    matrix: np.ndarray | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    shape: tuple[int, ...] | None = None

    @property
    def names(self) -> list[str]:
        """Factor names in column order."""
        return [f.name for f in self.factors]

    @property
    def size(self) -> int:
        """Number of points."""
        return len(self.points)

    def problem(self) -> dict[str, Any]:
        """The SALib problem definition of a continuous design."""
        return {
            "num_vars": len(self.factors),
            "names": self.names,
            "bounds": [list(f.range) for f in self.factors],  # type: ignore[arg-type]
        }

    def column_value(self, name: str, value: Any) -> Any:
        """A point's value as stored in its column (text columns hold text)."""
        factor = next(f for f in self.factors if f.name == name)
        if value is None:
            return np.nan if factor.kind == "number" else pd.NA
        if factor.kind == "text":
            return value if isinstance(value, str) else _text(value)
        if factor.kind == "number":
            return float(value)
        return bool(value)

    def frame(self) -> pd.DataFrame:
        """The inputs of every point, one row per point, with a ``point`` column first."""
        columns: dict[str, Any] = {"point": np.arange(self.size, dtype=np.int64)}
        for factor in self.factors:
            values = [self.column_value(factor.name, p.get(factor.name)) for p in self.points]
            columns[factor.name] = pd.array(values, dtype=factor.dtype)
        return pd.DataFrame(columns)

    def labels(self) -> list[str]:
        """A short label of each point, such as ``a=1, b=x`` (``baseline`` if nothing is set)."""
        out = []
        for point in self.points:
            parts = [f"{k}={_text(v)}" for k, v in point.items() if v is not None]
            out.append(", ".join(parts) or "baseline")
        return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def _check_size(count: int) -> None:
    if count > MAX_POINTS:
        raise DesignError(f"the design has {count:,} points; the limit is {MAX_POINTS:,}")


def grid(factors: Sequence[Factor]) -> Design:
    """Every combination of the factors' values, the first factor varying slowest."""
    levels = [f.levels() for f in factors]
    _check_size(math.prod(len(v) for v in levels))
    points = [
        dict(zip([f.name for f in factors], combo, strict=True))
        for combo in itertools.product(*levels)
    ]
    return Design("grid", list(factors), points, shape=tuple(len(v) for v in levels))


def one_at_a_time(factors: Sequence[Factor]) -> Design:
    """A baseline (nothing changed), then each factor at each of its values alone."""
    names = [f.name for f in factors]
    points: list[dict[str, Any]] = [dict.fromkeys(names)]
    for factor in factors:
        for value in factor.levels():
            point: dict[str, Any] = dict.fromkeys(names)
            point[factor.name] = value
            points.append(point)
    _check_size(len(points))
    return Design("oat", list(factors), points)


def _ranged(factors: Sequence[Factor], kind: str) -> np.ndarray:
    bounds = []
    for factor in factors:
        if factor.range is None:
            raise DesignError(f"a {kind} design needs a 'range' for variable '{factor.name}'")
        bounds.append(factor.range)
    return np.array(bounds, dtype=float)


def _from_matrix(kind: str, factors: Sequence[Factor], matrix: np.ndarray, **settings) -> Design:
    names = [f.name for f in factors]
    points = [dict(zip(names, map(float, row), strict=True)) for row in matrix]
    return Design(kind, list(factors), points, matrix=matrix, settings=settings)


def latin_hypercube(factors: Sequence[Factor], samples: int, seed: int) -> Design:
    """``samples`` points of a Latin hypercube scaled to the factors' ranges."""
    from scipy.stats import qmc

    bounds = _ranged(factors, "lhs")
    _check_size(samples)
    unit = qmc.LatinHypercube(d=len(factors), rng=np.random.default_rng(seed)).random(samples)
    matrix = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
    return _from_matrix("lhs", factors, matrix, samples=samples, seed=seed)


def sobol(factors: Sequence[Factor], samples: int, seed: int) -> Design:
    """Saltelli's sampling for first-order and total Sobol indices (no second order)."""
    from SALib.sample import sobol as salib_sobol

    bounds = _ranged(factors, "sobol")
    if samples < 2 or samples & (samples - 1):
        raise DesignError(
            f"a Sobol design needs 'samples' to be a power of 2 (e.g. 16, 32, 64); got {samples}"
        )
    _check_size(samples * (len(factors) + 2))
    problem = {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": bounds}
    matrix = salib_sobol.sample(problem, samples, calc_second_order=False, scramble=True, seed=seed)
    return _from_matrix("sobol", factors, matrix, samples=samples, seed=seed)


def morris(factors: Sequence[Factor], samples: int, levels: int, seed: int) -> Design:
    """``samples`` Morris trajectories on a grid of ``levels`` levels per factor."""
    from SALib.sample import morris as salib_morris

    bounds = _ranged(factors, "morris")
    if levels < 2:
        raise DesignError(f"a Morris design needs at least 2 levels; got {levels}")
    _check_size(samples * (len(factors) + 1))
    problem = {"num_vars": len(factors), "names": [f.name for f in factors], "bounds": bounds}
    matrix = salib_morris.sample(problem, samples, num_levels=levels, seed=seed)
    return _from_matrix("morris", factors, matrix, samples=samples, levels=levels, seed=seed)


def make_design(
    kind: str,
    factors: Sequence[Factor],
    samples: int | None = None,
    levels: int = 4,
    seed: int = 0,
) -> Design:
    """Build a design of ``kind`` (see the module docstring)."""
    if not factors:
        raise DesignError("a design needs at least one variable")
    if kind == "grid":
        return grid(factors)
    if kind == "oat":
        return one_at_a_time(factors)
    if kind not in CONTINUOUS:
        raise DesignError(f"unknown design '{kind}'; expected one of {', '.join(KINDS)}")
    if samples is None:
        raise DesignError(f"a {kind} design needs 'samples'")
    if kind == "lhs":
        return latin_hypercube(factors, samples, seed)
    if kind == "sobol":
        return sobol(factors, samples, seed)
    return morris(factors, samples, levels, seed)
