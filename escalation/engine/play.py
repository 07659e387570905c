"""Playing one scenario's trials into a :class:`~escalation.engine.results.RunResult`.

The engine's entry point below the Python API: :func:`play` loads (if needed), applies
overrides, plays the blocks and assembles the result with the record ``run.json`` keeps.
:mod:`escalation.api`, comparisons and sweeps all call it, so none of them imports another.

Two ways to play a run:

- **in memory** (:func:`play`): every trial's record joins one table, from which every summary
  is computed. Ordinary runs, comparisons and sweeps play this way.
- **streamed** (:func:`play_streamed`): each block's result is folded into exact counts and a
  sample (:mod:`escalation.engine.accumulate`), written to disk if the trials are kept
  (:mod:`escalation.engine.dataset`), and dropped; memory stays flat in the number of trials.
  The summaries are those of the table to the last bit.

:func:`play_into` plays a run into a results folder, as ``escalation run`` does: streamed when
the trials are not kept (``--no-trials``), when the blocks are played on a Dask cluster
(``--scheduler``: a cluster is for runs larger than one machine, and its client should not
hold them; the trials reach the folder as a dataset). A run whose table would not fit in memory
is refused before it starts, with a message that suggests ``--no-trials``: the form of the
results never depends on the machine. In every case the blocks and their seeds are those of
``--workers 1``, so the numbers are the same.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import platform
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from escalation.engine.accumulate import SAMPLE_TRIALS, Accumulator, sample_blocks
from escalation.engine.blocks import BLOCK_SIZE, BlockSpec, block_specs, play_block, play_blocks
from escalation.engine.dataset import TRIALS_DATASET, TrialsDataset, check_room
from escalation.engine.executors import ExecutorError, TaskPool, make_executor, stream
from escalation.engine.folders import OutputError, write_folder
from escalation.engine.memory import MAX_WINDOW, check_memory, stream_window
from escalation.engine.results import RunResult, assemble
from escalation.model.plan import Plan
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.load import load_scenario, locate, scenario_hash
from escalation.scenario.schema import MAX_HORIZON, MAX_TRIALS, Scenario
from escalation.scenario.yamlio import InputError

#: Packages whose versions a run records, so that a result can be reproduced.
RECORDED_PACKAGES = (
    "escalation",
    "mesa",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "plotly",
    "pydantic",
)


def as_scenario(source: str | Path | Scenario) -> Scenario:
    """A scenario from a path or an already loaded scenario."""
    return source if isinstance(source, Scenario) else load_scenario(source)


def with_overrides(
    scenario: Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
) -> Scenario:
    """The scenario with its default trials, seed or horizon replaced, re-validated."""
    changes = {
        key: value
        for key, value in (("trials", trials), ("seed", seed), ("horizon", horizon))
        if value is not None
    }
    if not changes:
        return scenario
    if "trials" in changes and not 1 <= changes["trials"] <= MAX_TRIALS:
        raise ValueError(f"trials must be between 1 and {MAX_TRIALS:,}")
    if "horizon" in changes and not 1 <= changes["horizon"] <= MAX_HORIZON:
        raise ValueError(f"horizon must be between 1 and {MAX_HORIZON} days")
    if "seed" in changes and not 0 <= changes["seed"] < 2**63:
        raise ValueError("seed must be between 0 and 2**63 - 1")
    return Scenario.model_validate({**scenario.model_dump(), **changes}).from_file(
        scenario.source_file
    )


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a result depends on."""
    found = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def executor_for(scenario: Scenario, workers: int = 1, scheduler: str | None = None):
    """The executor that plays blocks for ``--workers`` and ``--scheduler``.

    Raises :class:`~escalation.scenario.yamlio.InputError` at ``--scheduler`` for a malformed
    address, or when Dask, an optional dependency, is missing (the messages of
    :func:`~escalation.engine.executors.make_executor`).
    """
    try:
        return make_executor(workers, scheduler)
    except ValueError as error:
        where = str(scenario.source_file or scenario.name)
        raise InputError(where, None, "--scheduler", str(error)) from None


def played_blocks(
    pool: TaskPool,
    scenario: Scenario,
    specs: list[BlockSpec],
    window: int,
    backlog: Callable[[], int] = lambda: 0,
) -> Iterator[tuple[BlockSpec, object]]:
    """Each block of ``specs`` played in ``pool``, as ``(spec, result)`` in the order they
    finish, with at most ``window`` in flight or held (see
    :func:`~escalation.engine.executors.stream`)."""
    shared = pool.share(scenario)  # sent once to each worker of a cluster
    tasks = ((spec, (shared, spec)) for spec in specs)
    yield from stream(pool, play_block, tasks, window, backlog)


def _specs(scenario: Scenario, block_size: int | None) -> list[BlockSpec]:
    """The run's blocks: of :data:`~escalation.engine.blocks.BLOCK_SIZE` trials unless a test
    says otherwise."""
    if block_size is None:
        return block_specs(scenario.trials, scenario.seed)
    return block_specs(scenario.trials, scenario.seed, block_size)


def _record(
    scenario: Scenario,
    source: str | Path | Scenario,
    specs: list[BlockSpec],
    workers: int,
    scheduler: str | None,
    times: tuple[float, float, float, float],
    block_size: int = BLOCK_SIZE,
) -> dict:
    """What ``run.json`` keeps of a run: what was played, where, with what, how fast."""
    started, played, assembled, finished = times
    return {
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "source": str(source) if not isinstance(source, Scenario) else None,
        "seed": scenario.seed,
        "trials": scenario.trials,
        "horizon": scenario.horizon,
        "block_size": block_size,
        "blocks": len(specs),
        "workers": workers,
        "scheduler": scheduler,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "timings_seconds": {
            "prepare": round(played - started, 4),
            "play": round(assembled - played, 4),
            "assemble": round(finished - assembled, 4),
        },
        "trial_days_per_second": round(
            scenario.trials * scenario.horizon / max(assembled - played, 1e-9)
        ),
    }


def play(
    source: str | Path | Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_block: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    keep_trials: bool = True,
    block_size: int | None = None,
) -> RunResult:
    """Play a scenario's Monte Carlo trials and return the result (see :func:`escalation.run`).

    The trials are kept as a table in memory; with ``keep_trials=False`` the run is streamed
    (:func:`play_streamed`) and keeps none. ``scheduler`` plays the blocks on a Dask cluster.
    ``block_size`` other than the default is for tests (it changes the numbers).
    Raises :class:`~escalation.engine.memory.MemoryShortage` if the table would not fit.
    """
    started = time.perf_counter()
    scenario = with_overrides(as_scenario(source), trials, seed, horizon)
    if not keep_trials:
        result = play_streamed(scenario, workers, scheduler, on_block, block_size=block_size)
        result.info["source"] = str(source) if not isinstance(source, Scenario) else None
        return result
    executor = executor_for(scenario, workers, scheduler)
    check_memory(scenario)  # before the trials' columns are allocated
    plan = Plan.from_scenario(scenario)
    specs = _specs(scenario, block_size)
    done = 0

    def progress(spec) -> None:
        nonlocal done
        done += spec.size
        if on_block is not None:
            on_block(done, scenario.trials)

    played = time.perf_counter()
    try:
        if scheduler is None:
            blocks = play_blocks(scenario, specs, workers=workers, on_block=progress)
        else:
            with executor.pool() as pool:
                found = played_blocks(pool, scenario, specs, stream_window(pool.slots))
                blocks = play_blocks(scenario, specs, on_block=progress, played=found)
    except ScenarioValueError as error:
        raise locate(error, scenario.source_file) from None
    except ExecutorError as error:
        raise OutputError(f"the trials could not be played: {error}") from None
    assembled = time.perf_counter()
    trials_df, timeline = assemble(plan, blocks)
    finished = time.perf_counter()
    times = (started, played, assembled, finished)
    info = _record(scenario, source, specs, workers, scheduler, times, block_size or BLOCK_SIZE)
    return RunResult(
        scenario=scenario,
        trials=trials_df,
        timeline=timeline,
        parameters=plan.parameter_columns(),
        info=info,
    )


def play_streamed(
    source: str | Path | Scenario,
    workers: int = 1,
    scheduler: str | None = None,
    on_block: Callable[[int, int], None] | None = None,
    trials_folder: Path | None = None,
    block_size: int | None = None,
    sample_trials: int = SAMPLE_TRIALS,
) -> RunResult:
    """Play a scenario's trials block by block, keeping counts and a sample, not a table.

    Each block's result is folded into an :class:`~escalation.engine.accumulate.Accumulator`,
    written to ``trials_folder`` (a parquet dataset, one file per block) if given, and
    dropped: memory holds the sample (the first blocks that hold ``sample_trials`` trials) and
    at most a window of blocks in flight, whatever the number of trials. The blocks and their
    seeds are those of :func:`play`, and the counts are integer sums (their order does not
    matter), so the summaries equal those of the table whatever ``workers`` and ``scheduler``
    are. ``block_size`` and ``sample_trials`` other than the defaults are for tests
    (``block_size`` changes the numbers, as it does for :func:`play`).
    """
    started = time.perf_counter()
    scenario = as_scenario(source)
    executor = executor_for(scenario, workers, scheduler)
    # A cluster's size is known only once connected: check for the largest window.
    check_memory(scenario, window=MAX_WINDOW if scheduler else stream_window(workers))
    plan = Plan.from_scenario(scenario)
    specs = _specs(scenario, block_size)
    size = specs[0].size if specs else BLOCK_SIZE
    accumulator = Accumulator(plan, len(specs), sample_blocks(size, sample_trials))
    writer = None if trials_folder is None else TrialsDataset(trials_folder, plan)
    done = 0
    played = time.perf_counter()
    try:
        with executor.pool() as pool:
            window = stream_window(pool.slots)
            for spec, block in played_blocks(
                pool, scenario, specs, window, backlog=lambda: accumulator.held
            ):
                if writer is not None:
                    writer.write(spec.index, spec.start, block)
                accumulator.fold(spec, block)
                del block  # only the accumulator keeps what it needs of it
                done += spec.size
                if on_block is not None:
                    on_block(done, scenario.trials)
    except ScenarioValueError as error:
        raise locate(error, scenario.source_file) from None
    except ExecutorError as error:
        raise OutputError(f"the trials could not be played: {error}") from None
    assembled = time.perf_counter()
    streamed = accumulator.finish()
    timeline = streamed.counts.timeline(plan)
    finished = time.perf_counter()
    info = _record(
        scenario,
        source,
        specs,
        workers,
        scheduler,
        (started, played, assembled, finished),
        block_size or BLOCK_SIZE,
    )
    info["streamed"] = {
        "sample_trials": streamed.sample_trials,
        "sample_blocks": streamed.sample_blocks,
        "window": window,
        "most_blocks_held": accumulator.most_held,
    }
    return RunResult(
        scenario=scenario,
        trials=None,
        timeline=timeline,
        parameters=plan.parameter_columns(),
        info=info,
        streamed=streamed,
    )


def play_into(
    out: str | Path,
    source: str | Path | Scenario,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_block: Callable[[int, int], None] | None = None,
    scheduler: str | None = None,
    keep_trials: bool = True,
    info: dict | None = None,
    overwrite: bool = False,
    plotly_js: str = "inline",
) -> tuple[RunResult, Path]:
    """Play a run into results folder ``out``, atomically; return the result and the folder.

    In memory, then written (``trials.parquet``), unless the trials are not kept or a
    ``scheduler`` plays the blocks: then streamed, the trials (if kept) written block by block
    as a dataset inside the folder being written, which appears only once complete. Raises
    :class:`~escalation.engine.memory.MemoryShortage` before anything is played if the run
    would not fit in memory. ``info`` entries are added to ``run.json``.
    """
    scenario = with_overrides(as_scenario(source), trials, seed, horizon)
    executor_for(scenario, workers, scheduler)  # a bad address fails before anything else
    streamed = scheduler is not None or not keep_trials
    if not streamed:
        check_memory(scenario, streamable=True)  # the message suggests --no-trials
        result = play(scenario, workers=workers, on_block=on_block)
        result.info.update(info or {})
        return result, result.write(out, overwrite=overwrite, plotly_js=plotly_js)
    made: list[RunResult] = []

    def files(folder: Path) -> None:
        dataset = folder / TRIALS_DATASET if keep_trials else None
        if dataset is not None:
            check_room(scenario, folder)
        result = play_streamed(scenario, workers, scheduler, on_block, trials_folder=dataset)
        result.info.update(info or {})
        result._write_files(folder, plotly_js)
        made.append(result)

    written = write_folder(out, files, overwrite=overwrite)
    return made[0], written
