"""A run folded block by block: exact counts of every trial, and a sample of whole trials.

A streamed run (``escalation run --no-trials`` or ``--scheduler``, for runs too large for a
table of trials) keeps, instead of the table:

- :class:`RunCounts`, integer counts of all trials: per outcome, per day on which each violent
  outcome was first reached (days are integers from 0 to the horizon, so a histogram holds
  everything medians, their intervals and survival curves read), per type and outcome of each
  decider, the daily tally behind the timeline, and each parameter's least and greatest value.
  Sums of integers do not depend on the order blocks are added in, so the numbers never depend
  on the workers or on the order blocks arrive from a cluster; they are those of the whole
  table to the last bit (``tests/test_accumulate.py``).
- a **sample**: the trials of the first blocks (:func:`sample_blocks`: at least
  :data:`SAMPLE_TRIALS` trials) as a table, exactly the first rows of the table the run would
  have made. Which trials it holds depends on the seed and the block size only, never on the
  workers or the order blocks finish in; each block plays its own independent random stream,
  so its first blocks are as random a sample of the run's trials as any other blocks. (Blocks
  chosen elsewhere in the run would have to arrive before the thirds could be cut, and every
  block played until then be held: the first blocks keep memory flat.) Drivers read it for
  their rank correlations and PAWN indices, and scenario discovery reads it; the PAWN index
  and PRIM read at most 50,000 and 20,000 rows anyway, so a larger sample would change little.
- :class:`~escalation.analysis.drivers.DriverCounts`: each parameter's thirds are cut in the
  sample, then the trials of every block are counted in them per outcome, so that the drivers'
  shares and intervals rest on all trials (which matters for rare outcomes: a run of 10^7
  trials has ten thousand cases of a 0.1% outcome, its sample about 65).

Blocks past the sample that arrive before the sample is complete (from a pool or a cluster,
in any order) are held until it is, and counted as held; the caller keeps that number bounded
(:func:`~escalation.engine.executors.stream`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from escalation.analysis.drivers import DriverCounts, thirds
from escalation.engine.blocks import BLOCK_SIZE, BlockSpec
from escalation.engine.results import assemble
from escalation.model.plan import Plan
from escalation.model.records import BlockResult
from escalation.model.tally import timeline_columns

#: Trials a streamed run's sample holds at least (whole blocks).
SAMPLE_TRIALS = 65_536


def sample_blocks(block_size: int = BLOCK_SIZE, sample_trials: int = SAMPLE_TRIALS) -> int:
    """Blocks whose trials form a streamed run's sample: the fewest that hold
    ``sample_trials`` trials."""
    return max(1, -(-int(sample_trials) // int(block_size)))


@dataclass
class RunCounts:
    """Integer counts of every trial of a run, added block by block in any order.

    ``outcomes`` counts trials per outcome (in the plan's order, :attr:`outcome_names`);
    ``first_days`` maps each violent outcome to trials per first day ``0..horizon``; ``types``
    maps each ``type:<decider>`` column to its type names and a ``(types, outcomes)`` array;
    ``tally`` sums the blocks' daily counts; ``least``/``greatest`` are each parameter's
    extreme values (NaN when none was finite).
    """

    outcome_names: list[str]
    violent: list[str]
    horizon: int
    trials: int = 0
    outcomes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    first_days: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)
    tally: np.ndarray | None = None
    least: dict[str, float] = field(default_factory=dict)
    greatest: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan) -> RunCounts:
        """Empty counts for ``plan``'s outcomes, types and horizon."""
        outcomes = list(plan.outcomes)
        counts = cls(outcomes, list(plan.violent), int(plan.horizon))
        counts.outcomes = np.zeros(len(outcomes), np.int64)
        counts.first_days = {v: np.zeros(plan.horizon + 1, np.int64) for v in plan.violent}
        counts.types = {
            f"type:{d.key}": (
                list(d.type_names),
                np.zeros((len(d.type_names), len(outcomes)), np.int64),
            )
            for d in plan.deciders
        }
        return counts

    def add(self, block: BlockResult) -> None:
        """Add one block's trials."""
        outcome = np.asarray(block.records["outcome"], dtype=np.int64)
        n_outcomes = len(self.outcome_names)
        self.trials += int(outcome.size)
        self.outcomes += np.bincount(outcome, minlength=n_outcomes)
        for name, counts in self.first_days.items():
            days = np.asarray(block.records[f"day_{name}"], dtype=np.int64)
            reached = days[days >= 0]
            if reached.size and int(reached.max()) > self.horizon:
                raise ValueError(f"day_{name} holds day {int(reached.max())}, past the horizon")
            counts += np.bincount(reached, minlength=self.horizon + 1)
        for column, (_, table) in self.types.items():
            codes = np.asarray(block.records[column], dtype=np.int64) * n_outcomes + outcome
            table += np.bincount(codes, minlength=table.size).reshape(table.shape)
        tally = np.asarray(block.counts, dtype=np.int64)
        self.tally = tally.copy() if self.tally is None else self.tally + tally
        for name, values in block.parameters.items():
            finite = values[np.isfinite(values)]
            if finite.size:
                low, high = float(finite.min()), float(finite.max())
                self.least[name] = min(self.least.get(name, low), low)
                self.greatest[name] = max(self.greatest.get(name, high), high)

    def outcome_counts(self, order: list[str]) -> np.ndarray:
        """Trials per outcome in the order of ``order`` (outcome names)."""
        found = dict(zip(self.outcome_names, self.outcomes.tolist(), strict=True))
        return np.array([found.get(name, 0) for name in order], dtype=np.int64)

    def type_table(self, column: str, order: list[str]) -> tuple[list[str], np.ndarray]:
        """A type column's names and its ``(types, outcomes)`` counts, outcomes in ``order``."""
        names, table = self.types[column]
        index = [self.outcome_names.index(name) for name in order]
        return names, table[:, index]

    def varies(self, parameter: str) -> bool:
        """Whether a parameter took more than one value among all trials."""
        return parameter in self.least and self.least[parameter] != self.greatest[parameter]

    def varying_types(self) -> list[str]:
        """The type columns in which more than one type occurred."""
        return [c for c, (_, table) in self.types.items() if (table.sum(axis=1) > 0).sum() > 1]

    def timeline(self, plan: Plan) -> pd.DataFrame:
        """The timeline, as :func:`~escalation.engine.results.assemble` makes it."""
        timeline: dict[str, np.ndarray] = {"day": np.arange(plan.horizon + 1)}
        for name, index in timeline_columns(plan):
            timeline[name] = self.tally[:, index] / self.trials
        return pd.DataFrame(timeline)


@dataclass
class Streamed:
    """What a streamed run keeps: counts of all trials, the sample and the drivers' counts."""

    counts: RunCounts
    sample: pd.DataFrame
    drivers: DriverCounts
    sample_blocks: int

    @property
    def sample_trials(self) -> int:
        """Trials in the sample."""
        return len(self.sample)


class Accumulator:
    """Folds block results into :class:`RunCounts`, the sample and the drivers' counts.

    Args:
        plan: the compiled scenario.
        blocks: how many blocks the run has.
        sample_blocks: blocks ``0 .. sample_blocks - 1`` form the sample.
    """

    def __init__(self, plan: Plan, blocks: int, sample_blocks: int) -> None:
        self.plan = plan
        self.blocks = blocks
        self.sample_blocks = min(sample_blocks, blocks)
        self.counts = RunCounts.of(plan)
        self.drivers = DriverCounts(list(plan.outcomes), self.counts.outcomes)
        self.drivers.types = self.counts.types
        self.sample: pd.DataFrame | None = None
        self._sample_parts: dict[int, BlockResult] = {}
        self._held: dict[int, BlockResult] = {}
        self._folded: set[int] = set()
        #: Most blocks held at once (sample parts and blocks waiting for the sample), for tests.
        self.most_held = 0

    @property
    def held(self) -> int:
        """Blocks past the sample held until the sample is complete."""
        return len(self._held)

    def fold(self, spec: BlockSpec, block: BlockResult) -> None:
        """Add block ``spec``'s result (each block once, in any order)."""
        if spec.index in self._folded:
            raise ValueError(f"block {spec.index} was already added")
        self._folded.add(spec.index)
        self.counts.add(block)
        if spec.index < self.sample_blocks:
            self._sample_parts[spec.index] = block
        elif self.sample is None:
            self._held[spec.index] = block
        else:
            self._count_groups(block)
        self.most_held = max(self.most_held, len(self._sample_parts) + len(self._held))
        if self.sample is None and len(self._sample_parts) == self.sample_blocks:
            self._close_sample()

    def _close_sample(self) -> None:
        """Make the sample's table, cut each parameter's thirds in it, count the held blocks."""
        parts = [self._sample_parts[i] for i in range(self.sample_blocks)]
        self.sample, _ = assemble(self.plan, parts)
        for name in self.plan.parameter_columns():
            values = pd.to_numeric(self.sample[name], errors="coerce").astype(float).to_numpy()
            rule = thirds(values)
            if rule is not None:
                self.drivers.cuts[name] = rule
                self.drivers.low[name] = np.zeros(len(self.plan.outcomes), np.int64)
                self.drivers.high[name] = np.zeros(len(self.plan.outcomes), np.int64)
        for block in parts:
            self._count_groups(block)
        for block in self._held.values():
            self._count_groups(block)
        self._sample_parts.clear()
        self._held.clear()

    def _count_groups(self, block: BlockResult) -> None:
        outcome = np.asarray(block.records["outcome"], dtype=np.int64)
        size = len(self.plan.outcomes)
        for name, rule in self.drivers.cuts.items():
            low, high = rule.masks(np.asarray(block.parameters[name], dtype=float))
            self.drivers.low[name] += np.bincount(outcome[low], minlength=size)
            self.drivers.high[name] += np.bincount(outcome[high], minlength=size)

    def finish(self) -> Streamed:
        """Everything kept, once every block has been added."""
        if len(self._folded) != self.blocks or self.sample is None:
            raise ValueError(f"{len(self._folded)} of {self.blocks} blocks were added")
        return Streamed(self.counts, self.sample, self.drivers, self.sample_blocks)
