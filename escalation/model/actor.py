"""Actors: Mesa agents whose state is a set of arrays over the trials of a block.

An :class:`Actor` carries out its policies each day; a :class:`Decider` also chooses its moves
by utility. Neither knows any actor by name: the plan tells them positions.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from escalation.model.contest import contest
from escalation.model.environment import Overlay, Subset, column
from escalation.model.foresight import Foresight
from escalation.model.plan import END, HOLD, DeciderPlan
from escalation.model.records import ENDED_BY_CHOICE, NO_DEMANDS, PRESSING
from escalation.model.terms import COST, FORCE, GAIN, HOLD_COST, HOPE, THREATS, RungTerms
from escalation.model.war import Campaigns

#: State every actor publishes for expressions, as ``<key>.<name>``.
ACTOR_STATE = ("forces", "capability", "aid", "sanctions", "reinforcement")


def as_array(value: np.ndarray | float, n: int) -> np.ndarray:
    """A float view of ``value`` broadcast to ``(n,)``, without copying arrays."""
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


class Actor(mesa.Agent):
    """A state or bloc: its material state over trials, and the policies it carries out.

    Attributes are arrays of shape ``(n,)``, one value per trial: ``forces`` it can commit,
    ``capability`` to resist (its base plus the aid and reinforcement delivered to it),
    ``aid`` delivered to it, ``sanctions`` in force against it, ``reinforcement`` on its
    territory.
    """

    def __init__(self, model: Any, key: str, index: int) -> None:
        super().__init__(model)
        n = model.n
        self.key = key
        self.index = index
        self.forces = np.zeros(n)
        self.capability = np.zeros(n)
        self.aid = np.zeros(n)
        self.sanctions = np.zeros(n)
        self.reinforcement = np.zeros(n)
        self.policies: list[int] = [
            p for p, policy in enumerate(model.plan.policies) if policy.actor == index
        ]
        self._forces_seen = -1
        self._capability_seen: tuple[int, int, int] = (-1, -1, -1)

    def publish(self) -> None:
        """Put this actor's arrays into the model's environment for expressions."""
        cache = self.model.cache
        for name in ACTOR_STATE:
            key = f"{self.key}.{name}"
            cache.env[key] = getattr(self, name)
            cache.declare(key)

    def refresh(self) -> None:
        """Recompute forces and capability from their expressions for today."""
        model = self.model
        cache = model.cache
        plan = model.plan
        n = model.n
        # Only when an input has changed: forces on fixed parameters are set once per block.
        forces = plan.forces[self.index]
        value = cache.value(forces)
        version = cache.memo(forces).version
        if version != self._forces_seen:
            self.forces[:] = as_array(value, n)
            self._forces_seen = version
            cache.touch(f"{self.key}.forces")
        capability = plan.capability[self.index]
        base = cache.value(capability)
        seen = (
            cache.memo(capability).version,
            cache.version(f"{self.key}.aid"),
            cache.version(f"{self.key}.reinforcement"),
        )
        if seen != self._capability_seen:
            np.add(as_array(base, n), self.aid, out=self.capability)
            self.capability += self.reinforcement
            self._capability_seen = seen
            cache.touch(f"{self.key}.capability")

    def step(self) -> None:
        """Carry out this actor's policies whose conditions hold today."""
        for p in self.policies:
            self.model.play_policy(p)


class Decider(Actor):
    """An actor that chooses: at each decision opportunity it ends, holds, moves or concedes.

    Its options are: end its part in the crisis (keep what was granted, drop the rest, stand
    down to the lowest rung), hold its rung, climb to a higher rung it may choose, step down to
    a lower one (if it may), or concede a demand made of it that has a price. Its choice is a
    logit (quantal response) over the options' expected utilities, drawn with the Gumbel-max
    trick: the option with the largest ``lambda * U + Gumbel noise`` is taken, which picks
    option j with probability ``exp(lambda U_j) / sum_k exp(lambda U_k)``.

    Deciders choose together, at the turn of the first of them in the file (after its own
    policies): all of them weigh their options on the same state, then all moves take effect.
    """

    def __init__(self, model: Any, plan: DeciderPlan) -> None:
        super().__init__(model, plan.key, plan.actor)
        n = model.n
        self.plan = plan
        self.rung = np.full(n, plan.start_rung, dtype=np.int64)
        self.peak = self.rung.copy()
        self.met = np.zeros(n)  # share of its demands met, published as `<key>.granted`
        self.unmet = np.full(n, bool(plan.demands))  # some demand it makes is unmet
        self.won = np.zeros(n)  # share of its stake won by campaigns
        self.ended = np.zeros(n)  # 1 once it has ended its part in the crisis
        self.exit = np.full(n, PRESSING if plan.demands else NO_DEMANDS, dtype=np.int8)
        self.exit_day = np.full(n, -1, dtype=np.int64)
        self.total_weight = float(sum(model.plan.demands[d].weight for d in plan.demands))
        ladder = plan.ladder
        choosable = ladder.choosable
        self.choosable_rungs = np.flatnonzero(choosable)
        self.terms: RungTerms | None = None  # made once the whole state is published
        self.foresight = Foresight(model, plan) if plan.look_ahead else None
        #: Uniforms of the trial's own, fixed preferences over options (persistent noise).
        self.persistent = model.rng.random((plan.options, n)) if plan.persistent_noise else None
        self.campaigns = Campaigns(model, self) if plan.war_row >= 0 else None
        # Other deciders whose rungs harm this one (they target it).
        self.attackers: list[Decider] = []

    def publish(self) -> None:
        """Also publish the rung, the peak, the share of demands met and whether it ended."""
        super().publish()
        cache = self.model.cache
        for name, value in (
            ("rung", self.rung),
            ("peak", self.peak),
            ("granted", self.met),
            ("ended", self.ended),
        ):
            key = f"{self.key}.{name}"
            cache.env[key] = value
            cache.declare(key)

    def step(self) -> None:
        """Carry out own policies; the first decider then lets all deciders choose."""
        super().step()
        if self.plan.position == 0:
            self.model.decide()

    # ---------------------------------------------------------------- utilities

    def exposure(
        self, idx: np.ndarray, sub: Subset, moved: dict[int, int] | None = None
    ) -> np.ndarray:
        """Daily harm the rungs of the deciders that target it do to it, in trials ``idx``.

        ``moved`` puts some deciders (by position) on other rungs, as a deal would.
        """
        m = len(idx)
        out = np.zeros(m)
        cache = self.model.cache
        for other in self.attackers:
            if moved and other.plan.position in moved:
                rung = np.full(m, moved[other.plan.position])
            else:
                rung = other.rung[idx]
            harm = np.zeros(m)
            for r, step in enumerate(other.plan.ladder.rungs):
                on = rung == r
                if on.any():
                    harm = np.where(on, column(cache.value_at(step.harm, sub), m), harm)
            out += harm
        return out

    def option_utilities(self, idx: np.ndarray, sub: Subset) -> tuple[np.ndarray, np.ndarray]:
        """The options that may be open in trials ``idx``, and their utilities ``(k, m)``.

        Ending, holding, moving to the rungs that can be chosen (above the lowest rung any
        of these trials stands on, or below the highest if it may step down) and conceding
        each demand it may concede; every other option is closed (``-inf``) in all of them,
        so it is not computed. Utilities are in units of the stake, times the stake.
        """
        model = self.model
        plan = self.plan
        cache = model.cache
        m = len(idx)
        rung = self.rung[idx]
        granted = self.met[idx]
        unmet = np.maximum(self.total_weight - granted, 0.0)

        def term(expression) -> np.ndarray:
            return column(cache.value_at(expression, sub), m)

        stake = term(plan.stake)
        terms = self.terms.rows(idx, sub)  # type: ignore[union-attr]
        gain, force, cost, hold_cost, hope, threats = (
            terms[GAIN],
            terms[FORCE],
            terms[COST],
            terms[HOLD_COST],
            terms[HOPE],
            terms[THREATS],
        )
        planning = term(plan.planning_days)
        choosable = self.choosable_rungs
        if m:
            up = choosable[choosable > rung.min()]
            down = choosable[choosable < rung.max()] if plan.can_step_down else choosable[:0]
            moves = np.union1d(up, down)
        else:
            moves = choosable[:0]
        concessions = np.arange(len(plan.concessions))
        n_rungs = len(plan.ladder)
        options = np.concatenate(([END, HOLD], 2 + moves, 2 + n_rungs + concessions)).astype(
            np.int64
        )
        out = np.empty((len(options), m))
        cols = np.arange(m)
        exposure = self.exposure(idx, sub) if self.attackers else None
        out[END] = granted - term(plan.audience_cost) * unmet
        if model.rivals_of(self):
            continues = model.pressing_after(self, idx, sub, end=True)
            floor = Overlay(sub, {f"{self.key}.rung": 0.0, f"{self.key}.ended": 1.0})
            after = planning * hold_cost[0] + self.terms.threats_in(floor, idx)  # type: ignore[union-attr]
            if exposure is not None:
                after = after + planning * exposure
            out[END] -= np.where(continues, after, 0.0)
            # With nothing unmet there is nothing to give up: a satisfied decider stays on
            # guard (it may still hold, move or concede) rather than leave the crisis for good.
            out[END] = np.where(self.unmet[idx], out[END], -np.inf)
        out[HOLD] = granted + hope[rung, cols] * unmet - planning * hold_cost[rung, cols]
        out[HOLD] -= threats[rung, cols]
        if len(moves):
            rows = out[2 : 2 + len(moves)]
            climbing = moves[:, None] > rung[None, :]
            support = None
            if plan.target >= 0:
                defence = model.actors[plan.target].capability[idx]
                if plan.support:
                    support = self.terms.support(idx, sub)[moves]  # type: ignore[union-attr]
                    defence = defence + support
                p_success = contest(
                    force[moves] * self.forces[idx], defence, term(plan.decisiveness)
                )
            else:
                p_success = np.zeros((len(moves), m))
            np.multiply(p_success * gain[moves], unmet, out=rows)
            rows += granted
            rows -= cost[moves] + planning * hold_cost[moves] + threats[moves]
            if plan.can_step_down:
                stand = granted + hope[moves] * unmet - planning * hold_cost[moves] - threats[moves]
                if not plan.step_down_cost.is_constant or plan.step_down_cost({}) != 0:
                    stand -= term(plan.step_down_cost)  # the face lost by backing off
                rows[:] = np.where(climbing, rows, stand)
            if self.foresight is not None:
                # Holding keeps the option of climbing later, when that is worth more.
                later = self.foresight.best_later_climb(
                    idx, sub, moves, granted, unmet, planning, hold_cost[rung, cols], support, terms
                )
                np.maximum(out[HOLD], later, out=out[HOLD])
        if exposure is not None:
            out[HOLD] -= planning * exposure
            if len(moves):
                out[2 : 2 + len(moves)] -= planning * exposure
        if len(concessions):
            out[2 + len(moves) :] = self.concession_utilities(
                idx, sub, granted, unmet, hope, hold_cost, planning
            )
        out *= stake
        if len(moves):
            closed = moves[:, None] == rung[None, :]
            if not plan.can_step_down:
                closed |= moves[:, None] < rung[None, :]
            out[2 : 2 + len(moves)][closed] = -np.inf
        return options, out

    def concession_utilities(
        self,
        idx: np.ndarray,
        sub: Subset,
        granted: np.ndarray,
        unmet: np.ndarray,
        hope: np.ndarray,
        hold_cost: np.ndarray,
        planning: np.ndarray,
    ) -> np.ndarray:
        """Utilities of conceding each demand it may concede, ``(C, m)``, before the stake.

        ``hope`` and ``hold_cost`` are the terms of every rung, ``(R, m)``. A concession is
        weighed as if it took full effect: the demand (and every demand traded with it)
        granted, the deciders the deal moves (``on_grant``) on their new rungs, so the decider
        keeps what the trade gives it and pays the demand's cost. If nobody presses any more
        the crisis is over and nothing else counts; else it holds on, with the threats that
        would still fire and the harm the others' rungs would still do. An offer in a trade
        stands until its offerer's next decision, and is weighed at its completion.
        """
        model = self.model
        plan = model.plan
        cache = model.cache
        m = len(idx)
        cols = np.arange(m)
        out = np.empty((len(self.plan.concessions), m))
        for c, d in enumerate(self.plan.concessions):
            demand = plan.demands[d]
            group = demand.group
            # What it gets: its own demands traded with this one, where not yet met.
            gets = np.zeros(m)
            moves: dict[int, int] = {}
            for g in group:
                if plan.demands[g].by == self.plan.position:
                    gets += plan.demands[g].weight * ~model.met[g][idx]
                moves.update(plan.demands[g].on_grant)
            granted_after = granted + gets
            unmet_after = np.maximum(unmet - gets, 0.0)
            changes: dict[str, object] = {f"{plan.demands[g].name}.granted": 1.0 for g in group}
            for position, r in moves.items():
                mover = model.deciders[position]
                changes[f"{mover.key}.rung"] = float(r)
                changes[f"{mover.key}.peak"] = np.maximum(mover.peak[idx], r)
            rung = (
                np.full(m, moves[self.plan.position])
                if self.plan.position in moves
                else self.rung[idx]
            )
            threats = self.terms.threats_in(Overlay(sub, changes), idx)  # type: ignore[union-attr]
            still = model.pressing_after(self, idx, sub, granted=group, moves=moves)
            stay = granted_after + hope[rung, cols] * unmet_after
            stay -= planning * hold_cost[rung, cols] + threats
            if self.attackers:
                stay -= planning * self.exposure(idx, sub, moves)
            value = np.where(still, stay, granted_after)
            value -= column(cache.value_at(demand.cost, sub), m)
            out[c] = np.where(model.granted[d][idx], -np.inf, value)
        return out

    def choose(self) -> tuple[np.ndarray, np.ndarray]:
        """Today's choice in the trials where it has a decision opportunity: ``(idx, option)``.

        Nothing changes until :meth:`apply`: every decider chooses on the same state.
        """
        model = self.model
        plan = self.plan
        cache = model.cache
        rate = cache.value(plan.decision_rate)
        deciding = model.live & (self.ended == 0) & (model.draws[plan.row] < rate)
        idx = np.flatnonzero(deciding)
        if not len(idx):
            return idx, idx
        # A negative precision would turn closed options (-inf) into the best: floor it at 0.
        sub = Subset(model.env, idx)
        lam = np.maximum(column(cache.value_at(plan.rationality, sub), len(idx)), 0.0)
        # Options closed in every deciding trial (-inf whatever their noise) are left out.
        options, utilities = self.option_utilities(idx, sub)
        # Measure utilities from each trial's best open option: the logit is unchanged, and
        # an enormous stake times an enormous precision cannot overflow into ties at +inf.
        finite = np.isfinite(utilities)
        best = np.where(finite, utilities, -np.inf).max(axis=0)
        utilities = utilities - np.where(np.isfinite(best), best, 0.0)
        with np.errstate(invalid="ignore"):  # lambda = 0 times a closed option's -inf
            scores = lam * utilities
        # A closed option, or a utility an expression made undefined, is never chosen.
        scores[np.isnan(scores)] = -np.inf
        scores += self.gumbel(idx, options)
        choice = options[np.argmax(scores, axis=0)]
        # If nothing is open or defined (an infinite or NaN utility everywhere), hold.
        choice[np.isneginf(scores.max(axis=0))] = HOLD
        return idx, choice

    def gumbel(self, idx: np.ndarray, options: np.ndarray) -> np.ndarray:
        """The Gumbel noise for options ``options`` in trials ``idx``, ``(k, m)``.

        Today's draws, or, with persistent noise, the trial's own drawn when it began.
        """
        if self.persistent is not None:
            u = self.persistent[np.ix_(options, idx)]
        else:
            draws = self.model.draws
            first = self.plan.row + 1
            u = np.empty((len(options), len(idx)))
            for i, option in enumerate(options):
                u[i] = draws[first + option, idx]
        with np.errstate(divide="ignore"):
            return -np.log(-np.log(u))

    def apply(self, idx: np.ndarray, choice: np.ndarray) -> None:
        """Make the chosen moves: climbs and steps, concessions, endings."""
        model = self.model
        n_rungs = len(self.plan.ladder)
        moving = (choice >= 2) & (choice < 2 + n_rungs)
        moved = idx[moving]
        if len(moved):
            self.rung[moved] = choice[moving] - 2
            model.cache.touch(f"{self.key}.rung")
            model.after_move(self, moved)
        for c, d in enumerate(self.plan.concessions):
            # An offer not yet taken up (the rest of a trade, another grantor) stands until the
            # offerer's next decision: there it lapses unless the offerer makes it again.
            offered = model.conceded[(d, self.index)]
            offered[idx] &= model.granted[d][idx]
            conceding = idx[choice == 2 + n_rungs + c]
            if len(conceding):
                model.concede(d, self.index, conceding)
        ending = idx[choice == END]
        if len(ending):
            self.end(ending)

    def end(self, idx: np.ndarray) -> None:
        """End its part in the crisis in trials ``idx``: drop what is unmet, stand down."""
        model = self.model
        self.ended[idx] = 1.0
        self.exit[idx] = ENDED_BY_CHOICE
        self.exit_day[idx] = model.day
        model.cache.touch(f"{self.key}.ended")
        model.ended_today.append((self.plan.position, idx))
        if model.rivals_of(self):
            # Standing down matters only while the crisis goes on without it.
            self.rung[idx] = 0
            model.cache.touch(f"{self.key}.rung")
            model.after_move(self, idx)
        model.tally.changed(idx)
