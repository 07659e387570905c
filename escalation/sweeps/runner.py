"""Running a sweep: every point of a design through an executor, into a store, then analysed.

:func:`run_design` is the generic part (a design, an evaluator, an executor, optionally a
store); :func:`run_sweep` runs a loaded experiment with it and returns a :class:`SweepResult`,
whose files (``points.parquet``, ``run.json``, ``report.html``, and ``indices.csv`` for
Sobol and Morris designs) appear in the output folder only once every point is done.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation.engine.executors import Evaluator, ExecutorError, ProcessExecutor, SerialExecutor
from escalation.engine.folders import OutputError, claimed
from escalation.engine.memory import check_memory
from escalation.sweeps.analysis import indices
from escalation.sweeps.designs import Design
from escalation.sweeps.evaluate import ScenarioEvaluator
from escalation.sweeps.experiment import LoadedExperiment
from escalation.sweeps.store import PointStore

#: What the report and run.json say about common random numbers.
CRN_NOTE = (
    "Common random numbers: every point is played with the same seed and number of trials, so "
    "trial i of every point starts from the same random stream (every parameter consumes "
    "exactly one uniform per trial whatever its distribution, and a disabled policy still "
    "consumes its draws). Differences between points therefore come from the inputs, not from "
    "different draws, and are estimated more precisely than the per-point intervals suggest."
)

ProgressCallback = Callable[[int, int], None]


class SweepError(OutputError):
    """Points could not be evaluated; the finished ones are kept for ``--resume``."""


@dataclass
class SweepResult:
    """The points of a finished sweep, their sensitivity indices, and the run's record.

    Attributes:
        name: the experiment's name.
        design: the design the points come from.
        points: one row per point: ``point``, the inputs, then each metric with ``:lo`` and
            ``:hi`` columns (95% intervals).
        metrics: the metric columns (without the interval columns).
        indices: Sobol or Morris indices (see :mod:`escalation.sweeps.analysis`), or None.
        notes: remarks on metrics that have no indices.
        info: what ``run.json`` records.
        labels: axis label of each variable.
        out: the results folder, once written.
    """

    name: str
    design: Design
    points: pd.DataFrame
    metrics: list[str]
    indices: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    title: str = ""
    out: Path | None = None

    def figures(self) -> list[tuple[str, Any, str]]:
        """The report's figures as ``(heading, figure, note)``."""
        from escalation.sweeps.report import sweep_figures

        return sweep_figures(self)

    def write_files(self, folder: str | Path) -> None:
        """Write the result files into an existing folder."""
        from escalation.sweeps.report import write_sweep_report

        folder = Path(folder)
        self.points.to_parquet(folder / "points.parquet", index=False)
        if self.indices is not None:
            self.indices.to_csv(folder / "indices.csv", index=False, float_format="%.6g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        write_sweep_report(self, folder / "report.html")


def _row(inputs: pd.DataFrame, index: int, numbers: Mapping[str, float]) -> pd.DataFrame:
    """One point's row: its inputs and its numbers (as float64 columns)."""
    row = inputs.iloc[[index]].reset_index(drop=True)
    for key, value in numbers.items():
        row[key] = np.array([value], dtype=np.float64)
    return row


def _normalise(frame: pd.DataFrame, inputs: pd.DataFrame) -> pd.DataFrame:
    """Rows in point order with the same dtypes whether they came from memory or the store."""
    frame = frame.sort_values("point", kind="stable").reset_index(drop=True)
    dtypes = {c: inputs[c].dtype for c in inputs.columns}
    dtypes.update({c: "float64" for c in frame.columns if c not in dtypes})
    return frame.astype(dtypes)


def run_design(
    design: Design,
    evaluate: Evaluator,
    executor=None,
    store: PointStore | None = None,
    done: set[int] | None = None,
    on_point: ProgressCallback | None = None,
    inputs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Evaluate every point of ``design`` not in ``done``; return all points' rows in order.

    Each finished point is written to ``store`` at once (when given), so an interruption
    loses at most the points in flight. ``inputs`` replaces the design's own input columns
    (:meth:`Design.frame`), e.g. with the text each variable wrote.
    """
    executor = executor or SerialExecutor()
    inputs = design.frame() if inputs is None else inputs
    done = set(done or ())
    total = design.size
    tasks = [(i, design.points[i]) for i in range(total) if i not in done]
    found: dict[int, dict[str, float]] = {}
    count = len(done)
    if on_point is not None:
        on_point(count, total)
    try:
        for index, numbers in executor.run(evaluate, tasks):
            if store is not None:
                store.write(index, _row(inputs, index, numbers))
            else:
                found[index] = dict(numbers)
            count += 1
            if on_point is not None:
                on_point(count, total)
    except ExecutorError as error:
        if store is None or store.discard_if_empty():
            raise SweepError(f"{error}; no point was finished") from None
        raise SweepError(
            f"{error}; {count} of {total} points are kept in {store.partial}: finish with "
            f"--resume --out {store.out}"
        ) from None
    except BaseException:
        if store is not None:
            store.discard_if_empty()  # an interruption before the first point leaves nothing
        raise
    if store is not None:
        frame = store.load()
    else:
        order = sorted(found)
        numbers = pd.DataFrame.from_records([found[i] for i in order])
        frame = pd.concat(
            [inputs.iloc[order].reset_index(drop=True), numbers.astype("float64")], axis=1
        )
    return _normalise(frame, inputs)


def applied_inputs(loaded: LoadedExperiment) -> pd.DataFrame:
    """The design's input columns plus what formatted and quantile variables wrote.

    A ``format`` variable adds ``<name>:text`` (the text written); a ``quantile`` variable
    adds ``<name>:value`` (the parameter's value; for a path, its value at the first point).
    """
    frame = loaded.design.frame()
    for name, target in loaded.targets.items():
        if target.template is None and target.quantile is None:
            continue
        written = []
        for point in loaded.design.points:
            value = point.get(name)
            if value is None:
                written.append(None)
            elif target.quantile is not None:
                applied = target.written(value)
                written.append(applied["dist"] if "dist" in applied else applied["path"][0][1])
            else:
                written.append(target.written(value))
        if target.quantile is not None:
            frame[f"{name}:value"] = pd.array(
                [np.nan if w is None else w for w in written], dtype="float64"
            )
        else:
            frame[f"{name}:text"] = pd.array(written, dtype="string")
    return frame


def run_sweep(
    loaded: LoadedExperiment,
    out: str | Path | None = None,
    executor=None,
    resume: bool = False,
    on_point: ProgressCallback | None = None,
) -> SweepResult:
    """Run every point of a loaded experiment and return the result.

    With ``out``, finished points go to ``<out>.partial/`` as they finish and the results
    folder ``out`` appears, complete, at the end; ``resume`` finishes an interrupted sweep
    with the same ``out``. Without ``out`` nothing is written.
    """
    if out is None:
        if resume:
            raise OutputError("resume needs the results folder (--out) of the interrupted sweep")
        return _run_sweep(loaded, None, executor, resume, on_point)
    with claimed(out):  # no other command writes this folder or its points meanwhile
        return _run_sweep(loaded, out, executor, resume, on_point)


def _run_sweep(
    loaded: LoadedExperiment,
    out: str | Path | None,
    executor,
    resume: bool,
    on_point: ProgressCallback | None,
) -> SweepResult:
    from escalation.engine.play import versions

    started = time.perf_counter()
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    executor = executor or SerialExecutor()
    if isinstance(executor, SerialExecutor | ProcessExecutor):  # points held on this machine
        check_memory(loaded.scenario, loaded.trials, getattr(executor, "workers", 1))
    design = loaded.design
    experiment_hash = loaded.experiment_hash
    store = PointStore(out) if out is not None else None
    done: set[int] = set()
    if store is not None:
        manifest = {
            "experiment": loaded.name,
            "experiment_file": loaded.file,
            "experiment_hash": experiment_hash,
            "points": design.size,
            "created": created,
        }
        done = store.open(manifest, resume)
    done = {i for i in done if i < design.size}
    inputs = applied_inputs(loaded)
    evaluate = ScenarioEvaluator.from_experiment(loaded)
    prepared = time.perf_counter()
    frame = run_design(design, evaluate, executor, store, done, on_point, inputs)
    evaluated = time.perf_counter()

    metrics = [m.text for m in loaded.metrics]
    found, notes = indices(design, frame, metrics, seed=loaded.seed)
    if store is not None:
        notes = [*store.notes, *notes]
    analysed = time.perf_counter()
    fresh = design.size - len(done)
    experiment = loaded.experiment
    info = {
        "experiment": loaded.name,
        "title": experiment.title,
        "description": experiment.description.strip(),
        "experiment_file": loaded.file,
        "experiment_hash": experiment_hash,
        "scenario": experiment.scenario,
        "scenario_file": str(loaded.scenario_path),
        "scenario_name": loaded.scenario.name,
        "scenario_hash": _scenario_hash(loaded),
        "seed": loaded.seed,
        "trials_per_point": loaded.trials,
        "design": {
            "kind": design.kind,
            "points": design.size,
            **{k: v for k, v in design.settings.items() if k != "seed"},
            **({"shape": list(design.shape)} if design.shape else {}),
        },
        "variables": {
            name: variable.model_dump(exclude_defaults=True)
            for name, variable in experiment.variables.items()
        },
        "metrics": metrics,
        "common_random_numbers": CRN_NOTE,
        "executor": getattr(executor, "description", type(executor).__name__),
        "resumed_points": len(done),
        "created": created,
        "versions": {**versions(), **_extra_versions()},
        "timings_seconds": {
            "prepare": round(prepared - started, 4),
            "evaluate": round(evaluated - prepared, 4),
            "analyse": round(analysed - evaluated, 4),
            "total": round(analysed - started, 4),
            "points_evaluated": fresh,
            "seconds_per_point": round((evaluated - prepared) / fresh, 4) if fresh else None,
        },
    }
    result = SweepResult(
        name=loaded.name,
        design=design,
        points=frame,
        metrics=metrics,
        indices=found,
        notes=notes,
        info=info,
        labels={
            name: variable.label or name.replace("_", " ")
            for name, variable in experiment.variables.items()
        },
        title=experiment.title or loaded.name,
    )
    if store is not None:
        result.out = store.finish(result.write_files)
    return result


def _scenario_hash(loaded: LoadedExperiment) -> str:
    from escalation.scenario.load import scenario_hash

    return scenario_hash(loaded.scenario)


def _extra_versions() -> dict[str, str]:
    import importlib.metadata

    found = {}
    for name in ("SALib", "dask", "distributed"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found
