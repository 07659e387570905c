"""Tests of the crisis model's mechanics: threats, aid, concessions, costs, choice, events.

Most tests compare two versions of one scenario at the same seed. A block's random draws are
laid out by the scenario's structure (parameters in file order, then one row per option,
policy and event each day), so two versions that differ only in a number share every draw:
common random numbers. Where a change can only move one option's utility, the effect is then
exact per trial; elsewhere tests compare shares with a tolerance of ``builders.Z`` standard
errors of the paired difference (see :func:`builders.share_gap`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from builders import (
    Z,
    aid,
    binomial_se,
    concession,
    duel,
    model,
    play,
    sanction,
    share_gap,
    toy,
    utilities,
)

from escalation.model.plan import END, HOLD
from escalation.model.tally import ABSORBED, ENDED, LIVE
from escalation.scenario.yamlio import read_yaml

VIOLENT = ["strike", "war"]


def reached(trials: pd.DataFrame, rung: str) -> np.ndarray:
    """Per-trial indicator: the (one) decider reached ``rung`` (or higher) at some point."""
    (peak,) = [column for column in trials.columns if column.startswith("peak:")]
    order = list(trials[peak].cat.categories)
    return trials[peak].cat.codes.to_numpy() >= order.index(rung)


def outcome_is(trials: pd.DataFrame, *names: str) -> np.ndarray:
    """Per-trial indicator: the trial ended in one of ``names``."""
    return trials["outcome"].isin(names).to_numpy()


# --------------------------------------------------------------------------- threats


def test_dead_threat_is_the_same_as_no_threat() -> None:
    # Follow-through 0 and perceived 0: the challenger ignores it and it never bites.
    dead = toy(policies={"s": sanction(0.3, follow_through=0, perceived=0)})
    off = toy(policies={"s": sanction(0.3, enabled=False)})
    live = toy(policies={"s": sanction(0.3, follow_through=0, perceived=0.8)})
    trials_dead, timeline_dead = play(dead, 3000, seed=11)
    trials_off, timeline_off = play(off, 3000, seed=11)
    pd.testing.assert_frame_equal(trials_dead, trials_off)
    pd.testing.assert_frame_equal(timeline_dead, timeline_off)
    # The comparison has power: a believed threat at the same seed changes the trials.
    trials_live, _ = play(live, 3000, seed=11)
    assert not trials_live["outcome"].equals(trials_off["outcome"])


def test_dead_threat_is_the_same_as_no_threat_in_dec2021(dec2021_path: Path) -> None:
    data, _ = read_yaml(dec2021_path)
    data["horizon"] = 60
    dead = {**data, "policies": dict(data["policies"])}
    off = {**data, "policies": dict(data["policies"])}
    dead["policies"]["us_sanctions_invasion"] = {
        **data["policies"]["us_sanctions_invasion"],
        "follow_through": 0,
        "perceived": 0,
    }
    off["policies"]["us_sanctions_invasion"] = {
        **data["policies"]["us_sanctions_invasion"],
        "enabled": False,
    }
    trials_dead, timeline_dead = play(dead, 2000, seed=5)
    trials_off, timeline_off = play(off, 2000, seed=5)
    pd.testing.assert_frame_equal(trials_dead, trials_off)
    pd.testing.assert_frame_equal(timeline_dead, timeline_off)


def test_perceived_credibility_deters_climbing() -> None:
    n = 20_000
    weak = toy(policies={"s": sanction(0.3, follow_through=1, perceived=0.1)})
    strong = toy(policies={"s": sanction(0.3, follow_through=1, perceived=0.9)})
    trials_weak, _ = play(weak, n, seed=3)
    trials_strong, _ = play(strong, n, seed=3)
    # Paired difference of "reached war"; its MC standard error comes from the per-trial diffs.
    gap, se = share_gap(reached(trials_weak, "war"), reached(trials_strong, "war"))
    assert gap > Z * se


def test_follow_through_changes_only_what_follows_the_trigger() -> None:
    # Perceived fixed: the challenger's every choice is the same; only sanctions differ.
    never = toy(policies={"s": sanction(0.3, follow_through=0, perceived=0.5)})
    always = toy(policies={"s": sanction(0.3, follow_through=1, perceived=0.5)})
    half = toy(policies={"s": sanction(0.3, follow_through=0.5, perceived=0.5)})
    n = 6000
    trials_never, timeline_never = play(never, n, seed=4)
    trials_always, timeline_always = play(always, n, seed=4)
    trials_half, _ = play(half, n, seed=4)
    others = [c for c in trials_never.columns if c != "sanctions:chal"]
    pd.testing.assert_frame_equal(trials_never[others], trials_always[others])
    pd.testing.assert_frame_equal(trials_never[others], trials_half[others])
    pd.testing.assert_frame_equal(timeline_never, timeline_always)
    # The guard moves after the challenger, so a climb to war is answered the same day.
    at_war = reached(trials_always, "war")
    assert at_war.any()
    assert (trials_never["sanctions:chal"] == 0).all()
    np.testing.assert_array_equal(trials_always["sanctions:chal"], np.where(at_war, 0.3, 0.0))
    carried = trials_half["sanctions:chal"].to_numpy()[at_war] == 0.3
    assert set(np.unique(trials_half["sanctions:chal"])) == {0.0, 0.3}
    # Carried out with probability 0.5 where triggered: binomial standard error.
    assert abs(carried.mean() - 0.5) < Z * binomial_se(0.5, at_war.sum())


# --------------------------------------------------------------------------- aid


@pytest.mark.parametrize("lag", [0, 5])
def test_aid_arrives_after_its_lag(lag: int) -> None:
    data = toy(
        horizon=12,
        parameters={"base": {"dist": "uniform(50, 150)", "source": "test"}},
        policies={"help": aid(7, lag=lag, follow_through=0.6)},
    )
    data["actors"]["tgt"]["capability"] = "base"
    data["challenger"]["decision_rate"] = 0  # every trial stays live to the horizon
    crisis = model(data, 4000, seed=9)
    target = crisis.actors[crisis.plan.deciders[0].target]
    base = crisis.world.values["base"]
    carried = crisis.follow_draws[0] < 0.6
    assert 0 < carried.sum() < len(carried)
    np.testing.assert_array_equal(target.capability, base)
    for day in range(1, 13):
        crisis.step()
        assert crisis.day == day
        # Triggered on day 1, the aid is in use from day 1 + lag (the same day if lag is 0).
        expected = np.where(carried & (day >= 1 + lag), base + 7, base)
        np.testing.assert_allclose(target.capability, expected, rtol=0, atol=1e-12)
    result = crisis.result()
    np.testing.assert_array_equal(result.records["aid:tgt"], np.where(carried, 7.0, 0.0))


def test_aid_due_after_the_crisis_ended_is_not_delivered() -> None:
    data = toy(horizon=20, policies={"help": aid(7, lag=10)})
    data["challenger"]["decision_rate"] = 1
    data["challenger"]["audience_cost"] = -5  # standing down is by far the best option
    crisis = model(data, 500, seed=2)
    result = crisis.play()
    ended_early = (crisis.status == ENDED) & (crisis.end_day < 11)
    assert ended_early.any()
    assert (result.records["aid:tgt"][ended_early] == 0).all()
    assert (result.records["aid:tgt"][~ended_early] == 7).all()


def test_aid_lowers_the_chance_of_a_climb() -> None:
    def scenario(amount: float) -> dict:
        data = toy(policies={"help": aid(amount)})
        # The guard moves first, so the aid is in place before the challenger's first choice.
        data["actors"] = {"guard": data["actors"]["guard"], **data["actors"]}
        return data

    n = 20_000
    trials_none, _ = play(scenario(0), n, seed=6)
    trials_much, _ = play(scenario(100), n, seed=6)
    assert (trials_much["aid:tgt"] == 100).all() and (trials_none["aid:tgt"] == 0).all()
    for rung in VIOLENT:
        gap, se = share_gap(reached(trials_none, rung), reached(trials_much, rung))
        assert gap > Z * se, rung


def test_aid_lowers_contest_success_in_the_utilities() -> None:
    data = toy(horizon=2, policies={"help": aid(100)})
    data["actors"] = {"guard": data["actors"]["guard"], **data["actors"]}
    data["challenger"]["decision_rate"] = 0
    with_aid = model(data, 4, seed=1)
    data["policies"]["help"]["enabled"] = False
    without = model(data, 4, seed=1)
    with_aid.step()
    without.step()
    u_aid, u_none = utilities(with_aid), utilities(without)
    # Only the climbs depend on the contest: 0.5 * 100 vs 100 and 100 vs 100 without aid,
    # 50 vs 200 and 100 vs 200 with it (k = 1): P falls 0.333 -> 0.2 and 0.5 -> 0.333.
    np.testing.assert_array_equal(u_aid[[END, HOLD]], u_none[[END, HOLD]])
    # Option 2 + j climbs to rung j: strike (gain 0.4) is option 4, war (gain 1) option 5.
    for option, gain, before, after in ((4, 0.4, 1 / 3, 0.2), (5, 1.0, 0.5, 1 / 3)):
        drop = (before - after) * gain
        np.testing.assert_allclose(u_none[option] - u_aid[option], drop, atol=1e-12)


def test_promised_aid_is_anticipated_on_the_rungs_that_trigger_it() -> None:
    # Aid of 100 promised if the challenger goes to war, believed at 0.5: before it triggers,
    # the climb to war faces 100 + 0.5 * 100 = 150 (P = 100/250 = 0.4 instead of 0.5, k = 1);
    # the climb to strike, which does not trigger it, is unchanged.
    def weighed(perceived: float) -> np.ndarray:
        data = toy(horizon=2, policies={"help": aid(100, lag=30, when="chal.rung >= war")})
        data["policies"]["help"]["perceived"] = perceived
        data["challenger"]["decision_rate"] = 0
        crisis = model(data, 4, seed=1)
        crisis.step()
        assert crisis.pending[0].all()  # not triggered: the challenger is not at war
        return utilities(crisis)

    believed, ignored = weighed(0.5), weighed(0.0)
    np.testing.assert_array_equal(believed[[END, HOLD, 4]], ignored[[END, HOLD, 4]])
    np.testing.assert_allclose(ignored[5] - believed[5], (0.5 - 0.4) * 1.0, atol=1e-12)


def test_aid_in_transit_counts_in_full_until_it_arrives() -> None:
    # Aid triggered on day 1 with a 10-day lag: from then on the challenger weighs it in full
    # (it is on its way), although the target's capability rises only when it arrives.
    data = toy(horizon=3, policies={"help": aid(100, lag=10, perceived=0)})
    data["challenger"]["decision_rate"] = 0
    crisis = model(data, 4, seed=1)
    crisis.step()
    assert not crisis.pending[0].any()
    np.testing.assert_array_equal(crisis.actors[1].capability, 100)
    u = utilities(crisis)
    # War: 100 forces against 100 + 100 in transit, P = 1/3 instead of 1/2.
    data["policies"] = {}
    bare = model(data, 4, seed=1)
    bare.step()
    np.testing.assert_allclose(utilities(bare)[5] - u[5], 0.5 - 1 / 3, atol=1e-12)


# --------------------------------------------------------------------------- concessions and costs


def test_a_granted_demand_moves_the_challenger_toward_settlement() -> None:
    def scenario(hazard: float) -> dict:
        data = toy(policies={"give": concession(hazard, demand="side")})
        data["demands"] = {
            "core": {"weight": 0.5, "grantors": ["guard"], "source": "test"},
            "side": {"weight": 0.5, "grantors": ["guard"], "source": "test"},
        }
        # The guard moves first, so the grant is there before the challenger's first choice.
        data["actors"] = {"guard": data["actors"]["guard"], **data["actors"]}
        return data

    n = 20_000
    trials_give, _ = play(scenario(1), n, seed=8)
    trials_keep, _ = play(scenario(0), n, seed=8)
    assert (trials_give["met:chal"] == 0.5).all() and (trials_keep["met:chal"] == 0).all()
    gap, se = share_gap(
        outcome_is(trials_give, "settlement"), outcome_is(trials_keep, "settlement")
    )
    assert gap > Z * se
    gap, se = share_gap(outcome_is(trials_keep, *VIOLENT), outcome_is(trials_give, *VIOLENT))
    assert gap > Z * se


def test_holding_costs_push_the_challenger_to_decide() -> None:
    def scenario(cost: float) -> dict:
        data = toy()
        data["ladder"][1]["hold_cost"] = cost
        return data

    n = 20_000
    trials_cheap, _ = play(scenario(0.0), n, seed=12)
    trials_dear, _ = play(scenario(0.03), n, seed=12)
    frozen_cheap = outcome_is(trials_cheap, "frozen_standoff")
    frozen_dear = outcome_is(trials_dear, "frozen_standoff")
    # Only holding on the start rung got worse, so with common random numbers a trial that
    # held to the horizon despite the cost also held without it.
    assert not (frozen_dear & ~frozen_cheap).any()
    gap, se = share_gap(frozen_cheap, frozen_dear)
    assert gap > Z * se


def _audience_pair(data_low: dict, data_high: dict, n: int, seed: int) -> None:
    """Assert that the higher audience cost never makes standing down likelier."""
    trials_low, _ = play(data_low, n, seed=seed)
    trials_high, _ = play(data_high, n, seed=seed)
    down_low = outcome_is(trials_low, "stand_down")
    down_high = outcome_is(trials_high, "stand_down")
    # Only the value of ending fell: until the first day the low-cost trial ends, both play the
    # same path; so a trial that stands down at the high cost stood down at the low cost too.
    assert not (down_high & ~down_low).any()
    gap, se = share_gap(down_low, down_high)
    assert gap > Z * se


def test_audience_cost_never_makes_standing_down_likelier() -> None:
    low = toy(policies={"give": concession(0.01)})
    high = toy(policies={"give": concession(0.01)})
    low["challenger"]["audience_cost"] = 0.05
    high["challenger"]["audience_cost"] = 0.5
    _audience_pair(low, high, 20_000, seed=13)


def test_audience_cost_never_makes_standing_down_likelier_in_dec2021(
    dec2021_path: Path,
) -> None:
    data, _ = read_yaml(dec2021_path)
    high = {**data, "parameters": dict(data["parameters"])}
    # The same uniform draw maps to a higher cost in every trial.
    high["parameters"]["russia_audience_cost"] = {
        **data["parameters"]["russia_audience_cost"],
        "dist": "uniform(0.6, 0.9)",
    }
    _audience_pair(data, high, 4000, seed=14)


# --------------------------------------------------------------------------- the choice


def _choice_scenario() -> dict:
    """One day, one decision, every term of the utilities set to a hand-picked number."""
    data = toy(
        horizon=1,
        policies={
            # Granted on day 1 before the challenger moves (the guard is first in order).
            "give": concession(1, demand="side"),
            "light": sanction(0.2, when="chal.rung >= strike", perceived=0.5),
            "heavy": sanction(0.4, when="chal.rung >= war", perceived=0.25, cost=0.6),
        },
    )
    data["actors"] = {"guard": data["actors"]["guard"], **data["actors"]}
    data["actors"]["tgt"]["capability"] = 50
    data["demands"] = {
        "core": {"weight": 0.6, "grantors": ["guard"], "source": "test"},
        "side": {"weight": 0.4, "grantors": ["guard"], "source": "test"},
    }
    data["ladder"][1]["hold_cost"] = 0.01
    data["ladder"][2].update(gain=0.6, force=0.5, cost=0.1, hold_cost=0.02)
    data["ladder"][3].update(gain=1, force=1, cost=0.3, hold_cost=0)
    data["challenger"].update(
        stake=2,
        audience_cost=0.3,
        rationality=5,
        decision_rate=1,
        hope=0.2,
        planning_days=10,
        decisiveness=2,
    )
    return data


def _hand_utilities() -> np.ndarray:
    """The choice scenario's utilities from the equations in Challenger.utilities.

    Every term is in units of the stake, and the whole utility is scaled by the stake.
    """
    stake, granted, audience, hope, days = 2.0, 0.4, 0.3, 0.2, 10.0
    unmet = 1.0 - granted
    p_strike = 50.0**2 / (50.0**2 + 50.0**2)  # 0.5 * 100 forces against 50, k = 2
    p_war = 100.0**2 / (100.0**2 + 50.0**2)  # 0.8
    threat_strike = 0.5 * 0.2  # the light sanction, believed at 0.5
    threat_war = threat_strike + 0.25 * 0.6  # and the heavy one, at its stated cost
    end = stake * (granted - audience * unmet)  # 0.44
    hold = stake * (granted + hope * unmet - days * 0.01)  # 0.84
    strike = stake * (granted + p_strike * 0.6 * unmet - 0.1 - days * 0.02 - threat_strike)  # 0.36
    war = stake * (granted + p_war * 1.0 * unmet - 0.3 - days * 0.0 - threat_war)  # 0.66
    # Options: end, hold, then a climb to each rung; calm and standoff are not above the start.
    return np.array([end, hold, -np.inf, -np.inf, strike, war])


def test_utilities_match_the_hand_calculation() -> None:
    crisis = model(_choice_scenario(), 400, seed=1)
    crisis.step()
    held = crisis.live & (crisis.deciders[0].rung == 1)
    assert held.any()
    np.testing.assert_allclose(crisis.deciders[0].met[held], 0.4)
    found = utilities(crisis, np.flatnonzero(held))
    np.testing.assert_allclose(
        found, np.broadcast_to(_hand_utilities()[:, None], found.shape), atol=1e-12
    )
    np.testing.assert_allclose(
        _hand_utilities(), [0.44, 0.84, -np.inf, -np.inf, 0.36, 0.66], atol=1e-12
    )


def test_logit_choice_matches_softmax() -> None:
    n = 200_000
    crisis = model(_choice_scenario(), n, seed=21)
    crisis.step()
    scores = 5.0 * _hand_utilities()
    expected = np.exp(scores - scores.max())
    expected /= expected.sum()
    # Group by what can be seen after the day: the closed climb to the start rung would look
    # like holding, and has probability 0 anyway.
    expected = np.array([expected[0], expected[1] + expected[3], expected[2], *expected[4:]])
    rung = crisis.deciders[0].rung
    observed = np.array(
        [
            np.mean(crisis.status == ENDED),
            np.mean((crisis.status == LIVE) & (rung == 1)),
            np.mean(rung == 0),
            np.mean(rung == 2),
            np.mean(rung == 3),
        ]
    )
    assert observed.sum() == pytest.approx(1.0)
    # Each share is a binomial proportion over n independent trials.
    for obs, exp in zip(observed, expected, strict=True):
        assert abs(obs - exp) <= Z * binomial_se(exp, n), (observed, expected)


def test_zero_rationality_chooses_uniformly_among_open_options() -> None:
    data = _choice_scenario()
    data["challenger"]["rationality"] = 0
    n = 40_000
    crisis = model(data, n, seed=22)
    crisis.step()
    rung = crisis.deciders[0].rung
    assert not (rung == 0).any()  # a closed option stays closed at lambda 0
    for share in (np.mean(crisis.status == ENDED), np.mean(rung == 2), np.mean(rung == 3)):
        assert abs(share - 0.25) <= Z * binomial_se(0.25, n)


# --------------------------------------------------------------------------- events and endings


def test_event_fires_by_day_t_with_the_geometric_probability() -> None:
    rate, n = 0.04, 40_000
    data = toy(events={"blow": {"rate": rate, "to_rung": "war", "source": "test"}})
    data["challenger"]["decision_rate"] = 0
    trials, _ = play(data, n, seed=15)
    days = trials["day_war"].to_numpy(dtype=float, na_value=np.inf)
    for t in (1, 5, 10, 30):
        expected = 1 - (1 - rate) ** t
        assert abs(np.mean(days <= t) - expected) <= Z * binomial_se(expected, n), t
    assert (trials["outcome"] == "war").sum() == np.isfinite(days).sum()


def test_event_waits_for_its_condition() -> None:
    data = toy(events={"blow": {"when": "day >= 10", "rate": 0.2, "to_rung": "war", "source": "t"}})
    data["challenger"]["decision_rate"] = 0
    trials, _ = play(data, 2000, seed=16)
    days = trials["day_war"].dropna()
    assert len(days) > 0 and days.min() == 10


def _absorbing_scenario() -> dict:
    data = toy(
        horizon=40,
        policies={
            "s": sanction(0.3, when="true", hazard=0.05),
            "give": concession(0.05),
            "help": aid(5, lag=3, hazard=0.1),
        },
        events={
            "doom": {"rate": 0.03, "to_rung": "doom", "source": "test"},
            "beyond": {
                "when": "chal.rung >= strike",
                "rate": 0.05,
                "to_rung": "beyond",
                "source": "t",
            },
        },
    )
    data["ladder"] += [
        {"id": "doom", "outcome": "doom", "absorbing": True, "choosable": False},
        {"id": "beyond", "outcome": "beyond", "choosable": False},
    ]
    data["challenger"]["rationality"] = 1
    return data


def test_an_absorbing_rung_ends_the_trial() -> None:
    crisis = model(_absorbing_scenario(), 3000, seed=17)
    ch = crisis.deciders[0]
    target = crisis.actors[crisis.plan.deciders[0].target]
    doom = 4

    def snapshot() -> np.ndarray:
        return np.stack([ch.rung, ch.peak, ch.sanctions, ch.met, target.aid, crisis.status])

    frozen_at: dict[int, np.ndarray] = {}
    absorbed_day = np.full(crisis.n, -1)
    while crisis.day < crisis.plan.horizon:
        crisis.step()
        now = snapshot()
        new = (crisis.status == ABSORBED) & (absorbed_day < 0)
        absorbed_day[new] = crisis.day
        for i in np.flatnonzero(new):
            frozen_at[i] = now[:, i].copy()
        done = absorbed_day >= 0
        for i in np.flatnonzero(done):
            np.testing.assert_array_equal(now[:, i], frozen_at[i])
    done = absorbed_day >= 0
    assert done.sum() > 50
    assert (ch.rung[done] == doom).all() and not crisis.live[done].any()
    np.testing.assert_array_equal(crisis.end_day[done], absorbed_day[done])
    result = crisis.result()
    names = np.array(crisis.plan.outcomes)[result.outcome]
    assert (names[done] == "doom").all()
    np.testing.assert_array_equal(result.records["outcome_day"][done], absorbed_day[done])
    # Nothing else ends up on the absorbing rung without being absorbed.
    assert ((ch.rung == doom) == done).all()


def test_outcome_classification() -> None:
    data = toy(horizon=25, policies={"give": concession(0.03)})
    data["challenger"].update(rationality=0, decision_rate=0.15)  # a random walk
    crisis = model(data, 6000, seed=18)
    result = crisis.play()
    names = np.array(crisis.plan.outcomes)[result.outcome]
    peak, granted, status = crisis.deciders[0].peak, crisis.deciders[0].met, crisis.status
    violent_peak = peak >= 2
    ended = status == ENDED
    # Violent peak dominates, whether the trial later ended or was still live.
    np.testing.assert_array_equal(names[violent_peak], np.array(VIOLENT)[peak[violent_peak] - 2])
    assert (violent_peak & ended).any() and (violent_peak & (status == LIVE)).any()
    calm = ~violent_peak
    np.testing.assert_array_equal(names[calm] == "settlement", (ended & (granted > 0))[calm])
    np.testing.assert_array_equal(names[calm] == "stand_down", (ended & (granted == 0))[calm])
    np.testing.assert_array_equal(names[calm] == "frozen_standoff", (status == LIVE)[calm])
    assert set(names) == {"settlement", "stand_down", "frozen_standoff", *VIOLENT}
    # Days: a diplomatic ending on its day, a frozen standoff at the horizon, violence on the
    # first day of its rung.
    np.testing.assert_array_equal(
        result.records["outcome_day"][calm & ended], crisis.end_day[calm & ended]
    )
    assert (result.records["outcome_day"][names == "frozen_standoff"] == 25).all()
    war = names == "war"
    np.testing.assert_array_equal(
        result.records["outcome_day"][war], result.records["day_war"][war]
    )
    assert (result.records["day_strike"][war] <= result.records["day_war"][war]).all()


def test_threat_cost_is_weighed_at_the_rung_climbed_to() -> None:
    # A cost that grows with the rung is what the challenger would pay there, not where it is.
    data = toy(
        horizon=2,
        policies={
            "s": sanction(0.3, when="chal.rung >= strike", perceived=0.5, cost="0.1 * chal.rung")
        },
    )
    data["challenger"]["decision_rate"] = 0
    threatened = model(data, 3, seed=1)
    data["policies"]["s"]["enabled"] = False
    free = model(data, 3, seed=1)
    # Options end, hold, then climbs to calm, standoff (both closed), strike and war.
    open_options = [0, 1, 4, 5]
    drop = utilities(free)[open_options] - utilities(threatened)[open_options]
    np.testing.assert_allclose(drop[:2], 0.0)
    np.testing.assert_allclose(drop[2], 0.5 * 0.1 * 2)  # strike is rung 2
    np.testing.assert_allclose(drop[3], 0.5 * 0.1 * 3)  # war is rung 3


def _dec2021_with(path: Path, **dists: str) -> dict:
    """The shipped scenario with some parameters' distributions replaced (same draws)."""
    data, _ = read_yaml(path)
    data["parameters"] = dict(data["parameters"])
    for name, dist in dists.items():
        data["parameters"][name] = {**data["parameters"][name], "dist": dist}
    return data


@pytest.mark.slow
def test_dec2021_belief_in_us_sanctions_deters_invasion(dec2021_path: Path) -> None:
    n = 40_000
    doubt, _ = play(_dec2021_with(dec2021_path, russia_belief_us="beta(1, 9)"), n, seed=31)
    trust, _ = play(_dec2021_with(dec2021_path, russia_belief_us="beta(9, 1)"), n, seed=31)
    gap, se = share_gap(reached(doubt, "invasion"), reached(trust, "invasion"))
    assert gap > Z * se


@pytest.mark.slow
def test_dec2021_more_aid_deters_invasion(dec2021_path: Path) -> None:
    # Aid follows an incursion, so it can only deter the next step: from incursion to invasion.
    n = 40_000
    little, _ = play(_dec2021_with(dec2021_path, us_aid_amount="1", us_aid_lag="0"), n, seed=32)
    much, _ = play(_dec2021_with(dec2021_path, us_aid_amount="200", us_aid_lag="0"), n, seed=32)
    gap, se = share_gap(reached(little, "invasion"), reached(much, "invasion"))
    assert gap > Z * se


def test_reinforcement_arrives_after_its_lag_and_feeds_events() -> None:
    data = toy(
        horizon=8,
        policies={
            "send": {
                "actor": "guard",
                "do": {"reinforce": {"to": "guard", "amount": 2, "lag": 3}},
                "source": "test",
            }
        },
        # Fires only once the reinforcement is there, then surely.
        events={"incident": {"rate": "guard.reinforcement / 2", "to_rung": "war", "source": "t"}},
    )
    data["challenger"]["decision_rate"] = 0
    crisis = model(data, 200, seed=3)
    guard = crisis.actors[2]
    for day in range(1, 9):
        crisis.step()
        assert (guard.reinforcement == (2.0 if day >= 4 else 0.0)).all(), day
    result = crisis.result()
    assert (result.records["day_war"] == 4).all()  # the event's rate reads the arrived forces


def test_a_demand_with_two_grantors_needs_both() -> None:
    def scenario(second: float) -> dict:
        data = toy(
            horizon=3,
            policies={
                "first": concession(1),
                "second": {
                    "actor": "tgt",
                    "do": {"concede": "ask"},
                    "hazard": second,
                    "source": "test",
                },
            },
        )
        data["demands"]["ask"]["grantors"] = ["guard", "tgt"]
        data["demands"]["ask"]["weight"] = 0.8
        data["challenger"]["decision_rate"] = 0
        return data

    one = model(scenario(0), 50, seed=1).play()
    both = model(scenario(1), 50, seed=1).play()
    assert (one.records["met:chal"] == 0).all()
    assert (both.records["met:chal"] == 0.8).all()


def test_a_threat_stops_weighing_once_it_has_fired() -> None:
    data = toy(horizon=3, policies={"s": sanction(0.3, when="day >= 2", perceived=0.5)})
    data["actors"] = {"guard": data["actors"]["guard"], **data["actors"]}
    data["challenger"]["decision_rate"] = 0
    crisis = model(data, 5, seed=1)
    crisis.step()  # day 1: pending, its condition does not hold yet
    before = utilities(crisis)[1]
    crisis.step()  # day 2: fires before the challenger moves
    after = utilities(crisis)[1]
    assert (crisis.deciders[0].sanctions == 0.3).all()
    np.testing.assert_allclose(before, after)  # holding costs the same: no threat counted
    data["policies"]["s"]["hazard"] = 0  # pending with its condition true: weighed on hold
    waiting = model(data, 5, seed=1)
    waiting.step()
    waiting.step()
    np.testing.assert_allclose(after - utilities(waiting)[1], 0.5 * 0.3)


# --------------------------------------------------------------------------- timing with foresight


def _timing_scenario(look_ahead: int, forces: list, war_cost: list | float = 0.3) -> dict:
    """A challenger that climbs to war when it pays; its forces or the war's cost follow paths.

    No hope and a small holding cost, so holding is worth about -0.06 and ending -0.5; against a
    capability of 100 a climb to war is worth P - cost (k = 1, gain 1, nothing else).
    """
    data = toy(horizon=120)
    data["parameters"] = {
        "strength": {"path": forces, "interpolate": "step", "source": "test"},
        "war_cost": (
            {"path": war_cost, "interpolate": "step", "source": "test"}
            if isinstance(war_cost, list)
            else {"dist": war_cost, "source": "test"}
        ),
    }
    data["actors"]["chal"]["forces"] = "strength"
    data["ladder"][2]["choosable"] = False  # only war can be chosen
    data["ladder"][3].update(gain=1, cost="war_cost", hold_cost=0)
    data["challenger"].update(
        rationality=1e4,
        decision_rate=0.2,
        hope=0,
        audience_cost=0.5,
        planning_days=60,
        look_ahead=look_ahead,
    )
    return data


def _war_days(data: dict, n: int = 4000) -> np.ndarray:
    trials, _ = play(data, n, seed=31)
    return trials["day_war"].to_numpy(dtype=float, na_value=np.inf)


def test_foresight_waits_for_the_larger_force() -> None:
    # Forces double on day 56: a climb now pays 60/160 - 0.3 = 0.075, one after day 56 pays
    # 120/220 - 0.3 = 0.245. Looking 15, 30, 45 and 60 days ahead, the challenger always sees a
    # day past 56, so it never climbs before it, and climbs at its first decision after it.
    doubling = [[0, 60], [56, 120]]
    ahead = _war_days(_timing_scenario(4, doubling))
    assert not (ahead < 56).any()
    q = 0.2
    for t in (1, 5, 20):
        expected = 1 - (1 - q) ** t  # decisions from day 56 on, one a day with chance q
        share = np.mean(ahead <= 55 + t)
        assert abs(share - expected) <= Z * binomial_se(expected, len(ahead)), (t, share)
    # The same challenger without foresight climbs at its first decision, the early 0.075.
    myopic = _war_days(_timing_scenario(0, doubling))
    expected = 1 - (1 - q) ** 55
    assert abs(np.mean(myopic < 56) - expected) <= Z * binomial_se(expected, len(myopic))
    # With flat forces there is nothing to wait for: foresight climbs as early as myopia.
    flat = _war_days(_timing_scenario(4, [[0, 60]]))
    assert abs(np.mean(flat < 56) - expected) <= Z * binomial_se(expected, len(flat))


def test_foresight_moves_climbs_into_a_seasonal_window() -> None:
    # War costs 0.35 except from day 40 to 59, when it costs 0.05: a climb pays 0.15 outside the
    # window and 0.45 inside it (P = 1/2). Looking ahead, the challenger waits for the window.
    season = [[0, 0.35], [40, 0.05], [60, 0.35]]
    ahead = _war_days(_timing_scenario(4, [[0, 100]], war_cost=season))
    assert not (ahead < 40).any()
    q = 0.2
    expected = 1 - (1 - q) ** 20  # a decision within the 20 days of the window
    share = np.mean((ahead >= 40) & (ahead < 60))
    assert abs(share - expected) <= Z * binomial_se(expected, len(ahead))
    myopic = _war_days(_timing_scenario(0, [[0, 100]], war_cost=season))
    early = 1 - (1 - q) ** 39
    assert abs(np.mean(myopic < 40) - early) <= Z * binomial_se(early, len(myopic))


def test_a_discount_makes_waiting_worth_less() -> None:
    # Discounting 5% a day, waiting d days for the 0.245 climb is worth 0.95^d * 0.245 - 0.002 d
    # against 0.075 now. The first look-ahead day past 56 is 15 days away from day 41 to 55
    # (worth 0.0835: wait), and 30 or more days away before (at most 0.0526: climb now). So the
    # challenger climbs at its first decision up to day 40, and never from day 41 to 55.
    doubling = [[0, 60], [56, 120]]
    data = _timing_scenario(4, doubling)
    data["challenger"]["discount"] = 0.05
    days = _war_days(data)
    assert not ((days > 40) & (days < 56)).any()
    q = 0.2
    expected = 1 - (1 - q) ** 40
    assert abs(np.mean(days <= 40) - expected) <= Z * binomial_se(expected, len(days))


# --------------------------------------------------------------------------- wars that are fought


def _campaign(lag: float) -> dict:
    """A challenger fighting on `war` from day 0, its target promised 100 of aid on day 1."""
    data = toy(horizon=60, policies={"help": aid(100, lag=lag, perceived=0)})
    data["ladder"][3].update(war_rate=0.05)
    data["challenger"].update(start_rung="war", decision_rate=0)
    return data


def test_aid_arriving_mid_war_changes_the_odds_so_its_lag_matters() -> None:
    # 100 against 100 (P = 1/2) until the aid arrives; then 100 against 200 (P = 1/3).
    soon, _ = play(_campaign(lag=3), 20_000, seed=41)
    never, _ = play(_campaign(lag=100), 20_000, seed=41)  # due after the horizon
    won_soon = (soon["war:chal"] == "won").to_numpy()
    won_never = (never["war:chal"] == "won").to_numpy()
    gap, se = share_gap(won_soon, won_never)
    assert gap < -Z * se
    # Exactly: won by day 60 with per-day chance 0.05 P, P = 1/2 on days 1-4, then 1/3.
    stay = 0.95
    expected = 0.5 * (1 - stay**4) + stay**4 * (1 / 3) * (1 - stay**56)
    assert abs(won_soon.mean() - expected) <= Z * binomial_se(expected, len(won_soon))


def test_a_won_campaign_wins_the_rungs_gain_and_a_lost_one_falls_back() -> None:
    data = _campaign(lag=100)
    data["ladder"][3]["gain"] = 1
    trials, _ = play(data, 4000, seed=42)
    result = trials["war:chal"].astype(str)
    # Winning all it wants, the challenger is satisfied: the crisis ends, classified as war.
    won = result == "won"
    assert won.any() and (trials.loc[won, "exit:chal"] == "satisfied").all()
    assert (trials.loc[won, "outcome"] == "war").all()
    assert (trials.loc[won, "outcome_day"] <= trials.loc[won, "war_day:chal"]).all()
    # Losing, it falls back to the highest rung below on which nothing is fought: the strike.
    lost = result == "lost"
    assert lost.any() and (trials.loc[lost, "rung:chal"] == "strike").all()


# --------------------------------------------------------------------------- learning


def _learning(learns: bool) -> dict:
    """A small threat tested on day 1 teaches the challenger how credible the big one is."""
    data = toy(horizon=40)
    data["parameters"] = {"follow": {"dist": "uniform(0, 1)", "source": "test"}}
    data["policies"] = {
        "warning": sanction(0.01, when="day >= 1", follow_through="follow"),
        "big": sanction(0.6, when="chal.rung >= war", follow_through="follow", perceived="resolve"),
    }
    data["beliefs"] = {
        "resolve": {
            "holder": "chal",
            "a": 1,
            "b": 1,
            "learns_from": ["warning"] if learns else [],
            "source": "test",
        }
    }
    data["challenger"].update(rationality=10, decision_rate=0.3)
    return data


def test_a_threat_carried_out_makes_the_next_one_more_credible() -> None:
    learning, _ = play(_learning(True), 8000, seed=51)
    blind, _ = play(_learning(False), 8000, seed=51)
    carried = (learning["successes:resolve"] == 1).to_numpy()
    hollow = (learning["failures:resolve"] == 1).to_numpy()
    # Seen carried out, the belief rises from 1/2 to 2/3; seen not carried out, falls to 1/3;
    # where the crisis ended before the warning was tested, nothing was learnt.
    np.testing.assert_allclose(learning.loc[carried, "belief:resolve"], 2 / 3)
    np.testing.assert_allclose(learning.loc[hollow, "belief:resolve"], 1 / 3)
    assert (learning.loc[~carried & ~hollow, "belief:resolve"] == 0.5).all()
    assert (blind["belief:resolve"] == 0.5).all()
    war_learning = reached(learning, "war")
    war_blind = reached(blind, "war")
    gap, se = share_gap(war_learning[carried], war_blind[carried])
    assert gap < -Z * se  # a credible threat deters
    gap, se = share_gap(war_learning[hollow], war_blind[hollow])
    assert gap > Z * se  # a hollow one emboldens


# --------------------------------------------------------------------------- deals and retaliation


def _offer(rationality: float) -> dict:
    """Red would trade only if blue did; blue never concedes (its price is prohibitive)."""
    data = duel(horizon=30)
    data["ladder"] = [{"id": "calm", "choosable": False}, {"id": "standoff", "hold_cost": 0.01}]
    data["demands"] = {
        "withdrawal": {
            "by": "red",
            "weight": 1,
            "grantors": ["blue"],
            "cost": 50,
            "together_with": ["pledge"],
            "source": "test",
        },
        "pledge": {"by": "blue", "weight": 1, "grantors": ["red"], "cost": 0.1, "source": "test"},
    }
    for side in ("red", "blue"):
        data["deciders"][side].update(rationality=rationality, decision_rate=0.5, audience_cost=5)
    return data


def test_an_offer_not_taken_up_lapses_at_the_offerers_next_decision() -> None:
    crisis = model(_offer(rationality=1e6), 2000, seed=61)
    red = crisis.deciders[0]
    offered = crisis.conceded[(1, red.index)]  # red's half of the trade: the pledge
    seen = np.zeros(crisis.n, dtype=bool)
    for _ in range(10):
        before = offered.copy()
        crisis.step()
        decided = crisis.draws[red.plan.row] < 0.5
        # An offer made stands on days red does not decide; red renews it whenever it decides
        # (conceding is still its best option), and blue never accepts.
        assert (offered[before & ~decided]).all()
        seen |= offered
    assert seen.mean() > 0.99 and not crisis.granted[1].any()
    # At a finite rationality red sometimes does not renew: the offer lapses.
    crisis = model(_offer(rationality=0.5), 4000, seed=62)
    red = crisis.deciders[0]
    offered = crisis.conceded[(1, red.index)]
    lapsed = np.zeros(crisis.n, dtype=bool)
    for _ in range(15):
        before = offered.copy()
        crisis.step()
        lapsed |= before & ~offered
    assert lapsed.any()


def test_a_granted_demand_moves_the_deciders_its_deal_names() -> None:
    # Blue's price (0.1) buys an end to the crisis: the deal moves red to calm, which meets
    # blue's own demand. Ending instead would cost each its audience (1).
    data = duel(horizon=20)
    data["ladder"] = [
        {"id": "calm"},
        {"id": "standoff", "hold_cost": 0.01},
    ]
    for side in ("red", "blue"):
        data["deciders"][side].update(audience_cost=1, decision_rate=0.3)
    data["demands"] = {
        "calm_down": {
            "by": "red",
            "weight": 1,
            "grantors": ["blue"],
            "cost": 0.1,
            "on_grant": {"blue": "calm", "red": "calm"},
            "source": "test",
        },
        "blue_wants": {
            "by": "blue",
            "weight": 1,
            "grantors": ["red"],
            "met_when": "red.rung == calm",
            "source": "test",
        },
    }
    trials, _ = play(data, 2000, seed=63)
    granted = trials["granted:calm_down"].to_numpy()
    assert granted.any()
    # Both moved to calm; blue's own demand was then met by red's move, so the crisis ended.
    assert (trials.loc[granted, "rung:blue"] == "calm").all()
    assert (trials.loc[granted, "rung:red"] == "calm").all()
    assert (trials.loc[granted, "outcome"] == "settlement").all()


def test_a_stated_retaliation_is_carried_out_as_a_climb() -> None:
    data = duel(horizon=20)
    data["ladder"][2]["choosable"] = False
    data["deciders"]["red"]["decision_rate"] = 0
    data["deciders"]["blue"].update(decision_rate=0)
    data["policies"] = {
        "strike_back": {
            "actor": "blue",
            "when": "day >= 3",
            "do": {"escalate": "war"},
            "follow_through": 0.5,
            "source": "test",
        }
    }
    trials, _ = play(data, 4000, seed=64)
    at_war = (trials["peak:blue"] == "war").to_numpy()
    assert abs(at_war.mean() - 0.5) <= Z * binomial_se(0.5, len(at_war))
    assert (trials.loc[at_war, "day_war"] == 3).all()
    assert (trials.loc[~at_war, "peak:blue"] == "standoff").all()


def test_a_satisfied_decider_stays_on_guard_instead_of_ending() -> None:
    # Red wants nothing it does not have (its demand is met while blue stays below war); blue
    # presses on. Ending would give up nothing, so red never ends: it stays, able to answer.
    data = duel(horizon=30)
    data["demands"]["red_prize"]["met_when"] = "blue.rung < war"
    data["deciders"]["red"]["rationality"] = 0  # at random among what is open to it
    trials, _ = play(data, 2000, seed=71)
    assert (trials["exit:red"] != "ended").all()
    assert (trials["exit:red"] == "satisfied").any()
    # Power: a red that still presses may end its part, and at random it often does.
    data["demands"]["red_prize"]["met_when"] = "blue.ended == 1"
    pressing, _ = play(data, 2000, seed=71)
    assert (pressing["exit:red"] == "ended").mean() > 0.2


def test_a_step_down_cost_makes_backing_off_less_likely() -> None:
    # The same stepping-down decider, with and without a face cost of 0.3 for each step down:
    # where they differ, it is because the cheap step was taken.
    data = duel(horizon=20)
    data["ladder"][0]["choosable"] = True
    for side in ("red", "blue"):
        data["deciders"][side].update(can_step_down=True, rationality=3, decision_rate=0.5)
    free, _ = play(data, 4000, seed=72)
    data["deciders"]["red"]["step_down_cost"] = 0.3
    costly, _ = play(data, 4000, seed=72)

    def stepped(trials: pd.DataFrame) -> np.ndarray:
        return ((trials["rung:red"] == "calm") & (trials["exit:red"] != "ended")).to_numpy()

    gap, se = share_gap(stepped(costly), stepped(free))
    assert gap < -Z * se
    # Blue's own numbers do not price red's face: its share of steps down moves only through red.
    assert stepped(free).any()


def test_an_event_does_not_move_a_decider_that_stood_down() -> None:
    data = duel(horizon=30)
    data["deciders"]["red"].update(decision_rate=1, audience_cost=0)  # red ends on day 1
    data["deciders"]["blue"].update(decision_rate=0)
    data["demands"]["blue_prize"]["met_when"] = "day > 1000"  # blue presses on
    data["events"] = {
        "flare": {"actor": "red", "rate": 0.5, "to_rung": "war", "source": "test"},
    }
    trials, _ = play(data, 2000, seed=73)
    ended = (trials["exit:red"] == "ended").to_numpy()
    assert ended.all()
    # Only before red ended (never: it ends on day 1, before the day's events) could it move.
    assert (trials["peak:red"] != "war").all()
