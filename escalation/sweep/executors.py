"""Where points are evaluated: this process, a local process pool, or a Dask cluster.

Every executor takes an evaluator (a picklable callable from a point to a mapping of numbers)
and a list of ``(index, point)`` tasks, and yields ``(index, numbers)`` as points finish, in
whatever order they finish. Each point is evaluated whole in one process with its own fixed
seed, so the numbers never depend on the executor, the number of workers or the order.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

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


def _init_worker(evaluate: Evaluator) -> None:
    """Keep the evaluator in the worker; leave Ctrl-C to the parent, which stops the pool."""
    global _EVALUATE
    _EVALUATE = evaluate
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate_in_worker(point: Mapping[str, Any]) -> dict:
    assert _EVALUATE is not None
    return dict(_EVALUATE(point))


class ProcessExecutor:
    """Evaluate points in a pool of ``workers`` local processes, each point in one process."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self.description = f"{workers} local processes"

    def run(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[tuple[int, dict]]:
        """Yield ``(index, numbers)`` as points finish."""
        if not tasks:
            return
        pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            initializer=_init_worker,
            initargs=(evaluate,),
        )
        pending = {pool.submit(_evaluate_in_worker, point): index for index, point in tasks}
        try:
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
        from dask.distributed import Client, LocalCluster

        if self.address:
            try:
                return Client(self.address, timeout="10s"), None
            except OSError as error:
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


def make_executor(workers: int = 1, scheduler: str | None = None):
    """The executor for ``--workers`` and ``--scheduler``.

    ``scheduler`` is None (local: this process for one worker, else a process pool),
    ``"local"`` (a new Dask LocalCluster of ``workers`` processes) or a scheduler address
    such as ``tcp://host:8786``.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    if scheduler is None or scheduler == "":
        return SerialExecutor() if workers == 1 else ProcessExecutor(workers)
    if scheduler == "local":
        return DaskExecutor(None, workers, processes=True)
    if "://" not in scheduler:
        raise ValueError(
            f"takes 'local' or a scheduler address such as tcp://host:8786; got {scheduler!r}"
        )
    return DaskExecutor(scheduler, workers)
