"""What drives an outcome: types and uncertain parameters, ranked two ways.

For each *factor* – a deciding actor's private type (a ``type`` or ``type:<decider>`` column of
the trials table) or an uncertain parameter – :func:`drivers` reports

* an easy effect size: P(outcome) in the top third of a parameter minus the bottom third (for
  a type: in the type where the outcome is likeliest minus the one where it is rarest), with
  Newcombe's interval;
* a global, moment-independent index on the same samples: PAWN (Pianosi & Wagener 2015, 2018)
  from SALib, the median over conditioning slices of the Kolmogorov-Smirnov distance between
  the outcome's conditional and unconditional distributions (for a yes/no outcome, the
  distance between P(outcome | slice) and P(outcome)), with a dummy factor of pure noise as
  the floor below which an index says nothing.

A type is a factor in its own right. A parameter that a type overrides (a resolved challenger
facing another invasion cost) stands in for the type when it is read after the overrides: its
column then mixes two distributions, one per type, and its effect is mostly the type's. Such a
parameter is measured *within type* (``within_type``): its effect in each stratum of the
types, averaged with the strata's shares as weights. Tables that record parameters as drawn,
before the overrides, need no such care; see :func:`type_columns` for how the two are told
apart by the caller.

Nothing here reads the model; every result is finite (no NaN, no inf).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from escalation.analysis.intervals import newcombe_difference, wilson_interval, z_value

__all__ = [
    "DUMMY",
    "drivers",
    "indicator",
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
    """The type columns of a trials table: ``type`` and every ``type:<decider>``.

    A table with the single column ``type`` (one challenger) records parameters *after* the
    type overrides; tables with ``type:<decider>`` columns record them as drawn.
    """
    return [c for c in map(str, trials.columns) if c == "type" or c.startswith("type:")]


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
    """Top-third-minus-bottom-third effect of one factor, possibly within strata."""

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


def _parameter_effect(
    x: np.ndarray, y: np.ndarray, strata: np.ndarray, level: float, overall: float
) -> _Effect:
    """Effect of parameter values ``x`` on ``y``, within each stratum code, share-weighted.

    Each stratum where ``x`` varies gives a Newcombe difference; their weighted mean has the
    variance of a weighted sum of independent estimates, each variance read off its interval.
    With one stratum this is the plain top-third-minus-bottom-third difference and interval.
    """
    z = z_value(level)
    codes = np.unique(strata)
    weights, diffs, variances, lows, highs, rhos = [], [], [], [], [], []
    low_text = high_text = ""
    for code in codes:
        rows = strata == code
        xs, ys = x[rows], y[rows]
        low, high = _thirds(xs)
        if not (low.any() and high.any()):
            continue
        k_high, n_high, k_low, n_low = ys[high].sum(), high.sum(), ys[low].sum(), low.sum()
        d, d_lo, d_hi = newcombe_difference(k_high, n_high, k_low, n_low, level)
        weights.append(rows.sum())
        diffs.append(d)
        # An asymmetric interval's wider side, so the combined interval is not too narrow.
        variances.append((max(d - d_lo, d_hi - d) / z) ** 2)
        lows.append(k_low / n_low)
        highs.append(k_high / n_high)
        rhos.append(_spearman(xs, ys))
        if len(codes) == 1:
            low_text, high_text = _cut_text(xs, low, "low"), _cut_text(xs, high, "high")
    if not weights:
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    w = np.asarray(weights, dtype=float) / float(np.sum(weights))
    d = float(w @ np.asarray(diffs))
    half = z * float(np.sqrt(w**2 @ np.asarray(variances)))
    if len(codes) > 1:
        low_text, high_text = "bottom third within type", "top third within type"
    return _Effect(
        p_low=float(w @ np.asarray(lows)),
        p_high=float(w @ np.asarray(highs)),
        difference=d,
        lo=max(d - half, -1.0),
        hi=min(d + half, 1.0),
        spearman=float(w @ np.asarray(rhos)),
        low=low_text,
        high=high_text,
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


def _strata(trials: pd.DataFrame, types: Sequence[str]) -> np.ndarray:
    """One integer code per trial for its combination of types (all zero without types)."""
    if not types:
        return np.zeros(len(trials), dtype=np.int64)
    codes = np.zeros(len(trials), dtype=np.int64)
    for column in types:
        values, _ = pd.factorize(trials[column].astype(str))
        codes = codes * (int(values.max(initial=0)) + 1) + values
    return pd.factorize(codes)[0].astype(np.int64)


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
    within_type: Sequence[str] = (),
    seed: int = 0,
) -> dict[str, float]:
    """PAWN index of each parameter and type for the yes/no outcome ``y``, and the noise floor.

    Parameters use SALib's ``pawn.analyze`` (median over :data:`PAWN_SLICES` equal-mass
    slices); parameters in ``within_type`` are analysed in each stratum of the types and the
    indices averaged with the strata's shares. A type's index is the same statistic with its
    categories as the slices: the median over types of ``|P(outcome | type) - P(outcome)|``.
    The entry :data:`DUMMY` is the index of a uniform column drawn independently (seeded): an
    index near it is indistinguishable from Monte Carlo noise.
    """
    rng = np.random.default_rng(seed)
    n = len(trials)
    rows = np.arange(n)
    if n > PAWN_ROWS:
        rows = np.sort(rng.choice(n, PAWN_ROWS, replace=False))
    sample = trials.iloc[rows]
    ys = np.asarray(y, dtype=bool)[rows]
    found: dict[str, float] = {}
    plain = [p for p in parameters if p not in set(within_type)]
    dummy = rng.random(len(rows))
    x = np.column_stack([_numeric(sample, p) for p in plain] + [dummy])
    for name, value in zip([*plain, DUMMY], _salib_pawn(x, ys, [*plain, DUMMY]), strict=True):
        found[name] = float(value)
    strata = _strata(sample, types)
    inner = [p for p in parameters if p in set(within_type)]
    if inner:
        totals = np.zeros(len(inner))
        weight = np.zeros(len(inner))
        for code in np.unique(strata):
            mask = strata == code
            xs = np.column_stack([_numeric(sample[mask], p) for p in inner])
            varies = np.nanmax(xs, axis=0) > np.nanmin(xs, axis=0)
            values = _salib_pawn(xs, ys[mask], inner)
            totals += np.where(varies, values * mask.sum(), 0.0)
            weight += np.where(varies, mask.sum(), 0.0)
        for name, total, w in zip(inner, totals, weight, strict=True):
            found[name] = float(total / w) if w else 0.0
    overall = float(ys.mean()) if len(ys) else 0.0
    for column in types:
        labels = sample[column].astype(str).to_numpy()
        gaps = [abs(float(ys[labels == t].mean()) - overall) for t in np.unique(labels)]
        found[column] = float(np.median(gaps)) if len(gaps) > 1 else 0.0
    return found


def drivers(
    trials: pd.DataFrame,
    parameters: Sequence[str],
    outcome: str | Sequence[str],
    level: float = 0.95,
    types: Sequence[str] | None = None,
    within_type: Sequence[str] = (),
    pawn: bool = True,
    seed: int = 0,
) -> pd.DataFrame:
    """Which types and uncertain parameters push the crisis towards ``outcome``.

    ``types`` are the type columns (default: :func:`type_columns` of ``trials``); parameters
    named in ``within_type`` are measured within the strata of the types (see the module
    docstring). ``outcome`` is an outcome name or several (their union). One row per factor:

    * ``factor``, ``kind`` (``"type"`` or ``"parameter"``), ``within_type`` (bool);
    * ``low``/``high``: the groups compared (a type's name; a parameter's cut points);
    * ``p_low``/``p_high``: P(outcome) in them; ``difference = p_high - p_low`` with
      ``lo``/``hi`` its interval at ``level`` (Newcombe's hybrid score method; within type, the
      share-weighted mean of the strata's differences and a normal interval from theirs);
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
    inner = {str(p) for p in within_type} & set(names)
    y = indicator(trials, outcome)
    n = len(trials)
    overall = float(y.mean()) if n else 0.0
    strata = _strata(trials, types)
    single = np.zeros(n, dtype=np.int64)
    rows = []
    for column in types:
        effect = _type_effect(trials[column], y, level, overall) if n else None
        rows.append((column, "type", False, effect))
    for name in names:
        effect = None
        if n:
            x = _numeric(trials, name)
            effect = _parameter_effect(x, y, strata if name in inner else single, level, overall)
        rows.append((name, "parameter", name in inner, effect))
    indices = pawn_indices(trials, names, y, types, sorted(inner), seed) if pawn and n else {}
    empty = _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    records = []
    for factor, kind, within, effect in rows:
        e = effect if effect is not None and effect.varies else empty
        records.append(
            {
                "factor": factor,
                "kind": kind,
                "within_type": within,
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
    table = pd.DataFrame.from_records(
        records,
        columns=[
            "factor",
            "kind",
            "within_type",
            "low",
            "high",
            "p_low",
            "p_high",
            "difference",
            "lo",
            "hi",
            "spearman",
            "pawn",
        ],
    )
    table = table.astype({"factor": object, "kind": object, "low": object, "high": object})
    order = np.argsort(-np.abs(table["difference"].to_numpy(dtype=float)), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    noise = {
        "factor": DUMMY,
        "kind": "noise",
        "within_type": False,
        "low": "",
        "high": "",
        "p_low": overall,
        "p_high": overall,
        "difference": 0.0,
        "lo": 0.0,
        "hi": 0.0,
        "spearman": 0.0,
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
