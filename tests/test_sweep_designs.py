"""Designs, dotted paths and metrics of sweeps: pure functions, checked exactly."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from escalation.model.records import BlockResult
from escalation.scenario.distributions import parse_distribution
from escalation.sweeps.analysis import indices, morris_indices
from escalation.sweeps.designs import DesignError, Factor, make_design
from escalation.sweeps.metrics import compute_metrics, parse_metric
from escalation.sweeps.report import write_sweep_report
from escalation.sweeps.runner import SweepResult, run_design
from escalation.sweeps.variables import PathError, apply_point, make_target, resolve_path

RANGED = [Factor("a", range=(0.0, 2.0)), Factor("b", range=(-1.0, 1.0)), Factor("c", range=(5, 6))]


def test_grid_is_every_combination_first_factor_slowest() -> None:
    design = make_design("grid", [Factor("x", values=(1, 2)), Factor("y", values=("u", "v", "w"))])
    assert design.size == 6
    assert design.shape == (2, 3)
    assert [(p["x"], p["y"]) for p in design.points] == [
        (1, "u"), (1, "v"), (1, "w"), (2, "u"), (2, "v"), (2, "w")
    ]  # fmt: skip
    frame = design.frame()
    assert list(frame.columns) == ["point", "x", "y"]
    assert frame["x"].dtype == "float64" and str(frame["y"].dtype) == "string"


def test_grid_range_with_steps_and_mixed_values_column() -> None:
    design = make_design(
        "grid", [Factor("x", range=(0.0, 1.0), steps=5), Factor("d", values=(0.5, "beta(2, 2)"))]
    )
    assert [p["x"] for p in design.points[::2]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # Numbers and text in one variable: the column holds text, the points keep the numbers.
    assert design.points[0]["d"] == 0.5
    assert list(design.frame()["d"][:2]) == ["0.5", "beta(2, 2)"]


def test_one_at_a_time_starts_from_the_baseline() -> None:
    design = make_design("oat", [Factor("x", values=(1.0, 2.0)), Factor("on", values=(False,))])
    assert design.points == [
        {"x": None, "on": None},
        {"x": 1.0, "on": None},
        {"x": 2.0, "on": None},
        {"x": None, "on": False},
    ]
    assert design.labels() == ["baseline", "x=1", "x=2", "on=false"]
    frame = design.frame()
    assert np.isnan(frame["x"][0]) and frame["on"].isna().tolist() == [True, True, True, False]


def test_latin_hypercube_is_stratified_seeded_and_in_range() -> None:
    n = 20
    design = make_design("lhs", RANGED, samples=n, seed=11)
    matrix = design.matrix
    assert matrix.shape == (n, 3)
    for j, factor in enumerate(RANGED):
        lo, hi = factor.range
        unit = (matrix[:, j] - lo) / (hi - lo)
        assert np.all((unit >= 0) & (unit < 1))
        # One point in each of the n equal strata of every variable.
        assert sorted(np.floor(unit * n).astype(int)) == list(range(n))
    assert np.array_equal(make_design("lhs", RANGED, samples=n, seed=11).matrix, matrix)
    assert not np.array_equal(make_design("lhs", RANGED, samples=n, seed=12).matrix, matrix)


def test_sobol_design_size_bounds_and_power_of_two() -> None:
    design = make_design("sobol", RANGED, samples=16, seed=3)
    assert design.size == 16 * (3 + 2)
    assert np.all(design.matrix >= [0.0, -1.0, 5.0]) and np.all(design.matrix <= [2.0, 1.0, 6.0])
    assert np.array_equal(make_design("sobol", RANGED, samples=16, seed=3).matrix, design.matrix)
    # Saltelli's blocks: A, then AB_i (A with column i from B), then B.
    a, ab0 = design.matrix[0], design.matrix[1]
    assert ab0[1:].tolist() == a[1:].tolist() and ab0[0] != a[0]
    with pytest.raises(DesignError, match="power of 2"):
        make_design("sobol", RANGED, samples=12, seed=3)


def test_morris_trajectories_move_one_variable_at_a_time_on_the_grid() -> None:
    levels = 4
    design = make_design("morris", RANGED, samples=5, levels=levels, seed=2)
    assert design.size == 5 * (3 + 1)
    bounds = np.array([f.range for f in RANGED])
    unit = (design.matrix - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    np.testing.assert_allclose(unit * (levels - 1), np.round(unit * (levels - 1)), atol=1e-9)
    for t in range(5):
        steps = np.diff(design.matrix[t * 4 : (t + 1) * 4], axis=0)
        assert ((steps != 0).sum(axis=1) == 1).all()


def test_continuous_designs_need_ranges() -> None:
    with pytest.raises(DesignError, match="needs a 'range'"):
        make_design("lhs", [Factor("x", values=(1, 2))], samples=4)
    with pytest.raises(DesignError, match="unknown design"):
        make_design("factorial", RANGED)


def test_morris_of_a_linear_function_is_exact() -> None:
    # SALib scales each variable to [0, 1]: an effect is the change over the whole range,
    # here 3 * (2 - 0) = 6 for a, 0 for b, with no spread.
    design = make_design("morris", RANGED[:2], samples=6, levels=4, seed=1)
    frame = run_design(design, lambda point: {"y": 3 * point["a"] + 0 * point["b"]})
    table, notes = morris_indices(design, frame, ["y"])
    assert notes == []
    assert table["mu_star"].tolist() == pytest.approx([6.0, 0.0])
    assert table["sigma"].tolist() == pytest.approx([0.0, 0.0], abs=1e-12)


def test_resolve_path_by_key_position_and_rung_id() -> None:
    data = {
        "ladder": [{"id": "calm", "cost": 0}, {"id": "war", "cost": 1}],
        "parameters": {"f": {"path": [[0, "uniform(1, 2)"], [9, 3]], "dist": None}},
    }
    assert resolve_path(data, "ladder.war.cost") == ("ladder", 1, "cost")
    assert resolve_path(data, "ladder.0.cost") == ("ladder", 0, "cost")
    assert resolve_path(data, "parameters.f.path.1.1") == ("parameters", "f", "path", 1, 1)
    assert resolve_path(data, "parameters.f.dist") == ("parameters", "f", "dist")
    for path, fragment in (
        ("ladder.peace.cost", "rung id (calm, war)"),
        ("ladder.war.costs", "did you mean 'cost'"),
        ("parameters.f", "group of fields"),
        ("parameters.f.path", "is a list"),
        ("ladder.war.cost.x", "single value"),
        ("seed", "set by the experiment"),
    ):
        with pytest.raises(PathError, match=re.escape(fragment)):
            resolve_path({**data, "seed": 1}, path)


def test_targets_write_values_templates_and_quantiles() -> None:
    data = {
        "parameters": {
            "p": {"dist": "beta(2, 2)", "path": None, "source": "s"},
            "g": {"dist": None, "path": [[0, "uniform(0, 10)"], [5, "uniform(10, 20)"]]},
        },
        "policies": {"x": {"when": "true", "follow_through": 1}},
    }
    plain = make_target("t", data, "policies.x.follow_through")
    template = make_target("b", data, "parameters.p.dist", "beta({x}*10, (1-{x})*10)")
    condition = make_target("w", data, "policies.x.when", "day > {x}")
    quantile = make_target("q", data, "parameters.p", quantile=True)
    path_q = make_target("g", data, "parameters.g", quantile=True)
    targets = {t.name: t for t in (plain, template, condition, quantile, path_q)}
    point = {"t": 0.25, "b": 0.3, "w": 30.0, "q": None, "g": 0.5}
    out = apply_point(data, targets, point)
    assert out["policies"]["x"] == {"when": "day > 30", "follow_through": 0.25}
    assert out["parameters"]["p"]["dist"] == "beta(3, 7)"
    assert out["parameters"]["g"]["path"] == [[0, 5.0], [5, 15.0]]
    assert data["parameters"]["p"]["dist"] == "beta(2, 2)"  # the base is not changed
    expected = float(parse_distribution("beta(2, 2)").ppf(np.array([0.9]))[0])
    assert quantile.written(0.9) == {"dist": expected}


def _block(outcome: list[int], first_day: list[list[int]], aid: list[float]) -> BlockResult:
    n = len(outcome)
    return BlockResult(
        parameters={},
        records={
            "outcome": np.array(outcome),
            "day_war": np.array(first_day[0]),
            "aid:tgt": np.array(aid, dtype=float),
            "met:chal": np.zeros(n),
        },
        counts=np.zeros((1, 1)),
    )


def test_compute_metrics_from_blocks() -> None:
    outcomes = ["settlement", "stand_down", "frozen_standoff", "war"]
    violent = ["war"]
    blocks = [
        _block([0, 3, 3], [[-1, 4, 8]], [0.0, 1.0, 2.0]),
        _block([3, 1], [[6, 2]], [3.0, 4.0]),
    ]
    metrics = [
        parse_metric(text, outcomes, violent, ["aid:tgt"])
        for text in ("p:war", "median_day:war", "mean:aid:tgt")
    ]
    row = compute_metrics(metrics, outcomes, violent, blocks)
    assert row["p:war"] == pytest.approx(3 / 5)
    assert row["p:war:lo"] < 0.6 < row["p:war:hi"]
    # Trials that reached the rung: days 4, 8, 6, 2 (a stand-down after a brief war counts).
    assert row["median_day:war"] == 5.0
    assert row["mean:aid:tgt"] == pytest.approx(2.0)
    half = 1.959964 * np.std([0, 1, 2, 3, 4], ddof=1) / np.sqrt(5)
    assert row["mean:aid:tgt:hi"] - row["mean:aid:tgt"] == pytest.approx(half, rel=1e-5)


def test_design_frame_keeps_dtypes_for_parquet(tmp_path) -> None:
    design = make_design(
        "oat", [Factor("x", values=(1.0,)), Factor("s", values=("a",)), Factor("f", values=(True,))]
    )
    frame = design.frame()
    frame.to_parquet(tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), frame)


def _numbers(point: Mapping[str, Any]) -> dict[str, float]:
    """A stand-in for a scenario: a share and a mean with intervals, from numeric inputs."""
    x = sum(float(v) for v in point.values() if isinstance(v, int | float) and v == v)
    share = 0.5 + 0.4 * math.sin(x)
    return {
        "p:war": share,
        "p:war:lo": share - 0.01,
        "p:war:hi": share + 0.01,
        "mean:aid": 2 * x,
        "mean:aid:lo": 2 * x - 1,
        "mean:aid:hi": 2 * x + 1,
    }


@pytest.mark.parametrize(
    ("kind", "factors", "settings", "traces"),
    [
        ("grid", [Factor("a", values=(0.0, 1.0, 2.0))], {}, {"scatter"}),
        ("grid", [Factor("a", values=("u", "v"))], {}, {"bar"}),
        ("grid", [Factor("a", values=(0, 1)), Factor("b", values=(0, 1, 2))], {}, {"heatmap"}),
        (
            "grid",
            [Factor("a", values=(0, 1)), Factor("b", values=(0, 1)), Factor("c", values=(1,))],
            {},
            {"scatter", "parcoords"},
        ),
        ("oat", [Factor("a", values=(1.0, 2.0)), Factor("b", values=(True,))], {}, {"bar"}),
        ("lhs", RANGED, {"samples": 12}, {"splom", "parcoords"}),
        ("sobol", RANGED, {"samples": 8}, {"bar"}),
        ("morris", RANGED, {"samples": 4}, {"scatter"}),
    ],
)
def test_report_figures_follow_the_design(kind, factors, settings, traces, tmp_path) -> None:
    design = make_design(kind, factors, seed=5, **settings)
    frame = run_design(design, _numbers)
    found, notes = indices(design, frame, ["p:war", "mean:aid"], seed=5)
    result = SweepResult(
        name="t", design=design, points=frame, metrics=["p:war", "mean:aid"], indices=found
    )
    figures = result.figures()
    assert figures, kind
    assert {trace.type for _, figure, _ in figures for trace in figure.data} == traces
    if kind in ("sobol", "morris"):
        assert set(found["variable"]) == {"a", "b", "c"} and notes == []
    path = write_sweep_report(result, tmp_path / "report.html")
    text = path.read_text()
    # The figures, the points table (small designs), the indices, and the assumptions (two).
    assert text.count("<section") == len(figures) + (1 if design.size <= 60 else 0) + (
        1 if found is not None else 0
    ) + 2 + text.count("(scenario discovery)</h2>")
    assert text.count("<figure>") == len(figures) + text.count("(scenario discovery)</h2>")
