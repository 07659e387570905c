"""Running sweeps: same numbers on any executor, nothing lost on interruption, common random
numbers, the results folder, and comparisons of scenarios."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from escalation import api
from escalation.cli import app
from escalation.engine.executors import DaskExecutor, ProcessExecutor, SerialExecutor
from escalation.engine.results import OutputError, assemble
from escalation.model.plan import Plan
from escalation.sweeps.designs import Factor, make_design
from escalation.sweeps.evaluate import ScenarioEvaluator
from escalation.sweeps.experiment import load_experiment
from escalation.sweeps.runner import SweepError, run_design, run_sweep
from escalation.sweeps.store import PointStore

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"

SMALL = """
name: small
scenario: {scenario}
design: grid
trials: 400
seed: 11
metrics: [p:full_scale_invasion, p:settlement, median_day:limited_incursion, mean:sanctions:russia]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, values: [0.2, 1.0]}}
  belief:
    path: parameters.russia_belief_us.dist
    values: [0.2, 0.5, 0.8]
    format: "beta({{x}}*10, (1-{{x}})*10)"
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A 2 x 3 grid over dec2021 with 400 trials per point."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL.format(scenario=DEC2021.as_posix()))
    return path


def test_process_pool_gives_the_serial_points(small: Path) -> None:
    loaded = load_experiment(small, trials=200)
    serial = run_sweep(loaded, executor=SerialExecutor()).points
    assert len(serial) == 6
    # The inputs mattered: the design is not one point repeated.
    assert serial["p:full_scale_invasion"].nunique() > 1
    pooled = run_sweep(loaded, executor=ProcessExecutor(2)).points
    pd.testing.assert_frame_equal(pooled, serial)


#: Dask is an optional extra; the `test` extra installs it, a bare install may not have it.
needs_dask = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None,
    reason="Dask is not installed (an extra: pip install 'escalation[dask]')",
)


@needs_dask
def test_dask_cluster_in_this_process_gives_the_serial_points(small: Path) -> None:
    loaded = load_experiment(small, trials=200)
    serial = run_sweep(loaded, executor=SerialExecutor()).points
    dask = run_sweep(loaded, executor=DaskExecutor(None, workers=2, processes=False)).points
    pd.testing.assert_frame_equal(dask, serial)


@pytest.mark.slow
@needs_dask
def test_cli_workers_and_local_dask_cluster_give_identical_files(
    small: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    frames = []
    for name, options in (
        ("one", ["--workers", "1"]),
        ("two", ["--workers", "2"]),
        ("dask", ["--scheduler", "local", "--workers", "2"]),
    ):
        out = tmp_path / name
        result = runner.invoke(app, ["sweep", str(small), "--out", str(out), *options])
        assert result.exit_code == 0, result.output
        frames.append(pd.read_parquet(out / "points.parquet"))
    pd.testing.assert_frame_equal(frames[1], frames[0])
    pd.testing.assert_frame_equal(frames[2], frames[0])


def test_interrupted_sweep_keeps_points_and_resumes_to_the_same_result(
    small: Path, tmp_path: Path
) -> None:
    loaded = load_experiment(small)
    whole = run_sweep(loaded, out=tmp_path / "whole")

    out = tmp_path / "broken"
    k = 2

    def interrupt_after_k(done: int, total: int) -> None:
        if done == k:
            raise KeyboardInterrupt  # as if Ctrl-C came while point k+1 was being played

    with pytest.raises(KeyboardInterrupt):
        run_sweep(loaded, out=out, on_point=interrupt_after_k)
    partial = Path(f"{out}.partial")
    assert not out.exists()
    assert (partial / "INCOMPLETE.txt").is_file()
    assert not (partial / "points.parquet").exists()
    assert len(list((partial / "points").glob("*.parquet"))) == k

    # Starting afresh into the same folder would lose the points: refused.
    with pytest.raises(OutputError, match="--resume"):
        run_sweep(loaded, out=out)
    # Resuming with other inputs would mix two experiments: refused.
    with pytest.raises(OutputError, match="hash differs"):
        run_sweep(load_experiment(small, trials=401), out=out, resume=True)

    seen = []
    resumed = run_sweep(loaded, out=out, resume=True, on_point=lambda d, t: seen.append(d))
    assert seen[0] == k and seen[-1] == 6  # only the missing points were played
    assert resumed.info["resumed_points"] == k
    assert not partial.exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "points.parquet"),
        pd.read_parquet(tmp_path / "whole" / "points.parquet"),
    )
    pd.testing.assert_frame_equal(resumed.points, whole.points)


def square(point: Mapping[str, float]) -> dict[str, float]:
    """A test evaluator."""
    return {"y": float(point["i"]) ** 2}


def square_but_die_on_three(point: Mapping[str, float]) -> dict[str, float]:
    """The same evaluator, but the worker process dies on point i = 3."""
    if point["i"] == 3:
        os._exit(3)
    return square(point)


def test_killed_worker_keeps_finished_points_and_resume_completes(tmp_path: Path) -> None:
    design = make_design("grid", [Factor("i", values=tuple(range(6)))])
    manifest = {"experiment_hash": "squares"}
    store = PointStore(tmp_path / "out")
    done = store.open(manifest, resume=False)
    with pytest.raises(SweepError, match="--resume"):
        run_design(design, square_but_die_on_three, ProcessExecutor(1), store, done)
    kept = store.load()
    assert 3 not in set(kept["point"])
    assert len(kept) >= 1  # points 0..2 run before point 3 in a one-process pool
    assert (kept["y"] == kept["i"] ** 2).all()

    store = PointStore(tmp_path / "out")
    done = store.open(manifest, resume=True)
    assert done == set(kept["point"])
    frame = run_design(design, square, SerialExecutor(), store, done)
    pd.testing.assert_frame_equal(frame, run_design(design, square, SerialExecutor()))


def trials_of(evaluator: ScenarioEvaluator, point: dict) -> pd.DataFrame:
    """A point's per-trial table, as a run's ``trials.parquet`` would hold it."""
    scenario, blocks = evaluator.play(point)
    trials, _ = assemble(Plan.from_scenario(scenario), blocks)
    return trials


def test_common_random_numbers_follow_through(tmp_path: Path) -> None:
    # Two points differing only in the true follow-through of the US sanctions after an
    # invasion: the challenger decides on its belief, not on the truth, so every trial where
    # the policy never triggered (the crisis never reached the invasion rung) is identical.
    path = tmp_path / "crn.yaml"
    path.write_text(
        f"""
scenario: {DEC2021.as_posix()}
design: grid
trials: 3000
metrics: [p:full_scale_invasion]
variables:
  follow: {{path: policies.us_sanctions_invasion.follow_through, values: [0.1, 0.95]}}
"""
    )
    loaded = load_experiment(path)
    evaluator = ScenarioEvaluator.from_experiment(loaded)
    low, high = (trials_of(evaluator, point) for point in loaded.design.points)
    rungs = [rung.id for rung in loaded.scenario.ladder]
    never = low["peak:russia"].map(rungs.index).to_numpy() < rungs.index("invasion")
    assert never.sum() > 1000
    pd.testing.assert_frame_equal(
        low[never].drop(columns=["us_follow_through"]).reset_index(drop=True),
        high[never].drop(columns=["us_follow_through"]).reset_index(drop=True),
    )
    # Where it did trigger, the truth matters: sanctions differ (so the check above can fail).
    assert not np.array_equal(
        low.loc[~never, "sanctions:russia"], high.loc[~never, "sanctions:russia"]
    )


def test_common_random_numbers_disabled_policy_keeps_the_streams(tmp_path: Path) -> None:
    # Switching US defensive aid off leaves every trial that never reached an incursion (where
    # the aid would trigger) unchanged: the disabled policy still consumes its draws. The aid
    # is held unbelieved (perceived 0) so that, before it triggers, Russia does not anticipate
    # it: otherwise the promise alone changes choices, which is the model, not the streams.
    path = tmp_path / "crn.yaml"
    path.write_text(
        f"""
scenario: {DEC2021.as_posix()}
design: grid
trials: 3000
metrics: [p:full_scale_invasion]
variables:
  aid: {{path: policies.us_defensive_aid.enabled, values: [true, false]}}
  believed: {{path: policies.us_defensive_aid.perceived, values: [0]}}
"""
    )
    loaded = load_experiment(path)
    evaluator = ScenarioEvaluator.from_experiment(loaded)
    on, off = (trials_of(evaluator, point) for point in loaded.design.points)
    rungs = [rung.id for rung in loaded.scenario.ladder]
    never = on["peak:russia"].map(rungs.index).to_numpy() < rungs.index("incursion")
    assert never.sum() > 500
    pd.testing.assert_frame_equal(on[never], off[never])
    assert on.loc[~never, "aid:ukraine"].sum() > 0 and off["aid:ukraine"].sum() == 0


def test_results_folder_holds_points_record_and_report(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = api.sweep(small, out=out, trials=300)
    assert sorted(p.name for p in out.iterdir()) == ["points.parquet", "report.html", "run.json"]
    points = pd.read_parquet(out / "points.parquet")
    assert list(points.columns[:4]) == ["point", "severity", "belief", "belief:text"]
    assert points["belief:text"].tolist()[:3] == ["beta(2, 8)", "beta(5, 5)", "beta(8, 2)"]
    for metric in result.metrics:
        assert (points[f"{metric}:lo"] <= points[metric]).all()
        assert (points[metric] <= points[f"{metric}:hi"]).all()
    info = json.loads((out / "run.json").read_text())
    assert info["experiment_hash"] == load_experiment(small, trials=300).experiment_hash
    assert info["trials_per_point"] == 300 and info["seed"] == 11
    assert info["design"]["kind"] == "grid" and info["design"]["points"] == 6
    assert "versions" in info and "SALib" in info["versions"]
    report = (out / "report.html").read_text()
    assert "Common random numbers" in report and "heatmap" in report


def test_sobol_sweep_of_the_scenario_writes_indices(tmp_path: Path) -> None:
    path = tmp_path / "sobol.yaml"
    path.write_text(
        f"""
scenario: {DEC2021.as_posix()}
design: {{kind: sobol, samples: 4}}
trials: 200
metrics: [p:full_scale_invasion, median_day:nuclear_use]
variables:
  p_resolved: {{path: parameters.p_resolved, quantile: true}}
  aid_lag: {{path: parameters.us_aid_lag, quantile: true}}
"""
    )
    result = api.sweep(path, out=tmp_path / "out")
    assert len(result.points) == 4 * (2 + 2)
    table = pd.read_csv(tmp_path / "out" / "indices.csv")
    assert set(table["variable"]) == {"p_resolved", "aid_lag"}
    assert set(table["metric"]) == {"p:full_scale_invasion"}
    # Nuclear use is rare: with no trial reaching it at some point, it has no indices, and
    # the report says so rather than failing.
    assert any("median_day:nuclear_use" in note for note in result.notes)


def test_compare_with_common_random_numbers(tmp_path: Path) -> None:
    harsh = tmp_path / "harsh.yaml"
    harsh.write_text(
        DEC2021.read_text().replace(
            "dist: triangular(0.2, 0.4, 0.8)\n    description: Cost to Russia of US sanctions",
            "dist: 1.5\n    description: Cost to Russia of US sanctions",
        )
    )
    same = tmp_path / "dec2021.yaml"
    same.write_text(DEC2021.read_text())
    result = api.compare([DEC2021, same, harsh], trials=3000, out=tmp_path / "out")
    table = result.table
    # Labelled by title; the file name tells apart scenarios that share one.
    title = result.results[0].scenario.title
    assert result.labels == [
        f"{title} (dec2021.yaml)",
        f"{title} (dec2021.yaml) (2)",
        f"{title} (harsh.yaml)",
    ]
    assert np.allclose(table.groupby("scenario")["probability"].sum(), 1.0)
    copy = table[table["scenario"] == result.labels[1]]
    # The same scenario with the same seed: identical trial by trial, so zero difference.
    assert (copy["difference"] == 0).all() and (copy["diff_lo"] == 0).all()
    invasion = table[
        (table["scenario"] == result.labels[2]) & (table["outcome"] == "full_scale_invasion")
    ]
    assert invasion["diff_hi"].item() < 0  # harsher sanctions deter: a clear, paired drop
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["compare.csv", "report.html", "run.json"]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out" / "compare.csv"), table)


def test_cli_sweep_and_compare(small: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["sweep", str(small), "--trials", "200", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "severity" in result.output and (tmp_path / "s" / "points.parquet").is_file()
    result = runner.invoke(
        app,
        ["compare", str(DEC2021), str(DEC2021), "--trials", "500", "--out", str(tmp_path / "c")],
    )
    assert result.exit_code == 0, result.output
    assert "Full-scale" in result.output and "Nuclear use" in result.output
    assert (tmp_path / "c" / "compare.csv").is_file()
    # --resume needs the folder of the interrupted sweep.
    result = runner.invoke(app, ["sweep", str(small), "--resume"])
    assert result.exit_code == 2 and "--out" in result.output


# --- resuming from a staging folder that was tampered with (issue 13) ----------------------


def _interrupted(small: Path, tmp_path: Path, k: int = 3):
    loaded = load_experiment(small)
    out = tmp_path / "broken"

    def interrupt_after_k(done: int, total: int) -> None:
        if done == k:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(loaded, out=out, on_point=interrupt_after_k)
    return loaded, out, Path(f"{out}.partial") / "points"


def test_resume_ignores_stray_files_in_the_staging_folder(small: Path, tmp_path: Path) -> None:
    """A copied or foreign parquet file in points/ is not a point: no point appears twice."""
    loaded, out, points = _interrupted(small, tmp_path)
    first = sorted(points.glob("*.parquet"))[0]
    (points / f"{first.stem} (copy).parquet").write_bytes(first.read_bytes())
    (points / "3.parquet").write_bytes(first.read_bytes())  # a digit name not ours
    (points / "notes.parquet").write_text("not parquet at all")
    resumed = run_sweep(loaded, out=out, resume=True)
    whole = run_sweep(loaded)
    assert len(resumed.points) == 6 and resumed.points["point"].is_unique
    pd.testing.assert_frame_equal(resumed.points, whole.points)
    assert any("ignored points/3.parquet" in note for note in resumed.notes)


def test_resume_plays_again_a_point_whose_file_is_cut_short(small: Path, tmp_path: Path) -> None:
    """A truncated point file (a crash, a full disk) is played again, not a pyarrow traceback."""
    loaded, out, points = _interrupted(small, tmp_path)
    victim = sorted(points.glob("*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:40])
    (points / f".{victim.name}.abc123.tmp").write_text("half")  # a write in flight
    seen = []
    resumed = run_sweep(loaded, out=out, resume=True, on_point=lambda d, t: seen.append(d))
    assert seen[0] == 2  # two whole points kept, the cut one played again
    assert resumed.info["resumed_points"] == 2
    pd.testing.assert_frame_equal(resumed.points, run_sweep(loaded).points)
    assert any("played again" in note and victim.name in note for note in resumed.notes)


def test_resume_through_the_command_line_reports_the_notes(small: Path, tmp_path: Path) -> None:
    _, out, points = _interrupted(small, tmp_path)
    sorted(points.glob("*.parquet"))[0].write_bytes(b"PAR1 broken")
    result = CliRunner().invoke(
        app, ["sweep", str(small), "--out", str(out), "--resume", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    assert "note: resume: point 0 is played again" in result.stdout
    assert "Traceback" not in result.output


def test_share_metrics_count_a_categorical_record_as_the_trials_table_does(
    tmp_path: Path,
) -> None:
    # share:<record>=<value> at each point equals the share read from that point's trials;
    # the type share is the same at both points (common random numbers), the campaign's
    # result is not (aid delivered at once or after eight weeks changes how wars end).
    path = tmp_path / "share.yaml"
    path.write_text(
        f"""
scenario: {DEC2021.as_posix()}
design: grid
trials: 3000
metrics: ["share:war:russia=won", "share:type:russia=resolved", p:full_scale_invasion]
variables:
  lag: {{path: policies.us_defensive_aid.do.aid.lag, values: [0, 56]}}
"""
    )
    loaded = load_experiment(path)
    evaluator = ScenarioEvaluator.from_experiment(loaded)
    rows = [evaluator(point) for point in loaded.design.points]
    frames = [trials_of(evaluator, point) for point in loaded.design.points]
    for row, frame in zip(rows, frames, strict=True):
        assert row["share:war:russia=won"] == (frame["war:russia"] == "won").mean()
        assert row["share:type:russia=resolved"] == (frame["type:russia"] == "resolved").mean()
        assert row["share:war:russia=won:lo"] < row["share:war:russia=won"]
    assert rows[0]["share:type:russia=resolved"] == rows[1]["share:type:russia=resolved"]
    assert not frames[0]["war:russia"].equals(frames[1]["war:russia"])
