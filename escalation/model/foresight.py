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
from escalation.model.environment import Overlay, Subset, column
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
        #: Per path: each day's left point, right point and weight (the model's own daily
        #: table, grown to the furthest later day seen); later days are whole days.
        self._tables: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def path_at(self, name: str, idx: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Path ``name`` in trials ``idx`` on ``days`` (whole days, one per entry)."""
        model = self.model
        path = model.plan.paths[name]
        points = model.world.points[name]
        top = int(days.max()) if len(days) else 0
        if top > 10 * (model.plan.horizon + 1) or (len(days) and days.min() < 0):
            # A planning window far past the horizon (or a day before the first): no table.
            return path.at(points[:, idx], days)
        table = self._tables.get(name)
        if table is None or top >= len(table[0]):
            size = max(top + 1, 2 * len(table[0]) if table else model.plan.horizon + 1)
            table = self._tables[name] = path.weights(size - 1)
        at = days.astype(np.intp)
        left, right, weight = table[0][at], table[1][at], table[2][at]
        low = points[left, idx]
        if path.step:
            return low
        return low + weight * (points[right, idx] - low)

    def view(self, idx: np.ndarray, days: np.ndarray) -> Overlay:
        """Trials ``idx`` as they will be on ``days`` (one per entry): day, paths, forces.

        ``idx`` may hold a trial several times (once per later day weighed): every expression
        is elementwise, so all the later days are evaluated in one pass.
        """
        model = self.model
        plan = model.plan
        sub = Subset(model.env, idx)
        changes: dict[str, object] = {"day": days}
        for name in plan.paths:
            changes[name] = self.path_at(name, idx, days)
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
        ``(6, R, m)``. ``-inf`` where nothing above can be climbed. The K later days of the m
        trials are laid side by side, ``K * m`` entries, and weighed at once.
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
        steps = self.steps
        delta = 1.0 - column(cache.value_at(decider.discount, sub), m)  # type: ignore[arg-type]
        k = column(cache.value_at(decider.decisiveness, sub), m)  # type: ignore[arg-type]
        # Later day k of trial i sits at entry k * m + i.
        wait = np.ceil(np.outer(np.arange(1, steps + 1) / steps, planning)).ravel()
        wide = np.tile(idx, steps)
        view = self.view(wide, model.day + wait)

        def tiled(values: np.ndarray) -> np.ndarray:
            return np.tile(values, steps)

        # Only the climbable rungs matter; of today's terms, what does not change with the day
        # is taken once, and only the changing terms of those rungs are evaluated later on.
        place = {int(r): i for i, r in enumerate(moves)}
        rows = np.tile(base[:, moves], steps)  # (6, moves, K m)
        for f, r, expression in terms.changing:
            if r in place:
                rows[f, place[r]] = column(expression(view), len(wide))
        if terms.timed:  # a threat's weight reads the day or a path: weigh it then
            rows[THREATS] = terms.threats_on(view, wide)[moves]
        if decider.target >= 0:
            target = model.actors[decider.target]
            defence = np.asarray(view[f"{target.key}.capability"], dtype=float)
            defence = np.broadcast_to(defence, (len(wide),))
            if support is not None:
                defence = defence + np.tile(support, steps)
            forces = np.broadcast_to(
                np.asarray(view[f"{agent.key}.forces"], dtype=float), (len(wide),)
            )
            p = contest(rows[FORCE] * forces, defence, tiled(k))
        else:
            p = np.zeros((len(moves), len(wide)))
        value = p * rows[GAIN] * tiled(unmet)
        value += tiled(granted) - rows[COST] - tiled(planning) * rows[HOLD_COST] - rows[THREATS]
        value = np.power(tiled(delta), wait) * value - wait * tiled(holding_now)
        value[~np.tile(above, steps)] = -np.inf
        return value.reshape(len(moves), steps, m).max(axis=(0, 1))
