"""Plotly figures for the results of an ``escalation`` run.

Every function takes one of the small DataFrames produced by
:mod:`escalation.analysis` (or the engine's ``timeline``) and returns a
:class:`plotly.graph_objects.Figure`; nothing here computes statistics or
touches the model.

Colours are consistent across figures and deterministic: :func:`outcome_colors`
maps an *ordered* outcome list to colours, giving the non-violent endings
(settlements, stand-downs, standoffs) cool colours and the violent outcomes a
warm ramp that darkens with severity.  Pass the same ``violent`` list (or the
same ``colors`` mapping) to every figure to keep them in step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "drivers_figure",
    "outcome_colors",
    "outcome_figure",
    "survival_figure",
    "timeline_figure",
]

#: Cool colours for non-violent outcomes, used in order (and cycled if needed).
COOL_COLORS: tuple[str, ...] = (
    "#2166ac",
    "#1b9e77",
    "#7570b3",
    "#4393c3",
    "#66a61e",
    "#5e3c99",
    "#35978f",
    "#92c5de",
)
#: Anchors of the warm ramp for violent outcomes, least to most severe.
WARM_ANCHORS: tuple[str, ...] = ("#fdb863", "#f46d43", "#d73027", "#a50026", "#67001f")
#: Anchors of the neutral ramp for live ladder rungs that are not outcomes.
NEUTRAL_ANCHORS: tuple[str, ...] = ("#e0e0e0", "#bababa", "#878787", "#4d4d4d")

_FONT = {"family": "Helvetica, Arial, sans-serif", "size": 13}
_PERCENT = ".1%"


def _hex_to_rgb(color: str) -> np.ndarray:
    value = color.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


def _ramp(anchors: Sequence[str], count: int, start: float = 0.0, stop: float = 1.0) -> list[str]:
    """``count`` colours evenly spaced along the piecewise-linear ramp through ``anchors``."""
    if count <= 0:
        return []
    rgb = np.array([_hex_to_rgb(c) for c in anchors])
    positions = np.linspace(0.0, 1.0, len(anchors))
    ts = np.array([(start + stop) / 2.0]) if count == 1 else np.linspace(start, stop, count)
    out = []
    for t in ts:
        channel = [np.interp(t, positions, rgb[:, j]) for j in range(3)]
        out.append("#{:02x}{:02x}{:02x}".format(*(round(c) for c in channel)))
    return out


def outcome_colors(outcomes: Sequence[str], violent: Sequence[str] | None = None) -> dict[str, str]:
    """Deterministic colour for each outcome name.

    ``outcomes`` is the scenario's ordered outcome list (least to most severe).
    Names in ``violent`` get a warm ramp from orange to dark red in the order
    they appear in ``outcomes``; the others get distinct cool colours in order.
    The mapping is returned in the order of ``outcomes``.
    Without ``violent`` the first ``len(outcomes) // 2`` outcomes are treated as
    non-violent and the rest as violent – a heuristic for severity-ordered
    lists; pass ``violent`` whenever it is known.
    """
    names = [str(o) for o in outcomes]
    hot_names = names[len(names) // 2 :] if violent is None else [str(v) for v in violent]
    violent_set = set(hot_names)
    calm = [o for o in names if o not in violent_set]
    hot = [o for o in names if o in violent_set]
    colors = {o: COOL_COLORS[i % len(COOL_COLORS)] for i, o in enumerate(calm)}
    colors.update(dict(zip(hot, _ramp(WARM_ANCHORS, len(hot), 0.0, 1.0), strict=True)))
    return {o: colors[o] for o in names}


def _base_layout(fig: go.Figure, title: str, height: int) -> None:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font=_FONT,
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        legend={"traceorder": "normal"},
    )


def outcome_figure(
    summary: pd.DataFrame,
    violent: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "How the crisis ends",
) -> go.Figure:
    """Bar chart of outcome probabilities with asymmetric interval error bars.

    ``summary`` is the frame from :func:`escalation.analysis.outcome_summary`
    (columns ``outcome, count, probability, lo, hi``); bars keep its row order.
    Probabilities are shown as percentages on the bars and on hover.  Colours
    come from ``colors`` or else ``outcome_colors(summary.outcome, violent)``.
    One trace.
    """
    names = [str(o) for o in summary["outcome"]]
    palette = dict(colors) if colors is not None else outcome_colors(names, violent)
    p = summary["probability"].to_numpy(dtype=float)
    lo = summary["lo"].to_numpy(dtype=float)
    hi = summary["hi"].to_numpy(dtype=float)
    counts = (
        summary["count"].to_numpy() if "count" in summary.columns else np.zeros(len(names), int)
    )
    fig = go.Figure(
        go.Bar(
            x=names,
            y=p,
            marker_color=[palette.get(o, "#888888") for o in names],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": np.clip(hi - p, 0.0, None),
                "arrayminus": np.clip(p - lo, 0.0, None),
                "color": "#333333",
                "thickness": 1.2,
            },
            text=[f"{v:.1%}" for v in p],
            textposition="outside",
            cliponaxis=False,
            customdata=np.column_stack([lo, hi, counts]),
            hovertemplate=(
                "<b>%{x}</b><br>probability %{y:.1%}<br>"
                "interval %{customdata[0]:.1%} – %{customdata[1]:.1%}<br>"
                "trials %{customdata[2]}<extra></extra>"
            ),
            name="probability",
        )
    )
    _base_layout(fig, title, 460)
    top = float(np.max(hi)) if hi.size else 1.0
    fig.update_layout(showlegend=False)
    fig.update_xaxes(title_text="outcome")
    fig.update_yaxes(
        title_text="probability (share of trials)",
        tickformat=".0%",
        range=[0.0, min(1.05, max(0.1, top * 1.15))],
    )
    return fig


def _timeline_color(
    name: str, palette: Mapping[str, str], rung_colors: Mapping[str, str], fallback: int
) -> str:
    if name in palette:
        return palette[name]
    if name in rung_colors:
        return rung_colors[name]
    return COOL_COLORS[fallback % len(COOL_COLORS)]


def timeline_figure(
    timeline: pd.DataFrame,
    violent: Sequence[str] | None = None,
    colors: Mapping[str, str] | None = None,
    title: str = "Trajectory of the crisis",
) -> go.Figure:
    """Stacked shares over time: the crisis state (top) and provisional outcomes (bottom).

    ``timeline`` has a ``day`` column and share columns ``rung:<rung>``,
    ``ended:<name>`` and ``outcome:<outcome>``.  The top panel stacks the
    ``ended:`` and ``rung:`` shares (non-violent endings at the bottom, live
    rungs in ladder order above them, violent endings on top); the bottom
    panel stacks the ``outcome:`` shares – how the trials would be classified
    if the horizon were that day.  Colours: outcome names use
    ``colors``/``outcome_colors`` (built from the ``outcome:`` column order and
    ``violent``); live rungs that are not outcome names get a grey ramp by
    ladder position.  One trace per share column.
    """
    rung_cols = [c for c in timeline.columns if str(c).startswith("rung:")]
    ended_cols = [c for c in timeline.columns if str(c).startswith("ended:")]
    outcome_cols = [c for c in timeline.columns if str(c).startswith("outcome:")]
    outcome_names = [str(c).split(":", 1)[1] for c in outcome_cols]
    palette = dict(colors) if colors is not None else outcome_colors(outcome_names, violent)
    if violent is not None:
        hot = {str(v) for v in violent}
    else:
        hot = {o for o in outcome_names if o in palette and o not in _cool_names(palette)}
    rung_names = [str(c).split(":", 1)[1] for c in rung_cols]
    plain_rungs = [r for r in rung_names if r not in palette]
    rung_colors = dict(zip(plain_rungs, _ramp(NEUTRAL_ANCHORS, len(plain_rungs)), strict=True))

    ended_calm = [c for c in ended_cols if str(c).split(":", 1)[1] not in hot]
    ended_hot = [c for c in ended_cols if str(c).split(":", 1)[1] in hot]
    state_cols = ended_calm + rung_cols + ended_hot

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.1,
        subplot_titles=(
            "State of the crisis (live rung or how it ended)",
            "Provisional outcome if the crisis were scored that day",
        ),
    )
    days = timeline["day"].to_numpy()
    for i, column in enumerate(state_cols):
        kind, name = str(column).split(":", 1)
        label = f"ended: {name}" if kind == "ended" else f"at {name}"
        fig.add_trace(
            _area(days, timeline[column], label, _timeline_color(name, palette, rung_colors, i)),
            row=1,
            col=1,
        )
        fig.data[-1].update(stackgroup="state", legendgroup="state", legendgrouptitle_text="state")
    for i, (column, name) in enumerate(zip(outcome_cols, outcome_names, strict=True)):
        fig.add_trace(
            _area(days, timeline[column], name, _timeline_color(name, palette, {}, i)),
            row=2,
            col=1,
        )
        fig.data[-1].update(
            stackgroup="outcome", legendgroup="outcome", legendgrouptitle_text="outcome"
        )
    _base_layout(fig, title, 760)
    fig.update_layout(hovermode="x unified", legend={"groupclick": "toggleitem"})
    fig.update_xaxes(title_text="day of the crisis (days)", row=2, col=1)
    fig.update_yaxes(title_text="share of trials", tickformat=".0%", range=[0.0, 1.0])
    return fig


def _cool_names(palette: Mapping[str, str]) -> set[str]:
    return {name for name, color in palette.items() if color in COOL_COLORS}


def _area(days: np.ndarray, values: pd.Series, name: str, color: str) -> go.Scatter:
    return go.Scatter(
        x=days,
        y=values.to_numpy(dtype=float),
        name=name,
        mode="lines",
        line={"width": 0.5, "color": color},
        fillcolor=color,
        hovertemplate=f"{name}: %{{y:{_PERCENT}}}<extra></extra>",
    )


def survival_figure(
    survival_df: pd.DataFrame, label: str, color: str = "#d73027", title: str | None = None
) -> go.Figure:
    """Step curve of the share of trials that have not yet reached ``label``, with its band.

    ``survival_df`` is the frame from :func:`escalation.analysis.survival`
    (columns ``day, surviving, lo, hi``).  Three traces: the lower and upper
    edges of the Wilson band (shaded between them) and the step line.
    """
    days = survival_df["day"].to_numpy()
    band = _translucent(color, 0.18)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=days,
            y=survival_df["lo"].to_numpy(dtype=float),
            mode="lines",
            line={"width": 0, "shape": "hv", "color": color},
            name="interval (lower)",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=survival_df["hi"].to_numpy(dtype=float),
            mode="lines",
            line={"width": 0, "shape": "hv", "color": color},
            fill="tonexty",
            fillcolor=band,
            name="confidence band",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=survival_df["surviving"].to_numpy(dtype=float),
            mode="lines",
            line={"width": 2.2, "shape": "hv", "color": color},
            name=f"not yet {label}",
            customdata=survival_df[["lo", "hi"]].to_numpy(dtype=float),
            hovertemplate=(
                "day %{x}<br>not yet reached: %{y:.1%}<br>"
                "interval %{customdata[0]:.1%} – %{customdata[1]:.1%}<extra></extra>"
            ),
        )
    )
    _base_layout(fig, title or f"Share of trials that have not reached {label}", 440)
    fig.update_xaxes(title_text="day of the crisis (days)")
    fig.update_yaxes(title_text="probability not yet reached", tickformat=".0%", range=[0, 1.02])
    return fig


def _translucent(color: str, alpha: float) -> str:
    r, g, b = (int(v) for v in _hex_to_rgb(color))
    return f"rgba({r},{g},{b},{alpha})"


def drivers_figure(
    drivers_df: pd.DataFrame,
    outcome: str,
    title: str | None = None,
) -> go.Figure:
    """Tornado chart: how much each parameter's top third raises P(``outcome``).

    ``drivers_df`` is the frame from :func:`escalation.analysis.drivers`.  One
    horizontal-bar trace of ``difference`` (top third minus bottom third)
    with asymmetric error bars from ``lo``/``hi``; the largest absolute
    effect is drawn at the top.  Bars that raise the probability are warm,
    bars that lower it cool.
    """
    frame = drivers_df.copy()
    order = np.argsort(np.abs(frame["difference"].to_numpy(dtype=float)), kind="stable")
    frame = frame.iloc[order]  # smallest first: plotly draws the first category at the bottom
    diff = frame["difference"].to_numpy(dtype=float)
    lo = frame["lo"].to_numpy(dtype=float)
    hi = frame["hi"].to_numpy(dtype=float)
    extra = [c for c in ("spearman", "p_low", "p_high") if c in frame.columns]
    custom = np.column_stack([lo, hi] + [frame[c].to_numpy(dtype=float) for c in extra])
    hover = (
        "<b>%{y}</b><br>difference %{x:+.1%}<br>"
        "interval %{customdata[0]:+.1%} – %{customdata[1]:+.1%}"
    )
    for i, c in enumerate(extra, start=2):
        fmt = ".2f" if c == "spearman" else ".1%"
        hover += f"<br>{c} %{{customdata[{i}]:{fmt}}}"
    fig = go.Figure(
        go.Bar(
            x=diff,
            y=[str(p) for p in frame["parameter"]],
            orientation="h",
            marker_color=[WARM_ANCHORS[2] if d > 0 else COOL_COLORS[0] for d in diff],
            error_x={
                "type": "data",
                "symmetric": False,
                "array": np.clip(hi - diff, 0.0, None),
                "arrayminus": np.clip(diff - lo, 0.0, None),
                "color": "#333333",
                "thickness": 1.2,
            },
            customdata=custom,
            hovertemplate=hover + "<extra></extra>",
            name="difference",
        )
    )
    _base_layout(
        fig,
        title or f"What drives {outcome}: P(top third) − P(bottom third)",
        max(300, 120 + 34 * len(frame)),
    )
    fig.update_layout(showlegend=False)
    fig.update_xaxes(
        title_text=f"change in probability of {outcome} (top vs bottom third)",
        tickformat="+.0%",
        zeroline=True,
        zerolinecolor="#444444",
    )
    fig.update_yaxes(title_text="uncertain parameter", automargin=True)
    return fig
