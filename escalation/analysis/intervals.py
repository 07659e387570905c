"""Confidence intervals for the shares and medians reported by ``escalation``.

Everything here is a pure, vectorized function of counts or values; nothing
reads the model.  Three building blocks are provided:

* :func:`wilson_interval` – the Wilson score interval for a binomial share,
  with the exact limits at ``k = 0`` and ``k = n`` and the uninformative
  ``(0, 1)`` when ``n = 0``;
* :func:`newcombe_difference` – Newcombe's hybrid score interval (his method
  10, 1998) for a difference of two independent proportions, built from the
  two Wilson intervals;
* :func:`median_interval` – the sample median with a distribution-free
  confidence interval from binomial order statistics (and
  :func:`median_interval_counts`, the same from a histogram).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = [
    "median_interval",
    "median_interval_counts",
    "newcombe_difference",
    "wilson_interval",
    "z_value",
]


def z_value(level: float) -> float:
    """Return the two-sided standard-normal critical value for a confidence ``level``.

    ``level`` must lie strictly between 0 and 1 (``0.95`` gives about 1.96).
    """
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    return float(stats.norm.ppf(0.5 + float(level) / 2.0))


def _unwrap(a: np.ndarray) -> Any:
    """Return a Python float for a 0-d array and the array itself otherwise."""
    return float(a) if a.ndim == 0 else a


def wilson_interval(k: Any, n: Any, level: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for ``k`` successes out of ``n`` trials.

    ``k`` and ``n`` may be scalars or (broadcastable) numpy arrays; the result
    is a pair ``(lo, hi)`` of floats for scalar input and of arrays otherwise.
    Edge cases are exact rather than subject to rounding: ``lo == 0`` when
    ``k == 0``, ``hi == 1`` when ``k == n``, and ``(0, 1)`` when ``n == 0``
    (no information).  Raises ``ValueError`` unless ``0 <= k <= n``.
    """
    z = z_value(level)
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(n, dtype=float))
    if np.any(~np.isfinite(k_arr)) or np.any(~np.isfinite(n_arr)):
        raise ValueError("k and n must be finite")
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("wilson_interval needs 0 <= k <= n")
    z2 = z * z
    empty = n_arr <= 0
    n_safe = np.where(empty, 1.0, n_arr)
    k_safe = np.where(empty, 0.0, k_arr)
    denom = n_safe + z2
    centre = (k_safe + z2 / 2.0) / denom
    spread = np.maximum(k_safe * (n_safe - k_safe) / n_safe, 0.0)
    half = z / denom * np.sqrt(spread + z2 / 4.0)
    lo = np.clip(centre - half, 0.0, 1.0)
    hi = np.clip(centre + half, 0.0, 1.0)
    lo = np.where(k_safe <= 0, 0.0, lo)
    hi = np.where(k_safe >= n_safe, 1.0, hi)
    lo = np.where(empty, 0.0, lo)
    hi = np.where(empty, 1.0, hi)
    return _unwrap(lo), _unwrap(hi)


def newcombe_difference(
    k1: Any, n1: Any, k2: Any, n2: Any, level: float = 0.95
) -> tuple[Any, Any, Any]:
    """Difference ``p1 - p2`` of two independent proportions with Newcombe's interval.

    Uses Newcombe's hybrid score method (method 10 in Newcombe, *Statistics in
    Medicine* 1998): with Wilson limits ``(l1, u1)`` and ``(l2, u2)``, the
    interval is ``d - sqrt((p1-l1)^2 + (u2-p2)^2)`` to
    ``d + sqrt((u1-p1)^2 + (p2-l2)^2)``.  An empty group (``n == 0``) is
    treated as a share of 0 with the uninformative Wilson interval ``(0, 1)``,
    so the result is always finite and within ``[-1, 1]``.  Returns
    ``(difference, lo, hi)`` as floats for scalar input, arrays otherwise.
    """
    k1a, n1a, k2a, n2a = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (k1, n1, k2, n2))
    )
    l1, u1 = wilson_interval(k1a, n1a, level)
    l2, u2 = wilson_interval(k2a, n2a, level)
    p1 = np.divide(k1a, n1a, out=np.zeros_like(k1a), where=n1a > 0)
    p2 = np.divide(k2a, n2a, out=np.zeros_like(k2a), where=n2a > 0)
    d = p1 - p2
    lo = np.clip(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), -1.0, 1.0)
    hi = np.clip(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2), -1.0, 1.0)
    return _unwrap(d), _unwrap(lo), _unwrap(hi)


def median_interval(values: Any, level: float = 0.95) -> dict[str, float | int | None]:
    """Median of ``values`` with a distribution-free order-statistic interval.

    Missing and non-finite values (``NaN``, ``<NA>``, ``None``, ``inf``) are
    dropped first.  For the ``n`` remaining sorted values ``x(1) <= ... <=
    x(n)`` the interval is ``[x(j), x(n+1-j)]`` with the largest ``j`` such
    that ``P(B <= j-1) <= (1-level)/2`` for ``B ~ Binomial(n, 1/2)``; its
    exact coverage ``1 - 2 P(B <= j-1)`` is at least ``level`` and is returned
    as ``coverage``.  When ``n`` is too small for any such ``j`` the full range
    ``[x(1), x(n)]`` is returned and ``coverage`` reports the (smaller)
    coverage it actually has.

    Returns a dict with keys ``median``, ``lo``, ``hi`` (floats), ``n`` (int)
    and ``coverage`` (float).  When ``n == 0`` the sentinel is ``None`` for
    ``median``, ``lo``, ``hi`` and ``coverage`` – never NaN – so the result can
    be written to JSON or a table without producing NaN.
    """
    z_value(level)  # validates level
    x = _finite_values(values)
    n = int(x.size)
    if n == 0:
        return {"median": None, "lo": None, "hi": None, "n": 0, "coverage": None}
    x.sort()
    j, coverage = _median_rank(n, level)
    return {
        "median": float(np.median(x)),
        "lo": float(x[j - 1]),
        "hi": float(x[n - j]),
        "n": n,
        "coverage": coverage,
    }


def median_interval_counts(values: Any, counts: Any, level: float = 0.95) -> dict[str, Any]:
    """:func:`median_interval` of a sample given as its distinct values and their counts.

    ``values`` are finite numbers in increasing order and ``counts`` how often each occurs
    (a histogram, such as trials per first day of an outcome). The result is the one
    :func:`median_interval` gives on the sample written out value by value, to the last bit:
    the same ranks, the same order statistics, the median as the mean of the same middle
    pair. It lets a run that keeps no table of trials report medians exactly.
    """
    z_value(level)
    x = np.asarray(values, dtype=float)
    k = np.asarray(counts, dtype=np.int64)
    if x.shape != k.shape or x.ndim != 1:
        raise ValueError("values and counts must be 1-d arrays of one length")
    if np.any(k < 0) or np.any(~np.isfinite(x)) or np.any(np.diff(x) <= 0):
        raise ValueError("values must be finite and increasing, and counts non-negative")
    n = int(k.sum())
    if n == 0:
        return {"median": None, "lo": None, "hi": None, "n": 0, "coverage": None}
    ends = np.cumsum(k)

    def order(rank: int) -> float:
        """The value of 0-based rank ``rank`` in the sorted sample."""
        return float(x[int(np.searchsorted(ends, rank, side="right"))])

    j, coverage = _median_rank(n, level)
    middle = np.array([order((n - 1) // 2), order(n // 2)])  # one value twice when n is odd
    return {
        "median": float(np.median(middle)),
        "lo": order(j - 1),
        "hi": order(n - j),
        "n": n,
        "coverage": coverage,
    }


def _median_rank(n: int, level: float) -> tuple[int, float]:
    """The 1-based rank ``j`` of the median interval's lower end among ``n`` values, and the
    interval's exact coverage (see :func:`median_interval`)."""
    tail = (1.0 - float(level)) / 2.0
    tol = 1e-12
    m = int(stats.binom.ppf(tail, n, 0.5))
    while m >= 0 and stats.binom.cdf(m, n, 0.5) > tail + tol:
        m -= 1
    j = m + 1 if m >= 0 else 1  # 1-based rank of the lower order statistic
    j = min(j, (n + 1) // 2)
    coverage = float(max(0.0, 1.0 - 2.0 * stats.binom.cdf(j - 1, n, 0.5)))
    return j, coverage


def _finite_values(values: Any) -> np.ndarray:
    """Return the finite entries of ``values`` as a new float64 array."""
    series = values if isinstance(values, pd.Series) else pd.Series(np.ravel(values), dtype=object)
    numeric = pd.to_numeric(series, errors="raise").astype("Float64")
    arr = numeric.to_numpy(dtype=float, na_value=np.nan)
    return arr[np.isfinite(arr)].copy()
