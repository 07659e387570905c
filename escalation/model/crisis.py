"""The crisis model: one :class:`mesa.Model` plays a block of trials, one day per step.

Each step (a day) runs in this order:

1. deliveries of aid and reinforcement that fall due today arrive;
2. path parameters, forces and capabilities take today's values;
3. actors move in the scenario's order, each carrying out its policies; at the turn of the
   first decider (after its own policies), every decider chooses at once (end, hold, move,
   concede) on the same state, and the moves take effect together;
4. events (spill-over hazards) may move deciders up their ladders;
5. the day is recorded: peaks, first days on each violent outcome, the daily tally.

A trial stays live while some decider still presses a demand (it has not ended its part and
not every demand it makes is met) and no absorbing rung has been reached.

Every array has the block's trials on its last axis, so one step plays every trial at once.
With ``n == 1`` it is an ordinary single-trial Mesa model, the fair per-trial baseline.
"""

from __future__ import annotations

from collections.abc import Mapping

import mesa
import numpy as np

from escalation.model.actions import ACTIONS
from escalation.model.actor import Actor, Decider
from escalation.model.beliefs import Beliefs
from escalation.model.cache import ExpressionCache
from escalation.model.environment import Overlay, Subset
from escalation.model.plan import FROZEN, SETTLEMENT, STAND_DOWN, Plan
from escalation.model.records import PRESSING, SATISFIED, BlockResult, accumulated
from escalation.model.tally import ABSORBED, ENDED, LIVE, Tally
from escalation.model.terms import RungTerms
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.conditions import Expression


def _at_least_one(expression: Expression) -> bool:
    """Whether ``expression`` is a constant of at least 1 (a sure hazard or follow-through)."""
    return expression.is_constant and bool(expression({}) >= 1.0)


class CrisisModel(mesa.Model):
    """A block of ``n`` trials of one scenario, vectorized over trials.

    Args:
        plan: the compiled scenario.
        n: number of trials in the block.
        seed: an integer that fixes every random draw of the block.
        first: the number of the block's first trial in the run (for messages).
    """

    def __init__(self, plan: Plan, n: int, seed: int, first: int = 0) -> None:
        # An int seed: Mesa seeds both its numpy and stdlib generators from it without drawing.
        super().__init__(rng=seed)
        self.plan = plan
        self.n = n
        self.day = 0
        horizon = plan.horizon
        rng = self.rng

        self.world = plan.draw_world(rng, n)
        values = self.world.values
        # One uniform per policy per trial decides, in advance, whether the policy is carried
        # out if it ever triggers: the trial's world, like its parameters.
        self.follow_draws = rng.random((len(plan.policies), n))
        self.path_weights = {name: p.weights(horizon) for name, p in plan.paths.items()}
        self._path_at: dict[str, tuple[int, int, float]] = {}

        env: dict[str, object] = {"day": 0.0, "horizon": float(horizon), **values}
        self.cache = ExpressionCache(env, frozenset(values) | {"horizon"})
        self.env = env
        self.cache.declare("day")
        for name in plan.paths:
            self.cache.declare(name)

        self.live = np.ones(n, dtype=bool)
        self.status = np.full(n, LIVE, dtype=np.int8)
        self.end_day = np.full(n, horizon, dtype=np.int64)
        self.ended_by = np.zeros(n, dtype=np.int64)
        enabled = np.array([p.enabled for p in plan.policies], dtype=bool)
        self.pending = np.repeat(enabled[:, None], n, axis=1)
        self.due_day = np.full((len(plan.policies), n), -1, dtype=np.int64)
        self.due_amount = np.zeros((len(plan.policies), n))
        #: For each delivering policy, the days on which a delivery falls due.
        self._due_days: dict[int, set[int]] = {
            p: set() for p, policy in enumerate(plan.policies) if policy.adds_capability
        }
        self.conceded = {
            (d, g): np.zeros(n, dtype=bool)
            for d, demand in enumerate(plan.demands)
            for g in demand.grantors
        }
        self.granted = [np.zeros(n, dtype=bool) for _ in plan.demands]  # by concessions
        self.met = [np.zeros(n, dtype=bool) for _ in plan.demands]  # granted, or met_when
        self.met_value = [np.zeros(n) for _ in plan.demands]  # published as <demand>.granted
        self.day_granted = [np.full(n, -1, dtype=np.int64) for _ in plan.demands]
        self.conceded_any = np.zeros(n, dtype=bool)
        for d, demand in enumerate(plan.demands):
            key = f"{demand.name}.granted"
            env[key] = self.met_value[d]
            self.cache.declare(key)
        self._met_when = [d for d, demand in enumerate(plan.demands) if demand.met_when]
        self._met_seen = dict.fromkeys(self._met_when, -1)
        self._unsettled: list[np.ndarray] = []
        self._dirty_demands: set[int] = set(range(len(plan.demands)))
        self._everyone = np.arange(n)
        self._deferred = False
        self.ended_today: list[tuple[int, np.ndarray]] = []

        self.actors: list[Actor] = []
        self.deciders: list[Decider] = []
        by_actor = {d.actor: d for d in plan.deciders}
        for index, key in enumerate(plan.actors):
            if index in by_actor:
                actor: Actor = Decider(self, by_actor[index])
                self.deciders.append(actor)  # type: ignore[arg-type]
            else:
                actor = Actor(self, key, index)
            actor.publish()
            self.actors.append(actor)
        self.deciders.sort(key=lambda d: d.plan.position)
        for decider in self.deciders:
            decider.attackers = [
                other for other in self.deciders if other.plan.target == decider.index
            ]
        self._demand_makers = [d for d in self.deciders if d.plan.demands]
        self._fighting = [d for d in self.deciders if d.campaigns is not None]
        self._dirty_makers: set[int] = set()

        self.severity = np.full(n, -1, dtype=np.int64)  # code of the gravest outcome reached
        self.absorbed_code = np.full(n, -1, dtype=np.int64)
        self.first_day = np.full((len(plan.violent), n), -1, dtype=np.int64)
        self._violent_codes = np.arange(len(plan.outcomes) - len(plan.violent), len(plan.outcomes))
        self.draws = np.empty((plan.rows, n))
        self.tally = Tally(plan, n, horizon)
        # Policies whose hazard or follow-through is a constant of at least 1: uniform draws
        # are below 1, so they trigger (or are carried out) wherever they may.
        self._sure_hazard = {p for p, x in enumerate(plan.policies) if _at_least_one(x.hazard)}
        self._sure_follow = {
            p for p, x in enumerate(plan.policies) if _at_least_one(x.follow_through)
        }

        self.first = first
        self._check_fixed_values()
        self._set_paths()
        for actor in self.actors:
            actor.refresh()
        # After today, only actors whose forces or capability can change need a refresh.
        receivers = {p.target for p in plan.policies if p.adds_capability}
        self._changing_actors = [
            actor
            for actor in self.actors
            if actor.index in receivers
            or (plan.forces[actor.index].names | plan.capability[actor.index].names)
            - self.cache.fixed
        ]
        self.beliefs = Beliefs(self)  # before the rung terms: beliefs are state, not fixed
        self._owners: dict[int, list[RungTerms]] = {}
        for decider in self.deciders:
            decider.terms = RungTerms(self, decider.plan)
            for p in decider.plan.threats:
                self._owners.setdefault(p, []).append(decider.terms)
        for decider in self.deciders:
            self.after_move(decider, self._everyone)
        self._unsettled.append(self._everyone)
        self.settle()
        self._record()

    # ----------------------------------------------------------------- environment

    def _check_fixed_values(self) -> None:
        """Refuse an expression fixed for the trial that is NaN or infinite in some trial.

        Expressions on parameters alone are evaluated once per block anyway; one whose value the
        model cannot use (``1 / (x - x)``, say) is an error naming its field and the first trial
        concerned, not a silent NaN that closes options or never triggers.
        """
        cache = self.cache
        for loc, expression in self.plan.located:
            if expression.is_constant or not cache.is_fixed(expression):
                continue
            self.check_finite(loc, cache.value(expression), np.arange(self.n))

    def check_finite(
        self, loc: tuple[str | int, ...], value: np.ndarray | float, idx: np.ndarray
    ) -> None:
        """Raise :class:`ScenarioValueError` if ``value`` (over trials ``idx``) is not finite."""
        values = np.broadcast_to(np.asarray(value, dtype=float), (len(idx),))
        bad = ~np.isfinite(values)
        if bad.any():
            k = int(np.argmax(bad))
            raise ScenarioValueError(
                loc,
                f"evaluates to {values[k]} in trial {self.first + int(idx[k])} (day "
                f"{self.day}); every number the model uses must be finite",
            )

    def _set_paths(self) -> None:
        """Give path parameters today's value (a new array only when it changes)."""
        for name, (left, right, weight) in self.path_weights.items():
            i, j, w = left[self.day], right[self.day], weight[self.day]
            if self._path_at.get(name) == (i, j, w):
                continue  # same segment and weight as yesterday: the same values
            self._path_at[name] = (i, j, w)
            points = self.world.points[name]
            self.env[name] = points[i] if w == 0.0 else points[i] + w * (points[j] - points[i])
            self.cache.touch(name)

    # ----------------------------------------------------------------- decisions

    def decide(self) -> None:
        """Every decider chooses on the same state; then the moves take effect together."""
        choices = [(decider, *decider.choose()) for decider in self.deciders]
        self._deferred = True  # the moves take effect together: settle once, after all
        try:
            for decider, idx, choice in choices:
                if len(idx):
                    decider.apply(idx, choice)
        finally:
            self._deferred = False
        self.settle()

    def rivals_of(self, decider: Decider) -> bool:
        """Whether another decider makes demands, so the crisis may outlast this one's part."""
        return any(other is not decider for other in self._demand_makers)

    def pressing_after(
        self,
        who: Decider,
        idx: np.ndarray,
        sub: Mapping[str, object],
        end: bool = False,
        granted: tuple[int, ...] = (),
        moves: Mapping[int, int] | None = None,
    ) -> np.ndarray:
        """Whether some decider would still press in trials ``idx`` after a hypothetical move.

        ``end``: ``who`` ends its part (stands down, drops its demands); ``granted``: these
        demands are granted; ``moves``: these deciders (by position) stand on these rungs.
        Demands met by a condition are judged on the state the move would leave.
        """
        plan = self.plan
        m = len(idx)
        changes: dict[str, object] = {}
        if end:
            changes.update({f"{who.key}.rung": 0.0, f"{who.key}.ended": 1.0})
        for position, rung in (moves or {}).items():
            changes[f"{self.deciders[position].key}.rung"] = float(rung)
        view = Overlay(sub, changes) if changes else sub
        out = np.zeros(m, dtype=bool)
        for other in self._demand_makers:
            if end and other is who:
                continue
            unmet = np.zeros(m, dtype=bool)
            for d in other.plan.demands:
                if d in granted:
                    continue
                demand = plan.demands[d]
                if changes and demand.met_when is not None:
                    met = self.granted[d][idx] | np.broadcast_to(demand.met_when(view), (m,))
                else:
                    met = self.met[d][idx]
                unmet |= ~met
            out |= (other.ended[idx] == 0) & unmet
        return out

    def won(self, decider: Decider, idx: np.ndarray) -> None:
        """``decider`` won a campaign in trials ``idx``: its share met has risen."""
        self._dirty_makers.add(decider.plan.position)
        self._unsettled.append(idx)

    def decider_of(self, actor: int) -> Decider:
        """The decider who is actor ``actor``."""
        return next(d for d in self.deciders if d.index == actor)

    # ----------------------------------------------------------------- policies

    def play_policy(self, p: int) -> None:
        """Trigger policy ``p`` where its condition holds, at its hazard; carry it out or not.

        Only the trials where it may trigger are touched: a condition that holds in few
        trials, or a small hazard, leaves little to compute beyond the first test.
        """
        policy = self.plan.policies[p]
        cache = self.cache
        candidates = self.pending[p] & self.live
        when = cache.value(policy.when)
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
            row = self.draws[self.plan.row_policy + p]
            if 4 * count >= self.n:  # most trials: test them all, keep the few that trigger
                candidates &= row < cache.value(policy.hazard)
                idx = np.flatnonzero(candidates)
            else:  # few trials: evaluate the hazard on those alone
                idx = np.flatnonzero(candidates)
                idx = idx[row[idx] < cache.value_at(policy.hazard, Subset(self.env, idx))]
        if not len(idx):
            return
        self.pending[p, idx] = False
        for terms in self._owners.get(p, ()):
            terms.triggered(p, idx)
        if p in self._sure_follow:
            done = idx
        else:
            follow = cache.value_at(policy.follow_through, Subset(self.env, idx))
            done = idx[self.follow_draws[p, idx] < follow]
        self.beliefs.triggered(p, idx, done)  # the triggers are seen, carried out or not
        if len(done):
            ACTIONS[policy.kind].apply(self, p, policy, done)

    def deliver(self, p: int, idx: np.ndarray, amount: np.ndarray) -> None:
        """Add policy ``p``'s delivery to its recipient in trials ``idx``."""
        if not len(idx):
            return
        policy = self.plan.policies[p]
        target = self.actors[policy.target]
        attribute = ACTIONS[policy.kind].attribute  # type: ignore[attr-defined]
        getattr(target, attribute)[idx] += amount
        self.cache.touch(f"{target.key}.{attribute}")
        target.capability[idx] += amount  # deliveries add to the recipient's capability
        self.cache.touch(f"{target.key}.capability")

    def schedule(self, p: int, idx: np.ndarray, due: np.ndarray, amount: np.ndarray) -> None:
        """Put policy ``p``'s delivery in transit in trials ``idx``, arriving on days ``due``."""
        self.due_day[p, idx] = due
        self.due_amount[p, idx] = amount
        self._due_days[p].update(due.tolist())

    def _arrivals(self) -> None:
        """Deliver aid and reinforcement that fall due today, to live trials."""
        for p, days in self._due_days.items():
            if self.day not in days:
                continue
            days.discard(self.day)
            due = np.flatnonzero((self.due_day[p] == self.day) & self.live)
            self.deliver(p, due, self.due_amount[p, due])

    def concede(self, d: int, actor: int, idx: np.ndarray) -> None:
        """``actor`` concedes demand ``d`` in trials ``idx``; its trade group may complete."""
        plan = self.plan
        self.conceded[(d, actor)][idx] = True
        group = plan.demands[d].group
        complete = np.logical_and.reduce(
            [self.conceded[(g, x)][idx] for g in group for x in plan.demands[g].grantors]
        )
        done = idx[complete]
        if not len(done):
            return
        for g in group:
            self.granted[g][done] = True
            self._dirty_demands.add(g)
            for position, rung in plan.demands[g].on_grant:  # the deal's moves
                mover = self.deciders[position]
                mover.rung[done] = rung
                self.cache.touch(f"{mover.key}.rung")
                self.after_move(mover, done)
        self.conceded_any[done] = True
        self._unsettled.append(done)
        if not self._deferred:  # actors after this one today see the demand met
            self.settle()

    # ----------------------------------------------------------------- bookkeeping

    def settle(self) -> None:
        """Bring demands met, deciders pressing and trials live up to date after changes.

        A demand is met once granted (every grantor of every demand traded with it has
        conceded) or while its ``met_when`` holds. A decider presses while it has not ended
        and some demand it makes is unmet; a trial ends (diplomatically) once nobody presses.
        Only what may have changed is looked at: the trials where something was conceded or
        a decider ended, and every trial where a ``met_when`` condition took a new value.
        """
        plan = self.plan
        cache = self.cache
        dirty = self._dirty_demands
        for d in self._met_when:
            expression = plan.demands[d].met_when
            value = cache.value(expression)  # type: ignore[arg-type]
            version = cache.memo(expression).version  # type: ignore[arg-type]
            if version != self._met_seen[d]:
                self._met_seen[d] = version
                # Only the trials where the demand's being met would change need a look.
                flips = np.flatnonzero((self.granted[d] | value) != self.met[d])
                if len(flips):
                    dirty.add(d)
                    self._unsettled.append(flips)
        ended_today = self.ended_today
        if ended_today:
            self._unsettled += [idx for _, idx in ended_today]
            self.ended_today = []
        if not self._unsettled:
            return
        parts = self._unsettled
        idx = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
        self._unsettled = []
        idx = idx[self.live[idx]]
        if not len(idx):
            dirty.clear()
            return
        day = self.day
        changed_makers = set()
        for d in sorted(dirty):
            demand = plan.demands[d]
            met = self.granted[d][idx]
            if demand.met_when is not None:
                met = met | np.broadcast_to(cache.value(demand.met_when), (self.n,))[idx]
            if not np.array_equal(met, self.met[d][idx]):
                self.met[d][idx] = met
                self.met_value[d][idx] = met
                first = self.day_granted[d][idx]
                self.day_granted[d][idx] = np.where(met & (first < 0), day, first)
                cache.touch(f"{demand.name}.granted")
                changed_makers.add(demand.by)
        dirty.clear()
        changed_makers |= self._dirty_makers
        self._dirty_makers = set()
        pressing = np.zeros(len(idx), dtype=bool)
        for decider in self._demand_makers:
            if decider.plan.position in changed_makers:
                share = np.zeros(len(idx))
                for d in decider.plan.demands:  # in demand order, as a sum from scratch
                    share += plan.demands[d].weight * self.met[d][idx]
                share += decider.won[idx]  # what campaigns won
                total = decider.total_weight
                decider.met[idx] = np.minimum(share, total)
                decider.unmet[idx] = unmet = share < total - 1e-12
                cache.touch(f"{decider.key}.granted")
            else:
                unmet = decider.unmet[idx]
            going = decider.ended[idx] == 0
            was = decider.exit[idx]
            now = np.where(going, np.where(unmet, PRESSING, SATISFIED), was).astype(np.int8)
            flipped = now != was
            if flipped.any():
                decider.exit[idx] = now
                decider.exit_day[idx[flipped]] = np.where(now[flipped] == SATISFIED, day, -1)
            pressing |= going & unmet
        stop = idx[~pressing]
        if len(stop):
            self.status[stop] = ENDED
            self.end_day[stop] = day
            self.live[stop] = False
            for position, ended in ended_today:
                hit = np.intersect1d(ended, stop, assume_unique=True)
                self.ended_by[hit] |= 1 << position
        self.tally.changed(idx)

    def after_move(self, decider: Decider, idx: np.ndarray) -> None:
        """Bookkeeping after ``decider``'s rung may have changed in trials ``idx``.

        Peaks, the gravest outcome reached, first days on each violent outcome, absorption.
        """
        if not len(idx):
            return
        rung = decider.rung[idx]
        peak = np.maximum(decider.peak[idx], rung)
        decider.peak[idx] = peak
        self.cache.touch(f"{decider.key}.peak")
        self.tally.changed(idx)
        ladder = decider.plan.ladder
        absorbing = ladder.absorbing[rung]
        absorbed = idx[self.live[idx] & absorbing]
        if len(absorbed):
            self.status[absorbed] = ABSORBED
            self.end_day[absorbed] = self.day
            self.live[absorbed] = False
            codes = ladder.outcome_code[decider.rung[absorbed]]
            self.absorbed_code[absorbed] = np.maximum(self.absorbed_code[absorbed], codes)
        if decider.campaigns is not None:
            decider.campaigns.moved(idx)
        severity = np.maximum(self.severity[idx], ladder.outcome_code[peak])
        self.severity[idx] = severity
        if len(self._violent_codes):
            first = self.first_day[:, idx]
            first[(severity[None, :] >= self._violent_codes[:, None]) & (first < 0)] = self.day
            self.first_day[:, idx] = first

    def _events(self) -> None:
        """Spill-over hazards: while an event's condition holds, it moves a decider up."""
        for e, event in enumerate(self.plan.events):
            when = self.cache.value(event.when)
            if isinstance(when, np.ndarray):
                idx = np.flatnonzero(self.live & when)
            elif when:
                idx = np.flatnonzero(self.live)
            else:
                continue
            if not len(idx):
                continue
            rate = self.cache.value_at(event.rate, Subset(self.env, idx))
            fire = idx[self.draws[self.plan.row_event + e, idx] < rate]
            decider = self.deciders[event.decider]
            fire = fire[decider.ended[fire] == 0]  # a decider that stood down stays down
            if len(fire):
                decider.rung[fire] = np.maximum(decider.rung[fire], event.to_rung)
                self.cache.touch(f"{decider.key}.rung")
                self.after_move(decider, fire)

    def _record(self) -> None:
        """Count the day in the tally."""
        self.tally.record(
            self.day,
            {
                "status": self.status,
                "rungs": [d.rung for d in self.deciders],
                "severity": self.severity,
                "conceded": self.conceded_any,
                "absorbed": self.absorbed_code,
            },
        )

    # ----------------------------------------------------------------- the day

    def step(self) -> None:
        """Play one day of every live trial."""
        self.day += 1
        self.env["day"] = float(self.day)
        self.cache.touch("day")
        self.rng.random(out=self.draws)
        self._arrivals()
        self._set_paths()
        for actor in self._changing_actors:
            actor.refresh()
        self.agents.do("step")
        self.settle()
        self._events()
        self.settle()
        for decider in self._fighting:
            decider.campaigns.fight()  # type: ignore[union-attr]
        self.settle()
        self.beliefs.end_of_day()
        self._record()

    def play(self) -> BlockResult:
        """Play every day to the horizon (or until no trial is live) and return the records."""
        horizon = self.plan.horizon
        while self.day < horizon and self.live.any():
            self.step()
        if self.day < horizon:  # every trial ended early: the rest of the timeline is flat
            self.tally.fill_from(self.day)
        return self.result()

    def release(self) -> None:
        """Free the block's working arrays now; the model cannot be used afterwards.

        A Mesa model sits in reference cycles (its agents point back to it, and it holds its
        own wrapped ``step``) that only Python's cyclic collector frees, and only now and
        then: an engine playing block after block would otherwise hold many blocks' arrays.
        The result of :meth:`play` does not refer to the model and stays valid.
        """
        agents = list(self.agents)
        self.remove_all_agents()
        for agent in agents:
            # A decider and its helpers (foresight, campaigns, rung terms) refer to each other.
            vars(agent).clear()
        vars(self).clear()

    def classify(self) -> np.ndarray:
        """Outcome code of every trial if the crisis were judged now."""
        ended = self.status == ENDED
        diplomatic = np.where(ended, np.where(self.conceded_any, SETTLEMENT, STAND_DOWN), FROZEN)
        return np.where(self.severity >= 0, self.severity, diplomatic)

    def result(self) -> BlockResult:
        """The per-trial records and per-day counts as they stand."""
        plan = self.plan
        n = self.n
        outcome = self.classify()
        n_diplomatic = len(plan.outcomes) - len(plan.violent)
        violent = outcome >= n_diplomatic
        first = (
            self.first_day[np.clip(outcome - n_diplomatic, 0, None), np.arange(n)]
            if len(plan.violent)
            else np.zeros(n, dtype=np.int64)
        )
        records: dict[str, np.ndarray] = {}
        for decider in self.deciders:
            records[f"type:{decider.key}"] = self.world.types[decider.plan.position]
        records["outcome"] = outcome
        records["outcome_day"] = np.where(violent, first, self.end_day)
        for decider in self.deciders:
            key = decider.key
            records[f"peak:{key}"] = decider.peak.copy()
            records[f"rung:{key}"] = decider.rung.copy()
            records[f"exit:{key}"] = decider.exit.copy()
            records[f"exit_day:{key}"] = decider.exit_day.copy()
            records[f"met:{key}"] = decider.met.copy()
        records["ended_by"] = self.ended_by
        for d, demand in enumerate(plan.demands):
            records[f"granted:{demand.name}"] = self.met[d].copy()
            records[f"day_granted:{demand.name}"] = self.day_granted[d]
        for name, (actor, attribute) in accumulated(plan).items():
            records[name] = getattr(self.actors[actor], attribute).copy()
        for decider in self._fighting:
            records[f"war:{decider.key}"] = decider.campaigns.final()  # type: ignore[union-attr]
            records[f"war_day:{decider.key}"] = decider.campaigns.day.copy()  # type: ignore[union-attr]
        records.update(self.beliefs.records())
        for k, name in enumerate(plan.violent):
            records[f"day_{name}"] = self.first_day[k].copy()
        parameters = dict(self.world.drawn)
        for name, points in self.world.points.items():
            for day, row in zip(plan.paths[name].days, points, strict=True):
                parameters[f"{name}@{int(day)}"] = row
        return BlockResult(parameters=parameters, records=records, counts=self.tally.counts)
