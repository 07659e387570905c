"""Several scenarios played with the same seed and trials, their outcomes side by side.

Every scenario is played with the same seed and number of trials (common random numbers), so
trial ``i`` starts from the same random stream in each. Besides each scenario's outcome
probabilities with Wilson intervals, the table gives the paired difference from the first
scenario: the mean over trials of (outcome here) minus (outcome in the first), with a normal
interval from the per-trial differences, which common random numbers make narrow where the
scenarios agree trial by trial.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation import charts
from escalation.analysis import z_value
from escalation.engine.play import as_scenario, play, versions, with_overrides
from escalation.engine.results import RunResult, write_folder
from escalation.scenario.load import scenario_hash
from escalation.scenario.schema import Scenario
from escalation.sweep.report import compare_figure

CRN_COMPARE = (
    "Every scenario is played with the same seed and number of trials (common random numbers): "
    "trial i starts from the same random stream in each, so differences between scenarios come "
    "from the scenarios, not from different draws. The paired difference from the first "
    "scenario uses this: its interval comes from the per-trial differences."
)


@dataclass
class CompareResult:
    """Outcome distributions of several scenarios played with common random numbers.

    Attributes:
        labels: one label per scenario (its file name, or its name).
        results: each scenario's run.
        table: one row per scenario and outcome: ``scenario, outcome, count, probability, lo,
            hi, difference, diff_lo, diff_hi`` (difference from the first scenario).
        info: what ``run.json`` records.
    """

    labels: list[str]
    results: list[RunResult]
    table: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def figure(self):
        """The grouped bar chart of outcome probabilities."""
        return compare_figure(self.table, self.labels)

    def write(self, out: str | Path) -> Path:
        """Write ``compare.csv``, ``run.json`` and ``report.html`` into ``out``, atomically."""
        return write_folder(out, self._write_files)

    def _write_files(self, folder: Path) -> None:
        self.table.to_csv(folder / "compare.csv", index=False, float_format="%.6g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        wide = self.table.pivot(index="outcome", columns="scenario", values="probability")
        wide = wide.reindex(index=list(dict.fromkeys(self.table["outcome"])), columns=self.labels)
        n = self.info["trials"]
        charts.write_report(
            folder / "report.html",
            "escalation: " + " vs ".join(self.labels),
            [
                (
                    "How the crisis ends",
                    self.figure(),
                    f"Share of {n:,} trials per scenario ending in each outcome, with 95% "
                    "Wilson intervals.",
                )
            ],
            tables=[
                ("Probabilities", wide.reset_index()),
                ("Every number", self.table),
            ],
            intro=[
                f"{len(self.labels)} scenarios, {n:,} trials each, seed {self.info['seed']}.",
                CRN_COMPARE,
            ],
        )


def _labels(sources: Sequence[str | Path | Scenario], scenarios: Sequence[Scenario]) -> list[str]:
    labels = []
    for source, scenario in zip(sources, scenarios, strict=True):
        label = scenario.name if isinstance(source, Scenario) else Path(source).stem
        base, k = label, 2
        while label in labels:
            label, k = f"{base} ({k})", k + 1
        labels.append(label)
    return labels


def _paired(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean of ``b - a`` over paired trials, with a normal interval."""
    d = b.astype(float) - a.astype(float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, -1.0, 1.0
    half = z_value(level) * float(d.std(ddof=1)) / math.sqrt(len(d))
    return mean, max(mean - half, -1.0), min(mean + half, 1.0)


def compare_scenarios(
    sources: Sequence[str | Path | Scenario],
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_scenario: Callable[[int, int, str], None] | None = None,
    level: float = 0.95,
) -> CompareResult:
    """Play every scenario with the same seed and trials; tabulate their outcomes.

    ``trials`` and ``seed`` default to the first scenario's. ``on_scenario(done, total,
    label)`` is called before each scenario is played.
    """
    if len(sources) < 2:
        raise ValueError("compare needs at least two scenarios")
    loaded = [as_scenario(source) for source in sources]
    trials = loaded[0].trials if trials is None else trials
    seed = loaded[0].seed if seed is None else seed
    labels = _labels(sources, loaded)
    scenarios = [with_overrides(s, trials, seed, horizon) for s in loaded]
    results = []
    for index, (label, scenario) in enumerate(zip(labels, scenarios, strict=True)):
        if on_scenario is not None:
            on_scenario(index, len(scenarios), label)
        results.append(play(scenario, workers=workers))
    if on_scenario is not None:
        on_scenario(len(scenarios), len(scenarios), "")

    outcomes = list(dict.fromkeys(o for s in scenarios for o in s.outcomes))
    first = results[0].trials["outcome"].astype(str).to_numpy()
    rows = []
    for label, result in zip(labels, results, strict=True):
        observed = result.trials["outcome"].astype(str).to_numpy()
        summary = result.summary.set_index("outcome")
        for outcome in outcomes:
            if outcome in summary.index:
                count, p, lo, hi = summary.loc[outcome, ["count", "probability", "lo", "hi"]]
            else:
                count, p, lo, hi = 0, 0.0, *_empty(len(observed), level)
            d, d_lo, d_hi = _paired(first == outcome, observed == outcome, level)
            rows.append(
                {
                    "scenario": label,
                    "outcome": outcome,
                    "count": int(count),
                    "probability": float(p),
                    "lo": float(lo),
                    "hi": float(hi),
                    "difference": d,
                    "diff_lo": d_lo,
                    "diff_hi": d_hi,
                }
            )
    table = pd.DataFrame(rows)
    info = {
        "scenarios": [
            {
                "label": label,
                "source": None if isinstance(source, Scenario) else str(source),
                "name": scenario.name,
                "scenario_hash": scenario_hash(scenario),
                "horizon": scenario.horizon,
                "timings_seconds": result.info.get("timings_seconds"),
            }
            for label, source, scenario, result in zip(
                labels, sources, scenarios, results, strict=True
            )
        ],
        "trials": trials,
        "seed": seed,
        "workers": workers,
        "common_random_numbers": CRN_COMPARE,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    return CompareResult(labels=labels, results=results, table=table, info=info)


def _empty(n: int, level: float) -> tuple[float, float]:
    from escalation.analysis import wilson_interval

    lo, hi = wilson_interval(0, n, level)
    return float(lo), float(hi)
