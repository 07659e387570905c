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
import escalation.engine.play
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
    from escalation.sweeps.experiment import load_experiment

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
    assert "Frozen standoff" in result.stdout  # the outcome table, labelled as in the ladder

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
    monkeypatch.setattr(escalation.engine.play, "play_blocks", _interrupt)
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
        f"ok: {dec2021_path}: 5 actors (1 deciding), 41 parameters, 6 rungs, 8 policies, "
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


# --- conventions: version, JSON, completion, schema of experiments (issue 11) -------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"escalation {escalation.__version__}"


def test_completion_can_be_installed() -> None:
    result = invoke("--help")
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_run_json_is_one_document_with_the_numbers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", BASE, "--trials", "300", "--seed", "3", "--out", out, "--json", "-q")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing else on stdout
    assert document["ok"] is True and document["command"] == "run"
    assert (document["trials"], document["seed"], document["out"]) == (300, 3, str(out))
    summary = pd.read_csv(out / "summary.csv")
    assert [row["outcome"] for row in document["summary"]] == list(summary["outcome"])
    assert [row["count"] for row in document["summary"]] == list(summary["count"])
    assert {"outcome", "share", "median_day", "lo", "hi"} <= set(document["timing"][0])
    assert (
        document["run"]["scenario_hash"]
        == json.loads((out / "run.json").read_text())["scenario_hash"]
    )


def test_validate_json_lists_every_file_or_the_error(dec2021_path: Path) -> None:
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke("validate", dec2021_path, experiment, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True
    kinds = [(item["kind"], item["file"]) for item in document["files"]]
    assert kinds == [("scenario", str(dec2021_path)), ("experiment", str(experiment))]
    assert document["files"][0]["parameters"] == len(load_scenario(dec2021_path).parameters)

    bad = BAD / "scenarios" / "trials_zero.yaml"
    result = invoke("validate", BASE, bad, "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False and len(document["files"]) == 1
    error = document["error"]
    assert (error["kind"], error["file"], error["line"], error["field"]) == (
        "input",
        str(bad),
        3,
        "trials",
    )
    assert result.stderr.startswith(f"error: {bad}:3: trials: ")  # the human line too


def test_compare_and_sweep_json(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(BASE.read_text().replace("stake: 1", "stake: 2"))
    result = invoke(
        "compare", BASE, other, "--trials", "200", "--out", tmp_path / "c", "--json", "-q"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    # Both files share a title, so each label adds its file's name.
    labels = document["labels"]
    assert labels == ["small (base.yaml)", "small (other.yaml)"] and document["trials"] == 200
    assert {row["scenario"] for row in document["table"]} == set(labels)

    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke("sweep", experiment, "--trials", "30", "--out", tmp_path / "s", "--json", "-q")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and len(document["points"]) == 7
    assert document["points"][0]["point"] == 0
    assert pd.read_parquet(tmp_path / "s" / "points.parquet")["point"].tolist() == list(range(7))


def test_json_output_error_is_a_document_too(tmp_path: Path) -> None:
    result = invoke("run", tmp_path / "absent.yaml", "--json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["error"]["kind"] == "input"
    assert "file not found" in document["error"]["message"]


def test_schema_of_experiments() -> None:
    from escalation.sweeps.experiment import Experiment

    result = invoke("schema", "--experiment")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) == set(Experiment.model_fields)
    assert {"scenario", "design", "variables", "trials", "metrics"} <= set(schema["required"])


def test_schema_of_experiments_accepts_the_shipped_ones() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(invoke("schema", "--experiment").stdout)
    for path in sorted((Path(__file__).resolve().parent.parent / "experiments").glob("*.yaml")):
        data, _ = read_yaml(path)
        jsonschema.validate(data, schema)


# --- sweep --seed and --horizon (issue 11) -------------------------------------------------


def test_sweep_seed_and_horizon_are_used_and_recorded(tmp_path: Path) -> None:
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    out = tmp_path / "s"
    result = invoke(
        "sweep", experiment, "--trials", "30", "--seed", "99", "--horizon", "20",
        "--out", out, "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads((out / "run.json").read_text())
    assert info["seed"] == 99
    from escalation.sweeps.experiment import load_experiment

    expected = load_experiment(experiment, trials=30, seed=99, horizon=20)
    assert info["scenario_hash"] == scenario_hash(expected.scenario)
    assert expected.scenario.horizon == 20


@pytest.mark.parametrize("option", [["--horizon", "0"], ["--seed", "-1"], ["--horizon", "99999"]])
def test_sweep_seed_and_horizon_out_of_range(option: list[str], tmp_path: Path) -> None:
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke("sweep", experiment, *option, "--out", tmp_path / "s")
    assert result.exit_code == 2
    assert option[0] in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


# --- hardening (issue 13): mix-ups, devices, pipes, addresses, memory -----------------------


def test_run_on_an_experiment_file_names_the_mix_up(tmp_path: Path) -> None:
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke("run", experiment, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "this is an experiment file, not a scenario" in result.stderr
    assert f"escalation sweep {experiment}" in result.stderr
    assert "unknown field" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_sweep_on_a_scenario_file_names_the_mix_up(dec2021_path: Path, tmp_path: Path) -> None:
    result = invoke("sweep", dec2021_path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "this is a scenario file, not an experiment" in result.stderr
    assert "unknown field" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_validate_an_endless_device_stops_at_the_limit() -> None:
    """/dev/zero was read until the kernel killed the process; now the limit stops it."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    result = invoke("validate", "/dev/zero")
    assert result.exit_code == 2
    assert "error: /dev/zero: file is more than 2,000,000 bytes" in result.stderr


def test_validate_a_fifo_reads_it_once(tmp_path: Path) -> None:
    """A named pipe was opened twice (kind, then content): the second open blocked forever."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes")
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat '{BASE}' > '{fifo}'"], stdout=subprocess.DEVNULL)
    try:
        done = subprocess.run(
            [_console_script(), "validate", str(fifo)], capture_output=True, text=True, timeout=60
        )
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {fifo}: 3 actors")


def test_validate_reads_a_scenario_piped_to_dev_stdin() -> None:
    """`cat file | escalation validate /dev/stdin` was read twice and found empty."""
    if not Path("/dev/stdin").exists():
        pytest.skip("no /dev/stdin")
    done = subprocess.run(
        [_console_script(), "validate", "/dev/stdin"],
        input=BASE.read_text(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: /dev/stdin: 3 actors")


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("foo://bar", "unknown address scheme 'foo'"),
        ("tcp://", "names no host"),
        ("tcp://:8786", "names no host"),
        ("inproc://nothing", "inside one process"),
        ("tcp://host:99999", "Port out of range"),
        ("myhost:8786", "tcp://host:8786"),
    ],
)
def test_a_bad_scheduler_address_is_one_message(address: str, words: str, tmp_path: Path) -> None:
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke("sweep", experiment, "--scheduler", address, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {experiment}: --scheduler: ")
    assert words in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_scheduler_without_dask_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    """Dask is an extra: without it, --scheduler says `pip install 'escalation[dask]'`."""
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if absent
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    for scheduler in ("local", "tcp://localhost:8786"):
        result = invoke("sweep", experiment, "--scheduler", scheduler, "--out", tmp_path / "o")
        assert result.exit_code == 2, result.output
        assert "pip install 'escalation[dask]'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_run_too_large_for_memory_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch
) -> None:
    """The trials' records are estimated and compared with the memory left: a clear message."""
    import escalation.engine.memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda: (500 * 10**6, "a test's limit"))
    out = tmp_path / "out"
    result = invoke("run", BASE, "--trials", "5000000", "--out", out, "-q")
    assert result.exit_code == 2, result.output
    assert "5,000,000 trials need about" in result.stderr
    assert "a test's limit" in result.stderr and "use at most about" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS as on Linux")
def test_fifty_million_trials_under_a_3_gb_limit_is_a_message(dec2021_path: Path) -> None:
    """`ulimit -v 3000000` then --trials 50000000: numpy's MemoryError before; a message now."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 * 10**9, 3 * 10**9))

    done = subprocess.run(
        [_console_script(), "run", str(dec2021_path), "--trials", "50000000", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )
    assert done.returncode == 2, done.stderr
    assert "50,000,000 trials need about" in done.stderr
    assert "ulimit -v" in done.stderr and "Traceback" not in done.stderr


def test_help_and_validate_import_only_what_they_need(dec2021_path: Path) -> None:
    """Start-up stays light (timed in benchmarks/run.py): no numpy for --help, and neither
    pandas, SciPy nor Mesa to check a scenario."""
    heavy = ("numpy", "pandas", "scipy", "mesa", "plotly", "pyarrow")
    code = (
        "import sys\nfrom escalation.cli import app\n"
        "try:\n    app(sys.argv[1:], prog_name='escalation')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))"
    )

    def loaded(*args: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1].replace("'", '"'))

    assert loaded("--help") == []
    assert loaded("validate", str(dec2021_path)) == ["numpy"]


def test_a_sweep_too_large_for_memory_is_refused_before_it_starts(
    tmp_path: Path, monkeypatch
) -> None:
    """Each of the --workers holds one point's trials: the check counts them all."""
    import escalation.engine.memory as memory

    monkeypatch.setattr(memory, "available_memory", lambda: (400 * 10**6, "a test's limit"))
    experiment = Path(__file__).resolve().parent.parent / "experiments" / "concessions.yaml"
    result = invoke(
        "sweep", experiment, "--trials", "300000", "--workers", "2", "--out", tmp_path / "s"
    )
    assert result.exit_code == 2, result.output
    assert "300,000 trials per point, with that many points at once," in result.stderr
    assert "fewer --workers" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_wrapped_by_python_is_still_an_interrupt(results: Path, monkeypatch) -> None:
    """Ctrl-C inside __set_name__ (an import making a class) reaches us as a RuntimeError."""

    def wrapped(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as error:
            raise RuntimeError("Error calling __set_name__") from error

    monkeypatch.setattr(escalation.engine.play, "play_blocks", wrapped)
    result = invoke("run", BASE, "--trials", "20", "--out", results / "out")
    assert result.exit_code == 130
    assert result.stderr.startswith("interrupted") and "Traceback" not in result.output
    assert list(results.iterdir()) == []


def test_other_errors_are_not_mistaken_for_interrupts(results: Path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(escalation.engine.play, "play_blocks", broken)
    result = invoke("run", BASE, "--trials", "20", "--out", results / "out")
    assert isinstance(result.exception, RuntimeError)  # a bug stays visible
    assert list(results.iterdir()) == []


def test_an_interrupt_during_a_finalizer_is_not_swallowed(results: Path, monkeypatch) -> None:
    """Python drops an exception raised in __del__; the interrupt is kept for the next block."""

    class Finalized:
        def __del__(self) -> None:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C while this object is finalized
            for _ in range(1000):  # the handler runs here, inside __del__
                pass

    def play(scenario, specs, workers=1, on_block=None):
        item = Finalized()
        del item
        on_block(specs[0])  # the next block: the interrupt surfaces
        raise AssertionError("the interrupt was swallowed")

    monkeypatch.setattr(escalation.engine.play, "play_blocks", play)
    result = invoke("run", BASE, "--trials", "20", "--out", results / "out")
    assert result.exit_code == 130, result.output
    assert result.stderr.startswith("interrupted") and "Exception ignored" not in result.output
    assert list(results.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "extra"), [("explore", "escalation[explore]"), ("sweep", "escalation[dask]")]
)
def test_help_names_the_extra_to_install(command: str, extra: str) -> None:
    # Rich reads [explore] as markup and would drop it from the help unless escaped.
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert extra in " ".join(result.output.split()).replace("│ ", "")
