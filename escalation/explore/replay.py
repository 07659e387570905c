"""Replays of changed scenarios in a background thread: progress, supersession, paired numbers.

A page submits a :class:`~escalation.explore.document.Built` scenario and polls the
:class:`Job` it gets back. One worker thread plays jobs one at a time (one core); a newer job
from the same page cancels the older one at its next block (``on_block`` raises
:class:`Superseded`), so a user moving a slider only waits for the latest setting.

Every replay uses the scenario's seed, so trial ``i`` starts from the same random numbers in
the changed scenario and in the scenario as written (common random numbers): the difference
from the scenario as written is a mean over trials of per-trial differences, with a normal
interval from them (:func:`paired_differences`). The scenario as written is played once per
trials and horizon and kept.
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from escalation.analysis import z_value
from escalation.engine.memory import MemoryShortage
from escalation.engine.play import play
from escalation.engine.results import RunResult
from escalation.explore.document import Built, Explorer
from escalation.scenario.load import scenario_hash
from escalation.scenario.yamlio import InputError, LineMap

#: Replays kept for settings seen before (going back to a setting shows it at once).
KEEP_REPLAYS = 8
#: Jobs remembered for polling.
KEEP_JOBS = 64


class Superseded(Exception):
    """A newer change from the same page replaced this replay."""


def paired_differences(
    base: pd.DataFrame, changed: pd.DataFrame, outcomes: list[str], level: float = 0.95
) -> pd.DataFrame:
    """Each outcome's share in ``changed`` and its paired difference from ``base``.

    Trials are paired by trial number (both tables in trial order, same length). Columns:
    ``outcome, count, probability, lo, hi`` (Wilson, from ``changed``), ``base_count,
    base_probability``, ``difference`` (mean over trials of 1[changed is the outcome] minus
    1[base is the outcome]) and ``diff_lo, diff_hi`` (its normal interval at ``level``).
    """
    from escalation.analysis import outcome_summary

    if len(base) != len(changed):
        raise ValueError("paired tables must have the same trials")
    summary = outcome_summary(changed, outcomes, level)
    base_summary = outcome_summary(base, outcomes, level)
    a = base["outcome"].astype(str).to_numpy()
    b = changed["outcome"].astype(str).to_numpy()
    n = len(b)
    z = z_value(level)
    rows = []
    for outcome in outcomes:
        d = (b == outcome).astype(float) - (a == outcome).astype(float)
        mean = float(d.mean()) if n else 0.0
        half = z * float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else 1.0
        rows.append((mean, max(mean - half, -1.0), min(mean + half, 1.0)))
    table = summary.copy()
    table["base_count"] = base_summary["count"].to_numpy()
    table["base_probability"] = base_summary["probability"].to_numpy()
    table["difference"] = [r[0] for r in rows]
    table["diff_lo"] = [r[1] for r in rows]
    table["diff_hi"] = [r[2] for r in rows]
    return table


@dataclass
class Replay:
    """One finished replay: the run, the scenario as written, their paired table, the figures."""

    query: str
    result: RunResult
    baseline: RunResult
    table: pd.DataFrame
    figures: dict[str, Any]
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def trials(self) -> int:
        """Trials played."""
        return len(self.result.trials)


@dataclass
class Job:
    """One submitted replay, as a page polls it.

    ``state`` is ``queued``, ``running``, ``done``, ``failed`` or ``superseded``.
    """

    id: int
    session: str
    built: Built
    state: str = "queued"
    done: int = 0
    total: int = 0
    replay: Replay | None = None
    error: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        """Whether the job will not change any more."""
        return self.state in ("done", "failed", "superseded")

    @property
    def progress(self) -> float:
        """Share of the job's trials played, 0 to 1."""
        return self.done / self.total if self.total else (1.0 if self.finished else 0.0)


def _key(built: Built) -> tuple[str, int, int]:
    scenario = built.scenario
    assert scenario is not None
    return scenario_hash(scenario), scenario.trials, scenario.horizon


class Replayer:
    """Plays submitted jobs in one background thread; keeps baselines and recent replays."""

    def __init__(self, explorer: Explorer, level: float = 0.95) -> None:
        self.explorer = explorer
        self.level = level
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._jobs: OrderedDict[int, Job] = OrderedDict()
        self._queue: list[Job] = []
        self._baselines: OrderedDict[tuple[int, int], RunResult] = OrderedDict()
        self._replays: OrderedDict[tuple[str, int, int], Replay] = OrderedDict()
        self._latest: dict[str, Job] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, session: str, built: Built) -> Job:
        """Queue a replay of a valid built scenario; older jobs of ``session`` are superseded."""
        if not built.ok:
            raise ValueError("only a valid scenario can be replayed")
        with self._lock:
            for job in self._jobs.values():
                if job.session == session and not job.finished:
                    job.cancel.set()
                    if job.state == "queued":
                        job.state = "superseded"
            self._queue = [job for job in self._queue if job.state == "queued"]
            job = Job(next(self._ids), session, built)
            self._jobs[job.id] = job
            self._latest[session] = job
            while len(self._latest) > KEEP_JOBS:
                self._latest.pop(next(iter(self._latest)))
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
            cached = self._replays.get(_key(built))
            if cached is not None:
                self._replays.move_to_end(_key(built))
                job.replay, job.state = cached, "done"
                return job
            self._queue.append(job)
            self._start()
            self._lock.notify_all()
            return job

    def job(self, job_id: Any) -> Job | None:
        """The job with this id, if still remembered (any id the page sends is safe)."""
        if isinstance(job_id, bool) or not isinstance(job_id, int):
            return None
        with self._lock:
            return self._jobs.get(job_id)

    def wait(self, job: Job, timeout: float = 120.0) -> Job:
        """Block until ``job`` is finished (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not job.finished and time.monotonic() < deadline:
                self._lock.wait(0.05)
        return job

    def close(self) -> None:
        """Stop the worker thread after the job it is playing."""
        with self._lock:
            self._closed = True
            for job in self._queue:
                job.cancel.set()
            self._lock.notify_all()

    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="explore-replay", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._queue.pop(0)
                if job.state != "queued":
                    continue
                job.state = "running"
            try:
                replay = self._play(job)
            except Superseded:
                state, replay, error = "superseded", None, None
            except (InputError, MemoryShortage) as failure:
                state, replay, error = "failed", None, _located(failure, job.built.lines)
            except Exception as failure:  # a bug must not kill the worker: say it in the page
                state, replay, error = "failed", None, f"{type(failure).__name__}: {failure}"
            else:
                state, error = "done", None
            with self._lock:
                job.state, job.replay, job.error = state, replay, error
                if replay is not None:
                    key = _key(job.built)
                    self._replays[key] = replay
                    while len(self._replays) > KEEP_REPLAYS:
                        self._replays.popitem(last=False)
                self._lock.notify_all()

    def _needed(self, size: tuple[int, int], session: str) -> bool:
        """Whether the newest job of ``session`` plays with these trials and horizon."""
        with self._lock:
            latest = self._latest.get(session)
        scenario = latest.built.scenario if latest is not None else None
        return scenario is not None and (scenario.trials, scenario.horizon) == size

    def _play(self, job: Job) -> Replay:
        started = time.perf_counter()
        scenario = job.built.scenario
        assert scenario is not None
        trials, horizon = scenario.trials, scenario.horizon
        baseline = self._baselines.get((trials, horizon))
        job.total = trials if baseline is not None else 2 * trials
        offset = 0

        def tick(done: int, total: int) -> None:
            if job.cancel.is_set():
                raise Superseded
            job.done = offset + done

        def baseline_tick(done: int, total: int) -> None:
            # The scenario as written is finished even for a superseded job when the newer
            # one needs it too (the same trials and horizon): its work is not lost.
            if job.cancel.is_set() and not self._needed((trials, horizon), job.session):
                raise Superseded
            job.done = done

        if baseline is None:
            baseline = play(
                self.explorer.scenario, trials=trials, horizon=horizon, on_block=baseline_tick
            )
            with self._lock:
                self._baselines[(trials, horizon)] = baseline
                while len(self._baselines) > 4:
                    self._baselines.popitem(last=False)
            offset = trials
            if job.cancel.is_set():
                raise Superseded
        played = time.perf_counter()
        changed = bool(job.built.changes or job.built.added)
        result = play(scenario, on_block=tick) if changed else baseline
        if job.cancel.is_set():
            raise Superseded
        tabled = time.perf_counter()
        table = paired_differences(baseline.trials, result.trials, result.outcomes, self.level)
        drawn = time.perf_counter()
        figures = with_difference(result.figures(), table, result)
        job.done = job.total
        finished = time.perf_counter()
        return Replay(
            query=job.built.settings.to_query(),
            result=result,
            baseline=baseline,
            table=table,
            figures=figures,
            seconds=finished - started,
            timings={
                "baseline": played - started,
                "play": tabled - played,
                "table": drawn - tabled,
                "figures": finished - drawn,
            },
        )


#: How the page names the scenario as written and the changed one in the difference chart.
AS_WRITTEN, CHANGED = "as written", "these settings"


def with_difference(figures: dict[str, Any], table: pd.DataFrame, result: RunResult) -> dict:
    """The run's figures with the paired difference chart (the forest plot of ``compare``)
    after the outcome distribution."""
    from escalation.charts.style import outcome_colors
    from escalation.sweeps.compare import forest_figure

    rows = table.assign(scenario=CHANGED)[
        ["scenario", "outcome", "difference", "diff_lo", "diff_hi"]
    ]
    forest = forest_figure(
        rows,
        [AS_WRITTEN, CHANGED],
        outcome_colors(result.outcomes, result.violent),
        dict(result.labels.outcomes),
    )
    ordered: dict[str, Any] = {}
    for name, figure in figures.items():
        ordered[name] = figure
        if name == "outcomes":
            ordered["difference"] = forest
    ordered.setdefault("difference", forest)
    return ordered


def _located(error: Exception, lines: LineMap) -> str:
    """An error found while playing, with the exported text's line where it is known."""
    if isinstance(error, InputError) and error.line is None and error.field:
        loc = tuple(
            int(part) if part.isdigit() else part
            for part in re.split(r"[.\[\]]+", error.field)
            if part
        )
        line = lines.line(loc)
        if line:
            error = InputError(error.file, line, error.field, error.message)
    return str(error)


def outcome_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The paired table as plain rows for the page (numbers rounded only where shown)."""
    rows = []
    for row in table.itertuples():
        rows.append(
            {
                "outcome": str(row.outcome),
                "count": int(row.count),
                "probability": float(row.probability),
                "lo": float(row.lo),
                "hi": float(row.hi),
                "base_count": int(row.base_count),
                "difference": float(row.difference),
                "diff_lo": float(row.diff_lo),
                "diff_hi": float(row.diff_hi),
            }
        )
    return rows


__all__ = ["Job", "Replay", "Replayer", "Superseded", "outcome_rows", "paired_differences"]
