"""Where points are evaluated: this process, a local process pool, or a Dask cluster.

Every executor takes an evaluator (a picklable callable from a point to a mapping of numbers)
and a list of ``(index, point)`` tasks, and yields ``(index, numbers)`` as points finish, in
whatever order they finish. Each point is evaluated whole in one process with its own fixed
seed, so the numbers never depend on the executor, the number of workers or the order.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from escalation.engine.workers import interrupts_deferred, pool_context, worker_init

Evaluator = Callable[[Mapping[str, Any]], Mapping[str, float]]
Task = tuple[int, Mapping[str, Any]]


class ExecutorError(RuntimeError):
    """Points could not be evaluated: a worker died, or the cluster could not be reached."""


class SerialExecutor:
    """Evaluate points one after another in this process."""

    description = "this process"

    def run(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[tuple[int, dict]]:
        """Yield ``(index, numbers)`` for every task, in order."""
        for index, point in tasks:
            yield index, dict(evaluate(point))


_EVALUATE: Evaluator | None = None


def _init_worker(evaluate: Evaluator, parent: int) -> None:
    """Keep the evaluator in the worker; leave Ctrl-C to the parent, which stops the pool, and
    exit if the parent dies (:func:`~escalation.engine.workers.worker_init`)."""
    global _EVALUATE
    _EVALUATE = evaluate
    worker_init(parent)


def _evaluate_in_worker(point: Mapping[str, Any]) -> dict:
    assert _EVALUATE is not None
    return dict(_EVALUATE(point))


class ProcessExecutor:
    """Evaluate points in a pool of ``workers`` local processes, each point in one process.

    Args:
        workers: processes in the pool.
        context: the multiprocessing context that starts them (default: the engine's fork
            server, :func:`~escalation.engine.workers.pool_context`).
    """

    def __init__(self, workers: int, context=None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.context = context
        self.description = f"{workers} local processes"

    def run(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[tuple[int, dict]]:
        """Yield ``(index, numbers)`` as points finish."""
        if not tasks:
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=self.context or pool_context(),
            initializer=_init_worker,
            initargs=(evaluate, os.getpid()),
        )
        pending = {}
        try:
            with interrupts_deferred():  # a worker cut off while starting prints a traceback
                for index, point in tasks:
                    pending[pool.submit(_evaluate_in_worker, point)] = index
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                failed = None
                # Hand over every point that finished before reporting one that failed, so
                # that a dying worker costs only the points in flight.
                for future in sorted(done, key=pending.__getitem__):
                    index = pending.pop(future)
                    if future.exception() is None:
                        yield index, future.result()
                    elif failed is None:
                        failed = (index, future.exception())
                if failed is not None:
                    _raise_failed(*failed)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Evaluate points on a Dask cluster: an existing scheduler, or a new local cluster.

    Args:
        address: ``tcp://host:port`` of a running scheduler, or None for a LocalCluster.
        workers: worker processes of a LocalCluster (one thread each).
        processes: whether a LocalCluster uses processes (False: threads in this process,
            quick to start, for tests).
    """

    def __init__(
        self, address: str | None = None, workers: int = 1, processes: bool = True
    ) -> None:
        self.address = address
        self.workers = workers
        self.processes = processes
        self.description = (
            f"Dask scheduler {address}"
            if address
            else f"Dask LocalCluster ({workers} {'processes' if processes else 'threads'})"
        )

    def _client(self):
        require_dask()
        from dask.distributed import Client, LocalCluster

        if self.address:
            try:
                return Client(self.address, timeout="10s"), None
            except (OSError, ValueError, TimeoutError) as error:
                raise ExecutorError(
                    f"cannot reach the Dask scheduler at {self.address}: {error}"
                ) from None
        cluster = LocalCluster(
            n_workers=self.workers,
            threads_per_worker=1,
            processes=self.processes,
            dashboard_address=None,
        )
        return Client(cluster), cluster

    def run(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[tuple[int, dict]]:
        """Yield ``(index, numbers)`` as points finish on the cluster."""
        if not tasks:
            return
        from dask.distributed import as_completed

        client, cluster = self._client()
        futures = {}
        try:
            tag = uuid.uuid4().hex[:8]
            for index, point in tasks:
                future = client.submit(
                    _evaluate_with, evaluate, dict(point), key=f"escalation-point-{tag}-{index}"
                )
                futures[future] = index
            failed = None
            for future in as_completed(futures):
                index = futures[future]
                try:
                    numbers = future.result()
                except Exception as error:  # KilledWorker, or the evaluator's own
                    # Keep collecting the points that do finish; report the failure after.
                    failed = failed or (index, error)
                    continue
                yield index, dict(numbers)
            if failed is not None:
                _raise_failed(*failed)
        finally:
            for future in futures:
                future.cancel()
            client.close()
            if cluster is not None:
                cluster.close()


def _raise_failed(index: int, error: BaseException) -> None:
    """Report the first point that failed, after the finished ones were handed over."""
    raise ExecutorError(f"point {index} failed: {type(error).__name__}: {error}") from error


def _evaluate_with(evaluate: Evaluator, point: Mapping[str, Any]) -> dict:
    return dict(evaluate(point))


#: Address schemes of a Dask scheduler on another process or machine.
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
#: The port a Dask scheduler listens on unless told otherwise.
DEFAULT_SCHEDULER_PORT = 8786


def require_dask() -> None:
    """Raise :class:`ValueError` saying how to install Dask if it is missing."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise ValueError(
            "needs Dask, which is not installed: pip install 'escalation[dask]' "
            "(or run without --scheduler)"
        ) from None


def scheduler_address(text: str) -> str:
    """A Dask scheduler's address, checked: ``tcp://host:port`` and the like.

    Raises :class:`ValueError` saying what a valid address looks like.
    """
    from urllib.parse import urlsplit

    example = "an address such as tcp://host:8786, or 'local'"
    if "://" not in text:
        raise ValueError(f"takes 'local' or an address such as tcp://host:8786; got {text!r}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{text!r} is not {example}: {error}") from None
    scheme = parts.scheme.lower()
    if scheme == "inproc":
        raise ValueError(
            f"{text!r} names a scheduler inside one process, which a command cannot reach; "
            f"give {example}"
        )
    if scheme not in SCHEDULER_SCHEMES:
        raise ValueError(
            f"unknown address scheme '{parts.scheme}' in {text!r}; use "
            f"{', '.join(s + '://' for s in SCHEDULER_SCHEMES)} ({example})"
        )
    if not parts.hostname:
        raise ValueError(f"{text!r} names no host; give {example}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{text!r} has more than a host and a port; give {example}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}:{port or DEFAULT_SCHEDULER_PORT}"


def make_executor(workers: int = 1, scheduler: str | None = None):
    """The executor for ``--workers`` and ``--scheduler``.

    ``scheduler`` is None (local: this process for one worker, else a process pool),
    ``"local"`` (a new Dask LocalCluster of ``workers`` processes) or a scheduler address
    such as ``tcp://host:8786``. Raises :class:`ValueError` for a malformed address or when
    Dask, an optional dependency (``pip install 'escalation[dask]'``), is missing.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if scheduler is None or scheduler == "":
        return SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    if scheduler == "local":
        require_dask()
        return DaskExecutor(None, workers, processes=True)
    address = scheduler_address(scheduler)
    require_dask()
    return DaskExecutor(address, workers)
