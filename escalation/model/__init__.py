"""The crisis model: a Mesa model that plays a block of trials, vectorized over trials."""

from escalation.model.actor import Actor, Decider
from escalation.model.crisis import CrisisModel
from escalation.model.plan import Plan
from escalation.model.records import BlockResult

__all__ = ["Actor", "BlockResult", "CrisisModel", "Decider", "Plan"]
