"""Scenario discovery: PRIM finds planted boxes in their own units, on yes/no cases and on
shares, with categorical inputs; `escalation discover` reads run and sweep folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from escalation import api
from escalation.analysis.discovery import prim, qp_text, summary_text
from escalation.cli import app
from escalation.discover import discover
from escalation.scenario.yamlio import InputError

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"


def _planted(n: int = 8000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    """Cases of interest at 80% inside cost < 30 (units 0-100) and kind == 'b', else 5%."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "cost": rng.uniform(0, 100, n),
            "belief": rng.uniform(0, 1, n),
            "noise": rng.normal(0, 1, n),
            "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        }
    )
    inside = (frame["cost"] < 30) & (frame["kind"] == "b")
    y = rng.random(n) < np.where(inside, 0.8, 0.05)
    return frame, y


def test_prim_finds_a_planted_box_in_the_inputs_own_units() -> None:
    frame, y = _planted()
    found = prim(frame, y, seed=3)
    box = found.boxes[0]
    limits = {lim.name: lim for lim in box.limits}
    # Only the two planted inputs are restricted: noise restrictions are pruned.
    assert set(limits) == {"cost", "kind"}
    assert limits["kind"].categories == ("b",)
    cost = limits["cost"]
    assert cost.low is None and cost.high == pytest.approx(30, abs=3)
    assert cost.range_low == pytest.approx(0, abs=0.1) and cost.range_high == pytest.approx(
        100, abs=0.1
    )
    # The true box holds 10% of cases; its density is 0.8 and its coverage
    # 0.8 * 0.1 / (0.8 * 0.1 + 0.05 * 0.9) = 0.64. Tolerances: 4 standard errors.
    n_box = box.cases
    assert box.density == pytest.approx(0.8, abs=4 * np.sqrt(0.16 / n_box))
    assert box.density_lo < box.density < box.density_hi
    assert box.coverage == pytest.approx(0.64, abs=0.06)
    # Held out cases (a quarter of 8,000) agree within their own noise.
    assert box.test_density == pytest.approx(0.8, abs=0.1)
    assert found.base_density == pytest.approx(0.125, abs=0.02)
    text = summary_text(found, "P(war)", {"cost": "the cost"})
    assert "kind ∈ {b}" in text and "the cost ≤ " in text


def test_the_trajectory_trades_coverage_for_density() -> None:
    frame, y = _planted()
    found = prim(frame, y)
    traj = found.trajectory
    assert traj["coverage"].iloc[0] == pytest.approx(1.0)
    assert traj["mass"].iloc[0] == pytest.approx(1.0)
    assert (np.diff(traj["coverage"]) <= 1e-12).all()
    assert traj["mass"].iloc[-1] >= 0.05 - 1e-9
    assert traj["chosen"].sum() == 1
    chosen = traj[traj["chosen"]].iloc[0]
    assert chosen["coverage"] >= 0.5


def test_prim_on_shares_reads_a_mean_probability() -> None:
    # Sweep points: each point's share of interest is 0.6 when x > 0.7, else 0.1.
    rng = np.random.default_rng(4)
    x = rng.uniform(0, 1, 400)
    frame = pd.DataFrame({"x": x, "z": rng.uniform(0, 1, 400)})
    share = np.where(x > 0.7, 0.6, 0.1) + rng.normal(0, 0.01, 400).clip(-0.05, 0.05)
    found = prim(frame, share.clip(0, 1))
    assert not found.binary
    box = found.boxes[0]
    assert [lim.name for lim in box.limits] == ["x"]
    assert box.limits[0].low == pytest.approx(0.7, abs=0.03)
    assert box.density == pytest.approx(0.6, abs=0.01)
    assert box.test_density is None  # too few points to hold any out


def test_covering_finds_a_second_box_outside_the_first() -> None:
    rng = np.random.default_rng(8)
    n = 10_000
    frame = pd.DataFrame({"u": rng.uniform(0, 1, n), "v": rng.uniform(0, 1, n)})
    p = np.where(frame["u"] > 0.85, 0.9, np.where(frame["v"] > 0.85, 0.6, 0.03))
    y = rng.random(n) < p
    found = prim(frame, y, boxes=2, min_coverage=0.3)
    assert len(found.boxes) == 2
    first, second = ({lim.name for lim in b.limits} for b in found.boxes)
    assert first == {"u"} and "v" in second


def test_prim_refuses_what_it_cannot_read() -> None:
    frame = pd.DataFrame({"x": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="one value per row"):
        prim(frame, [1, 0])
    with pytest.raises(ValueError, match="shares between 0 and 1"):
        prim(frame, [1.5, 0, 0])
    with pytest.raises(ValueError, match="at least one input"):
        prim(frame[[]], [1, 0, 0])


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("discover") / "run"
    result = api.run(DEC2021, trials=6000, seed=5)
    result.write(out)
    return out


def test_discover_on_a_run_names_the_type_and_reads_parameters_as_drawn(
    run_folder: Path,
) -> None:
    found = discover(run_folder, "Full-scale invasion")
    assert found.kind == "run" and found.outcome == "full_scale_invasion"
    inputs = found.found.inputs
    # Every varying parameter as drawn (the path points too), and the type; no result column.
    assert {"type:russia", "invasion_cost", "russia_hope", "russia_forces@56"} <= set(inputs)
    assert not any(":" in name for name in inputs if name != "type:russia")
    assert "trial" not in inputs and "outcome_day" not in inputs
    box = found.found.boxes[0]
    kinds = next(lim for lim in box.limits if lim.name == "type:russia")
    assert kinds.categories == ("resolved",)
    assert box.density > 2 * found.found.base_density
    assert found.labels["type:russia"] == "type of Russian Federation"


def test_discover_writes_a_folder_and_prints_boxes(run_folder: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "disc"
    result = runner.invoke(
        app, ["discover", str(run_folder), "--outcome", "full_scale_invasion", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Box 1: coverage" in result.output and "type of Russian" in result.output
    assert "{resolved}" in result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "boxes.csv",
        "report.html",
        "run.json",
        "trajectory.csv",
    ]
    record = json.loads((out / "run.json").read_text())
    assert record["outcome"] == "full_scale_invasion" and record["boxes"][0]["limits"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "nuke"], "'nuke' is not an outcome"),
        (["--outcome", "war", "--above", "0.2"], "only for sweep results"),
    ],
)
def test_discover_bad_input_exits_2_with_a_located_message(
    run_folder: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["discover", str(run_folder), *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert str(run_folder) in result.output


def test_discover_refuses_a_folder_without_results(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a results folder"):
        discover(tmp_path, "war")


LHS = """
name: lhs
scenario: {scenario}
design: {{kind: lhs, samples: 40}}
trials: 300
seed: 3
metrics: [p:full_scale_invasion, median_day:full_scale_invasion]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, range: [0.0, 1.5]}}
  belief: {{path: parameters.russia_belief_us, quantile: true}}
"""


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lhs")
    path = folder / "lhs.yaml"
    path.write_text(LHS.format(scenario=DEC2021.as_posix()))
    api.sweep(path, out=folder / "out")
    return folder / "out"


def test_discover_on_a_latin_hypercube_reads_values_in_their_units(sweep_folder: Path) -> None:
    found = discover(sweep_folder, "full_scale_invasion")
    assert found.kind == "sweep" and found.outcome == "p:full_scale_invasion"
    assert not found.found.binary
    # The quantile variable is read as the parameter's value, not its quantile.
    assert set(found.found.inputs) == {"severity", "belief:value"}
    assert found.labels["belief:value"].endswith("(value)")
    points = pd.read_parquet(sweep_folder / "points.parquet")
    assert found.found.base_density == pytest.approx(
        points["p:full_scale_invasion"].mean(), rel=0.35
    )
    days = discover(sweep_folder, "median_day:full_scale_invasion", below=30)
    assert days.found.binary
    with pytest.raises(InputError, match="not a probability"):
        discover(sweep_folder, "median_day:full_scale_invasion")
    with pytest.raises(InputError, match="not a metric of this sweep"):
        discover(sweep_folder, "p:settlement")


def test_discover_reads_the_trials_table_of_several_deciders(tmp_path: Path) -> None:
    """The table of several deciders: parameters as drawn, a type, peak, rung, exit each."""
    rng = np.random.default_rng(2)
    n = 3000
    a = rng.uniform(0, 1, n)
    red = rng.choice(["hawk", "dove"], n)
    war = rng.random(n) < np.where((red == "hawk") & (a > 0.5), 0.7, 0.05)
    table = pd.DataFrame(
        {
            "trial": np.arange(n),
            "a": a,
            "b": rng.uniform(0, 1, n),
            "type:red": pd.Categorical(red),
            "type:blue": pd.Categorical(rng.choice(["firm", "soft"], n)),
            "outcome": pd.Categorical(np.where(war, "war", "settlement")),
            "outcome_day": rng.integers(0, 30, n),
            "day_war": pd.array(np.where(war, 3, -1), dtype="Int64"),
            "peak:red": pd.Categorical(np.where(war, "war", "calm")),
            "rung:red": pd.Categorical(np.where(war, "war", "calm")),
            "exit:red": pd.Categorical(rng.choice(["pressing", "ended"], n)),
            "exit_day:red": pd.array(rng.integers(0, 30, n), dtype="Int64"),
            "ended_by": np.where(war, "", "red"),
            "met:red": rng.uniform(0, 1, n),
            "granted:ask": rng.random(n) < 0.3,
            "day_granted:ask": pd.array(rng.integers(0, 30, n), dtype="Int64"),
            "sanctions:red": rng.uniform(0, 1, n),
            "aid:blue": rng.uniform(0, 1, n),
        }
    )
    folder = tmp_path / "run"
    folder.mkdir()
    table.to_parquet(folder / "trials.parquet")
    found = discover(folder, "war")
    assert set(found.found.inputs) == {"a", "b", "type:red", "type:blue"}
    limits = {lim.name: lim for lim in found.found.boxes[0].limits}
    assert set(limits) == {"a", "type:red"}
    assert limits["type:red"].categories == ("hawk",)
    assert limits["a"].low == pytest.approx(0.5, abs=0.05)
    assert found.labels["type:red"] == "type of red"


def test_a_quasi_p_value_too_small_for_a_float_is_not_printed_as_zero() -> None:
    assert qp_text(0.0) == "< 1e-300"
    assert qp_text(1.3e-120) == "1.3e-120" and qp_text(0.0123) == "0.012"
