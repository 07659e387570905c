"""The result of a run: trials and timeline as DataFrames, summaries, figures, atomic files.

:func:`assemble` turns block results into one table of trials (inputs beside outcomes, one row
per trial, EMA-Workbench style) and one timeline. :class:`RunResult` computes summaries on
demand and writes the five output files into a folder that appears only once complete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation import analysis, charts
from escalation.engine.folders import OutputError as OutputError  # where it was defined
from escalation.engine.folders import write_folder
from escalation.model.plan import Plan
from escalation.model.records import BlockResult, RecordSpec, record_specs
from escalation.model.tally import timeline_columns
from escalation.scenario.schema import Scenario

#: Files a run folder holds; the folder appears only when all are written.
RUN_FILES = ("trials.parquet", "timeline.csv", "summary.csv", "run.json", "report.html")


def _mask_labels(names: tuple[str, ...], codes: np.ndarray) -> pd.Categorical:
    """Bit sets over ``names`` as labels joined by ``+`` (empty for none)."""
    present = np.unique(codes)
    labels = [
        "+".join(name for bit, name in enumerate(names) if code >> bit & 1) for code in present
    ]
    return pd.Categorical.from_codes(
        np.searchsorted(present, codes), categories=list(dict.fromkeys(labels))
    )


def _record_column(spec: RecordSpec, values: np.ndarray) -> Any:
    """A per-trial record as a trials-table column."""
    if spec.kind == "code":
        return pd.Categorical.from_codes(values, categories=list(spec.categories))
    if spec.kind == "mask":
        return _mask_labels(spec.categories, values)
    if spec.kind == "day":
        # A nullable column from the days and a mask, with no intermediate copies.
        return pd.arrays.IntegerArray(np.maximum(values, 0), values < 0)
    return values


def assemble(plan: Plan, blocks: list[BlockResult]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Join block results, in block order, into the trials table and the timeline.

    Blocks from :func:`~escalation.engine.blocks.play_blocks` already sit in whole columns;
    the table takes those columns as they are, without copying them again.
    """
    joined: dict[str, np.ndarray] | None = getattr(blocks, "columns", None)

    def column(name: str) -> np.ndarray:
        if joined is not None:
            return joined[name]
        if name.startswith("parameter:"):
            key = name.removeprefix("parameter:")
            return np.concatenate([b.parameters[key] for b in blocks])
        key = name.removeprefix("record:")
        return np.concatenate([b.records[key] for b in blocks], axis=-1)

    columns: dict[str, Any] = {}
    n = sum(len(b) for b in blocks)
    columns["trial"] = np.arange(n, dtype=np.int64)
    for name in plan.parameter_columns():
        columns[name] = column(f"parameter:{name}")
    for spec in record_specs(plan):
        columns[spec.name] = _record_column(spec, column(f"record:{spec.name}"))
    # Each column stays its own array: no copy into one consolidated block.
    trials = pd.DataFrame(columns, copy=False)

    counts = sum(b.counts for b in blocks)
    timeline: dict[str, Any] = {"day": np.arange(plan.horizon + 1)}
    for name, index in timeline_columns(plan):
        timeline[name] = counts[:, index] / n
    return trials, pd.DataFrame(timeline)


@dataclass
class RunResult:
    """Trials, timeline and metadata of a run, with summaries and figures on demand."""

    scenario: Scenario
    trials: pd.DataFrame
    timeline: pd.DataFrame
    parameters: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    level: float = 0.95

    @property
    def outcomes(self) -> list[str]:
        """Outcome classes in report order."""
        return self.scenario.outcomes

    @property
    def violent(self) -> list[str]:
        """Violent outcome classes, least severe first."""
        return self.scenario.violent_outcomes

    @property
    def focus(self) -> str | None:
        """The outcome the report's survival curve and drivers look at.

        The gravest outcome the challenger can choose (full-scale invasion in dec2021); rungs
        only events reach (a clash) are rarer and say less about the challenger's choice.
        """
        chosen = {r.outcome for r in self.scenario.all_rungs if r.outcome and r.choosable}
        ranked = [name for name in self.violent if name in chosen]
        return ranked[-1] if ranked else (self.violent[-1] if self.violent else None)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per outcome: count, probability and its Wilson interval."""
        return analysis.outcome_summary(self.trials, self.outcomes, self.level)

    @cached_property
    def timing(self) -> pd.DataFrame:
        """One row per violent outcome: how many trials reached it, the median day, interval."""
        return analysis.timing_summary(self.trials, self.violent, self.level)

    def drivers(self, outcome: str | None = None) -> pd.DataFrame:
        """Which uncertain parameters move the chance of ``outcome`` (default: the focus)."""
        outcome = outcome or self.focus
        varying = [p for p in self.parameters if self.trials[p].nunique() > 1]
        return analysis.drivers(self.trials, varying, outcome, self.level)

    def survival(self, outcome: str | None = None) -> pd.DataFrame:
        """Share of trials that have not reached ``outcome`` by each day."""
        outcome = outcome or self.focus
        return analysis.survival(self.trials, f"day_{outcome}", self.scenario.horizon, self.level)

    def figures(self) -> dict[str, Any]:
        """The report's plotly figures by name."""
        colors = charts.outcome_colors(self.outcomes, self.violent)
        figures = {
            "outcomes": charts.outcome_figure(self.summary, self.violent, colors),
            "timeline": charts.timeline_figure(self.timeline, self.violent, colors),
        }
        if self.focus:
            label = self.focus.replace("_", " ")
            figures["survival"] = charts.survival_figure(
                self.survival(), label, colors.get(self.focus, "#d73027")
            )
            figures["drivers"] = charts.drivers_figure(self.drivers(), self.focus)
        return figures

    def write(self, out: str | Path, overwrite: bool = False) -> Path:
        """Write the five files into ``out``, atomically: all of them or nothing."""
        return write_folder(out, self._write_files, overwrite=overwrite)

    def _write_files(self, folder: Path) -> None:
        self.trials.to_parquet(folder / "trials.parquet", index=False)
        self.timeline.to_csv(folder / "timeline.csv", index=False, float_format="%.6g")
        self.summary.to_csv(folder / "summary.csv", index=False, float_format="%.6g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        self.write_report(folder / "report.html")

    def write_report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report."""
        figures = self.figures()
        focus = (self.focus or "").replace("_", " ")
        n = len(self.trials)
        items = [
            (
                "How the crisis ends",
                figures["outcomes"],
                f"Share of {n:,} trials ending in each outcome, with 95% Wilson intervals "
                "(the Monte Carlo uncertainty, not the uncertainty of the model itself).",
            ),
            (
                "The crisis over time",
                figures["timeline"],
                "Top: where live trials stand on the ladder each day, and the shares that have "
                "ended. Bottom: how trials would be classified if the horizon were that day.",
            ),
        ]
        if "survival" in figures:
            items.append(
                (
                    f"Days without {focus}",
                    figures["survival"],
                    f"Share of trials that have not reached {focus} by each day, with a 95% band.",
                )
            )
            items.append(
                (
                    f"What drives {focus}",
                    figures["drivers"],
                    f"P({focus}) among trials in the top third of each uncertain parameter minus "
                    "the bottom third, with 95% intervals. Associations in the model, not causes "
                    "in the world.",
                )
            )
        tables = [("Outcomes", self.summary), ("Timing of violent outcomes", self.timing)]
        scenario = self.scenario
        intro = (
            f"{scenario.title or scenario.name}. {n:,} trials, seed {self.info.get('seed')}, "
            f"horizon {scenario.horizon} days"
            + (f" from {scenario.date.isoformat()}" if scenario.date else "")
            + "."
        )
        return charts.write_report(
            path, f"escalation: {scenario.name}", items, tables=tables, intro=intro
        )
