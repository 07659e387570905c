"""Tests for escalation.charts: figures build from small frames; reports are offline and atomic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from escalation.charts import (
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
        "rung:posturing": live * 0.6,
        "rung:mobilization": live * 0.3,
        "rung:limited_incursion": live * 0.1,
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
    assert list(bar.x) == OUTCOMES
    assert bar.error_y.array[0] == pytest.approx(0.06)
    assert bar.error_y.arrayminus[0] == pytest.approx(0.06)
    assert bar.text[0] == "30.0%"
    assert fig.layout.title.text and fig.layout.yaxis.title.text
    assert list(bar.marker.color) == [outcome_colors(OUTCOMES, VIOLENT)[o] for o in OUTCOMES]


def test_timeline_figure(timeline: pd.DataFrame) -> None:
    fig = timeline_figure(timeline, violent=VIOLENT)
    assert len(fig.data) == 6 + len(OUTCOMES)
    state = [t for t in fig.data if t.stackgroup == "state"]
    provisional = [t for t in fig.data if t.stackgroup == "outcome"]
    assert len(state) == 6 and len(provisional) == len(OUTCOMES)
    # Peaceful endings at the bottom of the stack, violent endings on top.
    assert state[0].name == "ended: settlement" and state[-1].name == "ended: nuclear_use"
    colors = outcome_colors(OUTCOMES, VIOLENT)
    assert provisional[-1].line.color == colors["nuclear_use"]
    assert "days" in fig.layout.xaxis2.title.text


def test_survival_figure(survival_df: pd.DataFrame) -> None:
    fig = survival_figure(survival_df, "full-scale invasion")
    assert len(fig.data) == 3
    assert fig.data[1].fill == "tonexty"
    assert fig.data[2].line.shape == "hv"
    assert "full-scale invasion" in fig.layout.title.text


def test_drivers_figure(drivers_df: pd.DataFrame) -> None:
    fig = drivers_figure(drivers_df, "full_scale_invasion")
    assert len(fig.data) == 1
    bar = fig.data[0]
    assert bar.orientation == "h"
    assert list(bar.y) == ["noise", "us_follow_through", "russia_stake"]  # largest on top
    assert bar.error_x.arrayminus[-1] == pytest.approx(0.07)


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
