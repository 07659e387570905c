"""Playing every case of a casebook and scoring the model and the references against it.

Each case is played whole, in one process, with its own seed and trials (or those given for
all), exactly as ``escalation run`` plays it; cases are spread over the sweep executors, so the
numbers never depend on ``--workers`` or ``--scheduler``. The model's forecast of a case is the
share of trials ending in each outcome class; the yes/no forecast is the share that reached the
case's event or a graver violent outcome.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation.analysis.intervals import wilson_interval
from escalation.analysis.scoring import (
    binary_brier,
    binary_log_score,
    bootstrap_skill,
    brier_score,
    log_floor,
    log_score,
    reliability,
)
from escalation.api import versions, with_overrides
from escalation.backtest.casebook import Case, Casebook, load_casebook
from escalation.backtest.play import CasePlayer
from escalation.backtest.references import REFERENCES, Forecast, event_probability
from escalation.backtest.report import write_backtest_report
from escalation.backtest.scores import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    RELIABILITY_BINS,
    SCORES,
)
from escalation.engine.executors import ExecutorError, make_executor
from escalation.engine.results import OutputError, write_folder
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.load import locate, scenario_hash
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import InputError

#: Files a backtest folder holds; the folder appears only when all are written.
BACKTEST_FILES = ("backtest.csv", "run.json", "report.html")


@dataclass
class BacktestResult:
    """The scored cases of a casebook.

    Attributes:
        casebook: the cases and their outcomes file.
        table: one row per case (what ``backtest.csv`` holds).
        skill: skill scores of the model against each reference, by subset of cases and score.
        reliability: reliability bins of the yes/no forecasts, by forecaster (model, icb).
        info: what ``run.json`` records.
    """

    casebook: Casebook
    table: pd.DataFrame
    skill: pd.DataFrame
    reliability: dict[str, pd.DataFrame]
    info: dict[str, Any] = field(default_factory=dict)

    def write(self, out: str | Path) -> Path:
        """Write ``backtest.csv``, ``run.json`` and ``report.html`` into ``out``, atomically."""
        return write_folder(out, self._write_files)

    def _write_files(self, folder: Path) -> None:
        self.table.to_csv(folder / "backtest.csv", index=False, float_format="%.10g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        self.write_report(folder / "report.html")

    def write_report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report."""
        book = self.casebook
        return write_backtest_report(
            path,
            self.table,
            self.skill,
            self.reliability,
            title=f"escalation backtest: {book.folder.name}",
            source=f"the casebook {book.folder}, outcomes in {book.outcomes_path.name}",
            warnings=[str(w) for w in book.warnings],
            icb=self.info.get("icb"),
        )

    def summary(self) -> dict[str, Any]:
        """The scores as plain data, for ``--json``."""
        cases = json.loads(self.table.to_json(orient="records", date_format="iso"))
        skill = json.loads(self.skill.to_json(orient="records"))
        return {"cases": cases, "skill": skill}


def _case_row(case: Case, scenario: Scenario, counts: np.ndarray) -> tuple[dict, dict]:
    """The case's row of the table, and its detail for run.json."""
    outcomes = scenario.outcomes
    n = scenario.trials
    observed = outcomes.index(case.recorded.outcome)
    happened = int(case.happened)
    floor = log_floor(n)
    model = counts / n
    event_count = int(sum(counts[outcomes.index(name)] for name in case.event_classes))
    lo, hi = wilson_interval(event_count, n)
    spec = case.scenario.case
    assert spec is not None
    row: dict[str, Any] = {
        "name": case.name,
        "file": case.file.path.name,
        "date": case.date.isoformat(),
        "written_after_outcome": spec.written_after_outcome,
        "trigger": spec.trigger or "",
        "event": case.event,
        "outcome": case.recorded.outcome,
        "day": case.recorded.day,
        "happened": happened,
        "trials": n,
        "seed": scenario.seed,
        "horizon": scenario.horizon,
        "log_floor": floor,
    }
    row.update({f"p:{name}": float(p) for name, p in zip(outcomes, model, strict=True)})
    forecasts: dict[str, Forecast | None] = {
        "model": Forecast(model, event_probability(case, model))
    }
    forecasts.update((name, ref.forecast(case)) for name, ref in REFERENCES.items())
    for name, forecast in forecasts.items():
        over_classes = name == "model" or REFERENCES[name].over_classes
        row.update(_scores(name, forecast, observed, happened, floor, over_classes))
        if name == "model":
            row["model_p_event_lo"], row["model_p_event_hi"] = float(lo), float(hi)
    published = forecasts["published"]
    row["published_source"] = published.detail["source"] if published else ""
    row["published_date"] = published.detail["date"] if published else ""
    icb = forecasts["icb"]
    row["icb_table"] = icb.detail["table_ended_before"] if icb else ""
    row["icb_crises_of"] = icb.detail["crises_of"] if icb else ""
    row["icb_crises"] = icb.detail["crises"] if icb else pd.NA
    detail = {
        "name": case.name,
        "file": str(case.file.path),
        "file_sha256": case.file.sha256,
        "scenario_hash": scenario_hash(scenario),
        "date": case.date.isoformat(),
        "trials": n,
        "seed": scenario.seed,
        "horizon": scenario.horizon,
        "written_after_outcome": spec.written_after_outcome,
        "event": case.event,
        "event_classes": case.event_classes,
        "recorded": case.recorded.model_dump(),
        "counts": dict(zip(outcomes, (int(c) for c in counts), strict=True)),
        "references": {
            name: (
                None
                if forecast is None
                else {
                    "classes": None
                    if forecast.classes is None
                    else dict(zip(outcomes, map(float, forecast.classes), strict=True)),
                    "event": forecast.event,
                    **forecast.detail,
                }
            )
            for name, forecast in forecasts.items()
            if name != "model"
        },
        "published_forecasts": [
            {
                **f.model_dump(mode="json"),
                "used": bool(published and published.detail["index"] == i),
                "after_case_date": f.date > case.date,
                "binary_brier": binary_brier(f.probability, happened),
                "binary_log": binary_log_score(f.probability, happened, floor),
            }
            for i, f in enumerate(spec.published_forecasts)
        ],
    }
    return row, detail


def _scores(
    name: str,
    forecast: Forecast | None,
    observed: int,
    happened: int,
    floor: float,
    over_classes: bool = True,
) -> dict[str, Any]:
    """A forecaster's probabilities of what happened and its scores (NaN if absent).

    A forecaster of the yes/no event only (``over_classes`` false) has no class columns.
    """
    scores = [
        f"{name}_{s}" for s, score in SCORES.items() if over_classes or not score.over_classes
    ]
    columns = [f"{name}_p_outcome"] if over_classes else []
    columns += [f"{name}_p_event", *scores]
    out: dict[str, Any] = dict.fromkeys(columns, math.nan)
    if forecast is None:
        return out
    if forecast.classes is not None:
        out[f"{name}_p_outcome"] = float(forecast.classes[observed])
        out[f"{name}_brier"] = brier_score(forecast.classes, observed)
        out[f"{name}_log"] = log_score(forecast.classes, observed, floor)
    out[f"{name}_p_event"] = forecast.event
    out[f"{name}_binary_brier"] = binary_brier(forecast.event, happened)
    out[f"{name}_binary_log"] = binary_log_score(forecast.event, happened, floor)
    return out


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Columns in a readable order: the case, the model's probabilities, then the scores."""
    first = [c for c in table.columns if not c.startswith(("p:", "model_", *REFERENCES))]
    probabilities = [c for c in table.columns if c.startswith("p:")]
    forecasters = ["model", *REFERENCES]
    rest = [c for f in forecasters for c in table.columns if c.startswith(f"{f}_")]
    return table[first + probabilities + rest]


def skill_table(
    table: pd.DataFrame,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean scores and skill scores of the model against each reference, by subset of cases.

    A reference is compared over the cases where it gives a forecast. The interval is a
    percentile bootstrap over those cases with a fixed seed.
    """
    masks = {
        "all": np.ones(len(table), bool),
        "before_outcome": ~table["written_after_outcome"].to_numpy(bool),
    }
    rows = []
    for subset, mask in masks.items():
        part = table[mask]
        for reference in REFERENCES:
            for score in SCORES:
                column = f"{reference}_{score}"
                if column not in part.columns:
                    continue
                given = part[column].notna().to_numpy()
                if not given.any():
                    continue
                model = part.loc[given, f"model_{score}"].to_numpy(float)
                ref = part.loc[given, column].to_numpy(float)
                skill, lo, hi = bootstrap_skill(model, ref, resamples, seed, level)
                rows.append(
                    {
                        "subset": subset,
                        "reference": reference,
                        "score": score,
                        "cases": int(given.sum()),
                        "model": float(model.mean()),
                        "reference_score": float(ref.mean()),
                        "skill": skill,
                        "lo": lo,
                        "hi": hi,
                    }
                )
    columns = ["subset", "reference", "score", "cases", "model", "reference_score"]
    return pd.DataFrame(rows, columns=[*columns, "skill", "lo", "hi"])


def play_cases(
    book: Casebook,
    scenarios: list[Scenario],
    workers: int = 1,
    scheduler: str | None = None,
    on_case: Callable[[int, int, str], None] | None = None,
    executor: Any = None,
) -> list[dict[str, Any]]:
    """Play every case through the executor; each case's numbers, in case order.

    ``executor`` (one of :mod:`escalation.engine.executors`) replaces the one ``workers`` and
    ``scheduler`` would make.
    """
    if executor is None:
        try:
            executor = make_executor(workers, scheduler)
        except ValueError as error:
            raise InputError(str(book.folder), None, "--scheduler", str(error)) from None
    tasks = [(index, {"case": index}) for index in range(len(scenarios))]
    played: dict[int, dict[str, Any]] = {}
    if on_case is not None:
        on_case(0, len(tasks), "")
    try:
        for index, numbers in executor.run(CasePlayer(tuple(scenarios)), tasks):
            if "error" in numbers:
                found = ScenarioValueError(tuple(numbers["error_loc"]), numbers["error"])
                raise locate(found, book.cases[index].file.path)
            played[index] = numbers
            if on_case is not None:
                on_case(len(played), len(tasks), book.cases[index].name)
    except ExecutorError as error:
        raise OutputError(f"cases could not be played: {error}") from None
    return [played[index] for index in range(len(tasks))]


def run_backtest(
    folder: str | Path,
    outcomes: str | Path | None = None,
    trials: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    strict: bool = False,
    on_case: Callable[[int, int, str], None] | None = None,
    executor: Any = None,
) -> BacktestResult:
    """Play and score every case of a casebook folder.

    Args:
        folder: the casebook: case scenarios and ``outcomes.yaml``.
        outcomes: another outcomes file instead of the folder's.
        trials, seed: replace every case's own trials and seed (as ``escalation run`` does).
        workers, scheduler: where cases are played (see
            :func:`~escalation.engine.executors.make_executor`); the numbers do not depend on it.
        strict: refuse sources dated after their case's date instead of warning.
        on_case: called as ``on_case(done, total, name)`` as cases finish.
        executor: an executor of :mod:`escalation.engine.executors` instead of the one
            ``workers`` and ``scheduler`` make.

    Raises:
        InputError: a mistake in a case or in the outcomes file, located.
    """
    started = time.perf_counter()
    book = load_casebook(folder, outcomes, strict)
    if not book.cases:
        raise InputError(
            str(book.folder),
            None,
            "",
            "no case in this folder: a case is a scenario file with a case: block "
            "(see docs/casebook.md)",
        )
    scenarios = [with_overrides(case.scenario, trials, seed) for case in book.cases]
    played = play_cases(book, scenarios, workers, scheduler, on_case, executor)
    rows, details = [], []
    for case, scenario, numbers in zip(book.cases, scenarios, played, strict=True):
        counts = np.array([numbers[f"count:{name}"] for name in scenario.outcomes], float)
        row, detail = _case_row(case, scenario, counts)
        detail["seconds"] = round(float(numbers["seconds"]), 4)
        rows.append(row)
        details.append(detail)
    table = _ordered(pd.DataFrame(rows))
    table["icb_crises"] = table["icb_crises"].astype("Int64")
    table["day"] = table["day"].astype("Int64")
    skill = skill_table(table)
    bins = {
        name: reliability(
            table.loc[table[f"{name}_p_event"].notna(), f"{name}_p_event"],
            table.loc[table[f"{name}_p_event"].notna(), "happened"],
            bins=RELIABILITY_BINS,
        )
        for name in ("model", "icb")
    }
    info = {
        "command": "backtest",
        "casebook": str(book.folder),
        "outcomes_file": str(book.outcomes_path),
        "outcomes_sha256": book.outcomes_sha256,
        "trials": trials,
        "seed": seed,
        "seed_rule": "each case's own seed and trials from its scenario file, unless --trials or "
        "--seed replaced them for every case (as for escalation run)",
        "workers": workers,
        "scheduler": scheduler,
        "cases": details,
        "skipped": [{"file": file, "why": why} for file, why in book.skipped],
        "hindsight_warnings": [str(warning) for warning in book.warnings],
        "scores": {name: score.description for name, score in SCORES.items()},
        "references": {name: ref.description for name, ref in REFERENCES.items()},
        "log_floor": "a probability of what happened below 1/(2 trials) counts as 1/(2 trials), "
        "for the model and for every reference of the same case",
        "bootstrap": {
            "resamples": BOOTSTRAP_RESAMPLES,
            "seed": BOOTSTRAP_SEED,
            "level": 0.95,
            "method": "percentile bootstrap over cases",
        },
        "icb": _icb_provenance(book),
        "skill": json.loads(skill.to_json(orient="records")),
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 3),
        "versions": versions(),
    }
    return BacktestResult(book, table, skill, bins, info)


def _icb_provenance(book: Casebook) -> dict[str, Any] | None:
    rates = book.outcomes.icb_base_rates
    if rates is None:
        return None
    return rates.model_dump(mode="json", exclude={"tables"}) | {
        "tables_used": sorted(
            {case.icb_table.ended_before.isoformat() for case in book.cases if case.icb_table}
        )
    }
