"""The trials of a run on disk: one ``trials.parquet``, or a partitioned parquet dataset.

A run played in memory writes its table as one file, ``trials.parquet``. A streamed run that
keeps its trials (``--scheduler`` without ``--no-trials``) writes each block's trials as it
arrives, into ``trials/part-<block>.parquet`` (one file per block, numbered with six digits so
that names sort in trial order): the folder is the staging folder of
:func:`~escalation.engine.folders.write_folder`, so an interrupted run leaves no dataset
behind that looks complete. A run with ``--no-trials`` writes neither.

:func:`read_trials` reads either form as one table (pyarrow reads the dataset as a whole, or
``columns`` of it); :func:`trials_path` says which a folder holds, and raises
:class:`MissingTrials`, saying why, when it holds neither.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd

from escalation.engine.results import assemble
from escalation.model.plan import Plan
from escalation.model.records import BlockResult

#: The one-file form.
TRIALS_FILE = "trials.parquet"
#: The dataset form: a folder of one parquet file per block.
TRIALS_DATASET = "trials"


class MissingTrials(ValueError):
    """A results folder holds no trials table (a run with ``--no-trials``, or no run)."""


def part_name(index: int) -> str:
    """The file of block ``index`` in the dataset."""
    return f"part-{index:06d}.parquet"


def block_frame(plan: Plan, block: BlockResult, start: int) -> pd.DataFrame:
    """One block's rows of the trials table, numbered from trial ``start``."""
    frame, _ = assemble(plan, [block])
    frame["trial"] += start
    return frame


class TrialsDataset:
    """Writes a streamed run's trials, one parquet file per block, in any order.

    Args:
        folder: the dataset's folder (made here; it must not exist).
        plan: the compiled scenario, whose records make the columns.
    """

    def __init__(self, folder: Path, plan: Plan) -> None:
        self.folder = Path(folder)
        self.plan = plan
        self.folder.mkdir()
        self.parts = 0

    def write(self, index: int, start: int, block: BlockResult) -> None:
        """Write block ``index``, whose first trial is ``start``."""
        block_frame(self.plan, block, start).to_parquet(self.folder / part_name(index), index=False)
        self.parts += 1


def trials_path(folder: str | Path) -> Path:
    """The trials of results folder ``folder``: ``trials.parquet`` or the ``trials/`` dataset.

    Raises :class:`MissingTrials` saying why there are none: a run written with
    ``--no-trials`` (its ``run.json`` says so), or a folder that is no run's.
    """
    folder = Path(folder)
    single, dataset = folder / TRIALS_FILE, folder / TRIALS_DATASET
    if single.is_file():
        return single
    if dataset.is_dir() and any(dataset.glob("part-*.parquet")):
        return dataset
    if (folder / "run.json").is_file() and (folder / "summary.csv").is_file():
        raise MissingTrials(
            f"{folder} holds a run's summaries but not its trials: it was run with "
            "--no-trials, which keeps only summary.csv, timeline.csv, run.json and the report; "
            "run it again without --no-trials to keep them"
        )
    raise MissingTrials(f"{folder} holds no trials ({TRIALS_FILE} or {TRIALS_DATASET}/)")


def read_trials(
    folder: str | Path, columns: list[str] | None = None, max_rows: int | None = None
) -> pd.DataFrame:
    """The trials table of results folder ``folder``, in either form, in trial order.

    ``columns`` reads only those columns. ``max_rows`` reads a dataset's first parts only, up
    to about that many trials (whole blocks: the first trials of the run, as a streamed run's
    sample is), for a reader that cannot hold many millions of trials. Raises
    :class:`MissingTrials`.
    """
    path = trials_path(folder)
    if path.is_file():
        return pd.read_parquet(path, columns=columns)
    import pyarrow.parquet as pq

    parts = sorted(path.glob("part-*.parquet"))
    if max_rows is not None:
        chosen, rows = [], 0
        for part in parts:
            if rows >= max_rows:
                break
            chosen.append(part)
            rows += pq.ParquetFile(part).metadata.num_rows
        parts = chosen
    table = pq.ParquetDataset([str(p) for p in parts]).read(
        columns=columns, use_pandas_metadata=True
    )
    return table.to_pandas().reset_index(drop=True)


def count_trials(folder: str | Path) -> int:
    """How many trials a results folder's trials hold (read from the files' metadata)."""
    import pyarrow.parquet as pq

    path = trials_path(folder)
    parts = [path] if path.is_file() else sorted(path.glob("part-*.parquet"))
    return sum(pq.ParquetFile(part).metadata.num_rows for part in parts)


#: Trials played to measure a scenario's trials on disk.
PROBE_TRIALS = 1024
#: Datasets of fewer trials are not checked against the free disk space.
CHECK_FROM = 200_000


def check_room(scenario, folder: Path) -> None:
    """Raise :class:`~escalation.engine.folders.OutputError` if the trials of ``scenario``
    would not fit on the disk of ``folder`` as a dataset (measured on a small block)."""
    trials = int(scenario.trials)
    if trials < CHECK_FROM:
        return
    free = free_disk(Path(folder))
    if free is None:
        return
    from escalation.engine.blocks import BlockSpec, play_block
    from escalation.engine.folders import OutputError

    probe = play_block(scenario, BlockSpec(0, 0, PROBE_TRIALS, int(scenario.seed)))
    needed = parquet_bytes_per_trial(Plan.from_scenario(scenario), probe) * trials
    if needed > free:
        raise OutputError(
            f"the trials of {trials:,} trials take about {needed / 1e9:.1f} GB on disk, but "
            f"{free / 1e9:.1f} GB is free where they would be written; use --no-trials to keep "
            "only the summaries, or choose an --out on a larger disk"
        )


def parquet_bytes_per_trial(plan: Plan, block: BlockResult) -> float:
    """Bytes one trial takes on disk in the dataset, measured on ``block``."""
    buffer = io.BytesIO()
    block_frame(plan, block, 0).to_parquet(buffer, index=False)
    return buffer.tell() / max(len(block), 1)


def free_disk(folder: Path) -> int | None:
    """Bytes free on the file system of ``folder`` (or of its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None
