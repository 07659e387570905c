"""Wars that are fought: a campaign on a violent rung, played day by day until it is decided.

When a decider with a target steps onto a rung on which a campaign is fought (a rung with a
``war_rate``, ``stalemate_rate``, ``kills`` or ``losses``), a campaign begins: the attacking
strength ``A`` is the share ``force`` of its forces, the defending strength ``B`` its target's
capability (aid and reinforcement delivered included). From the next day on, each day of the
campaign, in this order:

1. what has changed since yesterday joins the fight: ``A += force * (F - F_yesterday)``,
   ``B += D - D_yesterday`` (forces massing, aid arriving);
2. attrition (Lanchester's square law, one day at a time): ``A' = A - losses * B``,
   ``B' = B - kills * A``, floored at 0;
3. a side reduced to nothing loses (both at once: a stalemate); otherwise one uniform ``v``
   decides the day: ``v < war_rate * P`` the campaign is won, ``v < war_rate`` lost, and
   ``v < war_rate + stalemate_rate`` the front freezes, with ``P = A^k / (A^k + B^k)``.

A won campaign wins the rung's ``gain`` of what the decider has not yet obtained (its share met
rises, and a decider that has won all it wants stops pressing); a lost one falls back to the
rung's ``on_failure`` rung (default: the highest rung below on which no campaign is fought); a
stalemate leaves it where it stands, the fighting over. Leaving the rung by choice (or by an
event) withdraws from the campaign.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from escalation.model.contest import contest
from escalation.model.environment import Subset, column

#: How a decider's last campaign stands, as recorded per trial in ``war:<decider>``.
WAR_RESULTS = ("none", "won", "lost", "stalemate", "withdrawn", "ongoing")
NONE, WON, LOST, STALEMATE, WITHDRAWN, ONGOING = range(6)


class Campaigns:
    """The campaigns one decider fights against its target, over the trials of a block.

    Args:
        model: the crisis model.
        agent: the deciding actor (a :class:`~escalation.model.actor.Decider`).
    """

    def __init__(self, model: Any, agent: Any) -> None:
        n = model.n
        self.model = model
        self.agent = agent
        plan = agent.plan
        self.plan = plan
        self.fought = plan.ladder.fought
        ids = plan.ladder.ids
        self.on_failure = np.array(
            [
                ids.index(rung.on_failure) if rung.on_failure else self._fallback(r)
                for r, rung in enumerate(plan.ladder.rungs)
            ],
            dtype=np.int64,
        )
        self.rung = np.full(n, -1, dtype=np.int64)  # the rung being fought for (-1: none)
        self.attack = np.zeros(n)
        self.defence = np.zeros(n)
        self.start = np.full(n, -1, dtype=np.int64)
        self.result = np.zeros(n, dtype=np.int8)
        self.day = np.full(n, -1, dtype=np.int64)
        self._forces = np.zeros(n)  # what the strengths last saw, to add what has changed
        self._capability = np.zeros(n)

    def _fallback(self, rung: int) -> int:
        """The highest rung below ``rung`` on which no campaign is fought (else the lowest)."""
        below = [r for r in range(rung) if not self.fought[r]]
        return below[-1] if below else 0

    def _term(self, name: str, rung: int, sub: Subset, m: int) -> np.ndarray:
        expression = getattr(self.plan.ladder.rungs[rung], name)
        return column(self.model.cache.value_at(expression, sub), m)

    def moved(self, idx: np.ndarray) -> None:
        """The decider's rung may have changed in trials ``idx``: begin or leave campaigns."""
        agent = self.agent
        rung = agent.rung[idx]
        active = self.rung[idx]
        leaving = (active >= 0) & (rung != active)
        if leaving.any():
            out = idx[leaving]
            self.result[out] = WITHDRAWN
            self.day[out] = self.model.day
            self.rung[out] = -1
        entering = self.fought[rung] & (rung != active)
        if not entering.any():
            return
        begin = idx[entering]
        target = self.model.actors[self.plan.target]
        sub = Subset(self.model.env, begin)
        forces = agent.forces[begin]
        share = np.empty(len(begin))
        for r in np.unique(agent.rung[begin]):
            on = agent.rung[begin] == r
            share[on] = self._term("force", int(r), sub, len(begin))[on]
        self.rung[begin] = agent.rung[begin]
        self.attack[begin] = np.maximum(share, 0.0) * forces
        self.defence[begin] = target.capability[begin]
        self._forces[begin] = forces
        self._capability[begin] = target.capability[begin]
        self.start[begin] = self.model.day
        self.result[begin] = ONGOING
        self.day[begin] = -1

    def fight(self) -> None:
        """Play one day of every campaign begun before today, in the live trials."""
        model = self.model
        agent = self.agent
        idx = np.flatnonzero(model.live & (self.rung >= 0) & (self.start < model.day))
        if not len(idx):
            return
        m = len(idx)
        sub = Subset(model.env, idx)
        target = model.actors[self.plan.target]
        rung = self.rung[idx]
        share, kills, losses, rate, freeze, gain = (np.empty(m) for _ in range(6))
        for r in np.unique(rung):
            on = rung == r
            for out, name in (
                (share, "force"),
                (kills, "kills"),
                (losses, "losses"),
                (rate, "war_rate"),
                (freeze, "stalemate_rate"),
                (gain, "gain"),
            ):
                out[on] = self._term(name, int(r), sub, m)[on]
        forces, capability = agent.forces[idx], target.capability[idx]
        attack = self.attack[idx] + np.maximum(share, 0.0) * (forces - self._forces[idx])
        defence = self.defence[idx] + (capability - self._capability[idx])
        self._forces[idx], self._capability[idx] = forces, capability
        attack, defence = (
            np.maximum(attack - np.maximum(losses, 0.0) * defence, 0.0),
            np.maximum(defence - np.maximum(kills, 0.0) * attack, 0.0),
        )
        self.attack[idx], self.defence[idx] = attack, defence
        k = column(model.cache.value_at(self.plan.decisiveness, sub), m)
        p = contest(attack, defence, k)
        v = model.draws[self.plan.war_row, idx]
        rate = np.clip(rate, 0.0, 1.0)
        won = v < rate * p
        lost = ~won & (v < rate)
        frozen = ~won & ~lost & (v < rate + np.clip(freeze, 0.0, 1.0))
        gone_a, gone_d = attack <= 0, defence <= 0
        won = np.where(gone_a | gone_d, gone_d & ~gone_a, won)
        lost = np.where(gone_a | gone_d, gone_a & ~gone_d, lost)
        frozen = np.where(gone_a | gone_d, gone_a & gone_d, frozen)
        over = won | lost | frozen
        if not over.any():
            return
        done = idx[over]
        self.rung[done] = -1
        self.day[done] = model.day
        self.result[idx[won]] = WON
        self.result[idx[lost]] = LOST
        self.result[idx[frozen]] = STALEMATE
        if won.any():
            winners = idx[won]
            unmet = np.maximum(agent.total_weight - agent.met[winners], 0.0)
            agent.won[winners] += np.clip(gain[won], 0.0, 1.0) * unmet
            model.won(agent, winners)
        if lost.any():
            losers = idx[lost]
            agent.rung[losers] = self.on_failure[rung[lost]]
            model.cache.touch(f"{agent.key}.rung")
            model.after_move(agent, losers)

    def final(self) -> np.ndarray:
        """Each trial's last result, with campaigns still being fought marked ongoing."""
        out = self.result.copy()
        out[self.rung >= 0] = ONGOING
        return out
