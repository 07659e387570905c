"""Tests for the ``escalation`` command line: run, validate, schema, and how each one fails.

Most tests use typer's CliRunner, which runs the app in this process; a few run the installed
console script in a subprocess, to show that what a user sees has no traceback either.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import escalation.api
from escalation.cli import app
from escalation.engine.results import RUN_FILES, RunResult
from escalation.scenario.load import load_scenario, scenario_hash
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import InputError, read_yaml

BAD = Path(__file__).resolve().parent / "bad"
BASE = BAD / "base.yaml"
BAD_SCENARIOS = sorted((BAD / "scenarios").glob("*.yaml"))
#: A few bad files run through the real console script (slower: a fresh interpreter each).
SUBPROCESS_FILES = ["yaml_unclosed_bracket", "unknown_field_folow_through", "not_utf8"]

runner = CliRunner()


def invoke(*args: str | Path):
    """Run the app in-process with these arguments."""
    return runner.invoke(app, [str(arg) for arg in args])


def expected_error(path: Path) -> InputError:
    """The error the loader raises for ``path`` (test_load checks its line and words)."""
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return caught.value


def assert_one_clean_error(result, path: Path) -> None:
    """Exit status 2 and a single located message on stderr, with no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # not an exception that escaped
    error = expected_error(path)
    assert result.stderr.startswith(f"error: {error}"), result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error")] == [
        result.stderr.splitlines()[0]
    ]  # one message (an expression error adds lines with a caret, not more errors)
    if error.line is not None:
        assert f"{path}:{error.line}: " in result.stderr
    if error.field:
        assert f": {error.field}: " in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """An empty folder to hold --out; tests check that nothing appears in it."""
    folder = tmp_path / "results"
    folder.mkdir()
    return folder


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("path", BAD_SCENARIOS, ids=lambda path: path.stem)
def test_validate_bad_scenario(path: Path) -> None:
    """validate prints one located message and exits 2."""
    assert_one_clean_error(invoke("validate", path), path)


@pytest.mark.parametrize("path", BAD_SCENARIOS, ids=lambda path: path.stem)
def test_run_bad_scenario_writes_nothing(path: Path, results: Path) -> None:
    """run exits 2 with the same message and leaves no folder, partial or hidden."""
    out = results / "out"
    assert_one_clean_error(invoke("run", path, "--out", out, "--trials", "50"), path)
    assert not out.exists()
    assert list(results.iterdir()) == []


BAD_EXPERIMENTS = sorted((BAD / "experiments").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD_EXPERIMENTS, ids=lambda path: path.stem)
def test_validate_bad_experiment(path: Path) -> None:
    """validate knows an experiment file and reports its first mistake with its line."""
    from escalation.sweep.experiment import load_experiment

    with pytest.raises(InputError) as caught:
        load_experiment(path)
    error = caught.value
    result = invoke("validate", path)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {error}"), result.stderr
    assert error.line is not None and f"{path}:{error.line}: " in result.stderr
    assert "unknown field 'scenario'" not in result.stderr  # read as an experiment
    assert "Traceback" not in result.output and result.stdout == ""


def test_validate_accepts_the_shipped_experiments() -> None:
    experiments = sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.yaml"))
    assert experiments
    result = invoke("validate", *experiments)
    assert result.exit_code == 0, result.output
    assert result.output.count("ok: ") == len(experiments) and "design" in result.output


def _unreadable(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "absent.yaml"
    if kind == "folder":
        folder = tmp_path / "a_folder.yaml"
        folder.mkdir()
        return folder
    large = tmp_path / "large.yaml"
    padding = "".join(f"# padding {i:07d} {'x' * 80}\n" for i in range(25_000))
    large.write_text(BASE.read_text() + padding)
    assert large.stat().st_size > 2_000_000
    return large


@pytest.mark.parametrize(
    ("kind", "words"),
    [("missing", "file not found"), ("folder", "is a folder"), ("large", "limited to")],
)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_unreadable_file(
    tmp_path: Path, results: Path, kind: str, words: str, command: str
) -> None:
    """A missing file, a folder and an over-large file: one message naming the file, exit 2."""
    path = _unreadable(tmp_path, kind)
    args = ["run", path, "--out", results / "out"] if command == "run" else ["validate", path]
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: ")
    assert words in result.stderr
    assert "Traceback" not in result.output
    assert list(results.iterdir()) == []


def test_validate_stops_at_the_first_bad_file() -> None:
    """With several files, the good one is reported ok and the bad one fails the command."""
    bad = BAD / "scenarios" / "trials_zero.yaml"
    result = invoke("validate", BASE, bad)
    assert result.exit_code == 2
    assert result.stdout.startswith(f"ok: {BASE}: 3 actors")
    assert result.stderr.startswith(f"error: {bad}:3: trials: ")


def test_markup_in_a_key_is_printed_as_text(tmp_path: Path) -> None:
    """A key such as '[/bold]' is not rich markup: it prints as written, not a crash."""
    path = tmp_path / "markup[red].yaml"
    path.write_text(BASE.read_text().replace("horizon: 30", 'horizon: 30\n"[/bold]": 1'))
    result = invoke("validate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:")
    assert "unknown field '[/bold]'" in result.stderr


def _console_script() -> str:
    script = Path(sys.executable).with_name("escalation")
    found = str(script) if script.exists() else shutil.which("escalation")
    assert found, "the escalation console script is not installed"
    return found


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("name", SUBPROCESS_FILES)
def test_console_script_bad_scenario(name: str, command: str, tmp_path: Path) -> None:
    """The installed command, in a fresh process: exit 2, one located line, no traceback."""
    path = BAD / "scenarios" / f"{name}.yaml"
    error = expected_error(path)
    results = tmp_path / "results"
    results.mkdir()
    args = [command, str(path)] + (["--out", str(results / "out")] if command == "run" else [])
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    done = subprocess.run(
        [_console_script(), *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {path}:{error.line}: "), done.stderr
    assert str(error) in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""
    assert list(results.iterdir()) == []


# --- run --------------------------------------------------------------------------------


def test_run_writes_the_five_files(dec2021_path: Path, tmp_path: Path) -> None:
    """--trials/--seed/--horizon/--workers/--out: five files, recorded settings, sound summary."""
    out = tmp_path / "out"
    result = invoke(
        "run", dec2021_path, "--trials", "300", "--seed", "5", "--horizon", "30",
        "--workers", "2", "--out", out, "--quiet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == sorted(RUN_FILES)
    assert f"results written to {out}" in result.stdout.replace("\n", "")  # rich may wrap it
    assert "frozen standoff" in result.stdout  # the outcome table

    info = json.loads((out / "run.json").read_text())
    assert (info["seed"], info["trials"], info["horizon"], info["workers"]) == (5, 300, 30, 2)
    expected = escalation.api.with_overrides(load_scenario(dec2021_path), 300, 5, 30)
    assert info["scenario_hash"] == scenario_hash(expected)
    assert {"python", "numpy", "mesa", "escalation"} <= set(info["versions"])

    summary = pd.read_csv(out / "summary.csv")
    # probabilities are written with 6 significant digits, so they add to 1 within rounding
    assert summary["probability"].sum() == pytest.approx(1.0, abs=1e-5)
    assert summary["count"].sum() == 300
    assert len(pd.read_parquet(out / "trials.parquet")) == 300
    assert len(pd.read_csv(out / "timeline.csv")) == 31  # days 0..30
    assert (out / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_run_default_folder_is_under_results(tmp_path: Path, monkeypatch) -> None:
    """Without --out, the results go to results/<scenario name>-<timestamp>/ in the cwd."""
    monkeypatch.chdir(tmp_path)
    result = invoke("run", BASE, "--trials", "20", "--quiet")
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "results").iterdir()
    assert folder.name.startswith("small-")
    assert sorted(path.name for path in folder.iterdir()) == sorted(RUN_FILES)


def test_run_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    """An --out folder that holds files is left alone: exit 1, a message, nothing changed."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke("run", BASE, "--trials", "20", "--out", out)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: {out} already exists and is not empty")
    assert "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_run_into_an_empty_folder_is_allowed(tmp_path: Path) -> None:
    """An existing empty folder is not 'in use'; the run fills it."""
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("run", BASE, "--trials", "20", "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == sorted(RUN_FILES)


def test_run_out_under_a_file_is_an_output_error(tmp_path: Path) -> None:
    """A results folder that cannot be made: exit 1, one message, no traceback."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    result = invoke("run", BASE, "--trials", "20", "--out", blocker / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.mark.parametrize(
    "option",
    [
        ["--trials", "0"],
        ["--trials", "-3"],
        ["--trials", "many"],
        ["--horizon", "0"],
        ["--horizon", "100000"],
        ["--seed", "-1"],
        ["--workers", "0"],
    ],
    ids=lambda option: " ".join(option),
)
def test_usage_errors_exit_2(option: list[str], results: Path) -> None:
    """Out-of-range options are typer usage errors: exit 2, the option named, nothing written."""
    result = invoke("run", BASE, *option, "--out", results / "out")
    assert result.exit_code == 2
    assert option[0] in result.stderr
    assert "Traceback" not in result.output
    assert list(results.iterdir()) == []


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_interrupt_during_play_exits_130(results: Path, monkeypatch) -> None:
    """Ctrl-C while trials are played: exit 130, a message, no results folder."""
    monkeypatch.setattr(escalation.api, "play_blocks", _interrupt)
    result = invoke("run", BASE, "--trials", "20", "--out", results / "out")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert "Traceback" not in result.output
    assert list(results.iterdir()) == []


def test_interrupt_while_writing_leaves_no_partial_folder(results: Path, monkeypatch) -> None:
    """Ctrl-C after some files are written: the hidden staging folder is removed too."""
    staged: list[Path] = []

    def write_some(self: RunResult, folder: Path) -> None:
        staged.append(folder)
        (folder / "timeline.csv").write_text("partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(RunResult, "_write_files", write_some)
    result = invoke("run", BASE, "--trials", "20", "--out", results / "out", "--quiet")
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert len(staged) == 1 and staged[0].parent == results  # it did stage files there
    assert list(results.iterdir()) == []


# --- validate and schema ----------------------------------------------------------------


def test_validate_shipped_scenario(dec2021_path: Path) -> None:
    """The shipped scenario validates, with a one-line summary."""
    result = invoke("validate", dec2021_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"ok: {dec2021_path}: 5 actors (1 deciding), 36 parameters, 6 rungs, 8 policies, "
        "horizon 120 days\n"
    )


def test_schema_prints_the_scenario_json_schema() -> None:
    """schema prints valid JSON whose top-level properties are the Scenario's fields."""
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert set(schema["properties"]) == set(Scenario.model_fields)
    assert {"name", "horizon", "actors"} <= set(schema["required"])
    assert schema.get("additionalProperties") is False  # unknown fields are errors


def test_schema_validates_the_shipped_scenario(dec2021_path: Path) -> None:
    """An editor using the printed schema accepts the shipped scenario and flags a typo."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(invoke("schema").stdout)
    data, _ = read_yaml(dec2021_path)
    document = json.loads(json.dumps(data, default=str))  # dates as ISO text, as in JSON
    jsonschema.validate(document, schema)
    document["horizn"] = document.pop("horizon")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_run_leaves_no_results(
    dec2021_path: Path, tmp_path: Path, sig: signal.Signals
) -> None:
    # A million trials take far longer than the pause below, so the signal lands mid-run.
    command = [sys.executable, "-m", "escalation", "run", str(dec2021_path), "--trials", "1000000"]
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    process = subprocess.Popen(
        [*command, "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    assert list(work.iterdir()) == []  # no hidden partial folder either
