"""Foresight: what a decider expects a climb to be worth on later days of its planning window.

A decider with ``look_ahead: K`` weighs, at each decision, climbing now against climbing on K
evenly spaced later days of its planning window ``W``: day ``t + ceil(W k / K)``, k = 1..K. It
knows the future as the scenario does: the paths of its parameters (forces massing, the
season), the days written into conditions (stated deadlines), and the aid and reinforcement in
transit to its target (which count in the contest whether they have arrived by then or not, see
:meth:`~escalation.model.terms.RungTerms.support`). A climb on day ``t'`` is worth

    V(r, t') = delta^(t' - t) * U_climb(r, t') - (t' - t) * c_r0      (in stake units)

with ``delta = 1 - discount`` and ``c_r0`` the daily cost of the rung it holds meanwhile. Holding
is then worth at least the best such V: waiting for readiness or a season is a choice the model
makes. Everything is computed for the deciding trials at once, one later day at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from escalation.model.contest import contest
from escalation.model.environment import Overlay, column
from escalation.model.plan import DeciderPlan
from escalation.model.terms import COST, FORCE, GAIN, HOLD_COST, THREATS


class Foresight:
    """The later days a decider looks at, and the best climb it sees on them.

    Args:
        model: the crisis model.
        decider: the decider's compiled block.
    """

    def __init__(self, model: Any, decider: DeciderPlan) -> None:
        self.model = model
        self.decider = decider
        self.steps = decider.look_ahead

    def view(self, idx: np.ndarray, sub: Mapping[str, object], days: np.ndarray) -> Overlay:
        """Trials ``idx`` as they will be on per-trial ``days``: day, paths, forces, capability."""
        model = self.model
        plan = model.plan
        changes: dict[str, object] = {"day": days}
        # With the same planning window in every trial, the later day is one for all.
        when = days[0] if len(days) and (days == days[0]).all() else days
        for name, path in plan.paths.items():
            changes[name] = path.at(model.world.points[name][:, idx], when)
        timed = Overlay(sub, changes)
        later: dict[str, object] = {}
        m = len(idx)
        for actor in model.actors:
            forces = plan.forces[actor.index]
            if forces.names & changes.keys():
                later[f"{actor.key}.forces"] = column(forces(timed), m)
            capability = plan.capability[actor.index]
            if capability.names & changes.keys():
                base = column(capability(timed), m)
                later[f"{actor.key}.capability"] = base + actor.aid[idx] + actor.reinforcement[idx]
        return Overlay(timed, later) if later else timed

    def best_later_climb(
        self,
        idx: np.ndarray,
        sub: Mapping[str, object],
        moves: np.ndarray,
        granted: np.ndarray,
        unmet: np.ndarray,
        planning: np.ndarray,
        holding_now: np.ndarray,
        support: np.ndarray | None,
        base: np.ndarray,
    ) -> np.ndarray:
        """The best value, over later days and higher rungs, of climbing later, ``(m,)``.

        ``moves`` are the rungs that may be climbed to (closed where not above a trial's rung);
        ``holding_now`` is the daily cost of the rung each trial holds; ``support`` the expected
        support for the target on each rung of ``moves`` (or None); ``base`` today's rung terms
        ``(6, R, m)``. ``-inf`` where nothing above can be climbed.
        """
        model = self.model
        decider = self.decider
        agent = model.deciders[decider.position]
        terms = agent.terms
        cache = model.cache
        m = len(idx)
        rung = agent.rung[idx]
        above = moves[:, None] > rung[None, :]
        best = np.full(m, -np.inf)
        if not above.any():
            return best
        delta = 1.0 - column(cache.value_at(decider.discount, sub), m)  # type: ignore[arg-type]
        k = column(cache.value_at(decider.decisiveness, sub), m)  # type: ignore[arg-type]
        # Only the climbable rungs matter; of today's terms, what does not change with the day
        # is taken once, and only the changing terms of those rungs are evaluated later on.
        place = {int(r): i for i, r in enumerate(moves)}
        today = base[:, moves]  # (6, moves, m), a copy
        changing = [(f, place[r], e) for f, r, e in terms.changing if r in place]
        fixed_part = granted - today[COST] - planning * today[HOLD_COST] - today[THREATS]
        fixed_part = None if changing or terms.timed else fixed_part
        constant_days = bool((planning == planning[0]).all()) if m else True
        for step in range(1, self.steps + 1):
            wait = np.ceil(planning * step / self.steps)
            view = self.view(idx, sub, model.day + wait)
            rows = today
            if changing or terms.timed:
                rows = today.copy()
                for f, i, expression in changing:
                    rows[f, i] = column(expression(view), m)
                if terms.timed:  # a threat's weight reads the day or a path: weigh it then
                    rows[THREATS] = terms.threats_on(view, idx)[moves]
            if decider.target >= 0:
                target = model.actors[decider.target]
                defence = np.asarray(view[f"{target.key}.capability"], dtype=float)
                defence = np.broadcast_to(defence, (m,))
                if support is not None:
                    defence = defence + support
                forces = np.asarray(view[f"{agent.key}.forces"], dtype=float)
                p = contest(rows[FORCE] * np.broadcast_to(forces, (m,)), defence, k)
            else:
                p = np.zeros((len(moves), m))
            value = p * rows[GAIN] * unmet
            if fixed_part is not None:
                value += fixed_part
            else:
                value += granted - rows[COST] - planning * rows[HOLD_COST] - rows[THREATS]
            discount = delta ** wait[0] if constant_days else np.power(delta, wait)
            value = discount * value - wait * holding_now
            value[~above] = -np.inf
            np.maximum(best, value.max(axis=0), out=best)
        return best
