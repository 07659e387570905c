"""What a sweep measures at each point: a small grammar of metric names.

::

    p:<outcome>[+<outcome>...]   share of trials ending in any of the outcomes (Wilson interval)
    median_day:<violent outcome> median first day on that outcome's rung, among trials that
                                 reached it (order-statistic interval)
    mean:<record>                mean per trial of a numeric per-trial record: sanctions:<actor>,
                                 aid:<actor>, met:<decider>, granted:<demand> (normal interval)
    share:<record>=<value>       share of trials whose categorical record has that value:
                                 war:<decider>=won, type:<decider>=<type>, exit:<decider>=ended,
                                 peak:<decider>=<rung> (Wilson interval)

Outcome names are checked against the scenario's outcomes, records and their values against
the scenario's records. Each metric gives three columns in a sweep's points table:
``<metric>``, ``<metric>:lo`` and ``<metric>:hi`` (the 95% interval); a ``median_day:``
metric also gives ``<metric>:n``, the number of trials its median rests on (reports flag
medians that rest on few trials).

Each kind is an entry of :data:`METRIC_KINDS` (how its text is read, how a point's blocks are
measured), so a new kind of metric is one class and one registry entry.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from escalation.analysis import median_interval, wilson_interval, z_value
from escalation.model.plan import Plan
from escalation.model.records import BlockResult, record_specs
from escalation.scenario.schema import Scenario

#: Kinds of per-trial record a ``mean:`` metric can average.
MEAN_KINDS = ("float", "bool")
#: Kinds of per-trial record a ``share:`` metric can count values of.
SHARE_KINDS = ("code",)


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

    @property
    def is_share(self) -> bool:
        """Whether the metric is a share of trials (shown in percent, on one scale)."""
        return METRIC_KINDS[self.kind].is_share


@dataclass(frozen=True)
class Vocabulary:
    """What metrics of one scenario may name: outcomes, violent outcomes and records.

    ``means`` are the numeric per-trial records; ``categories`` maps each categorical record
    to the values it takes.
    """

    outcomes: Sequence[str]
    violent: Sequence[str]
    means: Sequence[str] = ()
    categories: Mapping[str, Sequence[str]] = field(default_factory=dict)


def vocabulary(scenario: Scenario) -> Vocabulary:
    """What metrics of ``scenario`` may name, read from its per-trial records."""
    specs = record_specs(Plan.from_scenario(scenario))
    return Vocabulary(
        outcomes=tuple(scenario.outcomes),
        violent=tuple(scenario.violent_outcomes),
        means=tuple(spec.name for spec in specs if spec.kind in MEAN_KINDS),
        categories={spec.name: spec.categories for spec in specs if spec.kind in SHARE_KINDS},
    )


def _close(word: str, choices: Sequence[str]) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1)
    return f"did you mean '{found[0]}'? " if found else ""


class ShareOfOutcomes:
    """``p:a+b``: the share of trials ending in any of the outcomes."""

    is_share = True

    def parse(self, rest: str, words: Vocabulary) -> tuple[str, ...]:
        """The outcomes named, checked."""
        names = tuple(part.strip() for part in rest.split("+"))
        for name in names:
            if name not in words.outcomes:
                close = difflib.get_close_matches(name, list(words.outcomes), n=1)
                hint = (
                    f"; did you mean '{close[0]}'?"
                    if close
                    else f"; expected {', '.join(words.outcomes)}"
                )
                raise ValueError(f"'{name}' is not an outcome of the scenario{hint}")
        if len(set(names)) != len(names):
            raise ValueError(f"'p:{rest}' names an outcome twice")
        return names

    def text(self, args: tuple[str, ...]) -> str:
        """The metric's canonical text."""
        return "p:" + "+".join(args)

    def measure(
        self, args: tuple[str, ...], blocks: Sequence[BlockResult], words: Vocabulary, level: float
    ) -> tuple[float, float, float, dict[str, float]]:
        """Value, interval and any extra columns."""
        outcome = np.concatenate([b.outcome for b in blocks])
        codes = [list(words.outcomes).index(name) for name in args]
        return _share(int(np.isin(outcome, codes).sum()), len(outcome), level)


class MedianDay:
    """``median_day:x``: the median first day on a violent outcome's rung, among trials there."""

    is_share = False

    def parse(self, rest: str, words: Vocabulary) -> tuple[str, ...]:
        """The violent outcome named, checked."""
        if rest not in words.violent:
            close = difflib.get_close_matches(rest, list(words.violent), n=1)
            hint = (
                f"; did you mean '{close[0]}'?"
                if close
                else f"; expected {', '.join(words.violent)}"
            )
            raise ValueError(
                f"'{rest}' is not a violent outcome (a ladder rung's outcome) of the scenario{hint}"
            )
        return (rest,)

    def text(self, args: tuple[str, ...]) -> str:
        """The metric's canonical text."""
        return f"median_day:{args[0]}"

    def measure(
        self, args: tuple[str, ...], blocks: Sequence[BlockResult], words: Vocabulary, level: float
    ) -> tuple[float, float, float, dict[str, float]]:
        """Median, its order-statistic interval and the trials it rests on (``:n``)."""
        days = np.concatenate([b.records[f"day_{args[0]}"] for b in blocks])
        found = median_interval(days[days >= 0], level)
        extra = {":n": float(found["n"])}
        if found["median"] is None:
            return math.nan, math.nan, math.nan, extra
        return float(found["median"]), float(found["lo"]), float(found["hi"]), extra


class MeanOfRecord:
    """``mean:r``: the mean per trial of a numeric per-trial record."""

    is_share = False

    def parse(self, rest: str, words: Vocabulary) -> tuple[str, ...]:
        """The record named, checked."""
        if rest not in words.means:
            raise ValueError(
                f"'mean:' takes a numeric per-trial record; {_close(rest, words.means)}got "
                f"'{rest}' (records: {', '.join(words.means)})"
            )
        return (rest,)

    def text(self, args: tuple[str, ...]) -> str:
        """The metric's canonical text."""
        return f"mean:{args[0]}"

    def measure(
        self, args: tuple[str, ...], blocks: Sequence[BlockResult], words: Vocabulary, level: float
    ) -> tuple[float, float, float, dict[str, float]]:
        """Mean and its normal interval."""
        values = np.concatenate([b.records[args[0]] for b in blocks]).astype(float)
        n = len(values)
        value = float(values.mean()) if n else math.nan
        half = z_value(level) * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        return value, value - half, value + half, {}


class ShareOfValue:
    """``share:r=v``: the share of trials whose categorical record ``r`` has the value ``v``."""

    is_share = True

    def parse(self, rest: str, words: Vocabulary) -> tuple[str, ...]:
        """The record and its value, checked."""
        record, equals, value = (part.strip() for part in rest.rpartition("="))
        names = list(words.categories)
        if not equals:
            example = f"{names[0]}={words.categories[names[0]][0]}" if names else "record=value"
            raise ValueError(f"'share:' takes <record>=<value>, e.g. 'share:{example}'")
        if record not in words.categories:
            raise ValueError(
                f"'share:' takes a categorical per-trial record; {_close(record, names)}got "
                f"'{record}' (records: {', '.join(names)})"
            )
        values = list(words.categories[record])
        if value not in values:
            raise ValueError(
                f"'{value}' is not a value of '{record}'; {_close(value, values)}"
                f"expected {', '.join(values)}"
            )
        return (record, value)

    def text(self, args: tuple[str, ...]) -> str:
        """The metric's canonical text."""
        return f"share:{args[0]}={args[1]}"

    def measure(
        self, args: tuple[str, ...], blocks: Sequence[BlockResult], words: Vocabulary, level: float
    ) -> tuple[float, float, float, dict[str, float]]:
        """Share and its Wilson interval."""
        code = list(words.categories[args[0]]).index(args[1])
        values = np.concatenate([b.records[args[0]] for b in blocks])
        return _share(int((values == code).sum()), len(values), level)


def _share(k: int, n: int, level: float) -> tuple[float, float, float, dict[str, float]]:
    lo, hi = wilson_interval(k, n, level)
    return (k / n if n else 0.0), float(lo), float(hi), {}


#: Every kind of metric, by the word before its first colon.
METRIC_KINDS: dict[str, ShareOfOutcomes | MedianDay | MeanOfRecord | ShareOfValue] = {
    "p": ShareOfOutcomes(),
    "median_day": MedianDay(),
    "mean": MeanOfRecord(),
    "share": ShareOfValue(),
}
KINDS = tuple(METRIC_KINDS)


def is_share(text: str) -> bool:
    """Whether a metric's column holds a share of trials (read from its text)."""
    kind = METRIC_KINDS.get(text.partition(":")[0])
    return kind is not None and kind.is_share


def parse_metric(
    text: str,
    outcomes: Sequence[str],
    violent: Sequence[str],
    means: Sequence[str] = (),
    categories: Mapping[str, Sequence[str]] | None = None,
) -> Metric:
    """Parse and check a metric name; raise :class:`ValueError` saying what is wrong.

    ``means`` lists the per-trial records a ``mean:`` metric may average, ``categories`` the
    categorical records a ``share:`` metric may count, with their values.
    """
    if not isinstance(text, str) or ":" not in text:
        raise ValueError(
            f"'{text}' is not a metric; write "
            "p:<outcome>, median_day:<outcome>, mean:<record> or share:<record>=<value>"
        )
    kind, _, rest = text.partition(":")
    kind, rest = kind.strip(), rest.strip()
    if kind not in METRIC_KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; expected {', '.join(KINDS)}"
        raise ValueError(f"unknown metric kind '{kind}'{hint}")
    words = Vocabulary(outcomes, violent, means, categories or {})
    args = METRIC_KINDS[kind].parse(rest, words)
    return Metric(METRIC_KINDS[kind].text(args), kind, args)


def compute_metrics(
    metrics: Sequence[Metric],
    outcomes: Sequence[str],
    violent: Sequence[str],
    blocks: Sequence[BlockResult],
    level: float = 0.95,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """Every metric with its interval, from the block results of one point."""
    words = Vocabulary(outcomes, violent, categories=categories or {})
    row: dict[str, float] = {}
    for metric in metrics:
        value, lo, hi, extra = METRIC_KINDS[metric.kind].measure(metric.args, blocks, words, level)
        text, lo_col, hi_col = metric.columns
        row[text], row[lo_col], row[hi_col] = float(value), float(lo), float(hi)
        row.update({f"{text}{suffix}": v for suffix, v in extra.items()})
    return row
