"""The crisis model: one :class:`mesa.Model` plays a block of trials, one day per step.

Each step (a day) runs in this order:

1. deliveries of aid and reinforcement that fall due today arrive;
2. path parameters, forces and capabilities take today's values;
3. actors move in the scenario's order: each carries out its policies; the challenger also
   takes its decision (end, hold or climb);
4. events (spill-over hazards) may move the crisis up the ladder;
5. the day is recorded: peaks, first days on each violent rung, the timeline counts.

Every array has the block's trials on its last axis, so one step plays every trial at once.
With ``n == 1`` it is an ordinary single-trial Mesa model, the fair per-trial baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from escalation.model.actor import Actor, Challenger, as_array
from escalation.model.plan import FROZEN, SETTLEMENT, STAND_DOWN, Plan

#: How a trial that is no longer live ended.
LIVE, ENDED, ABSORBED = 0, 1, 2


@dataclass
class BlockResult:
    """What one block of trials produced: per-trial records and per-day counts."""

    parameters: dict[str, np.ndarray]
    types: np.ndarray
    outcome: np.ndarray
    outcome_day: np.ndarray
    peak: np.ndarray
    sanctions: np.ndarray
    aid: np.ndarray
    granted: np.ndarray
    first_day: np.ndarray  # (violent outcomes, n); -1 where never reached
    rung_counts: np.ndarray  # (horizon + 1, rungs): live trials on each rung; absorbed on absorbing
    ended_counts: np.ndarray  # (horizon + 1, 3): settled, stood down, ended after violence
    outcome_counts: np.ndarray  # (horizon + 1, outcomes): provisional classification


class CrisisModel(mesa.Model):
    """A block of ``n`` trials of one scenario, vectorized over trials.

    Args:
        plan: the compiled scenario.
        n: number of trials in the block.
        seed: an integer that fixes every random draw of the block.
    """

    ROW_DECIDE = 0
    ROW_GUMBEL = 1  # 2 + R rows: one per option of the challenger

    def __init__(self, plan: Plan, n: int, seed: int) -> None:
        # An int seed: Mesa seeds both its numpy and stdlib generators from it without drawing.
        super().__init__(rng=seed)
        self.plan = plan
        self.n = n
        self.day = 0
        horizon = plan.horizon
        rng = self.rng

        self.values, self.points, self.types = plan.draw_world(rng, n)
        # One uniform per policy per trial decides, in advance, whether the policy is carried
        # out if it ever triggers: the trial's world, like its parameters.
        self.follow_draws = rng.random((len(plan.policies), n))
        self.path_weights = {name: p.weights(horizon) for name, p in plan.paths.items()}

        self.env: dict[str, object] = {"day": 0.0, "horizon": float(horizon), **self.values}
        self.actors: list[Actor] = []
        for index, key in enumerate(plan.actors):
            cls = Challenger if index == plan.challenger else Actor
            actor = cls(self, key, index)
            actor.publish()
            self.actors.append(actor)
        self.challenger: Challenger = self.actors[plan.challenger]  # type: ignore[assignment]

        self.choosable = np.array([rung.choosable for rung in plan.rungs])
        self.absorbing = np.array([rung.absorbing for rung in plan.rungs])
        self.live = np.ones(n, dtype=bool)
        self.status = np.full(n, LIVE, dtype=np.int8)
        self.end_day = np.full(n, horizon, dtype=np.int64)
        enabled = np.array([p.enabled for p in plan.policies], dtype=bool)
        self.pending = np.repeat(enabled[:, None], n, axis=1)
        self.due_day = np.full((len(plan.policies), n), -1, dtype=np.int64)
        self.due_amount = np.zeros((len(plan.policies), n))
        self.conceded = {
            (d, g): np.zeros(n, dtype=bool)
            for d, grantors in enumerate(plan.demand_grantors)
            for g in grantors
        }
        violent_rungs = [i for i, rung in enumerate(plan.rungs) if rung.outcome is not None]
        self.violent_rungs = np.array(violent_rungs, dtype=np.int64)
        self.first_day = np.full((len(violent_rungs), n), -1, dtype=np.int64)

        self.row_policy = self.ROW_GUMBEL + 2 + len(plan.rungs)
        self.row_event = self.row_policy + len(plan.policies)
        self.rows = self.row_event + len(plan.events)
        self.draws = np.empty((self.rows, n))
        self.rung_counts = np.zeros((horizon + 1, len(plan.rungs)), dtype=np.int64)
        self.ended_counts = np.zeros((horizon + 1, 3), dtype=np.int64)
        self.outcome_counts = np.zeros((horizon + 1, len(plan.outcomes)), dtype=np.int64)

        self._set_paths()
        for actor in self.actors:
            actor.refresh()
        self.after_move()
        self._record()

    # ----------------------------------------------------------------- environment

    def _set_paths(self) -> None:
        """Give path parameters today's value."""
        for name, (left, weight) in self.path_weights.items():
            points = self.points[name]
            i, w = left[self.day], weight[self.day]
            j = min(i + 1, len(points) - 1)
            self.env[name] = points[i] if w == 0.0 else points[i] + w * (points[j] - points[i])

    def gumbel(self, idx: np.ndarray) -> np.ndarray:
        """Today's Gumbel noise for the challenger's options in trials ``idx``, ``(2 + R, m)``."""
        u = self.draws[self.ROW_GUMBEL : self.row_policy, idx]
        with np.errstate(divide="ignore"):
            return -np.log(-np.log(u))

    def rung_terms(self) -> np.ndarray:
        """Today's gain, force, cost and holding cost of every rung, shape ``(4, R, n)``."""
        env = self.env
        out = np.empty((4, len(self.plan.rungs), self.n))
        for r, rung in enumerate(self.plan.rungs):
            out[0, r] = rung.gain(env)
            out[1, r] = rung.force(env)
            out[2, r] = rung.cost(env)
            out[3, r] = rung.hold_cost(env)
        return out

    def expected_threats(self, idx: np.ndarray) -> np.ndarray:
        """Perceived expected cost of pending threats that would fire at each rung, ``(R, m)``.

        For each policy that would cost the challenger, its condition is evaluated as if the
        challenger stood on each rung; a threat counts with its perceived credibility times its
        cost while it is pending (not yet triggered, whether it would be carried out or not).
        Only the trials ``idx`` (those deciding today) are returned.
        """
        plan = self.plan
        env = self.env
        out = np.zeros((len(plan.rungs), len(idx)))
        views = None
        for p, policy in enumerate(plan.policies):
            if policy.cost is None or not policy.enabled or not self.pending[p].any():
                continue
            if policy.reads_rung:
                if views is None:
                    views = self._rung_views()
                for r, view in enumerate(views):
                    out[r] += self._threat_weight(p, view, idx)
            else:
                out += self._threat_weight(p, env, idx)
        return out

    def _threat_weight(self, p: int, env: dict[str, object], idx: np.ndarray) -> np.ndarray:
        """Perceived credibility times cost of policy ``p`` where it would fire in ``env``.

        Zero where the policy is no longer pending or its condition does not hold.
        """
        policy = self.plan.policies[p]
        n = self.n
        holds = np.broadcast_to(policy.when(env), (n,))[idx] & self.pending[p, idx]
        perceived = as_array(policy.perceived(env), n)[idx]
        cost = as_array(policy.cost(env), n)[idx]
        return np.where(holds, perceived * cost, 0.0)

    def _rung_views(self) -> list[dict[str, object]]:
        """The environment as it would be with the challenger on each rung."""
        key = self.challenger.key
        views = []
        for r in range(len(self.plan.rungs)):
            view = dict(self.env)
            view[f"{key}.rung"] = float(r)
            view[f"{key}.peak"] = np.maximum(self.challenger.peak, r)
            views.append(view)
        return views

    # ----------------------------------------------------------------- moves

    def play_policy(self, p: int) -> None:
        """Trigger policy ``p`` where its condition holds, at its hazard; carry it out or not."""
        plan = self.plan
        policy = plan.policies[p]
        env = self.env
        n = self.n
        candidates = self.pending[p] & self.live
        if not candidates.any():
            return
        row = self.draws[self.row_policy + p]
        triggered = candidates & policy.when(env) & (row < as_array(policy.hazard(env), n))
        if not triggered.any():
            return
        self.pending[p] &= ~triggered
        done = triggered & (self.follow_draws[p] < as_array(policy.follow_through(env), n))
        if not done.any():
            return
        if policy.kind == "concede":
            actor = policy.actor
            self.conceded[(policy.demand, actor)] |= done
            self._update_granted()
            return
        amount = np.maximum(as_array(policy.amount(env), n), 0.0)
        target = self.actors[policy.target]
        if policy.kind == "sanction":
            target.sanctions += np.where(done, amount, 0.0)
            return
        lag = np.rint(np.maximum(as_array(policy.lag(env), n), 0.0)).astype(np.int64)
        now = done & (lag == 0)
        later = done & (lag > 0)
        self._deliver(policy.kind, target, np.where(now, amount, 0.0))
        self.due_day[p] = np.where(later, self.day + lag, self.due_day[p])
        self.due_amount[p] = np.where(later, amount, self.due_amount[p])

    def _deliver(self, kind: str, target: Actor, amount: np.ndarray) -> None:
        if kind == "aid":
            target.aid += amount
        else:
            target.reinforcement += amount
        target.capability += amount  # both add to the recipient's capability to resist

    def _arrivals(self) -> None:
        """Deliver aid and reinforcement that fall due today, to live trials."""
        for p, policy in enumerate(self.plan.policies):
            if policy.kind not in ("aid", "reinforce"):
                continue
            due = (self.due_day[p] == self.day) & self.live
            if due.any():
                self._deliver(
                    policy.kind, self.actors[policy.target], np.where(due, self.due_amount[p], 0.0)
                )

    def _update_granted(self) -> None:
        plan = self.plan
        granted = np.zeros(self.n)
        for d, grantors in enumerate(plan.demand_grantors):
            all_agree = np.logical_and.reduce([self.conceded[(d, g)] for g in grantors])
            granted += plan.demand_weights[d] * all_agree
        self.challenger.granted[:] = granted

    def end_trials(self, mask: np.ndarray) -> None:
        """End the crisis diplomatically in ``mask``: the challenger takes what it has."""
        mask = mask & self.live
        self.status[mask] = ENDED
        self.end_day[mask] = self.day
        self.live &= ~mask

    def after_move(self) -> None:
        """Bookkeeping after the rung may have changed: peaks, first days, absorption."""
        ch = self.challenger
        np.maximum(ch.peak, ch.rung, out=ch.peak)
        absorbed = self.live & self.absorbing[ch.rung]
        if absorbed.any():
            self.status[absorbed] = ABSORBED
            self.end_day[absorbed] = self.day
            self.live &= ~absorbed
        if len(self.violent_rungs):
            reached = (ch.peak[None, :] >= self.violent_rungs[:, None]) & (self.first_day < 0)
            self.first_day[reached] = self.day

    def _events(self) -> None:
        """Spill-over hazards: while an event's condition holds, it moves the crisis up."""
        ch = self.challenger
        for e, event in enumerate(self.plan.events):
            row = self.draws[self.row_event + e]
            fire = self.live & event.when(self.env) & (row < as_array(event.rate(self.env), self.n))
            if fire.any():
                np.maximum(ch.rung, np.where(fire, event.to_rung, 0), out=ch.rung)
                self.after_move()

    # ----------------------------------------------------------------- the day

    def step(self) -> None:
        """Play one day of every live trial."""
        self.day += 1
        self.env["day"] = float(self.day)
        self.rng.random(out=self.draws)
        self._arrivals()
        self._set_paths()
        for actor in self.actors:
            actor.refresh()
        self.agents.do("step")
        self._events()
        self._record()

    def classify(self) -> np.ndarray:
        """Outcome code of every trial if the crisis were judged now."""
        ch = self.challenger
        violent = self.plan.rung_outcome[ch.peak]
        ended = self.status == ENDED
        diplomatic = np.where(ended, np.where(ch.granted > 0, SETTLEMENT, STAND_DOWN), FROZEN)
        return np.where(violent >= 0, violent, diplomatic)

    def _record(self) -> None:
        ch = self.challenger
        day = self.day
        # No live trial stands on an absorbing rung, so its count is the trials absorbed there
        # (the provisional outcome would also count live trials on plain rungs above it).
        counted = self.live | (self.status == ABSORBED)
        self.rung_counts[day] = np.bincount(ch.rung[counted], minlength=len(self.plan.rungs))
        ended = self.status == ENDED
        violent = self.plan.rung_outcome[ch.peak] >= 0
        settled = np.count_nonzero(ended & ~violent & (ch.granted > 0))
        after_violence = np.count_nonzero(ended & violent)
        self.ended_counts[day] = (
            settled,
            np.count_nonzero(ended) - settled - after_violence,
            after_violence,
        )
        self.outcome_counts[day] = np.bincount(self.classify(), minlength=len(self.plan.outcomes))

    def play(self) -> BlockResult:
        """Play every day to the horizon (or until no trial is live) and return the records."""
        horizon = self.plan.horizon
        while self.day < horizon and self.live.any():
            self.step()
        if self.day < horizon:  # every trial ended early: the rest of the timeline is flat
            last = self.day
            self.rung_counts[last + 1 :] = self.rung_counts[last]
            self.ended_counts[last + 1 :] = self.ended_counts[last]
            self.outcome_counts[last + 1 :] = self.outcome_counts[last]
        return self.result()

    def result(self) -> BlockResult:
        """The per-trial records and per-day counts as they stand."""
        plan = self.plan
        ch = self.challenger
        outcome = self.classify()
        n_diplomatic = len(plan.outcomes) - len(self.violent_rungs)
        violent = outcome >= n_diplomatic
        first = (
            self.first_day[np.clip(outcome - n_diplomatic, 0, None), np.arange(self.n)]
            if len(self.violent_rungs)
            else np.zeros(self.n, dtype=np.int64)
        )
        outcome_day = np.where(violent, first, self.end_day)
        parameters = dict(self.values)
        for name, points in self.points.items():
            for day, row in zip(plan.paths[name].days, points, strict=True):
                parameters[f"{name}@{int(day)}"] = row
        return BlockResult(
            parameters=parameters,
            types=self.types,
            outcome=outcome,
            outcome_day=outcome_day,
            peak=ch.peak.copy(),
            sanctions=ch.sanctions.copy(),
            aid=self.actors[plan.target].aid.copy(),
            granted=ch.granted.copy(),
            first_day=self.first_day.copy(),
            rung_counts=self.rung_counts,
            ended_counts=self.ended_counts,
            outcome_counts=self.outcome_counts,
        )
