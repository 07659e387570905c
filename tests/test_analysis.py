"""Tests for escalation.analysis: intervals, outcome/timing summaries, survival and drivers."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from escalation.analysis import (
    DUMMY,
    cumulative_incidence,
    drivers,
    median_day,
    newcombe_difference,
    outcome_summary,
    parameter_columns,
    survival,
    timing_summary,
    type_outcomes,
    wilson_interval,
)

OUTCOMES = [
    "settlement",
    "stand_down",
    "frozen_standoff",
    "limited_incursion",
    "full_scale_invasion",
    "nato_russia_clash",
    "nuclear_use",
]
VIOLENT = ["limited_incursion", "full_scale_invasion", "nato_russia_clash", "nuclear_use"]


def textbook_wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval written out from the textbook formula."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return centre - half, centre + half


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize("k", [0, 1, 5, 9, 10])
def test_wilson_matches_textbook(k: int) -> None:
    z = 1.959963984540054
    lo, hi = wilson_interval(k, 10)
    exp_lo, exp_hi = textbook_wilson(k, 10, z)
    assert lo == pytest.approx(max(exp_lo, 0.0), abs=1e-12)
    assert hi == pytest.approx(min(exp_hi, 1.0), abs=1e-12)


def test_wilson_known_values_and_edges() -> None:
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775328, abs=1e-6)  # z^2 / (n + z^2)
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.2365931, abs=1e-6), pytest.approx(0.7634069, abs=1e-6))
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo90, hi90 = wilson_interval(5, 10, level=0.90)
    assert lo90 > lo and hi90 < hi


def test_wilson_vectorized_and_validation() -> None:
    k = np.array([0, 3, 7, 0])
    n = np.array([7, 7, 7, 0])
    lo, hi = wilson_interval(k, n)
    assert lo.shape == hi.shape == (4,)
    assert lo[0] == 0.0 and hi[2] == 1.0 and (lo[3], hi[3]) == (0.0, 1.0)
    for i in range(3):
        assert (lo[i], hi[i]) == wilson_interval(int(k[i]), int(n[i]))
    with pytest.raises(ValueError):
        wilson_interval(5, 3)
    with pytest.raises(ValueError):
        wilson_interval(1, 3, level=1.0)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=100_000),
    frac=st.floats(min_value=0.0, max_value=1.0),
    level=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99]),
)
def test_wilson_contains_point_estimate(n: int, frac: float, level: float) -> None:
    k = round(frac * n)
    lo, hi = wilson_interval(k, n, level)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert not (math.isnan(lo) or math.isnan(hi))


def test_newcombe_published_example() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80 -> 0.0524 to 0.3339.
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert lo == pytest.approx(0.0524, abs=5e-4)
    assert hi == pytest.approx(0.3339, abs=5e-4)
    d, lo, hi = newcombe_difference(0, 0, 0, 0)
    assert (d, lo, hi) == (0.0, -1.0, 1.0)


# --------------------------------------------------------------------------- outcome summary


def test_outcome_summary_order_zero_rows_and_sum() -> None:
    trials = pd.DataFrame(
        {"outcome": ["full_scale_invasion", "settlement", "settlement", "nuclear_use"]}
    )
    s = outcome_summary(trials, OUTCOMES)
    assert list(s.columns) == ["outcome", "count", "probability", "lo", "hi"]
    assert list(s["outcome"]) == OUTCOMES
    assert s["count"].tolist() == [2, 0, 0, 0, 1, 0, 1]
    assert s["probability"].sum() == pytest.approx(1.0)
    zero = s[s["count"] == 0]
    assert (zero["lo"] == 0.0).all() and (zero["hi"] > 0).all()
    assert ((s["lo"] <= s["probability"]) & (s["probability"] <= s["hi"])).all()


def test_outcome_summary_empty_and_unknown() -> None:
    s = outcome_summary(pd.DataFrame({"outcome": pd.Series([], dtype=str)}), OUTCOMES)
    assert len(s) == len(OUTCOMES)
    assert (s["probability"] == 0).all() and (s["hi"] == 1).all()
    assert not s.isna().any().any()
    with pytest.raises(ValueError, match="not in the outcome list"):
        outcome_summary(pd.DataFrame({"outcome": ["mystery"]}), OUTCOMES)


# --------------------------------------------------------------------------- median day


def test_median_day_matches_numpy_and_interval_contains_it() -> None:
    rng = np.random.default_rng(7)
    days = rng.integers(0, 90, size=501)
    with_missing = pd.array(list(days) + [None] * 40, dtype="Int64")
    result = median_day(with_missing)
    assert result["n"] == 501
    assert result["median"] == pytest.approx(float(np.median(days)))
    assert result["lo"] <= result["median"] <= result["hi"]
    # Independent brute force: the widest-j symmetric order-statistic pair with coverage >= 95%.
    ordered = np.sort(days)
    n = ordered.size
    coverage = {j: 1 - 2 * stats.binom.cdf(j - 1, n, 0.5) for j in range(1, n // 2 + 1)}
    j = max(j for j, c in coverage.items() if c >= 0.95)
    assert (result["lo"], result["hi"]) == (ordered[j - 1], ordered[n - j])
    assert result["coverage"] == pytest.approx(coverage[j])


def test_median_day_order_statistic_ranks() -> None:
    # For n = 100 the classical 95% ranks are the 40th and 61st order statistics.
    result = median_day(np.arange(100) * 2.0)
    assert (result["lo"], result["hi"]) == (78.0, 120.0)
    assert result["coverage"] == pytest.approx(1 - 2 * stats.binom.cdf(39, 100, 0.5))


def test_median_day_sentinel_and_small_n() -> None:
    empty = median_day(pd.array([None, None], dtype="Int64"))
    assert empty == {"median": None, "lo": None, "hi": None, "n": 0, "coverage": None}
    one = median_day([12])
    assert one["median"] == one["lo"] == one["hi"] == 12.0 and one["n"] == 1
    assert median_day([np.nan, np.inf, 3.0])["n"] == 1


# --------------------------------------------------------------------------- timing


def test_timing_summary() -> None:
    trials = pd.DataFrame(
        {
            "outcome": ["limited_incursion", "full_scale_invasion", "settlement", "nuclear_use"],
            "day_limited_incursion": pd.array([3, 5, None, 2], dtype="Int64"),
            "day_full_scale_invasion": pd.array([None, 9, None, 4], dtype="Int64"),
            "day_nato_russia_clash": pd.array([None, None, None, 6], dtype="Int64"),
            "day_nuclear_use": pd.array([None, None, None, None], dtype="Int64"),
        }
    )
    t = timing_summary(trials, VIOLENT)
    assert list(t.columns) == ["outcome", "reached", "share", "median_day", "lo", "hi"]
    assert list(t["outcome"]) == VIOLENT
    assert t["reached"].tolist() == [3, 2, 1, 0]
    assert t["share"].tolist() == [0.75, 0.5, 0.25, 0.0]
    assert t.loc[0, "median_day"] == 3.0 and t.loc[1, "median_day"] == 6.5
    assert t.loc[3, "median_day"] is pd.NA
    for col in ("median_day", "lo", "hi", "share"):
        assert not np.isnan(t[col].to_numpy(dtype=float, na_value=0.0)).any()
    with pytest.raises(KeyError):
        timing_summary(trials, ["imaginary_war"])


# --------------------------------------------------------------------------- survival


def test_survival_hand_made() -> None:
    trials = pd.DataFrame(
        {"day_full_scale_invasion": pd.array([0, 2, 2, None, 5, None, 12], dtype="Int64")}
    )
    s = survival(trials, "day_full_scale_invasion", horizon=6)
    assert list(s.columns) == ["day", "surviving", "lo", "hi"]
    assert s["day"].tolist() == list(range(7))
    expected = [6, 6, 4, 4, 4, 3, 3]  # trials not yet reached at the end of each day
    assert s["surviving"].to_numpy() == pytest.approx(np.array(expected) / 7)
    days = trials["day_full_scale_invasion"].to_numpy(dtype=float, na_value=np.inf)
    cumulative = np.array([(days <= d).mean() for d in range(7)])
    assert s["surviving"].to_numpy() == pytest.approx(1 - cumulative)
    assert (np.diff(s["surviving"].to_numpy()) <= 0).all()
    assert ((s["lo"] <= s["surviving"]) & (s["surviving"] <= s["hi"])).all()
    # A bare outcome name is accepted too.
    assert survival(trials, "full_scale_invasion", 6).equals(s)


def test_survival_monotone_random_and_empty() -> None:
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 120, size=400).astype(float)
    raw[rng.random(400) < 0.4] = np.nan
    trials = pd.DataFrame({"day_x": pd.array(raw, dtype="Float64").astype("Int64")})
    s = survival(trials, "day_x", 100)
    assert (np.diff(s["surviving"].to_numpy()) <= 0).all()
    assert (np.diff(s["lo"].to_numpy()) <= 1e-12).all()
    empty = survival(trials.iloc[:0], "day_x", 3)
    assert empty["surviving"].tolist() == [1.0] * 4
    assert not empty.isna().any().any()


# --------------------------------------------------------------------------- drivers


def _planted(n: int = 3000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stake = rng.random(n)
    follow = rng.random(n)
    noise = rng.random(n)
    invade = rng.random(n) < 0.1 + 0.6 * stake  # only `stake` matters
    return pd.DataFrame(
        {
            "trial": np.arange(n),
            "russia_stake": stake,
            "us_follow_through": follow,
            "noise": noise,
            "constant": np.full(n, 0.5),
            "outcome": np.where(invade, "full_scale_invasion", "settlement"),
        }
    )


COLUMNS = [
    "factor",
    "kind",
    "low",
    "high",
    "p_low",
    "p_high",
    "difference",
    "lo",
    "hi",
    "spearman",
    "pawn",
]


def _factors(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["kind"] != "noise"]


def test_drivers_detects_planted_driver() -> None:
    trials = _planted()
    params = ["us_follow_through", "noise", "russia_stake", "constant"]
    d = drivers(trials, params, "full_scale_invasion")
    assert list(d.columns) == COLUMNS
    assert d.loc[0, "factor"] == "russia_stake" and d.loc[0, "kind"] == "parameter"
    top = d.iloc[0]
    assert top["difference"] == pytest.approx(0.4, abs=0.06)  # 0.6 * (5/6 - 1/6)
    assert top["lo"] > 0.3 and top["spearman"] > 0.3
    assert top["difference"] == pytest.approx(top["p_high"] - top["p_low"])
    assert top["low"].startswith("≤") and top["high"].startswith("≥")
    for name in ("us_follow_through", "noise"):
        row = d[d["factor"] == name].iloc[0]
        assert abs(row["difference"]) < 0.06 and abs(row["spearman"]) < 0.06
        assert row["lo"] <= 0.0 <= row["hi"]
    const = d[d["factor"] == "constant"].iloc[0]
    assert (const["spearman"], const["difference"], const["lo"], const["hi"]) == (0, 0, 0, 0)
    assert (
        const["p_low"]
        == const["p_high"]
        == pytest.approx((trials["outcome"] == "full_scale_invasion").mean())
    )
    assert not d.isna().any().any()
    assert (np.abs(_factors(d)["difference"]).diff().dropna() <= 0).all()
    assert d.iloc[-1]["factor"] == DUMMY and d.iloc[-1]["kind"] == "noise"


def test_pawn_ranks_the_planted_driver_above_the_noise_floor() -> None:
    trials = _planted(n=6000)
    d = drivers(trials, ["us_follow_through", "noise", "russia_stake"], "full_scale_invasion")
    pawn = d.set_index("factor")["pawn"]
    floor = pawn[DUMMY]
    # The planted driver moves P(outcome) across its slices by up to 0.3; PAWN's median
    # slice distance is about 0.15 against a noise floor of a few hundredths.
    assert pawn["russia_stake"] > 0.1 > 3 * floor
    assert pawn["noise"] < 0.05 and pawn["us_follow_through"] < 0.05


def test_drivers_degenerate_inputs_have_no_nan() -> None:
    trials = _planted(n=300)
    params = ["russia_stake", "constant"]
    assert not drivers(trials.iloc[:0], params, "full_scale_invasion").isna().any().any()
    never = drivers(trials, params, "nuclear_use")  # outcome never happens
    assert not never.isna().any().any()
    assert (never["spearman"] == 0).all() and (never["difference"] == 0).all()
    one = drivers(trials.iloc[:1], params, "full_scale_invasion")
    assert not one.isna().any().any()


def test_drivers_discrete_parameter() -> None:
    rng = np.random.default_rng(5)
    flag = (rng.random(2000) < 0.8).astype(float)  # mostly 1: cut points tie
    hit = rng.random(2000) < np.where(flag == 1, 0.6, 0.2)
    trials = pd.DataFrame({"flag": flag, "outcome": np.where(hit, "war", "peace")})
    row = drivers(trials, ["flag"], "war").iloc[0]
    assert row["difference"] == pytest.approx(0.4, abs=0.08)
    assert row["lo"] <= row["difference"] <= row["hi"]


def _typed(n: int = 20_000, seed: int = 3) -> pd.DataFrame:
    """A decider 'red' with two private types, as the trials table records them.

    Each trial draws ``prior`` from [0.1, 0.4] and is 'resolved' with that probability.
    Coercers play the drawn ``cost`` (from [0.3, 1.2]), which lowers P(war) a little; resolved
    trials replace it by an override from [0.05, 0.3] that does nothing, and they go to war
    far more often. ``cost`` holds the values as drawn (what the table records);
    ``cost_played`` the values after the override (what tables recorded before, the error).
    """
    rng = np.random.default_rng(seed)
    prior = rng.uniform(0.1, 0.4, n)
    resolved = rng.random(n) < prior
    drawn = rng.uniform(0.3, 1.2, n)
    override = rng.uniform(0.05, 0.3, n)
    p = np.where(resolved, 0.45, 0.08 - 0.06 * (drawn - 0.3) / 0.9)
    war = rng.random(n) < p
    return pd.DataFrame(
        {
            "prior": prior,
            "cost": drawn,
            "cost_played": np.where(resolved, override, drawn),
            "noise": rng.random(n),
            "type:red": pd.Categorical(
                np.where(resolved, "resolved", "coercer"), categories=["coercer", "resolved"]
            ),
            "outcome": np.where(war, "war", "peace"),
        }
    )


def _se(p: float, n: float) -> float:
    return math.sqrt(p * (1 - p) / n)


def test_a_parameter_that_stands_in_for_the_type_does_not_outrank_it() -> None:
    trials = _typed()
    # The old error: values read after the override, without the type as a factor, make the
    # overridden column look like the top driver (about -30 points: it mostly tells resolved
    # from coercer trials).
    naive = drivers(trials, ["cost_played", "noise"], "war", types=[], pawn=False)
    assert naive.iloc[0]["factor"] == "cost_played" and naive.iloc[0]["difference"] < -0.2
    # The table as recorded: the type is a factor, the parameter is read as drawn.
    right = drivers(trials, ["cost", "noise"], "war")
    table = _factors(right).set_index("factor")
    assert right.iloc[0]["factor"] == "type:red" and right.iloc[0]["kind"] == "type"
    assert (table.loc["type:red", "low"], table.loc["type:red", "high"]) == (
        "coercer",
        "resolved",
    )
    # P(war | resolved) - P(war | coercer) = 0.45 - 0.05, within 4 standard errors (about a
    # quarter of the 20,000 trials are resolved).
    se = math.hypot(_se(0.45, 0.25 * 20_000), _se(0.05, 0.75 * 20_000))
    assert table.loc["type:red", "difference"] == pytest.approx(0.40, abs=4 * se)
    assert abs(table.loc["cost", "difference"]) < table.loc["type:red", "difference"] / 4
    assert table.loc["type:red", "pawn"] > table.loc["cost", "pawn"]
    # As drawn, the cost acts only in the coercers' trials (three quarters): top third minus
    # bottom third of its range is 2/3 of its -0.06, times 0.75, about -0.03.
    assert table.loc["cost", "lo"] <= 0.75 * -0.06 * (2 / 3) <= table.loc["cost", "hi"] < 0


def test_a_parameter_that_sets_a_types_prior_keeps_its_effect_through_the_type() -> None:
    # Why drivers do not stratify by type: the prior's effect runs through the type it makes
    # likelier. Top third of U(0.1, 0.4) averages 0.35, the bottom third 0.15, so P(resolved)
    # differs by 0.2 and P(war) by about 0.2 * (0.45 - 0.05) = 0.08.
    row = _factors(drivers(_typed(), ["prior", "noise"], "war")).set_index("factor").loc["prior"]
    assert row["lo"] <= 0.2 * (0.45 - 0.05) <= row["hi"]
    assert row["lo"] > 0


def test_type_outcomes_gives_each_types_shares() -> None:
    trials = _typed()
    table = type_outcomes(trials, "type:red", ["peace", "war"])
    assert list(table["type"].unique()) == ["coercer", "resolved"]
    resolved = table[(table["type"] == "resolved") & (table["outcome"] == "war")].iloc[0]
    n = int(resolved["trials"])
    assert resolved["share"] == pytest.approx(0.25, abs=4 * math.sqrt(0.25 * 0.75 / 20_000))
    assert resolved["probability"] == pytest.approx(0.45, abs=4 * math.sqrt(0.45 * 0.55 / n))
    assert resolved["lo"] < resolved["probability"] < resolved["hi"]
    sums = table.groupby("type")["probability"].sum()
    np.testing.assert_allclose(sums, 1.0)


def test_cumulative_incidence_is_one_minus_survival_and_nested() -> None:
    days = pd.DataFrame(
        {
            "day_strike": pd.array([1, 2, None, 2, 5], dtype="Int64"),
            "day_war": pd.array([None, 2, None, 4, None], dtype="Int64"),
        }
    )
    curves = cumulative_incidence(days, ["strike", "war"], horizon=5)
    strike = curves[curves["outcome"] == "strike"].set_index("day")["reached"]
    war = curves[curves["outcome"] == "war"].set_index("day")["reached"]
    assert list(strike) == pytest.approx([0, 0.2, 0.6, 0.6, 0.6, 0.8])
    assert list(war) == pytest.approx([0, 0, 0.2, 0.2, 0.4, 0.4])
    assert (war <= strike).all()
    assert (curves["lo"] <= curves["reached"]).all() and (curves["reached"] <= curves["hi"]).all()


def test_parameter_columns_are_the_floats_without_a_colon() -> None:
    trials = pd.DataFrame(
        {
            "trial": np.arange(3),
            "cost": [0.1, 0.2, 0.3],
            "forces@56": [100.0, 120.0, 150.0],
            "type:red": pd.Categorical(["a", "b", "a"]),
            "outcome_day": [1, 2, 3],
            "met:red": [0.0, 0.5, 1.0],
            "aid:blue": [0.0, 1.0, 2.0],
            "granted:ask": [True, False, True],
            "day_war": pd.array([None, 2, None], dtype="Int64"),
        }
    )
    assert parameter_columns(trials) == ["cost", "forces@56"]


def test_pawn_binary_equals_salib_pawn_for_a_yes_no_outcome() -> None:
    # The closed form (the KS distance of two 0/1 samples is the gap of their shares) must give
    # SALib's own numbers: continuous, tied, constant and partly missing columns.
    for n in (3000, 12_000):  # scipy's exact and asymptotic modes
        _check_pawn_against_salib(n)


def _check_pawn_against_salib(n: int) -> None:
    from SALib.analyze import pawn

    from escalation.analysis.drivers import pawn_binary

    rng = np.random.default_rng(5)
    x = np.column_stack(
        [
            rng.random(n),
            rng.integers(0, 4, n).astype(float),  # ties
            np.full(n, 2.0),  # constant: every slice but the last is empty
            np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),  # missing values
        ]
    )
    y = rng.random(n) < 0.15 + 0.5 * x[:, 0]
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0.0, 1.0]] * 4}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.asarray(pawn.analyze(problem, x, y.astype(float), S=10)["median"])
    expected = np.where(np.isfinite(expected), expected, 0.0)
    np.testing.assert_allclose(pawn_binary(x, y, 10), expected, rtol=1e-12, atol=0)
    assert pawn_binary(x, y, 10)[0] > 0.1  # the planted driver


def test_average_ranks_are_pandas_ranks() -> None:
    from escalation.analysis.drivers import _ranks

    rng = np.random.default_rng(2)
    for y in (rng.random(5000) < 0.3, np.zeros(4, dtype=bool), np.ones(3, dtype=bool)):
        expected = pd.Series(y.astype(float)).rank(method="average").to_numpy()
        np.testing.assert_array_equal(_ranks(y), expected)
    # Numbers: without ties (the fast path) and with them.
    for x in (rng.random(5000), rng.integers(0, 9, 5000).astype(float), np.array([2.0])):
        expected = pd.Series(x).rank(method="average").to_numpy()
        np.testing.assert_array_equal(_ranks(x), expected)
