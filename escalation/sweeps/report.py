"""Figures and the HTML report of a sweep, and of a comparison of scenarios.

The figure follows the design: lines with 95% bands for a sweep of one variable, heatmaps for
a grid of two, main effects and parallel coordinates for larger grids, bars for one-at-a-time
designs, a scatter matrix and parallel coordinates for Latin hypercubes, and index charts with
confidence bars for Sobol (S1, ST) and Morris (mu*, sigma) designs. The page itself is written
by :func:`escalation.charts.write_report`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from escalation import charts
from escalation.charts.style import (
    SERIES_COLORS,
    base_layout,
    combined_color,
    humanize,
    lower_first,
    translucent,
    wrapped,
)
from escalation.scenario.distributions import DistributionError, parse_distribution
from escalation.scenario.yamlio import InputError
from escalation.sweeps.metrics import is_share

#: A :class:`~escalation.sweeps.runner.SweepResult` (not imported: the runner imports this module).
SweepResult = Any

_COLORS = SERIES_COLORS
#: Largest design whose points are listed as a table in the report.
MAX_TABLE_POINTS = 60
#: Most dimensions of a scatter matrix before it becomes unreadable.
MAX_SPLOM = 8
#: A median day resting on fewer trials than this is flagged on heatmaps.
FEW_TRIALS = 30


@dataclass(frozen=True)
class AsWritten:
    """What the scenario as written holds where a variable writes.

    ``text`` is the written value; ``position`` a number to mark on a numeric axis (the
    value, or a distribution's median); ``band`` a distribution's 5-95% range; ``level`` the
    design level nearest to it (exact when ``exact``).
    """

    text: str
    position: float | None = None
    band: tuple[float, float] | None = None
    level: str | None = None
    exact: bool = False


@dataclass(frozen=True)
class Context:
    """What the sweep's charts need from its scenario: colours, labels, the values as written.

    ``labels`` maps outcome names to labels, ``records`` the per-trial records that ``mean:``
    metrics average (``aid:<actor>``, ...) and the ``record=value`` of ``share:`` metrics to
    labels.
    """

    colors: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    records: Mapping[str, str] = field(default_factory=dict)
    written: Mapping[str, AsWritten] = field(default_factory=dict)


def _layout(fig: go.Figure, title: str, height: int = 460) -> go.Figure:
    return base_layout(fig, title, height)


@functools.lru_cache(maxsize=8)
def _load(path: str, digest: str):
    from escalation.scenario.load import load_scenario, scenario_hash

    scenario = load_scenario(path)
    return scenario if scenario_hash(scenario) == digest else None


def _written_value(data: Mapping[str, Any], spec: Mapping[str, Any], levels: Sequence[Any]):
    from escalation.sweeps.variables import PathError, make_target, resolve_path

    if spec.get("quantile"):
        return None
    try:
        parts = resolve_path(data, spec["path"])
    except (PathError, KeyError):
        return None
    holder: Any = data
    for part in parts:
        holder = holder[part]
    text = str(holder)
    # An expression that is one parameter's name stands for that parameter's distribution.
    named = (data.get("parameters") or {}).get(holder) if isinstance(holder, str) else None
    if isinstance(named, Mapping) and named.get("dist") is not None:
        holder = named["dist"]
        text = f"{text} ~ {holder}"
    try:
        dist = parse_distribution(holder)
    except (DistributionError, TypeError):
        dist = None  # an expression, a flag or text: shown as written, not placed on an axis
    template = spec.get("format")
    if dist is None:
        exact = [v for v in levels if str(v) == text or _short(v) == text]
        return AsWritten(text, level=_short(exact[0]) if exact else None, exact=bool(exact))
    median = float(dist.ppf(np.array([0.5]))[0])
    band = (float(dist.ppf(np.array([0.05]))[0]), float(dist.ppf(np.array([0.95]))[0]))
    constant = band[0] == band[1]
    position = median if template is None else None
    numeric = [v for v in levels if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numeric:
        return AsWritten(text, position=position, band=None if constant else band)
    if template is None:
        means = {_short(v): float(v) for v in numeric}
        target = median
    else:
        target_obj = make_target("x", data, spec["path"], template=template)
        means = {}
        for v in numeric:
            try:
                means[_short(v)] = parse_distribution(target_obj.written(v)).mean()
            except (DistributionError, TypeError):
                continue
        target = dist.mean()
    if not means:
        return AsWritten(text, position=position)
    gaps = sorted((abs(mean - target), key) for key, mean in means.items())
    if len(gaps) > 1 and math.isclose(gaps[0][0], gaps[1][0], rel_tol=1e-6, abs_tol=1e-12):
        return AsWritten(text, position=position, band=None if constant else band)  # a tie
    nearest = gaps[0][1]
    exact = math.isclose(means[nearest], target, rel_tol=1e-9, abs_tol=1e-12) and (
        constant or template is not None
    )
    return AsWritten(
        text,
        position=position,
        band=None if constant or template is not None else band,
        level=nearest,
        exact=exact,
    )


def context(result: SweepResult) -> Context:
    """Colours and labels of the sweep's scenario and its values as written (if it is found)."""
    info = getattr(result, "info", {}) or {}
    path, digest = info.get("scenario_file"), info.get("scenario_hash")
    scenario = None
    if path and digest and Path(path).is_file():
        try:
            scenario = _load(str(path), str(digest))
        except (InputError, OSError):
            scenario = None  # the report is still written, without the scenario's marks
    if scenario is None:
        return Context()
    from escalation.engine.labels import Labels

    labels = Labels.from_scenario(scenario)
    data = scenario.model_dump(mode="json")
    written = {}
    for name, spec in (info.get("variables") or {}).items():
        factor = next((f for f in result.design.factors if f.name == name), None)
        levels = factor.levels() if factor is not None and factor.values is not None else ()
        found = _written_value(data, spec or {}, levels)
        if found is not None:
            written[name] = found
    means = [m.partition(":")[2] for m in result.metrics if m.startswith("mean:")]
    shares = [m.partition(":")[2] for m in result.metrics if m.startswith("share:")]
    return Context(
        colors=charts.outcome_colors(scenario.outcomes, scenario.violent_outcomes),
        labels=dict(labels.outcomes),
        records={name: labels.record(name) for name in means}
        | {text: labels.share(*text.rpartition("=")[::2]) for text in shares},
        written=written,
    )


def _is_p(metric: str) -> bool:
    return is_share(metric)


def _is_day(metric: str) -> bool:
    return metric.startswith("median_day:")


def _name(metric: str, ctx: Context | None = None) -> str:
    kind, _, rest = metric.partition(":")
    if kind in ("mean", "share"):
        records = ctx.records if ctx is not None else {}
        label = records.get(rest) or humanize(rest.replace("=", " "))
        return f"mean {label}" if kind == "mean" else f"P({label})"
    labels = ctx.labels if ctx is not None else {}
    names = " or ".join(lower_first(labels.get(n, humanize(n))) for n in rest.split("+") if n)
    return {"p": f"P({names})", "median_day": f"median day of {names}"}.get(kind, metric)


def _color(metric: str, ctx: Context | None, index: int) -> str:
    kind, _, rest = metric.partition(":")
    if ctx is not None and ctx.colors and kind in ("p", "median_day"):
        return combined_color(rest.split("+"), ctx.colors)
    return _COLORS[index % len(_COLORS)]


def _colorscale(metric: str) -> str:
    """Reds for violence (darker = likelier, or sooner); a neutral blue for a mean quantity."""
    if _is_day(metric):
        return "Reds_r"
    return "Reds" if _is_p(metric) else "Blues"


def _groups(metrics: Sequence[str]) -> list[list[str]]:
    """Probabilities share a chart (one scale); every other metric gets its own."""
    shares = [m for m in metrics if _is_p(m)]
    return ([shares] if shares else []) + [[m] for m in metrics if not _is_p(m)]


def _group_title(group: Sequence[str], ctx: Context | None = None) -> str:
    return "Probabilities" if _is_p(group[0]) else _name(group[0], ctx)


def _axis(group: Sequence[str], ctx: Context | None = None) -> dict[str, Any]:
    if _is_p(group[0]):
        return {"tickformat": ".0%", "rangemode": "tozero", "title": "probability"}
    return {"title": _name(group[0], ctx)}


def _text(metric: str, value: float) -> str:
    if value != value:
        return "–"
    return f"{value:.1%}" if _is_p(metric) else f"{value:.3g}"


def _rgba(color: str, alpha: float) -> str:
    return translucent(color, alpha)


def _category(values: pd.Series) -> list[str]:
    return ["(scenario)" if v is pd.NA or v is None else _short(v) for v in values.tolist()]


def _short(value: Any) -> str:
    if isinstance(value, float):
        return format(value, ".4g")
    return str(value)


def _written_note(result: SweepResult, ctx: Context) -> str:
    parts = [f"{result.labels.get(name, name)}: {w.text}" for name, w in ctx.written.items()]
    return ("The scenario as written: " + "; ".join(parts) + ".") if parts else ""


# ----------------------------------------------------------------------------- designs


def _mark_numeric(fig: go.Figure, written: AsWritten | None, **where) -> None:
    """Mark the scenario as written on a numeric x axis: its value, or its 5-95% band."""
    if written is None or written.position is None:
        return
    if written.band is not None:
        fig.add_vrect(
            x0=written.band[0],
            x1=written.band[1],
            fillcolor="#999999",
            opacity=0.12,
            line_width=0,
            **where,
        )
    fig.add_vline(
        x=written.position,
        line={"dash": "dash", "color": "#333", "width": 1.2},
        annotation_text="as written" + (" (median)" if written.band else ""),
        annotation_position="top",
        annotation_font_size=11,
        **where,
    )


def lines_figure(
    result: SweepResult, group: Sequence[str], ctx: Context | None = None
) -> go.Figure:
    """A metric against the one variable of a sweep, with its 95% band, the scenario marked."""
    ctx = ctx or Context()
    name = result.design.names[0]
    frame = result.points
    factor = result.design.factors[0]
    numeric = factor.kind == "number" and not frame[name].isna().any()
    x = frame[name].to_numpy(dtype=float) if numeric else _category(frame[name])
    fig = go.Figure()
    for i, metric in enumerate(group):
        color = _color(metric, ctx, i)
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
                    x=x, y=y, mode="lines+markers", name=_name(metric, ctx), line={"color": color}
                )
            )
        else:
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=y,
                    name=_name(metric, ctx),
                    marker_color=color,
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": hi - y,
                        "arrayminus": y - lo,
                    },
                )
            )
    written = ctx.written.get(name)
    if numeric:
        _mark_numeric(fig, written)
    fig.update_xaxes(title=result.labels.get(name, name))
    fig.update_yaxes(**_axis(group, ctx))
    return _layout(fig, _group_title(group, ctx))


def heatmap_figure(result: SweepResult, metric: str, ctx: Context | None = None) -> go.Figure:
    """A metric over a grid of two variables; each cell shows its value and 95% interval.

    Probabilities and means darken as they grow (means in blue, as they are not violence);
    median days darken as they come *sooner*
    (earlier violence is worse), so dark means bad in every heatmap. A median day that rests
    on fewer than :data:`FEW_TRIALS` trials is flagged (†), and the cell of the scenario as
    written (or the nearest level to it) is outlined.
    """
    ctx = ctx or Context()
    first, second = result.design.names[:2]
    frame = result.points
    rows = list(dict.fromkeys(_category(frame[first])))
    cols = list(dict.fromkeys(_category(frame[second])))
    z = np.full((len(rows), len(cols)), np.nan)
    text = np.full((len(rows), len(cols)), "", dtype=object)
    hover = np.full((len(rows), len(cols)), "", dtype=object)
    counts = frame[f"{metric}:n"] if f"{metric}:n" in frame.columns else None
    flagged = []
    first_label = result.labels.get(first, first)
    second_label = result.labels.get(second, second)
    for index, (r_label, c_label, value, lo, hi) in enumerate(
        zip(
            _category(frame[first]),
            _category(frame[second]),
            frame[metric],
            frame[f"{metric}:lo"],
            frame[f"{metric}:hi"],
            strict=True,
        )
    ):
        r, c = rows.index(r_label), cols.index(c_label)
        z[r, c] = value
        few = counts is not None and float(counts.iloc[index]) < FEW_TRIALS
        if value != value:
            cell = "none<br>reached" if _is_day(metric) else "–"
        else:
            cell = f"<b>{_text(metric, value)}</b><br>{_text(metric, lo)}–{_text(metric, hi)}"
        if few:
            cell += " †"
            flagged.append((c, r))
        text[r, c] = cell
        hover[r, c] = (
            f"{first_label} = {r_label}<br>{second_label} = {c_label}<br>{_name(metric, ctx)} = "
            f"{_text(metric, value)} (95%: {_text(metric, lo)} – {_text(metric, hi)})"
            + (f"<br>{int(counts.iloc[index])} trials reached it" if counts is not None else "")
        )
    day = _is_day(metric)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=cols,
            y=rows,
            text=text,
            texttemplate="%{text}",
            textfont={"size": 11},
            hovertext=hover,
            hoverinfo="text",
            colorscale=_colorscale(metric),
            colorbar={
                "title": {
                    "text": (_name(metric, ctx) + ("<br>(darker = sooner)" if day else "")),
                    "side": "right",
                },
                **({"tickformat": ".0%"} if _is_p(metric) else {}),
            },
        )
    )
    for name, axis_levels, axis in ((first, rows, "y"), (second, cols, "x")):
        written = ctx.written.get(name)
        if written is None or written.level not in axis_levels:
            continue
        k = axis_levels.index(written.level)
        shape = {"type": "rect", "line": {"color": "#111", "width": 2.5, "dash": "dot"}}
        if axis == "y":
            shape.update(x0=-0.5, x1=len(cols) - 0.5, y0=k - 0.5, y1=k + 0.5)
        else:
            shape.update(x0=k - 0.5, x1=k + 0.5, y0=-0.5, y1=len(rows) - 0.5)
        fig.add_shape(**shape)
    fig.update_xaxes(title=second_label, type="category")
    fig.update_yaxes(title=first_label, type="category")
    return _layout(fig, _name(metric, ctx), height=560)


def main_effects_figure(
    result: SweepResult, group: Sequence[str], ctx: Context | None = None
) -> go.Figure:
    """Each variable's main effect: a metric averaged over the other variables, per level."""
    ctx = ctx or Context()
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
                    name=_name(metric, ctx),
                    line={"color": _color(metric, ctx, i)},
                    showlegend=j == 0,
                ),
                row=1,
                col=j + 1,
            )
        written = ctx.written.get(name)
        if written is not None and written.level in list(means.index):
            fig.add_vline(
                x=list(means.index).index(written.level),
                line={"dash": "dash", "color": "#333", "width": 1.2},
                row=1,
                col=j + 1,
            )
        fig.update_xaxes(title=result.labels.get(name, name), type="category", row=1, col=j + 1)
    fig.update_yaxes(**_axis(group, ctx), row=1, col=1)
    return _layout(fig, f"{_group_title(group, ctx)}: main effects")


def bars_figure(result: SweepResult, group: Sequence[str], ctx: Context | None = None) -> go.Figure:
    """One bar per point (one-at-a-time designs), with 95% error bars; the baseline outlined."""
    ctx = ctx or Context()
    labels = result.design.labels()
    fig = go.Figure()
    frame = result.points
    for i, metric in enumerate(group):
        y = frame[metric].to_numpy(dtype=float)
        lo = frame[f"{metric}:lo"].to_numpy(dtype=float)
        hi = frame[f"{metric}:hi"].to_numpy(dtype=float)
        color = _color(metric, ctx, i)
        baseline = [
            all(pd.isna(frame[n].iloc[k]) for n in result.design.names) for k in range(len(frame))
        ]
        fig.add_trace(
            go.Bar(
                x=labels,
                y=y,
                name=_name(metric, ctx),
                marker={
                    "color": color,
                    "line": {
                        "color": ["#111" if b else color for b in baseline],
                        "width": [3 if b else 0 for b in baseline],
                    },
                },
                text=[_text(metric, v) for v in y],
                textposition="outside",
                error_y={"type": "data", "symmetric": False, "array": hi - y, "arrayminus": y - lo},
            )
        )
    fig.update_layout(barmode="group")
    fig.update_yaxes(**_axis(group, ctx))
    fig.update_xaxes(title="point (baseline: the scenario as written, outlined)")
    return _layout(fig, _group_title(group, ctx))


def _colorbar(metric: str, ctx: Context | None) -> dict[str, Any]:
    """A colour bar titled with the metric, in percent for a probability."""
    bar: dict[str, Any] = {"title": {"text": wrapped(_name(metric, ctx), 24), "side": "right"}}
    if _is_p(metric):
        bar["tickformat"] = ".0%"
    return bar


def _dimension(result: SweepResult, column: str, ctx: Context | None = None) -> dict[str, Any]:
    values = result.points[column]
    label = wrapped(result.labels.get(column, _name(column, ctx) if ":" in column else column))
    if values.dtype.kind in "fi":
        found = {"label": label, "values": values.to_numpy(dtype=float)}
        return found | ({"tickformat": ".0%"} if _is_p(column) else {})
    labels = _category(values)
    levels = list(dict.fromkeys(labels))
    return {
        "label": label,
        "values": [levels.index(v) for v in labels],
        "tickvals": list(range(len(levels))),
        "ticktext": levels,
    }


def parallel_figure(result: SweepResult, ctx: Context | None = None) -> go.Figure:
    """Parallel coordinates of the inputs and metrics, coloured by the first metric."""
    ctx = ctx or Context()
    columns = [*result.design.names, *result.metrics]
    first = result.metrics[0]
    color = result.points[first].to_numpy(dtype=float)
    fig = go.Figure(
        go.Parcoords(
            line={
                "color": color,
                "colorscale": _colorscale(first),
                "showscale": True,
                "colorbar": _colorbar(first, ctx),
            },
            dimensions=[_dimension(result, c, ctx) for c in columns],
            labelside="bottom",
        )
    )
    _layout(fig, f"Every point, coloured by {_name(first, ctx)}", height=560)
    # Titles below the axes (up to three lines), clear of the range labels above them.
    return fig.update_layout(margin={"t": 100, "b": 110})


def scatter_matrix_figure(result: SweepResult, ctx: Context | None = None) -> go.Figure:
    """Scatter matrix of the inputs and metrics, coloured by the first metric."""
    ctx = ctx or Context()
    columns = [*result.design.names, *result.metrics][:MAX_SPLOM]
    first = result.metrics[0]
    color = result.points[first].to_numpy(dtype=float)
    dimensions = [
        {
            "label": wrapped(result.labels.get(c, _name(c, ctx))),
            "values": result.points[c].to_numpy(dtype=float),
        }
        for c in columns
    ]
    fig = go.Figure(
        go.Splom(
            dimensions=dimensions,
            marker={
                "color": color,
                "colorscale": _colorscale(first),
                "size": 5,
                "showscale": True,
                "colorbar": _colorbar(first, ctx),
            },
            diagonal_visible=False,
            showupperhalf=False,
        )
    )
    for i, column in enumerate(columns, start=1):
        if _is_p(column):  # probabilities in percent, as everywhere else
            suffix = "" if i == 1 else str(i)
            fig.update_layout({f"xaxis{suffix}": {"tickformat": ".0%"}})
            fig.update_layout({f"yaxis{suffix}": {"tickformat": ".0%"}})
    return _layout(fig, "Inputs against metrics", height=160 * len(columns) + 120)


def sobol_figure(
    table: pd.DataFrame, metric: str, labels: dict[str, str], ctx: Context | None = None
) -> go.Figure:
    """First-order (S1) and total (ST) Sobol indices with confidence bars, by ST."""
    rows = table[table["metric"] == metric].sort_values("ST", ascending=False)
    names = [labels.get(v, humanize(v)) for v in rows["variable"]]
    fig = go.Figure()
    for key, color, title in (("S1", _COLORS[1], "first order S1"), ("ST", _COLORS[2], "total ST")):
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
    fig.update_xaxes(tickangle=-40, title="variable")
    fig.update_yaxes(title="index (share of variance)")
    return _layout(fig, f"Sobol indices of {_name(metric, ctx)}", height=520)


def morris_figure(
    table: pd.DataFrame, metric: str, labels: dict[str, str], ctx: Context | None = None
) -> go.Figure:
    """Morris mu* (mean absolute elementary effect) against sigma, with confidence bars."""
    rows = table[table["metric"] == metric]
    fig = go.Figure(
        go.Scatter(
            x=rows["mu_star"],
            y=rows["sigma"],
            mode="markers+text",
            text=[labels.get(v, humanize(v)) for v in rows["variable"]],
            textposition="top center",
            error_x={"type": "data", "array": rows["mu_star_conf"]},
            marker={"color": _COLORS[2], "size": 9},
        )
    )
    fig.update_xaxes(title="mu* (mean |elementary effect|)", rangemode="tozero")
    fig.update_yaxes(
        title="sigma (spread of effects: interactions, nonlinearity)", rangemode="tozero"
    )
    return _layout(fig, f"Morris screening of {_name(metric, ctx)}", height=520)


# ----------------------------------------------------------------------------- report


def sweep_figures(result: SweepResult) -> list[tuple[str, go.Figure, str]]:
    """The figures that suit the sweep's design, as ``(heading, figure, note)``."""
    ctx = context(result)
    design = result.design
    groups = _groups(result.metrics)
    written = _written_note(result, ctx)
    band = "Shaded: 95% intervals of each point (Wilson for probabilities)."
    if written:
        band += " Dashed line (and grey band: its 5-95% range): " + written
    items: list[tuple[str, go.Figure, str]] = []
    k = len(design.factors)
    if design.kind == "grid" and k == 1:
        for group in groups:
            items.append((_group_title(group, ctx), lines_figure(result, group, ctx), band))
    elif design.kind == "grid" and k == 2:
        for metric in result.metrics:
            note = "Each cell is one point, with its 95% interval."
            if _is_day(metric):
                note += (
                    f" † marks a median day that rests on fewer than {FEW_TRIALS} trials; "
                    "darker cells come sooner."
                )
            if written:
                note += " Dotted outline: the level of the scenario as written (or nearest). "
                note += written
            items.append((_name(metric, ctx), heatmap_figure(result, metric, ctx), note))
    elif design.kind == "grid":
        for group in groups:
            items.append(
                (
                    f"{_group_title(group, ctx)}: main effects",
                    main_effects_figure(result, group, ctx),
                    "Each variable's levels, averaged over every combination of the others. "
                    + (
                        f"Dashed: the level of the scenario as written. {written}"
                        if written
                        else ""
                    ),
                )
            )
        items.append(("Every point", parallel_figure(result, ctx), "Drag along an axis to filter."))
    elif design.kind == "oat":
        for group in groups:
            items.append(
                (
                    _group_title(group, ctx),
                    bars_figure(result, group, ctx),
                    "Baseline (outlined): the scenario as written; each other bar changes one "
                    "variable only. Error bars: 95% intervals.",
                )
            )
    elif design.kind == "lhs":
        items.append(
            (
                "Inputs against metrics",
                scatter_matrix_figure(result, ctx),
                "Each dot is one point of the Latin hypercube.",
            )
        )
        items.append(("Every point", parallel_figure(result, ctx), "Drag along an axis to filter."))
    elif design.kind == "sobol" and result.indices is not None:
        for metric in result.indices["metric"].unique():
            items.append(
                (
                    f"Sobol indices: {_name(metric, ctx)}",
                    sobol_figure(result.indices, metric, result.labels, ctx),
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
                    f"Morris screening: {_name(metric, ctx)}",
                    morris_figure(result.indices, metric, result.labels, ctx),
                    "Far right: variables with large effects; high up: effects that change "
                    "with the other variables. Bars: 95% bootstrap intervals of mu*.",
                )
            )
    return items


def discovery_sections(result: SweepResult, ctx: Context) -> list[charts.Section]:
    """PRIM on the points of a Latin hypercube, for each probability metric."""
    from escalation.analysis import discovery

    if result.design.kind not in ("lhs", "sobol") or len(result.points) < 20:
        return []
    frame, labels = {}, {}
    for name in result.design.names:
        column = f"{name}:value" if f"{name}:value" in result.points.columns else name
        values = result.points[column]
        if not pd.api.types.is_numeric_dtype(values) or values.isna().any():
            continue
        frame[column] = values.astype(float)
        labels[column] = result.labels.get(name, name) + (" (value)" if ":value" in column else "")
    if not frame:
        return []
    sections = []
    for metric in [m for m in result.metrics if _is_p(m)]:
        y = result.points[metric].to_numpy(dtype=float)
        if not np.all(np.isfinite(y)) or y.sum() == 0:
            continue
        found = discovery.prim(pd.DataFrame(frame), y, seed=int(result.info.get("seed", 0) or 0))
        what = _name(metric, ctx)
        sections.append(
            charts.Section(
                f"When is {what} high? (scenario discovery)",
                figure=charts.discovery_figure(found, labels, what),
                table=charts.box_table(found, labels),
                text=[discovery.summary_text(found, what, labels)],
                note="Each point is a case; its probability is the share of interest, so a "
                "box's density is the mean probability over its points. " + discovery.NOTE,
            )
        )
    return sections


def _points_table(result: SweepResult, ctx: Context | None = None) -> pd.DataFrame:
    frame = result.points
    shown = {"point": frame["point"]}
    for name in result.design.names:
        shown[result.labels.get(name, name)] = _category(frame[name])
    for metric in result.metrics:
        label = _name(metric, ctx)
        shown[label] = [_text(metric, v) for v in frame[metric]]
        shown[f"{label} 95%"] = [
            f"{_text(metric, lo)} – {_text(metric, hi)}"
            for lo, hi in zip(frame[f"{metric}:lo"], frame[f"{metric}:hi"], strict=True)
        ]
    return pd.DataFrame(shown)


def write_sweep_report(result: SweepResult, path: str | Path, plotly_js: str = "inline") -> Path:
    """Write the sweep's HTML report (self-contained unless ``plotly_js="beside"``)."""
    ctx = context(result)
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
        tables.append(("Points", _points_table(result, ctx)))
    sections = discovery_sections(result, ctx)
    variables = pd.DataFrame(
        [
            (
                result.labels.get(name, name),
                (spec or {}).get("path", ""),
                ctx.written[name].text if name in ctx.written else "—",
            )
            for name, spec in (info.get("variables") or {}).items()
        ],
        columns=["variable", "path in the scenario", "the scenario as written"],
    )
    facts = pd.DataFrame(
        [
            ("experiment", str(info.get("title") or info.get("experiment", ""))),
            ("experiment file", str(info.get("experiment_file", ""))),
            ("experiment hash (SHA-256)", str(info.get("experiment_hash", ""))),
            ("scenario file", str(info.get("scenario_file", ""))),
            ("scenario hash (SHA-256)", str(info.get("scenario_hash", ""))),
            ("seed", str(info.get("seed", ""))),
            ("trials per point", f"{int(info.get('trials_per_point', 0) or 0):,}"),
            ("escalation version", str((info.get("versions") or {}).get("escalation", "—"))),
            ("run at (UTC)", str(info.get("created", "—"))),
        ],
        columns=["", "value"],
    )
    sections += [
        charts.Section("Assumptions", table=facts),
        charts.Section(
            "Variables",
            table=variables,
            note="Everything else is as in the scenario file; its run report lists every "
            "parameter with its distribution and source.",
            level=3,
        ),
    ]
    return charts.write_report(
        path,
        f"escalation sweep: {result.title or result.name}",
        result.figures(),
        tables=tables,
        intro=intro,
        sections=sections,
        plotly_js=plotly_js,
    )
