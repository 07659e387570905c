"""Small scenarios for the model and engine tests, built as dicts that each test tweaks.

:func:`toy` returns a minimal valid scenario: a challenger ``chal`` facing a target ``tgt``
and a third actor ``guard`` that grants its one demand and carries out the threats tests add.
Its ladder is ``calm`` (not choosable), ``standoff`` (the start), ``strike`` and ``war`` (both
violent outcomes). :func:`two_deciders` makes both ``chal`` and ``tgt`` decide, each on a ladder
of its own. Tests change the dict and turn it into a model or a run with the helpers.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from escalation.engine.blocks import block_specs, play_blocks
from escalation.engine.results import assemble
from escalation.model.crisis import CrisisModel
from escalation.model.environment import Subset
from escalation.model.plan import Plan
from escalation.scenario.load import scenario_from_dict
from escalation.scenario.schema import Scenario

#: z for the statistical tests: a 4-standard-error band is exceeded by chance with p ~ 6e-5.
Z = 4.0


def toy(**changes: Any) -> dict[str, Any]:
    """A minimal valid scenario dict; keyword arguments replace top-level fields."""
    data: dict[str, Any] = {
        "name": "toy",
        "horizon": 30,
        "trials": 2000,
        "seed": 7,
        "actors": {
            "chal": {"name": "Challenger", "forces": 100},
            "tgt": {"name": "Target", "capability": 100},
            "guard": {"name": "Guarantor"},
        },
        "parameters": {},
        "ladder": [
            {"id": "calm", "choosable": False},
            {"id": "standoff", "hold_cost": 0.002},
            {"id": "strike", "outcome": "strike", "gain": 0.4, "force": 0.5, "cost": 0.1},
            {"id": "war", "outcome": "war", "gain": 1, "cost": 0.4},
        ],
        "challenger": {
            "actor": "chal",
            "target": "tgt",
            "start_rung": "standoff",
            "stake": 1,
            "audience_cost": 0.2,
            "rationality": 5,
            "decision_rate": 0.2,
            "hope": 0.2,
            "planning_days": 10,
        },
        "demands": {"ask": {"weight": 1, "grantors": ["guard"], "source": "test"}},
        "policies": {},
        "events": {},
    }
    data.update(copy.deepcopy(changes))
    return data


def two_deciders(**changes: Any) -> dict[str, Any]:
    """Two deciders on ladders of their own, each with private types; keywords as in :func:`toy`.

    ``chal`` climbs ``standoff -> raid -> war`` (a bold type replaces ``raid_cost``), ``tgt``
    climbs ``alert -> blockade``; rungs of both ladders name ``skirmish``.
    """
    data = toy(date="2022-01-01", **changes)
    del data["challenger"], data["ladder"]
    data["parameters"] = {
        "raid_cost": {"dist": "uniform(0.05, 0.6)", "source": "t"},
        "p_bold": {"dist": "uniform(0.2, 0.6)", "source": "t"},
        "bold_cost": {"dist": "uniform(0, 0.05)", "source": "t"},
    }
    data["ladders"] = {
        "red_ladder": [
            {"id": "calm", "choosable": False},
            {"id": "standoff", "label": "Armed standoff", "hold_cost": 0.002},
            {"id": "raid", "label": "Border raid", "outcome": "skirmish", "cost": "raid_cost"},
            {"id": "war", "label": "Open war", "outcome": "war", "gain": 1, "cost": 0.4},
        ],
        "blue_ladder": [
            {"id": "quiet", "choosable": False},
            {"id": "alert", "label": "On alert", "hold_cost": 0.001},
            {"id": "blockade", "label": "Naval blockade", "outcome": "skirmish", "cost": 0.2},
        ],
    }
    data["severity"] = ["skirmish", "war"]
    traits = {"stake": 1, "rationality": 5, "decision_rate": 0.2, "hope": 0.2}
    data["deciders"] = {
        "chal": {
            **traits,
            "ladder": "red_ladder",
            "target": "tgt",
            "start_rung": "standoff",
            "types": {
                "timid": {"prior": "1 - p_bold"},
                "bold": {"prior": "p_bold", "overrides": {"raid_cost": "bold_cost"}},
            },
        },
        "tgt": {
            **traits,
            "ladder": "blue_ladder",
            "target": "chal",
            "start_rung": "alert",
            "types": {"firm": {"prior": 0.5}, "soft": {"prior": 0.5}},
        },
    }
    data["demands"] = {
        "ask": {"by": "chal", "weight": 1, "grantors": ["guard"], "source": "t"},
        "back": {"by": "tgt", "weight": 1, "grantors": ["guard"], "source": "t"},
    }
    return data


def sanction(severity: float = 0.3, when: str = "chal.rung >= war", **fields: Any) -> dict:
    """A threat by ``guard`` to sanction the challenger when the condition holds."""
    policy = {
        "actor": "guard",
        "when": when,
        "do": {"sanction": {"target": "chal", "severity": severity}},
        "source": "test",
    }
    policy.update(fields)
    return policy


def aid(amount: float | str, lag: float | str = 0, **fields: Any) -> dict:
    """A policy of ``guard`` that sends aid to the target as soon as it is evaluated."""
    policy = {
        "actor": "guard",
        "do": {"aid": {"to": "tgt", "amount": amount, "lag": lag}},
        "source": "test",
    }
    policy.update(fields)
    return policy


def concession(hazard: float | str, demand: str = "ask", **fields: Any) -> dict:
    """A policy of ``guard`` that grants a demand at a daily hazard."""
    policy = {"actor": "guard", "do": {"concede": demand}, "hazard": hazard, "source": "test"}
    policy.update(fields)
    return policy


def scenario(data: dict[str, Any]) -> Scenario:
    """Validate and cross-check a scenario dict, as a file would be."""
    return scenario_from_dict(copy.deepcopy(data), file="<test>")


def model(data: dict[str, Any], n: int, seed: int = 1) -> CrisisModel:
    """A fresh model of ``n`` trials at day 0."""
    return CrisisModel(Plan.from_scenario(scenario(data)), n, seed)


def play(
    data: dict[str, Any], trials: int, seed: int = 1, block_size: int = 4096, workers: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Play ``trials`` through the block engine; return the trials table and the timeline."""
    built = scenario(data)
    specs = block_specs(trials, seed, block_size)
    blocks = play_blocks(built, specs, workers=workers)
    return assemble(Plan.from_scenario(built), blocks)


def share_gap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of ``a - b`` over paired trials and its Monte Carlo standard error.

    ``a`` and ``b`` are per-trial indicators (or numbers) from the same seeds, so the pairs
    are correlated by common random numbers; the standard error of the mean difference is the
    sample standard deviation of the per-trial differences over sqrt(n), valid for any pairing.
    """
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def binomial_se(p: float, n: int) -> float:
    """Standard error of a share estimated from ``n`` independent trials with true share ``p``."""
    return float(np.sqrt(p * (1 - p) / n))


def utilities(crisis: CrisisModel, idx: np.ndarray | None = None, decider: int = 0) -> np.ndarray:
    """Every option's utility for a decider, ``(options, m)``, closed options at ``-inf``.

    Option 0 is ending, 1 holding, ``2 + r`` moving to rung ``r``, then the concessions.
    """
    chooser = crisis.deciders[decider]
    if idx is None:
        idx = np.arange(crisis.n)
    options, values = chooser.option_utilities(idx, Subset(crisis.env, idx))
    out = np.full((chooser.plan.options, len(idx)), -np.inf)
    out[options] = values
    return out


def duel(**changes: Any) -> dict[str, Any]:
    """A minimal two-sided scenario: deciders ``red`` and ``blue`` on a shared ladder.

    Each demands ``prize`` of the other (``red_prize`` of blue, ``blue_prize`` of red), met once
    the other has ended its part: a war of attrition. Ladder: ``calm`` (not choosable),
    ``standoff`` (the start, with a small holding cost) and ``war`` (violent, not choosable
    unless a test opens it). Both decide every day and end at once: tests change the numbers.
    """

    def side(other: str) -> dict[str, Any]:
        return {
            "target": other,
            "start_rung": "standoff",
            "stake": 1,
            "audience_cost": 0,
            "rationality": 1e6,
            "decision_rate": 0.1,
            "hope": 0,
            "planning_days": 10,
        }

    data: dict[str, Any] = {
        "name": "duel",
        "horizon": 60,
        "trials": 2000,
        "seed": 3,
        "actors": {
            "red": {"name": "Red", "forces": 100, "capability": 100},
            "blue": {"name": "Blue", "forces": 100, "capability": 100},
        },
        "parameters": {},
        "ladder": [
            {"id": "calm", "choosable": False},
            {"id": "standoff", "hold_cost": 0.01},
            {"id": "war", "outcome": "war", "choosable": False, "gain": 1, "cost": 0.5},
        ],
        "deciders": {"red": side("blue"), "blue": side("red")},
        "demands": {
            "red_prize": {
                "by": "red",
                "weight": 1,
                "grantors": ["blue"],
                "met_when": "blue.ended == 1",
                "source": "test",
            },
            "blue_prize": {
                "by": "blue",
                "weight": 1,
                "grantors": ["red"],
                "met_when": "red.ended == 1",
                "source": "test",
            },
        },
        "policies": {},
        "events": {},
    }
    data.update(copy.deepcopy(changes))
    return data
