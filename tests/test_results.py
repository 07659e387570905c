"""Tests of run results: shares and timelines that add up, atomic writing, names that are labels."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import aid, concession, sanction, scenario, toy, two_deciders

from escalation import analysis, api
from escalation.engine.results import RUN_FILES, OutputError, RunResult
from escalation.scenario.load import scenario_from_dict
from escalation.scenario.yamlio import parse_yaml


def _busy() -> dict:
    """A scenario where every ending happens, an absorbing rung included."""
    data = toy(
        horizon=40,
        policies={"s": sanction(0.3, perceived=0.5), "give": concession(0.01), "help": aid(20)},
        events={
            "doom": {"when": "chal.rung >= war", "rate": 0.05, "to_rung": "doom", "source": "t"}
        },
    )
    data["ladder"].append({"id": "doom", "outcome": "doom", "absorbing": True, "choosable": False})
    data["challenger"]["rationality"] = 2
    return data


@pytest.fixture(scope="module")
def busy() -> RunResult:
    """A small run of the busy scenario."""
    return api.run(scenario(_busy()), trials=4000, seed=2)


def _check_timeline(result: RunResult) -> None:
    timeline = result.timeline
    assert len(timeline) == result.scenario.horizon + 1
    where = [c for c in timeline if c.startswith(("rung:", "ended:"))]
    np.testing.assert_allclose(timeline[where].sum(axis=1), 1.0, atol=1e-12)
    outcomes = [c for c in timeline if c.startswith("outcome:")]
    assert outcomes == [f"outcome:{o}" for o in result.outcomes]
    np.testing.assert_allclose(timeline[outcomes].sum(axis=1), 1.0, atol=1e-12)
    # On the last day the provisional classification is the final one.
    last = timeline.iloc[-1][outcomes].to_numpy(dtype=float)
    np.testing.assert_allclose(last, result.summary["probability"].to_numpy(), atol=1e-12)


def test_outcome_shares_sum_to_one(busy: RunResult) -> None:
    summary = busy.summary
    assert list(summary["outcome"]) == busy.outcomes
    assert summary["count"].sum() == 4000
    assert summary["probability"].sum() == pytest.approx(1.0)
    assert (
        summary.set_index("outcome").loc[["settlement", "stand_down", "doom"], "count"] > 0
    ).all()


def test_timeline_columns_sum_to_one_every_day(busy: RunResult) -> None:
    assert "ended:doom" in busy.timeline and "rung:chal:doom" not in busy.timeline
    _check_timeline(busy)


def test_timeline_sums_to_one_in_dec2021(dec2021_path: Path) -> None:
    _check_timeline(api.run(dec2021_path, trials=2000, seed=3))


def test_timeline_sums_to_one_with_a_plain_rung_above_an_absorbing_one() -> None:
    # 'beyond' has no outcome of its own, so a trial there counts as 'doom' without being
    # absorbed; it must show once, on its rung, not also as an ended 'doom'.
    data = _busy()
    data["ladder"].append({"id": "beyond", "choosable": False})
    data["events"]["over"] = {
        "when": "chal.rung >= war",
        "rate": 0.05,
        "to_rung": "beyond",
        "source": "t",
    }
    result = api.run(scenario(data), trials=3000, seed=4)
    assert (result.trials["peak:chal"] == "beyond").any()
    _check_timeline(result)


def test_timeline_holds_still_once_every_trial_has_ended() -> None:
    data = toy(horizon=15)
    data["challenger"].update(decision_rate=1, audience_cost=-5)  # everyone stands down on day 1
    result = api.run(scenario(data), trials=500, seed=5)
    assert (result.trials["outcome"] == "stand_down").all()
    assert (result.trials["outcome_day"] == 1).all()
    timeline = result.timeline
    assert len(timeline) == 16 and (timeline["day"] == np.arange(16)).all()
    assert (timeline["ended:stand_down"].iloc[1:] == 1).all()
    assert (timeline["rung:chal:standoff"].iloc[1:] == 0).all()
    _check_timeline(result)


def test_write_produces_every_file(busy: RunResult, tmp_path: Path) -> None:
    out = busy.write(tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    back = pd.read_parquet(out / "trials.parquet")
    assert len(back) == 4000
    assert list(tmp_path.iterdir()) == [out]  # no staging folder left beside it
    empty = tmp_path / "empty"
    empty.mkdir()
    busy.write(empty)  # an existing empty folder is fine
    assert sorted(p.name for p in empty.iterdir()) == sorted(RUN_FILES)


@pytest.mark.parametrize("error", [RuntimeError("boom"), OSError(28, "No space left on device")])
def test_a_failed_write_leaves_nothing(
    busy: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def fail(self: RunResult, path: str | Path, *args: object) -> Path:
        Path(path).write_text("half a report")
        raise error

    monkeypatch.setattr(RunResult, "write_report", fail)
    out = tmp_path / "run"
    expected = OutputError if isinstance(error, OSError) else RuntimeError
    with pytest.raises(expected):
        busy.write(out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no hidden partial folder either


def test_write_refuses_a_non_empty_folder(busy: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        busy.write(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _renamed(text: str, names: dict[str, str]) -> str:
    """Whole-word rename of actor keys in scenario text (``russia`` but not ``russia_forces``)."""
    for old, new in names.items():
        text = re.sub(rf"(?<![\w.]){old}(?!\w)", new, text)
    return text


def test_renaming_actors_changes_no_number(dec2021_path: Path) -> None:
    text = dec2021_path.read_text()
    names = {"russia": "ruthenia", "usa": "columbia", "ukraine": "borduria"}
    renamed_text = _renamed(text, names)
    assert "ruthenia.rung" in renamed_text and "actor: columbia" in renamed_text
    assert "grantors: [borduria]" in renamed_text
    assert re.search(r"(?<![\w.])russia(?!\w)", renamed_text) is None
    original = scenario_from_dict(parse_yaml(text)[0])
    renamed = scenario_from_dict(parse_yaml(renamed_text)[0])
    assert renamed.challenger.actor == "ruthenia" and "russia" not in renamed.actors
    first = api.run(original, trials=3000, seed=8)
    second = api.run(renamed, trials=3000, seed=8)
    # Parameter names such as russia_forces are not actor keys, so they keep their names;
    # columns named after an actor take its new name, and hold the same numbers.
    back = {new: old for old, new in names.items()}

    def restore(column: str) -> str:
        return ":".join(back.get(part, part) for part in column.split(":"))

    renamed_trials = second.trials.rename(columns=restore)
    renamed_trials["ended_by"] = renamed_trials["ended_by"].cat.rename_categories(
        lambda label: "+".join(back.get(part, part) for part in label.split("+"))
    )
    pd.testing.assert_frame_equal(first.trials, renamed_trials)
    pd.testing.assert_frame_equal(first.timeline, second.timeline.rename(columns=restore))
    pd.testing.assert_frame_equal(first.summary, second.summary)


# --------------------------------------------------------------------------- analyst's API


@pytest.fixture(scope="module")
def dec2021_run(dec2021_path: Path) -> RunResult:
    """dec2021 at 8,000 trials."""
    return api.run(dec2021_path, trials=8000, seed=21)


def test_the_type_outranks_the_parameters_that_stand_in_for_it(dec2021_run: RunResult) -> None:
    """The issue's error: invasion_cost and russia_hope, read after the resolved type's
    overrides, came out as the top drivers (-33 and -31 points). The table now records them
    as drawn and the type is a factor: the type leads, and the two fall far behind it."""
    table = dec2021_run.drivers()
    factors = table[table["kind"] != "noise"].set_index("factor")
    assert table.iloc[0]["factor"] == "type:russia"
    assert (factors.loc["type:russia", "low"], factors.loc["type:russia", "high"]) == (
        "coercer",
        "resolved",
    )
    for name in ("invasion_cost", "russia_hope"):
        row = factors.loc[name]
        # Outranked beyond doubt: their whole interval lies nearer zero than half the type's.
        assert max(abs(row["lo"]), abs(row["hi"])) < factors.loc["type:russia", "lo"] / 2
    assert factors["pawn"].idxmax() == "type:russia"
    # The old reading: the values the trials played (after the overrides), without the type.
    trials = dec2021_run.trials.copy()
    overridden = dec2021_run.overridden()
    assert set(overridden["parameter"]) == {"invasion_cost", "russia_hope"}
    for row in overridden.itertuples():
        replaced = trials[f"type:{row.decider}"] == row.type
        trials[row.parameter] = trials[row.parameter].where(~replaced, trials[row.override])
    old = analysis.drivers(
        trials, dec2021_run.varying_parameters, "full_scale_invasion", types=[], pawn=False
    )
    assert old.iloc[0]["factor"] in ("invasion_cost", "russia_hope")
    row = factors.loc[old.iloc[0]["factor"]]
    assert abs(old.iloc[0]["difference"]) > abs(row["difference"]) + (row["hi"] - row["lo"])


def test_drivers_take_printed_labels_and_refuse_unknown_outcomes(dec2021_run: RunResult) -> None:
    by_name = dec2021_run.drivers("full_scale_invasion")
    for text in ("Full-scale invasion", "full scale invasion", "FULL_SCALE_INVASION"):
        assert dec2021_run.drivers(text) is by_name
    with pytest.raises(ValueError, match="'nuke' is not an outcome"):
        dec2021_run.drivers("nuke")
    either = dec2021_run.drivers("limited incursion (Donbas)+full-scale invasion")
    type_row = either.set_index("factor").loc["type:russia"]
    assert type_row["p_high"] > by_name.set_index("factor").loc["type:russia", "p_high"]
    with pytest.raises(ValueError, match="not a violent outcome"):
        dec2021_run.survival("settlement")


def test_results_have_a_short_repr_and_a_notebook_table(dec2021_run: RunResult) -> None:
    text = repr(dec2021_run)
    assert len(text) < 400 and "8,000 trials" in text and "Full-scale invasion" in text
    html = dec2021_run._repr_html_()
    assert "<table>" in html and "Full-scale invasion" in html and len(html) < 5000


def test_by_type_gives_each_types_outcomes(dec2021_run: RunResult) -> None:
    table = dec2021_run.by_type()
    pd.testing.assert_frame_equal(table, dec2021_run.by_type("russia"))
    assert set(table["type"]) == {"coercer", "resolved"}
    p = table.set_index(["type", "outcome"])["probability"]
    assert p["resolved", "full_scale_invasion"] > 5 * p["coercer", "full_scale_invasion"]
    with pytest.raises(ValueError, match="'ukraine' is not a decider with private types"):
        dec2021_run.by_type("ukraine")


def test_the_report_states_its_assumptions(dec2021_run: RunResult, tmp_path: Path) -> None:
    path = dec2021_run.write_report(tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    scenario = dec2021_run.scenario
    for needle in (
        scenario.title,
        dec2021_run.info["scenario_hash"],
        str(dec2021_run.info["seed"]),
        "8,000",
        "2021-12-07",
        dec2021_run.info["versions"]["escalation"],
        "Parameters",
        "References",
        "Private types",
        "triangular(0.3, 0.6, 1.2)",  # a distribution
        "day 0: uniform(70, 100); day 56: uniform(100, 175) (linear)",  # a path
        "reached the rung 'Full-scale invasion' or a higher one",
        "ended before any violent rung, no decider still pressing, with no demand granted",
        "[fearon1994]",
        "What drives full-scale invasion",
        "When is full-scale invasion likely?",
        "Outcomes by type of Russian Federation",
        "as drawn (replaced in trials of type resolved)",
        "trials ended in full-scale invasion. Left:",  # enough cases: no warning between
    ):
        assert needle in text, needle
    for name in scenario.parameters:
        assert f"<td>{name}</td>" in text
    # Identifiers appear once, in the outcome definitions (the name to pass to --outcome).
    shown = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    assert shown.count("full_scale_invasion") == 1


def test_a_lighter_report_folder_keeps_plotly_beside(busy: RunResult, tmp_path: Path) -> None:
    out = busy.write(tmp_path / "light", plotly_js="beside")
    assert sorted(p.name for p in out.iterdir()) == sorted([*RUN_FILES, "plotly.min.js"])
    text = (out / "report.html").read_text(encoding="utf-8")
    assert '<script src="plotly.min.js"' in text
    inline = busy.write(tmp_path / "inline")
    assert (inline / "report.html").stat().st_size > (out / "report.html").stat().st_size + 10**6


def test_base_rates_are_shown_beside_the_models_shares(
    dec2021_run: RunResult, busy: RunResult, tmp_path: Path
) -> None:
    from escalation.engine import assumptions, run_report

    rates = assumptions.base_rates(dec2021_run.scenario)
    assert set(rates) == {"full_scale_invasion", "limited_incursion"}
    share, source = rates["full_scale_invasion"]
    assert share == 0.08 and source.startswith("[icb]")
    marker = dec2021_run.figures()["outcomes"].data[1]
    # Long labels are wrapped over lines on the axis.
    shown = [label.replace("<br>", " ") for label in marker.x]
    assert dict(zip(shown, marker.y, strict=True)) == {
        "Limited incursion (Donbas)": 0.413,
        "Full-scale invasion": 0.08,
    }
    table = run_report.outcomes_table(dec2021_run).set_index("outcome")
    assert table.loc["Full-scale invasion", "base rate"] == "8.0%"
    assert table.loc["Full-scale invasion", "base rate source"] == source
    # Sources written over several lines read as one line of text.
    assert "\n" not in rates["limited_incursion"][1] and rates["limited_incursion"][1].endswith(
        "is an assumption"
    )
    assert table.loc["Settlement", "base rate"] == "—"
    text = dec2021_run.write_report(tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<h3>Base rates</h3>" in text
    # A scenario that records none shows none: no marker, no column.
    assert assumptions.base_rates(busy.scenario) == {}
    assert len(busy.figures()["outcomes"].data) == 1
    assert "base rate" not in run_report.outcomes_table(busy).columns


@pytest.fixture(scope="module")
def two() -> RunResult:
    """A small run with two deciders on ladders of their own."""
    return api.run(scenario(two_deciders()), trials=3000, seed=5)


def test_several_deciders_give_a_factor_and_a_table_per_type(two: RunResult) -> None:
    assert two.type_columns == ["type:chal", "type:tgt"]
    factors = two.drivers("war").set_index("factor")
    assert {"type:chal", "type:tgt", "raid_cost", "p_bold"} <= set(factors.index)
    assert factors.loc["type:tgt", "kind"] == "type"
    assert set(two.by_type("tgt")["type"]) == {"firm", "soft"}
    assert set(two.by_type()["type"]) == {"timid", "bold"}
    overridden = two.overridden()
    assert overridden.to_dict("records") == [
        {"parameter": "raid_cost", "decider": "chal", "type": "bold", "override": "bold_cost"}
    ]


def test_several_deciders_have_a_timeline_panel_each_and_labels_from_every_ladder(
    two: RunResult, tmp_path: Path
) -> None:
    labels = two.labels
    assert labels.rung("blockade") == "Naval blockade" and labels.rung("raid") == "Border raid"
    # Two ladders name 'skirmish' with differently labelled rungs: it takes its own name.
    assert labels.outcome("skirmish") == "Skirmish"
    assert labels.outcome("war") == "Open war"
    timeline = two.figures()["timeline"]
    titles = [a.text for a in timeline.layout.annotations]
    assert any("Challenger" in t for t in titles) and any("Target" in t for t in titles)
    names = {trace.name for trace in timeline.data}
    assert {"at naval blockade", "at border raid", "at armed standoff", "at on alert"} <= names
    for decider in ("chal", "tgt"):
        shares = [c for c in two.timeline if c.startswith((f"rung:{decider}:", "ended:"))]
        np.testing.assert_allclose(two.timeline[shares].sum(axis=1), 1.0, atol=1e-12)
    text = two.write_report(tmp_path / "report.html").read_text(encoding="utf-8")
    for needle in (
        "'Border raid' (ladder of Challenger) or 'Naval blockade' (ladder of Target)",
        "Outcomes by type of Challenger",
        "Outcomes by type of Target",
        "<td>bold</td>",
        "raid_cost = bold_cost",
        "as drawn (replaced in trials of type bold)",
        "Upper panels, one per deciding actor (Challenger, Target)",
        f"{(two.trials['outcome'] == 'war').sum():,} of 3,000 trials ended in open war.",
    ):
        assert needle in text, needle


def test_the_drivers_note_says_when_the_focus_rests_on_few_cases(dec2021_run: RunResult) -> None:
    from escalation.engine import run_report

    few = dataclasses.replace(dec2021_run, trials=dec2021_run.trials.iloc[:300])
    cases = int((few.trials["outcome"] == "full_scale_invasion").sum())
    assert 0 < cases < run_report.FEW_CASES
    note = run_report._drivers_note(few, "full-scale invasion")
    assert note.startswith(f"{cases} of 300 trials ended in full-scale invasion. That is few")
    assert "That is few" not in run_report._drivers_note(dec2021_run, "full-scale invasion")


def test_the_parameter_table_states_periods_floors_and_caps() -> None:
    from escalation.engine.assumptions import distribution_text
    from escalation.scenario.schema import Parameter

    season = Parameter(
        path=[(0, "uniform(1, 2)"), (30, 3)], period=60, floor=0.5, cap=2.5, source="t"
    )
    assert distribution_text(season) == (
        "day 0: uniform(1, 2); day 30: 3 (linear, repeating every 60 days); at least 0.5, "
        "at most 2.5"
    )
    assert distribution_text(Parameter(dist="beta(2, 5)", source="t")) == "beta(2, 5)"
