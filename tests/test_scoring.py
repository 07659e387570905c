"""Scoring rules against values computed by hand, and their bootstrap interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from escalation.analysis.scoring import (
    binary_brier,
    binary_log_score,
    bootstrap_skill,
    brier_score,
    log_floor,
    log_score,
    reliability,
    skill_score,
)


def test_perfect_forecasts_score_zero() -> None:
    assert brier_score([0, 1, 0], 1) == 0
    assert log_score([0, 1, 0], 1, floor=1e-3) == 0
    assert binary_brier(1.0, 1) == 0 and binary_brier(0.0, 0) == 0
    assert binary_log_score(1.0, 1, floor=1e-3) == 0
    assert binary_log_score(0.0, 0, floor=1e-3) == 0


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_uniform_brier_is_k_minus_one_over_k(k: int) -> None:
    # (1 - 1/k)^2 + (k - 1) (1/k)^2 = (k - 1)/k, whichever class happened
    for observed in range(k):
        assert brier_score(np.full(k, 1 / k), observed) == pytest.approx((k - 1) / k)
    assert log_score(np.full(k, 1 / k), 0, floor=1e-9) == pytest.approx(math.log(k))


def test_brier_by_hand() -> None:
    # p = (0.5, 0.3, 0.2), class 2 happened: 0.25 + 0.09 + 0.64 = 0.98
    assert brier_score([0.5, 0.3, 0.2], 2) == pytest.approx(0.98)
    # the worst forecast: all on a class that did not happen
    assert brier_score([1, 0, 0], 2) == 2
    # padding with zeros changes nothing
    assert brier_score([0.5, 0.3, 0.2, 0, 0], 2) == pytest.approx(0.98)
    rows = brier_score([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]], [2, 0])
    assert rows == pytest.approx([0.98, 0.64 + 0.04 + 0.36])
    assert binary_brier([0.7, 0.7], [1, 0]) == pytest.approx([0.09, 0.49])


def test_log_score_by_hand_and_floor() -> None:
    assert log_score([0.5, 0.3, 0.2], 2, floor=1e-3) == pytest.approx(-math.log(0.2))
    # a zero probability scores -ln(floor), not infinity; the floor for 200 trials is 1/400
    assert log_floor(200) == 1 / 400
    assert log_score([0.6, 0.4, 0.0], 2, floor=log_floor(200)) == pytest.approx(math.log(400))
    # a probability above the floor is not touched by it
    assert log_score([0.6, 0.4, 0.0], 0, floor=log_floor(200)) == pytest.approx(-math.log(0.6))
    assert binary_log_score(0.8, 1, floor=0.01) == pytest.approx(-math.log(0.8))
    assert binary_log_score(0.8, 0, floor=0.01) == pytest.approx(-math.log(0.2))
    assert binary_log_score(1.0, 0, floor=0.01) == pytest.approx(math.log(100))
    assert binary_log_score(0.5, [0, 1], floor=0.01) == pytest.approx([math.log(2)] * 2)
    floors = log_floor(np.array([100, 1000]))
    assert log_score([[1, 0], [1, 0]], [1, 1], floors) == pytest.approx(
        [math.log(200), math.log(2000)]
    )


def test_bad_forecasts_are_refused() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        brier_score([0.5, 0.6], 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        brier_score([1.5, -0.5], 0)
    with pytest.raises(ValueError, match="outside"):
        brier_score([0.5, 0.5], 2)
    with pytest.raises(ValueError, match="floor"):
        log_score([0.5, 0.5], 0, floor=0)
    with pytest.raises(ValueError, match="0 \\(no\\) or 1"):
        binary_brier(0.5, 2)
    with pytest.raises(ValueError):
        log_floor(0)


def test_skill_score_by_hand() -> None:
    # mean model 0.1, mean reference 0.4: skill 1 - 0.1/0.4 = 0.75
    assert skill_score([0.0, 0.2], [0.5, 0.3]) == pytest.approx(0.75)
    assert skill_score([0.5, 0.3], [0.5, 0.3]) == 0
    assert math.isnan(skill_score([], []))
    assert math.isnan(skill_score([0.1], [0.0]))


def test_bootstrap_is_reproducible_and_covers_the_point() -> None:
    rng = np.random.default_rng(3)
    model = rng.uniform(0, 0.5, size=12)
    reference = rng.uniform(0.2, 0.8, size=12)
    first = bootstrap_skill(model, reference, resamples=4000, seed=11)
    again = bootstrap_skill(model, reference, resamples=4000, seed=11)
    other = bootstrap_skill(model, reference, resamples=4000, seed=12)
    assert first == again
    assert first[0] == pytest.approx(skill_score(model, reference))
    assert first[1] < first[0] < first[2]
    assert other[0] == first[0] and other[1:] != first[1:]
    # more cases, narrower interval: the same twelve cases repeated four times
    wide = first[2] - first[1]
    many = bootstrap_skill(np.tile(model, 4), np.tile(reference, 4), resamples=4000, seed=11)
    assert many[2] - many[1] < wide


def test_bootstrap_of_identical_cases_has_no_spread() -> None:
    point, lo, hi = bootstrap_skill([0.1] * 5, [0.4] * 5, resamples=500)
    assert point == lo == hi == pytest.approx(0.75)
    assert all(math.isnan(x) for x in bootstrap_skill([], []))


def test_reliability_bins_by_hand() -> None:
    p = [0.05, 0.1, 0.15, 0.5, 0.55, 0.95, 1.0]
    y = [0, 0, 1, 1, 0, 1, 1]
    table = reliability(p, y, bins=5)
    assert list(table["bin_lo"]) == pytest.approx([0.0, 0.4, 0.8])
    assert list(table["n"]) == [3, 2, 2]  # 1.0 falls in the last, closed bin
    assert list(table["forecast"]) == pytest.approx([0.1, 0.525, 0.975])
    assert list(table["observed"]) == pytest.approx([1 / 3, 0.5, 1.0])
    assert (table["lo"] <= table["observed"]).all() and (table["observed"] <= table["hi"]).all()
    assert reliability([], [], bins=5).empty
