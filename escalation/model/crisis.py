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

What keeps a day cheap, without changing a single digit of the results:

- an expression is evaluated again only when a name it reads has changed (:meth:`value`);
  equal expressions share one value, and those on fixed parameters are computed once per block;
- work that concerns a few trials (those deciding today, those a policy or event may touch)
  is done on those trials alone (:class:`~escalation.model.environment.Subset`): expressions
  are elementwise, so each trial gets exactly the value it would get over the whole block;
- what is fixed for the block (rung terms, the weights of threats) is tabulated per trial
  once, and the daily counts are updated only where a trial's state changed;
- sums keep their order (threats in policy order, from zero), so the floating-point results
  are those of computing everything afresh each day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mesa
import numpy as np

from escalation.model.actor import Actor, Challenger
from escalation.model.environment import Overlay, Subset, column
from escalation.model.plan import FROZEN, SETTLEMENT, STAND_DOWN, Plan, PolicyPlan
from escalation.scenario.conditions import Expression

#: How a trial that is no longer live ended.
LIVE, ENDED, ABSORBED = 0, 1, 2


class _Memo:
    """The value of one expression over all trials, kept until a name it reads changes."""

    __slots__ = ("fixed", "stale", "value", "version")

    def __init__(self, fixed: bool) -> None:
        self.fixed = fixed  # reads only parameters fixed for the block
        self.stale = True
        self.value: np.ndarray | float | bool = 0.0
        self.version = 0  # how many times it was computed: a change for those who copy it


def _at_least_one(expression: Expression) -> bool:
    """Whether ``expression`` is a constant of at least 1 (a sure hazard or follow-through)."""
    return expression.is_constant and bool(expression({}) >= 1.0)


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
        # Parameters without a path keep their values for the whole block; every other name
        # (the day, paths, actors' state) has a version that moves when its value changes, so
        # an expression is evaluated again only when something it reads has changed.
        self._fixed = frozenset(self.values) | {"horizon"}
        self._version = {name: 0 for name in self.env if name not in self._fixed}
        self._version.update((name, 0) for name in plan.paths)
        self._readers: dict[str, list[_Memo]] = {name: [] for name in self._version}
        self._memo: dict[int, tuple[Expression, _Memo]] = {}
        self._by_text: dict[Expression, _Memo] = {}
        self._path_at: dict[str, tuple[int, float]] = {}
        self._changing_terms: list[tuple[int, int, Expression]] = []
        self._threat_weights: dict[int, np.ndarray] | None = None
        self._stale_threats: list[np.ndarray] = []
        self._changed: list[np.ndarray] | None = None  # set up once the state is complete
        # Policies whose hazard or follow-through is a constant of at least 1: uniform draws
        # are below 1, so they trigger (or are carried out) wherever they may.
        self._sure_hazard = {
            p for p, policy in enumerate(plan.policies) if _at_least_one(policy.hazard)
        }
        self._sure_follow = {
            p for p, policy in enumerate(plan.policies) if _at_least_one(policy.follow_through)
        }
        # Threats the challenger weighs, and whether their condition and their weight
        # (perceived credibility, cost) read its rung or peak.
        rung_keys = {f"{plan.actors[plan.challenger]}.rung", f"{plan.actors[plan.challenger]}.peak"}
        self._threats = [
            p
            for p, policy in enumerate(plan.policies)
            if policy.cost is not None and policy.enabled
        ]
        # Aid and reinforcement for the challenger's target: promised support it anticipates.
        self.support_policies = [
            p
            for p, policy in enumerate(plan.policies)
            if policy.enabled
            and policy.kind in ("aid", "reinforce")
            and policy.target == plan.target
        ]
        self._rung_keys = rung_keys
        self._threat_reads = {
            p: (
                bool(plan.policies[p].when.names & rung_keys),
                bool((plan.policies[p].perceived.names | plan.policies[p].cost.names) & rung_keys),
            )
            for p in self._threats
        }

        self.choosable = np.array([rung.choosable for rung in plan.rungs])
        self.choosable_rungs = np.flatnonzero(self.choosable)
        self.absorbing = np.array([rung.absorbing for rung in plan.rungs])
        self.live = np.ones(n, dtype=bool)
        self.status = np.full(n, LIVE, dtype=np.int8)
        self.end_day = np.full(n, horizon, dtype=np.int64)
        enabled = np.array([p.enabled for p in plan.policies], dtype=bool)
        self.pending = np.repeat(enabled[:, None], n, axis=1)
        self.due_day = np.full((len(plan.policies), n), -1, dtype=np.int64)
        self.due_amount = np.zeros((len(plan.policies), n))
        #: For each aid or reinforcement policy, the days on which a delivery falls due.
        self._due_days: dict[int, set[int]] = {
            p: set()
            for p, policy in enumerate(plan.policies)
            if policy.kind in ("aid", "reinforce")
        }
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
        # After today, only actors whose forces or capability can change need a refresh.
        receivers = {p.target for p in plan.policies if p.kind in ("aid", "reinforce")}
        self._changing_actors = [
            actor
            for actor in self.actors
            if actor.index in receivers
            or (plan.forces[actor.index].names | plan.capability[actor.index].names) - self._fixed
        ]
        self._prepare_table()
        self.after_move()
        self._changed: list[np.ndarray] = []
        self._prepare_record()
        self._record()

    # ----------------------------------------------------------------- environment

    def touch(self, name: str) -> None:
        """Record that the value of ``name`` in the environment has changed.

        Every change to an array of the environment must be followed by a touch: cached
        values of the expressions that read it are then computed again when next asked for.
        """
        self._version[name] += 1
        for memo in self._readers[name]:
            memo.stale = True

    def version(self, name: str) -> int:
        """How many times ``name`` has changed: a change for those who copy its value."""
        return self._version[name]

    def memo(self, expression: Expression) -> _Memo:
        """The cached value of ``expression``, shared by every expression of the same text."""
        found = self._memo.get(id(expression))
        if found is None:
            memo = self._by_text.get(expression)
            if memo is None:
                changing = expression.names - self._fixed
                memo = self._by_text[expression] = _Memo(not changing)
                for name in changing:
                    self._readers[name].append(memo)
            # Holding the expression keeps its id from being reused by another object.
            found = self._memo[id(expression)] = (expression, memo)
        return found[1]

    def value(self, expression: Expression) -> np.ndarray | float | bool:
        """The value of ``expression`` over all trials now, evaluated only if its inputs changed.

        Expressions equal in text share one entry, so a condition that several policies use
        is evaluated once; one that reads only fixed parameters, once per block. The value is
        shared: callers must not modify it.
        """
        memo = self.memo(expression)
        if memo.stale:
            memo.value = expression(self.env)
            memo.stale = False
            memo.version += 1
        return memo.value

    def _set_paths(self) -> None:
        """Give path parameters today's value (a new array only when it changes)."""
        for name, (left, weight) in self.path_weights.items():
            i, w = left[self.day], weight[self.day]
            if self._path_at.get(name) == (i, w):
                continue  # same segment and weight as yesterday: the same values
            self._path_at[name] = (i, w)
            points = self.points[name]
            j = min(i + 1, len(points) - 1)
            self.env[name] = points[i] if w == 0.0 else points[i] + w * (points[j] - points[i])
            self.touch(name)

    def gumbel(self, idx: np.ndarray, options: np.ndarray | None = None) -> np.ndarray:
        """Today's Gumbel noise for the challenger's options in trials ``idx``, ``(k, m)``.

        ``options`` picks the options (default: all ``2 + R``).
        """
        if options is None:
            u = self.draws[self.ROW_GUMBEL : self.row_policy, idx]
        else:
            u = np.empty((len(options), len(idx)))
            for i, option in enumerate(options):
                u[i] = self.draws[self.ROW_GUMBEL + option, idx]
        with np.errstate(divide="ignore"):
            return -np.log(-np.log(u))

    def value_at(self, expression: Expression, sub: Subset) -> np.ndarray | float | bool:
        """The value of ``expression`` in the trials of ``sub``.

        Taken from today's value over all trials when that is current (always, for fixed
        parameters), else computed on those trials alone: expressions are elementwise, so
        either way each trial gets exactly the value it would have over the whole block.
        """
        memo = self.memo(expression)
        if memo.stale and not memo.fixed:
            return expression(sub)
        value = self.value(expression)
        return value[sub.idx] if isinstance(value, np.ndarray) else value

    def _prepare_table(self) -> None:
        """Tabulate, per trial, what stays fixed for the block: rung terms and threat weights.

        Rung terms on fixed parameters go in once. A threat whose condition, credibility and
        cost read only fixed parameters and the challenger's rung weighs the same every day
        while it is pending, so its weight at each rung goes in once too, and the table holds
        the sum over the pending threats, updated only where one triggers.
        """
        plan = self.plan
        n, rungs = self.n, len(plan.rungs)
        table = np.zeros((n, 5, rungs))
        for r, rung in enumerate(plan.rungs):
            for f, expression in enumerate((rung.gain, rung.force, rung.cost, rung.hold_cost)):
                if expression.names - self._fixed:
                    self._changing_terms.append((f, r, expression))
                else:
                    table[:, f, r] = self.value(expression)
        self._table = table
        rung_key = f"{self.challenger.key}.rung"
        readable = self._fixed | {rung_key}
        policies = [plan.policies[p] for p in self._threats]
        if not all(
            (policy.when.names | policy.perceived.names | policy.cost.names) <= readable
            for policy in policies
        ):
            return  # weighed each day by expected_threats
        self._threat_weights = {}
        for p, policy in zip(self._threats, policies, strict=True):
            weights = np.empty((n, rungs))
            for r in range(rungs):
                view = Overlay(self.env, {rung_key: float(r)})
                holds = np.broadcast_to(policy.when(view), (n,))
                weight = column(policy.perceived(view), n) * column(policy.cost(view), n)
                weights[:, r] = np.where(holds, weight, 0.0)
            self._threat_weights[p] = weights
        self._update_threats(np.arange(n))

    def _update_threats(self, idx: np.ndarray) -> None:
        """Sum again the tabulated weights of the threats still pending in trials ``idx``.

        The sum runs over the threats in the same order, from zero, as on any day: a trial
        gets exactly the digits it would get if every threat were weighed afresh.
        """
        total = np.zeros((len(idx), len(self.plan.rungs)))
        for p, weights in self._threat_weights.items():
            pending = self.pending[p, idx]
            if pending.any():
                total += np.where(pending[:, None], weights[idx], 0.0)
        self._table[idx, 4, :] = total

    def rung_terms(self, idx: np.ndarray, sub: Subset | None = None) -> np.ndarray:
        """Today's terms of every rung in trials ``idx``, shape ``(5, R, m)``.

        Gain, force, cost, holding cost and the expected cost of the threats that would fire
        there (:meth:`expected_threats`). What is fixed for the block comes from a table made
        once; only what changes (with the day, a path or the state) is computed each time.
        """
        if self._stale_threats:  # threats triggered since the last look
            self._update_threats(np.unique(np.concatenate(self._stale_threats)))
            self._stale_threats.clear()
        out = self._table[idx].transpose(1, 2, 0)
        if self._changing_terms:
            sub = Subset(self.env, idx) if sub is None else sub
            for f, r, expression in self._changing_terms:
                out[f, r] = self.value_at(expression, sub)
        if self._threat_weights is None:
            out[4] = self.expected_threats(idx, sub)
        return out

    def expected_threats(self, idx: np.ndarray, sub: Subset | None = None) -> np.ndarray:
        """Perceived expected cost of pending threats that would fire at each rung, ``(R, m)``.

        For each policy that would cost the challenger, its condition is evaluated as if the
        challenger stood on each rung; a threat counts with its perceived credibility times its
        cost while it is pending (not yet triggered, whether it would be carried out or not).
        Only the trials ``idx`` (those deciding today) are evaluated.
        """
        plan = self.plan
        m = len(idx)
        out = np.zeros((len(plan.rungs), m))
        sub = Subset(self.env, idx) if sub is None else sub
        views = None
        for p in self._threats:
            if not self.pending[p].any():
                continue
            policy = plan.policies[p]
            pending = self.pending[p, idx]
            if not policy.reads_rung:
                holds = self.value_at(policy.when, sub) & pending
                weight = self._weight(policy, sub, m)
                out += np.where(holds, weight, 0.0)
                continue
            if views is None:
                views = self._rung_views(sub)
            # What does not read the rung is the same on every rung: compute it once.
            when_reads, weight_reads = self._threat_reads[p]
            when = None if when_reads else self.value_at(policy.when, sub)
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

    def expected_support(self, idx: np.ndarray, sub: Subset) -> np.ndarray:
        """Capability the challenger expects its target to gain, at each rung, ``(R, m)``.

        Aid and reinforcement for the target that are in transit count in full (they are on
        their way); a pending policy counts with its perceived credibility times its amount on
        the rungs where its condition would hold. Without this, a promised delivery would deter
        nothing until it had arrived.
        """
        plan = self.plan
        m = len(idx)
        out = np.zeros((len(plan.rungs), m))
        views = None
        for p in self.support_policies:
            policy = plan.policies[p]
            # After a policy triggers, its delivery (if carried out) waits in due_day/due_amount.
            out += np.where(self.due_day[p, idx] > self.day, self.due_amount[p, idx], 0.0)
            pending = self.pending[p, idx]
            if not pending.any():
                continue
            amount = np.maximum(column(self.value_at(policy.amount, sub), m), 0.0)
            weight = column(self.value_at(policy.perceived, sub), m) * amount
            if policy.when.names & self._rung_keys:
                if views is None:
                    views = self._rung_views(sub)
                for r, view in enumerate(views):
                    holds = np.broadcast_to(policy.when(view), (m,)) & pending
                    out[r] += np.where(holds, weight, 0.0)
            else:
                holds = np.broadcast_to(self.value_at(policy.when, sub), (m,)) & pending
                out += np.where(holds, weight, 0.0)
        return out

    def _weight(self, policy: PolicyPlan, env: Mapping[str, object], m: int) -> np.ndarray:
        """Perceived credibility times cost of a threat, over ``m`` trials."""
        if isinstance(env, Subset):
            perceived, cost = self.value_at(policy.perceived, env), self.value_at(policy.cost, env)
        else:
            perceived, cost = policy.perceived(env), policy.cost(env)
        return column(perceived, m) * column(cost, m)

    def _rung_views(self, sub: Subset) -> list[Mapping[str, object]]:
        """The environment of ``sub`` as it would be with the challenger on each rung."""
        key = self.challenger.key
        peak = sub[f"{key}.peak"]
        return [
            Overlay(sub, {f"{key}.rung": float(r), f"{key}.peak": np.maximum(peak, r)})
            for r in range(len(self.plan.rungs))
        ]

    # ----------------------------------------------------------------- moves

    def play_policy(self, p: int) -> None:
        """Trigger policy ``p`` where its condition holds, at its hazard; carry it out or not.

        Only the trials where it may trigger are touched: a condition that holds in few
        trials, or a small hazard, leaves little to compute beyond the first test.
        """
        policy = self.plan.policies[p]
        env = self.env
        candidates = self.pending[p] & self.live
        when = self.value(policy.when)
        if isinstance(when, np.ndarray):
            candidates &= when
        elif not when:
            return
        if p in self._sure_hazard:
            idx = np.flatnonzero(candidates)
        else:
            count = np.count_nonzero(candidates)
            if not count:
                return
            row = self.draws[self.row_policy + p]
            if 4 * count >= self.n:  # most trials: test them all, keep the few that trigger
                candidates &= row < self.value(policy.hazard)
                idx = np.flatnonzero(candidates)
            else:  # few trials: evaluate the hazard on those alone
                idx = np.flatnonzero(candidates)
                idx = idx[row[idx] < self.value_at(policy.hazard, Subset(env, idx))]
        if not len(idx):
            return
        self.pending[p, idx] = False
        if self._threat_weights is not None and p in self._threat_weights:
            self._stale_threats.append(idx)
        if p in self._sure_follow:
            done = idx
        else:
            follow = self.value_at(policy.follow_through, Subset(env, idx))
            done = idx[self.follow_draws[p, idx] < follow]
            if not len(done):
                return
        if policy.kind == "concede":
            self.conceded[(policy.demand, policy.actor)][done] = True
            self._update_granted(done)
            return
        sub = Subset(env, done)
        amount = np.maximum(column(self.value_at(policy.amount, sub), len(done)), 0.0)
        target = self.actors[policy.target]
        if policy.kind == "sanction":
            target.sanctions[done] += amount
            self.touch(f"{target.key}.sanctions")
            return
        lag = np.rint(np.maximum(column(self.value_at(policy.lag, sub), len(done)), 0.0))
        lag = lag.astype(np.int64)
        now = lag == 0
        self._deliver(policy.kind, target, done[now], amount[now])
        later = ~now
        if later.any():
            due = self.day + lag[later]
            self.due_day[p, done[later]] = due
            self.due_amount[p, done[later]] = amount[later]
            self._due_days[p].update(due.tolist())

    def _deliver(self, kind: str, target: Actor, idx: np.ndarray, amount: np.ndarray) -> None:
        """Add aid or reinforcement to ``target`` in trials ``idx``."""
        if not len(idx):
            return
        if kind == "aid":
            target.aid[idx] += amount
            self.touch(f"{target.key}.aid")
        else:
            target.reinforcement[idx] += amount
            self.touch(f"{target.key}.reinforcement")
        target.capability[idx] += amount  # both add to the recipient's capability to resist
        self.touch(f"{target.key}.capability")

    def _arrivals(self) -> None:
        """Deliver aid and reinforcement that fall due today, to live trials."""
        for p, days in self._due_days.items():
            if self.day not in days:
                continue
            days.discard(self.day)
            policy = self.plan.policies[p]
            due = np.flatnonzero((self.due_day[p] == self.day) & self.live)
            self._deliver(policy.kind, self.actors[policy.target], due, self.due_amount[p, due])

    def _update_granted(self, idx: np.ndarray) -> None:
        """Recompute the share of demands granted in trials ``idx``."""
        plan = self.plan
        granted = np.zeros(len(idx))
        for d, grantors in enumerate(plan.demand_grantors):
            all_agree = np.logical_and.reduce([self.conceded[(d, g)][idx] for g in grantors])
            granted += plan.demand_weights[d] * all_agree
        self.challenger.granted[idx] = granted
        self.touch(f"{self.challenger.key}.granted")
        self._changed.append(idx)

    def end_at(self, idx: np.ndarray) -> None:
        """End the crisis diplomatically in the live trials ``idx``."""
        self.status[idx] = ENDED
        self.end_day[idx] = self.day
        self.live[idx] = False
        self._changed.append(idx)

    def after_move(self, idx: np.ndarray | None = None) -> None:
        """Bookkeeping after the rung may have changed: peaks, first days, absorption.

        ``idx`` lists the trials whose rung may have changed (default: all); no other
        trial's peak, first days or absorption can change.
        """
        ch = self.challenger
        if idx is None:
            idx = np.arange(self.n)
        elif not len(idx):
            return
        rung = ch.rung[idx]
        peak = np.maximum(ch.peak[idx], rung)
        ch.peak[idx] = peak
        self.touch(f"{ch.key}.peak")
        if self._changed is not None:
            self._changed.append(idx)
        absorbed = idx[self.live[idx] & self.absorbing[rung]]
        if len(absorbed):
            self.status[absorbed] = ABSORBED
            self.end_day[absorbed] = self.day
            self.live[absorbed] = False
        if len(self.violent_rungs):
            first = self.first_day[:, idx]
            first[(peak[None, :] >= self.violent_rungs[:, None]) & (first < 0)] = self.day
            self.first_day[:, idx] = first

    def _events(self) -> None:
        """Spill-over hazards: while an event's condition holds, it moves the crisis up."""
        ch = self.challenger
        for e, event in enumerate(self.plan.events):
            when = self.value(event.when)
            if isinstance(when, np.ndarray):
                idx = np.flatnonzero(self.live & when)
            elif when:
                idx = np.flatnonzero(self.live)
            else:
                continue
            if not len(idx):
                continue
            rate = self.value_at(event.rate, Subset(self.env, idx))
            fire = idx[self.draws[self.row_event + e, idx] < rate]
            if len(fire):
                ch.rung[fire] = np.maximum(ch.rung[fire], event.to_rung)
                self.touch(f"{ch.key}.rung")
                self.after_move(fire)

    # ----------------------------------------------------------------- the day

    def step(self) -> None:
        """Play one day of every live trial."""
        self.day += 1
        self.env["day"] = float(self.day)
        self.touch("day")
        self.rng.random(out=self.draws)
        self._arrivals()
        self._set_paths()
        for actor in self._changing_actors:
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

    def _prepare_record(self) -> None:
        """Set up the daily counts, kept per state of a trial and updated where one changes.

        A trial's state for the counts is its rung, status, peak and whether anything was
        granted; ``_tally[k]`` counts the trials in state ``k`` and ``_sorts`` maps a state to
        the columns of the day's counts it adds to (computed by the same rules as for one
        trial, so the counts are those of a full recount).
        """
        plan = self.plan
        rungs, outcomes = len(plan.rungs), len(plan.outcomes)
        state = np.arange(rungs * 3 * rungs * 2)
        granted = state % 2
        peak = state // 2 % rungs
        status = state // (2 * rungs) % 3
        rung = state // (6 * rungs)
        sorts = np.zeros((len(state), rungs + 3 + outcomes), dtype=np.int64)
        # No live trial stands on an absorbing rung, so its count is the trials absorbed there
        # (the provisional outcome would also count live trials on plain rungs above it).
        counted = np.flatnonzero((status == LIVE) | (status == ABSORBED))
        sorts[counted, rung[counted]] = 1
        ended = status == ENDED
        violent = plan.rung_outcome[peak] >= 0
        settled = ended & ~violent & (granted > 0)
        after_violence = ended & violent
        sorts[:, rungs] = settled
        sorts[:, rungs + 1] = ended & ~settled & ~after_violence
        sorts[:, rungs + 2] = after_violence
        diplomatic = np.where(ended, np.where(granted > 0, SETTLEMENT, STAND_DOWN), FROZEN)
        outcome = np.where(plan.rung_outcome[peak] >= 0, plan.rung_outcome[peak], diplomatic)
        sorts[state, rungs + 3 + outcome] = 1
        self._sorts = sorts
        self._state = self._state_of(np.arange(self.n))
        self._tally = np.bincount(self._state, minlength=len(state))

    def _state_of(self, idx: np.ndarray) -> np.ndarray:
        ch = self.challenger
        rungs = len(self.plan.rungs)
        state = (ch.rung[idx] * 3 + self.status[idx]) * rungs + ch.peak[idx]
        return state * 2 + (ch.granted[idx] > 0)

    def _record(self) -> None:
        """Count the day: rungs of live (and absorbed) trials, endings, provisional outcomes."""
        if self._changed:  # trials whose rung, status, peak or grant changed today
            idx = np.unique(np.concatenate(self._changed))
            self._changed.clear()
            state = self._state_of(idx)
            size = len(self._tally)
            self._tally -= np.bincount(self._state[idx], minlength=size)
            self._tally += np.bincount(state, minlength=size)
            self._state[idx] = state
        counts = self._tally @ self._sorts
        rungs = len(self.plan.rungs)
        day = self.day
        self.rung_counts[day] = counts[:rungs]
        self.ended_counts[day] = counts[rungs : rungs + 3]
        self.outcome_counts[day] = counts[rungs + 3 :]

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

    def release(self) -> None:
        """Free the block's working arrays now; the model cannot be used afterwards.

        A Mesa model sits in reference cycles (its agents point back to it, and it holds its
        own wrapped ``step``) that only Python's cyclic collector frees, and only now and
        then: an engine playing block after block would otherwise hold many blocks' arrays.
        The result of :meth:`play` does not refer to the model and stays valid.
        """
        self.remove_all_agents()
        vars(self).clear()

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
