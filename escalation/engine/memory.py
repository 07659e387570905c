"""Will a run fit in memory? An estimate before anything large is allocated.

A run keeps every trial's record (its parameters and outcomes) until the results are
written, and writing them (the trials table, its parquet file, the summaries) needs a few
copies more. :func:`bytes_per_trial` plays a small block of the scenario and measures the
per-trial arrays it returns, whatever fields they are; :data:`OVERHEAD` is the ratio of the
peak memory of a whole run to those bytes, measured with ``benchmarks/run.py``.
:func:`available_memory` is the least of what the machine, the process's cgroup and its
resource limits allow. :func:`check_memory` compares the two and says what would fit.

A streamed run (:mod:`escalation.engine.accumulate`) keeps no table: it holds its sample (the
trials of its first blocks) and at most a window of block results at a time, whatever its
trials (:func:`streamed_trials`); ``check_memory(..., window=...)`` checks that instead. A run
whose table would not fit is refused with a message that suggests streaming it
(``--no-trials``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

#: Peak memory of a run per byte of per-trial records: the records, the parquet writer's
#: buffers and the analysis' temporaries. Measured 2.4 for dec2021 (400 bytes of records and
#: about 950 bytes of peak memory per trial between 10^5 and 10^6 trials); 3 leaves a margin.
OVERHEAD = 3.0
#: Resident memory a run adds besides its trials after the check (libraries imported later,
#: the report): measured about 60 MB, allowed 300 MB.
RESIDENT_BASELINE = 300 * 2**20
#: Address space a run adds besides its trials after the check (each library maps far more
#: than it touches, and threads reserve arenas): measured about 1.3 GB, allowed 1.6 GB.
ADDRESS_BASELINE = 1600 * 2**20
#: Trials played to measure a scenario's records.
PROBE_TRIALS = 256
#: Runs of fewer trials are not checked: they need less than a few hundred megabytes.
CHECK_FROM = 200_000


class MemoryShortage(ValueError):
    """A run would need more memory than this machine or process may use."""


def bytes_per_trial(scenario) -> float:
    """Bytes of per-trial records one trial of ``scenario`` produces (a small block, measured)."""
    from escalation.engine.blocks import BlockSpec, play_block

    result = play_block(scenario, BlockSpec(0, 0, PROBE_TRIALS, int(scenario.seed)))
    return _per_trial_bytes(result, PROBE_TRIALS) / PROBE_TRIALS


def _per_trial_bytes(value: Any, trials: int) -> int:
    """Bytes of the arrays in ``value`` whose last axis runs over the ``trials`` trials."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return int(value.nbytes) if value.ndim and value.shape[-1] == trials else 0
    if isinstance(value, dict):
        return sum(_per_trial_bytes(item, trials) for item in value.values())
    if isinstance(value, list | tuple):
        return sum(_per_trial_bytes(item, trials) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(
            _per_trial_bytes(getattr(value, field.name), trials)
            for field in dataclasses.fields(value)
        )
    return 0


def available_memory() -> tuple[int, str] | None:
    """Bytes left for the trials' records, and what sets that bound; None if unknown.

    The least of the machine's available memory, the room under this process's cgroup limit
    and under its resource limits (``ulimit -v``, ``ulimit -d``), each less what the rest of a
    run takes in that measure (:data:`RESIDENT_BASELINE`, :data:`ADDRESS_BASELINE`).
    """
    bounds: list[tuple[int, str]] = []
    meminfo = _meminfo()
    if "MemAvailable" in meminfo:
        bounds.append(
            (meminfo["MemAvailable"] - RESIDENT_BASELINE, "the machine's available memory")
        )
    elif hasattr(os, "sysconf"):
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
            bounds.append((int(free) - RESIDENT_BASELINE, "the machine's free memory"))
        except (OSError, ValueError):
            pass
    cgroup = _cgroup_room()
    if cgroup is not None:
        bounds.append(
            (cgroup - RESIDENT_BASELINE, "the memory limit of this process's control group")
        )
    status = _status()
    limits = (
        ()
        if resource is None
        else (
            (resource.RLIMIT_AS, "the limit of this process's address space (ulimit -v)", "VmSize"),
            (
                getattr(resource, "RLIMIT_DATA", None),
                "the limit of this process's data (ulimit -d)",
                "VmData",
            ),
        )
    )
    for limit, name, used in limits:
        if limit is None:
            continue
        soft, _ = resource.getrlimit(limit)
        if soft != resource.RLIM_INFINITY and soft > 0:
            bounds.append((soft - status.get(used, 0) - ADDRESS_BASELINE, name))
    if not bounds:
        return None
    room, name = min(bounds)
    return max(room, 0), name


def _meminfo() -> dict[str, int]:
    return _kib_fields(Path("/proc/meminfo"))


def _status() -> dict[str, int]:
    return _kib_fields(Path("/proc/self/status"))


def _kib_fields(path: Path) -> dict[str, int]:
    """``Name: 123 kB`` lines of a /proc file, in bytes."""
    found = {}
    try:
        text = path.read_text()
    except OSError:
        return found
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        words = rest.split()
        if len(words) == 2 and words[1] == "kB" and words[0].isdigit():
            found[name] = int(words[0]) * 1024
    return found


def _cgroup_room() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1), if it has one."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2
            folder = Path("/sys/fs/cgroup") / path.lstrip("/")
            limit, used = folder / "memory.max", folder / "memory.current"
        elif "memory" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/memory") / path.lstrip("/")
            limit, used = folder / "memory.limit_in_bytes", folder / "memory.usage_in_bytes"
        else:
            continue
        try:
            text = limit.read_text().strip()
            if text == "max" or int(text) >= 2**60:
                continue
            return max(int(text) - int(used.read_text().strip()), 0)
        except (OSError, ValueError):
            continue
    return None


#: Most block results a streamed run holds besides its sample (in flight or waiting).
MAX_WINDOW = 16


def stream_window(slots: int) -> int:
    """Blocks a streamed run keeps in flight for ``slots`` workers: two each, so that none
    waits while its next block is handed over, at most :data:`MAX_WINDOW`."""
    return max(1, min(2 * int(slots), MAX_WINDOW))


def streamed_trials(trials: int, window: int) -> int:
    """Trials whose records a streamed run of ``trials`` trials holds at once, at most: its
    sample and ``window`` blocks."""
    from escalation.engine.accumulate import sample_blocks
    from escalation.engine.blocks import BLOCK_SIZE

    return min(int(trials), (sample_blocks(BLOCK_SIZE) + int(window)) * BLOCK_SIZE)


def needed_bytes(trials: int, per_trial: float, concurrent: int = 1) -> int:
    """Peak bytes the records of ``concurrent`` runs of ``trials`` trials take."""
    return int(concurrent * trials * per_trial * OVERHEAD)


def check_memory(
    scenario,
    trials: int | None = None,
    concurrent: int = 1,
    window: int | None = None,
    streamable: bool = False,
) -> None:
    """Raise :class:`MemoryShortage` if ``trials`` trials (default: the scenario's) would not fit.

    ``concurrent`` runs of that size are held at once (the workers of a sweep). With
    ``window``, the run is streamed with at most that many blocks in flight
    (:func:`streamed_trials`); ``streamable`` says the message may suggest streaming the run
    (``escalation run --no-trials``). Small runs and machines that do not say how much memory
    they have are not checked.
    """
    trials = int(scenario.trials if trials is None else trials)
    held = trials if window is None else streamed_trials(trials, window)
    if held * concurrent < CHECK_FROM:
        return
    room = available_memory()
    if room is None:
        return
    available, bound = room
    per_trial = bytes_per_trial(scenario)
    needed = needed_bytes(held, per_trial, concurrent)
    if needed <= available:
        return
    if window is not None:
        raise MemoryShortage(
            f"{trials:,} trials, even streamed (the records of about {held:,} trials at a "
            f"time), need about {_size(needed)} of memory, but about "
            f"{_size(available)} is left ({bound}, less what the rest of a run takes); run on "
            "a machine with more memory"
        )
    fits = max(int(available / (per_trial * OVERHEAD * concurrent)), 0)
    each = " per point, with that many points at once," if concurrent > 1 else ""
    raise MemoryShortage(
        f"{trials:,} trials{each} need about {_size(needed)} of memory, but about "
        f"{_size(available)} is left for them ({bound}, less what the rest of a run takes); "
        f"use at most about {_round(fits):,} trials, or run on a machine with more memory"
        + (
            " (or fewer --workers)"
            if concurrent > 1
            else "; or stream the run, in memory that does not grow with the trials: "
            "--no-trials keeps only the summaries (counted block by block, exactly), and "
            "--scheduler local also writes the trials block by block as a dataset"
            if streamable
            else ""
        )
    )


def _size(count: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count / 1e3:.0f} kB"


def _round(count: int) -> int:
    """Two significant digits, rounded down: a suggestion, not a promise."""
    if count < 100:
        return count
    scale = 10 ** (len(str(count)) - 2)
    return count // scale * scale
