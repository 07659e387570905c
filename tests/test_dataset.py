"""The trials on disk: one ``trials.parquet`` or a dataset of one parquet file per block.

A streamed run's dataset must read back as exactly the table the same run keeps in memory,
and the readers of results folders (``escalation discover``) must take either form, or say
clearly that a folder written with ``--no-trials`` holds no trials.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from escalation.cli import app
from escalation.engine.dataset import (
    TRIALS_DATASET,
    TRIALS_FILE,
    MissingTrials,
    count_trials,
    read_trials,
    trials_path,
)
from escalation.engine.folders import write_folder
from escalation.engine.play import as_scenario, play, play_streamed, with_overrides

BLOCK = 500
TRIALS = 2_600  # six blocks, the last one short


@pytest.fixture(scope="module")
def folders(dec2021_path, tmp_path_factory) -> tuple[Path, Path]:
    """The same run written in memory (one file) and streamed (a dataset), in blocks of 500."""
    scenario = with_overrides(as_scenario(dec2021_path), TRIALS, 5, None)
    root = tmp_path_factory.mktemp("trials")
    single = play(scenario, block_size=BLOCK)
    single.info["source"] = str(dec2021_path)
    single.write(root / "single")

    def files(folder: Path) -> None:
        result = play_streamed(
            scenario, block_size=BLOCK, trials_folder=folder / TRIALS_DATASET, sample_trials=BLOCK
        )
        result.info["source"] = str(dec2021_path)
        result._write_files(folder)

    write_folder(root / "dataset", files)
    return root / "single", root / "dataset"


def test_the_dataset_reads_back_equal_to_the_single_file(folders) -> None:
    single, dataset = folders
    assert trials_path(single) == single / TRIALS_FILE
    assert trials_path(dataset) == dataset / TRIALS_DATASET
    assert not (dataset / TRIALS_FILE).exists()
    parts = sorted(p.name for p in (dataset / TRIALS_DATASET).iterdir())
    assert parts == [f"part-{i:06d}.parquet" for i in range(6)]
    one, many = read_trials(single), read_trials(dataset)
    assert len(one) == TRIALS
    pd.testing.assert_frame_equal(many, one, check_exact=True)
    pd.testing.assert_frame_equal(
        read_trials(dataset, columns=["trial", "outcome"]),
        one[["trial", "outcome"]],
        check_exact=True,
    )
    assert count_trials(single) == count_trials(dataset) == TRIALS


def test_a_dataset_can_be_read_in_its_first_blocks_only(folders) -> None:
    single, dataset = folders
    first = read_trials(dataset, max_rows=BLOCK + 1)  # whole blocks: two of them
    pd.testing.assert_frame_equal(first, read_trials(single).iloc[: 2 * BLOCK], check_exact=True)


def test_both_forms_give_the_same_summary_file(folders) -> None:
    single, dataset = folders
    for name in ("summary.csv", "timeline.csv"):
        assert (single / name).read_bytes() == (dataset / name).read_bytes()


def test_discover_reads_either_form_alike(folders, tmp_path: Path) -> None:
    runner = CliRunner()
    written = []
    for folder in folders:
        out = tmp_path / folder.name
        result = runner.invoke(
            app, ["discover", str(folder), "--outcome", "full_scale_invasion", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        written.append(pd.read_csv(out / "boxes.csv"))
    pd.testing.assert_frame_equal(*written)


def test_a_folder_without_trials_says_it_was_run_with_no_trials(folders, tmp_path) -> None:
    single, _ = folders
    summaries = tmp_path / "summaries"
    summaries.mkdir()
    for name in ("summary.csv", "run.json", "timeline.csv"):
        (summaries / name).write_bytes((single / name).read_bytes())
    with pytest.raises(MissingTrials, match="--no-trials"):
        read_trials(summaries)
    with pytest.raises(MissingTrials, match="holds no trials"):
        trials_path(tmp_path)
    result = CliRunner().invoke(
        app, ["discover", str(summaries), "--outcome", "full_scale_invasion"]
    )
    assert result.exit_code == 2, result.output
    assert "--no-trials" in result.stderr and "Traceback" not in result.output
