"""Worker processes that never outlive the command and never print a traceback on Ctrl-C.

Every local pool (blocks of a run, points of a sweep) starts its workers from one fork server
(:func:`pool_context`) and initialises each with :func:`worker_init`:

- **Ctrl-C belongs to the command.** A terminal sends Ctrl-C to every process of the
  foreground group: the command, the fork server and the workers. The fork server starts
  with SIGINT blocked and imports this module first, which makes it ignore SIGINT and every
  worker it forks with it; the command holds Ctrl-C back while it hands the workers their
  tasks (:func:`interrupts_deferred`). The command alone turns Ctrl-C into a clean exit and
  stops the pool.
- **Workers die with the command.** A command killed with SIGKILL cannot stop its pool;
  each worker runs a watchdog thread that ends the worker (``os._exit``) once the command's
  process is gone or the worker has been handed to another parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

#: Modules the fork server imports once, before forking any worker: this one first.
PRELOAD = ("escalation.engine.workers", "escalation.engine.blocks")
#: Seconds between two looks of a worker's watchdog at its parent.
WATCH_INTERVAL = 0.5


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return False
    try:  # Linux: a killed process stays a zombie until its parent reaps it
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[-1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _in_fork_server() -> bool:
    """Whether this import runs inside ``multiprocessing.forkserver.main`` (its preload)."""
    frame = sys._getframe(1)
    while frame is not None:
        if (
            frame.f_code.co_name == "main"
            and frame.f_globals.get("__name__") == "multiprocessing.forkserver"
        ):
            return True
        frame = frame.f_back
    return False


if _in_fork_server():
    # The fork server saves the SIGINT handler it finds after its preload and restores it in
    # every worker it forks: ignoring here makes every worker ignore Ctrl-C from its birth.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while a pool starts its workers; deliver them after.

    A worker whose parent stops while handing it its task dies with a traceback of its own
    (the hand-over is cut short), so the parent finishes starting its pool first. Outside the
    main thread (where no signal handler runs) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: caught.append(signum))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            signal.raise_signal(caught[0])  # now handled as the command handles it


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread: a process started meanwhile inherits the blocked mask."""
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


def pool_context() -> multiprocessing.context.BaseContext:
    """Start workers from a fork server that has imported the engine once.

    Importing Mesa sets the spawn start method, which re-imports numpy, pandas and Mesa in every
    worker; a fork server pays that once, and unlike a plain fork it does not copy a parent
    that may be running threads (a progress bar, a Dask client). The server is started here
    with SIGINT blocked, a mask it keeps for good (and hands to every worker), so that a Ctrl-C
    during its start-up reaches only the command; one pressed meanwhile reaches the command
    when the server has started.
    """
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    from multiprocessing import forkserver, resource_tracker

    # The resource tracker unblocks SIGINT after starting itself: start it first.
    resource_tracker.ensure_running()
    with interrupts_deferred(), _sigint_blocked():
        forkserver.ensure_running()
    return context


def worker_init(parent: int) -> None:
    """Initialise a pool worker: ignore Ctrl-C, let the command answer a SIGTERM sent to the
    whole group first, and exit when process ``parent`` is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_later)
    start_watchdog(parent)


#: Seconds a worker gives its command to stop the pool after a SIGTERM before it exits alone.
TERM_GRACE = 5.0


def _terminate_later(signum: int, frame: object) -> None:
    """SIGTERM in a worker: exit after :data:`TERM_GRACE` unless the pool stops it first.

    A SIGTERM sent to the whole process group reaches the command too, which stops its pool in
    order (a worker dying at once would break the pool and make it print a traceback); the
    pool's own ``terminate()`` of a worker still ends it, a little later.
    """
    timer = threading.Timer(TERM_GRACE, os._exit, args=(128 + signum,))
    timer.daemon = True
    timer.start()


def start_watchdog(parent: int, interval: float = WATCH_INTERVAL) -> threading.Thread:
    """A daemon thread that ends this process once ``parent`` has died.

    It looks every ``interval`` seconds: when this process has been handed to another parent
    (its parent, or the fork server between them, died) or ``parent`` no longer runs, it
    calls ``os._exit`` (no clean-up runs: there is no one left to hand results to).
    """
    first = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != first or not pid_alive(parent):
                os._exit(1)

    thread = threading.Thread(target=watch, name="escalation-watchdog", daemon=True)
    thread.start()
    return thread
