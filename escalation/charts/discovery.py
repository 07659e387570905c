"""Figures and tables of scenario discovery (PRIM): the peeling trajectory and the box.

They read a :class:`~escalation.analysis.discovery.Discovery`; labels map input columns to
labels for people, and limits are printed in the inputs' own units.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from escalation.analysis.discovery import Discovery, qp_text
from escalation.charts.style import SERIES_COLORS, base_layout, label_of

__all__ = ["box_table", "discovery_figure"]


def _label(name: str, labels: Mapping[str, str] | None) -> str:
    return label_of(name, labels)


def _limit_text(lim) -> str:
    """A numeric limit without the input's name: ``≤ 0.28``, ``≥ 0.19`` or ``0.1 – 0.3``."""
    if lim.low is not None and lim.high is not None:
        return f"{lim.low:.4g} – {lim.high:.4g}"
    return f"≥ {lim.low:.4g}" if lim.low is not None else f"≤ {lim.high:.4g}"


def discovery_figure(
    found: Discovery,
    labels: Mapping[str, str] | None = None,
    what: str = "the outcome",
    title: str | None = None,
) -> go.Figure:
    """Left: the peeling trajectory (coverage against density), the chosen box marked.

    Right: the chosen box's limits on each restricted input, drawn on the input's full range
    scaled to 0-1 (grey) with the box's part in colour and the limits printed in the input's
    own units; a categorical input shows the categories it keeps.
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.45, 0.55],
        horizontal_spacing=0.2,
        subplot_titles=("Peeling trajectory", "The box's limits (box 1)"),
    )
    traj = found.trajectory
    if len(traj):
        fig.add_trace(
            go.Scatter(
                x=traj["coverage"],
                y=traj["density"],
                mode="lines+markers",
                marker={
                    "color": traj["restricted"],
                    "colorscale": "Viridis",
                    "size": 7,
                    "showscale": True,
                    "colorbar": {
                        "title": {"text": "inputs restricted", "side": "top"},
                        "orientation": "h",
                        "x": 0.2,
                        "xanchor": "center",
                        "y": -0.32,
                        "yanchor": "top",
                        "len": 0.38,
                        "thickness": 10,
                    },
                },
                line={"color": "#bbbbbb", "width": 1},
                customdata=np.column_stack([traj["step"], traj["mass"], traj["restricted"]]),
                hovertemplate=(
                    "step %{customdata[0]}<br>coverage %{x:.0%}<br>density %{y:.0%}<br>"
                    "mass %{customdata[1]:.0%}<br>%{customdata[2]} inputs restricted"
                    "<extra></extra>"
                ),
                name="trajectory",
                showlegend=False,
            ),
            row=1,
            col=1,
        )
    for i, box in enumerate(found.boxes):
        fig.add_trace(
            go.Scatter(
                x=[box.coverage],
                y=[box.density],
                mode="markers+text",
                marker={"symbol": "star", "size": 16, "color": SERIES_COLORS[(i + 2) % 8]},
                text=[f"box {i + 1}"],
                textposition="top left",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [box.density_hi - box.density],
                    "arrayminus": [box.density - box.density_lo],
                },
                name=f"box {i + 1}",
                showlegend=False,
                hovertemplate=f"box {i + 1}<br>coverage %{{x:.0%}}<br>density %{{y:.0%}}"
                "<extra></extra>",
            ),
            row=1,
            col=1,
        )
    fig.add_hline(
        y=found.base_density,
        line={"dash": "dot", "color": "#666"},
        annotation_text="overall",
        annotation_position="bottom left",
        row=1,
        col=1,
    )
    fig.update_xaxes(title_text="coverage", tickformat=".0%", range=[0, 1.03], row=1, col=1)
    fig.update_yaxes(title_text=f"density: {what}", tickformat=".0%", row=1, col=1)

    box = found.boxes[0] if found.boxes else None
    limits = list(box.limits) if box is not None else []
    names = [_label(lim.name, labels) for lim in limits][::-1]
    for row, lim in enumerate(limits[::-1]):
        name = names[row]
        if lim.categories is not None:
            kept = ", ".join(lim.categories)
            low, high, text = 0.0, 1.0, f"only {kept}"
        else:
            span = (lim.range_high or 0.0) - (lim.range_low or 0.0) or 1.0
            a = lim.low if lim.low is not None else lim.range_low
            b = lim.high if lim.high is not None else lim.range_high
            low, high = (a - lim.range_low) / span, (b - lim.range_low) / span
            text = _limit_text(lim)
        fig.add_trace(
            go.Bar(
                x=[1.0],
                y=[name],
                orientation="h",
                marker_color="#e5e5e5",
                hoverinfo="skip",
                showlegend=False,
                width=0.6,
            ),
            row=1,
            col=2,
        )
        fig.add_trace(
            go.Bar(
                x=[high - low],
                base=[low],
                y=[name],
                orientation="h",
                marker_color=SERIES_COLORS[2],
                text=[text],
                textposition="outside" if high - low < 0.5 else "inside",
                insidetextanchor="middle",
                hovertemplate=f"{name}: {lim.text(name)}<br>density without this limit "
                f"{lim.density_without:.0%}, qp {qp_text(lim.qp)}<extra></extra>",
                showlegend=False,
                width=0.6,
            ),
            row=1,
            col=2,
        )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(
        title_text="share of the input's range",
        range=[0, 1.45],
        tickvals=[0, 0.5, 1],
        ticktext=["min", "", "max"],
        row=1,
        col=2,
    )
    fig.update_yaxes(automargin=True, row=1, col=2)
    height = max(460, 200 + 46 * len(limits))
    base_layout(fig, title or f"Where is {what} high? (PRIM)", height)
    fig.update_layout(margin={"b": 130, "t": 100})
    return fig


def box_table(found: Discovery, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every box and restriction as text: limits in own units, full range, density without."""
    rows = []
    for i, box in enumerate(found.boxes, start=1):
        held = (
            f"{box.test_coverage:.0%} / {box.test_density:.0%}"
            if box.test_density is not None
            else "—"
        )
        summary = {
            "box": str(i),
            "coverage": f"{box.coverage:.0%}",
            "density": f"{box.density:.0%} ({box.density_lo:.0%}–{box.density_hi:.0%})",
            "held out: coverage / density": held,
        }
        if not box.limits:
            rows.append({**summary, "input": "—", "limit": "none", "full range": "—"})
        for lim in box.limits:
            full = (
                ", ".join(lim.all_categories or ())
                if lim.categories is not None
                else f"{lim.range_low:.4g} – {lim.range_high:.4g}"
            )
            name = _label(lim.name, labels)
            rows.append(
                {
                    **summary,
                    "input": name,
                    "limit": lim.text(name),
                    "full range": full,
                    "density without this limit": f"{lim.density_without:.0%}",
                    "qp": qp_text(lim.qp),
                }
            )
            summary = {k: "" for k in summary}
    return pd.DataFrame(rows).fillna("")
