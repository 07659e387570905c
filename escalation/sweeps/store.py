"""A resumable store of finished points, and the atomic hand-over of the finished results.

While a sweep runs, every finished point is written at once to
``<out>.partial/points/<index>.parquet`` (a temporary file renamed into place, so a point file
is whole or absent). The staging folder holds ``INCOMPLETE.txt`` saying what it is and
``sweep.json`` with the experiment's hash, and never a ``points.parquet``: it cannot be
mistaken for a result. When every point is done the result files are written to a temporary
folder beside ``<out>``, which is renamed to ``<out>``; only then is the staging folder
removed. An interrupted sweep keeps its finished points; ``resume`` checks the hash and
returns the indices already done.

On ``resume`` every point file is read back before it is trusted: a file that is not a
point's (its name, its row) is left aside and named in :attr:`PointStore.notes`, and a point
whose file cannot be read (truncated by a crash or a full disk) is played again. The sweep
holds the claim on ``<out>`` (:func:`~escalation.engine.folders.claimed`) while it runs, so
two sweeps never write the same staging folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from escalation.engine.folders import OutputError, check_free, target, write_folder

MARKER = "INCOMPLETE.txt"
MANIFEST = "sweep.json"
#: A point's file: its index, zero-padded to six digits (more for larger designs).
_POINT_FILE = re.compile(r"^(?P<index>[0-9]{6,})\.parquet$")


def partial_folder(out: str | Path) -> Path:
    """The staging folder of results folder ``out``."""
    out = Path(out)
    return out.with_name(out.name + ".partial")


class PointStore:
    """Finished points of one sweep, kept in the staging folder of ``out``.

    ``out`` is the folder as the user named it (in messages); a symbolic link is followed, so
    the staging folder sits beside the folder the link names.
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.real = target(self.out)
        self.partial = partial_folder(self.real)
        self.points = self.partial / "points"
        #: What a resume found and set aside, in words.
        self.notes: list[str] = []
        self._done: set[int] = set()

    def open(self, manifest: Mapping[str, Any], resume: bool) -> set[int]:
        """Prepare the staging folder; return the indices of points already finished.

        Without ``resume`` an existing staging folder is an error (its points would be lost);
        with it, the stored experiment hash must match ``manifest['experiment_hash']``.
        """
        try:
            check_free(self.real, self.out)
        except OutputError as error:
            if resume and self.real.is_dir():
                raise OutputError(
                    f"{self.out} already exists and is not empty (the sweep there is finished: "
                    "nothing to resume); choose another --out"
                ) from None
            raise error from None
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
            shutil.rmtree(self.partial, ignore_errors=True)
            raise OutputError(
                f"cannot write the sweep's points to {self.partial}: {error.strerror or error}"
            ) from None
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
        size = stored.get("points", manifest.get("points"))
        done = set()
        for file in sorted(self.points.iterdir()):
            match = _POINT_FILE.match(file.name)
            index = int(match["index"]) if match else -1
            if file.name.startswith(".") and file.name.endswith(".tmp"):
                file.unlink(missing_ok=True)  # a point being written when the sweep stopped
            elif (
                match is None
                or file.name != _name(index)
                or (isinstance(size, int) and index >= size)
            ):
                self.notes.append(f"resume: ignored points/{file.name}: not a point's file")
            elif not _readable_point(file, index):
                file.unlink(missing_ok=True)
                self.notes.append(
                    f"resume: point {index} is played again: its file points/{file.name} could "
                    "not be read (cut short?)"
                )
            else:
                done.add(index)
        self._done = set(done)
        return done

    def write(self, index: int, row: pd.DataFrame) -> None:
        """Store one finished point (a one-row frame), atomically."""
        path = self.points / _name(index)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=self.points)
        os.close(fd)
        try:
            row.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._done.add(index)

    def discard_if_empty(self) -> bool:
        """Remove the staging folder if it holds no finished point; say whether it did."""
        if self.partial.is_dir() and not any(self.points.glob("*.parquet")):
            shutil.rmtree(self.partial, ignore_errors=True)
            return True
        return False

    def load(self) -> pd.DataFrame:
        """Every point stored by this sweep or found whole on resume, in index order."""
        files = [self.points / _name(index) for index in sorted(self._done)]
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    def finish(self, write_files: Callable[[Path], None]) -> Path:
        """Write the result files into ``out`` atomically, then remove the staging folder."""
        write_folder(self.out, write_files)
        shutil.rmtree(self.partial, ignore_errors=True)
        return self.out


def _name(index: int) -> str:
    return f"{index:06d}.parquet"


def _readable_point(path: Path, index: int) -> bool:
    """Whether ``path`` holds one whole row, the row of point ``index``."""
    try:
        row = pd.read_parquet(path)
    except Exception:  # pyarrow raises its own errors for a cut or foreign file
        return False
    return len(row) == 1 and "point" in row.columns and int(row["point"].iloc[0]) == index


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
