"""Tests for escalation.charts: figures build from small frames; reports are offline and atomic."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from escalation.charts import (
    cumulative_figure,
    drivers_figure,
    outcome_colors,
    outcome_figure,
    survival_figure,
    timeline_figure,
    write_report,
)

OUTCOMES = ["settlement", "stand_down", "frozen_standoff", "limited_incursion", "nuclear_use"]
VIOLENT = ["limited_incursion", "nuclear_use"]


@pytest.fixture
def summary() -> pd.DataFrame:
    p = np.array([0.3, 0.1, 0.35, 0.2, 0.05])
    return pd.DataFrame(
        {
            "outcome": OUTCOMES,
            "count": (p * 200).astype(int),
            "probability": p,
            "lo": p * 0.8,
            "hi": np.minimum(p * 1.2, 1.0),
        }
    )


@pytest.fixture
def timeline() -> pd.DataFrame:
    days = np.arange(11)
    settled = days / 40
    nuclear = days / 200
    live = 1 - settled - nuclear
    frame = {
        "day": days,
        "rung:red:posturing": live * 0.6,
        "rung:red:mobilization": live * 0.3,
        "rung:red:limited_incursion": live * 0.1,
        "ended:settlement": settled * 0.7,
        "ended:stand_down": settled * 0.3,
        "ended:nuclear_use": nuclear,
    }
    for name, share in zip(OUTCOMES, [0.2, 0.1, 0.5, 0.15, 0.05], strict=True):
        frame[f"outcome:{name}"] = np.full(days.size, share)
    return pd.DataFrame(frame)


@pytest.fixture
def survival_df() -> pd.DataFrame:
    s = np.linspace(1.0, 0.6, 8)
    return pd.DataFrame({"day": np.arange(8), "surviving": s, "lo": s - 0.05, "hi": s * 0 + 1})


@pytest.fixture
def drivers_df() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": ["russia_stake", "us_follow_through", "noise"],
            "spearman": [0.4, -0.2, 0.0],
            "p_low": [0.1, 0.4, 0.3],
            "p_high": [0.5, 0.2, 0.3],
            "difference": [0.4, -0.2, 0.0],
            "lo": [0.33, -0.27, -0.05],
            "hi": [0.47, -0.13, 0.05],
        }
    )


def test_outcome_colors_are_deterministic_cool_then_warm() -> None:
    colors = outcome_colors(OUTCOMES, VIOLENT)
    assert colors == outcome_colors(list(OUTCOMES), list(VIOLENT))
    assert list(colors) == OUTCOMES
    assert len(set(colors.values())) == len(OUTCOMES)

    def redness(hex_color: str) -> float:
        r, _g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
        return r - b

    assert all(redness(colors[o]) > 0 for o in VIOLENT)
    assert all(redness(colors[o]) < 0 for o in OUTCOMES if o not in VIOLENT)
    # Darker with severity: the most severe outcome has the lower green/lightness.
    assert int(colors["nuclear_use"][3:5], 16) < int(colors["limited_incursion"][3:5], 16)


def test_outcome_figure(summary: pd.DataFrame) -> None:
    fig = outcome_figure(summary, violent=VIOLENT)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 1
    bar = fig.data[0]
    assert list(bar.x) == [
        "Settlement",
        "Stand-down",
        "Frozen standoff",
        "Limited incursion",
        "Nuclear use",
    ]
    assert bar.error_y.array[0] == pytest.approx(0.06)
    assert bar.error_y.arrayminus[0] == pytest.approx(0.06)
    assert bar.text[0] == "30.0%"
    assert fig.layout.title.text and fig.layout.yaxis.title.text
    assert list(bar.marker.color) == [outcome_colors(OUTCOMES, VIOLENT)[o] for o in OUTCOMES]


def test_timeline_figure(timeline: pd.DataFrame) -> None:
    fig = timeline_figure(timeline, violent=VIOLENT)
    assert len(fig.data) == 6 + len(OUTCOMES)
    state = [t for t in fig.data if t.stackgroup == "state1"]
    provisional = [t for t in fig.data if t.stackgroup == "outcome"]
    assert len(state) == 6 and len(provisional) == len(OUTCOMES)
    # Peaceful endings at the bottom of the stack, violent endings on top.
    assert state[0].name == "ended: settlement" and state[-1].name == "ended: nuclear use"
    colors = outcome_colors(OUTCOMES, VIOLENT)
    assert provisional[-1].line.color == colors["nuclear_use"]
    # A live rung that defines an outcome wears the outcome's colour.
    at = next(t for t in state if t.name == "at limited incursion")
    assert at.line.color == colors["limited_incursion"]
    # One legend per panel.
    assert {t.legend for t in state} == {"legend"}
    assert {t.legend for t in provisional} == {"legend2"}
    assert fig.layout.legend2.y < fig.layout.legend.y
    assert fig.layout.xaxis2.title.text == "day of the crisis"


def test_survival_figure(survival_df: pd.DataFrame) -> None:
    fig = survival_figure(survival_df, "full-scale invasion")
    assert len(fig.data) == 3
    assert fig.data[1].fill == "tonexty"
    assert fig.data[2].line.shape == "hv"
    assert "full-scale invasion" in fig.layout.title.text
    # The axis is fitted to the band (0.55 to 1), not 0-100%.
    low, high = fig.layout.yaxis.range
    assert 0.45 < low < 0.55 and 1.0 <= high < 1.1


def test_time_axes_show_calendar_dates(survival_df: pd.DataFrame, timeline: pd.DataFrame) -> None:
    start = datetime.date(2021, 12, 7)
    fig = survival_figure(survival_df, "war", start=start)
    assert list(fig.data[2].x[:2]) == ["2021-12-07", "2021-12-08"]
    assert fig.layout.xaxis.title.text == "date (day 0 = 7 Dec 2021)"
    fig = timeline_figure(timeline, violent=VIOLENT, start=start)
    assert fig.data[0].x[-1] == "2021-12-17"


def test_timeline_with_several_deciders_has_a_panel_and_a_legend_each() -> None:
    days = np.arange(5)
    frame = {"day": days}
    for decider in ("red", "blue"):
        frame[f"rung:{decider}:calm"] = np.full(5, 0.7)
        frame[f"rung:{decider}:blockade"] = np.full(5, 0.2)
    frame["ended:settlement"] = np.full(5, 0.1)
    for name, share in (("settlement", 0.1), ("frozen_standoff", 0.8), ("war", 0.1)):
        frame[f"outcome:{name}"] = np.full(5, share)
    frame = pd.DataFrame(frame)
    fig = timeline_figure(
        frame,
        violent=["war"],
        deciders={"red": "Red state", "blue": "Blue state"},
        rung_labels={"blockade": "Naval blockade"},
    )
    titles = [a.text for a in fig.layout.annotations]
    assert any("Red state" in t for t in titles) and any("Blue state" in t for t in titles)
    assert {t.legend for t in fig.data} == {"legend", "legend2", "legend3"}
    red = [t for t in fig.data if t.stackgroup == "state1"]
    assert [t.name for t in red] == ["ended: settlement", "at calm", "at naval blockade"]
    # Each decider's panel stacks to one.
    np.testing.assert_allclose(sum(np.asarray(t.y) for t in red), 1.0)


def test_cumulative_figure_draws_a_band_per_outcome() -> None:
    curves = pd.DataFrame(
        {
            "outcome": ["strike"] * 3 + ["war"] * 3,
            "day": [0, 1, 2] * 2,
            "reached": [0.0, 0.1, 0.2, 0.0, 0.05, 0.1],
            "lo": [0.0, 0.08, 0.17, 0.0, 0.03, 0.08],
            "hi": [0.01, 0.12, 0.23, 0.01, 0.07, 0.12],
        }
    )
    colors = {"strike": "#f46d43", "war": "#a50026"}
    fig = cumulative_figure(curves, {"war": "Full-scale war"}, colors)
    bands = [t for t in fig.data if t.fill == "toself"]
    lines = [t for t in fig.data if t.fill != "toself"]
    assert len(bands) == 2 and [t.name for t in lines] == ["Strike", "Full-scale war"]
    assert lines[1].line.color == "#a50026"
    assert fig.layout.yaxis.range[1] == pytest.approx(0.23 * 1.12)


def test_drivers_figure(drivers_df: pd.DataFrame) -> None:
    fig = drivers_figure(drivers_df, "full_scale_invasion")
    assert len(fig.data) == 2
    bar, _printed = fig.data
    assert bar.orientation == "h"
    assert list(bar.y) == ["Noise", "Us follow through", "Russia stake"]  # largest on top
    assert bar.error_x.arrayminus[-1] == pytest.approx(0.07)


def test_drivers_figure_shows_types_and_the_pawn_index() -> None:
    frame = pd.DataFrame(
        {
            "factor": ["type:red", "cost", "noise", "(noise floor)"],
            "kind": ["type", "parameter", "parameter", "noise"],
            "low": ["coercer", "", "", ""],
            "high": ["resolved", "", "", ""],
            "p_low": [0.03, 0.2, 0.1, 0.1],
            "p_high": [0.45, 0.1, 0.1, 0.1],
            "difference": [0.42, -0.1, 0.0, 0.0],
            "lo": [0.4, -0.12, -0.01, 0.0],
            "hi": [0.44, -0.08, 0.01, 0.0],
            "spearman": [0.0, -0.2, 0.0, 0.0],
            "pawn": [0.2, 0.04, 0.004, 0.004],
        }
    )
    fig = drivers_figure(frame, "war", labels={"type:red": "type of Red", "cost": "invasion cost"})
    effect, printed, pawn = fig.data
    assert list(effect.y) == ["Noise", "invasion cost", "type of Red: resolved vs coercer"]
    # Values are printed past the interval's end, away from zero: never on an error bar.
    assert list(printed.text) == [" +0.0% ", " -10.0% ", " +42.0% "]
    assert list(printed.x) == [0.01, -0.12, 0.44]
    assert list(printed.textposition) == ["middle right", "middle left", "middle right"]
    assert list(pawn.x) == [0.004, 0.04, 0.2]
    assert effect.marker.color[-1] != effect.marker.color[-2]  # a type has its own colour
    assert any(shape.x0 == 0.004 for shape in fig.layout.shapes)  # the noise floor


def test_write_report_is_self_contained(
    tmp_path: Path,
    summary: pd.DataFrame,
    timeline: pd.DataFrame,
    survival_df: pd.DataFrame,
    drivers_df: pd.DataFrame,
) -> None:
    target = tmp_path / "out" / "report.html"
    figures = [
        ("How it ends", outcome_figure(summary, violent=VIOLENT)),
        ("Trajectory", timeline_figure(timeline, violent=VIOLENT)),
        ("Time to invasion", survival_figure(survival_df, "invasion"), "Own <note>."),
        ("Drivers", drivers_figure(drivers_df, "invasion")),
    ]
    tables = [("Outcome table", summary), ("Timing <table>", drivers_df.assign(x=pd.NA))]
    notes = ["Bars show the share of trials & 95% intervals.", "Stacked shares."]
    written = write_report(target, "Crisis <report>", figures, tables, notes=notes)
    assert written == target
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.html"]

    text = target.read_text(encoding="utf-8")
    signature = get_plotlyjs()[:200]
    assert text.count(signature) == 1
    assert not re.search(
        r"<(script|link|img|iframe)[^>]+(src|href)\s*=\s*[\"']?\s*(https?:)?//", text
    )
    assert "@import" not in text
    for heading in ("How it ends", "Trajectory", "Time to invasion", "Drivers", "Outcome table"):
        assert f"<h2>{heading}</h2>" in text
    assert "Crisis &lt;report&gt;" in text and "<report>" not in text
    assert "Timing &lt;table&gt;" in text
    assert "Bars show the share of trials &amp; 95% intervals." in text
    assert "Own &lt;note&gt;." in text
    assert text.count("<table") == 2
    assert "<NA>" not in text and ">nan<" not in text.lower()


def test_write_report_string_notes_and_overwrite(tmp_path: Path, summary: pd.DataFrame) -> None:
    target = tmp_path / "r.html"
    target.write_text("old")
    write_report(target, "T", [("Only", outcome_figure(summary))], [], notes="Read me first.")
    text = target.read_text(encoding="utf-8")
    assert "Read me first." in text and text.count(get_plotlyjs()[:200]) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(ValueError):
        write_report(target, "T", [("Only", outcome_figure(summary))], [], notes=["a", "b"])
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_drivers_axis_ticks_stay_distinct_when_every_change_is_tiny() -> None:
    frame = pd.DataFrame(
        {
            "factor": ["a", "b"],
            "difference": [0.002, -0.001],
            "lo": [0.0005, -0.0025],
            "hi": [0.0035, 0.0005],
            "p_low": [0.001, 0.002],
            "p_high": [0.003, 0.001],
        }
    )
    axis = drivers_figure(frame, "war").layout.xaxis
    # +-0.45%: whole percents would label every tick "-0%", "+0%" or "+1%".
    assert axis.tickformat == "+.1%"
    values = np.linspace(axis.range[0], axis.range[1], 5)
    assert len({f"{v:+.1%}" for v in values}) == 5
