"""Tests for escalation.engine.folders: results folders that appear whole, once, for one command.

Two commands writing the same folder, a command killed while writing, a folder filled behind a
writer's back, symbolic links and names too long for the file system: each either works or
fails with one clear message, and nothing is lost or left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from escalation.cli import app
from escalation.engine.folders import (
    SUFFIX_ROOM,
    OutputError,
    claimed,
    remove_stale,
    target,
    write_folder,
)

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"
BASE = ROOT / "tests" / "bad" / "base.yaml"

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="locks and pids of POSIX")


def invoke(*args: str | Path):
    return CliRunner().invoke(app, [str(arg) for arg in args])


def write_two(folder: Path) -> None:
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("b")


def dead_pid() -> int:
    """The pid of a process that has finished and been reaped."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- one writer at a time -----------------------------------------------------------------


def test_write_folder_writes_all_files_and_leaves_nothing_beside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert write_folder(out, write_two) == out
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert hidden(tmp_path) == []  # no lock file, no staging folder


@posix_only
def test_a_folder_claimed_by_another_process_is_refused_at_once(tmp_path: Path) -> None:
    """While another command holds the claim, a second one fails naming its process."""
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from escalation.engine.folders import claimed\n"
            f"with claimed({str(out)!r}):\n    print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputError) as caught:
            write_folder(out, write_two)
        assert f"being written by another escalation command (process {holder.pid})" in str(
            caught.value
        )
        assert not out.exists()
    finally:
        holder.kill()
        holder.wait()
    # The kernel dropped the dead holder's lock: the folder can be written now.
    write_folder(out, write_two)
    assert (out / "a.txt").exists()
    assert hidden(tmp_path) == []


def test_nested_claims_in_one_process_share_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with claimed(out) as real:
        assert real == Path(os.path.realpath(out))
        write_folder(out, write_two)  # claims it again, inside
    assert (out / "b.txt").read_text() == "b"
    assert hidden(tmp_path) == []


def test_a_folder_filled_meanwhile_is_never_replaced(tmp_path: Path) -> None:
    """A writer that ignored the claim filled the folder: its files stay, ours are refused."""
    out = tmp_path / "out"

    def write_and_collide(folder: Path) -> None:
        write_two(folder)
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")

    with pytest.raises(OutputError, match="filled by another process"):
        write_folder(out, write_and_collide)
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert hidden(tmp_path) == []


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write_folder(out, write_two)
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]


def test_overwrite_replaces_a_full_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_folder(out, write_two)
    write_folder(out, lambda folder: (folder / "c.txt").write_text("c"), overwrite=True)
    assert [p.name for p in out.iterdir()] == ["c.txt"]
    assert hidden(tmp_path) == []


@posix_only
def test_two_runs_into_the_same_folder_one_fails_clearly(tmp_path: Path) -> None:
    """Two `run --out SAME` at once: one writes its result, the other exits 1 and says why."""
    out = tmp_path / "out"
    base = [sys.executable, "-m", "escalation", "run", str(DEC2021), "--trials", "120000"]
    runs = [
        subprocess.Popen(
            [*base, "--seed", str(seed), "--out", str(out), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    done = [(run.args[run.args.index("--seed") + 1], *run.communicate(timeout=300)) for run in runs]
    statuses = sorted(run.returncode for run in runs)
    assert statuses == [0, 1], done
    winner = next(seed for (seed, _, _), run in zip(done, runs, strict=True) if run.returncode == 0)
    loser_err = next(err for (_, _, err), run in zip(done, runs, strict=True) if run.returncode)
    assert "is being written by another escalation command" in loser_err
    assert "Traceback" not in loser_err
    assert json.loads((out / "run.json").read_text())["seed"] == int(winner)
    assert hidden(tmp_path) == []


# --- what killed commands leave -----------------------------------------------------------


@posix_only
def test_stale_staging_and_lock_files_are_removed(tmp_path: Path) -> None:
    """A staging folder of a dead process and an unheld lock file go when a folder is claimed."""
    pid = dead_pid()
    stale = tmp_path / f".old.writing-{pid}-abcd1234"
    stale.mkdir()
    (stale / "trials.parquet").write_text("half")
    (tmp_path / ".old.lock").write_text(f"{pid}\n")
    alive = tmp_path / f".busy.writing-{os.getpid()}-abcd1234"  # this process: kept
    alive.mkdir()
    write_folder(tmp_path / "new", write_two)
    assert hidden(tmp_path) == [alive.name]
    assert remove_stale(tmp_path) == []


@posix_only
def test_a_writer_killed_while_writing_leaves_nothing_after_the_next_write(
    tmp_path: Path,
) -> None:
    """kill -9 in the middle of writing: the next write beside it cleans what was left."""
    out = tmp_path / "out"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nfrom escalation.engine.folders import write_folder\n"
            "def slow(folder):\n"
            "    (folder / 'trials.parquet').write_text('part')\n"
            "    print('writing', flush=True)\n"
            "    time.sleep(60)\n"
            f"write_folder({str(out)!r}, slow)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    left = hidden(tmp_path)
    assert any(".writing-" in name for name in left) and ".out.lock" in left
    assert not out.exists()  # nothing that looks complete
    write_folder(tmp_path / "other", write_two)
    assert hidden(tmp_path) == []
    write_folder(out, write_two)  # and the killed writer's folder can be written
    assert (out / "a.txt").exists()


# --- names and links ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [300, 255 - SUFFIX_ROOM + 1])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_name_too_long_is_one_message(tmp_path: Path, length: int, command: str) -> None:
    """Names over the file system's limit (255 bytes), or too long for the names written
    beside them, are refused before anything runs: exit 1, no traceback, nothing written."""
    out = tmp_path / ("x" * length)
    source = DEC2021 if command == "run" else ROOT / "experiments" / "concessions.yaml"
    result = invoke(command, source, "--trials", "50", "--out", out, "--quiet")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert f"is {length} bytes long" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_longest_name_allowed_works(tmp_path: Path) -> None:
    out = tmp_path / ("y" * (255 - SUFFIX_ROOM))
    write_folder(out, write_two)
    assert (out / "a.txt").exists()
    assert hidden(tmp_path) == []


def test_a_link_to_an_empty_folder_is_written_through(tmp_path: Path) -> None:
    """--out a symbolic link to an empty folder: the results go into the folder it names."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    result = invoke("run", BASE, "--trials", "20", "--out", link, "--quiet")
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and (real / "run.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
    assert target(link) == Path(os.path.realpath(real))


def test_a_sweep_through_a_link_resumes_through_it(tmp_path: Path) -> None:
    """A sweep into a linked folder keeps its points beside the real folder and resumes.

    (Before, a link to an empty folder failed with "cannot write results to ...: None" and
    left its `.partial` folder behind, and --resume failed the same way.)
    """
    from escalation.sweeps.experiment import load_experiment
    from escalation.sweeps.runner import run_sweep

    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    loaded = load_experiment(ROOT / "experiments" / "concessions.yaml", trials=40)

    def interrupt_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(loaded, out=link, on_point=interrupt_after_two)
    assert len(list((tmp_path / "real.partial" / "points").glob("*.parquet"))) == 2
    resumed = run_sweep(loaded, out=link, resume=True)
    assert resumed.info["resumed_points"] == 2
    assert (real / "points.parquet").exists() and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


def test_a_folder_that_cannot_be_written_names_it(tmp_path: Path) -> None:
    """--out inside a folder no one can create files in: the message names that folder."""
    if not Path("/proc/self").is_dir():
        pytest.skip("needs /proc")
    result = invoke("run", BASE, "--trials", "20", "--out", "/proc/self/foo", "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write results in /proc/self"), result.stderr
    assert "cannot create" not in result.stderr


def test_a_file_in_the_way_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("mine")
    result = invoke("run", BASE, "--trials", "20", "--out", out, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {out} already exists and is a file, not a folder")
    assert out.read_text() == "mine"


def test_claim_is_released_after_an_interrupt(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def interrupted(folder: Path) -> None:
        (folder / "a.txt").write_text("a")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_folder(out, interrupted)
    assert list(tmp_path.iterdir()) == []
    write_folder(out, write_two)  # the claim is free again
    assert (out / "a.txt").exists()
