"""Proper scoring rules for forecasts against what happened, skill scores, reliability.

Pure functions over numpy arrays; they know nothing of scenarios or cases. Every score here is
negatively oriented: lower is better, 0 is a perfect forecast.

* **Brier score** of a forecast over K classes: ``sum_k (p_k - o_k)^2`` where ``o`` is one for
  the class that happened and zero elsewhere; between 0 and 2. The uniform forecast scores
  ``(K - 1) / K``. The binary Brier score is ``(p - y)^2``, between 0 and 1.
* **Log score** (ignorance, in nats): ``-ln p`` of what happened. A forecast that gave what
  happened a probability of zero would score infinity, so the probability is floored first:
  ``-ln max(p, floor)``. For a Monte Carlo forecast of ``n`` trials, :func:`log_floor` gives
  ``1 / (2 n)``: an outcome no trial reached has an estimated chance below ``1 / n``, and half a
  trial is the usual continuity correction. The same floor is applied to every forecast of the
  same case, so that a reference is not scored on other terms than the model.
* **Skill score** of a forecast against a reference: ``1 - mean(S) / mean(S_ref)`` over the same
  cases; 1 is perfect, 0 no better than the reference, negative worse. Its interval comes from a
  percentile bootstrap over cases with a fixed seed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from escalation.analysis.intervals import wilson_interval

__all__ = [
    "binary_brier",
    "binary_log_score",
    "bootstrap_skill",
    "brier_score",
    "log_floor",
    "log_score",
    "reliability",
    "skill_score",
]

#: How far a forecast's probabilities may sum from 1 (rounding in files and in shares).
TOLERANCE = 1e-6


def log_floor(trials: Any) -> Any:
    """The floor of the log score for a Monte Carlo forecast of ``trials`` trials: 1/(2n)."""
    n = np.asarray(trials, dtype=float)
    if np.any(n < 1):
        raise ValueError("trials must be at least 1")
    floor = 0.5 / n
    return float(floor) if floor.ndim == 0 else floor


def _forecasts(probabilities: Any, observed: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Probabilities as ``(n, K)`` and observed class indices as ``(n,)``, checked."""
    p = np.asarray(probabilities, dtype=float)
    single = p.ndim == 1
    p = np.atleast_2d(p)
    k = np.atleast_1d(np.asarray(observed))
    if p.ndim != 2 or k.ndim != 1 or len(k) != len(p):
        raise ValueError("give one row of class probabilities and one observed class per forecast")
    if not np.issubdtype(k.dtype, np.integer):
        raise ValueError("observed classes are given by their index")
    if np.any(k < 0) or np.any(k >= p.shape[1]):
        raise ValueError(f"an observed class index is outside 0..{p.shape[1] - 1}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("probabilities must be finite and between 0 and 1")
    if np.any(np.abs(p.sum(axis=1) - 1) > TOLERANCE):
        raise ValueError("each forecast's probabilities must sum to 1")
    return p, k.astype(np.int64), single


def _out(values: np.ndarray, single: bool) -> Any:
    return float(values[0]) if single else values


def brier_score(probabilities: Any, observed: Any) -> Any:
    """Brier score of forecasts over classes: ``sum_k (p_k - o_k)^2``, in [0, 2].

    Args:
        probabilities: ``(K,)`` for one forecast or ``(n, K)`` for n forecasts; each row sums
            to 1. Forecasts over fewer classes may be padded with zeros (a class nobody
            forecast and that did not happen adds nothing).
        observed: the index of the class that happened, one per forecast.

    Returns:
        a float for one forecast, an ``(n,)`` array for n.
    """
    p, k, single = _forecasts(probabilities, observed)
    outcome = np.zeros_like(p)
    outcome[np.arange(len(k)), k] = 1.0
    return _out(((p - outcome) ** 2).sum(axis=1), single)


def log_score(probabilities: Any, observed: Any, floor: Any) -> Any:
    """Log score ``-ln max(p_observed, floor)`` in nats; ``floor`` per forecast or shared."""
    p, k, single = _forecasts(probabilities, observed)
    eps = np.broadcast_to(np.asarray(floor, dtype=float), (len(k),))
    if np.any(eps <= 0) or np.any(eps > 1):
        raise ValueError("the floor must be in (0, 1]")
    return _out(-np.log(np.maximum(p[np.arange(len(k)), k], eps)), single)


def _binary(p: Any, happened: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    q = np.asarray(p, dtype=float)
    y = np.asarray(happened)
    single = q.ndim == 0 and y.ndim == 0
    try:
        q, y = np.broadcast_arrays(np.atleast_1d(q), np.atleast_1d(y))
    except ValueError:
        raise ValueError("give one observed yes/no per forecast") from None
    if not np.all(np.isfinite(q)) or np.any(q < 0) or np.any(q > 1):
        raise ValueError("probabilities must be finite and between 0 and 1")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError("what happened is 0 (no) or 1 (yes)")
    return q, y.astype(float), single


def binary_brier(p: Any, happened: Any) -> Any:
    """Brier score of yes/no forecasts: ``(p - y)^2``, in [0, 1]."""
    q, y, single = _binary(p, happened)
    return _out((q - y) ** 2, single)


def binary_log_score(p: Any, happened: Any, floor: Any) -> Any:
    """Log score of yes/no forecasts: ``-ln max(p, floor)`` if yes, ``-ln max(1 - p, floor)``."""
    q, y, single = _binary(p, happened)
    eps = np.broadcast_to(np.asarray(floor, dtype=float), q.shape)
    if np.any(eps <= 0) or np.any(eps > 1):
        raise ValueError("the floor must be in (0, 1]")
    given = np.where(y == 1, q, 1 - q)
    return _out(-np.log(np.maximum(given, eps)), single)


def skill_score(scores: Any, reference: Any) -> float:
    """``1 - mean(scores) / mean(reference)`` over the same cases; NaN if undefined.

    Undefined when there are no cases or the reference is perfect on them (mean 0).
    """
    s = np.asarray(scores, dtype=float)
    r = np.asarray(reference, dtype=float)
    if s.shape != r.shape or s.ndim != 1:
        raise ValueError("give one score and one reference score per case")
    if len(s) == 0 or r.mean() == 0:
        return math.nan
    return float(1 - s.mean() / r.mean())


def bootstrap_skill(
    scores: Any,
    reference: Any,
    resamples: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """The skill score and a percentile bootstrap interval over cases, with a fixed seed.

    Cases are resampled with replacement ``resamples`` times from
    ``numpy.random.default_rng(seed)``; a resample whose reference scores average zero has no
    skill score and is left out. Returns ``(skill, lo, hi)``; all NaN without cases.
    """
    s = np.asarray(scores, dtype=float)
    r = np.asarray(reference, dtype=float)
    point = skill_score(s, r)
    if len(s) == 0 or math.isnan(point):
        return point, math.nan, math.nan
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(s), size=(resamples, len(s)))
    ref_means = r[picks].mean(axis=1)
    kept = ref_means > 0
    skills = 1 - s[picks].mean(axis=1)[kept] / ref_means[kept]
    if len(skills) == 0:
        return point, math.nan, math.nan
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(skills, [tail, 100 - tail])
    return point, float(lo), float(hi)


def reliability(p: Any, happened: Any, bins: int = 5, level: float = 0.95) -> pd.DataFrame:
    """Yes/no forecasts grouped by probability, against how often the event happened.

    Forecasts fall into ``bins`` equal bins over [0, 1] (the last one closed). Returns one row
    per bin that holds a forecast: ``bin_lo, bin_hi, n, forecast`` (the bin's mean forecast),
    ``observed`` (the share that happened) and its Wilson interval ``lo, hi``. A reliable
    forecaster's points lie on the diagonal.
    """
    q, y, _ = _binary(p, happened)
    if bins < 1:
        raise ValueError("bins must be at least 1")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, q, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if n == 0:
            continue
        k = int(y[inside].sum())
        lo, hi = wilson_interval(k, n, level)
        rows.append(
            {
                "bin_lo": float(edges[b]),
                "bin_hi": float(edges[b + 1]),
                "n": n,
                "forecast": float(q[inside].mean()),
                "observed": k / n,
                "lo": float(lo),
                "hi": float(hi),
            }
        )
    columns = ["bin_lo", "bin_hi", "n", "forecast", "observed", "lo", "hi"]
    return pd.DataFrame(rows, columns=columns)
