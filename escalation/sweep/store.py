"""A resumable store of finished points, and the atomic hand-over of the finished results.

While a sweep runs, every finished point is written at once to
``<out>.partial/points/<index>.parquet`` (a temporary file renamed into place, so a point file
is whole or absent). The staging folder holds ``INCOMPLETE.txt`` saying what it is and
``sweep.json`` with the experiment's hash, and never a ``points.parquet``: it cannot be
mistaken for a result. When every point is done the result files are written to a temporary
folder beside ``<out>``, which is renamed to ``<out>``; only then is the staging folder
removed. An interrupted sweep keeps its finished points; ``resume`` checks the hash and
returns the indices already done.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from escalation.engine.results import OutputError, write_folder

MARKER = "INCOMPLETE.txt"
MANIFEST = "sweep.json"


def partial_folder(out: str | Path) -> Path:
    """The staging folder of results folder ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".partial")


class PointStore:
    """Finished points of one sweep, kept in the staging folder of ``out``."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.partial = partial_folder(self.out)
        self.points = self.partial / "points"

    def open(self, manifest: Mapping[str, Any], resume: bool) -> set[int]:
        """Prepare the staging folder; return the indices of points already finished.

        Without ``resume`` an existing staging folder is an error (its points would be lost);
        with it, the stored experiment hash must match ``manifest['experiment_hash']``.
        """
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            message = f"{self.out} already exists and is not empty"
            if resume:
                message += " (the sweep there is finished: nothing to resume)"
            raise OutputError(message + "; choose another --out")
        if self.partial.exists():
            if not resume:
                raise OutputError(
                    f"{self.partial} holds an unfinished sweep; finish it with --resume and the "
                    "same --out, or delete that folder"
                )
            return self._resume(manifest)
        if resume:
            raise OutputError(f"nothing to resume: {self.partial} does not exist")
        try:
            self.points.mkdir(parents=True)
            (self.partial / MARKER).write_text(
                "This folder holds an UNFINISHED sweep: the points finished so far, one file "
                "each in points/.\nIt is not a result. Finish it with\n"
                f"    escalation sweep <experiment> --resume --out {self.out}\n"
                f"which writes the complete results to {self.out} and removes this folder.\n"
            )
            _write_atomic(
                self.partial / MANIFEST, (json.dumps(dict(manifest), indent=2) + "\n").encode()
            )
        except OSError as error:
            raise OutputError(f"cannot create {self.partial}: {error.strerror}") from None
        return set()

    def _resume(self, manifest: Mapping[str, Any]) -> set[int]:
        try:
            stored = json.loads((self.partial / MANIFEST).read_text())
        except (OSError, ValueError):
            raise OutputError(
                f"{self.partial} is not a sweep's staging folder (no readable {MANIFEST})"
            ) from None
        if stored.get("experiment_hash") != manifest.get("experiment_hash"):
            raise OutputError(
                f"the unfinished sweep in {self.partial} was started from a different "
                "experiment, scenario, trials or seed (its hash differs); resume it with the "
                "same inputs, or choose another --out"
            )
        self.points.mkdir(exist_ok=True)
        done = set()
        for file in self.points.glob("*.parquet"):
            if file.stem.isdigit():
                done.add(int(file.stem))
        return done

    def write(self, index: int, row: pd.DataFrame) -> None:
        """Store one finished point (a one-row frame), atomically."""
        target = self.points / f"{index:06d}.parquet"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=self.points)
        os.close(fd)
        try:
            row.to_parquet(tmp, index=False)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def discard_if_empty(self) -> bool:
        """Remove the staging folder if it holds no finished point; say whether it did."""
        if self.partial.is_dir() and not any(self.points.glob("*.parquet")):
            shutil.rmtree(self.partial, ignore_errors=True)
            return True
        return False

    def load(self) -> pd.DataFrame:
        """Every stored point, in index order."""
        files = sorted(self.points.glob("*.parquet"))
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def finish(self, write_files: Callable[[Path], None]) -> Path:
        """Write the result files into ``out`` atomically, then remove the staging folder."""
        write_folder(self.out, write_files)
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.out


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
