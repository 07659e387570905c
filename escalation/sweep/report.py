"""Figures and the HTML report of a sweep, and of a comparison of scenarios.

The figure follows the design: lines with 95% bands for a sweep of one variable, heatmaps for
a grid of two, main effects and parallel coordinates for larger grids, bars for one-at-a-time
designs, a scatter matrix and parallel coordinates for Latin hypercubes, and index charts with
confidence bars for Sobol (S1, ST) and Morris (mu*, sigma) designs. The page itself is written
by :func:`escalation.charts.write_report`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from escalation import charts

#: A :class:`~escalation.sweep.runner.SweepResult` (not imported: the runner imports this module).
SweepResult = Any

_FONT = {"family": "Helvetica, Arial, sans-serif", "size": 13}
_COLORS = ("#2166ac", "#d73027", "#1b9e77", "#7570b3", "#e6ab02", "#66a61e", "#a6761d", "#666666")
#: Largest design whose points are listed as a table in the report.
MAX_TABLE_POINTS = 60
#: Most dimensions of a scatter matrix before it becomes unreadable.
MAX_SPLOM = 8


def _layout(fig: go.Figure, title: str, height: int = 460) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font=_FONT,
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
    )
    return fig


def _is_p(metric: str) -> bool:
    return metric.startswith("p:")


def _name(metric: str) -> str:
    kind, _, rest = metric.partition(":")
    rest = rest.replace("_", " ").replace("+", " or ")
    return {"p": f"P({rest})", "median_day": f"median day of {rest}", "mean": f"mean {rest}"}.get(
        kind, metric
    )


def _groups(metrics: Sequence[str]) -> list[list[str]]:
    """Probabilities share a chart (one scale); every other metric gets its own."""
    shares = [m for m in metrics if _is_p(m)]
    return ([shares] if shares else []) + [[m] for m in metrics if not _is_p(m)]


def _group_title(group: Sequence[str]) -> str:
    return "Probabilities" if _is_p(group[0]) else _name(group[0])


def _axis(group: Sequence[str]) -> dict[str, Any]:
    return {"tickformat": ".0%", "rangemode": "tozero"} if _is_p(group[0]) else {}


def _text(metric: str, value: float) -> str:
    if value != value:
        return "–"
    return f"{value:.1%}" if _is_p(metric) else f"{value:.3g}"


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _category(values: pd.Series) -> list[str]:
    return ["(scenario)" if v is pd.NA or v is None else _short(v) for v in values.tolist()]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


# ----------------------------------------------------------------------------- designs


def lines_figure(result: SweepResult, group: Sequence[str]) -> go.Figure:
    """A metric against the one variable of a sweep, with its 95% band."""
    name = result.design.names[0]
    frame = result.points
    factor = result.design.factors[0]
    numeric = factor.kind == "number"
    x = frame[name].to_numpy(dtype=float) if numeric else _category(frame[name])
    fig = go.Figure()
    for i, metric in enumerate(group):
        color = _COLORS[i % len(_COLORS)]
        y = frame[metric].to_numpy(dtype=float)
        lo = frame[f"{metric}:lo"].to_numpy(dtype=float)
        hi = frame[f"{metric}:hi"].to_numpy(dtype=float)
        if numeric:
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([hi, lo[::-1]]),
                    fill="toself",
                    fillcolor=_rgba(color, 0.18),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x, y=y, mode="lines+markers", name=_name(metric), line={"color": color}
                )
            )
        else:
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=y,
                    name=_name(metric),
                    marker_color=color,
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": hi - y,
                        "arrayminus": y - lo,
                    },
                )
            )
    fig.update_xaxes(title=result.labels.get(name, name))
    fig.update_yaxes(**_axis(group))
    return _layout(fig, _group_title(group))


def heatmap_figure(result: SweepResult, metric: str) -> go.Figure:
    """A metric over a grid of two variables, each cell labelled with its value."""
    first, second = result.design.names[:2]
    frame = result.points
    rows = list(dict.fromkeys(_category(frame[first])))
    cols = list(dict.fromkeys(_category(frame[second])))
    z = np.full((len(rows), len(cols)), np.nan)
    text = np.full((len(rows), len(cols)), "", dtype=object)
    hover = np.full((len(rows), len(cols)), "", dtype=object)
    for r_label, c_label, value, lo, hi in zip(
        _category(frame[first]),
        _category(frame[second]),
        frame[metric],
        frame[f"{metric}:lo"],
        frame[f"{metric}:hi"],
        strict=True,
    ):
        r, c = rows.index(r_label), cols.index(c_label)
        z[r, c] = value
        text[r, c] = _text(metric, value)
        hover[r, c] = (
            f"{first} = {r_label}<br>{second} = {c_label}<br>{_name(metric)} = "
            f"{_text(metric, value)} (95%: {_text(metric, lo)} – {_text(metric, hi)})"
        )
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            hovertext=hover,
            hoverinfo="text",
            colorscale="Reds",
            colorbar={"tickformat": ".0%"} if _is_p(metric) else {},
        )
    )
    fig.update_xaxes(title=result.labels.get(second, second), type="category")
    fig.update_yaxes(title=result.labels.get(first, first), type="category")
    return _layout(fig, _name(metric), height=520)


def main_effects_figure(result: SweepResult, group: Sequence[str]) -> go.Figure:
    """Each variable's main effect: a metric averaged over the other variables, per level."""
    names = result.design.names
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True)
    for j, name in enumerate(names):
        labels = _category(result.points[name])
        frame = result.points.assign(_level=labels)
        means = frame.groupby("_level", sort=False)[list(group)].mean()
        for i, metric in enumerate(group):
            fig.add_trace(
                go.Scatter(
                    x=list(means.index),
                    y=means[metric],
                    mode="lines+markers",
                    name=_name(metric),
                    line={"color": _COLORS[i % len(_COLORS)]},
                    showlegend=j == 0,
                ),
                row=1,
                col=j + 1,
            )
        fig.update_xaxes(title=result.labels.get(name, name), type="category", row=1, col=j + 1)
    fig.update_yaxes(**_axis(group))
    return _layout(fig, f"{_group_title(group)}: main effects")


def bars_figure(result: SweepResult, group: Sequence[str]) -> go.Figure:
    """One bar per point (one-at-a-time designs), with 95% error bars."""
    labels = result.design.labels()
    fig = go.Figure()
    frame = result.points
    for i, metric in enumerate(group):
        y = frame[metric].to_numpy(dtype=float)
        lo = frame[f"{metric}:lo"].to_numpy(dtype=float)
        hi = frame[f"{metric}:hi"].to_numpy(dtype=float)
        fig.add_trace(
            go.Bar(
                x=labels,
                y=y,
                name=_name(metric),
                marker_color=_COLORS[i % len(_COLORS)],
                text=[_text(metric, v) for v in y],
                textposition="outside",
                error_y={"type": "data", "symmetric": False, "array": hi - y, "arrayminus": y - lo},
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(**_axis(group))
    return _layout(fig, _group_title(group))


def _dimension(result: SweepResult, column: str) -> dict[str, Any]:
    values = result.points[column]
    label = result.labels.get(column, _name(column) if ":" in column else column)
    if values.dtype.kind in "fi":
        return {"label": label, "values": values.to_numpy(dtype=float)}
    labels = _category(values)
    levels = list(dict.fromkeys(labels))
    return {
        "label": label,
        "values": [levels.index(v) for v in labels],
        "tickvals": list(range(len(levels))),
        "ticktext": levels,
    }


def parallel_figure(result: SweepResult) -> go.Figure:
    """Parallel coordinates of the inputs and metrics, coloured by the first metric."""
    columns = [*result.design.names, *result.metrics]
    color = result.points[result.metrics[0]].to_numpy(dtype=float)
    fig = go.Figure(
        go.Parcoords(
            line={"color": color, "colorscale": "Reds", "showscale": True},
            dimensions=[_dimension(result, c) for c in columns],
        )
    )
    return _layout(fig, f"Every point, coloured by {_name(result.metrics[0])}", height=500)


def scatter_matrix_figure(result: SweepResult) -> go.Figure:
    """Scatter matrix of the inputs and metrics, coloured by the first metric."""
    columns = [*result.design.names, *result.metrics][:MAX_SPLOM]
    color = result.points[result.metrics[0]].to_numpy(dtype=float)
    dimensions = [
        {"label": result.labels.get(c, _name(c)), "values": result.points[c].to_numpy(dtype=float)}
        for c in columns
    ]
    fig = go.Figure(
        go.Splom(
            dimensions=dimensions,
            marker={"color": color, "colorscale": "Reds", "size": 5, "showscale": True},
            diagonal_visible=False,
            showupperhalf=False,
        )
    )
    return _layout(fig, "Inputs against metrics", height=160 * len(columns) + 120)


def sobol_figure(table: pd.DataFrame, metric: str, labels: dict[str, str]) -> go.Figure:
    """First-order (S1) and total (ST) Sobol indices with confidence bars, by ST."""
    rows = table[table["metric"] == metric].sort_values("ST", ascending=False)
    names = [labels.get(v, v) for v in rows["variable"]]
    fig = go.Figure()
    for key, color, title in (("S1", _COLORS[0], "first order S1"), ("ST", _COLORS[1], "total ST")):
        fig.add_trace(
            go.Bar(
                x=names,
                y=rows[key],
                name=title,
                marker_color=color,
                error_y={"type": "data", "array": rows[f"{key}_conf"]},
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(tickangle=-40)
    return _layout(fig, f"Sobol indices of {_name(metric)}", height=520)


def morris_figure(table: pd.DataFrame, metric: str, labels: dict[str, str]) -> go.Figure:
    """Morris mu* (mean absolute elementary effect) against sigma, with confidence bars."""
    rows = table[table["metric"] == metric]
    fig = go.Figure(
        go.Scatter(
            x=rows["mu_star"],
            y=rows["sigma"],
            mode="markers+text",
            text=[labels.get(v, v) for v in rows["variable"]],
            textposition="top center",
            error_x={"type": "data", "array": rows["mu_star_conf"]},
            marker={"color": _COLORS[1], "size": 9},
        )
    )
    fig.update_xaxes(title="mu* (mean |elementary effect|)", rangemode="tozero")
    fig.update_yaxes(
        title="sigma (spread of effects: interactions, nonlinearity)", rangemode="tozero"
    )
    return _layout(fig, f"Morris screening of {_name(metric)}", height=520)


# ----------------------------------------------------------------------------- report


def sweep_figures(result: SweepResult) -> list[tuple[str, go.Figure, str]]:
    """The figures that suit the sweep's design, as ``(heading, figure, note)``."""
    design = result.design
    groups = _groups(result.metrics)
    band = "Shaded: 95% intervals of each point (Wilson for probabilities)."
    items: list[tuple[str, go.Figure, str]] = []
    k = len(design.factors)
    if design.kind == "grid" and k == 1:
        for group in groups:
            items.append((_group_title(group), lines_figure(result, group), band))
    elif design.kind == "grid" and k == 2:
        for metric in result.metrics:
            items.append(
                (
                    _name(metric),
                    heatmap_figure(result, metric),
                    "Each cell is one point; hover for its 95% interval.",
                )
            )
    elif design.kind == "grid":
        for group in groups:
            items.append(
                (
                    f"{_group_title(group)}: main effects",
                    main_effects_figure(result, group),
                    "Each variable's levels, averaged over every combination of the others.",
                )
            )
        items.append(("Every point", parallel_figure(result), "Drag along an axis to filter."))
    elif design.kind == "oat":
        for group in groups:
            items.append(
                (
                    _group_title(group),
                    bars_figure(result, group),
                    "Baseline: the scenario as written; each other bar changes one variable "
                    "only. Error bars: 95% intervals.",
                )
            )
    elif design.kind == "lhs":
        items.append(
            (
                "Inputs against metrics",
                scatter_matrix_figure(result),
                "Each dot is one point of the Latin hypercube.",
            )
        )
        items.append(("Every point", parallel_figure(result), "Drag along an axis to filter."))
    elif design.kind == "sobol" and result.indices is not None:
        for metric in result.indices["metric"].unique():
            items.append(
                (
                    f"Sobol indices: {_name(metric)}",
                    sobol_figure(result.indices, metric, result.labels),
                    "S1: share of the metric's variance over the design due to the variable "
                    "alone; ST: including its interactions. Bars: SALib's 95% bootstrap "
                    "intervals. Each point's metric also carries Monte Carlo noise, which "
                    "inflates total indices a little.",
                )
            )
    elif design.kind == "morris" and result.indices is not None:
        for metric in result.indices["metric"].unique():
            items.append(
                (
                    f"Morris screening: {_name(metric)}",
                    morris_figure(result.indices, metric, result.labels),
                    "Far right: variables with large effects; high up: effects that change "
                    "with the other variables. Bars: 95% bootstrap intervals of mu*.",
                )
            )
    return items


def _points_table(result: SweepResult) -> pd.DataFrame:
    frame = result.points
    shown = {"point": frame["point"]}
    for name in result.design.names:
        shown[name] = _category(frame[name])
    for metric in result.metrics:
        label = _name(metric)
        shown[label] = [_text(metric, v) for v in frame[metric]]
        shown[f"{label} 95%"] = [
            f"{_text(metric, lo)} – {_text(metric, hi)}"
            for lo, hi in zip(frame[f"{metric}:lo"], frame[f"{metric}:hi"], strict=True)
        ]
    return pd.DataFrame(shown)


def write_sweep_report(result: SweepResult, path: str | Path) -> Path:
    """Write the sweep's self-contained HTML report."""
    info = result.info
    design = result.design
    intro = [
        f"{result.title}. Scenario {info.get('scenario_name', '')}; {design.kind} design of "
        f"{design.size:,} points, {info.get('trials_per_point', 0):,} trials per point, seed "
        f"{info.get('seed')}.",
        info.get("common_random_numbers", ""),
    ]
    description = info.get("description") or ""
    if description:
        intro.insert(1, description)
    intro += result.notes
    tables: list[tuple[str, pd.DataFrame] | tuple[str, pd.DataFrame, str]] = []
    if result.indices is not None and len(result.indices):
        tables.append(("Sensitivity indices", result.indices))
    if design.size <= MAX_TABLE_POINTS:
        tables.append(("Points", _points_table(result)))
    return charts.write_report(
        path, f"escalation sweep: {result.name}", result.figures(), tables=tables, intro=intro
    )


def compare_figure(table: pd.DataFrame, labels: Sequence[str]) -> go.Figure:
    """Grouped bars: each outcome's probability in each scenario, with 95% Wilson intervals."""
    fig = go.Figure()
    for i, label in enumerate(labels):
        rows = table[table["scenario"] == label]
        p = rows["probability"].to_numpy(dtype=float)
        fig.add_trace(
            go.Bar(
                x=[o.replace("_", " ") for o in rows["outcome"]],
                y=p,
                name=label,
                marker_color=_COLORS[i % len(_COLORS)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": rows["hi"].to_numpy(dtype=float) - p,
                    "arrayminus": p - rows["lo"].to_numpy(dtype=float),
                },
                hovertemplate="%{x}: %{y:.1%}<extra>" + label + "</extra>",
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _layout(fig, "How the crisis ends, scenario by scenario", height=520)
