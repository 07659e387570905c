"""A decider's terms of every rung of its ladder, kept as cheaply as the scenario allows.

For each rung a decider could stand on, its choice weighs the rung's gain, the share of its
forces it commits, the one-off cost of climbing there, the daily cost of standing there, the
hope of getting the rest while there, and the expected cost of the pending threats that
would fire there. What is fixed for the block is tabulated per trial once; a threat whose
condition and weight read only fixed parameters and the decider's rung weighs the same every
day while pending, so its weight at each rung goes in once too, and the table holds the sum
over pending threats, updated only where one triggers. Sums keep their order (threats in
policy order, from zero), so the floating-point results are those of computing everything
afresh each day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from escalation.model.environment import Overlay, Subset, column
from escalation.model.plan import DeciderPlan, PolicyPlan

#: Rows of the table: the rung's fields, then the expected cost of threats there.
GAIN, FORCE, COST, HOLD_COST, HOPE, THREATS = range(6)


class RungTerms:
    """The rung terms of one decider over the trials of a block.

    Args:
        model: the crisis model (its cache, environment, policies' pending state).
        decider: the decider's compiled block.
    """

    def __init__(self, model: Any, decider: DeciderPlan) -> None:
        self.model = model
        self.decider = decider
        self.rung_key = f"{decider.key}.rung"
        self.rung_keys = decider.rung_keys
        cache = model.cache
        plan = model.plan
        n, rungs = model.n, len(decider.ladder)
        self.changing: list[tuple[int, int, Any]] = []
        table = np.zeros((n, 6, rungs))
        for r, rung in enumerate(decider.ladder.rungs):
            hope = decider.hope if rung.hope is None else rung.hope
            for f, expression in enumerate(
                (rung.gain, rung.force, rung.cost, rung.hold_cost, hope)
            ):
                if cache.is_fixed(expression):
                    table[:, f, r] = cache.value(expression)
                else:
                    self.changing.append((f, r, expression))
        self.table = table
        self.threats = list(decider.threats)
        self.reads = {
            p: (
                bool(plan.policies[p].when.names & self.rung_keys),
                bool(
                    (plan.policies[p].perceived.names | plan.policies[p].cost.names)
                    & self.rung_keys
                ),
            )
            for p in self.threats
        }
        self.weights: dict[int, np.ndarray] | None = None
        #: Threats whose condition and cost read only fixed names and the rung, but whose
        #: perceived credibility moves (a belief): cost where the condition holds, per rung.
        self.bases: dict[int, np.ndarray] | None = None
        self.stale: list[np.ndarray] = []
        readable = cache.fixed | {self.rung_key}
        policies = [plan.policies[p] for p in self.threats]
        timed = {"day", *plan.paths}
        timed |= {f"{a}.{x}" for a in plan.actors for x in ("forces", "capability")}
        #: Whether a threat's weight can differ on a later day (a deadline, a path).
        self.timed = any(
            (policy.when.names | policy.perceived.names | policy.cost.names) & timed
            for policy in policies
        )

        def table_of(policy: PolicyPlan, weigh: bool) -> np.ndarray:
            weights = np.empty((n, rungs))
            for r in range(rungs):
                view = Overlay(model.env, {self.rung_key: float(r)})
                holds = np.broadcast_to(policy.when(view), (n,))
                cost = column(policy.cost(view), n)  # type: ignore[misc]
                weight = column(policy.perceived(view), n) * cost if weigh else cost
                weights[:, r] = np.where(holds, weight, 0.0)
            return weights

        if all(
            (policy.when.names | policy.perceived.names | policy.cost.names) <= readable
            for policy in policies
        ):
            self.weights = {
                p: table_of(x, True) for p, x in zip(self.threats, policies, strict=True)
            }
            self._update_threats(np.arange(n))
        elif all(
            (policy.when.names | policy.cost.names) <= readable
            and not policy.perceived.names & self.rung_keys
            for policy in policies
        ):
            # Rung by trial, so that a day's trials are one gather along the last axis.
            self.bases = {
                p: np.ascontiguousarray(table_of(x, False).T)
                for p, x in zip(self.threats, policies, strict=True)
            }

    def triggered(self, p: int, idx: np.ndarray) -> None:
        """Policy ``p`` has triggered in trials ``idx``: it no longer weighs there."""
        if self.weights is not None and p in self.weights:
            self.stale.append(idx)

    def _update_threats(self, idx: np.ndarray) -> None:
        """Sum again the tabulated weights of the threats still pending in trials ``idx``."""
        pending_all = self.model.pending
        total = np.zeros((len(idx), len(self.decider.ladder)))
        for p, weights in self.weights.items():  # type: ignore[union-attr]
            pending = pending_all[p, idx]
            if pending.any():
                total += np.where(pending[:, None], weights[idx], 0.0)
        self.table[idx, THREATS, :] = total

    def rows(self, idx: np.ndarray, sub: Subset) -> np.ndarray:
        """Today's terms of every rung in trials ``idx``, shape ``(6, R, m)``."""
        if self.stale:  # threats triggered since the last look
            self._update_threats(np.unique(np.concatenate(self.stale)))
            self.stale.clear()
        out = self.table[idx].transpose(1, 2, 0)
        cache = self.model.cache
        for f, r, expression in self.changing:
            out[f, r] = cache.value_at(expression, sub)
        if self.bases is not None:
            out[THREATS] = self.factored_threats(idx, sub)
        elif self.weights is None:
            out[THREATS] = self.expected_threats(idx, sub)
        return out

    def factored_threats(self, idx: np.ndarray, sub: Subset) -> np.ndarray:
        """Pending threats' expected cost per rung, ``(R, m)``: today's credibility times cost.

        For threats whose credibility moves (a belief) but whose condition and cost are fixed
        for the block: the cost where the condition would hold is tabulated once per rung.
        """
        model = self.model
        cache = model.cache
        m = len(idx)
        out = np.zeros((len(self.decider.ladder), m))
        for p, base in self.bases.items():  # type: ignore[union-attr]
            pending = model.pending[p, idx]
            if not pending.any():
                continue
            perceived = column(cache.value_at(model.plan.policies[p].perceived, sub), m)
            weight = base[:, idx]
            weight *= np.where(pending, perceived, 0.0)
            out += weight
        return out

    def expected_threats(self, idx: np.ndarray, sub: Subset) -> np.ndarray:
        """Perceived expected cost of pending threats that would fire at each rung, ``(R, m)``.

        For each policy whose cost the decider bears, its condition is evaluated as if the
        decider stood on each rung; a threat counts with its perceived credibility times its
        cost while it is pending (not yet triggered, whether it would be carried out or not).
        """
        model = self.model
        plan = model.plan
        cache = model.cache
        m = len(idx)
        out = np.zeros((len(self.decider.ladder), m))
        views = None
        for p in self.threats:
            if not model.pending[p].any():
                continue
            policy = plan.policies[p]
            pending = model.pending[p, idx]
            if not policy.when.names & self.rung_keys and not self.reads[p][1]:
                holds = cache.value_at(policy.when, sub) & pending
                out += np.where(holds, self._weight(policy, sub, m), 0.0)
                continue
            if views is None:
                views = self.rung_views(sub)
            # What does not read the rung is the same on every rung: compute it once.
            when_reads, weight_reads = self.reads[p]
            when = None if when_reads else cache.value_at(policy.when, sub)
            weight = None if weight_reads else self._weight(policy, sub, m)
            rows = []  # rungs where the condition surely holds and the weight is the same
            for r, view in enumerate(views):
                holds = policy.when(view) if when_reads else when
                if not isinstance(holds, np.ndarray):
                    if not holds:
                        continue  # adds nothing on this rung
                    if not weight_reads:
                        rows.append(r)
                        continue
                    holds = pending
                else:
                    holds = holds & pending
                w = self._weight(policy, view, m) if weight_reads else weight
                out[r] += np.where(holds, w, 0.0)
            if rows:
                out[rows] += np.where(pending, weight, 0.0)
        return out

    def threats_in(self, view: Mapping[str, object], idx: np.ndarray) -> np.ndarray:
        """Expected cost of pending threats in trials ``idx`` of a hypothetical state ``view``."""
        model = self.model
        m = len(idx)
        out = np.zeros(m)
        for p in self.threats:
            pending = model.pending[p, idx]
            if not pending.any():
                continue
            policy = model.plan.policies[p]
            holds = np.broadcast_to(policy.when(view), (m,)) & pending
            out += np.where(holds, self._weight(policy, view, m), 0.0)
        return out

    def threats_on(self, view: Mapping[str, object], idx: np.ndarray) -> np.ndarray:
        """Expected cost of pending threats at each rung, ``(R, m)``, on any environment.

        Like :meth:`expected_threats`, but evaluated afresh on ``view`` (a later day, say).
        """
        out = np.zeros((len(self.decider.ladder), len(idx)))
        for r, rung_view in enumerate(self.rung_views(view)):
            out[r] = self.threats_in(rung_view, idx)
        return out

    def support(self, idx: np.ndarray, sub: Subset) -> np.ndarray:
        """Capability the decider expects its target to gain, at each rung, ``(R, m)``.

        Aid and reinforcement for the target that are in transit count in full (they are on
        their way); a pending policy counts with its perceived credibility times its amount on
        the rungs where its condition would hold. Without this, a promised delivery would deter
        nothing until it had arrived.
        """
        model = self.model
        plan = model.plan
        cache = model.cache
        m = len(idx)
        out = np.zeros((len(self.decider.ladder), m))
        views = None
        for p in self.decider.support:
            policy = plan.policies[p]
            # After a policy triggers, its delivery (if carried out) waits in due_day/due_amount.
            out += np.where(model.due_day[p, idx] > model.day, model.due_amount[p, idx], 0.0)
            pending = model.pending[p, idx]
            if not pending.any():
                continue
            amount = np.maximum(column(cache.value_at(policy.fields["amount"], sub), m), 0.0)
            weight = column(cache.value_at(policy.perceived, sub), m) * amount
            if policy.when.names & self.rung_keys:
                if views is None:
                    views = self.rung_views(sub)
                for r, view in enumerate(views):
                    holds = np.broadcast_to(policy.when(view), (m,)) & pending
                    out[r] += np.where(holds, weight, 0.0)
            else:
                holds = np.broadcast_to(cache.value_at(policy.when, sub), (m,)) & pending
                out += np.where(holds, weight, 0.0)
        return out

    def _weight(self, policy: PolicyPlan, env: Mapping[str, object], m: int) -> np.ndarray:
        """Perceived credibility times cost of a threat, over ``m`` trials."""
        if isinstance(env, Subset):
            cache = self.model.cache
            perceived, cost = (
                cache.value_at(policy.perceived, env),
                cache.value_at(policy.cost, env),
            )
        else:
            perceived, cost = policy.perceived(env), policy.cost(env)  # type: ignore[misc]
        return column(perceived, m) * column(cost, m)

    def rung_views(self, sub: Mapping[str, object]) -> list[Mapping[str, object]]:
        """The environment of ``sub`` as it would be with the decider on each rung."""
        key = self.decider.key
        peak = sub[f"{key}.peak"]
        return [
            Overlay(sub, {f"{key}.rung": float(r), f"{key}.peak": np.maximum(peak, r)})
            for r in range(len(self.decider.ladder))
        ]
