"""Many trials: fixed-size blocks, one random stream per block, any number of workers.

Trials are cut into blocks of :data:`BLOCK_SIZE`. Block ``i`` is always played with the stream
``SeedSequence(seed).spawn(...)[i]``, whichever process plays it, and block results are put
back in block order, so the same seed gives the same numbers for any ``workers``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from escalation.engine.workers import interrupts_deferred, pool_context, worker_init
from escalation.model.crisis import CrisisModel
from escalation.model.plan import Plan
from escalation.model.records import BlockResult
from escalation.scenario.load import scenario_hash
from escalation.scenario.schema import Scenario

#: Trials per block. Fixed, so results never depend on how work is split among workers.
#: 32,768 rather than 8,192: the per-day Python overhead of a step is shared by four times the
#: trials (dec2021 2.3 -> 3.0 M trial-days/s on one core) for about 70 MB more per worker.
BLOCK_SIZE = 32768


@dataclass(frozen=True)
class BlockSpec:
    """One block: its position, its first trial, its size, and its stream's seed."""

    index: int
    start: int
    size: int
    seed: int


def block_specs(trials: int, seed: int, block_size: int = BLOCK_SIZE) -> list[BlockSpec]:
    """Cut ``trials`` into blocks, each with a seed spawned from ``SeedSequence(seed)``."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    count = -(-trials // block_size)
    children = np.random.SeedSequence(seed).spawn(count)
    specs = []
    for index, child in enumerate(children):
        words = child.generate_state(4, dtype=np.uint32)
        block_seed = int.from_bytes(words.tobytes(), "little")
        start = index * block_size
        specs.append(BlockSpec(index, start, min(block_size, trials - start), block_seed))
    return specs


_PLANS: dict[str, Plan] = {}


def _plan_for(scenario: Scenario) -> Plan:
    """Compile a scenario once per process, keyed by its content hash."""
    key = scenario_hash(scenario)
    if key not in _PLANS:
        if len(_PLANS) >= 8:  # a sweep's points: keep memory bounded
            _PLANS.clear()
        _PLANS[key] = Plan.from_scenario(scenario)
    return _PLANS[key]


def play_block(scenario: Scenario, spec: BlockSpec) -> BlockResult:
    """Play one block of trials."""
    model = CrisisModel(_plan_for(scenario), spec.size, spec.seed, first=spec.start)
    try:
        return model.play()
    finally:
        model.release()


class BlockResults(list):
    """Block results in block order whose per-trial arrays are slices of whole columns.

    As each block arrives, its per-trial arrays are copied into columns allocated once for
    all the trials and the block itself is dropped: memory holds one copy of the per-trial
    records, not the blocks and then their join. ``columns`` maps ``"record:<name>"`` and
    ``"parameter:<name>"`` to the whole columns, which
    :func:`~escalation.engine.results.assemble` uses as they are.
    """

    columns: dict[str, np.ndarray]


def play_blocks(
    scenario: Scenario,
    specs: list[BlockSpec],
    workers: int = 1,
    on_block: Callable[[BlockSpec], None] | None = None,
    played: Iterable[tuple[BlockSpec, BlockResult]] | None = None,
) -> BlockResults:
    """Play blocks in this process (``workers == 1``) or in a pool; results in block order.

    ``played`` yields ``(spec, result)`` for every block of ``specs`` in any order, played
    elsewhere (on a Dask cluster), instead of playing them here.
    """
    starts = np.concatenate(([0], np.cumsum([spec.size for spec in specs])))
    position = {spec.index: i for i, spec in enumerate(specs)}
    results = BlockResults([None] * len(specs))
    columns: dict[str, np.ndarray] = {}
    source = _iterate(scenario, specs, workers) if played is None else played
    for spec, result in source:
        i = position[spec.index]
        start, stop = int(starts[i]), int(starts[i + 1])
        fields = {f"parameter:{name}": value for name, value in result.parameters.items()}
        fields.update((f"record:{name}", value) for name, value in result.records.items())
        if not columns:  # the first block to arrive fixes shapes and types
            for name, value in fields.items():
                columns[name] = np.empty((*value.shape[:-1], int(starts[-1])), value.dtype)
        for name, value in fields.items():
            columns[name][..., start:stop] = value
        view = {name: column[..., start:stop] for name, column in columns.items()}
        results[i] = BlockResult(
            parameters={name: view[f"parameter:{name}"] for name in result.parameters},
            records={name: view[f"record:{name}"] for name in result.records},
            counts=result.counts,
        )
        del result, fields  # only the columns keep the block's records
        if on_block is not None:
            on_block(spec)
    results.columns = columns
    return results


def _iterate(
    scenario: Scenario, specs: list[BlockSpec], workers: int
) -> Iterator[tuple[BlockSpec, BlockResult]]:
    if workers <= 1 or len(specs) == 1:
        for spec in specs:
            yield spec, play_block(scenario, spec)
        return
    workers = min(workers, len(specs))
    # Workers ignore Ctrl-C (this process stops the pool) and exit if this process dies.
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=pool_context(),
        initializer=worker_init,
        initargs=(os.getpid(),),
    ) as pool:
        futures = {}
        try:
            with interrupts_deferred():  # a worker cut off while starting prints a traceback
                for spec in specs:
                    futures[pool.submit(play_block, scenario, spec)] = spec
            for future in as_completed(futures):
                # Forget the future once read, so that its result is freed once copied.
                yield futures.pop(future), future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
