"""Summaries of a Monte Carlo run: how the crisis ends and when (drivers: :mod:`.drivers`).

The functions here read the per-trial results table produced by the engine
(one row per trial, see the package documentation) and return small tidy
DataFrames that the charts and the report render.  They are pure and
vectorized, and they never emit NaN or inf: where a quantity is undefined
(no trials, an outcome that never happened) the documented sentinel is used
instead – ``0``/``(0, 1)`` for shares and their intervals, and pandas' ``<NA>``
(nullable ``Float64``) for days.

Each summary also has a ``*_counts`` form that takes counts instead of the table: outcome
counts, and for each violent outcome a histogram of first days (trials per day ``0..horizon``).
A run too large to keep its table accumulates those counts block by block; the two forms give
the same numbers to the last bit (the days are integers, so a histogram holds everything the
median, its interval and the survival curve read).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from escalation.analysis.intervals import median_interval, median_interval_counts, wilson_interval

__all__ = [
    "cumulative_incidence",
    "cumulative_incidence_counts",
    "median_day",
    "outcome_summary",
    "outcome_summary_counts",
    "survival",
    "survival_counts",
    "timing_summary",
    "timing_summary_counts",
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
    return outcome_summary_counts(counts, names, level)


def outcome_summary_counts(
    counts: Sequence[int] | np.ndarray, outcomes: Sequence[str], level: float = 0.95
) -> pd.DataFrame:
    """:func:`outcome_summary` from the count of trials in each outcome (in ``outcomes`` order).

    The number of trials is the sum of the counts.
    """
    names = [str(o) for o in outcomes]
    counts = np.asarray(counts, dtype=np.int64)
    if counts.shape != (len(names),):
        raise ValueError(f"{counts.size} counts for {len(names)} outcomes")
    n = int(counts.sum())
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
        rows.append(_timing_row(name, median_day(trials[column], level), n_trials))
    return _timing_frame(rows)


def timing_summary_counts(
    first_days: Mapping[str, np.ndarray], trials: int, level: float = 0.95
) -> pd.DataFrame:
    """:func:`timing_summary` from histograms of first days.

    ``first_days`` maps each violent outcome (ladder order) to its histogram: element ``d`` is
    the number of trials that first reached it (or a higher rung) on day ``d``; ``trials`` is
    the number of all trials, those that never reached it included.
    """
    rows = []
    for name, counts in first_days.items():
        counts = np.asarray(counts, dtype=np.int64)
        found = median_interval_counts(np.arange(counts.size), counts, level)
        rows.append(_timing_row(name, found, trials))
    return _timing_frame(rows)


def _timing_row(name: str, result: Mapping[str, object], n_trials: int) -> dict[str, object]:
    reached = int(result["n"] or 0)
    return {
        "outcome": str(name),
        "reached": reached,
        "share": reached / n_trials if n_trials else 0.0,
        "median_day": result["median"],
        "lo": result["lo"],
        "hi": result["hi"],
    }


def _timing_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
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
    return _survival_frame(days, reached, n, level)


def survival_counts(first_days: np.ndarray, trials: int, level: float = 0.95) -> pd.DataFrame:
    """:func:`survival` from a histogram of first days (see :func:`timing_summary_counts`).

    Its length is ``horizon + 1``; ``trials`` counts all trials.
    """
    counts = np.asarray(first_days, dtype=np.int64)
    days = np.arange(counts.size, dtype=np.int64)
    return _survival_frame(days, np.cumsum(counts), int(trials), level)


def _survival_frame(days: np.ndarray, reached: np.ndarray, n: int, level: float) -> pd.DataFrame:
    """The survival curve from the number of trials that reached the event by each day."""
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


def cumulative_incidence(
    trials: pd.DataFrame, violent: Sequence[str], horizon: int, level: float = 0.95
) -> pd.DataFrame:
    """P(a trial has reached each violent outcome's rung, or a higher one, by each day).

    One minus :func:`survival` of each ``day_<v>`` column, long format: columns ``outcome``,
    ``day`` (0..``horizon``), ``reached`` and its Wilson interval ``lo``/``hi``. The curves of
    a ladder are nested: reaching a higher rung counts as reaching every lower one.
    """
    curves = {name: survival(trials, f"day_{name}", horizon, level) for name in violent}
    return _incidence_frame(curves)


def cumulative_incidence_counts(
    first_days: Mapping[str, np.ndarray], trials: int, level: float = 0.95
) -> pd.DataFrame:
    """:func:`cumulative_incidence` from histograms of first days (see
    :func:`timing_summary_counts`)."""
    return _incidence_frame(
        {name: survival_counts(counts, trials, level) for name, counts in first_days.items()}
    )


def _incidence_frame(curves: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    frames = []
    for name, curve in curves.items():
        frames.append(
            pd.DataFrame(
                {
                    "outcome": str(name),
                    "day": curve["day"],
                    "reached": 1.0 - curve["surviving"],
                    "lo": 1.0 - curve["hi"],
                    "hi": 1.0 - curve["lo"],
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["outcome", "day", "reached", "lo", "hi"])
    return pd.concat(frames, ignore_index=True)
