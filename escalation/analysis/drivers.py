"""What drives an outcome: types and uncertain parameters, ranked two ways.

For each *factor* – a deciding actor's private type (a ``type:<decider>`` column of the trials
table) or an uncertain parameter – :func:`drivers` reports

* an easy effect size: P(outcome) in the top third of a parameter minus the bottom third (for
  a type: in the type where the outcome is likeliest minus the one where it is rarest), with
  Newcombe's interval;
* a global, moment-independent index on the same samples: PAWN (Pianosi & Wagener 2015, 2018)
  from SALib, the median over conditioning slices of the Kolmogorov-Smirnov distance between
  the outcome's conditional and unconditional distributions (for a yes/no outcome, the
  distance between P(outcome | slice) and P(outcome)), with a dummy factor of pure noise as
  the floor below which an index says nothing.

A type is a factor in its own right. Parameters are read as drawn, before a type's overrides
replace them (the trials table records them so): a drawn value is then independent of the
types, and its top-minus-bottom difference is the parameter's own effect, averaged over the
types (in the trials of a type that overrides it, the drawn value plays no part). The same
parameter read after the overrides would mix two distributions, one per type, and stand in for
the type; that was the error of reading post-override values. No stratification by type is
needed on values as drawn, and it would be wrong for a parameter that sets a type's prior: its
effect runs through the type it makes likelier.

Nothing here reads the model; every result is finite (no NaN, no inf).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from escalation.analysis.intervals import newcombe_difference, wilson_interval

__all__ = [
    "DRIVER_COLUMNS",
    "DUMMY",
    "drivers",
    "indicator",
    "parameter_columns",
    "pawn_indices",
    "type_columns",
    "type_outcomes",
]

#: Name of the noise-floor row: a dummy factor drawn independently of everything.
DUMMY = "(noise floor)"
#: Conditioning slices of the PAWN index (SALib's default).
PAWN_SLICES = 10
#: Most rows the PAWN index reads; a larger table is subsampled (seeded), which the noise
#: floor then reflects.
PAWN_ROWS = 50_000


def type_columns(trials: pd.DataFrame) -> list[str]:
    """The type columns of a trials table: ``type:<decider>`` for every deciding actor."""
    return [c for c in map(str, trials.columns) if c.startswith("type:")]


def parameter_columns(trials: pd.DataFrame) -> list[str]:
    """The parameter columns of a trials table: ``<param>`` and ``<param>@<day>``.

    Parameters are floating-point columns whose names hold no colon; every other per-trial
    record is an integer, a category, a flag, or named ``<what>:<whom>`` (``met:<decider>``,
    ``aid:<actor>``), so nothing else matches.
    """
    return [
        str(c)
        for c in trials.columns
        if ":" not in str(c) and pd.api.types.is_float_dtype(trials[c])
    ]


def indicator(trials: pd.DataFrame, outcome: str | Sequence[str]) -> np.ndarray:
    """Boolean per trial: did it end in ``outcome`` (or in any of several outcomes)?"""
    names = [outcome] if isinstance(outcome, str) else list(outcome)
    return trials["outcome"].astype(str).isin([str(n) for n in names]).to_numpy(dtype=bool)


def _thirds(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks for the bottom and top thirds of ``x`` (finite values only).

    Bottom is ``x <= q(1/3)`` and top ``x >= q(2/3)``.  When ties make the two
    cut points equal (a discrete parameter), the groups are split at that value
    instead: "at or below" versus "above" it, or "below" versus "at or above"
    when nothing lies above.  For a constant ``x`` both masks are empty.
    """
    finite = np.isfinite(x)
    empty = np.zeros(x.shape, dtype=bool)
    if not finite.any():
        return empty, empty
    xs = x[finite]
    if xs.min() == xs.max():
        return empty, empty
    q_low, q_high = np.quantile(xs, [1.0 / 3.0, 2.0 / 3.0])
    if q_low < q_high:
        return finite & (x <= q_low), finite & (x >= q_high)
    cut = q_low
    if (xs > cut).any():
        return finite & (x <= cut), finite & (x > cut)
    return finite & (x < cut), finite & (x >= cut)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of ``x`` with ``y`` (0 when either is constant)."""
    finite = np.isfinite(x)
    if finite.sum() < 2:
        return 0.0
    rx = pd.Series(x[finite]).rank(method="average").to_numpy(dtype=float, copy=True)
    ry = pd.Series(y[finite].astype(float)).rank(method="average").to_numpy(dtype=float, copy=True)
    rx -= rx.mean()
    ry -= ry.mean()
    den = float(np.sqrt((rx**2).sum() * (ry**2).sum()))
    if den <= 1e-12 * max(1.0, float(finite.sum())) ** 2:
        return 0.0
    return float(np.clip((rx @ ry) / den, -1.0, 1.0))


@dataclass(frozen=True)
class _Effect:
    """Top-third-minus-bottom-third effect of one factor."""

    p_low: float
    p_high: float
    difference: float
    lo: float
    hi: float
    spearman: float
    low: str
    high: str
    varies: bool


def _cut_text(values: np.ndarray, mask: np.ndarray, side: str) -> str:
    chosen = values[mask]
    if not chosen.size:
        return ""
    return f"≤ {chosen.max():.4g}" if side == "low" else f"≥ {chosen.min():.4g}"


def _parameter_effect(x: np.ndarray, y: np.ndarray, level: float, overall: float) -> _Effect:
    """P(``y``) in the top third of ``x`` minus the bottom third, with Newcombe's interval."""
    low, high = _thirds(x)
    if not (low.any() and high.any()):
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    k_high, n_high, k_low, n_low = y[high].sum(), high.sum(), y[low].sum(), low.sum()
    d, d_lo, d_hi = newcombe_difference(k_high, n_high, k_low, n_low, level)
    return _Effect(
        p_low=float(k_low / n_low),
        p_high=float(k_high / n_high),
        difference=float(d),
        lo=float(d_lo),
        hi=float(d_hi),
        spearman=_spearman(x, y),
        low=_cut_text(x, low, "low"),
        high=_cut_text(x, high, "high"),
        varies=True,
    )


def _type_effect(types: pd.Series, y: np.ndarray, level: float, overall: float) -> _Effect:
    """The type where ``y`` is likeliest against the one where it is rarest."""
    labels = types.astype(str).to_numpy()
    names, codes = np.unique(labels, return_inverse=True)
    if len(names) < 2:
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    k = np.bincount(codes, weights=y.astype(float), minlength=len(names))
    n = np.bincount(codes, minlength=len(names)).astype(float)
    p = k / n
    order = np.argsort(p, kind="stable")
    low, high = order[0], order[-1]
    d, d_lo, d_hi = newcombe_difference(k[high], n[high], k[low], n[low], level)
    return _Effect(
        p_low=float(p[low]),
        p_high=float(p[high]),
        difference=float(d),
        lo=float(d_lo),
        hi=float(d_hi),
        spearman=0.0,
        low=str(names[low]),
        high=str(names[high]),
        varies=True,
    )


def _numeric(trials: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(trials[column], errors="coerce").astype(float).to_numpy()


def _salib_pawn(x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """SALib's PAWN median index of each column of ``x`` (0 where undefined)."""
    from SALib.analyze import pawn

    if x.shape[0] < 2 * PAWN_SLICES or not names:
        return np.zeros(len(names))
    lows = np.nanmin(x, axis=0)
    highs = np.nanmax(x, axis=0)
    problem = {
        "num_vars": len(names),
        "names": list(names),
        # SALib's problem wants bounds; PAWN itself slices by quantiles and ignores them.
        "bounds": [
            [float(a), max(float(b), float(a) + 1.0)] for a, b in zip(lows, highs, strict=True)
        ],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = pawn.analyze(problem, x, y.astype(float), S=PAWN_SLICES, print_to_console=False)
    values = np.asarray(found["median"], dtype=float)
    return np.where(np.isfinite(values), values, 0.0)


def pawn_indices(
    trials: pd.DataFrame,
    parameters: Sequence[str],
    y: np.ndarray,
    types: Sequence[str] = (),
    seed: int = 0,
) -> dict[str, float]:
    """PAWN index of each parameter and type for the yes/no outcome ``y``, and the noise floor.

    Parameters use SALib's ``pawn.analyze`` (median over :data:`PAWN_SLICES` equal-mass
    slices). A type's index is the same statistic with its categories as the slices: the
    median over types of ``|P(outcome | type) - P(outcome)|``. The entry :data:`DUMMY` is the
    index of a uniform column drawn independently (seeded): an index near it is
    indistinguishable from Monte Carlo noise.
    """
    rng = np.random.default_rng(seed)
    n = len(trials)
    rows = np.arange(n)
    if n > PAWN_ROWS:
        rows = np.sort(rng.choice(n, PAWN_ROWS, replace=False))
    sample = trials.iloc[rows]
    ys = np.asarray(y, dtype=bool)[rows]
    names = [*parameters, DUMMY]
    x = np.column_stack([_numeric(sample, p) for p in parameters] + [rng.random(len(rows))])
    found = {
        name: float(value) for name, value in zip(names, _salib_pawn(x, ys, names), strict=True)
    }
    overall = float(ys.mean()) if len(ys) else 0.0
    for column in types:
        labels = sample[column].astype(str).to_numpy()
        gaps = [abs(float(ys[labels == t].mean()) - overall) for t in np.unique(labels)]
        found[column] = float(np.median(gaps)) if len(gaps) > 1 else 0.0
    return found


#: Columns of the table :func:`drivers` returns.
DRIVER_COLUMNS = (
    "factor",
    "kind",
    "low",
    "high",
    "p_low",
    "p_high",
    "difference",
    "lo",
    "hi",
    "spearman",
    "pawn",
)


def drivers(
    trials: pd.DataFrame,
    parameters: Sequence[str],
    outcome: str | Sequence[str],
    level: float = 0.95,
    types: Sequence[str] | None = None,
    pawn: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Which types and uncertain parameters push the crisis towards ``outcome``.

    ``types`` are the type columns (default: :func:`type_columns` of ``trials``); parameter
    columns hold values as drawn (see the module docstring). ``outcome`` is an outcome name or
    several (their union). One row per factor:

    * ``factor``, ``kind`` (``"type"`` or ``"parameter"``);
    * ``low``/``high``: the groups compared (a type's name; a parameter's cut points);
    * ``p_low``/``p_high``: P(outcome) in them; ``difference = p_high - p_low`` with
      ``lo``/``hi`` its interval at ``level`` (Newcombe's hybrid score method);
    * ``spearman``: rank correlation of a parameter with the outcome (0 for a type);
    * ``pawn``: the PAWN index (:func:`pawn_indices`; 0 when ``pawn`` is false).

    A last row, ``factor =`` :data:`DUMMY` (kind ``"noise"``), carries the PAWN noise floor.
    Rows are sorted by ``|difference|``, largest first. A factor that is constant – and every
    factor when there are no trials – has ``difference = lo = hi = 0`` and ``p_low = p_high``
    = the overall share. No NaN is returned. Raises ``KeyError`` naming missing columns.
    """
    names = [str(p) for p in parameters]
    types = type_columns(trials) if types is None else [str(t) for t in types]
    missing = [c for c in [*names, *types] if c not in trials.columns]
    if missing:
        raise KeyError(f"trials has no columns {missing}")
    y = indicator(trials, outcome)
    n = len(trials)
    overall = float(y.mean()) if n else 0.0
    empty = _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    effects: list[tuple[str, str, _Effect]] = []
    for column in types:
        effects.append(
            (column, "type", _type_effect(trials[column], y, level, overall) if n else empty)
        )
    for name in names:
        effect = _parameter_effect(_numeric(trials, name), y, level, overall) if n else empty
        effects.append((name, "parameter", effect))
    indices = pawn_indices(trials, names, y, types, seed) if pawn and n else {}
    records = []
    for factor, kind, effect in effects:
        e = effect if effect.varies else empty
        records.append(
            {
                "factor": factor,
                "kind": kind,
                "low": e.low,
                "high": e.high,
                "p_low": e.p_low,
                "p_high": e.p_high,
                "difference": e.difference,
                "lo": e.lo,
                "hi": e.hi,
                "spearman": e.spearman,
                "pawn": indices.get(factor, 0.0),
            }
        )
    table = pd.DataFrame.from_records(records, columns=list(DRIVER_COLUMNS))
    table = table.astype({"factor": object, "kind": object, "low": object, "high": object})
    order = np.argsort(-np.abs(table["difference"].to_numpy(dtype=float)), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    noise = dict.fromkeys(DRIVER_COLUMNS, 0.0) | {
        "factor": DUMMY,
        "kind": "noise",
        "low": "",
        "high": "",
        "p_low": overall,
        "p_high": overall,
        "pawn": indices.get(DUMMY, 0.0),
    }
    return pd.concat([table, pd.DataFrame([noise])], ignore_index=True)


def type_outcomes(
    trials: pd.DataFrame,
    type_column: str,
    outcomes: Sequence[str],
    level: float = 0.95,
) -> pd.DataFrame:
    """P(outcome | type) for every type of one type column, with Wilson intervals.

    One row per type and outcome: ``type``, ``trials`` (of that type), ``share`` (of all
    trials), ``outcome``, ``count``, ``probability``, ``lo``, ``hi``. Types keep the order of
    a categorical column's categories (else sorted); outcomes keep the given order.
    """
    column = trials[type_column]
    if isinstance(column.dtype, pd.CategoricalDtype):
        kinds = [str(c) for c in column.cat.categories]
    else:
        kinds = sorted(column.astype(str).unique())
    labels = column.astype(str).to_numpy()
    observed = trials["outcome"].astype(str).to_numpy()
    n = len(trials)
    rows = []
    for kind in kinds:
        mask = labels == kind
        m = int(mask.sum())
        counts = np.array([int((observed[mask] == o).sum()) for o in outcomes])
        lo, hi = (np.atleast_1d(v) for v in wilson_interval(counts, np.full(len(counts), m), level))
        for outcome, count, a, b in zip(outcomes, counts, lo, hi, strict=True):
            rows.append(
                {
                    "type": kind,
                    "trials": m,
                    "share": m / n if n else 0.0,
                    "outcome": str(outcome),
                    "count": int(count),
                    "probability": count / m if m else 0.0,
                    "lo": float(a),
                    "hi": float(b),
                }
            )
    return pd.DataFrame.from_records(
        rows, columns=["type", "trials", "share", "outcome", "count", "probability", "lo", "hi"]
    )
