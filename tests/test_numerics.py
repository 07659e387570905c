"""Numerical health: no NaN or infinity in any output, for extreme but valid scenarios.

Each case pushes one input to an edge the format allows (follow-through 0 and 1, zero costs,
stakes of 1e12, zero forces and capability, rationality 0 and 1e6, horizons of one day and five
years) and checks every output of a run: the trials table, the timeline, the summaries
(outcomes, timing, drivers, survival), the report's figures, and the files
:meth:`RunResult.write` puts on disk, read back.

Missing values are allowed in one place only: a nullable ``day_<outcome>`` column (and the
timing table's days) hold ``<NA>`` where no trial reached the rung. The tests check that every
``<NA>`` has that meaning (the trial's peak is below the rung), so that a NaN turned into
``<NA>`` by pandas would still be caught, and that those columns are integer or nullable, never
float columns with NaN.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from builders import aid, concession, sanction, scenario, toy

import escalation
from escalation.scenario.yamlio import InputError

TRIALS = 256
SEED = 3


def base(**changes: Any) -> dict[str, Any]:
    """The toy scenario with uncertain parameters (so that drivers have rows), a threat, aid,
    a concession and an event, so that every kind of output has something in it."""
    data = toy(
        parameters={
            "u": {"dist": "uniform(0, 1)", "source": "test"},
            "b": {"dist": "beta(2, 2)", "source": "test"},
            "grow": {"path": [[0, "uniform(0.5, 1)"], [20, "uniform(1, 2)"]], "source": "test"},
        },
        policies={
            "threat": sanction(0.3, when="chal.rung >= strike", perceived="b"),
            "help": aid(20, lag=3, when="chal.rung >= strike"),
            "give": concession("0.02 * u"),
        },
        events={
            "spill": {
                "when": "chal.rung >= strike",
                "rate": "0.02 * b",
                "to_rung": "war",
                "source": "test",
            }
        },
    )
    data["actors"]["chal"]["forces"] = "100 * grow"
    data.update(changes)
    return data


def case_follow_through(value: float) -> dict[str, Any]:
    """Every policy carried out always, or never."""
    data = base()
    for policy in data["policies"].values():
        policy["follow_through"] = value
    return data


def case_zero_costs() -> dict[str, Any]:
    """No cost anywhere: ladder, holding, audience, threats, planning."""
    data = base()
    for rung in data["ladder"]:
        rung.update(cost=0, hold_cost=0)
    data["challenger"].update(audience_cost=0, hope=0, planning_days=0)
    data["policies"]["threat"]["do"]["sanction"]["severity"] = 0
    return data


def case_huge_stakes() -> dict[str, Any]:
    """A stake of 1e12 and threats, aid and costs of that size."""
    data = base()
    data["challenger"]["stake"] = 1e12
    data["policies"]["threat"]["do"]["sanction"]["severity"] = 1e12
    data["policies"]["help"]["do"]["aid"]["amount"] = 1e12
    # The challenger holds when every utility is this large, so let both fire unconditionally.
    data["policies"]["threat"]["when"] = "chal.rung >= standoff"
    data["policies"]["help"]["when"] = True
    data["ladder"][3]["cost"] = 1e12
    return data


def case_zero_forces() -> dict[str, Any]:
    """Nothing on either side: the contest success function's 0/0."""
    data = base()
    data["actors"]["chal"]["forces"] = 0
    data["actors"]["tgt"]["capability"] = 0
    data["policies"]["help"]["do"]["aid"]["amount"] = 0
    return data


def case_rationality(value: float) -> dict[str, Any]:
    """A challenger choosing at random, or all but deterministically."""
    data = base()
    data["challenger"]["rationality"] = value
    return data


def case_long() -> dict[str, Any]:
    """Five years, with decisions rare enough that some trials are still live at the end."""
    data = base(horizon=1826)
    data["challenger"]["decision_rate"] = 0.002
    return data


def case_everything_extreme() -> dict[str, Any]:
    """All the edges at once: huge stakes, 1e6 rationality, no forces, no costs."""
    data = case_zero_costs()
    data["challenger"].update(stake=1e12, rationality=1e6, decision_rate=1)
    data["actors"]["chal"]["forces"] = 0
    data["actors"]["tgt"]["capability"] = 0
    return data


CASES = {
    "follow_through_0": lambda: case_follow_through(0),
    "follow_through_1": lambda: case_follow_through(1),
    "zero_costs": case_zero_costs,
    "huge_stakes": case_huge_stakes,
    "zero_forces": case_zero_forces,
    "rationality_0": lambda: case_rationality(0),
    "rationality_1e6": lambda: case_rationality(1e6),
    "horizon_1": lambda: base(horizon=1),
    "horizon_1826": lambda: case_long(),
    "everything_extreme": case_everything_extreme,
}


def non_finite(frame: pd.DataFrame, name: str) -> list[str]:
    """Where a frame holds NaN or infinity: ``name.column`` for each such column.

    Plain float and integer columns must be finite everywhere; nullable columns may hold
    ``<NA>`` (checked for meaning elsewhere) but no NaN or infinity among their values.
    """
    bad = []
    for column in frame.columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
            continue
        if pd.api.types.is_bool_dtype(series.dtype):
            continue
        if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
            series.dtype, np.dtype
        ):
            data = series.array
            if hasattr(data, "_data"):  # masked arrays keep values apart from the <NA> mask
                values = np.asarray(data._data, dtype=float)[~np.asarray(data._mask)]
            else:
                values = series.dropna().to_numpy(dtype=float)
        else:
            values = series.to_numpy(dtype=float)
        if not np.isfinite(values).all():
            bad.append(f"{name}.{column}")
    return bad


def figure_numbers(value: Any, path: str = "") -> Iterator[str]:
    """Paths to NaN or infinite floats anywhere in a figure's JSON."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from figure_numbers(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from figure_numbers(item, f"{path}[{i}]")
    elif isinstance(value, np.ndarray):
        yield from figure_numbers(value.tolist(), path)
    elif isinstance(value, float | np.floating) and not math.isfinite(value):
        yield path


def check_days_mean_never_reached(trials: pd.DataFrame, violent: list[str]) -> None:
    """``day_<v>`` is an integer column, ``<NA>`` exactly where the peak stayed below ``v``."""
    rungs = list(trials["peak:chal"].cat.categories)
    peak = trials["peak:chal"].cat.codes.to_numpy()
    for name in violent:
        column = trials[f"day_{name}"]
        assert column.dtype == "Int64", column.dtype
        # The rung of an outcome: here every violent rung names its own outcome.
        reached = peak >= rungs.index(name)
        np.testing.assert_array_equal(column.isna().to_numpy(), ~reached)


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def result(request: pytest.FixtureRequest) -> escalation.RunResult:
    """One run per case."""
    return escalation.run(scenario(CASES[request.param]()), trials=TRIALS, seed=SEED)


def test_no_nan_in_memory(result: escalation.RunResult) -> None:
    bad = non_finite(result.trials, "trials")
    bad += non_finite(result.timeline, "timeline")
    bad += non_finite(result.summary, "summary")
    bad += non_finite(result.timing, "timing")
    bad += non_finite(result.drivers(), "drivers")
    bad += non_finite(result.survival(), "survival")
    assert not bad
    check_days_mean_never_reached(result.trials, result.violent)
    # Timing: the median day is <NA> exactly when no trial reached the outcome.
    timing = result.timing
    np.testing.assert_array_equal(timing["median_day"].isna(), timing["reached"] == 0)
    # Drivers have rows to check (the parameters vary).
    assert len(result.drivers()) >= 3
    # Shares still add up at the edges.
    assert result.summary["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    for name, figure in result.figures().items():
        assert not list(figure_numbers(figure.to_plotly_json())), name


def test_no_nan_in_written_files(result: escalation.RunResult, tmp_path: Path) -> None:
    out = result.write(tmp_path / "run")
    trials = pd.read_parquet(out / "trials.parquet")
    assert not non_finite(trials, "trials.parquet")
    check_days_mean_never_reached(trials, result.violent)
    pd.testing.assert_frame_equal(trials, result.trials)
    for name in ("timeline.csv", "summary.csv"):
        # keep_default_na=False: an empty cell or "nan" would otherwise be read as NaN quietly;
        # as text it fails the numeric check below.
        frame = pd.read_csv(out / name, keep_default_na=False)
        numeric = frame.drop(columns=[c for c in ("outcome",) if c in frame])
        assert all(np.issubdtype(t, np.number) for t in numeric.dtypes), numeric.dtypes
        assert not non_finite(numeric, name)

    def refuse(constant: str) -> None:
        raise ValueError(f"run.json holds {constant}")

    info = json.loads((out / "run.json").read_text(), parse_constant=refuse)
    assert info["trials"] == TRIALS


def test_the_edges_are_reached() -> None:
    # The cases do push their inputs where they claim: threats and aid of 1e12 fire, nothing is
    # carried out at follow-through 0, and the five-year run plays every day of it.
    runs = {
        name: escalation.run(scenario(CASES[name]()), trials=TRIALS, seed=SEED)
        for name in ("huge_stakes", "follow_through_0", "follow_through_1", "horizon_1826")
    }
    huge = runs["huge_stakes"].trials
    assert huge["sanctions:chal"].max() == 1e12
    assert huge["aid:tgt"].max() == 1e12
    assert (
        (runs["follow_through_0"].trials[["sanctions:chal", "aid:tgt", "met:chal"]] == 0)
        .all()
        .all()
    )
    assert (runs["follow_through_1"].trials["sanctions:chal"] > 0).any()
    timeline = runs["horizon_1826"].timeline
    live = timeline[[c for c in timeline.columns if c.startswith("rung:")]].sum(axis=1)
    assert len(timeline) == 1827
    assert live.iloc[-1] > 0


def test_an_expression_that_is_not_finite_in_some_trial_is_a_located_error(tmp_path) -> None:
    # Not a constant, so not caught on loading: a value of 1/0 in the trials where the drawn
    # parameter is 0 stops the run with the field, the line and the first such trial.
    data = toy(
        parameters={"coin": {"dist": "bernoulli(0.5)", "source": "test"}},
    )
    data["challenger"]["rationality"] = "5 / coin"
    path = tmp_path / "coin.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as caught:
        escalation.run(path, trials=500, seed=1)
    error = caught.value
    assert error.field == "challenger.rationality" and error.line is not None
    assert "rationality: 5 / coin" in path.read_text().splitlines()[error.line - 1]
    assert "evaluates to inf in trial" in error.message
    trial = int(error.message.split("in trial ")[1].split()[0])
    # It is the first trial where the coin came up 0 (the message names the trial honestly).
    scenario_only = escalation.run(
        scenario({**data, "challenger": {**data["challenger"], "rationality": 5}}),
        trials=500,
        seed=1,
    )
    coins = scenario_only.trials["coin"].to_numpy()
    assert trial == int(np.flatnonzero(coins == 0)[0])


def test_a_lag_beyond_any_day_warns_of_nothing() -> None:
    data = toy(policies={"help": aid(10, lag=1e300)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trials = escalation.run(scenario(data), trials=300, seed=1).trials
    assert (trials["aid:tgt"] == 0).all()  # it never arrives
