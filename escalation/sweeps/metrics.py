"""What a sweep measures at each point: a small grammar of metric names.

::

    p:<outcome>[+<outcome>...]   share of trials ending in any of the outcomes (Wilson interval)
    median_day:<violent outcome> median first day on that outcome's rung, among trials that
                                 reached it (order-statistic interval)
    mean:<record>                mean per trial of a numeric per-trial record: sanctions:<actor>,
                                 aid:<actor>, met:<decider>, granted:<demand> (normal interval)

Outcome names are checked against the scenario's outcomes. Each metric gives three columns in
a sweep's points table: ``<metric>``, ``<metric>:lo`` and ``<metric>:hi`` (the 95% interval);
a ``median_day:`` metric also gives ``<metric>:n``, the number of trials its median rests on
(reports flag medians that rest on few trials).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from escalation.analysis import median_interval, wilson_interval, z_value
from escalation.model.records import BlockResult

#: Kinds of per-trial record a ``mean:`` metric can average.
MEAN_KINDS = ("float", "bool")
KINDS = ("p", "median_day", "mean")


@dataclass(frozen=True)
class Metric:
    """A parsed metric: its text (the column name), kind and arguments."""

    text: str
    kind: str
    args: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, str, str]:
        """The metric's column and its interval's columns."""
        return (self.text, f"{self.text}:lo", f"{self.text}:hi")


def parse_metric(
    text: str,
    outcomes: Sequence[str],
    violent: Sequence[str],
    means: Sequence[str] = (),
) -> Metric:
    """Parse and check a metric name; raise :class:`ValueError` saying what is wrong.

    ``means`` lists the per-trial records a ``mean:`` metric may average.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(
            f"'{text}' is not a metric; write p:<outcome>, median_day:<outcome> or mean:<record>"
        )
    kind, _, rest = text.partition(":")
    kind, rest = kind.strip(), rest.strip()
    if kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; expected {', '.join(KINDS)}"
        raise ValueError(f"unknown metric kind '{kind}'{hint}")
    if kind == "mean":
        if rest not in means:
            close = difflib.get_close_matches(rest, list(means), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ValueError(
                f"'mean:' takes a numeric per-trial record; {hint}got '{rest}' "
                f"(records: {', '.join(means)})"
            )
        return Metric(f"mean:{rest}", kind, (rest,))
    allowed = list(outcomes) if kind == "p" else list(violent)
    names = [part.strip() for part in rest.split("+")] if kind == "p" else [rest]
    for name in names:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            what = "an outcome" if kind == "p" else "a violent outcome (a ladder rung's outcome)"
            hint = f"; did you mean '{close[0]}'?" if close else f"; expected {', '.join(allowed)}"
            raise ValueError(f"'{name}' is not {what} of the scenario{hint}")
    if len(set(names)) != len(names):
        raise ValueError(f"'{text}' names an outcome twice")
    return Metric(f"{kind}:{'+'.join(names)}", kind, tuple(names))


def compute_metrics(
    metrics: Sequence[Metric],
    outcomes: Sequence[str],
    violent: Sequence[str],
    blocks: Sequence[BlockResult],
    level: float = 0.95,
) -> dict[str, float]:
    """Every metric with its interval, from the block results of one point."""
    outcome = np.concatenate([b.outcome for b in blocks])
    n = len(outcome)
    row: dict[str, float] = {}
    for metric in metrics:
        if metric.kind == "p":
            codes = [list(outcomes).index(name) for name in metric.args]
            k = int(np.isin(outcome, codes).sum())
            lo, hi = wilson_interval(k, n, level)
            value = k / n if n else 0.0
        elif metric.kind == "median_day":
            days = np.concatenate([b.records[f"day_{metric.args[0]}"] for b in blocks])
            found = median_interval(days[days >= 0], level)
            value, lo, hi = (
                (math.nan, math.nan, math.nan)
                if found["median"] is None
                else (found["median"], found["lo"], found["hi"])
            )
            row[f"{metric.text}:n"] = float(found["n"])
        else:
            values = np.concatenate([b.records[metric.args[0]] for b in blocks]).astype(float)
            value = float(values.mean()) if n else math.nan
            half = z_value(level) * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
            lo, hi = value - half, value + half
        text, lo_col, hi_col = metric.columns
        row[text], row[lo_col], row[hi_col] = float(value), float(lo), float(hi)
    return row
