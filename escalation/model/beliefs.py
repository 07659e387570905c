"""Learning: beliefs as state, updated by Bayes' rule on what their holders observe.

Two kinds, both exact and conjugate:

- A **credibility** belief is a Beta(a, b) distribution over the chance that a set of threats is
  carried out. Each trigger of a policy it ``learns_from`` is a Bernoulli trial: carried out, a
  success; not carried out, a failure. A signal adds its ``successes`` and ``failures``. After
  k successes in n trials the belief is Beta(a + k, b + n - k); expressions read its mean
  ``(a + k) / (a + b + n)`` under the belief's name.
- A belief over **hypotheses** holds prior weights ``w_h`` and multiplies each by the signal's
  likelihood ``L_h`` when the signal is observed; expressions read ``w_h / sum_j w_j`` as
  ``<belief>.<hypothesis>``. A signal whose likelihood is the same under every hypothesis (cheap
  talk) changes no weight at all, so it moves nothing, to the last bit.

A signal is observed once per trial: on the first day its ``when`` holds (at the end of the
day, after everything else), or when its ``policy`` triggers (at once, so that actors later that
day see the new belief). Nothing is learnt from a signal that was not observed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from escalation.model.environment import Subset, column
from escalation.model.plan import BeliefPlan, SignalPlan


class Belief:
    """One belief over the trials of a block.

    Args:
        model: the crisis model (its cache and environment).
        plan: the belief's compiled plan.
    """

    def __init__(self, model: Any, plan: BeliefPlan) -> None:
        self.model = model
        self.plan = plan
        n = model.n
        cache = model.cache
        self.observed = np.zeros((len(plan.signals), n), dtype=bool)
        if plan.kind == "credibility":
            self.a = column(cache.value(plan.a), n).copy()  # type: ignore[arg-type]
            self.b = column(cache.value(plan.b), n).copy()  # type: ignore[arg-type]
            self.successes = np.zeros(n)
            self.failures = np.zeros(n)
            self.mean = self.a / (self.a + self.b)
            self._publish(plan.name, self.mean)
        else:
            weights = [np.maximum(column(cache.value(p), n), 0.0) for p in plan.priors]
            self.weights = np.array(weights)
            total = self.weights.sum(axis=0)
            # All-zero priors: an even prior rather than a division by zero.
            self.weights[:, total <= 0] = 1.0
            self.posterior = self.weights / self.weights.sum(axis=0)
            for h, hypothesis in enumerate(plan.hypotheses):
                self._publish(f"{plan.name}.{hypothesis}", self.posterior[h])

    def _publish(self, name: str, value: np.ndarray) -> None:
        self.model.cache.env[name] = value
        self.model.cache.declare(name)

    def _touch(self) -> None:
        cache = self.model.cache
        if self.plan.kind == "credibility":
            cache.touch(self.plan.name)
        else:
            for hypothesis in self.plan.hypotheses:
                cache.touch(f"{self.plan.name}.{hypothesis}")

    def count(self, successes: np.ndarray, failures: np.ndarray, idx: np.ndarray) -> None:
        """A credibility belief learns ``successes`` and ``failures`` in trials ``idx``."""
        self.successes[idx] += successes
        self.failures[idx] += failures
        a, b = self.a[idx], self.b[idx]
        k = self.successes[idx]
        self.mean[idx] = (a + k) / (a + b + k + self.failures[idx])
        self._touch()

    def observe(self, s: int, idx: np.ndarray) -> None:
        """Signal ``s`` is observed in trials ``idx`` (those not yet observing it)."""
        idx = idx[~self.observed[s, idx]]
        if not len(idx):
            return
        self.observed[s, idx] = True
        signal: SignalPlan = self.plan.signals[s]
        sub = Subset(self.model.env, idx)
        cache = self.model.cache
        m = len(idx)
        if self.plan.kind == "credibility":
            successes = np.maximum(column(cache.value_at(signal.successes, sub), m), 0.0)
            failures = np.maximum(column(cache.value_at(signal.failures, sub), m), 0.0)
            self.count(successes, failures, idx)
            return
        likelihood = np.array(
            [np.clip(column(cache.value_at(e, sub), m), 0.0, 1.0) for e in signal.likelihood]
        )
        weights = self.weights[:, idx] * likelihood
        total = weights.sum(axis=0)
        # Cheap talk (the same likelihood under every hypothesis) and an observation that no
        # hypothesis allows (all zero) leave the belief exactly as it was.
        moves = (total > 0) & (likelihood != likelihood[:1]).any(axis=0)
        if not moves.any():
            return
        idx, weights, total = idx[moves], weights[:, moves], total[moves]
        self.weights[:, idx] = weights / total  # renormalised: no underflow after many signals
        self.posterior[:, idx] = weights / total
        self._touch()


class Beliefs:
    """Every belief of a block, and the observations that move them.

    Args:
        model: the crisis model.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.beliefs = [Belief(model, plan) for plan in model.plan.beliefs]
        #: For each policy, what observes its triggers: (belief, signal or -1 for learns_from).
        self.watchers: dict[int, list[tuple[Belief, int]]] = {}
        self.daily: list[tuple[Belief, int]] = []
        for belief in self.beliefs:
            for p in belief.plan.learns_from:
                self.watchers.setdefault(p, []).append((belief, -1))
            for s, signal in enumerate(belief.plan.signals):
                if signal.policy >= 0:
                    self.watchers.setdefault(signal.policy, []).append((belief, s))
                else:
                    self.daily.append((belief, s))

    def triggered(self, p: int, idx: np.ndarray, done: np.ndarray) -> None:
        """Policy ``p`` triggered in trials ``idx`` and was carried out in ``done``."""
        for belief, s in self.watchers.get(p, ()):
            carried = np.isin(idx, done, assume_unique=True)
            if s < 0:
                belief.count(carried.astype(float), (~carried).astype(float), idx)
                continue
            wanted = belief.plan.signals[s].carried_out
            if wanted is None:
                belief.observe(s, idx)
            else:
                belief.observe(s, idx[carried == wanted])

    def end_of_day(self) -> None:
        """Observe the signals whose conditions hold today, in the live trials."""
        model = self.model
        for belief, s in self.daily:
            when = model.cache.value(belief.plan.signals[s].when)
            holds = model.live & when if isinstance(when, np.ndarray) else model.live & bool(when)
            idx = np.flatnonzero(holds & ~belief.observed[s])
            if len(idx):
                belief.observe(s, idx)

    def records(self) -> dict[str, np.ndarray]:
        """Per-trial records of every belief at the end."""
        out: dict[str, np.ndarray] = {}
        for belief in self.beliefs:
            name = belief.plan.name
            if belief.plan.kind == "credibility":
                out[f"belief:{name}"] = belief.mean.copy()
                out[f"successes:{name}"] = belief.successes.copy()
                out[f"failures:{name}"] = belief.failures.copy()
            else:
                for h, hypothesis in enumerate(belief.plan.hypotheses):
                    out[f"belief:{name}:{hypothesis}"] = belief.posterior[h].copy()
            for s, signal in enumerate(belief.plan.signals):
                out[f"signal:{name}:{signal.name}"] = belief.observed[s].copy()
        return out
