"""Scenario discovery on a results folder: ``escalation discover RESULTS --outcome X``.

Reads a run's trials (``trials.parquet``, or the ``trials/`` dataset of a streamed run, at most
:data:`DATASET_ROWS` of it; each trial a case: its parameters and types are the inputs,
its outcome says whether it is of interest) or a sweep's ``points.parquet`` (each point a
case: the design's variables are the inputs, in their own units; a probability metric is the
share of interest, or any metric is turned yes/no by ``above``/``below``), runs PRIM
(:func:`escalation.analysis.discovery.prim`) and returns a :class:`DiscoverResult` that prints
itself as a table and writes ``boxes.csv``, ``trajectory.csv``, ``run.json`` and a report.
"""

from __future__ import annotations

import datetime
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from escalation import analysis, charts
from escalation.analysis import discovery
from escalation.charts import Section
from escalation.engine.dataset import MissingTrials, count_trials, read_trials, trials_path
from escalation.engine.labels import Labels, UnknownOutcome, normalized, sentence_case
from escalation.engine.play import versions, with_overrides
from escalation.engine.results import write_folder
from escalation.scenario.load import load_scenario, scenario_hash
from escalation.scenario.yamlio import InputError
from escalation.sweeps.metrics import is_share


@dataclass
class DiscoverResult:
    """PRIM's boxes for one outcome of a results folder, ready to print or write."""

    folder: Path
    kind: str
    outcome: str
    what: str
    found: discovery.Discovery
    labels: dict[str, str]
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        boxes = len(self.found.boxes)
        return f"<DiscoverResult {self.what} in {self.folder}: {boxes} box(es)>"

    def table(self) -> pd.DataFrame:
        """Every box and restriction as text (limits in the inputs' own units)."""
        return charts.box_table(self.found, self.labels)

    def text(self) -> str:
        """The boxes in a sentence each."""
        return discovery.summary_text(self.found, self.what, self.labels)

    def figure(self):
        """The trajectory and the first box's limits."""
        return charts.discovery_figure(self.found, self.labels, self.what)

    def write(self, out: str | Path, plotly_js: str = "inline") -> Path:
        """Write ``boxes.csv``, ``trajectory.csv``, ``run.json`` and ``report.html``, atomically."""

        def files(folder: Path) -> None:
            self.table().to_csv(folder / "boxes.csv", index=False)
            self.found.trajectory.to_csv(
                folder / "trajectory.csv", index=False, float_format="%.6g"
            )
            (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
            charts.write_report(
                folder / "report.html",
                f"escalation discover: {self.what}",
                [],
                intro=[
                    f"Scenario discovery on {self.folder} ({self.kind} results, "
                    f"{self.found.cases:,} cases).",
                    *self.notes,
                ],
                sections=[
                    Section(
                        f"When is {self.what} high?",
                        figure=self.figure(),
                        table=self.table(),
                        text=[self.text()],
                        note=discovery.NOTE,
                    )
                ],
                plotly_js=plotly_js,
            )

        return write_folder(out, files)


def _fail(folder: Path, field_name: str, message: str) -> InputError:
    return InputError(str(folder), None, field_name, message)


def _read_json(folder: Path) -> dict[str, Any]:
    path = folder / "run.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _scenario_of(info: dict[str, Any]):
    """The scenario a run came from, if its file is still there and unchanged."""
    source = info.get("source")
    if not source or not Path(source).is_file():
        return None
    try:
        scenario = with_overrides(
            load_scenario(source), info.get("trials"), info.get("seed"), info.get("horizon")
        )
    except (InputError, ValueError):
        return None
    return scenario if scenario_hash(scenario) == info.get("scenario_hash") else None


def _run_inputs(trials: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Parameter and type columns of a trials table (constant ones left out)."""
    types = [c for c in analysis.type_columns(trials) if trials[c].nunique() > 1]
    params = [c for c in analysis.parameter_columns(trials) if trials[c].nunique() > 1]
    return params, types


#: Most trials read from a streamed run's dataset (its first blocks): the size of the largest
#: table an ordinary run keeps, which PRIM handles.
DATASET_ROWS = 1_000_000


def _discover_run(folder: Path, outcome: str, options: dict[str, Any]) -> DiscoverResult:
    trials = read_trials(folder, max_rows=DATASET_ROWS)
    info = _read_json(folder)
    scenario = _scenario_of(info)
    params, types = _run_inputs(trials)
    notes = []
    total = count_trials(folder)
    if total > len(trials):
        notes.append(
            f"PRIM read the first {len(trials):,} of the run's {total:,} trials (its first "
            "blocks, the same for a given seed)."
        )
    if scenario is not None:
        labels = Labels.from_scenario(scenario, params)
        known = scenario.outcomes
    else:
        labels = Labels()
        known = [str(c) for c in trials["outcome"].astype("category").cat.categories]
        notes.append(
            "The scenario file named in run.json was not found unchanged, so labels are "
            "plain names."
        )
    try:
        name = labels.resolve_outcome(outcome, known)
    except UnknownOutcome as error:
        raise _fail(folder, "--outcome", str(error)) from None
    y = analysis.indicator(trials, name.split("+"))
    what = "P(" + " or ".join(sentence_case(labels.outcome(n)) for n in name.split("+")) + ")"
    factor = {c: labels.factor(c) for c in [*params, *types]}
    found = discovery.prim(trials[[*params, *types]], y, **options)
    return DiscoverResult(folder, "run", name, what, found, factor, notes)


def _sweep_inputs(points: pd.DataFrame, info: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """The design's variables in their own units, as PRIM inputs, and their labels."""
    variables = info.get("variables") or {}
    frame, labels = {}, {}
    for name, spec in variables.items():
        column = f"{name}:value" if f"{name}:value" in points.columns else name
        if column not in points.columns:
            continue
        values = points[column]
        label = (spec or {}).get("label") or charts.humanize(name)
        if column.endswith(":value"):
            label += " (value)"
        if pd.api.types.is_numeric_dtype(values) and not values.isna().any():
            frame[column] = values.astype(float)
        else:
            frame[column] = pd.Categorical(
                [
                    "(scenario)"
                    if pd.isna(v)
                    else format(v, ".4g")
                    if isinstance(v, float)
                    else str(v)
                    for v in values
                ]
            )
        labels[column] = label
    return pd.DataFrame(frame), labels


def _discover_sweep(
    folder: Path,
    outcome: str,
    above: float | None,
    below: float | None,
    options: dict[str, Any],
) -> DiscoverResult:
    points = pd.read_parquet(folder / "points.parquet")
    info = _read_json(folder)
    metrics = list(info.get("metrics") or [c for c in points.columns if ":" in c])
    metric = outcome if outcome in metrics else None
    if metric is None:
        wanted = normalized(outcome.removeprefix("p:"))
        for m in metrics:
            if m.startswith("p:") and normalized(m[2:]) == wanted:
                metric = m
    if metric is None:
        raise _fail(
            folder,
            "--outcome",
            f"'{outcome}' is not a metric of this sweep; its metrics are " + ", ".join(metrics),
        )
    values = points[metric].to_numpy(dtype=float)
    if above is not None or below is not None:
        y = (values >= above) if above is not None else (values <= below)
        y = y & ~pd.isna(values)
        bound = f"≥ {above:g}" if above is not None else f"≤ {below:g}"
        what = f"{_metric_text(metric)} {bound}"
    elif is_share(metric):
        if pd.isna(values).any():
            raise _fail(folder, "--outcome", f"{metric} is missing at some points")
        y, what = values, _metric_text(metric)
    else:
        raise _fail(
            folder,
            "--outcome",
            f"{metric} is not a probability: give --above or --below to say which points count",
        )
    inputs, labels = _sweep_inputs(points, info)
    if not len(inputs.columns):
        raise _fail(folder, "RESULTS", "the sweep's run.json names no variables")
    found = discovery.prim(inputs, y, **options)
    notes = [
        f"Each of the {len(points):,} points of the {info.get('design', {}).get('kind', '')} "
        f"design is a case; "
        + (
            f"its {what} is the share of interest, so a box's density is the mean of it over "
            "the box's points and its coverage the box's share of all trials of the outcome."
            if not found.binary
            else f"a point is of interest when {what}."
        )
    ]
    return DiscoverResult(folder, "sweep", metric, what, found, labels, notes)


def _metric_text(metric: str) -> str:
    kind, _, rest = metric.partition(":")
    names = " or ".join(charts.humanize(n) for n in rest.split("+"))
    return {"p": f"P({names})", "median_day": f"median day of {names}"}.get(kind, metric)


def _has_trials(folder: Path) -> bool:
    try:
        trials_path(folder)
    except MissingTrials:
        return False
    return True


def discover(
    results: str | Path,
    outcome: str,
    above: float | None = None,
    below: float | None = None,
    boxes: int = 1,
    min_coverage: float = 0.5,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    max_qp: float = 0.05,
    seed: int = 0,
) -> DiscoverResult:
    """PRIM on a run's or a sweep's results folder for ``outcome``.

    ``outcome`` is an outcome's name or label (a run; ``a+b`` for either), or a sweep's metric
    (``p:full_scale_invasion``, or just the outcome's name for its ``p:`` metric). ``above`` or
    ``below`` turns a sweep metric into yes/no per point. The other arguments are PRIM's (see
    :func:`escalation.analysis.discovery.prim`). Raises
    :class:`~escalation.scenario.yamlio.InputError` for a folder that holds no results or an
    outcome it does not have.
    """
    folder = Path(results)
    if above is not None and below is not None:
        raise _fail(folder, "--above", "give --above or --below, not both")
    for name, value in (("--above", above), ("--below", below)):
        if value is not None and not math.isfinite(value):
            raise _fail(folder, name, "must be a finite number")
    if not 0 < alpha < 0.5 or not 0 < mass_min < 1 or not 0 <= min_coverage <= 1:
        raise _fail(folder, "--alpha", "alpha in (0, 0.5), mass_min in (0, 1), coverage in [0, 1]")
    if not 1 <= boxes <= 10:
        raise _fail(folder, "--boxes", "between 1 and 10")
    options = {
        "alpha": alpha,
        "mass_min": mass_min,
        "min_coverage": min_coverage,
        "max_qp": max_qp,
        "boxes": boxes,
        "seed": seed,
    }
    if _has_trials(folder):
        if above is not None or below is not None:
            raise _fail(folder, "--above", "only for sweep results; a run's trials are yes/no")
        result = _discover_run(folder, outcome, options)
    elif (folder / "points.parquet").is_file():
        result = _discover_sweep(folder, outcome, above, below, options)
    elif (folder / "summary.csv").is_file():  # a run written with --no-trials
        try:
            trials_path(folder)
        except MissingTrials as error:
            raise _fail(folder, "RESULTS", str(error)) from None
    else:
        raise _fail(
            folder,
            "RESULTS",
            "not a results folder: expected trials.parquet (a run) or points.parquet (a sweep)",
        )
    result.info = {
        "results": str(folder),
        "kind": result.kind,
        "outcome": result.outcome,
        "settings": result.found.settings,
        "boxes": [
            {
                "coverage": b.coverage,
                "density": b.density,
                "density_interval": [b.density_lo, b.density_hi],
                "mass": b.mass,
                "held_out": {"coverage": b.test_coverage, "density": b.test_density},
                "limits": [
                    {
                        "input": lim.name,
                        "low": lim.low,
                        "high": lim.high,
                        "categories": list(lim.categories) if lim.categories else None,
                        "qp": lim.qp,
                    }
                    for lim in b.limits
                ],
            }
            for b in result.found.boxes
        ],
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    return result


def print_discovery(result: DiscoverResult, console) -> None:
    """Print each box: its coverage and density, then its limits as a table (rich console)."""
    from rich.table import Table
    from rich.text import Text

    found = result.found
    console.print(
        Text.assemble(
            (f"Where {result.what} is high", "bold"),
            f"\n{result.kind} results, {found.cases:,} cases, {found.base_density:.1%} overall",
        ),
        soft_wrap=True,
    )
    if not found.boxes:
        console.print(result.text(), highlight=False, markup=False, soft_wrap=True)
    for i, box in enumerate(found.boxes, start=1):
        held = (
            f"; held out: coverage {box.test_coverage:.0%}, density {box.test_density:.0%}"
            if box.test_density is not None
            else ""
        )
        table = Table(
            title=Text(
                f"Box {i}: coverage {box.coverage:.0%}, density {box.density:.0%} "
                f"({box.density_lo:.0%}–{box.density_hi:.0%}), {box.mass:.0%} of cases{held}"
            ),
            title_justify="left",
        )
        for column, justify in (
            ("limit", "left"),
            ("full range", "left"),
            ("density without it", "right"),
            ("qp", "right"),
        ):
            table.add_column(column, justify=justify)
        for lim in box.limits:
            label = result.labels.get(lim.name, lim.name)
            full = (
                ", ".join(lim.all_categories or ())
                if lim.categories is not None
                else f"{lim.range_low:.4g} – {lim.range_high:.4g}"
            )
            table.add_row(
                lim.text(label), full, f"{lim.density_without:.0%}", discovery.qp_text(lim.qp)
            )
        console.print(table)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
