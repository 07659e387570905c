"""The charts' shared conventions: colours per outcome, labels, calendar axes, layout.

* **One colour per outcome everywhere**: :func:`outcome_colors` gives the diplomatic endings
  cool colours and the violent outcomes a warm ramp that darkens with severity; run, sweep and
  compare charts all take their colours from it.
* **Labels for people**: charts print labels handed to them (the ladder's ``label`` fields);
  :func:`humanize` is the fallback for a bare identifier (``full_scale_invasion`` ->
  ``full-scale invasion``).
* **Dates**: with a start date, time axes show calendar dates (:func:`time_axis`).
"""

from __future__ import annotations

import datetime
import re
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

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
#: Colours of things that are not outcomes: a series per scenario, a type, a box.
SERIES_COLORS: tuple[str, ...] = (
    "#4d4d4d",
    "#2166ac",
    "#b2182b",
    "#1b7837",
    "#762a83",
    "#e08214",
    "#35978f",
    "#8c510a",
)
#: Colour of a private type in a drivers chart (a type is not a direction of change).
TYPE_COLOR = "#5e3c99"

FONT = {"family": "Helvetica, Arial, sans-serif", "size": 13}

_HYPHENATED = {"full scale": "full-scale", "stand down": "stand-down", "large scale": "large-scale"}


def humanize(identifier: str) -> str:
    """Plain words from an identifier: ``full_scale_invasion`` -> ``full-scale invasion``."""
    text = re.sub(r"[_\s]+", " ", str(identifier)).strip()
    for plain, hyphenated in _HYPHENATED.items():
        text = re.sub(rf"\b{plain}\b", hyphenated, text)
    return text


def label_of(name: str, labels: Mapping[str, str] | None) -> str:
    """``labels[name]``, else plain words from ``name`` with a capital first letter."""
    if labels and name in labels:
        return str(labels[name])
    text = humanize(name)
    return text[:1].upper() + text[1:]


def wrapped(label: str, width: int = 20) -> str:
    """A long label on several lines (``<br>``), so that neighbouring labels do not meet."""
    return "<br>".join(textwrap.wrap(str(label), width, break_on_hyphens=False)) or str(label)


def lower_first(label: str) -> str:
    """``label`` with its first letter in lower case, unless it starts an acronym (UN, ICB)."""
    if len(label) > 1 and label[0].isupper() and not label[1].isupper():
        return label[0].lower() + label[1:]
    return label


def hex_to_rgb(color: str) -> np.ndarray:
    """``#rrggbb`` as three floats 0-255."""
    value = color.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=float)


def translucent(color: str, alpha: float) -> str:
    """``#rrggbb`` as ``rgba(r,g,b,alpha)``."""
    r, g, b = (int(v) for v in hex_to_rgb(color))
    return f"rgba({r},{g},{b},{alpha})"


def ramp(anchors: Sequence[str], count: int, start: float = 0.0, stop: float = 1.0) -> list[str]:
    """``count`` colours evenly spaced along the piecewise-linear ramp through ``anchors``."""
    if count <= 0:
        return []
    rgb = np.array([hex_to_rgb(c) for c in anchors])
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
    colors.update(dict(zip(hot, ramp(WARM_ANCHORS, len(hot), 0.0, 1.0), strict=True)))
    return {o: colors[o] for o in names}


def combined_color(names: Sequence[str], colors: Mapping[str, str]) -> str:
    """The colour of several outcomes taken together: the last (gravest) one's."""
    known = [colors[n] for n in names if n in colors]
    return known[-1] if known else SERIES_COLORS[0]


def base_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    """Title at the top left, the house font and template, and the figure's height."""
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left"},
        font=FONT,
        template="plotly_white",
        height=height,
        margin={"l": 70, "r": 30, "t": 70, "b": 60},
        legend={"traceorder": "normal"},
    )
    return fig


def time_axis(
    days: Sequence[int] | np.ndarray, start: datetime.date | None
) -> tuple[list | np.ndarray, str, str]:
    """x values, axis title and hover format for days of the crisis.

    With a start date the axis shows calendar dates (day 0 = ``start``); without one it shows
    day numbers.
    """
    days = np.asarray(days, dtype=np.int64)
    if start is None:
        return days, "day of the crisis", "day %{x}"
    origin = np.datetime64(start, "D")
    dates = origin + days.astype("timedelta64[D]")
    return (
        [str(d) for d in dates],
        f"date (day 0 = {start.day} {start:%b %Y})",
        "%{x|%-d %b %Y}",
    )


def percent_range(lo: float, hi: float, floor: float = 0.0, ceiling: float = 1.0) -> list[float]:
    """An axis range around ``[lo, hi]`` with a margin, within ``[floor, ceiling]``."""
    span = max(hi - lo, 0.01)
    pad = max(0.1 * span, 0.005)
    return [max(floor, lo - pad), min(ceiling + 0.002, hi + pad)]
