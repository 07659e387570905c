"""Summaries of a Monte Carlo run: how the crisis ends, when, and why.

The functions here read the per-trial results table produced by the engine
(one row per trial, see the package documentation) and return small tidy
DataFrames that the charts and the report render.  They are pure and
vectorized, and they never emit NaN or inf: where a quantity is undefined
(no trials, an outcome that never happened) the documented sentinel is used
instead – ``0``/``(0, 1)`` for shares and their intervals, and pandas' ``<NA>``
(nullable ``Float64``) for days.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from escalation.analysis.intervals import median_interval, newcombe_difference, wilson_interval

__all__ = [
    "drivers",
    "median_day",
    "outcome_summary",
    "survival",
    "timing_summary",
]


def outcome_summary(
    trials: pd.DataFrame, outcomes: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """Share of trials ending in each outcome, with Wilson intervals.

    Returns one row per entry of ``outcomes``, in that order and including
    outcomes that never occurred, with columns ``outcome`` (str), ``count``
    (int64), ``probability`` (float64) and ``lo``/``hi`` (the Wilson interval
    at ``level``).  Probabilities sum to 1 whenever there is at least one
    trial; with no trials every probability is 0 and every interval ``(0, 1)``.
    Raises ``ValueError`` if ``trials["outcome"]`` holds a name that is not in
    ``outcomes`` or if ``outcomes`` repeats a name.
    """
    names = [str(o) for o in outcomes]
    if len(set(names)) != len(names):
        raise ValueError(f"outcomes contains duplicates: {names}")
    observed = trials["outcome"].astype(str)
    unknown = sorted(set(observed.unique()) - set(names))
    if unknown:
        raise ValueError(f"trials contain outcomes not in the outcome list: {unknown}")
    counts = observed.value_counts().reindex(names, fill_value=0).to_numpy(dtype=np.int64)
    n = len(trials)
    probability = counts / n if n else np.zeros(len(names))
    lo, hi = wilson_interval(counts, np.full(len(names), n), level)
    return pd.DataFrame(
        {
            "outcome": pd.Series(names, dtype=object),
            "count": counts,
            "probability": probability.astype(float),
            "lo": np.asarray(lo, dtype=float),
            "hi": np.asarray(hi, dtype=float),
        }
    )


def median_day(days: object, level: float = 0.95) -> dict[str, float | int | None]:
    """Median of the non-missing ``days`` with an order-statistic confidence interval.

    ``days`` is any 1-d collection of numbers that may contain missing values
    (typically a nullable ``Int64`` column such as ``day_full_scale_invasion``
    where ``<NA>`` means "never reached"); missing and non-finite entries are
    ignored.  The interval is distribution-free: ranks are chosen from the
    Binomial(n, 1/2) distribution (see
    :func:`escalation.analysis.intervals.median_interval`).

    Returns ``{"median", "lo", "hi", "n", "coverage"}``.  ``coverage`` is the
    exact coverage of the order-statistic interval (>= ``level`` unless n is
    tiny).  **Sentinel:** when ``n == 0`` the ``median``, ``lo``, ``hi`` and
    ``coverage`` fields are ``None`` (never NaN).
    """
    return median_interval(days, level)


def timing_summary(
    trials: pd.DataFrame, violent: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """How often and how soon each violent outcome (or worse) was reached.

    For every name ``v`` in ``violent`` (ladder order) the column ``day_<v>``
    is read.  Returns columns ``outcome``, ``reached`` (trials that reached
    ``v`` or a higher rung, int64), ``share`` (``reached`` over all trials; 0
    when there are none), ``median_day`` and ``lo``/``hi`` (its order-statistic
    interval, see :func:`median_day`).  The three day columns are nullable
    ``Float64`` holding ``<NA>`` – not NaN – when nothing reached the rung.
    Raises ``KeyError`` naming the missing column if a ``day_<v>`` is absent.
    """
    n_trials = len(trials)
    rows: list[dict[str, object]] = []
    for name in violent:
        column = f"day_{name}"
        if column not in trials.columns:
            raise KeyError(f"trials has no column {column!r} for violent outcome {name!r}")
        result = median_day(trials[column], level)
        reached = int(result["n"] or 0)
        rows.append(
            {
                "outcome": str(name),
                "reached": reached,
                "share": reached / n_trials if n_trials else 0.0,
                "median_day": result["median"],
                "lo": result["lo"],
                "hi": result["hi"],
            }
        )
    return pd.DataFrame(
        {
            "outcome": pd.Series([r["outcome"] for r in rows], dtype=object),
            "reached": pd.Series([r["reached"] for r in rows], dtype="int64"),
            "share": pd.Series([r["share"] for r in rows], dtype="float64"),
            "median_day": pd.array([r["median_day"] for r in rows], dtype="Float64"),
            "lo": pd.array([r["lo"] for r in rows], dtype="Float64"),
            "hi": pd.array([r["hi"] for r in rows], dtype="Float64"),
        }
    )


def survival(
    trials: pd.DataFrame, day_column: str, horizon: int, level: float = 0.95
) -> pd.DataFrame:
    """Share of all trials that have not reached an event by the end of each day.

    ``day_column`` names a first-passage column such as
    ``"day_full_scale_invasion"`` (``<NA>`` = never reached); a bare outcome
    name is accepted too when ``day_<name>`` exists.  Returns columns ``day``
    (0..``horizon``), ``surviving`` and its Wilson interval ``lo``/``hi``,
    where ``surviving[d] = 1 - #{trials with day <= d} / N``.

    This is an empirical share, not a Kaplan–Meier estimate, on purpose: no
    trial is censored.  Every trial is simulated to the horizon or to an
    absorbing end (a settlement, a stand-down, nuclear use), and a trial that
    ended peacefully is *known* never to reach the event – treating it as
    censored, as Kaplan–Meier would, would overstate the risk.  The curve is
    therefore one minus the cumulative incidence of the event, and each day is
    a plain binomial share of all N trials.  It is non-increasing by
    construction.  With no trials the curve is 1 with the interval ``(0, 1)``.
    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    column = day_column
    if column not in trials.columns and f"day_{column}" in trials.columns:
        column = f"day_{column}"
    if column not in trials.columns:
        raise KeyError(f"trials has no column {day_column!r}")
    n = len(trials)
    days = np.arange(int(horizon) + 1, dtype=np.int64)
    values = pd.to_numeric(trials[column]).astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    values = np.sort(values[np.isfinite(values)])
    reached = np.searchsorted(values, days, side="right")
    alive = n - reached
    surviving = alive / n if n else np.ones(days.size)
    lo, hi = wilson_interval(alive, np.full(days.size, n), level)
    return pd.DataFrame(
        {
            "day": days,
            "surviving": surviving.astype(float),
            "lo": np.asarray(lo, dtype=float),
            "hi": np.asarray(hi, dtype=float),
        }
    )


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
    q_low, q_high = np.quantile(xs, [1.0 / 3.0, 2.0 / 3.0])
    if xs.min() == xs.max():
        return empty, empty
    if q_low < q_high:
        return finite & (x <= q_low), finite & (x >= q_high)
    cut = q_low
    if (xs > cut).any():
        return finite & (x <= cut), finite & (x > cut)
    return finite & (x < cut), finite & (x >= cut)


def _spearman(ranks: np.ndarray, y_rank: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of ``ranks`` with ``y_rank`` (0 if undefined).

    ``ranks`` is overwritten: working in place saves two n x P copies on large runs.
    """
    rc = ranks
    rc -= ranks.mean(axis=0, keepdims=True)
    yc = y_rank - y_rank.mean()
    num = rc.T @ yc
    np.square(rc, out=rc)
    den = np.sqrt(rc.sum(axis=0) * (yc**2).sum())
    ok = den > 1e-12 * max(1.0, float(len(y_rank))) ** 2
    out = np.zeros(ranks.shape[1], dtype=float)
    out[ok] = num[ok] / den[ok]
    return np.clip(out, -1.0, 1.0)


def drivers(
    trials: pd.DataFrame, parameters: Sequence[str], outcome: str, level: float = 0.95
) -> pd.DataFrame:
    """Which uncertain parameters push the crisis towards ``outcome``.

    For each parameter column, with ``X`` the indicator ``trials.outcome ==
    outcome``:

    * ``spearman`` – Spearman rank correlation between the parameter and
      ``X`` (average ranks for ties; 0 when either is constant);
    * ``p_low``/``p_high`` – P(X) among trials whose parameter lies in its
      bottom / top third (see ``_thirds`` for how ties are split);
    * ``difference = p_high - p_low`` with ``lo``/``hi`` its confidence
      interval at ``level`` by **Newcombe's hybrid score method** (built from
      the two Wilson intervals; not a normal approximation).

    Rows are sorted by ``|difference|`` (largest first; ties keep the order of
    ``parameters``).  A parameter that is constant across trials – and every
    parameter when there are no trials – is reported with ``spearman = 0``,
    ``p_low = p_high =`` the overall share (0 with no trials) and
    ``difference = lo = hi = 0``: it cannot have moved the outcome in this
    sample.  No NaN is ever returned.  Parameter values that are NaN are left
    out of the thirds for that parameter.
    """
    names = [str(p) for p in parameters]
    missing = [p for p in names if p not in trials.columns]
    if missing:
        raise KeyError(f"trials has no parameter columns {missing}")
    n = len(trials)
    y = (trials["outcome"].astype(str) == str(outcome)).to_numpy(dtype=bool)
    overall = float(y.mean()) if n else 0.0
    columns = {
        "parameter": pd.Series(names, dtype=object),
        "spearman": np.zeros(len(names)),
        "p_low": np.full(len(names), overall),
        "p_high": np.full(len(names), overall),
        "difference": np.zeros(len(names)),
        "lo": np.zeros(len(names)),
        "hi": np.zeros(len(names)),
    }
    if n and names:
        values = trials[names].apply(pd.to_numeric).astype(float).to_numpy()
        # Ranked one column at a time: ranking the whole table holds several n x P buffers.
        ranks = np.empty_like(values)
        for i in range(len(names)):
            ranks[:, i] = pd.Series(values[:, i]).rank(method="average").to_numpy()
        y_rank = pd.Series(y.astype(float)).rank(method="average").to_numpy()
        if not np.isfinite(ranks).all():
            # NaN parameter values get the mean rank so they do not move the correlation.
            col_means = np.nanmean(np.where(np.isfinite(ranks), ranks, np.nan), axis=0)
            col_means = np.where(np.isfinite(col_means), col_means, 0.0)
            ranks = np.where(np.isfinite(ranks), ranks, col_means)
        columns["spearman"] = _spearman(ranks, y_rank)

        k_low = np.zeros(len(names))
        n_low = np.zeros(len(names))
        k_high = np.zeros(len(names))
        n_high = np.zeros(len(names))
        varies = np.zeros(len(names), dtype=bool)
        for i in range(len(names)):
            low, high = _thirds(values[:, i])
            varies[i] = low.any() and high.any()
            k_low[i], n_low[i] = y[low].sum(), low.sum()
            k_high[i], n_high[i] = y[high].sum(), high.sum()
        diff, lo, hi = newcombe_difference(k_high, n_high, k_low, n_low, level)
        p_low = np.divide(k_low, n_low, out=np.full(len(names), overall), where=n_low > 0)
        p_high = np.divide(k_high, n_high, out=np.full(len(names), overall), where=n_high > 0)
        columns["p_low"] = np.where(varies, p_low, overall)
        columns["p_high"] = np.where(varies, p_high, overall)
        columns["difference"] = np.where(varies, diff, 0.0)
        columns["lo"] = np.where(varies, lo, 0.0)
        columns["hi"] = np.where(varies, hi, 0.0)
        columns["spearman"] = np.where(varies, columns["spearman"], 0.0)

    table = pd.DataFrame(columns)
    order = np.argsort(-np.abs(table["difference"].to_numpy()), kind="stable")
    return table.iloc[order].reset_index(drop=True)
