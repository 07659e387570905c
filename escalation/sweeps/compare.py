"""Several scenarios played with the same seed and trials, their outcomes side by side.

Every scenario is played with the same seed and number of trials (common random numbers), so
trial ``i`` starts from the same random stream in each. Besides each scenario's outcome
probabilities with Wilson intervals, the table gives the paired difference from the first
scenario: the mean over trials of (outcome here) minus (outcome in the first), with a normal
interval from the per-trial differences, which common random numbers make narrow where the
scenarios agree trial by trial.
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from escalation import charts
from escalation.analysis import z_value
from escalation.charts.style import base_layout, label_of, outcome_colors
from escalation.engine import assumptions
from escalation.engine.play import as_scenario, play, versions, with_overrides
from escalation.engine.results import RunResult, write_folder
from escalation.scenario.load import scenario_hash
from escalation.scenario.schema import Scenario

#: Bar patterns that tell scenarios apart while each outcome keeps its colour.
PATTERNS = ("", "/", "x", ".", "\\", "+", "-", "|")

CRN_COMPARE = (
    "Every scenario is played with the same seed and number of trials (common random numbers): "
    "trial i starts from the same random stream in each, so differences between scenarios come "
    "from the scenarios, not from different draws. The paired difference from the first "
    "scenario uses this: its interval comes from the per-trial differences."
)


@dataclass
class CompareResult:
    """Outcome distributions of several scenarios played with common random numbers.

    Attributes:
        labels: one label per scenario (its title, else its name; made unique).
        results: each scenario's run.
        table: one row per scenario and outcome: ``scenario, outcome, count, probability, lo,
            hi, difference, diff_lo, diff_hi`` (difference from the first scenario).
        info: what ``run.json`` records.
    """

    labels: list[str]
    results: list[RunResult]
    table: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"<CompareResult of {len(self.labels)} scenarios: {', '.join(self.labels)}; "
            f"{self.info.get('trials', 0):,} trials each>"
        )

    def _repr_html_(self) -> str:
        return _table_html(self)

    @property
    def outcome_labels(self) -> dict[str, str]:
        """Labels of every outcome, from the first scenario that has it."""
        found: dict[str, str] = {}
        for result in self.results:
            for name, label in result.labels.outcomes.items():
                found.setdefault(name, label)
        return found

    @property
    def colors(self) -> dict[str, str]:
        """One colour per outcome, as in each scenario's own charts."""
        first = self.results[0].scenario
        outcomes = list(dict.fromkeys(self.table["outcome"]))
        violent = list(dict.fromkeys(v for r in self.results for v in r.scenario.violent_outcomes))
        if outcomes == first.outcomes:
            return outcome_colors(first.outcomes, first.violent_outcomes)
        return outcome_colors(outcomes, violent)

    def differences(self) -> pd.DataFrame:
        """Each scenario's difference from the first, per outcome, with its paired interval."""
        rows = self.table[self.table["scenario"] != self.labels[0]]
        return rows[["scenario", "outcome", "difference", "diff_lo", "diff_hi"]].reset_index(
            drop=True
        )

    def file_differences(self) -> pd.DataFrame:
        """What differs between each scenario and the first: parameters, policies, ladder, ..."""
        first = self.results[0].scenario
        frames = []
        for label, result in zip(self.labels[1:], self.results[1:], strict=True):
            found = assumptions.scenario_differences(first, result.scenario)
            found.insert(0, "scenario", label)
            frames.append(found)
        if not frames:
            return pd.DataFrame(columns=["scenario", "section", "item", "field", "first", "this"])
        return pd.concat(frames, ignore_index=True)

    def figure(self):
        """Each outcome's probability in each scenario, with 95% Wilson intervals."""
        return compare_figure(self.table, self.labels, self.colors, self.outcome_labels)

    def forest(self):
        """The paired differences from the first scenario, with their intervals."""
        return forest_figure(self.table, self.labels, self.colors, self.outcome_labels)

    def write(self, out: str | Path, plotly_js: str = "inline") -> Path:
        """Write ``compare.csv``, ``run.json`` and ``report.html`` into ``out``, atomically."""
        return write_folder(out, lambda folder: self._write_files(folder, plotly_js))

    def _write_files(self, folder: Path, plotly_js: str = "inline") -> None:
        self.table.to_csv(folder / "compare.csv", index=False, float_format="%.6g")
        (folder / "run.json").write_text(json.dumps(self.info, indent=2, default=str) + "\n")
        n = self.info["trials"]
        names = self.outcome_labels
        wide = pd.DataFrame(
            {
                "outcome": [label_of(o, names) for o in dict.fromkeys(self.table["outcome"])],
                **{
                    label: [
                        f"{r.probability:.1%} ({100 * r.lo:.1f}–{100 * r.hi:.1f})"
                        for r in self.table[self.table["scenario"] == label].itertuples()
                    ]
                    for label in self.labels
                },
            }
        )
        diffs = self.differences()
        diff_table = pd.DataFrame(
            {
                "scenario": diffs["scenario"],
                "outcome": [label_of(o, names) for o in diffs["outcome"]],
                "difference from the first": [f"{d:+.1%}" for d in diffs["difference"]],
                "95% paired interval": [
                    f"{lo:+.1%} – {hi:+.1%}"
                    for lo, hi in zip(diffs["diff_lo"], diffs["diff_hi"], strict=True)
                ],
            }
        )
        facts = pd.DataFrame(
            [
                (
                    label,
                    result.scenario.name,
                    str(spec.get("source") or "—"),
                    spec["scenario_hash"][:16],
                )
                for label, result, spec in zip(
                    self.labels, self.results, self.info["scenarios"], strict=True
                )
            ],
            columns=["scenario", "name", "file", "hash (first 16 of SHA-256)"],
        )
        changed = self.file_differences()
        sections = [
            charts.Section(
                f"Differences from {self.labels[0]}",
                figure=self.forest(),
                table=diff_table,
                note="Mean over paired trials of (outcome here) minus (outcome in the first "
                "scenario), with a 95% normal interval from the per-trial differences. Common "
                "random numbers make these intervals much narrower than the two scenarios' own "
                "intervals would suggest where the scenarios agree trial by trial.",
            ),
            charts.Section(
                "What differs between the scenario files",
                table=changed
                if len(changed)
                else pd.DataFrame({"": ["The scenarios assume the same numbers."]}),
                note="Every field whose value differs from the first scenario's (names, titles, "
                "descriptions and sources are left out: they change no number).",
            ),
            charts.Section("Assumptions", table=facts, note=CRN_COMPARE),
            charts.Section("Every number", table=self.table, note="As in compare.csv."),
        ]
        charts.write_report(
            folder / "report.html",
            "escalation: " + " vs ".join(self.labels),
            [
                (
                    "How the crisis ends",
                    self.figure(),
                    f"Share of {n:,} trials per scenario ending in each outcome, with 95% "
                    "Wilson intervals; each outcome keeps its colour and each scenario its "
                    "pattern.",
                )
            ],
            tables=[("Probabilities", wide)],
            intro=[
                f"{len(self.labels)} scenarios, {n:,} trials each, seed {self.info['seed']}.",
                CRN_COMPARE,
            ],
            sections=sections,
            plotly_js=plotly_js,
        )


def _wrap(text: str, width: int = 38) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def compare_figure(
    table: pd.DataFrame,
    labels: Sequence[str],
    colors: dict[str, str] | None = None,
    outcome_labels: dict[str, str] | None = None,
):
    """Grouped bars: each outcome's probability in each scenario, with 95% Wilson intervals.

    Bars wear their outcome's colour; scenarios are told apart by pattern (the first solid),
    with one grey legend entry per scenario.
    """
    import plotly.graph_objects as go

    outcomes = list(dict.fromkeys(table["outcome"]))
    colors = colors or outcome_colors(outcomes)
    fig = go.Figure()
    for i, label in enumerate(labels):
        rows = table[table["scenario"] == label]
        p = rows["probability"].to_numpy(dtype=float)
        pattern = PATTERNS[i % len(PATTERNS)]
        fig.add_trace(
            go.Bar(
                x=[label_of(o, outcome_labels) for o in rows["outcome"]],
                y=p,
                name=_wrap(label),
                marker={
                    "color": [colors.get(o, "#888") for o in rows["outcome"]],
                    "pattern": {"shape": pattern, "fgcolor": "#222", "fgopacity": 0.55},
                    "line": {"color": "#333", "width": 0.8},
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": rows["hi"].to_numpy(dtype=float) - p,
                    "arrayminus": p - rows["lo"].to_numpy(dtype=float),
                    "color": "#222",
                },
                showlegend=False,
                hovertemplate="%{x}: %{y:.1%}<extra>" + label + "</extra>",
            )
        )
        fig.add_trace(
            go.Bar(
                x=[None],
                y=[None],
                name=_wrap(label),
                marker={
                    "color": "#d9d9d9",
                    "pattern": {"shape": pattern, "fgcolor": "#222"},
                    "line": {"color": "#333", "width": 0.8},
                },
                showlegend=True,
            )
        )
    fig.update_xaxes(title="outcome")
    fig.update_yaxes(title="probability (share of trials)", tickformat=".0%", rangemode="tozero")
    base_layout(fig, "How the crisis ends, scenario by scenario", 600)
    fig.update_layout(
        barmode="group",
        legend={
            "title": {"text": "scenario"},
            "orientation": "h",
            "y": 1.02,
            "yanchor": "bottom",
            "x": 0,
            "font": {"size": 11},
        },
        margin={"t": 140},
    )
    return fig


def forest_figure(
    table: pd.DataFrame,
    labels: Sequence[str],
    colors: dict[str, str] | None = None,
    outcome_labels: dict[str, str] | None = None,
):
    """Forest plot: each outcome's paired difference from the first scenario, with its interval.

    One panel per compared scenario; a row per outcome in its colour; zero marked.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    outcomes = list(dict.fromkeys(table["outcome"]))
    colors = colors or outcome_colors(outcomes)
    others = list(labels[1:])
    several = len(others) > 1
    fig = make_subplots(
        rows=max(1, len(others)),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.12,
        subplot_titles=[_wrap(f"{label} minus {labels[0]}", 90) for label in others]
        if several
        else None,
    )
    span = 0.01
    for row, label in enumerate(others, start=1):
        rows = table[table["scenario"] == label].iloc[::-1]
        d = rows["difference"].to_numpy(dtype=float)
        lo = rows["diff_lo"].to_numpy(dtype=float)
        hi = rows["diff_hi"].to_numpy(dtype=float)
        span = max(span, float(np.max(np.abs(np.concatenate([lo, hi])))))
        names = [label_of(o, outcome_labels) for o in rows["outcome"]]
        fig.add_trace(
            go.Scatter(
                x=d,
                y=names,
                mode="markers+text",
                marker={
                    "color": [colors.get(o, "#888") for o in rows["outcome"]],
                    "size": 11,
                    "symbol": "square",
                    "line": {"color": "#222", "width": 0.8},
                },
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": np.clip(hi - d, 0, None),
                    "arrayminus": np.clip(d - lo, 0, None),
                    "color": "#222",
                    "thickness": 1.5,
                    "width": 5,
                },
                text=[f"{v:+.1%}" for v in d],
                textposition="top center",
                customdata=np.column_stack([lo, hi]),
                hovertemplate="%{y}: %{x:+.1%} (95%: %{customdata[0]:+.1%} – "
                "%{customdata[1]:+.1%})<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        fig.add_vline(x=0, line={"color": "#444", "width": 1}, row=row, col=1)
        fig.update_yaxes(title_text="outcome", row=row, col=1)
    fig.update_xaxes(
        title_text="difference in probability (paired, 95% interval)",
        tickformat="+.0%",
        range=[-span * 1.25, span * 1.25],
        row=len(others),
        col=1,
    )
    title = (
        f"Differences from {labels[0]}"
        if several or not others
        else f"{others[0]} minus {labels[0]}"
    )
    base_layout(fig, _wrap(title, 110), 150 + 46 * len(outcomes) * max(1, len(others)))
    fig.update_layout(margin={"l": 200, "t": 110 if several else 90})
    return fig


def _table_html(result: CompareResult) -> str:
    import html

    names = result.outcome_labels
    head = "".join(f"<th>{html.escape(label)}</th>" for label in result.labels)
    body = ""
    for outcome in dict.fromkeys(result.table["outcome"]):
        rows = result.table[result.table["outcome"] == outcome].set_index("scenario")
        cells = "".join(
            f"<td>{rows.loc[label, 'probability']:.1%}"
            + (f" ({rows.loc[label, 'difference']:+.1%})" if label != result.labels[0] else "")
            + "</td>"
            for label in result.labels
        )
        name = html.escape(label_of(outcome, names))
        body += f"<tr><td style='text-align:left'>{name}</td>{cells}</tr>"
    return (
        f"<div><b>{len(result.labels)} scenarios</b>, {result.info.get('trials', 0):,} trials "
        f"each, seed {result.info.get('seed')} (in brackets: paired difference from the first)"
        f"<table><thead><tr><th>outcome</th>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def print_comparison(result: CompareResult, console) -> None:
    """Print the probabilities, the paired differences from the first scenario with their
    intervals, and what differs between the files (on a rich console)."""
    from rich.table import Table
    from rich.text import Text

    info = result.info
    names = result.outcome_labels
    table = Table(
        title=Text(
            f"{info['trials']:,} trials per scenario, seed {info['seed']} (common random numbers)"
        ),
        title_justify="left",
    )
    table.add_column("outcome")
    table.add_column(Text(result.labels[0]), justify="right")
    for label in result.labels[1:]:
        table.add_column(Text(label), justify="right")
        table.add_column(Text("difference (95% paired)"), justify="right")
    frame = result.table
    for outcome in dict.fromkeys(frame["outcome"]):
        rows = frame[frame["outcome"] == outcome].set_index("scenario")
        cells = []
        for i, label in enumerate(result.labels):
            row = rows.loc[label]
            cells.append(f"{row['probability']:.1%} ({100 * row['lo']:.1f}–{100 * row['hi']:.1f})")
            if i:
                cells.append(
                    f"{row['difference']:+.1%} ({100 * row['diff_lo']:+.1f} to "
                    f"{100 * row['diff_hi']:+.1f})"
                )
        table.add_row(Text(label_of(outcome, names)), *cells)
    console.print(table)
    changed = result.file_differences()
    if len(changed):
        diff = Table(title=Text("What differs from the first scenario"), title_justify="left")
        several = len(result.labels) > 2
        if several:
            diff.add_column("scenario")
        for column in ("where", result.labels[0], "this scenario" if several else result.labels[1]):
            diff.add_column(Text(column), overflow="fold")  # a path is wrapped, never cut
        for row in changed.head(40).itertuples(index=False):
            where = ".".join(str(p) for p in (row.section, row.item, row.field) if p)
            cells = [Text(where), Text(str(row.first)), Text(str(row.this))]
            diff.add_row(*([Text(str(row.scenario))] if several else []), *cells)
        if len(changed) > 40:
            diff.caption = f"first 40 of {len(changed)} differences; all in report.html"
        console.print(diff)
    else:
        console.print("The scenarios assume the same numbers.", highlight=False)


def _labels(sources: Sequence[str | Path | Scenario], scenarios: Sequence[Scenario]) -> list[str]:
    """Each scenario's title (else its name); where titles repeat, the file name is added."""
    titles = [scenario.title or scenario.name for scenario in scenarios]
    labels = []
    for source, scenario, title in zip(sources, scenarios, titles, strict=True):
        label = title
        if titles.count(title) > 1:
            where = scenario.name if isinstance(source, Scenario) else Path(source).name
            label = f"{title} ({where})"
        base, k = label, 2
        while label in labels:
            label, k = f"{base} ({k})", k + 1
        labels.append(label)
    return labels


def _paired(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean of ``b - a`` over paired trials, with a normal interval."""
    d = b.astype(float) - a.astype(float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, -1.0, 1.0
    half = z_value(level) * float(d.std(ddof=1)) / math.sqrt(len(d))
    return mean, max(mean - half, -1.0), min(mean + half, 1.0)


def compare_scenarios(
    sources: Sequence[str | Path | Scenario],
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
    workers: int = 1,
    on_scenario: Callable[[int, int, str], None] | None = None,
    level: float = 0.95,
) -> CompareResult:
    """Play every scenario with the same seed and trials; tabulate their outcomes.

    ``trials`` and ``seed`` default to the first scenario's. ``on_scenario(done, total,
    label)`` is called before each scenario is played.
    """
    if len(sources) < 2:
        raise ValueError("compare needs at least two scenarios")
    loaded = [as_scenario(source) for source in sources]
    trials = loaded[0].trials if trials is None else trials
    seed = loaded[0].seed if seed is None else seed
    labels = _labels(sources, loaded)
    scenarios = [with_overrides(s, trials, seed, horizon) for s in loaded]
    results = []
    for index, (label, scenario) in enumerate(zip(labels, scenarios, strict=True)):
        if on_scenario is not None:
            on_scenario(index, len(scenarios), label)
        results.append(play(scenario, workers=workers))
    if on_scenario is not None:
        on_scenario(len(scenarios), len(scenarios), "")

    outcomes = list(dict.fromkeys(o for s in scenarios for o in s.outcomes))
    first = results[0].trials["outcome"].astype(str).to_numpy()
    rows = []
    for label, result in zip(labels, results, strict=True):
        observed = result.trials["outcome"].astype(str).to_numpy()
        summary = result.summary.set_index("outcome")
        for outcome in outcomes:
            if outcome in summary.index:
                count, p, lo, hi = summary.loc[outcome, ["count", "probability", "lo", "hi"]]
            else:
                count, p, lo, hi = 0, 0.0, *_empty(len(observed), level)
            d, d_lo, d_hi = _paired(first == outcome, observed == outcome, level)
            rows.append(
                {
                    "scenario": label,
                    "outcome": outcome,
                    "count": int(count),
                    "probability": float(p),
                    "lo": float(lo),
                    "hi": float(hi),
                    "difference": d,
                    "diff_lo": d_lo,
                    "diff_hi": d_hi,
                }
            )
    table = pd.DataFrame(rows)
    info = {
        "scenarios": [
            {
                "label": label,
                "source": None if isinstance(source, Scenario) else str(source),
                "name": scenario.name,
                "scenario_hash": scenario_hash(scenario),
                "horizon": scenario.horizon,
                "timings_seconds": result.info.get("timings_seconds"),
            }
            for label, source, scenario, result in zip(
                labels, sources, scenarios, results, strict=True
            )
        ],
        "trials": trials,
        "seed": seed,
        "workers": workers,
        "common_random_numbers": CRN_COMPARE,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
    }
    return CompareResult(labels=labels, results=results, table=table, info=info)


__all__ = [
    "CRN_COMPARE",
    "CompareResult",
    "compare_figure",
    "compare_scenarios",
    "forest_figure",
    "print_comparison",
]


def _empty(n: int, level: float) -> tuple[float, float]:
    from escalation.analysis import wilson_interval

    lo, hi = wilson_interval(0, n, level)
    return float(lo), float(hi)
