"""The result of a run: trials and timeline as DataFrames, summaries, figures, atomic files.

:func:`assemble` turns block results into one table of trials (inputs beside outcomes, one row
per trial, EMA-Workbench style) and one timeline. :class:`RunResult` computes summaries on
demand and writes the five output files into a folder that appears only once complete; its
figures and report are built by :mod:`escalation.engine.run_report`.

A streamed run (:mod:`escalation.engine.accumulate`) has no table in memory: its summaries
come from exact counts of every trial, and its drivers and scenario discovery from a sample of
whole trials with the drivers' groups counted over every trial. Its summaries equal those of
the table to the last bit.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation import analysis
from escalation.engine import run_report
from escalation.engine.folders import OutputError as OutputError  # where it was defined
from escalation.engine.folders import write_folder
from escalation.engine.labels import Labels, UnknownOutcome
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
    """Trials, timeline and metadata of a run, with summaries and figures on demand.

    ``trials`` is the table of every trial, or None for a streamed run, whose ``streamed``
    (an :class:`~escalation.engine.accumulate.Streamed`) holds exact counts of every trial and
    a sample of whole trials instead; every summary is then computed from the counts and gives
    the numbers the table would give. :attr:`sample` is the table drivers and discovery read.
    """

    scenario: Scenario
    trials: pd.DataFrame | None
    timeline: pd.DataFrame
    parameters: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    level: float = 0.95
    streamed: Any = None

    def __post_init__(self) -> None:
        self._drivers: dict[str, pd.DataFrame] = {}
        if self.trials is None and self.streamed is None:
            raise ValueError("a run result needs its trials or, streamed, their counts")

    @property
    def n_trials(self) -> int:
        """How many trials the run played."""
        return len(self.trials) if self.trials is not None else self.streamed.counts.trials

    @property
    def sample(self) -> pd.DataFrame:
        """The trials drivers and discovery read: all of them, or a streamed run's sample
        (the trials of its first blocks)."""
        return self.trials if self.trials is not None else self.streamed.sample

    def _counts(self):
        """A streamed run's counts, or None when the table is in memory."""
        return None if self.streamed is None else self.streamed.counts

    def __repr__(self) -> str:
        return run_report.short_repr(self)

    def _repr_html_(self) -> str:
        return run_report.html_repr(self)

    @property
    def outcomes(self) -> list[str]:
        """Outcome classes in report order."""
        return self.scenario.outcomes

    @property
    def violent(self) -> list[str]:
        """Violent outcome classes, least severe first."""
        return self.scenario.violent_outcomes

    @cached_property
    def labels(self) -> Labels:
        """Labels of the scenario's outcomes, rungs, parameters and types, for people."""
        return Labels.from_scenario(self.scenario, self.parameters)

    @property
    def focus(self) -> str | None:
        """The outcome the report's survival curve and drivers look at.

        The gravest outcome the challenger can choose (full-scale invasion in dec2021); rungs
        only events reach (a clash) are rarer and say less about the challenger's choice.
        """
        chosen = {r.outcome for r in self.scenario.all_rungs if r.outcome and r.choosable}
        ranked = [name for name in self.violent if name in chosen]
        return ranked[-1] if ranked else (self.violent[-1] if self.violent else None)

    def outcome_name(self, outcome: str | None = None) -> str:
        """The outcome name ``outcome`` means (a name or a printed label; default: the focus).

        Several outcomes joined with ``+`` stay joined. Raises :class:`ValueError`
        (:class:`~escalation.engine.labels.UnknownOutcome`) naming the scenario's outcomes.
        """
        if outcome is None:
            if self.focus is None:
                raise UnknownOutcome("this scenario has no violent outcome; name an outcome")
            return self.focus
        return self.labels.resolve_outcome(outcome, self.outcomes)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per outcome: count, probability and its Wilson interval."""
        counts = self._counts()
        if counts is not None:
            found = counts.outcome_counts(self.outcomes)
            return analysis.outcome_summary_counts(found, self.outcomes, self.level)
        return analysis.outcome_summary(self.trials, self.outcomes, self.level)

    @cached_property
    def timing(self) -> pd.DataFrame:
        """One row per violent outcome: how many trials reached it, the median day, interval."""
        counts = self._counts()
        if counts is not None:
            days = {name: counts.first_days[name] for name in self.violent}
            return analysis.timing_summary_counts(days, counts.trials, self.level)
        return analysis.timing_summary(self.trials, self.violent, self.level)

    def cases(self, outcome: str | None = None) -> int:
        """How many trials ended in ``outcome`` (a name or label; default: the focus)."""
        names = self.outcome_name(outcome).split("+")
        table = self.summary.set_index("outcome")["count"]
        return int(sum(int(table.get(name, 0)) for name in names))

    @property
    def type_columns(self) -> list[str]:
        """The trials table's type columns that hold more than one type."""
        counts = self._counts()
        if counts is not None:
            return counts.varying_types()
        return [c for c in analysis.type_columns(self.trials) if self.trials[c].nunique() > 1]

    @property
    def varying_parameters(self) -> list[str]:
        """Parameter columns that are not the same in every trial."""
        counts = self._counts()
        if counts is not None:
            return [p for p in self.parameters if counts.varies(p)]
        return [p for p in self.parameters if self.trials[p].nunique() > 1]

    def overridden(self) -> pd.DataFrame:
        """The parameters private types override: one row per decider, type and parameter.

        Columns ``parameter``, ``decider``, ``type`` and ``override`` (the expression played
        instead). The trials table records these parameters as drawn; in the trials of such a
        type the model played the override, so there the drawn value had no part.
        """
        rows = [
            (parameter, block.key, name, str(expression))
            for block in self.scenario.decider_blocks
            for name, kind in block.block.types.items()
            for parameter, expression in kind.overrides.items()
        ]
        return pd.DataFrame(rows, columns=["parameter", "decider", "type", "override"])

    def drivers(self, outcome: str | None = None) -> pd.DataFrame:
        """Which types and uncertain parameters move the chance of ``outcome``.

        ``outcome`` is an outcome's name or its printed label (``"Full-scale invasion"``),
        default the focus; an unknown outcome raises :class:`ValueError`. Parameters are read
        as drawn, before type overrides. See :func:`escalation.analysis.drivers` for the
        columns. A streamed run counts every trial in each group (cut in its sample) and reads
        the rank correlations and PAWN indices in its sample (:attr:`sample`).
        """
        name = self.outcome_name(outcome)
        if name not in self._drivers:
            self._drivers[name] = analysis.drivers(
                self.sample,
                self.varying_parameters,
                name.split("+"),
                self.level,
                types=self.type_columns,
                seed=int(self.info.get("seed", 0) or 0),
                counts=None if self.streamed is None else self.streamed.drivers,
            )
        return self._drivers[name]

    def by_type(self, decider: str | None = None) -> pd.DataFrame:
        """P(outcome | type) with intervals for each of a decider's types.

        ``decider`` is a deciding actor's key (or its column ``type:<key>``); default: the
        first decider with more than one type. Raises :class:`ValueError` if it has none.
        """
        columns = self.type_columns
        if decider is None:
            if not columns:
                raise ValueError("no decider in this run has more than one private type")
            column = columns[0]
        else:
            column = decider if str(decider).startswith("type:") else f"type:{decider}"
            if column not in columns:
                keys = ", ".join(c.removeprefix("type:") for c in columns) or "none"
                raise ValueError(
                    f"'{decider}' is not a decider with private types; those with types: {keys}"
                )
        counts = self._counts()
        if counts is not None:
            kinds, table = counts.type_table(column, self.outcomes)
            return analysis.type_outcomes_counts(kinds, table, self.outcomes, self.level)
        return analysis.type_outcomes(self.trials, column, self.outcomes, self.level)

    def survival(self, outcome: str | None = None) -> pd.DataFrame:
        """Share of trials that have not reached ``outcome`` (a violent outcome) by each day."""
        name = self.outcome_name(outcome)
        if name not in self.violent:
            raise UnknownOutcome(f"'{outcome}' is not a violent outcome: it has no first day")
        counts = self._counts()
        if counts is not None:
            return analysis.survival_counts(counts.first_days[name], counts.trials, self.level)
        return analysis.survival(self.trials, f"day_{name}", self.scenario.horizon, self.level)

    def cumulative(self) -> pd.DataFrame:
        """P(reached each violent outcome's rung, or a higher one, by each day)."""
        counts = self._counts()
        if counts is not None:
            days = {name: counts.first_days[name] for name in self.violent}
            return analysis.cumulative_incidence_counts(days, counts.trials, self.level)
        return analysis.cumulative_incidence(
            self.trials, self.violent, self.scenario.horizon, self.level
        )

    def figures(self) -> dict[str, Any]:
        """The report's plotly figures by name."""
        return run_report.run_figures(self)

    def write(self, out: str | Path, overwrite: bool = False, plotly_js: str = "inline") -> Path:
        """Write the five files into ``out``, atomically: all of them or nothing.

        ``plotly_js="beside"`` writes plotly.js once as ``plotly.min.js`` next to the report
        instead of inside it (a lighter folder; the default is one self-contained file). A
        streamed run has no table to write: its folder holds the four other files (its trials,
        if kept, were written as a dataset while it played: ``escalation run --scheduler``).
        """
        write = self._write_files
        if plotly_js != "inline":
            write = functools.partial(self._write_files, plotly_js=plotly_js)
        return write_folder(out, write, overwrite=overwrite)

    def _write_files(self, folder: Path, plotly_js: str = "inline") -> None:
        if self.trials is not None:
            self.trials.to_parquet(folder / "trials.parquet", index=False)
            self.info["trials_file"] = "trials.parquet"
        elif (folder / "trials").is_dir():  # written block by block while the run played
            self.info["trials_file"] = "trials/"
        else:
            self.info["trials_file"] = None
        self.timeline.to_csv(folder / "timeline.csv", index=False, float_format="%.6g")
        self.summary.to_csv(folder / "summary.csv", index=False, float_format="%.6g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        self.write_report(folder / "report.html", plotly_js)

    def write_report(self, path: str | Path, plotly_js: str = "inline") -> Path:
        """Write the HTML report (self-contained unless ``plotly_js="beside"``)."""
        return run_report.write_run_report(self, path, plotly_js)
