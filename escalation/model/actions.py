"""What a policy does when it is carried out: one class per kind of action, in a registry.

A kind of action is named in a scenario (``do: {sanction: ...}``); its fields are declared in
:mod:`escalation.scenario.schema` and its effect here. The model looks the kind up in
:data:`ACTIONS` and calls :meth:`ActionKind.apply` on the trials where the policy is carried
out; a new kind of action (a cyber attack, say) is a new schema class and a new entry here.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from escalation.model.environment import Subset, column
from escalation.model.plan import PolicyPlan


class ActionKind:
    """How one kind of action changes the state where its policy is carried out."""

    #: The actor attribute the action accumulates on its recipient, recorded per trial as
    #: ``<attribute>:<actor>`` (None: nothing to record).
    records: ClassVar[str | None] = None

    def apply(self, model: Any, p: int, policy: PolicyPlan, idx: np.ndarray) -> None:
        """Carry out policy ``p`` in trials ``idx`` of ``model`` (a CrisisModel)."""
        raise NotImplementedError


def _amount(model: Any, policy: PolicyPlan, field: str, idx: np.ndarray) -> np.ndarray:
    """A non-negative, finite amount in trials ``idx``: negative amounts count as 0."""
    sub = Subset(model.env, idx)
    value = column(model.cache.value_at(policy.fields[field], sub), len(idx))
    model.check_finite(("policies", policy.name, "do", policy.kind, field), value, idx)
    return np.maximum(value, 0.0)


class Sanction(ActionKind):
    """Adds the severity to the recipient's sanctions in force."""

    records: ClassVar[str | None] = "sanctions"

    def apply(self, model: Any, p: int, policy: PolicyPlan, idx: np.ndarray) -> None:
        """Sanction the target in trials ``idx``."""
        target = model.actors[policy.target]
        target.sanctions[idx] += _amount(model, policy, "severity", idx)
        model.cache.touch(f"{target.key}.sanctions")


class Delivery(ActionKind):
    """Sends an amount that adds to the recipient's capability, at once or after a lag."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    @property
    def records(self) -> str | None:  # type: ignore[override]
        """Aid is recorded per trial; reinforcement only acts through expressions."""
        return "aid" if self.attribute == "aid" else None

    def apply(self, model: Any, p: int, policy: PolicyPlan, idx: np.ndarray) -> None:
        """Deliver now where the lag rounds to 0; schedule the rest."""
        amount = _amount(model, policy, "amount", idx)
        # A lag beyond the horizon never arrives: capped there, it fits the day counter.
        lag = np.rint(np.minimum(_amount(model, policy, "lag", idx), model.plan.horizon + 1))
        lag = lag.astype(np.int64)
        now = lag == 0
        model.deliver(p, idx[now], amount[now])
        later = ~now
        if later.any():
            model.schedule(p, idx[later], model.day + lag[later], amount[later])


class Concede(ActionKind):
    """The policy's actor concedes a demand made of it."""

    def apply(self, model: Any, p: int, policy: PolicyPlan, idx: np.ndarray) -> None:
        """Concede in trials ``idx``."""
        model.concede(int(policy.fields["demand"]), policy.actor, idx)  # type: ignore[arg-type]


class Escalate(ActionKind):
    """The policy's actor, a decider, climbs to a rung (never down): a threat it carries out."""

    def apply(self, model: Any, p: int, policy: PolicyPlan, idx: np.ndarray) -> None:
        """Move the actor up in trials ``idx``."""
        agent = model.decider_of(policy.actor)
        rung = int(policy.fields["rung"])  # type: ignore[arg-type]
        agent.rung[idx] = np.maximum(agent.rung[idx], rung)
        model.cache.touch(f"{agent.key}.rung")
        model.after_move(agent, idx)


#: Every kind of action by the name a scenario uses.
ACTIONS: dict[str, ActionKind] = {
    "sanction": Sanction(),
    "aid": Delivery("aid"),
    "reinforce": Delivery("reinforcement"),
    "concede": Concede(),
    "escalate": Escalate(),
}
