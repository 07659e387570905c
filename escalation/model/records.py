"""What a block of trials leaves behind: per-trial records and per-day counts.

:func:`record_specs` lists the per-trial records of a scenario with their kinds, so that the
engine can join blocks and build the trials table without knowing what each record means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from escalation.model.actions import ACTIONS
from escalation.model.plan import Plan
from escalation.model.war import WAR_RESULTS

#: How a decider stands when the trial stops: still pressing its demands, ended its part in
#: the crisis (dropping what was not met), satisfied (every demand met), or making none.
EXITS = ("pressing", "ended", "satisfied", "none")
PRESSING, ENDED_BY_CHOICE, SATISFIED, NO_DEMANDS = range(4)


@dataclass(frozen=True)
class RecordSpec:
    """One per-trial record: its column name and how its values read.

    ``kind`` is ``float``, ``int``, ``bool``, ``day`` (a day number, -1 for never), ``code``
    (an index into ``categories``) or ``mask`` (a bit set over ``categories``, shown joined
    by ``+``).
    """

    name: str
    kind: str
    categories: tuple[str, ...] = ()


def record_specs(plan: Plan) -> list[RecordSpec]:
    """Every per-trial record of ``plan``, in the order of the trials table."""
    specs = [RecordSpec(f"type:{d.key}", "code", tuple(d.type_names)) for d in plan.deciders]
    specs += [
        RecordSpec("outcome", "code", tuple(plan.outcomes)),
        RecordSpec("outcome_day", "int"),
    ]
    for d in plan.deciders:
        ids = tuple(d.ladder.ids)
        specs += [
            RecordSpec(f"peak:{d.key}", "code", ids),
            RecordSpec(f"rung:{d.key}", "code", ids),
            RecordSpec(f"exit:{d.key}", "code", EXITS),
            RecordSpec(f"exit_day:{d.key}", "day"),
            RecordSpec(f"met:{d.key}", "float"),
        ]
    specs.append(RecordSpec("ended_by", "mask", tuple(d.key for d in plan.deciders)))
    for demand in plan.demands:
        specs += [
            RecordSpec(f"granted:{demand.name}", "bool"),
            RecordSpec(f"day_granted:{demand.name}", "day"),
        ]
    specs += [RecordSpec(name, "float") for name in accumulated(plan)]
    for belief in plan.beliefs:
        if belief.kind == "credibility":
            specs += [
                RecordSpec(f"belief:{belief.name}", "float"),
                RecordSpec(f"successes:{belief.name}", "float"),
                RecordSpec(f"failures:{belief.name}", "float"),
            ]
        else:
            specs += [RecordSpec(f"belief:{belief.name}:{h}", "float") for h in belief.hypotheses]
        specs += [RecordSpec(f"signal:{belief.name}:{s.name}", "bool") for s in belief.signals]
    for d in plan.deciders:
        if d.war_row >= 0:
            specs += [
                RecordSpec(f"war:{d.key}", "code", WAR_RESULTS),
                RecordSpec(f"war_day:{d.key}", "day"),
            ]
    specs += [RecordSpec(f"day_{name}", "day") for name in plan.violent]
    return specs


def accumulated(plan: Plan) -> dict[str, tuple[int, str]]:
    """Per-trial records of what actions accumulate on actors: name -> (actor, attribute)."""
    found: dict[str, tuple[int, str]] = {}
    for policy in plan.policies:
        attribute = ACTIONS[policy.kind].records
        if attribute is not None and policy.target >= 0:
            name = f"{attribute}:{plan.actors[policy.target]}"
            found.setdefault(name, (policy.target, attribute))
    return found


@dataclass
class BlockResult:
    """What one block of trials produced.

    ``parameters`` are the values as drawn (before any type overrides), ``records`` the
    per-trial records of :func:`record_specs` (trials on the last axis), and ``counts`` the
    daily tally, ``(horizon + 1, columns)``, read through
    :func:`~escalation.model.tally.timeline_columns`.
    """

    parameters: dict[str, np.ndarray]
    records: dict[str, np.ndarray]
    counts: np.ndarray

    @property
    def outcome(self) -> np.ndarray:
        """Outcome codes of the block's trials."""
        return self.records["outcome"]

    def __len__(self) -> int:
        return len(self.records["outcome"])
