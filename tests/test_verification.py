"""Verification against closed forms: scenarios whose answer is known, run through the engine.

Two models with known answers are written in the scenario vocabulary and played by
:func:`escalation.api.run`, like any scenario:

- **Fearon's risk-return trade-off.** A demands ``x`` of B, whose war cost ``c_B`` is private
  and uniform on ``[0, c̄]``; B accepts iff ``x <= p + c_B``; refused, A fights. At the optimal
  demand ``x* = p + (c̄ - c_A)/2`` the chance of war is ``(c̄ - c_A)/(2 c̄)``, whatever ``p``.
- **An absorbing Markov chain.** A challenger that chooses at random (rationality 0) at a daily
  rate, a concession at a constant hazard and events at constant rates, all depending only on
  the rung: the engine's day is then a fixed transition matrix, built here by hand from the
  model's equations (docs/model.md) in the engine's within-day order, and the outcome
  distribution, the mean time to the end and the day-by-day timeline follow from it exactly.

Every comparison is a :class:`Check`: the closed-form value, the simulated one and its Monte
Carlo standard error (each check says how it is computed); it passes when the two differ by at
most ``builders.Z = 4`` standard errors (a chance failure has p ~ 6e-5 per check, and the seeds
are fixed). A check whose exact value is 0 or 1 has standard error 0 and must match exactly.

Run ``python tests/test_verification.py`` to print the tables of docs/verification.md, or
``python tests/test_verification.py --update-doc`` to rewrite them in place.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from builders import Z, binomial_se, duel, sanction, scenario, share_gap, toy

import escalation

DOC = Path(__file__).resolve().parent.parent / "docs" / "verification.md"


@dataclass(frozen=True)
class Check:
    """One comparison of a simulated number with its closed-form value.

    ``se`` is the Monte Carlo standard error of ``simulated``; ``how`` says how it was computed.
    """

    group: str
    quantity: str
    expected: float
    simulated: float
    se: float
    trials: int
    seed: int
    how: str

    @property
    def ok(self) -> bool:
        """Within ``Z`` standard errors; an exact value (``se == 0``) must match exactly."""
        if self.se == 0:
            return bool(np.isclose(self.simulated, self.expected, rtol=0, atol=1e-12))
        return abs(self.simulated - self.expected) <= Z * self.se


def assert_checks(checks: list[Check]) -> None:
    """Fail with every check that is off, not just the first."""
    bad = [
        f"{c.group}: {c.quantity}: expected {c.expected:.6g}, simulated {c.simulated:.6g}, "
        f"se {c.se:.3g}"
        for c in checks
        if not c.ok
    ]
    assert not bad, "\n".join(bad)


# =========================================================================== Fearon (1995)
#
# The scenario: B (the grantor and target) moves first on day 1 and concedes A's one demand iff
# `x <= p + c_b`. A then decides (decision rate 1) with a very high rationality between ending
# (it keeps what was granted), holding and climbing to `war`. Utilities, with stake `S = x`:
#   granted (g = 1):  end = x,   hold = x (1 - 1) = 0,      war = x (1 - c_a/x) = x - c_a
#   refused (g = 0):  end = 0,   hold = x (0 - 1) = -x,     war = x (P p/x - c_a/x) = p - c_a
# with contest success P = 1 (B's capability is 0). So A settles when granted (by c_a) and
# fights when refused (by p - c_a > 0), as in the model, and A's payoffs are Fearon's:
# x from a settlement, p - c_a from war. Margins of at least 0.05 times a rationality of 1e4
# put the logit's chance of any other choice below exp(-500).

FEARON_TRIALS = 20_000
FEARON_LAMBDA = 1e4


def fearon(p: float, c_a: float, cbar: float, x: float) -> dict:
    """Fearon's ultimatum with a private cost of war, as a one-day scenario dict."""

    def const(value: float, source: str) -> dict:
        return {"dist": float(value), "source": source}

    data = toy(
        name="fearon_risk_return",
        horizon=1,
        actors={
            # B first: its answer comes before A's decision on day 1.
            "b": {"name": "B", "capability": 0},
            "a": {"name": "A", "forces": 1},
        },
        parameters={
            "p": const(p, "Fearon (1995): A's chance of winning a war"),
            "c_a": const(c_a, "Fearon (1995): A's cost of war"),
            "c_b": {"dist": f"uniform(0, {cbar!r})", "source": "Fearon (1995): B's private cost"},
            "x": const(x, "A's demand"),
        },
        ladder=[
            {"id": "bargain", "hold_cost": 1},
            {
                "id": "war",
                "outcome": "war",
                "absorbing": True,
                "gain": "p / x",
                "cost": "c_a / x",
            },
        ],
        challenger={
            "actor": "a",
            "target": "b",
            "start_rung": "bargain",
            "stake": "x",
            "audience_cost": 0,
            "rationality": FEARON_LAMBDA,
            "decision_rate": 1,
            "hope": 0,
            "planning_days": 1,
        },
        demands={"demand": {"weight": 1, "grantors": ["b"], "source": "A's demand x"}},
        policies={
            "accept": {
                "actor": "b",
                "when": "x <= p + c_b",
                "do": {"concede": "demand"},
                "hazard": 1,
                "source": "Fearon (1995): B accepts iff x <= p + c_B",
            }
        },
        events={},
    )
    return data


def x_star(p: float, c_a: float, cbar: float) -> float:
    """Fearon's optimal demand."""
    return p + max(cbar - c_a, 0.0) / 2


def war_chance(p: float, c_a: float, cbar: float, x: float) -> float:
    """Closed form chance of war at demand ``x``: B refuses iff ``c_B < x - p``."""
    return float(np.clip((x - p) / cbar, 0.0, 1.0))


def expected_utility(p: float, c_a: float, cbar: float, x: float) -> float:
    """A's closed-form expected utility of demanding ``x``."""
    war = war_chance(p, c_a, cbar, x)
    return x * (1 - war) + (p - c_a) * war


@cache
def fearon_trials(p: float, c_a: float, cbar: float, x: float, seed: int) -> pd.DataFrame:
    """The trials table of one Fearon run (cached: the sweeps share runs)."""
    result = escalation.run(scenario(fearon(p, c_a, cbar, x)), trials=FEARON_TRIALS, seed=seed)
    return result.trials


def fearon_payoffs(trials: pd.DataFrame, p: float, c_a: float, x: float) -> np.ndarray:
    """A's payoff in each trial: ``x`` if B accepted and A settled, ``p - c_a`` after war."""
    outcome = trials["outcome"].astype(str).to_numpy()
    # Anything else would mean the scenario does not encode the model.
    assert set(np.unique(outcome)) <= {"settlement", "war"}, np.unique(outcome)
    return np.where(outcome == "war", p - c_a, x)


#: (p, c_A, c̄) triples, each at its own seed; the last has c_A >= c̄, so x* = p and no war.
FEARON_CASES = [(0.5, 0.2, 1.0), (0.3, 0.1, 0.5), (0.6, 0.25, 2.0), (0.7, 0.4, 0.3)]
FEARON_SEED = 101
#: c_A = 0.2 and c̄ = 1 fixed, p varied at one seed: the chance of war must not move.
FEARON_P_SWEEP = [0.3, 0.5, 0.7, 0.9]
FEARON_P_SEED = 111


def fearon_war_checks() -> list[Check]:
    """P(war) at the optimal demand for several (p, c_A, c̄), and for several p."""
    cases = [(*case, FEARON_SEED + i) for i, case in enumerate(FEARON_CASES)]
    cases += [(p, 0.2, 1.0, FEARON_P_SEED) for p in FEARON_P_SWEEP]
    checks = []
    for p, c_a, cbar, seed in cases:
        x = x_star(p, c_a, cbar)
        trials = fearon_trials(p, c_a, cbar, x, seed)
        fearon_payoffs(trials, p, c_a, x)  # asserts that only settlement and war occur
        war = (trials["outcome"] == "war").mean()
        expected = max(cbar - c_a, 0.0) / (2 * cbar)
        checks.append(
            Check(
                "Fearon: P(war) at the optimal demand x*",
                f"p={p}, c_A={c_a}, c̄={cbar}: x*={x:.4g}",
                expected,
                float(war),
                binomial_se(expected, len(trials)),
                len(trials),
                seed,
                "binomial sqrt(P(1-P)/n) at the closed-form P",
            )
        )
    return checks


def fearon_sweep_checks(
    p: float = 0.5, c_a: float = 0.2, cbar: float = 1.0, steps: tuple[int, ...] = (-2, -1, 1, 2)
) -> list[Check]:
    """A's simulated expected utility around x*, and its drop away from x*.

    All demands are played at one seed, so every trial has the same ``c_B`` at every demand
    (each parameter consumes the same uniforms whatever its value): the differences are paired,
    and their standard error is the standard deviation of the per-trial differences over
    sqrt(n) (:func:`builders.share_gap`).
    """
    best = x_star(p, c_a, cbar)
    delta = cbar / 8
    base = fearon_payoffs(fearon_trials(p, c_a, cbar, best, FEARON_SEED), p, c_a, best)
    n = len(base)
    checks = [
        Check(
            "Fearon: A's expected utility",
            f"EU(x*={best:.4g})",
            expected_utility(p, c_a, cbar, best),
            float(base.mean()),
            float(base.std(ddof=1) / np.sqrt(n)),
            n,
            FEARON_SEED,
            "sample sd of the per-trial payoff / sqrt(n)",
        )
    ]
    for k in steps:
        x = best + k * delta
        payoff = fearon_payoffs(fearon_trials(p, c_a, cbar, x, FEARON_SEED), p, c_a, x)
        checks.append(
            Check(
                "Fearon: A's expected utility",
                f"EU(x = x* {k:+d}·c̄/8 = {x:.4g})",
                expected_utility(p, c_a, cbar, x),
                float(payoff.mean()),
                float(payoff.std(ddof=1) / np.sqrt(n)),
                n,
                FEARON_SEED,
                "sample sd of the per-trial payoff / sqrt(n)",
            )
        )
        diff = base - payoff
        checks.append(
            Check(
                "Fearon: A's expected utility",
                f"EU(x*) - EU(x* {k:+d}·c̄/8)",
                expected_utility(p, c_a, cbar, best) - expected_utility(p, c_a, cbar, x),
                float(diff.mean()),
                float(diff.std(ddof=1) / np.sqrt(n)),
                n,
                FEARON_SEED,
                "paired: sd of per-trial differences / sqrt(n)",
            )
        )
    return checks


def test_fearon_war_chance_at_the_optimal_demand() -> None:
    assert_checks(fearon_war_checks())


def test_fearon_war_chance_does_not_move_with_p() -> None:
    # With c_A and c̄ fixed, B refuses x* = p + (c̄ - c_A)/2 iff c_B < (c̄ - c_A)/2, whatever p;
    # every p sees the same c_B draws at one seed, so the wars are the same trials, not only
    # the same share.
    wars = [
        fearon_trials(p, 0.2, 1.0, x_star(p, 0.2, 1.0), FEARON_P_SEED)["outcome"] == "war"
        for p in FEARON_P_SWEEP
    ]
    assert 0 < wars[0].mean() < 1
    for war in wars[1:]:
        np.testing.assert_array_equal(war.to_numpy(), wars[0].to_numpy())


def test_fearon_optimal_demand_maximises_expected_utility() -> None:
    checks = fearon_sweep_checks()
    assert_checks(checks)
    # x* beats every other demand tried, each by more than Z paired standard errors.
    gaps = [c for c in checks if c.quantity.startswith("EU(x*) -")]
    assert len(gaps) == 4
    for gap in gaps:
        assert gap.simulated > Z * gap.se, gap


def test_fearon_encoding_responds_to_the_demand() -> None:
    # Power check: the same scenario at a demand above x* does go to war more often.
    p, c_a, cbar = 0.5, 0.2, 1.0
    high = fearon_trials(p, c_a, cbar, x_star(p, c_a, cbar) + cbar / 4, FEARON_SEED)
    expected = war_chance(p, c_a, cbar, x_star(p, c_a, cbar) + cbar / 4)
    assert expected == pytest.approx(0.65)
    assert abs((high["outcome"] == "war").mean() - expected) <= Z * binomial_se(expected, len(high))


# =========================================================================== Markov chain
#
# The scenario: the guarantor `guard` concedes the one demand at a constant daily hazard; the
# challenger `chal` chooses uniformly (rationality 0) among its open options at a daily rate
# that depends only on its rung; two events fire at constant rates above a rung. Ladder:
#
#   0 standoff   1 strike (violent)   2 clash (violent, not choosable)
#   3 war (violent)   4 nuclear (violent, absorbing, not choosable)
#
# Open options on each rung: end, hold, and a climb to every higher choosable rung, so
# standoff: 4 options, strike: 3 (+war), clash: 3 (+war), war: 2 (end, hold).
# The chain's live states are the rungs below nuclear: the demand is the challenger's only one,
# so once it is granted the challenger is satisfied and the trial ends at once (a settlement
# on the standoff; above it, the violent rung reached). Absorbing states: the trial ended from
# each rung (settled or stood down from the standoff), or reached nuclear use.

RUNGS = ["standoff", "strike", "clash", "war", "nuclear"]
CHOOSABLE = {0: True, 1: True, 2: False, 3: True, 4: False}
LIVE = ["standoff", "strike", "clash", "war"]
ABSORBED = ["settled", "stood_down", "ended@strike", "ended@clash", "ended@war", "nuclear"]
STATES = LIVE + ABSORBED
RUNG_OF = {"standoff": 0, "strike": 1, "clash": 2, "war": 3}
#: The state on each rung.
STATE_ON = {0: "standoff", 1: "strike", 2: "clash", 3: "war", 4: "nuclear"}
#: Where the challenger's ending leads (nothing is granted in a live state).
ENDED_FROM = {
    "standoff": "stood_down",
    "strike": "ended@strike",
    "clash": "ended@clash",
    "war": "ended@war",
}
#: Where the concession of its only demand leads: the challenger is satisfied, the trial ends.
CONCEDED_FROM = {
    "standoff": "settled",
    "strike": "ended@strike",
    "clash": "ended@clash",
    "war": "ended@war",
}
#: Outcome class of each state (live states: as if the horizon were now).
OUTCOME_OF = {
    "standoff": "frozen_standoff",
    "strike": "strike",
    "clash": "clash",
    "war": "war",
    "settled": "settlement",
    "stood_down": "stand_down",
    "ended@strike": "strike",
    "ended@clash": "clash",
    "ended@war": "war",
    "nuclear": "nuclear",
}
OUTCOMES = ["settlement", "stand_down", "frozen_standoff", "strike", "clash", "war", "nuclear"]


@dataclass(frozen=True)
class Chain:
    """Rates of the chain scenario and the order of its actors.

    The decision rate is ``decide + decide_slope * chal.rung``; the events are `clash_event`
    (rung >= strike -> clash, at ``clash``) then `nuke_event` (rung >= clash -> nuclear, at
    ``nuke``), in that file order.
    """

    concede: float = 0.03
    decide: float = 0.10
    decide_slope: float = 0.05
    clash: float = 0.05
    nuke: float = 0.02
    guard_first: bool = True
    start: str = "standoff"

    @property
    def label(self) -> str:
        """How the tables name this chain."""
        order = "guard first" if self.guard_first else "guard last"
        return f"{order}, start {self.start}" if self.start != "standoff" else order

    def decision_rate(self, rung: int) -> float:
        """Daily probability of a decision on ``rung``."""
        return self.decide + self.decide_slope * rung

    def scenario(self, horizon: int) -> dict:
        """The scenario dict."""
        actors = {
            "chal": {"name": "Challenger", "forces": 100},
            "tgt": {"name": "Target", "capability": 100},
        }
        guard = {"guard": {"name": "Guarantor"}}
        actors = {**guard, **actors} if self.guard_first else {**actors, **guard}
        data = toy(
            name="markov_chain",
            horizon=horizon,
            actors=actors,
            ladder=[
                {"id": "standoff", "hold_cost": 0.01},
                {"id": "strike", "outcome": "strike", "gain": 0.4, "cost": 0.1},
                {"id": "clash", "outcome": "clash", "choosable": False},
                {"id": "war", "outcome": "war", "gain": 1, "cost": 0.4},
                {"id": "nuclear", "outcome": "nuclear", "choosable": False, "absorbing": True},
            ],
            policies={
                "give": {
                    "actor": "guard",
                    "do": {"concede": "ask"},
                    "hazard": self.concede,
                    "source": "test: a constant daily hazard",
                },
                # A threat: with rationality 0 it must change nothing in the chain.
                "punish": {
                    "actor": "guard",
                    "when": "chal.rung >= war",
                    "do": {"sanction": {"target": "chal", "severity": 0.5}},
                    "source": "test",
                },
            },
            events={
                "clash_event": {
                    "when": "chal.rung >= strike",
                    "rate": self.clash,
                    "to_rung": "clash",
                    "source": "test",
                },
                "nuke_event": {
                    "when": "chal.rung >= clash",
                    "rate": self.nuke,
                    "to_rung": "nuclear",
                    "source": "test",
                },
            },
        )
        data["challenger"].update(
            start_rung=self.start,
            rationality=0,
            decision_rate=f"{self.decide!r} + {self.decide_slope!r} * chal.rung",
        )
        return data

    def day_matrix(self) -> np.ndarray:
        """The engine's day as one transition matrix, in the engine's order: actors in file
        order (the guarantor's concession; the challenger's decision), then events in file
        order."""
        concede, decide = _stage(self._concede), _stage(self._decide)
        actors = concede @ decide if self.guard_first else decide @ concede
        clash = _stage(self._event(lowest=1, to_rung=2, rate=self.clash))
        nuke = _stage(self._event(lowest=2, to_rung=4, rate=self.nuke))
        return actors @ clash @ nuke

    def _concede(self, state: str) -> dict[str, float]:
        return {CONCEDED_FROM[state]: self.concede, state: 1 - self.concede}

    def _decide(self, state: str) -> dict[str, float]:
        rung = RUNG_OF[state]
        q = self.decision_rate(rung)
        climbs = [r for r in range(rung + 1, len(RUNGS)) if CHOOSABLE[r]]
        share = q / (2 + len(climbs))  # uniform among end, hold and each climb
        out = {state: 1 - q + share, ENDED_FROM[state]: share}
        for r in climbs:
            out[STATE_ON[r]] = out.get(STATE_ON[r], 0.0) + share
        return out

    @staticmethod
    def _event(lowest: int, to_rung: int, rate: float) -> Callable[[str], dict[str, float]]:
        def move(state: str) -> dict[str, float]:
            rung = RUNG_OF[state]
            if rung < lowest:
                return {state: 1.0}
            after = STATE_ON[max(rung, to_rung)]
            if after == state:  # it fires, but an event never lowers the rung
                return {state: 1.0}
            return {after: rate, state: 1 - rate}

        return move

    def days(self, horizon: int) -> np.ndarray:
        """Exact state distribution on each day 0..horizon."""
        out = np.zeros((horizon + 1, len(STATES)))
        out[0, STATES.index(self.start)] = 1
        matrix = self.day_matrix()
        for day in range(1, horizon + 1):
            out[day] = out[day - 1] @ matrix
        return out

    def absorption(self) -> tuple[np.ndarray, float, float]:
        """From the start: absorption probabilities ``B = N R`` with the fundamental matrix
        ``N = (I - Q)^-1``, and the mean ``t = N 1`` and variance of the days to absorption."""
        matrix = self.day_matrix()
        live = len(LIVE)
        q, r = matrix[:live, :live], matrix[:live, live:]
        fundamental = scipy.linalg.inv(np.eye(live) - q)
        b = fundamental @ r
        t = fundamental @ np.ones(live)
        var = (2 * fundamental - np.eye(live)) @ t - t * t
        start = LIVE.index(self.start)
        return b[start], float(t[start]), float(var[start])


def _stage(move: Callable[[str], dict[str, float]]) -> np.ndarray:
    """A row-stochastic matrix from a rule for live states; absorbed states stay put."""
    index = {state: i for i, state in enumerate(STATES)}
    matrix = np.zeros((len(STATES), len(STATES)))
    for state in STATES:
        targets = move(state) if state in LIVE else {state: 1.0}
        for target, prob in targets.items():
            matrix[index[state], index[target]] += prob
    assert np.allclose(matrix.sum(axis=1), 1.0)
    return matrix


def outcome_shares(distribution: np.ndarray) -> dict[str, float]:
    """Outcome classes of a state distribution."""
    shares = dict.fromkeys(OUTCOMES, 0.0)
    for state, prob in zip(STATES, distribution, strict=True):
        shares[OUTCOME_OF[state]] += prob
    return shares


def timeline_columns(distribution: np.ndarray) -> dict[str, float]:
    """The timeline's columns for a state distribution (docs/model.md, section 7.3)."""
    d = dict(zip(STATES, distribution, strict=True))
    columns = {
        "rung:chal:standoff": d["standoff"],
        "rung:chal:strike": d["strike"],
        "rung:chal:clash": d["clash"],
        "rung:chal:war": d["war"],
        "ended:settlement": d["settled"],
        "ended:stand_down": d["stood_down"],
        "ended:after_violence": d["ended@strike"] + d["ended@clash"] + d["ended@war"],
        "ended:nuclear": d["nuclear"],
    }
    columns.update({f"outcome:{k}": v for k, v in outcome_shares(distribution).items()})
    return columns


#: The main chain in both actor orders, and a chain where the order of events shows.
MAIN = Chain()
GUARD_LAST = Chain(guard_first=False)
#: From the strike, the clash event (file order first) then nuclear use can both fire on one
#: day with chance 0.5 * 0.5; in the other order they could not. The default rates make that
#: path too rare to see, so this chain makes it common.
EVENT_ORDER = Chain(clash=0.5, nuke=0.5, start="strike")

CHAIN_TRIALS = 20_000
CHAIN_SEED = 202
CHAIN_HORIZON = 400  # the exact mass still live on that day is checked to be negligible
TIMELINE_DAYS = (1, 2, 5, 10, 30, 60)
CHAIN_SHORT_HORIZON = 30
CHAIN_SHORT_SEED = 203


@cache
def chain_run(chain: Chain, horizon: int, seed: int) -> escalation.RunResult:
    """One run of a chain scenario (cached: several checks read it)."""
    return escalation.run(scenario(chain.scenario(horizon)), trials=CHAIN_TRIALS, seed=seed)


def _binomial(group: str, quantity: str, expected: float, simulated: float, seed: int) -> Check:
    """A share against its exact value, with the binomial standard error at the exact value."""
    return Check(
        group,
        quantity,
        float(expected),
        float(simulated),
        binomial_se(float(expected), CHAIN_TRIALS),
        CHAIN_TRIALS,
        seed,
        "binomial sqrt(P(1-P)/n) at the exact P",
    )


def chain_absorption_checks(chain: Chain = MAIN) -> list[Check]:
    """Outcome distribution and mean time to absorption against the fundamental matrix."""
    group = f"Markov chain ({chain.label}): absorption, B = N R and t = N 1"
    b, t, var = chain.absorption()
    # Truncation: the exact chance that a trial is still live on the last day.
    assert chain.days(CHAIN_HORIZON)[-1, : len(LIVE)].sum() < 1e-9
    run = chain_run(chain, CHAIN_HORIZON, CHAIN_SEED)
    n = len(run.trials)
    observed = run.trials["outcome"].astype(str).value_counts()
    checks = []
    for name in OUTCOMES:
        expected = sum(p for state, p in zip(ABSORBED, b, strict=True) if OUTCOME_OF[state] == name)
        checks.append(
            _binomial(group, f"P({name})", expected, observed.get(name, 0) / n, CHAIN_SEED)
        )
    # E[T] = sum over days d >= 0 of P(still live after day d), read off the timeline's rung
    # shares (the trials table does not keep the end day of a trial with a violent outcome).
    live_columns = [f"rung:chal:{r}" for r in RUNGS if r != "nuclear"]
    live_share = run.timeline[live_columns].sum(axis=1).to_numpy()
    checks.append(
        Check(
            group,
            "mean days to the end of the trial",
            t,
            float(live_share[:-1].sum()),
            float(np.sqrt(var / n)),
            n,
            CHAIN_SEED,
            "sqrt(Var T / n) with the exact Var T = ((2N - I) t - t²)",
        )
    )
    return checks


def chain_timeline_checks(
    chain: Chain = MAIN, days: tuple[int, ...] = TIMELINE_DAYS
) -> list[Check]:
    """Timeline shares on a few days against the exact distribution ``e_0 P^t``."""
    group = f"Markov chain ({chain.label}): timeline, e0 P^t"
    exact = chain.days(max(days))
    timeline = chain_run(chain, CHAIN_HORIZON, CHAIN_SEED).timeline.set_index("day")
    return [
        _binomial(group, f"day {day}: {column}", expected, timeline.loc[day, column], CHAIN_SEED)
        for day in days
        for column, expected in timeline_columns(exact[day]).items()
    ]


def chain_horizon_checks(chain: Chain = MAIN) -> list[Check]:
    """The trials table at a short horizon against ``e_0 P^H`` (exact, nothing truncated)."""
    group = f"Markov chain ({chain.label}): trials at horizon {CHAIN_SHORT_HORIZON}, e0 P^H"
    exact = chain.days(CHAIN_SHORT_HORIZON)
    run = chain_run(chain, CHAIN_SHORT_HORIZON, CHAIN_SHORT_SEED)
    n = len(run.trials)
    observed = run.trials["outcome"].astype(str).value_counts()
    checks = [
        _binomial(group, f"P({name})", expected, observed.get(name, 0) / n, CHAIN_SHORT_SEED)
        for name, expected in outcome_shares(exact[-1]).items()
    ]
    # First-passage days in the trials table: reached strike or above by day d.
    below = [STATES.index("standoff")]
    below += [STATES.index(s) for s in ("settled", "stood_down")]
    reached = run.trials["day_strike"].fillna(CHAIN_SHORT_HORIZON + 1)
    for day in (1, 7, CHAIN_SHORT_HORIZON):
        checks.append(
            _binomial(
                group,
                f"P(day_strike <= {day})",
                1 - exact[day, below].sum(),
                (reached <= day).mean(),
                CHAIN_SHORT_SEED,
            )
        )
    return checks


def chain_order_checks() -> list[Check]:
    """The order of actors within a day, paired: guarantor first against guarantor last.

    Both runs use one seed, and the draws are laid out by policies and events, not by actors,
    so the two runs share every random number: a trial differs only where the concession and
    the challenger's "end" fall on the same day (a settlement if the guarantor moved first, a
    stand-down if it moved last). The standard error is that of the paired difference
    (:func:`builders.share_gap`).
    """
    settled = ABSORBED.index("settled")
    first = chain_run(MAIN, CHAIN_HORIZON, CHAIN_SEED).trials["outcome"] == "settlement"
    last = chain_run(GUARD_LAST, CHAIN_HORIZON, CHAIN_SEED).trials["outcome"] == "settlement"
    gap, se = share_gap(first.to_numpy(), last.to_numpy())
    return [
        Check(
            "Markov chain: order of actors within the day, paired",
            "P(settlement | guard first) - P(settlement | guard last)",
            float(MAIN.absorption()[0][settled] - GUARD_LAST.absorption()[0][settled]),
            gap,
            se,
            len(first),
            CHAIN_SEED,
            "paired: sd of per-trial differences / sqrt(n)",
        )
    ]


CHAINS = {"guard_first": MAIN, "guard_last": GUARD_LAST}


@pytest.mark.parametrize("chain", CHAINS.values(), ids=CHAINS.keys())
def test_markov_chain_absorption(chain: Chain) -> None:
    assert_checks(chain_absorption_checks(chain))


@pytest.mark.parametrize("chain", CHAINS.values(), ids=CHAINS.keys())
def test_markov_chain_timeline(chain: Chain) -> None:
    assert_checks(chain_timeline_checks(chain))


@pytest.mark.parametrize("chain", CHAINS.values(), ids=CHAINS.keys())
def test_markov_chain_finite_horizon(chain: Chain) -> None:
    assert_checks(chain_horizon_checks(chain))


def test_markov_chain_order_of_actors_matters() -> None:
    checks = chain_order_checks()
    assert_checks(checks)
    # Power: the difference is there, well beyond its standard error.
    assert checks[0].expected > 0
    assert checks[0].simulated > Z * checks[0].se


def test_markov_chain_order_of_events_matters() -> None:
    checks = chain_timeline_checks(EVENT_ORDER, days=(1, 2, 3))
    assert_checks(checks)
    # Power: on day 1 from the strike, nuclear use needs the clash first (0.5 * 0.5) unless the
    # challenger climbs to war (then only the second event); had the events run in the other
    # order, only the climb to war could lead there.
    q = EVENT_ORDER.decision_rate(1)
    # The guarantor moves first: where it concedes, the challenger is satisfied and the trial
    # ends before anything else happens that day.
    expected = (1 - EVENT_ORDER.concede) * ((1 - q) * 0.25 + q / 3 * (0.25 + 0.5))
    day1 = next(c for c in checks if c.quantity == "day 1: ended:nuclear")
    assert day1.expected == pytest.approx(expected)
    assert day1.simulated > q / 3 * 0.5 + Z * binomial_se(q / 3 * 0.5, CHAIN_TRIALS)


def test_markov_chain_day_one_is_exact() -> None:
    # The day-1 matrix row in closed form. Guarantor first: the concession (0.03) settles the
    # crisis before the challenger moves. Nuclear use on day 1 needs no concession, then strike
    # chosen (1/4 of decisions), the clash event and nuclear use, or war chosen, then nuclear.
    row = MAIN.day_matrix()[0]
    assert row[STATES.index("settled")] == pytest.approx(0.03)
    nuclear = 0.97 * (0.1 / 4 * 0.05 * 0.02 + 0.1 / 4 * 0.02)
    assert row[STATES.index("nuclear")] == pytest.approx(nuclear)
    # Guarantor last: the challenger first stays on the standoff (no decision, or "hold").
    settled = (1 - 0.1 + 0.1 / 4) * 0.03
    assert GUARD_LAST.day_matrix()[0, STATES.index("settled")] == pytest.approx(settled)


# =========================================================================== two-sided crises
#
# Three closed forms for two deciders, `red` and `blue` (builders.duel), who choose together
# each day on the same state (docs/model.md, section 4):
#
# - A war of attrition with constant hazards. Each demands a prize of the other, met once the
#   other has ended; each ends at its first decision (ending is its best option by far), and
#   decides on a day with probability q_red or q_blue. The crisis lasts T ~ Geometric(1 - (1 -
#   q_r)(1 - q_b)) days; red alone ends it first with probability q_r (1 - q_b) / (1 - (1 -
#   q_r)(1 - q_b)), both on one day with q_r q_b / (...), and at a horizon H it is still
#   going with probability ((1 - q_r)(1 - q_b))^H.
# - Two logits on one day. With utilities that do not depend on the other's move, the two
#   choices are independent: each cell of the joint choice is the product of two softmaxes.
# - A trade: red's demand is granted only together with blue's. Conceding is each side's best
#   option (it ends the crisis with both demands met): with a very high rationality each
#   offers at its first decision, and the trade completes on the later of the two first
#   decision days, P(done by day t) = (1 - (1 - r_r)^t)(1 - (1 - r_b)^t); with a finite
#   rationality the trade completes on day 1 with the product of the two concession logits.

TWO_SIDED_TRIALS = 40_000
TWO_SIDED_SEED = 17


def _share(group: str, quantity: str, expected: float, hits: np.ndarray) -> Check:
    n = len(hits)
    return Check(
        group,
        quantity,
        float(expected),
        float(np.mean(hits)),
        binomial_se(float(expected), n),
        n,
        TWO_SIDED_SEED,
        "binomial sqrt(P(1-P)/n) at the exact P",
    )


def attrition_checks(q_red: float = 0.06, q_blue: float = 0.12, horizon: int = 40) -> list[Check]:
    """The war of attrition's stopping law against its closed form, at a finite horizon."""
    group = f"Two-sided: war of attrition, q_red = {q_red}, q_blue = {q_blue}, H = {horizon}"
    data = duel(horizon=horizon)
    data["deciders"]["red"]["decision_rate"] = q_red
    data["deciders"]["blue"]["decision_rate"] = q_blue
    result = escalation.run(scenario(data), trials=TWO_SIDED_TRIALS, seed=TWO_SIDED_SEED)
    trials = result.trials
    stay = (1 - q_red) * (1 - q_blue)
    by = trials["ended_by"].astype(str).to_numpy()
    day = trials["outcome_day"].to_numpy()
    live_at_h = stay**horizon
    ends = 1 - live_at_h  # P(T <= H)
    checks = [
        _share(
            group, "P(red alone ends it)", q_red * (1 - q_blue) / (1 - stay) * ends, by == "red"
        ),
        _share(
            group, "P(blue alone ends it)", q_blue * (1 - q_red) / (1 - stay) * ends, by == "blue"
        ),
        _share(
            group, "P(both end it on one day)", q_red * q_blue / (1 - stay) * ends, by == "red+blue"
        ),
        _share(group, "P(still going at H)", live_at_h, trials["outcome"] == "frozen_standoff"),
    ]
    for t in (1, 5, 15):
        checks.append(_share(group, f"P(T <= {t})", 1 - stay**t, (day <= t) & (by != "")))
    # Who ended is who backed down; the other is satisfied by it (its demand is met).
    alone = by == "red"
    checks.append(
        _share(
            group,
            "P(blue satisfied | red alone ended it)",
            1.0,
            (trials["exit:blue"].astype(str).to_numpy() == "satisfied")[alone],
        )
    )
    return checks


def _logit(utilities: list[float], rationality: float) -> np.ndarray:
    scores = rationality * np.asarray(utilities, dtype=float)
    weights = np.exp(scores - scores.max())
    return weights / weights.sum()


#: Red and blue on ladders of their own, each on its middle rung, with no target (a climb wins
#: nothing) and demands that are never met, so that neither move ends the crisis on day 1.
#: Utilities (stake 1, nothing granted, unmet share 1, planning 10 days):
#:   end = -audience;  hold = hope - 10 * hold_cost(mid);  step down = hope;  climb = -cost(top)
LOGIT_SIDES = {
    "red": {"audience": 0.3, "hope": 0.2, "hold": 0.01, "cost": 0.1, "rationality": 5.0},
    "blue": {"audience": 0.1, "hope": 0.1, "hold": 0.02, "cost": 0.05, "rationality": 3.0},
}


def joint_logit_scenario() -> dict:
    """Two deciders with fixed utilities and four options each, for one day."""
    data = duel(horizon=1)
    data.pop("ladder")
    data["ladders"] = {}
    data["demands"] = {}
    for side, other in (("red", "blue"), ("blue", "red")):
        v = LOGIT_SIDES[side]
        data["ladders"][f"{side}_posture"] = [
            {"id": f"{side}_low"},
            {"id": f"{side}_mid", "hold_cost": v["hold"]},
            {"id": f"{side}_high", "cost": v["cost"]},
        ]
        data["deciders"][side].update(
            ladder=f"{side}_posture",
            target=None,
            start_rung=f"{side}_mid",
            audience_cost=v["audience"],
            hope=v["hope"],
            rationality=v["rationality"],
            decision_rate=1,
            can_step_down=True,
        )
        data["deciders"][side].pop("target")
        data["demands"][f"{side}_ask"] = {
            "by": side,
            "weight": 1,
            "grantors": [other],
            "met_when": "day > 1000",
            "source": "test: never met within the run",
        }
    return data


def joint_logit_checks() -> list[Check]:
    """The joint day-1 choice of two deciders against the product of two softmaxes."""
    group = "Two-sided: two logits on one day, P(red's choice and blue's choice)"
    result = escalation.run(
        scenario(joint_logit_scenario()), trials=TWO_SIDED_TRIALS, seed=TWO_SIDED_SEED
    )
    trials = result.trials
    options = ["end", "hold", "step down", "climb"]
    chosen = {}
    probs = {}
    for side, v in LOGIT_SIDES.items():
        utilities = [-v["audience"], v["hope"] - 10 * v["hold"], v["hope"], -v["cost"]]
        probs[side] = _logit(utilities, v["rationality"])
        rung = trials[f"rung:{side}"].astype(str).to_numpy()
        ended = trials[f"exit:{side}"].astype(str).to_numpy() == "ended"
        code = np.select(
            [ended, rung == f"{side}_mid", rung == f"{side}_low", rung == f"{side}_high"],
            [0, 1, 2, 3],
            -1,
        )
        chosen[side] = code
    checks = []
    for i, red in enumerate(options):
        for j, blue in enumerate(options):
            expected = probs["red"][i] * probs["blue"][j]
            hits = (chosen["red"] == i) & (chosen["blue"] == j)
            checks.append(_share(group, f"red {red}, blue {blue}", expected, hits))
    return checks


TRADE_COSTS = {"red": 0.1, "blue": 0.2}


def trade_scenario(rationality: float, rates: tuple[float, float], horizon: int) -> dict:
    """Red wants blue's withdrawal, blue red's pledge; one is granted only with the other."""
    data = duel(horizon=horizon)
    data["ladder"] = [{"id": "calm", "choosable": False}, {"id": "standoff", "hold_cost": 0.01}]
    data["demands"] = {
        "withdrawal": {
            "by": "red",
            "weight": 1,
            "grantors": ["blue"],
            "cost": TRADE_COSTS["blue"],
            "together_with": ["pledge"],
            "source": "test",
        },
        "pledge": {
            "by": "blue",
            "weight": 1,
            "grantors": ["red"],
            "cost": TRADE_COSTS["red"],
            "source": "test",
        },
    }
    for side, rate in zip(("red", "blue"), rates, strict=True):
        data["deciders"][side].update(
            rationality=rationality, decision_rate=rate, audience_cost=0.2, hope=0.3
        )
    return data


def trade_checks() -> list[Check]:
    """A trade both sides prefer: its timing, and its day-1 chance at a finite rationality."""
    checks = []
    rates = (0.1, 0.2)
    group = f"Two-sided: a trade both prefer, decision rates {rates}, rationality 1e6"
    result = escalation.run(
        scenario(trade_scenario(1e6, rates, 30)), trials=TWO_SIDED_TRIALS, seed=TWO_SIDED_SEED
    )
    trials = result.trials
    day = trials["day_granted:withdrawal"].to_numpy(dtype=float, na_value=np.inf)
    same = trials["day_granted:pledge"].to_numpy(dtype=float, na_value=np.inf)
    assert np.array_equal(day, same)  # one is granted only with the other
    for t in (1, 5, 10, 30):
        expected = (1 - (1 - rates[0]) ** t) * (1 - (1 - rates[1]) ** t)
        checks.append(_share(group, f"P(traded by day {t})", expected, day <= t))
    checks.append(
        _share(
            group, "P(settlement)", (1 - 0.9**30) * (1 - 0.8**30), trials["outcome"] == "settlement"
        )
    )
    # At a finite rationality, each side's day-1 choice is a logit over end, hold and concede:
    #   end = -0.2 (the other still presses); hold = 0.3 - 10 * 0.01 = 0.2;
    #   concede = 1 - its cost (the trade would end the crisis with its own demand met).
    group = "Two-sided: the trade on day 1, rationality 3, both decide"
    result = escalation.run(
        scenario(trade_scenario(3.0, (1.0, 1.0), 1)), trials=TWO_SIDED_TRIALS, seed=TWO_SIDED_SEED
    )
    trials = result.trials
    p = {side: _logit([-0.2, 0.2, 1 - cost], 3.0) for side, cost in TRADE_COSTS.items()}
    checks.append(
        _share(
            group,
            "P(traded on day 1) = P(red concedes) P(blue concedes)",
            p["red"][2] * p["blue"][2],
            trials["granted:withdrawal"].to_numpy(),
        )
    )
    for side in ("red", "blue"):
        ended = trials[f"exit:{side}"].astype(str).to_numpy() == "ended"
        checks.append(_share(group, f"P({side} ends its part)", p[side][0], ended))
    return checks


def test_war_of_attrition_matches_its_closed_form() -> None:
    checks = attrition_checks()
    assert_checks(checks)
    # Power: were the two moves taken one after the other (red first), blue could never end
    # on a day red ended, and red alone would end it with q_r / (1 - stay), well above.
    q_red, q_blue = 0.06, 0.12
    stay = (1 - q_red) * (1 - q_blue)
    sequential = q_red / (1 - stay) * (1 - stay**40)
    red_alone = next(c for c in checks if c.quantity == "P(red alone ends it)")
    assert abs(red_alone.simulated - sequential) > Z * red_alone.se


def test_symmetric_war_of_attrition_favours_neither_side() -> None:
    data = duel(horizon=200)
    trials = escalation.run(scenario(data), trials=TWO_SIDED_TRIALS, seed=5).trials
    by = trials["ended_by"].astype(str)
    gap, se = share_gap((by == "red").to_numpy(), (by == "blue").to_numpy())
    assert abs(gap) <= Z * se


def test_two_deciders_choose_independently_on_one_day() -> None:
    assert_checks(joint_logit_checks())


def test_a_trade_both_prefer_resolves_as_the_closed_form_says() -> None:
    assert_checks(trade_checks())


# =========================================================================== wars that are fought
#
# A challenger that starts on a fought rung (`war`) and never decides: its campaign is played
# day by day from day 1 (docs/model.md, section 5.1).
#
# - Competing risks. Constant strengths (100 against 100, k = 1: P = 1/2), no attrition: each day
#   the campaign is won with probability war_rate * P, lost with war_rate * (1 - P) and frozen
#   with stalemate_rate, so the result is decided on a geometric day and
#   P(won by day t) = war_rate P / (war_rate + stalemate_rate) * (1 - (1 - war_rate -
#   stalemate_rate)^t), and likewise for the other two.
# - Lanchester's square law. No random resolution (war_rate 0), attrition only: each day
#   A' = A - losses B, B' = B - kills A. Then kills A'^2 - losses B'^2 = (1 - kills losses)
#   (kills A^2 - losses B^2), so the sign of kills A0^2 - losses B0^2 never changes and the
#   attacker wins, trial by trial, exactly when kills A0^2 > losses B0^2.

WAR_TRIALS = 40_000


def war_scenario(**war: object) -> dict:
    """A challenger on a fought rung from day 0, with fixed forces and never deciding."""
    data = toy(horizon=war.pop("horizon", 60))
    data["ladder"][3].update(war)
    data["challenger"].update(start_rung="war", decision_rate=0)
    return data


def competing_risk_checks(rate: float = 0.05, freeze: float = 0.02) -> list[Check]:
    """The campaign's result and day against the competing-risks closed form."""
    group = f"Wars: competing risks, war_rate {rate}, stalemate_rate {freeze}, P = 1/2"
    data = war_scenario(war_rate=rate, stalemate_rate=freeze, horizon=60)
    trials = escalation.run(scenario(data), trials=WAR_TRIALS, seed=TWO_SIDED_SEED).trials
    result = trials["war:chal"].astype(str).to_numpy()
    day = trials["war_day:chal"].to_numpy(dtype=float, na_value=np.inf)
    stay = 1 - rate - freeze
    hazards = {"won": rate / 2, "lost": rate / 2, "stalemate": freeze}
    checks = []
    for t in (1, 10, 60):
        for name, h in hazards.items():
            expected = h / (rate + freeze) * (1 - stay**t)
            hits = (result == name) & (day <= t)
            checks.append(_share(group, f"P({name} by day {t})", expected, hits))
    checks.append(_share(group, "P(ongoing at day 60)", stay**60, result == "ongoing"))
    return checks


def lanchester_checks(kills: float = 0.04, losses: float = 0.06) -> list[Check]:
    """The square law decides every campaign of pure attrition, trial by trial."""
    group = f"Wars: Lanchester's square law, kills {kills}, losses {losses}"
    data = war_scenario(kills=kills, losses=losses, horizon=400)
    data["parameters"] = {
        "a0": {"dist": "uniform(50, 150)", "source": "test"},
        "b0": {"dist": "uniform(50, 150)", "source": "test"},
    }
    data["actors"]["chal"]["forces"] = "a0"
    data["actors"]["tgt"]["capability"] = "b0"
    trials = escalation.run(scenario(data), trials=WAR_TRIALS, seed=TWO_SIDED_SEED).trials
    result = trials["war:chal"].astype(str).to_numpy()
    a0, b0 = trials["a0"].to_numpy(), trials["b0"].to_numpy()
    stronger = kills * a0**2 > losses * b0**2
    decided = result != "ongoing"
    n = len(result)
    return [
        Check(
            group,
            "trials whose winner differs from the square law's",
            0.0,
            float(np.sum(decided & ((result == "won") != stronger))),
            0.0,
            n,
            TWO_SIDED_SEED,
            "exact: a count that must be 0",
        ),
    ]


def test_campaigns_resolve_as_competing_risks() -> None:
    assert_checks(competing_risk_checks())


def test_attrition_follows_lanchesters_square_law() -> None:
    assert_checks(lanchester_checks())
    # Power: most campaigns are decided (so the check covers them), and the square law is not
    # the linear one: with 100 against 100 the linear law (kills A > losses B) and the square
    # law agree, so the test's strengths vary, and they disagree in many trials.
    kills, losses = 0.04, 0.06
    data = war_scenario(kills=kills, losses=losses, horizon=400)
    data["parameters"] = {
        "a0": {"dist": "uniform(50, 150)", "source": "test"},
        "b0": {"dist": "uniform(50, 150)", "source": "test"},
    }
    data["actors"]["chal"]["forces"] = "a0"
    data["actors"]["tgt"]["capability"] = "b0"
    trials = escalation.run(scenario(data), trials=4000, seed=3).trials
    decided = (trials["war:chal"] != "ongoing").to_numpy()
    assert decided.mean() > 0.95
    a0, b0 = trials["a0"].to_numpy(), trials["b0"].to_numpy()
    assert np.mean((kills * a0 > losses * b0) != (kills * a0**2 > losses * b0**2)) > 0.05


# =========================================================================== learning
#
# Beliefs updated by Bayes' rule on what their holders observe (docs/model.md, section 6.1),
# against the closed forms, trial by trial:
#
# - Beta-Binomial. A Beta(a, b) belief that the guarantor carries out its threats, with a and b
#   drawn per trial, counts two threats (which trigger on days 2 and 5 and are carried out with
#   a drawn chance) and a costly signal on day 8 worth 2 successes and 1 failure. Its mean is
#   (a + k) / (a + b + k + f) with k successes and f failures, read off the sanctions carried
#   out (severities 1 and 10, so each one's fate is known).
# - Discrete Bayes. A belief over "bold" and "meek" with a drawn prior p, two signals with
#   likelihoods (0.8, 0.3) and (0.9, 0.2), observed or not per trial: the posterior of "bold"
#   is p L / (p L + (1 - p) L') over the signals observed. A third signal with likelihood 0.5
#   under both (cheap talk) must leave every posterior unchanged, to the last bit.

LEARN_TRIALS = 5000


def learning_scenario(cheap_talk: bool = True) -> dict:
    """A challenger that never moves, learning about its guarantor from what it sees."""
    data = toy(horizon=10)
    data["challenger"]["decision_rate"] = 0
    data["parameters"] = {
        "x": {"dist": "uniform(0, 1)", "source": "test"},
        "follow": {"dist": "uniform(0, 1)", "source": "test"},
        "p_bold": {"dist": "uniform(0.2, 0.8)", "source": "test"},
        "coin": {"dist": "bernoulli(0.5)", "source": "test"},
    }
    data["policies"] = {
        "first": sanction(1, when="day >= 2", follow_through="follow"),
        "second": sanction(10, when="day >= 5", follow_through="follow"),
    }
    signals = {
        "seen": {
            "when": "day == 3 and coin == 1",
            "likelihood": {"bold": 0.8, "meek": 0.3},
            "source": "test",
        },
        "carried": {
            "policy": "second",
            "carried_out": True,
            "likelihood": {"bold": 0.9, "meek": 0.2},
            "source": "test",
        },
    }
    if cheap_talk:
        signals["talk"] = {
            "when": "day == 4",
            "likelihood": {"bold": 0.5, "meek": 0.5},
            "source": "test: the same likelihood under both",
        }
    data["beliefs"] = {
        "resolve": {
            "holder": "chal",
            "a": "1 + 4 * x",
            "b": "1 + 4 * (1 - x)",
            "learns_from": ["first", "second"],
            "signals": {
                "costly": {"when": "day == 8", "successes": 2, "failures": 1, "source": "test"}
            },
            "source": "test",
        },
        "nature": {
            "holder": "chal",
            "hypotheses": {"bold": "p_bold", "meek": "1 - p_bold"},
            "signals": signals,
            "source": "test",
        },
    }
    return data


def learning_checks() -> list[Check]:
    """The engine's beliefs against Beta-Binomial and discrete Bayes, trial by trial."""
    trials = escalation.run(scenario(learning_scenario()), trials=LEARN_TRIALS, seed=11).trials
    n = len(trials)
    sanctions = trials["sanctions:chal"].to_numpy()
    first = np.isin(sanctions, (1.0, 11.0)).astype(float)
    second = (sanctions >= 10).astype(float)
    x = trials["x"].to_numpy()
    a, b = 1 + 4 * x, 1 + 4 * (1 - x)
    k = first + second + 2.0  # the costly signal on day 8 is seen in every trial
    f = (1.0 - first) + (1.0 - second) + 1.0
    beta = (a + k) / (a + b + k + f)
    p = trials["p_bold"].to_numpy()
    seen = trials["coin"].to_numpy() == 1
    carried = second == 1
    bold = p * np.where(seen, 0.8, 1.0) * np.where(carried, 0.9, 1.0)
    meek = (1 - p) * np.where(seen, 0.3, 1.0) * np.where(carried, 0.2, 1.0)
    discrete = bold / (bold + meek)
    quiet = escalation.run(
        scenario(learning_scenario(cheap_talk=False)), trials=LEARN_TRIALS, seed=11
    ).trials
    group = "Learning: posteriors against their closed forms, trial by trial"
    how = "exact: the largest difference over trials, which must be 0 (to 1e-12)"
    return [
        Check(
            group,
            "max |Beta mean - (a + k) / (a + b + k + f)|",
            0.0,
            float(np.abs(trials["belief:resolve"].to_numpy() - beta).max()),
            0.0,
            n,
            11,
            how,
        ),
        Check(
            group,
            "max |P(bold) - p L / (p L + (1 - p) L')|",
            0.0,
            float(np.abs(trials["belief:nature:bold"].to_numpy() - discrete).max()),
            0.0,
            n,
            11,
            how,
        ),
        Check(
            group,
            "max |P(bold) with cheap talk - without|",
            0.0,
            float(
                np.abs(
                    trials["belief:nature:bold"].to_numpy() - quiet["belief:nature:bold"].to_numpy()
                ).max()
            ),
            0.0,
            n,
            11,
            "exact: 0 to the last bit (asserted with ==)",
        ),
    ]


def test_beliefs_equal_their_closed_forms_trial_by_trial() -> None:
    checks = learning_checks()
    assert_checks(checks)
    # Power: the trials do differ in what they saw, and cheap talk was seen in every trial.
    trials = escalation.run(scenario(learning_scenario()), trials=500, seed=11).trials
    assert trials["signal:nature:talk"].all()
    assert 0 < trials["signal:nature:seen"].mean() < 1
    assert 0 < trials["signal:nature:carried"].mean() < 1
    quiet = escalation.run(
        scenario(learning_scenario(cheap_talk=False)), trials=500, seed=11
    ).trials
    assert (trials["belief:nature:bold"].to_numpy() == quiet["belief:nature:bold"].to_numpy()).all()


# =========================================================================== persistent noise
#
# With `noise: persistent`, a decider's logit noise is drawn once per trial: facing the same
# utilities again, it makes the same choice. For a challenger whose utilities never change (no
# threats, no concessions, constant forces and costs), the first decision is a logit draw and
# every later one repeats it: P(war) = P(end) share and P(frozen) = the hold share, exactly the
# softmax of the utilities, however many decisions follow. With fresh noise at each decision the
# shares accumulate instead.


def persistent_checks() -> list[Check]:
    """Outcome shares of a persistent-noise challenger against one softmax of its utilities."""
    from builders import model, utilities

    data = toy(horizon=60)
    data["ladder"][2]["choosable"] = False  # end, hold or war
    data["challenger"].update(rationality=2, decision_rate=0.2, noise="persistent")
    crisis = model(data, 1, seed=1)
    u = utilities(crisis)[:, 0]
    options = np.isfinite(u)
    p = _logit(list(u[options]), 2.0)
    names = np.flatnonzero(options)  # END, HOLD, then war's move
    shares = dict(zip(["end", "hold", "war"], p, strict=True))
    assert list(names) == [0, 1, 5]
    trials = escalation.run(scenario(data), trials=TWO_SIDED_TRIALS, seed=TWO_SIDED_SEED).trials
    decided = 1 - 0.8**60  # a first decision within the horizon
    group = "Persistent noise: one softmax however many decisions (rationality 2, 60 days)"
    outcome = trials["outcome"].astype(str).to_numpy()
    return [
        _share(group, "P(war)", shares["war"] * decided, outcome == "war"),
        _share(group, "P(stand-down)", shares["end"] * decided, outcome == "stand_down"),
        _share(
            group,
            "P(frozen standoff)",
            shares["hold"] * decided + (1 - decided),
            outcome == "frozen_standoff",
        ),
    ]


def test_persistent_noise_repeats_the_first_choice() -> None:
    checks = persistent_checks()
    assert_checks(checks)
    # Power: with fresh noise at each decision, war accumulates well past its one-draw share.
    data = toy(horizon=60)
    data["ladder"][2]["choosable"] = False
    data["challenger"].update(rationality=2, decision_rate=0.2)
    trials = escalation.run(scenario(data), trials=8000, seed=3).trials
    war = next(c for c in checks if c.quantity == "P(war)")
    fresh = (trials["outcome"] == "war").mean()
    assert fresh > war.expected + Z * binomial_se(war.expected, 8000)


# =========================================================================== the report


def all_checks() -> list[Check]:
    """Every check, in the order of docs/verification.md."""
    checks = fearon_war_checks() + fearon_sweep_checks()
    for chain in (MAIN, GUARD_LAST):
        checks += chain_absorption_checks(chain)
        checks += chain_horizon_checks(chain)
        checks += chain_timeline_checks(chain)
    checks += chain_order_checks()
    checks += chain_timeline_checks(EVENT_ORDER, days=(1, 2, 3))
    checks += attrition_checks() + joint_logit_checks() + trade_checks()
    checks += competing_risk_checks() + lanchester_checks()
    return checks + learning_checks() + persistent_checks()


def markdown(checks: list[Check]) -> str:
    """The checks as one markdown table per group; long tables folded under a summary."""
    lines: list[str] = []
    groups = list(dict.fromkeys(c.group for c in checks))
    for group in groups:
        rows = [c for c in checks if c.group == group]
        hows = sorted({c.how for c in rows})
        scored = [abs(c.simulated - c.expected) / c.se for c in rows if c.se > 0]
        exact = sum(c.se == 0 for c in rows)
        passed = sum(c.ok for c in rows)
        summary = (
            f"{passed} of {len(rows)} checks pass; largest |simulated - expected| / SE = "
            f"{max(scored, default=0):.2f}" + (f"; {exact} exact (SE 0)" if exact else "") + "."
        )
        lines += [f"### {group}", "", f"Standard error: {'; '.join(hows)}. {summary}", ""]
        fold = len(rows) > 20
        if fold:
            lines += ["<details><summary>All checks</summary>", ""]
        lines += [
            "| quantity | expected | simulated | ±4 SE interval | trials | seed | ok |",
            "| --- | ---: | ---: | --- | ---: | ---: | :---: |",
        ]
        for c in rows:
            interval = (
                "exact"
                if c.se == 0
                else f"[{c.expected - Z * c.se:.5f}, {c.expected + Z * c.se:.5f}]"
            )
            lines.append(
                f"| {c.quantity} | {c.expected:.5f} | {c.simulated:.5f} | {interval} | "
                f"{c.trials:,} | {c.seed} | {'yes' if c.ok else '**NO**'} |"
            )
        if fold:
            lines += ["", "</details>"]
        lines.append("")
    return "\n".join(lines)


START, END = "<!-- tables:start -->", "<!-- tables:end -->"


def main(argv: list[str]) -> int:
    """Print the tables, or with ``--update-doc`` write them between the doc's markers."""
    checks = all_checks()
    tables = markdown(checks)
    if "--update-doc" in argv:
        text = DOC.read_text()
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(f"{head}{START}\n\n{tables}\n{END}{tail}")
        print(f"wrote {len(checks)} checks to {DOC}")
    else:
        print(tables)
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
