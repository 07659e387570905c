"""The casebook and ``escalation backtest``: a tiny casebook played end to end, and bad input.

The casebook here is made of the test builders' toy scenarios with ``case:`` blocks and an
outcomes file with made-up ICB counts, so that every reference forecast and score can be
computed by hand from the file.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
import yaml
from builders import duel, toy
from typer.testing import CliRunner

from escalation import api
from escalation.analysis.scoring import brier_score, skill_score
from escalation.backtest import load_casebook, run_backtest
from escalation.backtest.outcomes import OutcomesFile, icb_row
from escalation.backtest.runner import BACKTEST_FILES
from escalation.cli import app
from escalation.engine.executors import DaskExecutor
from escalation.scenario.load import load_scenario, scenario_hash
from escalation.scenario.yamlio import InputError, read_yaml

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "bad" / "casebook"
TRIALS = 200
runner = CliRunner()

NO_VIOLENCE = ["settlement", "stand_down", "frozen_standoff"]

#: The fixture's outcomes: made-up ICB counts, so that the base rates are easy to check.
OUTCOMES = """\
cases:
  toy_strike:
    outcome: strike
    day: 4
    sources: ["Test, the strike, 2020-01-14"]
    note: "made up"
  toy_war:
    outcome: frozen_standoff
    sources: ["Test, still live, 2015-07-01"]
  duel_case:
    outcome: war
    day: 5
    sources: ["Test, war, 2019-03-08"]
icb_base_rates:
  dataset: made-up counts for tests
  variables: BREAK x VIOL
  citation: none (test data)
  data_copy: none
  sha256: "0000000000000000000000000000000000000000000000000000000000000000"
  rule: test
  tables:
    - ended_before: 2015-01-01
      crises: 40
      counts:
        violent_act: [0, 8, 6, 6]
        political_act: [12, 4, 2, 2]
    - ended_before: 2019-01-01
      crises: 71
      counts:
        verbal_act: [1, 0, 0, 0]
        violent_act: [0, 12, 8, 10]
        political_act: [12, 4, 2, 2]
        non_violent_military_act: [12, 4, 0, 4]
"""


def case_scenarios() -> dict[str, dict[str, Any]]:
    """Three toy cases and one scenario that is not a case."""
    strike = toy(
        name="toy_strike",
        date=datetime.date(2020, 1, 10),
        references={"poll": {"text": "A poll, 2020-01-05", "date": datetime.date(2020, 1, 5)}},
        case={
            "question": "Will chal strike within 30 days?",
            "event": "strike",
            "trigger": "non_violent_military_act",
            "icb_classes": {
                "no_violence": NO_VIOLENCE,
                "minor_clashes": ["strike"],
                "full_scale_war": ["war"],
            },
            "written_after_outcome": False,
            "published_forecasts": [
                {"source": "[poll]", "date": datetime.date(2020, 1, 1), "probability": 0.1},
                {"source": "[poll]", "date": datetime.date(2020, 1, 5), "probability": 0.3},
            ],
        },
    )
    war = toy(
        name="toy_war",
        date=datetime.date(2015, 6, 1),
        seed=11,
        case={
            "question": "War within 30 days?",
            "event": "war",
            "trigger": "violent_act",
            "icb_classes": {
                "no_violence": NO_VIOLENCE,
                "serious_clashes": ["strike"],
                "full_scale_war": ["war"],
            },
            "written_after_outcome": True,
        },
    )
    # war is not choosable in duel(): the model gives it no chance, and it happened
    fight = duel(
        name="duel_case",
        date=datetime.date(2019, 3, 3),
        case={
            "question": "War within 60 days?",
            "event": "war",
            "trigger": "political_act",
            "icb_classes": {"no_violence": NO_VIOLENCE, "full_scale_war": ["war"]},
            "written_after_outcome": True,
        },
    )
    return {s["name"]: s for s in (strike, war, fight, toy(name="not_a_case"))}


def write_casebook(folder: Path, outcomes: str = OUTCOMES, **changes: dict) -> Path:
    """Write the toy casebook into ``folder``; ``changes`` replace fields of named cases."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case_scenarios().items():
        data.update(changes.get(name, {}))
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (folder / "outcomes.yaml").write_text(outcomes)
    return folder


def invoke(*args: str | Path):
    """Run the app in-process."""
    return runner.invoke(app, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def casebook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy casebook folder."""
    return write_casebook(tmp_path_factory.mktemp("casebook") / "book")


@pytest.fixture(scope="module")
def played(casebook: Path, tmp_path_factory: pytest.TempPathFactory):
    """The toy casebook backtested through the command line, with its JSON output."""
    out = tmp_path_factory.mktemp("backtest") / "out"
    result = invoke("backtest", casebook, "--trials", TRIALS, "--out", out, "--json")
    assert result.exit_code == 0, result.output + result.stderr
    document = json.loads(result.stdout)
    table = pd.read_csv(out / "backtest.csv")
    info = json.loads((out / "run.json").read_text())
    return out, document, table.set_index("name", drop=False), info


# --- end to end --------------------------------------------------------------------------


def test_writes_the_three_files_and_reports_in_json(played) -> None:
    out, document, table, _ = played
    assert sorted(p.name for p in out.iterdir()) == sorted(BACKTEST_FILES)
    assert document["ok"] is True and document["out"] == str(out)
    assert [case["name"] for case in document["cases"]] == list(table["name"])
    assert {row["reference"] for row in document["skill"]} == {"icb", "uniform", "published"}


def test_a_row_per_case_oldest_first(played) -> None:
    _, _, table, info = played
    assert list(table["name"]) == ["toy_war", "duel_case", "toy_strike"]
    assert list(table["date"]) == ["2015-06-01", "2019-03-03", "2020-01-10"]
    assert list(table["outcome"]) == ["frozen_standoff", "war", "strike"]
    assert list(table["happened"]) == [0, 1, 1]
    assert list(table["written_after_outcome"]) == [True, True, False]
    assert (table["trials"] == TRIALS).all()
    assert list(table["seed"]) == [11, 3, 7]  # each case's own seed
    skipped = {Path(item["file"]).name for item in info["skipped"]}
    assert skipped == {"not_a_case.yaml"}


def test_model_probabilities_are_those_of_escalation_run(played, casebook: Path) -> None:
    """Same seed rules as run: the scenario's own seed, --trials replacing its trials."""
    _, _, table, _ = played
    for name in table["name"]:
        result = api.run(casebook / f"{name}.yaml", trials=TRIALS)
        shares = result.summary.set_index("outcome")["probability"]
        for outcome, share in shares.items():
            assert table.loc[name, f"p:{outcome}"] == pytest.approx(share, abs=1e-9)
        event = table.loc[name, "event"]
        reached = result.trials[f"day_{event}"].notna().mean()
        assert table.loc[name, "model_p_event"] == pytest.approx(reached, abs=1e-9)
        assert table.loc[name, "model_p_outcome"] == pytest.approx(
            shares[table.loc[name, "outcome"]], abs=1e-9
        )


def test_model_scores_from_its_probabilities(played) -> None:
    _, _, table, _ = played
    floor = 1 / (2 * TRIALS)
    assert (table["log_floor"] == floor).all()
    for name in table["name"]:
        row = table.loc[name]
        classes = [c for c in table.columns if c.startswith("p:") and not pd.isna(row[c])]
        p = row[classes].to_numpy(float)
        observed = classes.index(f"p:{row['outcome']}")
        assert row["model_brier"] == pytest.approx(brier_score(p, observed), rel=1e-9)
        assert row["model_log"] == pytest.approx(-math.log(max(p[observed], floor)), rel=1e-9)
        y, q = row["happened"], row["model_p_event"]
        assert row["model_binary_brier"] == pytest.approx((q - y) ** 2, rel=1e-9, abs=1e-12)
    # no trial of the duel reaches war, which happened: the floor, not infinity
    assert table.loc["duel_case", "model_p_event"] == 0
    assert table.loc["duel_case", "model_log"] == pytest.approx(math.log(2 * TRIALS))
    assert table.loc["duel_case", "model_binary_log"] == pytest.approx(math.log(2 * TRIALS))


def test_icb_base_rates_by_hand(played) -> None:
    """The latest table that ends on or before the case's date; shares split and renormalized."""
    _, _, table, _ = played
    # toy_war (2015-06-01) uses the 2015 table: violent_act [0, 8, 6, 6]; minor clashes stand for
    # no outcome class, so serious (strike) and war get 6/12 each; frozen standoff happened
    war = table.loc["toy_war"]
    assert war["icb_table"] == "2015-01-01" and war["icb_crises"] == 20
    assert war["icb_crises_of"] == "violent_act"
    assert war["icb_p_outcome"] == 0 and war["icb_p_event"] == pytest.approx(0.5)
    assert war["icb_brier"] == pytest.approx(1 + 0.25 + 0.25)
    assert war["icb_log"] == pytest.approx(math.log(2 * TRIALS))  # floored
    # duel_case (2019-03-03): political_act [12, 4, 2, 2]; no violence 0.6 over three classes,
    # war 0.1; minor and serious stand for nothing: renormalized over 0.7
    duel_row = table.loc["duel_case"]
    assert duel_row["icb_table"] == "2019-01-01"
    assert duel_row["icb_p_outcome"] == pytest.approx(1 / 7)
    assert duel_row["icb_brier"] == pytest.approx(3 * (0.2 / 0.7) ** 2 + (6 / 7) ** 2)
    assert duel_row["icb_binary_brier"] == pytest.approx((6 / 7) ** 2)
    # toy_strike: non_violent_military_act [12, 4, 0, 4]: strike 0.2, war 0.2; event strike
    strike = table.loc["toy_strike"]
    assert strike["icb_p_outcome"] == pytest.approx(0.2)
    assert strike["icb_p_event"] == pytest.approx(0.4)
    assert strike["icb_brier"] == pytest.approx(3 * 0.2**2 + 0.8**2 + 0.2**2)


def test_uniform_and_published_references(played) -> None:
    _, _, table, info = played
    assert table.loc["toy_war", "uniform_brier"] == pytest.approx(4 / 5)
    assert table.loc["duel_case", "uniform_brier"] == pytest.approx(3 / 4)
    assert (table["uniform_p_event"] == 0.5).all()
    assert table["uniform_binary_log"].to_numpy() == pytest.approx([math.log(2)] * 3)
    # the latest forecast on or before the case's date; yes/no only
    strike = table.loc["toy_strike"]
    assert strike["published_p_event"] == pytest.approx(0.3)
    assert strike["published_date"] == "2020-01-05"
    assert strike["published_binary_brier"] == pytest.approx(0.49)
    assert table["published_p_event"].isna().sum() == 2
    assert "published_brier" not in table.columns
    forecasts = next(c for c in info["cases"] if c["name"] == "toy_strike")["published_forecasts"]
    assert [f["used"] for f in forecasts] == [False, True]


def test_skill_scores_from_the_table(played) -> None:
    _, document, table, _ = played
    skill = pd.DataFrame(document["skill"])
    brier = skill[(skill.subset == "all") & (skill.reference == "icb") & (skill.score == "brier")]
    assert len(brier) == 1
    expected = skill_score(table["model_brier"], table["icb_brier"])
    row = brier.iloc[0]
    assert row["cases"] == 3 and row["skill"] == pytest.approx(expected)
    assert row["lo"] <= row["skill"] <= row["hi"]
    # one case was written before its outcome: the subset has one case per reference
    before = skill[skill.subset == "before_outcome"]
    assert set(before["cases"]) == {1}
    published = skill[skill.reference == "published"]
    assert set(published["score"]) == {"binary_brier", "binary_log"}


def test_run_json_records_seeds_versions_and_hashes(played, casebook: Path) -> None:
    _, _, _, info = played
    assert info["trials"] == TRIALS and info["seed"] is None
    assert "numpy" in info["versions"] and "escalation" in info["versions"]
    outcomes = casebook / "outcomes.yaml"
    assert info["outcomes_sha256"] == hashlib.sha256(outcomes.read_bytes()).hexdigest()
    for case in info["cases"]:
        path = casebook / Path(case["file"]).name
        assert case["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        played_scenario = api.with_overrides(load_scenario(path), trials=TRIALS)
        assert case["scenario_hash"] == scenario_hash(played_scenario)
        assert sum(case["counts"].values()) == TRIALS
    assert info["bootstrap"]["seed"] == 0 and info["icb"]["tables_used"] == [
        "2015-01-01",
        "2019-01-01",
    ]


def test_report_holds_the_figures(played) -> None:
    out, *_ = played
    html = (out / "report.html").read_text()
    for heading in (
        "Reliability of the yes/no forecasts",
        "Each case",
        "Skill over the references",
    ):
        assert heading in html
    assert all(f'id="figure-{i}"' in html for i in range(3))
    assert html.count("Plotly.newPlot") == 3
    assert "toy_strike" in html and '<script src="http' not in html


def test_numbers_do_not_depend_on_the_executor(casebook: Path) -> None:
    """Cases finishing in any order on a cluster give the same table (threads: quick)."""
    serial = run_backtest(casebook, trials=TRIALS)
    cluster = run_backtest(
        casebook, trials=TRIALS, executor=DaskExecutor(None, workers=2, processes=False)
    )
    pd.testing.assert_frame_equal(cluster.table, serial.table)
    pd.testing.assert_frame_equal(cluster.skill, serial.skill)


@pytest.mark.slow
def test_numbers_do_not_depend_on_workers(played, casebook: Path, tmp_path: Path) -> None:
    out, *_ = played
    again = tmp_path / "two"
    result = invoke("backtest", casebook, "--trials", TRIALS, "--workers", 2, "--out", again)
    assert result.exit_code == 0, result.output + result.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "backtest.csv"), pd.read_csv(again / "backtest.csv")
    )
    assert "Skill" in result.stdout and "results written to" in result.stdout


def test_seed_replaces_every_case_seed(casebook: Path, tmp_path: Path) -> None:
    result = invoke("backtest", casebook, "--trials", 50, "--seed", 5, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output + result.stderr
    table = pd.read_csv(tmp_path / "o" / "backtest.csv")
    assert (table["seed"] == 5).all() and (table["trials"] == 50).all()


@pytest.mark.slow
def test_dask_cluster_gives_the_same_numbers(played, casebook: Path, tmp_path: Path) -> None:
    out, *_ = played
    again = tmp_path / "dask"
    result = invoke(
        "backtest", casebook, "--trials", TRIALS, "--scheduler", "local", "--out", again
    )
    assert result.exit_code == 0, result.output + result.stderr
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "backtest.csv"), pd.read_csv(again / "backtest.csv")
    )


# --- dates: hindsight ----------------------------------------------------------------------


def test_validate_warns_about_hindsight_and_strict_refuses_it() -> None:
    path = BAD / "scenario_reference_after_date.yaml"
    _, lines = read_yaml(path)
    line = lines.line(("references", "memoir", "date"))
    warned = invoke("validate", path)
    assert warned.exit_code == 0, warned.output
    assert warned.stdout.startswith(f"ok: {path}")
    assert f"warning: {path}:{line}: references.memoir.date: " in warned.stderr
    assert "2023-05-01" in warned.stderr and "hindsight" in warned.stderr
    refused = invoke("validate", "--strict", path)
    assert refused.exit_code == 2 and isinstance(refused.exception, SystemExit)
    assert refused.stderr.startswith(f"error: {path}:{line}: references.memoir.date: ")
    assert refused.stdout == "" and "Traceback" not in refused.output


def test_validate_strict_passes_a_case_without_hindsight(casebook: Path) -> None:
    result = invoke("validate", "--strict", casebook / "toy_strike.yaml")
    assert result.exit_code == 0 and result.stderr == ""


def test_a_late_forecast_is_not_used_and_strict_refuses_it(tmp_path: Path) -> None:
    late = case_scenarios()["toy_strike"]["case"]
    late["published_forecasts"].append(
        {"source": "[poll]", "date": datetime.date(2020, 2, 1), "probability": 0.99}
    )
    folder = write_casebook(tmp_path / "book", toy_strike={"case": late})
    warned = invoke("backtest", folder, "--trials", 50, "--out", tmp_path / "o")
    assert warned.exit_code == 0, warned.output + warned.stderr
    path = folder / "toy_strike.yaml"
    line = read_yaml(path)[1].line(("case", "published_forecasts", 2, "date"))
    assert f"warning: {path}:{line}: case.published_forecasts[2].date: " in warned.stderr
    table = pd.read_csv(tmp_path / "o" / "backtest.csv").set_index("name")
    assert table.loc["toy_strike", "published_p_event"] == pytest.approx(0.3)
    info = json.loads((tmp_path / "o" / "run.json").read_text())
    assert len(info["hindsight_warnings"]) == 1
    refused = invoke("backtest", folder, "--strict", "--trials", 50, "--out", tmp_path / "s")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert refused.stderr.startswith(f"error: {path}:{line}: case.published_forecasts[2].date")
    assert not (tmp_path / "s").exists()


# --- bad input -----------------------------------------------------------------------------

#: Each bad outcomes file: the field reported and words the message must hold.
BAD_OUTCOMES = {
    "outcomes_unknown_case": ("cases.duel_cse", "did you mean 'duel_case'"),
    "outcomes_unknown_outcome_class": ("cases.toy_strike.outcome", "not an outcome class"),
    "outcomes_case_missing": ("cases", "no outcome recorded for the case 'duel_case'"),
    "outcomes_not_a_case": ("cases.not_a_case", "has no case: block"),
    "outcomes_day_after_horizon": ("cases.toy_strike.day", "after the case's horizon of 30"),
    "outcomes_day_missing": ("cases.toy_strike", "missing 'day'"),
    "outcomes_day_for_frozen_standoff": ("cases.toy_war.day", "has no day"),
    "outcomes_without_sources": ("cases.toy_strike.sources", "at least 1 item"),
    "outcomes_unknown_field": ("cases.toy_strike.sorces", "did you mean 'sources'"),
    "outcomes_icb_missing": ("icb_base_rates", "needs icb_base_rates"),
    "outcomes_icb_counts_do_not_add_up": ("icb_base_rates.tables[0]", "add up to 20 crises"),
    "outcomes_icb_no_table_before_case": ("icb_base_rates.tables", "case 'toy_war' (2015-06-01)"),
    "outcomes_icb_unknown_trigger": ("icb_base_rates.tables[0].counts.political", "political"),
}


def test_every_bad_outcomes_file_is_listed() -> None:
    assert {p.stem for p in BAD.glob("outcomes_*.yaml")} == set(BAD_OUTCOMES)


@pytest.mark.parametrize("name", sorted(BAD_OUTCOMES))
def test_bad_outcomes_file(name: str, casebook: Path, tmp_path: Path) -> None:
    """One located message, exit 2, nothing written."""
    path = BAD / f"{name}.yaml"
    field, words = BAD_OUTCOMES[name]
    with pytest.raises(InputError) as caught:
        load_casebook(casebook, outcomes=path)
    error = caught.value
    assert error.file == str(path) and error.field == field, str(error)
    assert error.line is not None and words in error.message, str(error)
    _, lines = read_yaml(path)
    assert error.line == lines.line(tuple(_loc(field)))
    out = tmp_path / "out"
    result = invoke("backtest", casebook, "--outcomes", path, "--trials", 20, "--out", out)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {path}:{error.line}: {field}: ")
    assert result.stdout == "" and "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(BAD_OUTCOMES))
def test_validate_checks_an_outcomes_file_against_its_folder(
    name: str, casebook: Path, tmp_path: Path
) -> None:
    """validate knows an outcomes file and checks it against the cases beside it."""
    folder = tmp_path / "book"
    shutil.copytree(casebook, folder)
    path = folder / "outcomes.yaml"
    shutil.copy(BAD / f"{name}.yaml", path)
    field, words = BAD_OUTCOMES[name]
    line = read_yaml(path)[1].line(tuple(_loc(field)))
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {path}:{line}: {field}: ") and words in result.stderr


def test_validate_accepts_good_outcomes_files(casebook: Path) -> None:
    result = invoke("validate", "--strict", casebook / "outcomes.yaml", SHIPPED)
    assert result.exit_code == 0, result.output
    assert f"ok: {casebook / 'outcomes.yaml'}: outcomes of 3 cases" in result.stdout
    assert f"ok: {SHIPPED}: outcomes of " in result.stdout


def _loc(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for part in field.split("."):
        name, _, index = part.partition("[")
        parts.append(name)
        if index:
            parts.append(int(index.rstrip("]")))
    return parts


def test_a_case_needs_a_date(tmp_path: Path) -> None:
    folder = write_casebook(tmp_path / "book")
    data = case_scenarios()["toy_war"]
    del data["date"]
    (folder / "toy_war.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    result = invoke("backtest", folder, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert f"error: {folder / 'toy_war.yaml'}:" in result.stderr and ": case: " in result.stderr
    assert "needs the scenario's date" in result.stderr


def test_two_cases_with_one_name(tmp_path: Path) -> None:
    folder = write_casebook(tmp_path / "book")
    shutil.copy(folder / "toy_war.yaml", folder / "toy_war_copy.yaml")
    result = invoke("backtest", folder, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert f"error: {folder / 'toy_war_copy.yaml'}:" in result.stderr
    assert ": name: 'toy_war' is already the name" in result.stderr


def test_a_trigger_with_few_crises_is_pooled_with_its_group(tmp_path: Path) -> None:
    """verbal_act has no crisis in the 2015 table: its group (BREAK 1-6) has political_act's."""
    spec = case_scenarios()["toy_war"]["case"]
    spec["trigger"] = "verbal_act"
    folder = write_casebook(tmp_path / "book", toy_war={"case": spec})
    row = run_backtest(folder, trials=50).table.set_index("name").loc["toy_war"]
    assert row["icb_crises_of"] == "non-violent, non-military (BREAK 1-6)"
    assert row["icb_crises"] == 20
    # [12, 4, 2, 2]: minor clashes stand for nothing; 0.6 over three classes, 0.1 strike, 0.1 war,
    # renormalized over 0.8
    assert row["icb_p_outcome"] == pytest.approx(0.2 / 0.8)
    assert row["icb_p_event"] == pytest.approx(0.1 / 0.8)


def test_a_trigger_without_crises_in_the_table(tmp_path: Path) -> None:
    spec = case_scenarios()["toy_war"]["case"]
    spec["trigger"] = "non_violent_military_act"  # not in the made-up 2015 table
    folder = write_casebook(tmp_path / "book", toy_war={"case": spec})
    result = invoke("backtest", folder, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert ": case.trigger: no crisis with the trigger non_violent_military_act" in result.stderr


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("missing_folder", "folder not found"),
        ("no_outcomes", "no outcomes file"),
        ("no_cases", "no case in this folder"),
        ("bad_scenario", "unknown field 'horizn'"),
    ],
)
def test_folder_problems(setup: str, words: str, tmp_path: Path) -> None:
    folder = tmp_path / "book"
    if setup == "no_outcomes":
        write_casebook(folder)
        (folder / "outcomes.yaml").unlink()
    elif setup == "no_cases":
        folder.mkdir()
        (folder / "plain.yaml").write_text(yaml.safe_dump(toy()))
        (folder / "outcomes.yaml").write_text("cases: {}\n")
    elif setup == "bad_scenario":
        write_casebook(folder)
        (folder / "broken.yaml").write_text(yaml.safe_dump(toy(horizn=3)))
    result = invoke("backtest", folder, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert words in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "o").exists()


def test_bad_scheduler_and_a_full_out_folder(casebook: Path, tmp_path: Path) -> None:
    bad = invoke("backtest", casebook, "--scheduler", "nowhere", "--out", tmp_path / "o")
    assert bad.exit_code == 2 and "--scheduler" in bad.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("x")
    refused = invoke("backtest", casebook, "--out", full)
    assert refused.exit_code == 1 and "not empty" in refused.stderr
    assert [p.name for p in full.iterdir()] == ["keep.txt"]


# --- the shipped outcomes file and its schema -------------------------------------------------

SHIPPED = ROOT / "scenarios" / "outcomes.yaml"


def test_shipped_icb_tables_reproduce_the_research_notes() -> None:
    """The as-of rows of the ICB notes (v14, VIOL by BREAK, crises ended before the month)."""
    data, _ = read_yaml(SHIPPED)
    rates = OutcomesFile.model_validate(data).icb_base_rates
    assert rates is not None and rates.sha256.startswith("f0115d16")
    expected = {
        ("1996-03-06", "political_act"): [42, 20, 12, 15],
        ("2017-08-10", "non_violent_military_act"): [37, 18, 13, 6],
        ("2003-01-28", "verbal_act"): [1, 0, 0, 0],
        ("2003-01-28", "political_act"): [44, 20, 14, 16],
        ("1999-01-30", "political_act"): [44, 20, 13, 15],
        ("1961-07-25", "political_act"): [26, 11, 5, 10],
        ("1961-07-25", "internal_challenge"): [5, 3, 1, 2],
    }
    for (day, trigger), counts in expected.items():
        table = rates.table_for(datetime.date.fromisoformat(day))
        assert table is not None and table.ended_before <= datetime.date.fromisoformat(day)
        assert table.counts[trigger] == counts, (day, trigger)
    # a trigger with few crises is pooled with its group: ICB's BREAK for Iraq 2003 (verbal act)
    # has one crisis before 2003; BREAK 1-6 together have 163
    iraq = icb_row(rates.table_for(datetime.date(2003, 1, 28)), "verbal_act")
    assert iraq.pooled and iraq.counts == (76, 37, 25, 25)
    assert not icb_row(rates.table_for(datetime.date(2003, 1, 28)), "political_act").pooled
    # after every v14 crisis had ended: the full table (T1) less West Irian I (no end date)
    last = rates.table_for(datetime.date(2022, 2, 15))
    assert last is not None and last.crises == 485
    assert last.counts["violent_act"] == [0, 74, 69, 59]
    assert last.counts["non_violent_military_act"] == [38, 18, 13, 6]


def test_outcomes_json_schema_is_current_and_accepts_the_shipped_file() -> None:
    schema_file = ROOT / "docs" / "outcomes.schema.json"
    schema = json.loads(schema_file.read_text())
    assert schema == json.loads(json.dumps(OutcomesFile.model_json_schema()))
    data, _ = read_yaml(SHIPPED)
    jsonschema.validate(json.loads(json.dumps(data, default=str)), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"cases": {"x": {"outcome": "war"}}}, schema)


# --- the benchmark --------------------------------------------------------------------------


def test_benchmark_measures_a_backtest(casebook: Path) -> None:
    """The benchmark's backtest measurement runs on any casebook (no time is asserted)."""
    spec = importlib.util.spec_from_file_location("bench_backtest", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_backtest"] = module
    spec.loader.exec_module(module)
    found = module.backtest_time(casebook, trials=50)
    assert found.cases == 3 and found.trials == 3 * 50
    assert np.isfinite(found.seconds) and found.seconds > 0
    assert module.backtest_time(casebook.parent / "absent").cases == 0
