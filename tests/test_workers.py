"""Tests for escalation.engine.workers: pools that die with the command and stay quiet on Ctrl-C.

The process tests start the real command in a session of its own, so that every process it
starts (fork server, workers, resource tracker) can be found by its session id afterwards, and a
terminal's Ctrl-C can be imitated by signalling the whole process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from escalation.engine.workers import pid_alive

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"
EXPERIMENT = ROOT / "experiments" / "sanctions_credibility.yaml"

linux_only = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds processes through /proc (Linux)"
)


def session_members(session: int) -> list[int]:
    """Processes of session ``session`` (Linux), zombies left out."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_bytes().rsplit(b")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] not in (b"Z", b"X"):
            found.append(int(entry.name))
    return found


def start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    """The command in a new session (its pid is the session and the process group)."""
    return subprocess.Popen(
        [sys.executable, "-m", "escalation", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )


def wait_for(condition, timeout: float) -> bool:
    """Poll ``condition`` every 0.1 s until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    assert not pid_alive(int(done.stdout))  # finished and reaped
    assert not pid_alive(0) and not pid_alive(-5)


def test_watchdog_ends_a_process_whose_parent_died(tmp_path: Path) -> None:
    """A process watching a parent that is killed ends itself within a few intervals."""
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from escalation.engine.workers import start_watchdog; "
            f"start_watchdog({parent.pid}, interval=0.1); time.sleep(60); sys.exit(0)",
        ]
    )
    try:
        time.sleep(1.0)
        assert child.poll() is None  # the parent lives: the child keeps running
        parent.kill()
        parent.wait()
        assert child.wait(timeout=20) == 1  # os._exit(1) from the watchdog
    finally:
        for process in (parent, child):
            if process.poll() is None:
                process.kill()
                process.wait()


@linux_only
@pytest.mark.parametrize(
    "args",
    [
        ["run", str(DEC2021), "--trials", "3000000", "--workers", "2", "--quiet"],
        ["sweep", str(EXPERIMENT), "--trials", "400000", "--workers", "2", "--quiet"],
    ],
    ids=["run", "sweep"],
)
def test_workers_exit_when_the_command_is_killed(args: list[str], tmp_path: Path) -> None:
    """kill -9 of the command leaves no worker, fork server or tracker behind."""
    process = start([*args, "--out", str(tmp_path / "out")], tmp_path)
    try:
        # The command, its fork server and two workers: the pool is up.
        assert wait_for(lambda: len(session_members(process.pid)) >= 4, 120), process.pid
        time.sleep(0.5)
        process.kill()
        process.wait()
        left = session_members(process.pid)
        assert left, "the test must see the pool's processes before they end"
        assert wait_for(lambda: not session_members(process.pid), 30), session_members(process.pid)
    finally:
        if process.poll() is None:
            process.kill()
        for pid in session_members(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.communicate()


def catches_sigterm(pid: int) -> bool:
    """Whether process ``pid`` has a handler for SIGTERM (the console script's first act)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(status.split("SigCgt:")[1].split()[0], 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@linux_only
@pytest.mark.parametrize(
    ("command", "delay", "sig"),
    [
        *(("run", delay, signal.SIGINT) for delay in (0.0, 1.0, 3.0)),
        ("sweep", 2.0, signal.SIGINT),
        ("run", 2.0, signal.SIGTERM),
        *(
            pytest.param(command, delay, signal.SIGINT, marks=pytest.mark.slow)
            for command, delay in (("run", 0.4), ("run", 2.0), ("sweep", 1.0), ("sweep", 3.0))
        ),
    ],
)
def test_ctrl_c_in_the_first_seconds_of_a_pool_prints_no_traceback(
    command: str, delay: float, sig: signal.Signals, tmp_path: Path
) -> None:
    """Ctrl-C reaches every process of the terminal's group: one clean line, exit 130.

    So does a SIGTERM sent to the whole group.

    The delay counts from the moment the console script has taken over the signals (before
    that, an interrupt hits the interpreter's own start-up, which no package can hold).
    """
    out = tmp_path / "out"
    if command == "run":
        args = ["run", str(DEC2021), "--trials", "2000000", "--workers", "2", "--quiet"]
    else:
        args = ["sweep", str(EXPERIMENT), "--trials", "300000", "--workers", "2", "--quiet"]
    process = start([*args, "--out", str(out)], tmp_path)
    assert wait_for(lambda: catches_sigterm(process.pid), 60)
    time.sleep(delay)
    os.killpg(process.pid, sig)  # what a terminal does on Ctrl-C (a service manager: SIGTERM)
    try:
        stdout, stderr = process.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # faulthandler prints where every thread is
        _, stderr = process.communicate()
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"no exit 90 s after Ctrl-C at {delay} s:\n{stderr[-8000:]}")
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr + stdout, stderr
    assert stderr.startswith("interrupted")
    if command == "run":  # one line; nothing left
        assert [line for line in stderr.splitlines() if line.strip()] == [stderr.strip()]
        assert list(tmp_path.iterdir()) == []
    assert not out.exists()
    assert wait_for(lambda: not session_members(process.pid), 30)
