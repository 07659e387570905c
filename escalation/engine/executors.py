"""Where points are evaluated: this process, a local process pool, or a Dask cluster.

Every executor takes an evaluator (a picklable callable from a point to a mapping of numbers)
and a list of ``(index, point)`` tasks, and yields ``(index, numbers)`` as points finish, in
whatever order they finish. Each point is evaluated whole in one process with its own fixed
seed, so the numbers never depend on the executor, the number of workers or the order.

Every executor also opens a :class:`TaskPool` (:meth:`SerialExecutor.pool` and the others):
tasks submitted one by one, for a caller that keeps only a few in flight at once
(:func:`stream`). A run's blocks are played that way, so that a run of any size holds a bounded
number of block results, whether its blocks are played here, in local processes or on a Dask
cluster.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from escalation.engine.workers import interrupts_deferred, pool_context, worker_init

Evaluator = Callable[[Mapping[str, Any]], Mapping[str, float]]
Task = tuple[int, Mapping[str, Any]]


class ExecutorError(RuntimeError):
    """Points could not be evaluated: a worker died, or the cluster could not be reached."""


class TaskPool(Protocol):
    """Where tasks run, one submitted at a time (see :func:`stream`).

    ``slots`` is how many tasks run at once; ``share`` readies a large argument passed to
    many tasks (a Dask cluster stores it once on every worker); ``wait_any`` returns the
    futures among ``futures`` that have finished, waiting for one if none has; ``result``
    returns a finished task's result or raises its error, and :class:`ExecutorError` when the
    worker that ran it died or the cluster was lost.
    """

    slots: int

    def share(self, value: Any) -> Any: ...

    def submit(self, function: Callable[..., Any], *args: Any) -> Any: ...

    def wait_any(self, futures: Iterable[Any]) -> set[Any]: ...

    def result(self, future: Any) -> Any: ...

    def cancel(self, futures: Iterable[Any]) -> None: ...


class _Deferred:
    """A task of :class:`_SerialPool`: run in this process when its result is asked for, so
    that no more than one result exists before the caller has taken the previous one."""

    def __init__(self, function: Callable[..., Any], args: tuple) -> None:
        self.call = (function, args)

    def result(self) -> Any:
        function, args = self.call
        return function(*args)

    def cancel(self) -> bool:
        return True


class _SerialPool:
    """Tasks run in this process, one at a time, when their results are taken."""

    slots = 1
    #: Errors that say the pool failed, not the task.
    failures: tuple[type[BaseException], ...] = ()

    def share(self, value: Any) -> Any:
        return value

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        return _Deferred(function, args)

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        return set(futures)

    def result(self, future: Any) -> Any:
        try:
            return future.result()
        except self.failures as error:
            raise ExecutorError(f"a worker failed: {type(error).__name__}: {error}") from error

    def cancel(self, futures: Iterable[Any]) -> None:
        for future in futures:
            future.cancel()


class _LocalPool(_SerialPool):
    """Tasks in a pool of local worker processes (the engine's fork server)."""

    def __init__(self, pool: ProcessPoolExecutor, slots: int) -> None:
        from concurrent.futures.process import BrokenProcessPool

        self.pool = pool
        self.slots = slots
        self.failures = (BrokenProcessPool,)

    def submit(self, function: Callable[..., Any], *args: Any) -> Future:
        try:
            with interrupts_deferred():  # a worker cut off while starting prints a traceback
                return self.pool.submit(function, *args)
        except self.failures as error:
            raise ExecutorError(f"a worker failed: {type(error).__name__}: {error}") from error

    def wait_any(self, futures: Iterable[Future]) -> set[Future]:
        return set(wait(list(futures), return_when=FIRST_COMPLETED).done)


class _DaskPool(_SerialPool):
    """Tasks on a Dask cluster, each with a key of its own."""

    def __init__(self, client: Any) -> None:
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker

        self.client = client
        self.slots = max(1, sum(client.nthreads().values()))
        self.failures = (KilledWorker, CommClosedError)
        self._tag = uuid.uuid4().hex[:8]
        self._count = 0

    def share(self, value: Any) -> Any:
        return self.client.scatter(value, broadcast=True)

    def submit(self, function: Callable[..., Any], *args: Any) -> Any:
        self._count += 1
        key = f"escalation-task-{self._tag}-{self._count}"
        return self.client.submit(function, *args, key=key, pure=False)

    def wait_any(self, futures: Iterable[Any]) -> set[Any]:
        from dask.distributed import wait as dask_wait

        return set(dask_wait(list(futures), return_when="FIRST_COMPLETED").done)


def stream(
    pool: TaskPool,
    function: Callable[..., Any],
    tasks: Iterable[tuple[Any, tuple]],
    window: int,
    backlog: Callable[[], int] = lambda: 0,
) -> Iterator[tuple[Any, Any]]:
    """Run ``function(*args)`` for each ``(key, args)`` of ``tasks``; yield ``(key, result)``.

    Tasks are submitted in the order given, and only while fewer than ``window`` are in flight
    or waiting with the caller: ``backlog()`` says how many results the caller still holds
    unfinished. The results held at any time are therefore at most ``window`` whatever the
    number of tasks. Results come in the order tasks finish (in the order submitted among tasks
    that finish together). A task's error is raised here, and :class:`ExecutorError` when a
    worker or the cluster failed; tasks still in flight are then cancelled.
    """
    pending = iter(tasks)
    running: dict[Any, tuple[int, Any]] = {}
    submitted = 0
    exhausted = False
    try:
        while True:
            # Nothing in flight means nothing can free the backlog: submit one regardless.
            while not exhausted and (len(running) + backlog() < window or not running):
                try:
                    key, args = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                running[pool.submit(function, *args)] = (submitted, key)
                submitted += 1
            if not running:
                return
            for future in sorted(pool.wait_any(running), key=lambda f: running[f][0]):
                _, key = running.pop(future)
                yield key, pool.result(future)
    finally:
        pool.cancel(running)


class SerialExecutor:
    """Evaluate points one after another in this process."""

    description = "this process"

    def run(self, evaluate: Evaluator, tasks: Sequence[Task]) -> Iterator[tuple[int, dict]]:
        """Yield ``(index, numbers)`` for every task, in order."""
        for index, point in tasks:
            yield index, dict(evaluate(point))

    @contextlib.contextmanager
    def pool(self) -> Iterator[TaskPool]:
        """A :class:`TaskPool` that runs each task in this process when it is submitted."""
        yield _SerialPool()


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

    @contextlib.contextmanager
    def pool(self) -> Iterator[TaskPool]:
        """A :class:`TaskPool` of ``workers`` local processes that ignore Ctrl-C and end with
        this process (:func:`~escalation.engine.workers.worker_init`)."""
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=self.context or pool_context(),
            initializer=worker_init,
            initargs=(os.getpid(),),
        )
        try:
            yield _LocalPool(pool, self.workers)
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

    @contextlib.contextmanager
    def pool(self) -> Iterator[TaskPool]:
        """A :class:`TaskPool` on the cluster (the scheduler's, or a new LocalCluster).

        Raises :class:`ExecutorError` if the scheduler cannot be reached.
        """
        client, cluster = self._client()
        try:
            yield _DaskPool(client)
        finally:
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
