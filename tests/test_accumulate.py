"""A streamed run (counts folded block by block, a sample of whole trials) against the table.

Small runs split into many blocks (a small ``block_size``) are played both ways: in memory,
with every summary computed from the table, and streamed (:func:`play_streamed`), with every
summary computed from integer counts. They must agree to the last bit. The drivers of a
streamed run whose sample is smaller than the run are checked against the table directly:
thirds cut in the sample, every trial counted in them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from escalation import analysis
from escalation.analysis.intervals import median_interval, median_interval_counts
from escalation.engine.accumulate import Accumulator, sample_blocks
from escalation.engine.blocks import block_specs, play_block
from escalation.engine.play import as_scenario, play, play_streamed, with_overrides
from escalation.model.plan import Plan

BLOCK = 400
TRIALS = 3_000  # eight blocks, the last one short


@pytest.fixture(scope="module", params=["dec2021", "kargil1999"])
def pair(request, dec2021_path):
    """The same small run in memory and streamed (sample: every trial), in blocks of 400."""
    path = dec2021_path.parent / f"{request.param}.yaml"
    scenario = with_overrides(as_scenario(path), TRIALS, 7, None)
    table = play(scenario, block_size=BLOCK)
    streamed = play_streamed(scenario, block_size=BLOCK, sample_trials=TRIALS)
    return table, streamed


def test_a_streamed_run_keeps_no_table_and_counts_every_trial(pair) -> None:
    table, streamed = pair
    assert streamed.trials is None and table.streamed is None
    assert streamed.n_trials == table.n_trials == TRIALS
    assert streamed.info["blocks"] == 8 and streamed.info["block_size"] == BLOCK


def test_summaries_from_counts_equal_the_table_to_the_last_bit(pair) -> None:
    table, streamed = pair
    for name in ("summary", "timing", "timeline"):
        pd.testing.assert_frame_equal(
            getattr(streamed, name), getattr(table, name), check_exact=True
        )
    pd.testing.assert_frame_equal(streamed.cumulative(), table.cumulative(), check_exact=True)
    for outcome in table.violent:
        pd.testing.assert_frame_equal(
            streamed.survival(outcome), table.survival(outcome), check_exact=True
        )
    assert streamed.varying_parameters == table.varying_parameters
    assert streamed.type_columns == table.type_columns
    for column in table.type_columns:
        decider = column.split(":", 1)[1]
        pd.testing.assert_frame_equal(
            streamed.by_type(decider), table.by_type(decider), check_exact=True
        )
    assert streamed.summary["count"].sum() == TRIALS
    assert streamed.timing["reached"].gt(0).any()  # the histograms held something


def test_drivers_of_a_sample_that_is_the_whole_run_equal_the_tables(pair) -> None:
    table, streamed = pair
    pd.testing.assert_frame_equal(streamed.sample, table.trials, check_exact=True)
    for outcome in table.outcomes:
        if table.cases(outcome):
            pd.testing.assert_frame_equal(
                streamed.drivers(outcome), table.drivers(outcome), check_exact=True
            )


def test_drivers_from_a_subsample_count_every_trial_in_thirds_cut_in_the_sample(
    dec2021_path,
) -> None:
    scenario = with_overrides(as_scenario(dec2021_path), TRIALS, 11, None)
    table = play(scenario, block_size=BLOCK).trials
    streamed = play_streamed(scenario, block_size=BLOCK, sample_trials=2 * BLOCK)
    assert streamed.info["streamed"]["sample_trials"] == 2 * BLOCK
    pd.testing.assert_frame_equal(
        streamed.sample, table.iloc[: 2 * BLOCK], check_exact=True
    )  # the first blocks, whatever the workers
    focus = streamed.focus.split("+")
    found = streamed.drivers().set_index("factor")
    y = analysis.indicator(table, focus)
    checked = 0
    for name in streamed.varying_parameters:
        rule = analysis.thirds(pd.to_numeric(streamed.sample[name]).to_numpy(float))
        if rule is None:
            continue
        low, high = rule.masks(pd.to_numeric(table[name]).to_numpy(float))
        row = found.loc[name]
        assert row["p_low"] == pytest.approx(y[low].mean(), abs=1e-15)
        assert row["p_high"] == pytest.approx(y[high].mean(), abs=1e-15)
        assert low.sum() > 2 * BLOCK / 3  # counted beyond the sample
        checked += 1
    assert checked >= 3
    # The rank correlations read the sample: the sample's own drivers give the same.
    sample_only = analysis.drivers(
        streamed.sample, streamed.varying_parameters, focus, types=streamed.type_columns
    ).set_index("factor")
    for name in found.index:
        assert found.loc[name, "spearman"] == sample_only.loc[name, "spearman"]


def test_blocks_folded_in_any_order_give_the_same_counts(dec2021_path) -> None:
    scenario = with_overrides(as_scenario(dec2021_path), 2_000, 3, None)
    plan = Plan.from_scenario(scenario)
    specs = block_specs(scenario.trials, scenario.seed, 250)
    played = [(spec, play_block(scenario, spec)) for spec in specs]
    kept = []
    for order in (range(len(played)), [7, 0, 5, 1, 6, 2, 3, 4]):
        accumulator = Accumulator(plan, len(specs), sample_blocks(250, 500))
        for i in order:
            accumulator.fold(*played[i])
        kept.append(accumulator.finish())
    first, second = kept
    assert np.array_equal(first.counts.outcomes, second.counts.outcomes)
    assert np.array_equal(first.counts.tally, second.counts.tally)
    for name, days in first.counts.first_days.items():
        assert np.array_equal(days, second.counts.first_days[name])
    for name in first.drivers.low:
        assert np.array_equal(first.drivers.low[name], second.drivers.low[name])
        assert np.array_equal(first.drivers.high[name], second.drivers.high[name])
    pd.testing.assert_frame_equal(first.sample, second.sample, check_exact=True)
    assert first.counts.trials == 2_000 and len(first.sample) == 500


def test_a_block_folded_twice_or_missing_is_an_error(dec2021_path) -> None:
    scenario = with_overrides(as_scenario(dec2021_path), 600, 3, None)
    plan = Plan.from_scenario(scenario)
    specs = block_specs(scenario.trials, scenario.seed, 300)
    accumulator = Accumulator(plan, len(specs), 1)
    block = play_block(scenario, specs[0])
    accumulator.fold(specs[0], block)
    with pytest.raises(ValueError, match="already added"):
        accumulator.fold(specs[0], block)
    with pytest.raises(ValueError, match="1 of 2 blocks"):
        accumulator.finish()


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_the_median_of_a_histogram_is_the_median_of_its_values(n: int) -> None:
    rng = np.random.default_rng(n)
    days = rng.integers(0, 30, size=n)
    counts = np.bincount(days, minlength=30)
    for level in (0.8, 0.95):
        assert median_interval_counts(np.arange(30), counts, level) == median_interval(days, level)
    assert median_interval_counts(np.arange(3), [0, 0, 0])["n"] == 0
    with pytest.raises(ValueError):
        median_interval_counts([2, 1], [1, 1])


@pytest.mark.slow
def test_a_streamed_run_at_the_real_block_size_equals_the_table(dec2021_path) -> None:
    """Four blocks of the default size (the sample: the first two), as `--no-trials` plays."""
    from escalation.engine.accumulate import SAMPLE_TRIALS
    from escalation.engine.blocks import BLOCK_SIZE

    trials = 3 * BLOCK_SIZE + 1_000
    scenario = with_overrides(as_scenario(dec2021_path), trials, 21, None)
    table = play(scenario)
    streamed = play(scenario, keep_trials=False)
    assert streamed.info["blocks"] == 4
    blocks = sample_blocks(BLOCK_SIZE)
    assert len(streamed.sample) == blocks * BLOCK_SIZE >= SAMPLE_TRIALS
    for name in ("summary", "timing", "timeline"):
        pd.testing.assert_frame_equal(
            getattr(streamed, name), getattr(table, name), check_exact=True
        )
    pd.testing.assert_frame_equal(
        streamed.sample, table.trials.iloc[: len(streamed.sample)], check_exact=True
    )
    found = streamed.drivers().set_index("factor")
    y = analysis.indicator(table.trials, streamed.focus.split("+"))
    for name in streamed.varying_parameters:
        rule = analysis.thirds(pd.to_numeric(streamed.sample[name]).to_numpy(float))
        low, high = rule.masks(pd.to_numeric(table.trials[name]).to_numpy(float))
        assert found.loc[name, "p_low"] == pytest.approx(y[low].mean(), abs=1e-15)
        assert found.loc[name, "p_high"] == pytest.approx(y[high].mean(), abs=1e-15)
