"""Experiment files: the schema, checks against the scenario, and errors with file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from escalation.cli import app
from escalation.scenario.load import load_scenario
from escalation.scenario.yamlio import InputError
from escalation.sweeps.experiment import load_experiment
from escalation.sweeps.metrics import parse_metric
from escalation.sweeps.variables import fold_arguments

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = sorted((ROOT / "experiments").glob("*.yaml"))
BAD = ROOT / "tests" / "bad" / "experiments"
BAD_FILES = sorted(BAD.glob("*.yaml"))

#: Each broken file: the line its mistake is on, and a fragment of the message.
EXPECTED = {
    "flag_over_a_range": (7, "expected true or false"),
    "format_makes_invalid_distribution": (12, "values[1]"),
    "format_without_placeholder": (7, "{x}"),
    "invalid_condition_value": (11, "no attribute 'rank'"),
    "invalid_distribution_value": (11, "needs a > 0"),
    "lhs_variable_with_values": (7, "range"),
    "lhs_without_samples": (3, "needs 'samples'"),
    "metric_median_day_not_violent": (5, "not a violent outcome"),
    "metric_unknown_kind": (5, "unknown metric kind 'prob'"),
    "metric_share_unknown_value": (5, "did you mean 'won'"),
    "metric_unknown_outcome": (7, "did you mean 'full_scale_invasion'"),
    "no_variables": (6, "at least 1"),
    "path_is_group": (8, "group of fields"),
    "path_reserved_trials": (8, "set by the experiment"),
    "path_unknown_policy": (8, "did you mean 'us_sanctions_invasion'"),
    "quantile_of_a_field": (7, "whole parameter"),
    "quantile_of_constant": (8, "constant"),
    "range_reversed": (7, "lo < hi"),
    "scenario_missing": (2, "no scenario file"),
    "sobol_samples_not_power_of_two": (5, "power of 2"),
    "trials_zero": (4, "greater than or equal to 1"),
    "two_variables_one_field": (7, "same field"),
    "unknown_field_desing": (3, "did you mean 'design'"),
    "values_and_range": (7, "not both"),
    "values_nan": (9, "values[0]: .nan is not a value a scenario can take"),
    "values_infinite": (9, "values[1]: -.inf is not a value a scenario can take"),
    "values_null": (11, "values[1]: expected a number, text or true/false; got nothing"),
    "scenario_is_an_experiment": (2, "is an experiment file, not a scenario"),
    "variable_name_capitalised": (7, "not a valid name"),
    "yaml_unclosed_bracket": (5, "YAML syntax error"),
}


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    """An experiment file in ``tmp_path`` whose scenario is the shipped dec2021."""
    scenario = (ROOT / "scenarios" / "dec2021.yaml").as_posix()
    path = tmp_path / name
    path.write_text(text.replace("SCENARIO", scenario))
    return path


def test_every_broken_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == [f.stem for f in BAD_FILES]


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_broken_experiment_names_file_line_and_field(path: Path) -> None:
    line, fragment = EXPECTED[path.stem]
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    assert caught.value.line == line, str(caught.value)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:")


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.stem)
def test_broken_experiment_exits_2_without_traceback(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["sweep", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    line = EXPECTED[path.stem][0]
    assert f"{path}:{line}:" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and not Path(f"{out}.partial").exists()


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiments_load(path: Path) -> None:
    loaded = load_experiment(path)
    assert loaded.design.size >= 4
    assert loaded.scenario.name == "dec2021"
    # Every shipped experiment's points are valid scenarios (checked while loading) that differ.
    first, last = loaded.design.points[0], loaded.design.points[-1]
    assert loaded.point_scenario(first) != loaded.point_scenario(last)


def test_design_shorthand_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: grid
trials: 10
metrics: [p:settlement]
variables:
  lam: {path: parameters.russia_lambda.dist, values: [5, 10]}
""",
    )
    loaded = load_experiment(path)
    assert loaded.design.kind == "grid"
    assert loaded.name == "exp"  # the file name when the file gives none
    assert loaded.seed == loaded.scenario.seed  # the scenario's seed when the file gives none
    assert loaded.trials == 10
    assert load_experiment(path, trials=7).trials == 7


def test_hash_follows_what_fixes_the_numbers(tmp_path: Path) -> None:
    text = """
scenario: SCENARIO
design: grid
trials: 10
seed: 3
metrics: [p:settlement]
variables:
  lam: {path: parameters.russia_lambda.dist, values: [5, 10]}
"""
    path = write(tmp_path, text)
    again = write(tmp_path, "# comments and titles change nothing\ntitle: T\n" + text, "b.yaml")
    base = load_experiment(path).experiment_hash
    assert load_experiment(again).experiment_hash == base
    assert load_experiment(path, trials=11).experiment_hash != base
    other = write(tmp_path, text.replace("seed: 3", "seed: 4"), "other.yaml")
    assert load_experiment(other).experiment_hash != base


def test_point_scenario_writes_values_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: grid
trials: 10
seed: 5
metrics: [p:settlement]
variables:
  belief:
    path: parameters.russia_belief_us.dist
    values: [0.3]
    format: "beta({x}*10, (1-{x})*10)"
  lag: {path: policies.us_defensive_aid.do.aid.lag, values: [7]}
  eu_off: {path: policies.eu_sanctions.enabled, values: [false]}
  cost: {path: ladder.invasion.cost, values: ["invasion_cost * 2"]}
""",
    )
    loaded = load_experiment(path)
    scenario = loaded.point_scenario(loaded.design.points[0])
    assert scenario.parameters["russia_belief_us"].dist == "beta(3, 7)"
    assert scenario.policies["us_defensive_aid"].do.aid.lag == 7
    assert scenario.policies["eu_sanctions"].enabled is False
    ids = [rung.id for rung in loaded.scenario.ladder]
    assert scenario.ladder[ids.index("invasion")].cost == "invasion_cost * 2"
    assert (scenario.trials, scenario.seed) == (10, 5)
    # Everything not named is as in the scenario; the loaded scenario itself is untouched.
    assert scenario.parameters["russia_lambda"] == loaded.scenario.parameters["russia_lambda"]
    assert loaded.scenario.parameters["russia_belief_us"].dist == "beta(3, 3)"


def test_quantile_variable_fixes_the_parameter_at_its_quantile(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: {kind: lhs, samples: 4}
trials: 10
metrics: [p:settlement]
variables:
  lam: {path: parameters.russia_lambda, quantile: true}
  forces: {path: parameters.russia_forces, quantile: true, range: [0.25, 0.75]}
""",
    )
    loaded = load_experiment(path)
    point = loaded.design.points[0]
    scenario = loaded.point_scenario(point)
    # russia_lambda is uniform(5, 15): its q-quantile is 5 + 10 q.
    assert scenario.parameters["russia_lambda"].dist == pytest.approx(5 + 10 * point["lam"])
    # A path parameter is fixed at the same quantile of each of its points.
    q = point["forces"]
    assert 0.25 <= q <= 0.75
    days = [day for day, _ in scenario.parameters["russia_forces"].path]
    values = [value for _, value in scenario.parameters["russia_forces"].path]
    assert days == [0, 56]
    assert values == pytest.approx([70 + 30 * q, 100 + 75 * q])


def test_invalid_combination_names_the_variables(tmp_path: Path) -> None:
    # Demand weights must add up to at most 1. With minsk at 0.1 they add up to 0.8; raising
    # either other demand alone stays within 1, raising both goes over.
    data = load_scenario(ROOT / "scenarios" / "dec2021.yaml").model_dump(mode="json")
    data["demands"]["minsk"]["weight"] = 0.1
    scenario = tmp_path / "light.yaml"
    scenario.write_text(yaml.safe_dump(data, sort_keys=False))
    path = tmp_path / "exp.yaml"
    path.write_text(
        f"""
scenario: {scenario.name}
design: grid
trials: 10
metrics: [p:settlement]
variables:
  nato: {{path: demands.nato_guarantee.weight, values: [0.5, 0.65]}}
  strike: {{path: demands.strike_weapons.weight, values: [0.2, 0.35]}}
"""
    )
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert caught.value.field == "variables"
    assert caught.value.line == 6  # the 'variables:' line (the file starts with a blank line)
    assert "nato=0.65, strike=0.35" in message
    assert "add up to at most 1" in message


def test_variable_error_names_the_value_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: grid
trials: 10
metrics: [p:settlement]
variables:
  lag:
    path: policies.us_defensive_aid.do.aid.lag
    values:
      - 7
      - "lag_unknown + 1"
""",
    )
    with pytest.raises(InputError) as caught:
        load_experiment(path)
    assert caught.value.line == 11  # the second item (the file starts with a blank line)
    assert caught.value.field == "variables.lag.values[1]"
    assert "lag_unknown" in caught.value.message


def test_metric_grammar() -> None:
    outcomes = ["settlement", "stand_down", "limited_incursion", "full_scale_invasion"]
    violent = ["limited_incursion", "full_scale_invasion"]
    union = parse_metric("p:limited_incursion + full_scale_invasion", outcomes, violent)
    assert union.text == "p:limited_incursion+full_scale_invasion"
    assert union.args == ("limited_incursion", "full_scale_invasion")
    assert parse_metric("median_day:full_scale_invasion", outcomes, violent).kind == "median_day"
    means = ["aid:ukraine", "met:russia"]
    assert parse_metric("mean:aid:ukraine", outcomes, violent, means).columns == (
        "mean:aid:ukraine",
        "mean:aid:ukraine:lo",
        "mean:aid:ukraine:hi",
    )
    categories = {"war:russia": ("none", "won", "lost"), "type:russia": ("coercer", "resolved")}
    share = parse_metric("share: war:russia = won", outcomes, violent, means, categories)
    assert (share.text, share.args, share.is_share) == (
        "share:war:russia=won",
        ("war:russia", "won"),
        True,
    )
    for bad, fragment in (
        ("share:war:russia", "takes <record>=<value>"),
        ("share:war:rusia=won", "did you mean 'war:russia'"),
        ("share:war:russia=wn", "did you mean 'won'"),
        ("share:aid:ukraine=1", "categorical per-trial record"),
    ):
        with pytest.raises(ValueError, match=re.escape(fragment)):
            parse_metric(bad, outcomes, violent, means, categories)
    for bad, fragment in (
        ("settlement", "not a metric"),
        ("p:settlment", "did you mean 'settlement'"),
        ("median_day:stand_down", "violent"),
        ("mean:forces", "numeric per-trial record"),
        ("mean:aid:ukrane", "did you mean 'aid:ukraine'"),
        ("p:settlement+settlement", "twice"),
    ):
        with pytest.raises(ValueError, match=re.escape(fragment)):
            parse_metric(bad, outcomes, violent, means)


def test_fold_arguments_computes_distribution_arguments_without_eval() -> None:
    assert fold_arguments("beta(0.3*10, (1-0.3)*10)") == "beta(3, 7)"
    assert fold_arguments("normal(2/4, 0.1, lo=0, hi=1+1)") == "normal(0.5, 0.1, lo=0, hi=2)"
    assert fold_arguments("0.25") == "0.25"  # not a call: left as it is
    with pytest.raises(ValueError, match="cannot compute"):
        fold_arguments("beta(__import__('os'), 1)")


# --- hardening (issue 13) and sweep --seed / --horizon (issue 11) ---------------------------


def test_a_point_of_a_parameter_path_can_be_varied(tmp_path: Path) -> None:
    """`parameters.X.path.1.1` (a documented form) writes the second point's distribution."""
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: grid
trials: 10
metrics: [p:settlement]
variables:
  late_forces:
    path: parameters.russia_forces.path.1.1
    values: ["uniform(100, 120)", "uniform(150, 175)"]
  late_day: {path: parameters.russia_forces.path.1.0, values: [40]}
""",
    )
    loaded = load_experiment(path)
    scenario = loaded.point_scenario(loaded.design.points[-1])
    assert [list(point) for point in scenario.parameters["russia_forces"].path] == [
        [0, "uniform(70, 100)"],
        [40, "uniform(150, 175)"],
    ]
    assert loaded.scenario.parameters["russia_forces"].path[1][1] == "uniform(100, 175)"


def test_editing_a_label_keeps_the_hash(tmp_path: Path) -> None:
    """A label only names an axis: editing it must not block --resume."""
    text = """
scenario: SCENARIO
design: grid
trials: 10
metrics: [p:settlement]
variables:
  lam: {path: parameters.russia_lambda.dist, values: [5, 10], label: LABEL}
"""
    first = load_experiment(write(tmp_path, text.replace("LABEL", "rationality"), "a.yaml"))
    second = load_experiment(write(tmp_path, text.replace("LABEL", "lambda (1/stake)"), "b.yaml"))
    assert first.experiment_hash == second.experiment_hash
    third = load_experiment(write(tmp_path, text.replace("10]", "11]"), "c.yaml"))
    assert third.experiment_hash != first.experiment_hash


def test_seed_and_horizon_replace_the_files(tmp_path: Path) -> None:
    """load_experiment(seed=, horizon=) sets every point's seed and the scenario's horizon."""
    path = write(
        tmp_path,
        """
scenario: SCENARIO
design: grid
trials: 10
seed: 3
metrics: [p:settlement]
variables:
  lam: {path: parameters.russia_lambda.dist, values: [5, 10]}
""",
    )
    base = load_experiment(path)
    changed = load_experiment(path, seed=11, horizon=60)
    assert (base.seed, base.scenario.horizon) == (3, 120)
    assert (changed.seed, changed.scenario.horizon) == (11, 60)
    point = changed.point_scenario(changed.design.points[0])
    assert (point.seed, point.horizon) == (11, 60)
    assert changed.experiment_hash != base.experiment_hash
    with pytest.raises(InputError, match="--horizon: must be between 1 and"):
        load_experiment(path, horizon=0)
    with pytest.raises(InputError, match="--seed"):
        load_experiment(path, seed=-1)


def test_a_scenario_given_as_an_experiment_names_the_mix_up() -> None:
    """`sweep` on a scenario file says so, instead of 'unknown field'."""
    scenario = ROOT / "scenarios" / "dec2021.yaml"
    with pytest.raises(InputError) as caught:
        load_experiment(scenario)
    assert "this is a scenario file, not an experiment" in caught.value.message
    assert f"escalation run {scenario}" in caught.value.message
    assert "unknown field" not in str(caught.value)
