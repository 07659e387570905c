"""The daily tally: how many trials stand where, day by day, kept up to date cheaply.

Each trial adds one count to a few columns of the day's row: for each decider, the rung it
stands on (while the trial is live); how the trial ended (if it has); and how it would be
classified if the horizon were today. The tally keeps, for every trial, the columns it adds
to, and on each day moves only the trials whose state changed: a day costs the changes, not
the trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from escalation.model.plan import FROZEN, SETTLEMENT, STAND_DOWN, Plan

#: How a trial that is no longer live ended.
LIVE, ENDED, ABSORBED = 0, 1, 2

#: Endings after which a trial is no longer live, as counted in ``ended:`` columns.
ENDINGS = ("settlement", "stand_down", "after_violence")


@dataclass(frozen=True)
class Layout:
    """Where each count goes in a day's row of the tally."""

    rung_base: list[int]  # first column of each decider's rungs
    ended_base: int  # settlement, stand down, after violence
    absorbed_base: int  # one column per violent outcome: trials absorbed with that outcome
    outcome_base: int  # one column per outcome: the provisional classification
    sink: int  # contributions that count nowhere (a decider of a trial no longer live)
    width: int

    @classmethod
    def of(cls, plan: Plan) -> Layout:
        """The layout of ``plan``'s tally."""
        bases, column = [], 0
        for decider in plan.deciders:
            bases.append(column)
            column += len(decider.ladder)
        ended = column
        absorbed = ended + len(ENDINGS)
        outcome = absorbed + len(plan.violent)
        sink = outcome + len(plan.outcomes)
        return cls(bases, ended, absorbed, outcome, sink, sink + 1)


def timeline_columns(plan: Plan) -> list[tuple[str, int]]:
    """The timeline's columns and their places in a row of the tally.

    ``rung:<decider>:<rung>`` for the rungs a live trial can stand on; ``ended:<ending>``;
    ``ended:<outcome>`` for outcomes an absorbing rung names (trials absorbed there); and
    ``outcome:<name>`` for every outcome.
    """
    layout = Layout.of(plan)
    columns: list[tuple[str, int]] = []
    absorbing_outcomes: list[str] = []
    for decider, base in zip(plan.deciders, layout.rung_base, strict=True):
        for r, rung in enumerate(decider.ladder.rungs):
            if rung.absorbing:
                if rung.outcome not in absorbing_outcomes:
                    absorbing_outcomes.append(rung.outcome)
                continue  # an absorbing rung holds no live trial; it shows as an ended share
            columns.append((f"rung:{decider.key}:{rung.id}", base + r))
    columns += [(f"ended:{name}", layout.ended_base + i) for i, name in enumerate(ENDINGS)]
    for name in plan.violent:
        if name in absorbing_outcomes:
            columns.append((f"ended:{name}", layout.absorbed_base + plan.violent.index(name)))
    columns += [
        (f"outcome:{name}", layout.outcome_base + i) for i, name in enumerate(plan.outcomes)
    ]
    return columns


class Tally:
    """Counts per day of where trials stand, updated only where a trial changed.

    Args:
        plan: the compiled scenario.
        n: trials in the block.
        horizon: the last day counted.
    """

    def __init__(self, plan: Plan, n: int, horizon: int) -> None:
        self.layout = Layout.of(plan)
        self.violent_base = len(plan.outcomes) - len(plan.violent)
        self.counts = np.zeros((horizon + 1, self.layout.width), dtype=np.int64)
        self._columns = np.full((len(plan.deciders) + 2, n), self.layout.sink, dtype=np.int64)
        self._total = np.zeros(self.layout.width, dtype=np.int64)
        self._changed: list[np.ndarray] = [np.arange(n)]  # the first day counts every trial

    def changed(self, idx: np.ndarray) -> None:
        """Mark trials whose rung, status, peak or grants may have changed today."""
        if len(idx):
            self._changed.append(idx)

    def columns(
        self,
        idx: np.ndarray,
        status: np.ndarray,
        rungs: list[np.ndarray],
        severity: np.ndarray,
        conceded: np.ndarray,
        absorbed: np.ndarray,
    ) -> np.ndarray:
        """The columns trials ``idx`` count in, ``(deciders + 2, m)``, from their state there."""
        layout = self.layout
        out = np.empty((len(rungs) + 2, len(idx)), dtype=np.int64)
        state = status[idx]
        live = state == LIVE
        for d, rung in enumerate(rungs):
            out[d] = np.where(live, layout.rung_base[d] + rung[idx], layout.sink)
        violent = severity[idx] >= 0
        granted = conceded[idx]
        ending = np.where(violent, 2, np.where(granted, 0, 1))
        out[-2] = np.where(
            state == ENDED,
            layout.ended_base + ending,
            np.where(
                state == ABSORBED,
                layout.absorbed_base + np.maximum(absorbed[idx] - self.violent_base, 0),
                layout.sink,
            ),
        )
        diplomatic = np.where(state == ENDED, np.where(granted, SETTLEMENT, STAND_DOWN), FROZEN)
        out[-1] = layout.outcome_base + np.where(violent, severity[idx], diplomatic)
        return out

    def record(self, day: int, state: dict[str, object]) -> None:
        """Count day ``day``: move the trials that changed, then copy the totals into its row.

        ``state`` holds the arrays :meth:`columns` reads (as keyword arguments).
        """
        if self._changed:
            idx = np.unique(np.concatenate(self._changed))
            self._changed.clear()
            new = self.columns(idx, **state)  # type: ignore[arg-type]
            width = self.layout.width
            self._total -= np.bincount(self._columns[:, idx].ravel(), minlength=width)
            self._total += np.bincount(new.ravel(), minlength=width)
            self._columns[:, idx] = new
        self.counts[day] = self._total

    def fill_from(self, day: int) -> None:
        """Repeat day ``day``'s row to the horizon (no trial is live any more)."""
        self.counts[day + 1 :] = self.counts[day]
