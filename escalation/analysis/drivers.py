"""What drives an outcome: types and uncertain parameters, ranked two ways.

For each *factor* – a deciding actor's private type (a ``type:<decider>`` column of the trials
table) or an uncertain parameter – :func:`drivers` reports

* an easy effect size: P(outcome) in the top third of a parameter minus the bottom third (for
  a type: in the type where the outcome is likeliest minus the one where it is rarest), with
  Newcombe's interval;
* a global, moment-independent index on the same samples: PAWN (Pianosi & Wagener 2015, 2018)
  as SALib computes it, the median over conditioning slices of the Kolmogorov-Smirnov
  distance between the outcome's conditional and unconditional distributions (for a yes/no
  outcome, the distance between P(outcome | slice) and P(outcome)), with a dummy factor of
  pure noise as the floor below which an index says nothing.

A type is a factor in its own right. Parameters are read as drawn, before a type's overrides
replace them (the trials table records them so): a drawn value is then independent of the
types, and its top-minus-bottom difference is the parameter's own effect, averaged over the
types (in the trials of a type that overrides it, the drawn value plays no part). The same
parameter read after the overrides would mix two distributions, one per type, and stand in for
the type; that was the error of reading post-override values. No stratification by type is
needed on values as drawn, and it would be wrong for a parameter that sets a type's prior: its
effect runs through the type it makes likelier.

A run too large to keep its table of trials (``escalation run --no-trials`` or
``--scheduler``) gives :func:`drivers` a sample of its trials and :class:`DriverCounts`: the
thirds are cut in the sample (:func:`thirds`), and the trials of the whole run are counted in
each group block by block, so the shares and their intervals rest on every trial; the rank
correlation and the PAWN index read the sample. When the sample is the whole run the two forms
give the same table.

Nothing here reads the model; every result is finite (no NaN, no inf).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from escalation.analysis.intervals import newcombe_difference, wilson_interval

__all__ = [
    "DRIVER_COLUMNS",
    "DUMMY",
    "DriverCounts",
    "Thirds",
    "drivers",
    "indicator",
    "parameter_columns",
    "pawn_indices",
    "thirds",
    "type_columns",
    "type_outcomes",
    "type_outcomes_counts",
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


@dataclass(frozen=True)
class Thirds:
    """Where a factor's bottom and top thirds are cut: a rule that any values can apply.

    Bottom is ``x <= low`` (``x < low`` unless ``low_closed``), top ``x >= high`` (``x > high``
    unless ``high_closed``); non-finite values are in neither.
    """

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def masks(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Boolean masks of the bottom and the top third among ``x``."""
        finite = np.isfinite(x)
        low = x <= self.low if self.low_closed else x < self.low
        high = x >= self.high if self.high_closed else x > self.high
        return finite & low, finite & high


def thirds(x: np.ndarray) -> Thirds | None:
    """The cut of ``x`` into thirds, or None when ``x`` has fewer than two finite values.

    Bottom is ``x <= q(1/3)`` and top ``x >= q(2/3)``.  When ties make the two
    cut points equal (a discrete parameter), the groups are split at that value
    instead: "at or below" versus "above" it, or "below" versus "at or above"
    when nothing lies above.
    """
    finite = np.isfinite(x)
    if not finite.any():
        return None
    xs = x[finite]
    if xs.min() == xs.max():
        return None
    q_low, q_high = np.quantile(xs, [1.0 / 3.0, 2.0 / 3.0])
    if q_low < q_high:
        return Thirds(float(q_low), float(q_high))
    cut = float(q_low)
    if (xs > cut).any():
        return Thirds(cut, cut, True, False)
    return Thirds(cut, cut, False, True)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based, ties sharing their mean rank), as ``pandas.Series.rank``."""
    if values.dtype == bool:
        # Two tied groups: the noes share ranks 1..n0, the yeses n0+1..n.
        noes = int((~values).sum())
        return np.where(values, noes + (len(values) - noes + 1) / 2, (noes + 1) / 2)
    order = np.argsort(values)  # ties, where any, go to pandas below
    ordered = values[order]
    if not np.isnan(ordered[-1:]).any() and not (ordered[1:] == ordered[:-1]).any():
        ranks = np.empty(len(values))  # no ties: the ranks are the positions in order
        ranks[order] = np.arange(1, len(values) + 1)
        return ranks
    return pd.Series(values).rank(method="average").to_numpy(dtype=float, copy=True)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of ``x`` with ``y`` (0 when either is constant)."""
    finite = np.isfinite(x)
    if finite.sum() < 2:
        return 0.0
    rx = _ranks(x[finite])
    ry = _ranks(y[finite])
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
    rule = thirds(x)
    if rule is None:  # constant: no thirds
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    low, high = rule.masks(x)
    counted = (int(y[low].sum()), int(low.sum())), (int(y[high].sum()), int(high.sum()))
    spearman = _spearman(x, y) if low.any() and high.any() else 0.0
    return _counted_effect(x, rule, *counted, spearman, level, overall)


def _counted_effect(
    x: np.ndarray,
    rule: Thirds,
    low: tuple[int, int],
    high: tuple[int, int],
    spearman: float,
    level: float,
    overall: float,
) -> _Effect:
    """A parameter's effect from the whole run's counts ``(cases, trials)`` in its bottom and
    top thirds; the cut points' text comes from the sample ``x``."""
    (k_low, n_low), (k_high, n_high) = low, high
    if not (n_low and n_high):
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    d, d_lo, d_hi = newcombe_difference(k_high, n_high, k_low, n_low, level)
    in_low, in_high = rule.masks(x)
    return _Effect(
        p_low=float(k_low / n_low),
        p_high=float(k_high / n_high),
        difference=float(d),
        lo=float(d_lo),
        hi=float(d_hi),
        spearman=spearman,
        low=_cut_text(x, in_low, "low"),
        high=_cut_text(x, in_high, "high"),
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
    return _extreme_types(names, k, n, level)


def _extreme_types(names: np.ndarray, k: np.ndarray, n: np.ndarray, level: float) -> _Effect:
    """The likeliest type against the rarest, from cases ``k`` and trials ``n`` per type
    (types in sorted order, each with trials)."""
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


def pawn_binary(x: np.ndarray, y: np.ndarray, slices: int = PAWN_SLICES) -> np.ndarray:
    """The PAWN median index of each column of ``x`` for a yes/no outcome ``y``.

    The statistic of SALib's ``pawn.analyze``: each column is cut into ``slices`` conditioning
    intervals at its quantiles (``x`` in ``[q_s, q_s+1)``, NaN in none), and the index is the
    median over non-empty slices of the Kolmogorov-Smirnov distance between ``y`` in the slice
    and ``y`` overall. For 0/1 samples that distance is the gap between the two shares of
    zeros, ``|z_s / n_s - z / n|``, here the correctly rounded value of that fraction
    (``|z_s n - z n_s| / (n_s n)`` in integers), without one two-sample test per slice. SALib's
    numbers (through ``scipy.stats.ks_2samp``) are the same to about 1e-15 (a test checks it);
    0 where undefined.
    """
    y = np.asarray(y, dtype=bool)
    if x.shape[0] < 2 * slices or x.shape[1] == 0:
        return np.zeros(x.shape[1])
    step = 1 / slices
    cuts = np.arange(0, 1 + step, step)  # SALib's conditioning quantiles, as it writes them
    zeros = ~y
    total, total_zeros = len(y), int(zeros.sum())
    found = np.zeros(x.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column has no quantiles
        for column in range(x.shape[1]):
            values = x[:, column]
            q = np.nanquantile(values, cuts)
            # Slice s holds q_s <= x < q_s+1: the number of inner cuts at or below x; the
            # largest values (x = q_S) and NaN fall past the last slice, into none.
            where = np.searchsorted(q[1 : slices + 1], values, side="right")
            n = np.bincount(where, minlength=slices + 1)[:slices].astype(np.int64)
            z = np.bincount(where[zeros], minlength=slices + 1)[:slices].astype(np.int64)
            used = n > 0
            # |z/n_s - Z/N| as one fraction of integers, rounded once.
            gaps = np.abs(z[used] * total - total_zeros * n[used]) / (n[used] * total)
            found[column] = float(np.median(gaps)) if len(gaps) else 0.0
    return np.where(np.isfinite(found), found, 0.0)


def pawn_indices(
    trials: pd.DataFrame,
    parameters: Sequence[str],
    y: np.ndarray,
    types: Sequence[str] = (),
    seed: int = 0,
) -> dict[str, float]:
    """PAWN index of each parameter and type for the yes/no outcome ``y``, and the noise floor.

    Parameters use the statistic of SALib's ``pawn.analyze`` (median over
    :data:`PAWN_SLICES` equal-mass slices; :func:`pawn_binary`). A type's index is the same
    statistic with its categories as the slices: the median over types of
    ``|P(outcome | type) - P(outcome)|``. The entry :data:`DUMMY` is the index of a uniform
    column drawn independently (seeded): an index near it is indistinguishable from Monte
    Carlo noise.
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
    found = {name: float(value) for name, value in zip(names, pawn_binary(x, ys), strict=True)}
    overall = float(ys.mean()) if len(ys) else 0.0
    for column in types:
        labels = sample[column].astype(str).to_numpy()
        gaps = [abs(float(ys[labels == t].mean()) - overall) for t in np.unique(labels)]
        found[column] = float(np.median(gaps)) if len(gaps) > 1 else 0.0
    return found


@dataclass
class DriverCounts:
    """Outcome counts of a whole run in the groups :func:`drivers` compares.

    For a run whose table is only a sample: ``outcomes`` names the outcomes in the order of
    every count array; ``total`` counts the run's trials per outcome; ``cuts`` holds each
    parameter's :class:`Thirds` (cut in the sample) and ``low``/``high`` the trials per outcome
    in its bottom and top third; ``types`` maps a type column to its type names and a
    ``(types, outcomes)`` array of trials.
    """

    outcomes: list[str]
    total: np.ndarray
    cuts: dict[str, Thirds] = field(default_factory=dict)
    low: dict[str, np.ndarray] = field(default_factory=dict)
    high: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)

    def chosen(self, outcome: str | Sequence[str]) -> np.ndarray:
        """Boolean per outcome: is it ``outcome`` (or one of several)?"""
        names = {str(n) for n in ([outcome] if isinstance(outcome, str) else outcome)}
        return np.array([name in names for name in self.outcomes], dtype=bool)

    @staticmethod
    def cases(counts: np.ndarray, chosen: np.ndarray) -> tuple[int, int]:
        """``(trials in the chosen outcomes, all trials)`` of one group's counts."""
        counts = np.asarray(counts, dtype=np.int64)
        return int(counts[..., chosen].sum()), int(counts.sum())


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
    counts: DriverCounts | None = None,
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

    With ``counts`` (:class:`DriverCounts` of a whole run whose ``trials`` are a sample), the
    shares, differences and intervals count every trial of the run, in thirds cut in the
    sample; ``spearman`` and ``pawn`` read the sample.
    """
    names = [str(p) for p in parameters]
    types = type_columns(trials) if types is None else [str(t) for t in types]
    missing = [c for c in [*names, *types] if c not in trials.columns]
    if missing:
        raise KeyError(f"trials has no columns {missing}")
    y = indicator(trials, outcome)
    n = len(trials)
    if counts is None:
        overall = float(y.mean()) if n else 0.0
    else:
        chosen = counts.chosen(outcome)
        k_all, n_all = DriverCounts.cases(counts.total, chosen)
        overall = k_all / n_all if n_all else 0.0
    empty = _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    effects: list[tuple[str, str, _Effect]] = []
    for column in types:
        if not n:
            effect = empty
        elif counts is None:
            effect = _type_effect(trials[column], y, level, overall)
        else:
            effect = _counted_type_effect(counts, column, chosen, level, overall)
        effects.append((column, "type", effect))
    for name in names:
        if not n:
            effect = empty
        elif counts is None:
            effect = _parameter_effect(_numeric(trials, name), y, level, overall)
        elif name in counts.cuts:
            x = _numeric(trials, name)
            effect = _counted_effect(
                x,
                counts.cuts[name],
                DriverCounts.cases(counts.low[name], chosen),
                DriverCounts.cases(counts.high[name], chosen),
                _spearman(x, y),
                level,
                overall,
            )
        else:
            effect = empty
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


def _counted_type_effect(
    counts: DriverCounts, column: str, chosen: np.ndarray, level: float, overall: float
) -> _Effect:
    """A type column's effect from the whole run's trials per type and outcome."""
    kinds, table = counts.types[column]
    table = np.asarray(table, dtype=np.int64)
    n = table.sum(axis=1)
    present = n > 0
    if present.sum() < 2:
        return _Effect(overall, overall, 0.0, 0.0, 0.0, 0.0, "", "", False)
    names = np.asarray(kinds, dtype=str)[present]
    order = np.argsort(names, kind="stable")  # as np.unique orders the types of a table
    k = table[present][:, chosen].sum(axis=1).astype(float)
    return _extreme_types(names[order], k[order], n[present][order].astype(float), level)


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
    table = np.array(
        [[int((observed[labels == kind] == o).sum()) for o in outcomes] for kind in kinds],
        dtype=np.int64,
    ).reshape(len(kinds), len(outcomes))
    sizes = [int((labels == kind).sum()) for kind in kinds]
    return type_outcomes_counts(kinds, table, outcomes, level, sizes, len(trials))


def type_outcomes_counts(
    kinds: Sequence[str],
    table: np.ndarray,
    outcomes: Sequence[str],
    level: float = 0.95,
    sizes: Sequence[int] | None = None,
    trials: int | None = None,
) -> pd.DataFrame:
    """:func:`type_outcomes` from a ``(types, outcomes)`` array of trials.

    ``sizes`` (trials per type) and ``trials`` (all trials) default to the array's sums, which
    they are whenever ``outcomes`` lists every outcome.
    """
    table = np.asarray(table, dtype=np.int64)
    n = int(table.sum()) if trials is None else int(trials)
    sizes = table.sum(axis=1) if sizes is None else sizes
    rows = []
    for kind, counts, size in zip(kinds, table, sizes, strict=True):
        m = int(size)
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
