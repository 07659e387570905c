"""Reports of sweeps and comparisons: outcome colours and labels, the scenario as written
marked, flagged cells, paired differences, and what differs between scenario files."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest
from rich.console import Console

from escalation import api, charts
from escalation.engine.assumptions import scenario_differences
from escalation.scenario.load import load_scenario
from escalation.sweeps.report import (
    FEW_TRIALS,
    _written_value,
    context,
    heatmap_figure,
    lines_figure,
)

ROOT = Path(__file__).resolve().parent.parent
DEC2021 = ROOT / "scenarios" / "dec2021.yaml"

GRID = """
name: grid
scenario: {scenario}
design: grid
trials: 300
seed: 11
metrics: [p:full_scale_invasion, median_day:full_scale_invasion]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, values: [0.2, 0.4, 1.0]}}
  belief:
    path: parameters.russia_belief_us.dist
    values: [0.2, 0.5, 0.8]
    format: "beta({{x}}*10, (1-{{x}})*10)"
"""

LINE = """
name: line
scenario: {scenario}
design: grid
trials: 300
seed: 11
metrics: [p:full_scale_invasion, p:limited_incursion, mean:aid:ukraine, mean:met:russia]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, values: [0.2, 0.6, 1.0]}}
"""


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("grid")
    path = folder / "grid.yaml"
    path.write_text(GRID.format(scenario=DEC2021.as_posix()))
    return api.sweep(path, out=folder / "out")


def test_the_scenario_as_written_is_found_for_each_variable(grid) -> None:
    ctx = context(grid)
    severity = ctx.written["severity"]
    # triangular(0.2, 0.4, 0.8): its median is 0.8 - sqrt(0.12) = 0.454, nearest level 0.4.
    assert severity.text == "triangular(0.2, 0.4, 0.8)"
    assert severity.position == pytest.approx(0.8 - math.sqrt(0.12), abs=1e-9)
    assert severity.level == "0.4" and not severity.exact
    # beta(3, 3) has mean 0.5; the level whose formatted beta has that mean is 0.5.
    belief = ctx.written["belief"]
    assert belief.text == "beta(3, 3)" and belief.level == "0.5" and belief.exact
    assert (
        ctx.colors["full_scale_invasion"]
        == charts.outcome_colors(
            load_scenario(DEC2021).outcomes, load_scenario(DEC2021).violent_outcomes
        )["full_scale_invasion"]
    )


def test_an_expression_naming_a_parameter_is_written_as_its_distribution() -> None:
    # dec2021 writes the aid amount as the parameter us_aid_amount ~ uniform(5, 15): its
    # median, 10, is a level of the design, and the nearest one.
    data = load_scenario(DEC2021).model_dump(mode="json")
    spec = {"path": "policies.us_defensive_aid.do.aid.amount"}
    written = _written_value(data, spec, [0, 10, 25, 50, 100])
    assert written.text == "us_aid_amount ~ uniform(5, 15)"
    assert written.position == pytest.approx(10.0) and written.band == pytest.approx((5.5, 14.5))
    assert written.level == "10" and not written.exact


def test_heatmaps_titled_flagged_and_marked(grid) -> None:
    ctx = context(grid)
    fig = heatmap_figure(grid, "median_day:full_scale_invasion", ctx)
    heat = fig.data[0]
    assert "darker = sooner" in heat.colorbar.title.text
    counts = grid.points["median_day:full_scale_invasion:n"]
    few = int((counts < FEW_TRIALS).sum())
    cells = [t for row in heat.text for t in row]
    assert sum("†" in t for t in cells) == few
    # Every cell shows its interval, not only on hover.
    assert all(re.search(r"\d–\d", t) or "none" in t for t in cells)
    # The row of severity 0.4 and the column of belief 0.5 are outlined.
    assert len(fig.layout.shapes) == 2
    p = heatmap_figure(grid, "p:full_scale_invasion", ctx).data[0]
    assert p.colorbar.title.text == "P(full-scale invasion)"
    assert p.colorscale[0][1] != heat.colorscale[0][1]  # days run the other way


def test_lines_wear_the_outcomes_colours_and_mark_the_scenario(tmp_path: Path) -> None:
    path = tmp_path / "line.yaml"
    path.write_text(LINE.format(scenario=DEC2021.as_posix()))
    result = api.sweep(path)
    ctx = context(result)
    fig = lines_figure(result, result.metrics[:2], ctx)
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["P(full-scale invasion)", "P(limited incursion (Donbas))"]
    assert lines[0].line.color == ctx.colors["full_scale_invasion"]
    assert lines[1].line.color == ctx.colors["limited_incursion"]
    # A dashed line at the median of triangular(0.2, 0.4, 0.8) and its 5-95% band.
    assert any(
        s.type == "line" and s.x0 == pytest.approx(0.8 - math.sqrt(0.12), abs=1e-9)
        for s in fig.layout.shapes
    )
    assert any(s.type == "rect" for s in fig.layout.shapes)
    # Means of per-trial records are named for people, from the scenario's actors.
    assert ctx.records == {
        "aid:ukraine": "aid to Ukraine",
        "met:russia": "share of Russian Federation's demands met",
    }
    means = lines_figure(result, result.metrics[2:], ctx)
    names = [t.name for t in means.data if t.mode == "lines+markers"]
    assert names == ["mean aid to Ukraine", "mean share of Russian Federation's demands met"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("compare")
    harsh = folder / "harsh.yaml"
    text = DEC2021.read_text()
    text = re.sub(r"^title: .*$", "title: Harsher US sanctions", text, count=1, flags=re.M)
    text = text.replace("dist: triangular(0.2, 0.4, 0.8)", "dist: triangular(0.4, 0.8, 1.6)")
    text = text.replace("  us_concede_nato:\n", "  us_concede_nato:\n    enabled: false\n")
    harsh.write_text(text)
    return api.compare([DEC2021, harsh], trials=3000, out=folder / "out")


def test_compare_labels_by_title_and_says_what_differs(compared) -> None:
    scenario = load_scenario(DEC2021)
    assert compared.labels == [scenario.title, "Harsher US sanctions"]
    changed = compared.file_differences()
    where = set(zip(changed["section"], changed["item"], changed["field"], strict=True))
    assert where == {
        ("parameters", "us_sanctions_severity", "dist"),
        ("policies", "us_concede_nato", "enabled"),
    }
    row = changed[changed["section"] == "parameters"].iloc[0]
    assert (row["first"], row["this"]) == ("triangular(0.2, 0.4, 0.8)", "triangular(0.4, 0.8, 1.6)")


def test_compare_differences_have_paired_intervals(compared) -> None:
    diffs = compared.differences().set_index("outcome")
    invasion = diffs.loc["full_scale_invasion"]
    assert invasion["diff_hi"] < 0  # harsher sanctions deter, beyond Monte Carlo noise
    assert invasion["diff_lo"] < invasion["difference"] < invasion["diff_hi"]
    # Paired intervals are narrower than the two independent Wilson intervals would allow.
    rows = compared.table[compared.table["outcome"] == "full_scale_invasion"]
    unpaired = float((rows["hi"] - rows["lo"]).sum())
    assert invasion["diff_hi"] - invasion["diff_lo"] < unpaired / 2
    forest = compared.forest()
    assert forest.data[0].error_x.array is not None
    assert "Harsher US sanctions minus" in forest.layout.title.text


def test_compare_prints_differences_and_the_changed_fields(compared) -> None:
    from escalation.sweeps.compare import print_comparison

    buffer = io.StringIO()
    print_comparison(compared, Console(file=buffer, width=200))
    out = buffer.getvalue()
    assert "difference (95% paired)" in out and "Full-scale invasion" in out
    assert "parameters.us_sanctions_severity.dist" in out
    assert "policies.us_concede_nato.enabled" in out


def test_compare_report_uses_outcome_colours_and_titles(compared) -> None:
    fig = compared.figure()
    bars = [t for t in fig.data if t.showlegend is False]
    colors = compared.colors
    outcomes = list(dict.fromkeys(compared.table["outcome"]))
    for bar in bars:
        assert list(bar.marker.color) == [colors[o] for o in outcomes]
    assert bars[0].marker.pattern.shape != bars[1].marker.pattern.shape
    assert len(repr(compared)) < 300 and "<table>" in compared._repr_html_()


def test_scenario_differences_ignore_documentation() -> None:
    first = load_scenario(DEC2021)
    other = first.model_copy(update={"title": "Another title", "description": "changed"})
    assert scenario_differences(first, other).empty
