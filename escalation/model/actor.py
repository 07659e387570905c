"""Actors: Mesa agents whose state is a set of arrays over the trials of a block.

An :class:`Actor` carries out its policies each day; the :class:`Challenger` also chooses its
move on the ladder. Neither knows any actor by name: the plan tells them positions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from escalation.model.environment import Subset, column

if TYPE_CHECKING:
    from escalation.model.crisis import CrisisModel

#: The challenger's first two options; option ``2 + j`` is climbing to rung ``j``.
END, HOLD = 0, 1


def as_array(value: np.ndarray | float, n: int) -> np.ndarray:
    """A float view of ``value`` broadcast to ``(n,)``, without copying arrays."""
    return np.broadcast_to(np.asarray(value, dtype=float), (n,))


class Actor(mesa.Agent):
    """A state or bloc: its material state over trials, and the policies it carries out.

    Attributes are arrays of shape ``(n,)``, one value per trial: ``forces`` it can commit,
    ``capability`` to resist (its base plus the aid and reinforcement delivered to it),
    ``aid`` delivered to it,
    ``sanctions`` in force against it, ``reinforcement`` on its territory.
    """

    def __init__(self, model: CrisisModel, key: str, index: int) -> None:
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
        env = self.model.env
        for name in ("forces", "capability", "aid", "sanctions", "reinforcement"):
            env[f"{self.key}.{name}"] = getattr(self, name)

    def refresh(self) -> None:
        """Recompute forces and capability from their expressions for today."""
        model = self.model
        plan = model.plan
        n = model.n
        # Only when an input has changed: forces on fixed parameters are set once per block.
        forces = plan.forces[self.index]
        value = model.value(forces)
        version = model.memo(forces).version
        if version != self._forces_seen:
            self.forces[:] = as_array(value, n)
            self._forces_seen = version
            model.touch(f"{self.key}.forces")
        capability = plan.capability[self.index]
        base = model.value(capability)
        seen = (
            model.memo(capability).version,
            model.version(f"{self.key}.aid"),
            model.version(f"{self.key}.reinforcement"),
        )
        if seen != self._capability_seen:
            np.add(as_array(base, n), self.aid, out=self.capability)
            self.capability += self.reinforcement
            self._capability_seen = seen
            model.touch(f"{self.key}.capability")

    def step(self) -> None:
        """Carry out this actor's policies whose conditions hold today."""
        for p in self.policies:
            self.model.play_policy(p)


class Challenger(Actor):
    """The actor with demands: at each decision opportunity it ends, holds, or climbs.

    Its options are: end the crisis (take what was granted), hold its rung, or climb to any
    higher rung it may choose. Its choice is a logit (quantal response) over the options'
    expected utilities, drawn with the Gumbel-max trick: the option with the largest
    ``lambda * U + Gumbel noise`` is taken, which picks option j with probability
    ``exp(lambda U_j) / sum_k exp(lambda U_k)``.
    """

    def __init__(self, model: CrisisModel, key: str, index: int) -> None:
        super().__init__(model, key, index)
        n = model.n
        self.rung = np.full(n, model.plan.start_rung, dtype=np.int64)
        self.peak = self.rung.copy()
        self.granted = np.zeros(n)

    def publish(self) -> None:
        """Also publish the rung, the peak and the share of demands granted."""
        super().publish()
        env = self.model.env
        env[f"{self.key}.rung"] = self.rung
        env[f"{self.key}.peak"] = self.peak
        env[f"{self.key}.granted"] = self.granted

    def step(self) -> None:
        """Carry out own policies, then decide where a decision opportunity arises."""
        super().step()
        self.decide()

    def utilities(self, idx: np.ndarray | None = None, sub: Subset | None = None) -> np.ndarray:
        """Expected utility of every option, shape ``(2 + R, m)``, in stake units.

        With ``S`` the stake, ``g`` the granted share and ``u`` the unmet share of the demands,
        and every cost in units of the stake:

        - end: ``S (g - A u)``: keep what was granted, pay the audience cost ``A`` on the rest;
        - hold rung r: ``S (g + h u - W c_r - T_r)``: hope ``h`` for the rest, pay ``W`` days of
          the rung's holding cost ``c_r`` and the expected cost ``T_r`` of threats that fire there;
        - climb to rung j: ``S (g + P_j G_j u - K_j - W c_j - T_j)``: win the rung's gain ``G_j``
          of the unmet demands with contest probability ``P_j``, pay its cost ``K_j``. ``P_j``
          pits the committed forces against the target's capability plus the support it is
          expected to receive on rung j (aid in transit, and promised aid and reinforcement
          weighted by their perceived credibility).

        Options that are not open (lower rungs, rungs nobody chooses) get ``-inf``. ``idx``
        picks the trials to evaluate (default: all); only trials with a decision opportunity
        need it, which saves most of the work on a day. ``sub`` is the environment of those
        trials, if the caller has it already.
        """
        model = self.model
        if idx is None:
            idx = np.arange(model.n)
        options, values = self.option_utilities(idx, sub)
        out = np.full((2 + len(model.plan.rungs), len(idx)), -np.inf)
        out[options] = values
        return out

    def option_utilities(
        self, idx: np.ndarray, sub: Subset | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The options that may be open in trials ``idx``, and their utilities ``(k, m)``.

        Ending and holding, and climbing to the rungs that can be chosen above the lowest rung
        any of these trials stands on; every other option is closed (``-inf``) in all of them,
        so it is not computed.
        """
        model = self.model
        plan = model.plan
        if sub is None:
            sub = Subset(model.env, idx)
        m = len(idx)
        rung = self.rung[idx]
        granted = self.granted[idx]
        unmet = np.maximum(float(plan.demand_weights.sum()) - granted, 0.0)

        def term(expression) -> np.ndarray:
            return column(model.value_at(expression, sub), m)

        stake = term(plan.stake)
        # Each (R, m): gain, force, cost, holding cost, expected cost of threats.
        gain, force, cost, hold_cost, threats = model.rung_terms(idx, sub)
        planning = term(plan.planning_days)
        choosable = model.choosable_rungs
        rungs = choosable[choosable > rung.min()] if m else choosable[:0]
        options = np.concatenate(([END, HOLD], 2 + rungs)).astype(np.int64)
        out = np.empty((len(options), m))
        cols = np.arange(m)
        out[END] = granted - term(plan.audience_cost) * unmet
        out[HOLD] = (
            granted
            + term(plan.hope) * unmet
            - planning * hold_cost[rung, cols]
            - threats[rung, cols]
        )
        if len(rungs):
            target = model.actors[plan.target]
            defence = target.capability[idx]
            if model.support_policies:
                defence = defence + model.expected_support(idx, sub)[rungs]
            p_success = contest(force[rungs] * self.forces[idx], defence, term(plan.decisiveness))
            climb = out[2:]
            np.multiply(p_success * gain[rungs], unmet, out=climb)
            climb += granted
            climb -= cost[rungs] + planning * hold_cost[rungs] + threats[rungs]
        out *= stake
        if len(rungs):
            out[2:][rungs[:, None] <= rung[None, :]] = -np.inf  # not above the rung it is on
        return options, out

    def decide(self) -> None:
        """Take a decision in the live trials that have an opportunity today."""
        model = self.model
        plan = model.plan
        rate = model.value(plan.decision_rate)
        idx = np.flatnonzero(model.live & (model.draws[model.ROW_DECIDE] < rate))
        if not len(idx):
            return
        # A negative precision would turn closed options (-inf) into the best: floor it at 0.
        sub = Subset(model.env, idx)
        lam = np.maximum(column(model.value_at(plan.rationality, sub), len(idx)), 0.0)
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
        scores += model.gumbel(idx, options)
        choice = options[np.argmax(scores, axis=0)]
        # If nothing is open or defined (an infinite or NaN utility everywhere), hold.
        choice[np.isneginf(scores.max(axis=0))] = HOLD
        climbing = choice >= 2
        moved = idx[climbing]
        if len(moved):
            self.rung[moved] = choice[climbing] - 2
            model.touch(f"{self.key}.rung")
        model.end_at(idx[choice == END])
        model.after_move(moved)


def contest(attack: np.ndarray, defence: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Contest success function ``a^k / (a^k + d^k)``; 0 when both sides are 0.

    Computed as ``1 / (1 + (d / a)^k)``: one power instead of two, and a zero on either side
    gives the right limit (0 or 1) through infinities rather than special cases.
    """
    attack = np.maximum(attack, 0.0)
    defence = np.maximum(defence, 0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = 1.0 / (1.0 + np.power(defence / attack, k))
    # 0/0 (no forces on either side) and inf/inf (absurd forces) are undefined: the side with
    # the larger force wins, and nobody wins with nothing.
    undefined = np.isnan(p)
    if undefined.any():
        p[undefined] = (attack > defence)[undefined]
    return p
