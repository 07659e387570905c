"""Tests of the block engine: stable streams per block, and results independent of workers."""

from __future__ import annotations

import gc
from pathlib import Path

import pandas as pd
import pytest
from builders import play, sanction, scenario, toy

from escalation import api
from escalation.engine import blocks
from escalation.engine import play as engine_play
from escalation.engine.blocks import block_specs, play_blocks
from escalation.engine.results import assemble
from escalation.model.plan import Plan
from escalation.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_block_specs_cover_the_trials_in_order() -> None:
    specs = block_specs(10, seed=3, block_size=4)
    assert [(s.index, s.start, s.size) for s in specs] == [(0, 0, 4), (1, 4, 4), (2, 8, 2)]
    assert len({s.seed for s in specs}) == 3
    with pytest.raises(ValueError):
        block_specs(0, seed=3)


def test_a_block_seed_does_not_depend_on_the_number_of_blocks() -> None:
    few = block_specs(12, seed=42, block_size=4)
    many = block_specs(400, seed=42, block_size=4)
    assert [s.seed for s in few] == [s.seed for s in many[: len(few)]]
    assert block_specs(12, seed=43, block_size=4)[0].seed != few[0].seed


def _data() -> dict:
    return toy(horizon=20, policies={"s": sanction(0.3, perceived=0.5)})


def test_same_seed_same_trials_whatever_the_workers() -> None:
    # One pool for several checks: worker processes are spawned, which takes a second or two.
    built = scenario(_data())
    plan = Plan.from_scenario(built)
    specs = block_specs(1500, seed=9, block_size=500)
    seen: list[int] = []
    pooled = play_blocks(built, specs, workers=2, on_block=lambda spec: seen.append(spec.index))
    alone = play_blocks(built, specs, workers=1)
    assert sorted(seen) == [0, 1, 2]
    for spec, a, b in zip(specs, alone, pooled, strict=True):
        assert len(b.outcome) == spec.size
        assert (a.outcome == b.outcome).all()  # each block comes back in its own place
    one, two = assemble(plan, alone), assemble(plan, pooled)
    pd.testing.assert_frame_equal(one[0], two[0])
    pd.testing.assert_frame_equal(one[1], two[1])
    # Blocks are independent streams: the trials of block 1 are not a copy of block 0's.
    outcomes = one[0]["outcome"].to_numpy()
    assert (outcomes[:500] != outcomes[500:1000]).any()


def test_different_seeds_give_different_trials() -> None:
    first, _ = play(_data(), 1000, seed=1, block_size=500)
    second, _ = play(_data(), 1000, seed=2, block_size=500)
    assert not first["outcome"].equals(second["outcome"])


def test_run_with_two_blocks_matches_across_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small blocks through the public API: api.run cuts blocks with engine.play's block_specs.
    def small(trials: int, seed: int, block_size: int = 300) -> list[blocks.BlockSpec]:
        return block_specs(trials, seed, block_size)

    monkeypatch.setattr(engine_play, "block_specs", small)
    built = scenario(_data())
    one = api.run(built, trials=700, seed=4, workers=1)
    two = api.run(built, trials=700, seed=4, workers=2)
    assert one.info["blocks"] == 3
    pd.testing.assert_frame_equal(one.trials, two.trials)
    pd.testing.assert_frame_equal(one.timeline, two.timeline)
    pd.testing.assert_frame_equal(one.summary, two.summary)


@pytest.mark.slow
def test_dec2021_full_blocks_match_across_workers(dec2021_path: Path) -> None:
    # Real block size: three blocks, the last one short.
    trials = 2 * blocks.BLOCK_SIZE + 10
    one = api.run(dec2021_path, trials=trials, seed=11, workers=1)
    two = api.run(dec2021_path, trials=trials, seed=11, workers=2)
    assert one.info["blocks"] == 3
    pd.testing.assert_frame_equal(one.trials, two.trials)
    pd.testing.assert_frame_equal(one.timeline, two.timeline)


@pytest.mark.parametrize("name", ["dec2021.yaml", "kargil1999.yaml"])
def test_a_played_block_leaves_no_reference_cycle(name: str) -> None:
    # A block's arrays must be freed as soon as it is played, not whenever Python's cyclic
    # collector happens to run: a streamed run of many blocks would otherwise grow.
    scenario = load_scenario(ROOT / "scenarios" / name)
    spec = blocks.block_specs(2000, 3)[0]
    blocks.play_block(scenario, spec)
    gc.collect()
    gc.disable()
    try:
        blocks.play_block(scenario, spec)
        assert gc.collect() == 0
    finally:
        gc.enable()
