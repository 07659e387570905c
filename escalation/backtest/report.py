"""Figures and the HTML report of a backtest.

A reliability diagram of the yes/no forecasts, each case's scores beside the references', and
the skill scores with their bootstrap intervals; the page itself is written by
:func:`escalation.charts.write_report`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from escalation import charts
from escalation.backtest.references import REFERENCES
from escalation.backtest.scores import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, SCORES, SUBSETS

_FONT = {"family": "Helvetica, Arial, sans-serif", "size": 13}
#: A colour per forecaster, the same in every figure.
COLORS = {"model": "#d73027", "icb": "#2166ac", "uniform": "#999999", "published": "#1b9e77"}
LABELS = {"model": "model", **{name: ref.label for name, ref in REFERENCES.items()}}
SUBSET_COLORS = {"all": "#333333", "before_outcome": "#e08214"}


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font=_FONT,
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 80, "b": 60},
    )
    return fig


def reliability_figure(bins: dict[str, pd.DataFrame], table: pd.DataFrame) -> go.Figure:
    """Observed frequency of the yes/no event against the forecast, by probability bin.

    One series per forecaster (bins with a 95% Wilson interval, marker area by number of
    cases), the diagonal of perfect reliability, and each case's model forecast as a tick at
    0 (did not happen) or 1 (happened).
    """
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            line={"color": "#bbbbbb", "dash": "dash"},
            name="perfectly reliable",
            hoverinfo="skip",
        )
    )
    for name, frame in bins.items():
        if frame.empty:
            continue
        n = frame["n"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=frame["forecast"],
                y=frame["observed"],
                mode="markers",
                name=LABELS.get(name, name),
                marker={
                    "color": COLORS.get(name, "#666666"),
                    "size": 8 + 18 * np.sqrt(n / max(n.max(), 1)),
                    "line": {"color": "white", "width": 1},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": (frame["hi"] - frame["observed"]).clip(lower=0),
                    "arrayminus": (frame["observed"] - frame["lo"]).clip(lower=0),
                    "color": COLORS.get(name, "#666666"),
                    "thickness": 1,
                },
                customdata=np.column_stack([n, frame["bin_lo"], frame["bin_hi"]]),
                hovertemplate=(
                    "forecasts %{customdata[1]:.0%}–%{customdata[2]:.0%}: %{customdata[0]} cases"
                    "<br>mean forecast %{x:.1%}<br>happened %{y:.0%}<extra></extra>"
                ),
            )
        )
    happened = table["happened"].to_numpy(float)
    fig.add_trace(
        go.Scatter(
            x=table["model_p_event"],
            y=np.where(happened == 1, 1.03, -0.03),
            mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": COLORS["model"]},
            name="model, each case",
            text=table["name"],
            hovertemplate="%{text}: %{x:.1%}<extra></extra>",
        )
    )
    _layout(fig, "Reliability: did the event (or a graver outcome) happen within the horizon?", 520)
    fig.update_xaxes(title_text="forecast probability", range=[-0.02, 1.02], tickformat=".0%")
    fig.update_yaxes(title_text="share that happened", range=[-0.08, 1.08], tickformat=".0%")
    return fig


def case_scores_figure(table: pd.DataFrame) -> go.Figure:
    """Each case's four scores, the model's beside each reference's (lower is better)."""
    names = list(SCORES)
    fig = make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        subplot_titles=[SCORES[s].description for s in names],
        vertical_spacing=0.07,
    )
    cases = table["name"].astype(str).tolist()
    shown: set[str] = set()
    for row, score in enumerate(names, start=1):
        for forecaster in ("model", *REFERENCES):
            if f"{forecaster}_{score}" not in table.columns:
                continue
            values = table[f"{forecaster}_{score}"].to_numpy(float)
            if np.all(np.isnan(values)):
                continue
            fig.add_trace(
                go.Bar(
                    x=cases,
                    y=values,
                    name=LABELS[forecaster],
                    legendgroup=forecaster,
                    showlegend=forecaster not in shown,
                    marker_color=COLORS[forecaster],
                    hovertemplate=f"%{{x}}<br>{LABELS[forecaster]}: %{{y:.3f}}<extra></extra>",
                ),
                row=row,
                col=1,
            )
            shown.add(forecaster)
    _layout(fig, "Each case's scores beside the references (lower is better)", 260 * len(names))
    fig.update_layout(barmode="group", legend={"x": 1.01, "y": 1, "yanchor": "top"})
    fig.update_annotations(font_size=12)
    return fig


def skill_figure(skill: pd.DataFrame) -> go.Figure:
    """Skill scores 1 - S_model / S_reference with bootstrap intervals, by subset of cases."""
    fig = go.Figure()
    fig.add_vline(x=0, line={"color": "#888888", "dash": "dot"})
    pairs = list(dict.fromkeys(zip(skill["reference"], skill["score"], strict=True)))
    position = {pair: index for index, pair in enumerate(pairs)}
    shift = {"all": -0.15, "before_outcome": 0.15}
    for subset, label in SUBSETS.items():
        part = skill[skill["subset"] == subset]
        if part.empty:
            continue
        y = [
            position[pair] + shift[subset]
            for pair in zip(part["reference"], part["score"], strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=part["skill"],
                y=y,
                mode="markers",
                name=label,
                marker={"color": SUBSET_COLORS[subset], "size": 10},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": (part["hi"] - part["skill"]).clip(lower=0),
                    "arrayminus": (part["skill"] - part["lo"]).clip(lower=0),
                    "color": SUBSET_COLORS[subset],
                },
                customdata=np.column_stack([part["cases"], part["lo"], part["hi"]]),
                hovertemplate=(
                    f"{label}<br>skill %{{x:.2f}} (%{{customdata[1]:.2f}} to "
                    "%{customdata[2]:.2f})<br>%{customdata[0]} cases<extra></extra>"
                ),
            )
        )
    height = 180 + 40 * max(len(pairs), 1)
    _layout(fig, "Skill of the model over each reference (0: no better; 1: perfect)", height)
    fig.update_xaxes(title_text="skill score 1 − S_model / S_reference", zeroline=False)
    fig.update_yaxes(
        tickvals=list(range(len(pairs))),
        ticktext=[f"vs {LABELS[r]} · {SCORES[s].label}" for r, s in pairs],
        autorange="reversed",
        showgrid=False,
    )
    fig.update_layout(legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0})
    return fig


def _case_columns(table: pd.DataFrame) -> pd.DataFrame:
    shown = [
        "name",
        "date",
        "written_after_outcome",
        "event",
        "outcome",
        "happened",
        "model_p_outcome",
        "model_p_event",
        "icb_p_event",
        "published_p_event",
        "model_brier",
        "icb_brier",
        "uniform_brier",
        "model_binary_brier",
        "icb_binary_brier",
        "uniform_binary_brier",
        "published_binary_brier",
    ]
    return table[[c for c in shown if c in table.columns]]


def write_backtest_report(
    path: str | Path,
    table: pd.DataFrame,
    skill: pd.DataFrame,
    reliability: Mapping[str, pd.DataFrame],
    title: str,
    source: str,
    warnings: Sequence[str] = (),
    icb: Mapping[str, Any] | None = None,
) -> Path:
    """Write a backtest's self-contained HTML report.

    Args:
        path: the HTML file.
        table: one row per case (as ``backtest.csv``).
        skill: the skill scores (see :func:`escalation.backtest.runner.skill_table`).
        reliability: reliability bins by forecaster.
        title: the page's title.
        source: the casebook and its outcomes file, in words.
        warnings: sources dated after their case's date.
        icb: provenance of the ICB tables.
    """
    n = len(table)
    before = int((~table["written_after_outcome"].astype(bool)).sum())
    items = [
        (
            "Reliability of the yes/no forecasts",
            reliability_figure(dict(reliability), table),
            "Each case asks whether its event (or a graver violent outcome) happens within its "
            "horizon. Forecasts are grouped in bins of 20 points; a point shows the bin's mean "
            "forecast and the share of its cases where the event happened (95% Wilson "
            "interval; marker area by the number of cases). Ticks at the top and bottom are the "
            f"model's forecast for each case. With {n} cases the bins are sparse.",
        ),
        (
            "Each case's scores",
            case_scores_figure(table),
            "Brier and log scores of the model and of each reference, case by case. The log "
            "score floors every probability at 1/(2 trials) of the case, for every forecaster.",
        ),
    ]
    if not skill.empty:
        items.append(
            (
                "Skill over the references",
                skill_figure(skill),
                "Skill score 1 − mean(S_model) / mean(S_reference) over the cases where the "
                "reference gives a forecast: 1 is perfect, 0 no better than the reference, "
                f"below 0 worse. Intervals: 95% percentile bootstrap over cases "
                f"({BOOTSTRAP_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED}).",
            )
        )
    subsets = (
        f"{before} of the {n} cases were written before their outcome was known; scores over "
        "them are given apart."
        if before
        else f"All {n} cases were written by authors who knew how the crisis ended (the date "
        "rule limits what a case cites, not what its author knows): no score over cases written "
        "before their outcome can be given."
    )
    intro = [
        f"Backtest of {source}: {n} cases, each played as escalation run plays it and scored "
        "against the recorded outcome, beside three references: the ICB base rate for the "
        "case's trigger (crises ended before the case's date), the uniform forecast, and a "
        "forecast published on or before the case's date where the case records one.",
        subsets,
    ]
    if warnings:
        intro.append(
            f"{len(warnings)} source(s) are dated after their case's date (hindsight; listed "
            "in run.json); published forecasts among them are not used."
        )
    tables = [
        ("Cases", _case_columns(table), "Every column, for every case, is in backtest.csv."),
        ("Skill scores", skill),
    ]
    if icb:
        tables.append(
            ("ICB data", pd.DataFrame({"": list(icb), "value": [str(v) for v in icb.values()]}))
        )
    return charts.write_report(path, title, items, tables, intro=intro)
