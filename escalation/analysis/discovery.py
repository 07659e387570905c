"""Scenario discovery: the Patient Rule Induction Method (PRIM) on a table of cases.

Given the inputs of many cases (a run's trials, with their parameters and types; or a sweep's
points) and whether each case is *of interest* (a trial that ended in a full-scale invasion;
or, for a sweep, the chance of it at that point), PRIM finds a box – a range for some inputs,
a set of categories for others – inside which cases of interest are concentrated (Friedman
and Fisher 1999; Bryant and Lempert 2010; the EMA Workbench's ``prim``). Two numbers describe
a box: its **coverage** (the share of all cases of interest that fall inside it) and its
**density** (the share of the cases inside it that are of interest: for a run, P(outcome |
box)). Limits are in the inputs' own units.

The method, as implemented here:

1. **Peeling**: starting from every case, repeatedly remove the slice of cases that raises the
   box's density most per case removed (the EMA Workbench's default ``lenient1`` objective):
   the lowest or highest ``alpha`` share of one numeric input, or one category of a
   categorical input. Stop when the box holds less than ``mass_min`` of the cases. The boxes
   met on the way form the *peeling trajectory*, a trade-off between coverage and density.
2. **Choice**: the densest box on the trajectory that keeps at least ``min_coverage`` of the
   cases of interest (the analyst's trade-off; the report shows the whole trajectory).
3. **Pasting**: widen the chosen box again wherever that raises its density.
4. **Pruning**: a restriction whose removal does not significantly lower the density
   (one-sided quasi-p-value above ``max_qp``: binomial for yes/no cases, Welch's t for
   shares) is dropped, so the box names only the inputs that matter.
5. **Holding out**: with ``holdout`` > 0 the box is found on the other cases and its coverage
   and density are also measured on the held-out ones, which shows how much of the box is
   fitted to noise.
6. **Covering**: further boxes are found among the cases outside the earlier ones, while a
   box is denser than the cases overall.

Why a careful implementation of its own rather than a library: EMA Workbench's PRIM comes with
scikit-learn, statsmodels, matplotlib, seaborn and platypus-opt (hundreds of megabytes for one
function); the ``prim`` package needs matplotlib and mplcursors and is rarely released. The
method is short, and this version reads categorical inputs (private types) and shares
(sweep metrics) alike, and reports held-out numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from escalation.analysis.intervals import wilson_interval

__all__ = ["NOTE", "Box", "Discovery", "Limit", "prim", "qp_text", "summary_text"]

#: What the report says under the discovery section.
NOTE = (
    "PRIM (the Patient Rule Induction Method) peels away slices of the cases to find a box of "
    "assumptions where the outcome is concentrated. Coverage: the share of all cases of the "
    "outcome that fall in the box. Density: the outcome's share among the cases in the box. "
    "The trajectory shows every box met while peeling; the chosen one keeps at least the "
    "stated coverage, and restrictions that do not significantly raise the density are "
    "dropped. Held-out numbers come from cases PRIM did not see. Like the drivers, boxes are "
    "associations in the model, not causes in the world."
)


@dataclass(frozen=True)
class Limit:
    """A box's restriction of one input, in the input's own units.

    A numeric input has ``low``/``high`` (None where the box reaches the data's edge); a
    categorical one the ``categories`` it keeps. ``density_without`` is the box's density with
    this restriction dropped, and ``qp`` the quasi-p-value that the restriction raises the
    density by chance alone.
    """

    name: str
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] | None = None
    range_low: float | None = None
    range_high: float | None = None
    all_categories: tuple[str, ...] | None = None
    density_without: float = 0.0
    qp: float = 1.0

    def text(self, label: str | None = None) -> str:
        """The restriction as a person reads it: ``0.05 ≤ invasion cost ≤ 0.31``."""
        name = label or self.name
        if self.categories is not None:
            return f"{name} ∈ {{{', '.join(self.categories)}}}"
        if self.low is not None and self.high is not None:
            return f"{self.low:.4g} ≤ {name} ≤ {self.high:.4g}"
        if self.low is not None:
            return f"{name} ≥ {self.low:.4g}"
        return f"{name} ≤ {self.high:.4g}"


@dataclass(frozen=True)
class Box:
    """One box: its restrictions and how well it captures the cases of interest.

    ``coverage`` and ``density`` are measured on the cases PRIM was fitted on;
    ``test_coverage``/``test_density`` on held-out cases (None without a hold-out).
    ``density_lo``/``density_hi`` is a 95% Wilson interval for yes/no cases (a normal one for
    shares). ``mass`` is the share of all cases inside the box, ``cases`` how many.
    """

    limits: tuple[Limit, ...]
    coverage: float
    density: float
    density_lo: float
    density_hi: float
    mass: float
    cases: int
    test_coverage: float | None = None
    test_density: float | None = None
    step: int = 0


@dataclass(frozen=True)
class Discovery:
    """PRIM's result: the boxes, the peeling trajectory of the first, and the base rate.

    ``trajectory`` has one row per peeling step of the first box: ``step``, ``coverage``,
    ``density``, ``mass``, ``restricted`` (how many inputs it restricts), ``chosen`` (bool).
    """

    boxes: list[Box]
    trajectory: pd.DataFrame
    base_density: float
    cases: int
    of_interest: float
    inputs: list[str]
    binary: bool
    settings: dict = field(default_factory=dict)


class _Data:
    """The inputs as arrays: numeric columns as floats, categorical ones as codes."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.names = [str(c) for c in frame.columns]
        self.n = len(frame)
        self.numeric: dict[str, np.ndarray] = {}
        self.codes: dict[str, np.ndarray] = {}
        self.levels: dict[str, tuple[str, ...]] = {}
        for name in self.names:
            column = frame[name]
            if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object:
                codes, levels = pd.factorize(column.astype(str), sort=True)
                self.codes[name] = codes.astype(np.int64)
                self.levels[name] = tuple(str(v) for v in levels)
            elif column.dtype == bool:
                codes = column.to_numpy(dtype=np.int64)
                self.codes[name] = codes
                self.levels[name] = ("False", "True")
            else:
                self.numeric[name] = pd.to_numeric(column).astype(float).to_numpy()

    def take(self, rows: np.ndarray) -> _Data:
        out = object.__new__(_Data)
        out.names = self.names
        out.n = int(rows.sum()) if rows.dtype == bool else len(rows)
        out.numeric = {k: v[rows] for k, v in self.numeric.items()}
        out.codes = {k: v[rows] for k, v in self.codes.items()}
        out.levels = self.levels
        return out


#: A box in working form: numeric name -> [low, high]; categorical name -> kept codes.
_Bounds = dict[str, object]


def _full_bounds(data: _Data) -> _Bounds:
    bounds: _Bounds = {}
    for name, x in data.numeric.items():
        finite = x[np.isfinite(x)]
        bounds[name] = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    for name in data.codes:
        bounds[name] = frozenset(range(len(data.levels[name])))
    return bounds


def _inside(data: _Data, bounds: _Bounds, skip: str | None = None) -> np.ndarray:
    mask = np.ones(data.n, dtype=bool)
    for name, bound in bounds.items():
        if name == skip:
            continue
        if name in data.numeric:
            x = data.numeric[name]
            low, high = bound
            mask &= (x >= low) & (x <= high)
        else:
            mask &= np.isin(data.codes[name], list(bound))
    return mask


def _candidates(data: _Data, bounds: _Bounds, box: np.ndarray, alpha: float):
    """Every peel of the current box: (name, new bound, mask of cases removed)."""
    count = int(box.sum())
    k = max(1, math.floor(alpha * count))
    for name, x in data.numeric.items():
        values = np.sort(x[box])
        if values.size < 2 or values[0] == values[-1]:
            continue
        low, high = bounds[name]
        cut = values[min(k, values.size - 1)]
        if cut == values[0]:
            cut = values[values > values[0]][0]
        yield name, (float(cut), high), box & (x < cut)
        cut = values[max(values.size - 1 - k, 0)]
        if cut == values[-1]:
            cut = values[values < values[-1]][-1]
        yield name, (low, float(cut)), box & (x > cut)
    for name, codes in data.codes.items():
        kept = bounds[name]
        if len(kept) < 2:
            continue
        for code in sorted(kept):
            yield name, frozenset(kept - {code}), box & (codes == code)


def _mean(y: np.ndarray, mask: np.ndarray) -> float:
    count = int(mask.sum())
    return float(y[mask].mean()) if count else 0.0


def _peel(
    data: _Data, y: np.ndarray, alpha: float, mass_min: float
) -> list[tuple[_Bounds, np.ndarray]]:
    """The peeling trajectory: (bounds, mask) of every box from all cases down to mass_min."""
    n = y.size
    bounds = _full_bounds(data)
    box = np.ones(n, dtype=bool)
    trajectory = [(dict(bounds), box.copy())]
    while box.sum() > mass_min * n:
        mean_old = _mean(y, box)
        count_old = int(box.sum())
        best = None
        for name, bound, removed in _candidates(data, bounds, box, alpha):
            dropped = int(removed.sum())
            kept = count_old - dropped
            if dropped == 0 or kept < max(1, mass_min * n):
                continue
            mean_new = (y[box].sum() - y[removed].sum()) / kept
            score = (mean_new - mean_old) / (dropped / n)
            if best is None or score > best[0]:
                best = (score, name, bound, removed)
        if best is None:
            break
        _, name, bound, removed = best
        bounds[name] = bound
        box = box & ~removed
        trajectory.append((dict(bounds), box.copy()))
    return trajectory


def _paste(data: _Data, y: np.ndarray, bounds: _Bounds, alpha: float) -> _Bounds:
    """Widen the box wherever adding cases back raises its density."""
    full = _full_bounds(data)
    bounds = dict(bounds)
    while True:
        box = _inside(data, bounds)
        mean_old = _mean(y, box)
        count = int(box.sum())
        k = max(1, math.floor(alpha * count))
        best = None
        for name in data.names:
            outside = _inside(data, bounds, skip=name) & ~box
            if not outside.any():
                continue
            options = []
            if name in data.numeric:
                x = data.numeric[name]
                low, high = bounds[name]
                below = np.sort(x[outside & (x < low)])[::-1]
                above = np.sort(x[outside & (x > high)])
                if below.size:
                    options.append((below[min(k, below.size) - 1], high))
                if above.size:
                    options.append((low, above[min(k, above.size) - 1]))
                candidates = [(name, b) for b in options]
            else:
                candidates = [
                    (name, frozenset(bounds[name] | {c})) for c in full[name] - bounds[name]
                ]
            for cand_name, cand in candidates:
                trial = dict(bounds)
                trial[cand_name] = cand
                mask = _inside(data, trial)
                mean_new = _mean(y, mask)
                if mean_new > mean_old + 1e-12 and (best is None or mean_new > best[0]):
                    best = (mean_new, cand_name, cand)
        if best is None:
            return bounds
        bounds[best[1]] = best[2]


def _restricted(data: _Data, bounds: _Bounds, full: _Bounds) -> list[str]:
    return [name for name in data.names if bounds[name] != full[name]]


def qp_text(qp: float) -> str:
    """A quasi-p-value as text; one too small for a float shows as ``< 1e-300``, not 0."""
    return f"{qp:.2g}" if qp > 0 else "< 1e-300"


def _qp(y: np.ndarray, binary: bool, box: np.ndarray, wider: np.ndarray) -> float:
    """Quasi-p-value that the box's density exceeds the wider box's by chance alone."""
    from scipy import stats  # imported on first use: it is slow to import

    if binary:
        k, n = int(y[box].sum()), int(box.sum())
        p = _mean(y, wider)
        if n == 0 or p >= 1.0:
            return 1.0
        return float(stats.binomtest(k, n, max(p, 1e-12), alternative="greater").pvalue)
    extra = wider & ~box
    if box.sum() < 2 or extra.sum() < 2:
        return 1.0
    if np.ptp(y[box]) == 0 and np.ptp(y[extra]) == 0:
        return 0.0 if y[box].mean() > y[extra].mean() else 1.0
    test = stats.ttest_ind(y[box], y[extra], equal_var=False, alternative="greater")
    return float(test.pvalue) if np.isfinite(test.pvalue) else 1.0


def _prune(
    data: _Data, y: np.ndarray, binary: bool, bounds: _Bounds, full: _Bounds, max_qp: float
) -> _Bounds:
    """Drop, one at a time, the restriction least likely to matter, while its qp > max_qp."""
    bounds = dict(bounds)
    while True:
        names = _restricted(data, bounds, full)
        if len(names) <= 1:
            return bounds
        box = _inside(data, bounds)
        scored = [(_qp(y, binary, box, _inside(data, bounds, skip=n)), n) for n in names]
        worst, name = max(scored)
        if worst <= max_qp:
            return bounds
        bounds[name] = full[name]


def _describe(
    data: _Data,
    y: np.ndarray,
    binary: bool,
    bounds: _Bounds,
    full: _Bounds,
    total: float,
    step: int,
) -> Box:
    box = _inside(data, bounds)
    cases = int(box.sum())
    density = _mean(y, box)
    if binary:
        lo, hi = wilson_interval(int(y[box].sum()), cases)
    else:
        se = float(y[box].std(ddof=1) / math.sqrt(cases)) if cases > 1 else 1.0
        lo, hi = max(0.0, density - 1.96 * se), min(1.0, density + 1.96 * se)
    limits = []
    for name in _restricted(data, bounds, full):
        wider = _inside(data, bounds, skip=name)
        qp = _qp(y, binary, box, wider)
        if name in data.numeric:
            low, high = bounds[name]
            full_low, full_high = full[name]
            limits.append(
                Limit(
                    name,
                    low=None if low <= full_low else float(low),
                    high=None if high >= full_high else float(high),
                    range_low=float(full_low),
                    range_high=float(full_high),
                    density_without=_mean(y, wider),
                    qp=qp,
                )
            )
        else:
            levels = data.levels[name]
            limits.append(
                Limit(
                    name,
                    categories=tuple(levels[c] for c in sorted(bounds[name])),
                    all_categories=levels,
                    density_without=_mean(y, wider),
                    qp=qp,
                )
            )
    return Box(
        limits=tuple(limits),
        coverage=float(y[box].sum() / total) if total else 0.0,
        density=density,
        density_lo=float(lo),
        density_hi=float(hi),
        mass=cases / y.size if y.size else 0.0,
        cases=cases,
        step=step,
    )


def _measure(
    data: _Data, y: np.ndarray, bounds: _Bounds, remaining: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Coverage and density of a box on other cases not in earlier boxes, and its mask."""
    box = _inside(data, bounds) & remaining
    total = float(y.sum())
    return (float(y[box].sum() / total) if total else 0.0, _mean(y, box), box)


def prim(
    inputs: pd.DataFrame,
    y: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    min_coverage: float = 0.5,
    max_qp: float = 0.05,
    boxes: int = 1,
    holdout: float | None = None,
    seed: int = 0,
) -> Discovery:
    """Find up to ``boxes`` boxes of ``inputs`` where ``y`` is concentrated.

    Args:
        inputs: one row per case; numeric columns are ranged, categorical (``category``,
            ``object`` or ``bool``) ones restricted to sets of categories.
        y: per case, whether it is of interest (bool), or a share in [0, 1] (a sweep
            point's probability of the outcome: the box's density is then the mean share).
        alpha: share of the box peeled at each step.
        mass_min: smallest share of all cases a box may hold.
        min_coverage: the chosen box is the densest on the trajectory with at least this
            coverage.
        max_qp: restrictions with a larger quasi-p-value are pruned (1 keeps all).
        boxes: most boxes to find (covering).
        holdout: share of cases held out to measure the boxes on (default: a quarter when
            there are at least 2,000 cases, else none).
        seed: seeds the hold-out split.
    """
    values = np.asarray(y, dtype=float)
    if values.ndim != 1 or len(values) != len(inputs):
        raise ValueError("y must have one value per row of inputs")
    if not np.all(np.isfinite(values)) or values.min(initial=0) < 0 or values.max(initial=0) > 1:
        raise ValueError("y must be yes/no or shares between 0 and 1, with no missing value")
    if not len(inputs.columns):
        raise ValueError("PRIM needs at least one input column")
    binary = bool(np.all((values == 0) | (values == 1)))
    n = len(values)
    if holdout is None:
        holdout = 0.25 if n >= 2000 else 0.0
    rng = np.random.default_rng(seed)
    test = np.zeros(n, dtype=bool)
    if holdout > 0:
        test[rng.choice(n, round(holdout * n), replace=False)] = True
    everything = _Data(inputs.reset_index(drop=True))
    data, y_fit = everything.take(~test), values[~test]
    held, y_held = everything.take(test), values[test]
    total = float(y_fit.sum())
    base = float(y_fit.mean()) if y_fit.size else 0.0
    found: list[Box] = []
    trajectory_frame = pd.DataFrame(
        columns=["step", "coverage", "density", "mass", "restricted", "chosen"]
    )
    remaining = np.ones(y_fit.size, dtype=bool)
    held_remaining = np.ones(y_held.size, dtype=bool)
    for index in range(max(1, boxes)):
        rows = np.flatnonzero(remaining)
        if rows.size < 10 or y_fit[rows].sum() == 0:
            break
        part, y_part = data.take(rows), y_fit[rows]
        steps = _peel(part, y_part, alpha, mass_min)
        part_full = _full_bounds(part)
        points = []
        for step, (bounds, mask) in enumerate(steps):
            coverage = float(y_part[mask].sum() / total) if total else 0.0
            points.append((step, coverage, _mean(y_part, mask), mask.sum() / y_fit.size, bounds))
        eligible = [p for p in points if p[1] >= min_coverage * (y_part.sum() / total)]
        chosen = max(eligible or points[:1], key=lambda p: (p[2], p[1]))
        bounds = _paste(part, y_part, chosen[4], alpha)
        bounds = _prune(part, y_part, binary, bounds, part_full, max_qp)
        box = _describe(part, y_part, binary, bounds, part_full, total, chosen[0])
        if index > 0 and box.density <= base:
            break
        if y_held.size:
            coverage, density, taken = _measure(held, y_held, bounds, held_remaining)
            held_remaining &= ~taken
            box = replace(box, test_coverage=coverage, test_density=density)
        found.append(box)
        if index == 0:
            trajectory_frame = pd.DataFrame(
                {
                    "step": [p[0] for p in points],
                    "coverage": [p[1] for p in points],
                    "density": [p[2] for p in points],
                    "mass": [p[3] for p in points],
                    "restricted": [len(_restricted(part, p[4], part_full)) for p in points],
                    "chosen": [p[0] == chosen[0] for p in points],
                }
            )
        remaining[rows[_inside(part, bounds)]] = False
    return Discovery(
        boxes=found,
        trajectory=trajectory_frame,
        base_density=base,
        cases=n,
        of_interest=float(values.sum()),
        inputs=list(everything.names),
        binary=binary,
        settings={
            "alpha": alpha,
            "mass_min": mass_min,
            "min_coverage": min_coverage,
            "max_qp": max_qp,
            "holdout": holdout,
            "seed": seed,
        },
    )


def summary_text(found: Discovery, what: str, labels: Mapping[str, str] | None = None) -> str:
    """One sentence per box: where ``what`` is likely, with coverage and density."""
    labels = labels or {}
    if not found.boxes:
        return f"PRIM found no box where {what} is concentrated."
    parts = []
    for i, box in enumerate(found.boxes, start=1):
        where = " and ".join(lim.text(labels.get(lim.name)) for lim in box.limits) or "anywhere"
        held = (
            f" (on held-out cases: density {box.test_density:.0%}, coverage "
            f"{box.test_coverage:.0%})"
            if box.test_density is not None
            else ""
        )
        parts.append(
            f"Box {i}: where {where}, {what} is {box.density:.0%} (95%: {box.density_lo:.0%}–"
            f"{box.density_hi:.0%}) against {found.base_density:.0%} overall; the box holds "
            f"{box.coverage:.0%} of all cases of it and {box.mass:.0%} of the cases{held}."
        )
    return " ".join(parts)
