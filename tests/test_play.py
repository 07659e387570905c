"""Streamed runs (``escalation run --no-trials``, ``--scheduler``) against ordinary ones.

The same blocks with the same seeds, however and wherever they are played: a streamed run,
a run on local processes and a run on a Dask cluster give the numbers of ``--workers 1``.
The Dask tests use a LocalCluster of threads in this process (quicker than processes; the
tasks, their keys and the shared scenario travel as they would to a remote cluster).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from escalation.cli import app
from escalation.engine.accumulate import Accumulator
from escalation.engine.dataset import read_trials
from escalation.engine.play import as_scenario, play, play_streamed, with_overrides

BLOCK = 400
runner = CliRunner()


def invoke(*args: str | Path):
    """Run the app in-process with these arguments."""
    return runner.invoke(app, [str(arg) for arg in args])


@pytest.fixture(scope="module")
def scenario(dec2021_path):
    """dec2021, 2,900 trials: eight blocks of 400, the last one short."""
    return with_overrides(as_scenario(dec2021_path), 2_900, 13, None)


@pytest.fixture(scope="module")
def cluster():
    """A Dask LocalCluster of two one-thread workers in this process, on TCP."""
    pytest.importorskip(
        "dask.distributed", reason="Dask is an optional extra: pip install 'escalation[dask]'"
    )
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        dashboard_address=None,
    ) as found:
        yield found


def assert_same_run(a, b) -> None:
    for name in ("summary", "timing", "timeline"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
    pd.testing.assert_frame_equal(a.sample, b.sample, check_exact=True)
    pd.testing.assert_frame_equal(a.drivers(), b.drivers(), check_exact=True)


def test_a_run_without_trials_writes_the_same_summaries_and_no_trials(
    dec2021_path, tmp_path
) -> None:
    kept, skipped = tmp_path / "kept", tmp_path / "skipped"
    args = ("run", dec2021_path, "--trials", "6000", "--seed", "4", "-q")
    assert invoke(*args, "--out", kept).exit_code == 0
    result = invoke(*args, "--no-trials", "--out", skipped)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in skipped.iterdir()) == [
        "report.html",
        "run.json",
        "summary.csv",
        "timeline.csv",
    ]
    for name in ("summary.csv", "timeline.csv"):
        assert (kept / name).read_bytes() == (skipped / name).read_bytes()
    info = json.loads((skipped / "run.json").read_text())
    assert info["trials_file"] is None and info["streamed"]["sample_trials"] == 6000
    assert "its trials were not kept (--no-trials)" in (skipped / "report.html").read_text()


def test_a_streamed_run_played_by_local_processes_equals_one_worker(scenario) -> None:
    one = play_streamed(scenario, block_size=BLOCK, sample_trials=2 * BLOCK)
    two = play_streamed(scenario, workers=2, block_size=BLOCK, sample_trials=2 * BLOCK)
    assert_same_run(one, two)
    assert two.info["streamed"]["most_blocks_held"] <= 2 + two.info["streamed"]["window"]


def test_a_streamed_run_holds_a_bounded_number_of_blocks(scenario, monkeypatch) -> None:
    """Memory stays flat: at most the sample and a window of blocks are held at once."""
    held = []
    fold = Accumulator.fold

    def counting(self, spec, block):
        fold(self, spec, block)
        held.append(self.most_held)

    monkeypatch.setattr(Accumulator, "fold", counting)
    result = play_streamed(scenario, workers=2, block_size=100, sample_trials=200)
    assert len(held) == 29 and max(held) <= 2 + result.info["streamed"]["window"]


def test_a_dask_run_equals_one_worker_exactly(scenario, cluster) -> None:
    address = cluster.scheduler_address
    assert address.startswith("tcp://")
    pd.testing.assert_frame_equal(
        play(scenario, block_size=BLOCK, scheduler=address).trials,
        play(scenario, block_size=BLOCK).trials,
        check_exact=True,
    )
    streamed = play_streamed(scenario, scheduler=address, block_size=BLOCK, sample_trials=BLOCK)
    assert_same_run(streamed, play_streamed(scenario, block_size=BLOCK, sample_trials=BLOCK))
    assert streamed.info["scheduler"] == address


def test_run_on_a_dask_scheduler_writes_a_dataset_equal_to_one_workers_table(
    dec2021_path, cluster, tmp_path
) -> None:
    args = ("run", dec2021_path, "--trials", "3000", "--seed", "2", "-q")
    assert invoke(*args, "--out", tmp_path / "one").exit_code == 0
    result = invoke(*args, "--scheduler", cluster.scheduler_address, "--out", tmp_path / "dask")
    assert result.exit_code == 0, result.output
    one, dask = tmp_path / "one", tmp_path / "dask"
    assert not (dask / "trials.parquet").exists() and (dask / "trials").is_dir()
    for name in ("summary.csv", "timeline.csv"):
        assert (one / name).read_bytes() == (dask / name).read_bytes()
    pd.testing.assert_frame_equal(read_trials(dask), read_trials(one), check_exact=True)


def test_an_interrupted_dask_run_leaves_nothing_that_looks_complete(
    dec2021_path, cluster, tmp_path, monkeypatch
) -> None:
    """The dataset is written in the staging folder: a run cut off leaves no part behind."""
    fold = Accumulator.fold
    calls, staged = [], []

    def interrupted(self, spec, block):
        calls.append(spec.index)
        if len(calls) == 2:
            staged.extend(tmp_path.glob(".out.writing-*/trials/part-*.parquet"))
            raise KeyboardInterrupt
        fold(self, spec, block)

    import escalation.engine.play as engine_play
    from escalation.engine.blocks import block_specs

    monkeypatch.setattr(
        engine_play, "block_specs", lambda trials, seed, size=500: block_specs(trials, seed, size)
    )
    monkeypatch.setattr(Accumulator, "fold", interrupted)
    out = tmp_path / "out"
    result = invoke(
        "run", dec2021_path, "--trials", "3000", "--scheduler", cluster.scheduler_address,
        "--out", out, "-q",
    )  # fmt: skip
    assert result.exit_code != 0 and len(calls) == 2
    assert len(staged) == 2  # written block by block, out of view
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("foo://bar", "unknown address scheme 'foo'"),
        ("tcp://", "names no host"),
        ("inproc://nothing", "inside one process"),
        ("tcp://host:99999", "Port out of range"),
        ("myhost:8786", "tcp://host:8786"),
    ],
)
@pytest.mark.parametrize("trials", [[], ["--no-trials"]])
def test_a_bad_scheduler_address_for_a_run_is_one_located_message(
    address: str, words: str, trials: list[str], dec2021_path, tmp_path
) -> None:
    result = invoke("run", dec2021_path, "--scheduler", address, *trials, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {dec2021_path}: --scheduler: ")
    assert words in result.stderr and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_python_api_streams_a_run_without_its_trials(dec2021_path) -> None:
    import escalation

    kept = escalation.run(dec2021_path, trials=1_500, seed=9)
    streamed = escalation.run(dec2021_path, trials=1_500, seed=9, keep_trials=False)
    assert streamed.trials is None and streamed.n_trials == 1_500
    pd.testing.assert_frame_equal(streamed.summary, kept.summary, check_exact=True)
    assert "1,500 trials" in repr(streamed)


def test_a_run_whose_drivers_read_a_subsample_says_so(dec2021_path, tmp_path, monkeypatch) -> None:
    """Blocks of 500 and a sample of one block: the printed summary, the report and run.json
    say that the drivers read the first 500 of the 2,000 trials."""
    import escalation.engine.play as engine_play
    from escalation.engine.blocks import block_specs

    monkeypatch.setattr(
        engine_play, "block_specs", lambda trials, seed, size=500: block_specs(trials, seed, size)
    )
    monkeypatch.setattr(engine_play, "sample_blocks", lambda size, trials: 1)
    out = tmp_path / "out"
    result = invoke("run", dec2021_path, "--trials", "2000", "--no-trials", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert "read a sample, the first 500 trials (1 block," in " ".join(result.stdout.split())
    report = (out / "report.html").read_text()
    assert "computed, in a sample: the first 500 of the 2,000 trials" in report
    info = json.loads((out / "run.json").read_text())
    assert info["streamed"]["sample_trials"] == 500 and info["blocks"] == 4


def test_a_run_on_dask_without_dask_says_how_to_install_it(
    dec2021_path, tmp_path, monkeypatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if absent
    for scheduler in ("local", "tcp://localhost:8786"):
        result = invoke("run", dec2021_path, "--scheduler", scheduler, "--out", tmp_path / "o")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {dec2021_path}: --scheduler: ")
        assert "pip install 'escalation[dask]'" in result.stderr
    assert list(tmp_path.iterdir()) == []
