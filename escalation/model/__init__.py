"""The Mesa model of a crisis, vectorized over a block of trials."""

from escalation.model.actor import Actor, Challenger
from escalation.model.crisis import BlockResult, CrisisModel
from escalation.model.plan import Plan

__all__ = ["Actor", "BlockResult", "Challenger", "CrisisModel", "Plan"]
