"""Plotly figures for the results of an ``escalation`` run.

Every function takes one of the small DataFrames produced by
:mod:`escalation.analysis` (or the engine's ``timeline``) and returns a
:class:`plotly.graph_objects.Figure`; nothing here computes statistics or
touches the model. The conventions of :mod:`escalation.charts.style` hold in every figure:
one colour per outcome, labels for people (handed in as mappings; identifiers are only the
fallback), calendar dates on time axes when a start date is given, intervals drawn (error
bars or bands) rather than left to hovering, and one legend per panel.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from escalation.charts.style import (
    COOL_COLORS,
    NEUTRAL_ANCHORS,
    TYPE_COLOR,
    WARM_ANCHORS,
    base_layout,
    label_of,
    lower_first,
    outcome_colors,
    percent_range,
    ramp,
    time_axis,
    translucent,
    wrapped,
)

__all__ = [
    "cumulative_figure",
    "drivers_figure",
    "outcome_colors",
    "outcome_figure",
    "survival_figure",
    "timeline_figure",
]

_PERCENT = ".1%"
#: Most factors a drivers chart shows (the table in the report lists all of them).
MAX_DRIVERS = 15


def _error(lo: np.ndarray, value: np.ndarray, hi: np.ndarray) -> dict:
    return {
        "type": "data",
        "symmetric": False,
        "array": np.clip(hi - value, 0.0, None),
        "arrayminus": np.clip(value - lo, 0.0, None),
        "color": "#333333",
        "thickness": 1.2,
        "width": 4,
    }


def outcome_figure(
    summary: pd.DataFrame,
    violent: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "How the crisis ends",
    labels: Mapping[str, str] | None = None,
    base_rates: Mapping[str, tuple[float, str]] | None = None,
) -> go.Figure:
    """Bar chart of outcome probabilities with their intervals as error bars.

    ``summary`` is the frame from :func:`escalation.analysis.outcome_summary`
    (columns ``outcome, count, probability, lo, hi``); bars keep its row order and are
    labelled with ``labels`` (outcome -> label). Probabilities are printed on the bars.
    ``base_rates`` (outcome -> ``(share, source)``) adds a marker per recorded base rate
    beside the model's share. Colours come from ``colors`` or ``outcome_colors``.
    """
    names = [str(o) for o in summary["outcome"]]
    shown = [wrapped(label_of(o, labels), 20) for o in names]
    palette = dict(colors) if colors is not None else outcome_colors(names, violent)
    p = summary["probability"].to_numpy(dtype=float)
    lo = summary["lo"].to_numpy(dtype=float)
    hi = summary["hi"].to_numpy(dtype=float)
    counts = (
        summary["count"].to_numpy() if "count" in summary.columns else np.zeros(len(names), int)
    )
    fig = go.Figure(
        go.Bar(
            x=shown,
            y=p,
            marker_color=[palette.get(o, "#888888") for o in names],
            error_y=_error(lo, p, hi),
            text=[f"{v:.1%}" for v in p],
            textposition="outside",
            cliponaxis=False,
            customdata=np.column_stack([lo, hi, counts]),
            hovertemplate=(
                "<b>%{x}</b><br>probability %{y:.1%}<br>"
                "interval %{customdata[0]:.1%} – %{customdata[1]:.1%}<br>"
                "trials %{customdata[2]}<extra></extra>"
            ),
            name="model",
        )
    )
    top = float(np.max(hi)) if hi.size else 1.0
    rates = {o: v for o, v in (base_rates or {}).items() if o in names}
    if rates:
        fig.add_trace(
            go.Scatter(
                x=[shown[names.index(o)] for o in rates],
                y=[share for share, _ in rates.values()],
                mode="markers+text",
                marker={"symbol": "line-ew", "size": 34, "line": {"width": 3, "color": "#111"}},
                text=[f"base rate {share:.0%}" for share, _ in rates.values()],
                textposition="middle right",
                cliponaxis=False,  # the last bar's text may run into the margin
                customdata=[source for _, source in rates.values()],
                hovertemplate="<b>%{x}</b><br>base rate %{y:.1%}<br>%{customdata}<extra></extra>",
                name="base rate (recorded in the scenario)",
            )
        )
        top = max(top, *(share for share, _ in rates.values()))
    base_layout(fig, title, 460)
    fig.update_layout(
        margin={"r": 90 if rates else 30},
        showlegend=bool(rates),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    )
    fig.update_xaxes(title_text="outcome")
    fig.update_yaxes(
        title_text="probability (share of trials)",
        tickformat=".0%",
        range=[0.0, min(1.05, max(0.1, top * 1.15))],
    )
    return fig


def _split_rungs(columns: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """``rung:<decider>:<rung>`` columns by decider, as ``(column, rung)`` in column order."""
    panels: dict[str, list[tuple[str, str]]] = {}
    for column in map(str, columns):
        kind, decider, rung = [*column.split(":", 2), "", ""][:3]
        if kind == "rung" and rung:
            panels.setdefault(decider, []).append((column, rung))
    return panels


def timeline_figure(
    timeline: pd.DataFrame,
    violent: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "Trajectory of the crisis",
    labels: Mapping[str, str] | None = None,
    rung_labels: Mapping[str, str] | None = None,
    rung_outcomes: Mapping[str, str] | None = None,
    deciders: Mapping[str, str] | None = None,
    start: datetime.date | None = None,
) -> go.Figure:
    """Stacked shares over time: where each decider stands, and the provisional outcomes.

    ``timeline`` has a ``day`` column and share columns ``rung:<decider>:<rung>``,
    ``ended:<name>`` and ``outcome:<outcome>``. One panel
    per decider stacks the ``ended:`` shares and that decider's ``rung:`` shares (peaceful
    endings at the bottom, live rungs in ladder order, violent endings on top); the last panel
    stacks the ``outcome:`` shares: how trials would be classified if the horizon were that
    day. Each panel has its own legend. A live rung that defines an outcome
    (``rung_outcomes``) takes that outcome's colour; other rungs a grey ramp.
    ``labels``/``rung_labels``/``deciders`` map outcome names, rung ids and decider keys to
    labels; ``start`` puts calendar dates on the time axis.
    """
    ended_cols = [c for c in timeline.columns if str(c).startswith("ended:")]
    outcome_cols = [c for c in timeline.columns if str(c).startswith("outcome:")]
    outcome_names = [str(c).split(":", 1)[1] for c in outcome_cols]
    palette = dict(colors) if colors is not None else outcome_colors(outcome_names, violent)
    hot = {str(v) for v in violent} if violent is not None else set(outcome_names[3:])
    rung_outcomes = dict(rung_outcomes or {})
    panels = _split_rungs(timeline.columns) or {"": []}
    ended_calm = [c for c in ended_cols if str(c).split(":", 1)[1] not in hot]
    ended_hot = [c for c in ended_cols if str(c).split(":", 1)[1] in hot]

    titles = []
    for decider in panels:
        who = f": {label_of(decider, deciders)}" if decider else ""
        titles.append(f"Where the crisis stands{who} (live rung, or how it ended)")
    titles.append("Provisional outcome if the crisis were scored that day")
    rows = len(titles)
    fig = make_subplots(
        rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.09, subplot_titles=titles
    )
    x, axis_title, hover_x = time_axis(timeline["day"].to_numpy(), start)
    legends: list[str] = []
    for row, (_decider, rungs) in enumerate(panels.items(), start=1):
        legend = "legend" if row == 1 else f"legend{row}"
        legends.append(legend)
        plain = [r for _, r in rungs if r not in rung_outcomes and r not in palette]
        greys = dict(zip(plain, ramp(NEUTRAL_ANCHORS, len(plain)), strict=True))
        series = [(c, "ended", str(c).split(":", 1)[1]) for c in ended_calm]
        series += [(c, "rung", r) for c, r in rungs]
        series += [(c, "ended", str(c).split(":", 1)[1]) for c in ended_hot]
        for i, (column, kind, name) in enumerate(series):
            if kind == "ended":
                label = (
                    "ended after violence"
                    if name == "after_violence"
                    else f"ended: {lower_first(label_of(name, labels))}"
                )
                color = palette.get(name, "#6f4e37" if name == "after_violence" else "#999999")
            else:
                label = f"at {lower_first(label_of(name, rung_labels))}"
                outcome = rung_outcomes.get(name, name)
                color = palette.get(outcome) or greys.get(name) or COOL_COLORS[i % 8]
            trace = _area(x, timeline[column], label, color, hover_x)
            trace.update(stackgroup=f"state{row}", legend=legend)
            fig.add_trace(trace, row=row, col=1)
    legend = f"legend{rows}"
    legends.append(legend)
    for column, name in zip(outcome_cols, outcome_names, strict=True):
        trace = _area(
            x, timeline[column], label_of(name, labels), palette.get(name, "#999"), hover_x
        )
        trace.update(stackgroup="outcome", legend=legend)
        fig.add_trace(trace, row=rows, col=1)
    base_layout(fig, title, 380 * rows + 80)
    fig.update_layout(hovermode="x unified", margin={"r": 230})
    for row, name in enumerate(legends, start=1):
        axis = fig.layout["yaxis" if row == 1 else f"yaxis{row}"]
        top = axis.domain[1]
        fig.update_layout(
            {
                name: {
                    "x": 1.02,
                    "xanchor": "left",
                    "y": top,
                    "yanchor": "top",
                    "traceorder": "reversed",
                    "font": {"size": 11},
                }
            }
        )
    fig.update_xaxes(title_text=axis_title, row=rows, col=1)
    fig.update_yaxes(title_text="share of trials", tickformat=".0%", range=[0.0, 1.0])
    return fig


def _area(x, values: pd.Series, name: str, color: str, hover_x: str) -> go.Scatter:
    return go.Scatter(
        x=x,
        y=values.to_numpy(dtype=float),
        name=name,
        mode="lines",
        line={"width": 0.5, "color": color},
        fillcolor=color,
        hovertemplate=f"{name}: %{{y:{_PERCENT}}}<extra></extra>",
    )


def survival_figure(
    survival_df: pd.DataFrame,
    label: str,
    color: str = "#d73027",
    title: str | None = None,
    start: datetime.date | None = None,
) -> go.Figure:
    """Step curve of the share of trials that have not yet reached ``label``, with its band.

    ``survival_df`` is the frame from :func:`escalation.analysis.survival`
    (columns ``day, surviving, lo, hi``).  Three traces: the lower and upper
    edges of the Wilson band (shaded between them) and the step line. The y axis is fitted to
    the curve's range, so a curve between 87% and 100% does not look flat.
    """
    x, axis_title, hover_x = time_axis(survival_df["day"].to_numpy(), start)
    lo = survival_df["lo"].to_numpy(dtype=float)
    hi = survival_df["hi"].to_numpy(dtype=float)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=lo,
            mode="lines",
            line={"width": 0, "shape": "hv", "color": color},
            name="interval (lower)",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=hi,
            mode="lines",
            line={"width": 0, "shape": "hv", "color": color},
            fill="tonexty",
            fillcolor=translucent(color, 0.22),
            name="95% band",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=survival_df["surviving"].to_numpy(dtype=float),
            mode="lines",
            line={"width": 2.2, "shape": "hv", "color": color},
            name=f"not yet {label}",
            customdata=np.column_stack([survival_df["day"].to_numpy(), lo, hi]),
            hovertemplate=(
                f"{hover_x} (day %{{customdata[0]}})<br>not yet reached: %{{y:.1%}}<br>"
                "interval %{customdata[1]:.1%} – %{customdata[2]:.1%}<extra></extra>"
            ),
        )
    )
    base_layout(fig, title or f"Share of trials that have not reached {label}", 440)
    fig.update_layout(
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right"}
    )
    fig.update_xaxes(title_text=axis_title)
    low = float(np.min(lo)) if lo.size else 0.0
    fig.update_yaxes(
        title_text="share not yet reached", tickformat=".0%", range=percent_range(low, 1.0)
    )
    return fig


def cumulative_figure(
    curves: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "Chance of having reached each violent rung, by date",
    start: datetime.date | None = None,
) -> go.Figure:
    """P(reached each violent rung or a higher one by each day), with 95% bands.

    ``curves`` is the frame from :func:`escalation.analysis.cumulative_incidence` (columns
    ``outcome, day, reached, lo, hi``). One line and one band per outcome, in its colour.
    """
    names = list(dict.fromkeys(curves["outcome"].astype(str)))
    palette = dict(colors) if colors is not None else outcome_colors(names, names)
    fig = go.Figure()
    top = 0.0
    for name in names:
        rows = curves[curves["outcome"].astype(str) == name]
        x, axis_title, hover_x = time_axis(rows["day"].to_numpy(), start)
        color = palette.get(name, "#d73027")
        label = label_of(name, labels)
        lo = rows["lo"].to_numpy(dtype=float)
        hi = rows["hi"].to_numpy(dtype=float)
        top = max(top, float(hi.max(initial=0.0)))
        fig.add_trace(
            go.Scatter(
                x=list(x) + list(x)[::-1],
                y=np.concatenate([hi, lo[::-1]]),
                fill="toself",
                fillcolor=translucent(color, 0.2),
                line={"width": 0, "shape": "hv"},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=rows["reached"].to_numpy(dtype=float),
                mode="lines",
                line={"width": 2.2, "shape": "hv", "color": color},
                name=label,
                legendgroup=name,
                customdata=np.column_stack([rows["day"].to_numpy(), lo, hi]),
                hovertemplate=(
                    f"<b>{label}</b><br>{hover_x} (day %{{customdata[0]}})<br>"
                    "reached by then: %{y:.1%}<br>"
                    "interval %{customdata[1]:.1%} – %{customdata[2]:.1%}<extra></extra>"
                ),
            )
        )
    base_layout(fig, title, 460)
    fig.update_layout(legend={"title": {"text": "reached, or a higher rung"}})
    fig.update_xaxes(title_text=axis_title if names else "day of the crisis")
    fig.update_yaxes(
        title_text="share of trials (cumulative)",
        tickformat=".0%",
        range=[0.0, min(1.0, max(0.02, top * 1.12))],
    )
    return fig


def _percent_decimals(half_range: float) -> int:
    """Decimals a percent axis over ``[-half_range, half_range]`` needs for distinct ticks."""
    step = 100 * half_range / 2  # plotly puts two or three ticks a side
    return int(min(3, max(0, math.ceil(-math.log10(step))))) if step > 0 else 0


def _factor_text(row: pd.Series, labels: Mapping[str, str] | None) -> str:
    name = label_of(str(row["factor"]), labels)
    if row.get("kind") == "type":
        return f"{name}: {row['high']} vs {row['low']}"
    return name


def drivers_figure(
    drivers_df: pd.DataFrame,
    outcome: str,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
    top: int = MAX_DRIVERS,
) -> go.Figure:
    """What drives ``outcome``: the top-minus-bottom-third effect beside the PAWN index.

    ``drivers_df`` is the frame from :func:`escalation.analysis.drivers` (older frames with a
    ``parameter`` column and no PAWN index give the left panel only). Left: the change in
    P(``outcome``) from a parameter's bottom third to its top third (for a type: from the type
    where it is rarest to the one where it is likeliest), with its interval as error bars;
    types are drawn in their own colour. Right: the PAWN index, with the noise floor (a dummy
    factor) as a dashed line. The ``top`` factors with the largest effects are shown, largest
    at the top; ``labels`` maps factor columns to labels.
    """
    frame = drivers_df.rename(columns={"parameter": "factor"}).copy()
    noise = frame[frame.get("kind", pd.Series("", index=frame.index)) == "noise"]
    frame = frame[frame.get("kind", pd.Series("", index=frame.index)) != "noise"]
    frame = frame.iloc[np.argsort(-np.abs(frame["difference"].to_numpy(float)), kind="stable")]
    frame = frame.head(top).iloc[::-1]  # plotly draws the first category at the bottom
    names = [_factor_text(row, labels) for _, row in frame.iterrows()]
    diff = frame["difference"].to_numpy(dtype=float)
    lo = frame["lo"].to_numpy(dtype=float)
    hi = frame["hi"].to_numpy(dtype=float)
    kinds = frame["kind"].tolist() if "kind" in frame else ["parameter"] * len(frame)
    has_pawn = "pawn" in frame.columns
    fig = make_subplots(
        rows=1,
        cols=2 if has_pawn else 1,
        shared_yaxes=True,
        column_widths=[0.62, 0.38] if has_pawn else None,
        horizontal_spacing=0.03,
        subplot_titles=(
            ("Change in probability, top vs bottom third", "Global index (PAWN)")
            if has_pawn
            else None
        ),
    )
    colors = [
        TYPE_COLOR if k == "type" else (WARM_ANCHORS[2] if d > 0 else COOL_COLORS[0])
        for k, d in zip(kinds, diff, strict=True)
    ]
    custom = np.column_stack(
        [lo, hi, frame["p_low"].to_numpy(float), frame["p_high"].to_numpy(float)]
    )
    fig.add_trace(
        go.Bar(
            x=diff,
            y=names,
            orientation="h",
            marker_color=colors,
            error_x=_error(lo, diff, hi),
            customdata=custom,
            hovertemplate=(
                "<b>%{y}</b><br>change %{x:+.1%} (interval %{customdata[0]:+.1%} – "
                "%{customdata[1]:+.1%})<br>P low %{customdata[2]:.1%}, "
                "P high %{customdata[3]:.1%}<extra></extra>"
            ),
            name="change in probability",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    # Each value is printed beyond the end of its interval, where no error bar covers it.
    rising = diff >= 0
    fig.add_trace(
        go.Scatter(
            x=np.where(rising, hi, lo),
            y=names,
            mode="text",
            text=[f" {d:+.1%} " for d in diff],
            textposition=["middle right" if up else "middle left" for up in rising],
            cliponaxis=False,
            hoverinfo="skip",
            name="change (printed)",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if has_pawn:
        fig.add_trace(
            go.Bar(
                x=frame["pawn"].to_numpy(float),
                y=names,
                orientation="h",
                marker_color=[TYPE_COLOR if k == "type" else "#878787" for k in kinds],
                hovertemplate="<b>%{y}</b><br>PAWN index %{x:.3f}<extra></extra>",
                name="PAWN index",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
        if len(noise):
            floor = float(noise["pawn"].iloc[0])
            fig.add_vline(
                x=floor,
                line={"dash": "dash", "color": "#444", "width": 1.2},
                annotation_text="noise floor",
                annotation_position="bottom right",
                annotation_font_size=11,
                row=1,
                col=2,
            )
        fig.update_xaxes(
            title_text="median KS distance", rangemode="tozero", tickformat=".2g", row=1, col=2
        )
    span = float(np.max(np.abs(np.concatenate([lo, hi, [0.01]]))))
    base_layout(
        fig,
        title or f"What drives {outcome}",
        max(320, 130 + 30 * len(frame)),
    )
    fig.update_layout(showlegend=False, margin={"l": 260})
    fig.update_xaxes(
        title_text=f"change in P({outcome})",
        tickformat=f"+.{_percent_decimals(span * 1.3)}%",
        zeroline=True,
        zerolinecolor="#444444",
        range=[-span * 1.3, span * 1.3],
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text="factor", automargin=True, row=1, col=1)
    return fig
