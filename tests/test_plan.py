"""Tests of the compiled plan: path parameters, challenger types, the order of random draws."""

from __future__ import annotations

import numpy as np
import pytest
from builders import Z, binomial_se, model, play, scenario, toy

from escalation.model.plan import Plan


def _path_scenario(interpolate: str) -> dict:
    data = toy(horizon=14)
    data["parameters"]["surge"] = {
        "path": [[2, 10], [6, "uniform(20, 30)"], [10, 50]],
        "interpolate": interpolate,
        "source": "test",
    }
    data["actors"]["chal"]["forces"] = "surge"
    data["challenger"]["decision_rate"] = 0
    return data


def _expected_path(points: np.ndarray, day: int, step: bool) -> np.ndarray:
    """The path's value on a day, written out per segment from the points at days 2, 6, 10."""
    p2, p6, p10 = points
    if day <= 2:
        return p2
    if day >= 10:
        return p10
    if day < 6:
        return p2 if step else p2 + (day - 2) / 4 * (p6 - p2)
    return p6 if step else p6 + (day - 6) / 4 * (p10 - p6)


@pytest.mark.parametrize("interpolate", ["linear", "step"])
def test_path_parameters_interpolate_on_each_day(interpolate: str) -> None:
    crisis = model(_path_scenario(interpolate), 200, seed=3)
    points = crisis.world.points["surge"]
    assert points.shape == (3, 200)
    assert (points[0] == 10).all() and (points[2] == 50).all()
    assert ((points[1] >= 20) & (points[1] <= 30)).all() and points[1].std() > 0
    step = interpolate == "step"
    for day in range(15):
        if day:
            crisis.step()
        expected = _expected_path(points, day, step)
        np.testing.assert_allclose(crisis.env["surge"], expected, rtol=0, atol=1e-12)
        # Forces read the path through their expression the same day.
        np.testing.assert_allclose(crisis.deciders[0].forces, expected, rtol=0, atol=1e-12)
    # Spot values by hand: day 4 is halfway from 10 to the middle point.
    if not step:
        crisis = model(_path_scenario(interpolate), 200, seed=3)
        for _ in range(4):
            crisis.step()
        np.testing.assert_allclose(crisis.env["surge"], (10 + points[1]) / 2)


def test_path_points_are_trial_columns() -> None:
    trials, _ = play(_path_scenario("linear"), 50, seed=3)
    assert {"surge@2", "surge@6", "surge@10"} <= set(trials.columns)
    assert (trials["surge@2"] == 10).all()


def _typed_scenario(with_overrides: bool = True) -> dict:
    data = toy(horizon=3)
    data["parameters"] = {
        "share_b": {"dist": 0.3, "source": "test"},
        "boldness": {"dist": "uniform(0, 1)", "source": "test"},
        "other": {"dist": "uniform(0, 1)", "source": "test"},
    }
    data["challenger"]["types"] = {
        "a": {"prior": "0.5 - share_b / 3"},  # 0.4
        "b": {"prior": "share_b"},  # 0.3
        "c": {"prior": 0.3},
    }
    if with_overrides:
        data["challenger"]["types"]["b"]["overrides"] = {"boldness": 5}
        data["challenger"]["types"]["c"]["overrides"] = {"boldness": "other + 10"}
    return data


def test_type_priors_give_their_shares() -> None:
    n = 40_000
    crisis = model(_typed_scenario(), n, seed=4)
    assert crisis.plan.deciders[0].type_names == ["a", "b", "c"]
    for code, prior in enumerate((0.4, 0.3, 0.3)):
        share = np.mean(crisis.world.types[0] == code)
        assert abs(share - prior) <= Z * binomial_se(prior, n), (code, share)


def test_overrides_apply_only_to_their_type() -> None:
    n = 5000
    typed = model(_typed_scenario(), n, seed=5)
    plain = model(_typed_scenario(with_overrides=False), n, seed=5)
    types = typed.world.types[0]
    np.testing.assert_array_equal(types, plain.world.types[0])  # overrides consume no draws
    bold, drawn = typed.world.values["boldness"], plain.world.values["boldness"]
    np.testing.assert_array_equal(bold[types == 0], drawn[types == 0])
    assert (bold[types == 1] == 5).all()
    np.testing.assert_array_equal(bold[types == 2], typed.world.values["other"][types == 2] + 10)
    np.testing.assert_array_equal(typed.world.values["other"], plain.world.values["other"])
    assert all((types == code).any() for code in range(3))


def test_trials_table_records_types_and_values_as_drawn() -> None:
    # The table keeps each parameter as drawn, before type overrides, beside the type: a
    # parameter that a type overrides would otherwise stand in for the type itself.
    trials, _ = play(_typed_scenario(), 3000, seed=6)
    plain, _ = play(_typed_scenario(with_overrides=False), 3000, seed=6)
    assert list(trials["type:chal"].cat.categories) == ["a", "b", "c"]
    np.testing.assert_array_equal(trials["boldness"], plain["boldness"])
    assert (trials["boldness"] < 1).all()
    # The model itself played with the overridden values.
    crisis = model(_typed_scenario(), 3000, seed=6)
    types = crisis.world.types[0]
    assert (crisis.world.values["boldness"][types == 1] == 5).all()


def test_changing_one_distribution_leaves_other_draws_alone() -> None:
    data = _typed_scenario(with_overrides=False)
    first = model(data, 1000, seed=7)
    data["parameters"]["boldness"]["dist"] = "beta(2, 5)"
    second = model(data, 1000, seed=7)
    np.testing.assert_array_equal(first.world.values["other"], second.world.values["other"])
    np.testing.assert_array_equal(first.world.types[0], second.world.types[0])
    np.testing.assert_array_equal(first.follow_draws, second.follow_draws)
    assert not np.array_equal(first.world.values["boldness"], second.world.values["boldness"])


def test_rung_outcomes_map_each_rung_to_the_highest_violent_outcome_at_or_below_it() -> None:
    data = toy()
    data["ladder"].insert(3, {"id": "raid"})  # a rung without outcome between strike and war
    plan = Plan.from_scenario(scenario(data))
    outcomes = plan.outcomes
    assert outcomes == ["settlement", "stand_down", "frozen_standoff", "strike", "war"]
    names = [outcomes[code] if code >= 0 else None for code in plan.ladders["ladder"].outcome_code]
    assert names == [None, None, "strike", "strike", "war"]
    assert plan.violent == ["strike", "war"]


def test_policies_compile_their_defaults() -> None:
    data = toy(
        policies={
            "hit": {
                "actor": "guard",
                "when": "chal.rung >= war",
                "do": {"sanction": {"target": "chal", "severity": 0.3}},
                "follow_through": 0.7,
                "source": "t",
            },
            "hit_other": {
                "actor": "guard",
                "do": {"sanction": {"target": "tgt", "severity": 0.3}},
                "source": "t",
            },
        }
    )
    plan = Plan.from_scenario(scenario(data))
    hit, other = plan.policies
    env = {"day": 0.0, "horizon": 30.0}
    # Perceived defaults to the truth; a sanction on the challenger costs it its severity.
    assert hit.perceived(env) == pytest.approx(0.7)
    assert hit.cost(env) == pytest.approx(0.3)
    # A sanction on someone else costs the challenger nothing, so it never enters its choice.
    assert other.cost is None


def test_a_repeating_path_runs_back_to_its_start_each_period() -> None:
    # Points 0 on day 0 and 10 on day 10, repeating every 20 days: up to 10 by day 10, back
    # down to 0 by day 20, and again.
    data = toy(horizon=45)
    data["parameters"]["wave"] = {"path": [[0, 0], [10, 10]], "period": 20, "source": "test"}
    data["challenger"]["decision_rate"] = 0
    crisis = model(data, 3, seed=1)
    seen = [float(crisis.env["wave"][0])]
    for _ in range(45):
        crisis.step()
        seen.append(float(crisis.env["wave"][0]))
    expected = [d % 20 if d % 20 <= 10 else 20 - d % 20 for d in range(46)]
    np.testing.assert_allclose(seen, expected, atol=1e-12)
    plan = crisis.plan
    days = np.array([5.0, 15.0, 25.0, 44.0])
    points = crisis.world.points["wave"][:, :1].repeat(4, axis=1)
    np.testing.assert_allclose(plan.paths["wave"].at(points, days), [5, 5, 5, 4], atol=1e-12)


def test_floor_and_cap_hold_a_parameter_between_them() -> None:
    data = toy(horizon=2)
    data["parameters"]["x"] = {"dist": "normal(0, 1)", "floor": -0.5, "cap": 0.5, "source": "t"}
    data["parameters"]["y"] = {"path": [[0, "normal(0, 1)"]], "cap": 0, "source": "t"}
    trials, _ = play(data, 2000, seed=2)
    assert trials["x"].between(-0.5, 0.5).all()
    assert (trials["x"] == 0.5).any() and (trials["x"] == -0.5).any()
    assert (trials["y@0"] <= 0).all() and (trials["y@0"] == 0).any()
