"""The figures, tables and HTML report of one run, and its short text and notebook displays.

The report reads as an analyst would want it: how the crisis ends (beside any base rates the
scenario records), when violence comes (calendar dates), how the crisis moves, what drives the
gravest choosable outcome (types as factors, parameters as drawn, a global index beside the
easy effect), the outcomes of each type, the boxes of assumptions under which
that outcome is likely (scenario discovery), and then every assumption the numbers rest on.
Functions take a :class:`~escalation.engine.results.RunResult` (not imported: it imports this).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from escalation import analysis, charts
from escalation.analysis import discovery
from escalation.charts import Section
from escalation.engine import assumptions
from escalation.engine.labels import sentence_case

#: A :class:`~escalation.engine.results.RunResult`.
RunResult = Any

#: Most trials PRIM reads for the report's discovery section (a seeded sample beyond that).
DISCOVERY_ROWS = 20_000


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _interval(lo: float, hi: float, signed: bool = False) -> str:
    fmt = "{:+.1%}" if signed else "{:.1%}"
    # No-break spaces: an interval never breaks over two lines of a table cell.
    return f"{fmt.format(lo)}\u00a0–\u00a0{fmt.format(hi)}"


def colors(result: RunResult) -> dict[str, str]:
    """One colour per outcome, the same in every chart of the scenario."""
    return charts.outcome_colors(result.outcomes, result.violent)


def focus_label(result: RunResult) -> str:
    """The focus outcome's label in running text."""
    return sentence_case(result.labels.outcome(result.focus)) if result.focus else ""


def factor_labels(result: RunResult) -> dict[str, str]:
    """Labels of every factor a drivers chart can show."""
    labels = result.labels
    names = [*result.parameters, *analysis.type_columns(result.sample)]
    return {name: labels.factor(name) for name in names}


def run_figures(result: RunResult) -> dict[str, Any]:
    """The report's plotly figures by name."""
    labels = result.labels
    palette = colors(result)
    start = result.scenario.date
    figures = {
        "outcomes": charts.outcome_figure(
            result.summary,
            result.violent,
            palette,
            labels=labels.outcomes,
            base_rates=assumptions.base_rates(result.scenario),
        ),
        "timeline": charts.timeline_figure(
            result.timeline,
            result.violent,
            palette,
            labels=labels.outcomes,
            rung_labels=labels.rungs,
            rung_outcomes=labels.rung_outcomes,
            deciders=labels.actors,
            start=start,
        ),
    }
    if result.violent:
        figures["cumulative"] = charts.cumulative_figure(
            result.cumulative(), labels.outcomes, palette, start=start
        )
    if result.focus:
        focus = focus_label(result)
        figures["survival"] = charts.survival_figure(
            result.survival(), focus, palette.get(result.focus, "#d73027"), start=start
        )
        figures["drivers"] = charts.drivers_figure(
            result.drivers(), focus, labels=factor_labels(result)
        )
    return figures


def outcomes_table(result: RunResult) -> pd.DataFrame:
    """Each outcome's share and interval, beside its base rate where one is recorded."""
    rates = assumptions.base_rates(result.scenario)
    rows = []
    for row in result.summary.itertuples():
        entry = {
            "outcome": result.labels.outcome(row.outcome),
            "probability": _pct(row.probability),
            "95% interval": _interval(row.lo, row.hi),
            "trials": f"{row.count:,}",
        }
        if rates:
            share, source = rates.get(row.outcome, (None, ""))
            entry["base rate"] = "—" if share is None else _pct(share)
            entry["base rate source"] = source or "—"
        rows.append(entry)
    return pd.DataFrame(rows)


def timing_table(result: RunResult) -> pd.DataFrame:
    """How many trials reached each violent rung, and when (date and day)."""
    labels = result.labels
    rows = []
    for row in result.timing.itertuples():
        reached = not pd.isna(row.median_day)
        rows.append(
            {
                "reached (or a higher rung)": labels.outcome(row.outcome),
                "share": _pct(row.share),
                "median date": labels.date(int(row.median_day)) if reached else "—",
                "median day": f"{row.median_day:g}" if reached else "—",
                "95% interval (days)": f"{row.lo:g}\u00a0–\u00a0{row.hi:g}" if reached else "—",
            }
        )
    return pd.DataFrame(rows)


def replaced_in(result: RunResult) -> dict[str, str]:
    """Parameter -> the types whose trials play an override instead of its drawn value."""
    found: dict[str, list[str]] = {}
    for row in result.overridden().itertuples():
        found.setdefault(row.parameter, []).append(row.type)
    return {name: " and ".join(types) for name, types in found.items()}


def drivers_table(result: RunResult, outcome: str | None = None) -> pd.DataFrame:
    """Every factor's effect on ``outcome`` as text: groups, shares, change, PAWN index."""
    table = result.drivers(outcome)
    labels = factor_labels(result)
    replaced = replaced_in(result)
    rows = []
    for row in table.itertuples():
        if row.kind == "noise":
            continue
        how = "type" if row.kind == "type" else "as drawn"
        if row.factor in replaced:
            how += f" (replaced in trials of type {replaced[row.factor]})"
        rows.append(
            {
                "factor": labels.get(row.factor, row.factor),
                "measured": how,
                "low group": row.low or "—",
                "high group": row.high or "—",
                "P low": _pct(row.p_low),
                "P high": _pct(row.p_high),
                "change": f"{row.difference:+.1%}",
                "95% interval": _interval(row.lo, row.hi, signed=True),
                "PAWN": f"{row.pawn:.3f}",
            }
        )
    floor = table[table["kind"] == "noise"]
    if len(floor):
        rows.append(
            {
                "factor": "noise floor (a dummy factor)",
                "measured": "",
                "low group": "",
                "high group": "",
                "P low": "",
                "P high": "",
                "change": "",
                "95% interval": "",
                "PAWN": f"{float(floor['pawn'].iloc[0]):.3f}",
            }
        )
    return pd.DataFrame(rows)


def types_table(result: RunResult, column: str) -> pd.DataFrame:
    """P(outcome | type) for one type column, one row per type, ``share (interval)`` cells."""
    frame = result.by_type(column)
    rows = []
    for kind, part in frame.groupby("type", sort=False):
        entry = {
            "type": kind,
            "share of trials": _pct(float(part["share"].iloc[0])),
        }
        for row in part.itertuples():
            entry[result.labels.outcome(row.outcome)] = (
                f"{row.probability:.1%} ({100 * row.lo:.1f}–{100 * row.hi:.1f})"
            )
        rows.append(entry)
    return pd.DataFrame(rows)


def discovery_sections(result: RunResult) -> list[Section]:
    """PRIM's box for the focus outcome over the run's parameters and types."""
    if not result.focus:
        return []
    # Parameters as drawn and the types, each an input in its own right.
    inputs = [*result.varying_parameters, *result.type_columns]
    if not inputs:
        return []
    y = analysis.indicator(result.sample, result.focus)
    if y.sum() < 10:
        return []
    sample = result.sample
    if len(sample) > DISCOVERY_ROWS:
        sample = sample.sample(DISCOVERY_ROWS, random_state=0)
        y = analysis.indicator(sample, result.focus)
    found = discovery.prim(sample[inputs], y, seed=int(result.info.get("seed", 0) or 0))
    focus = focus_label(result)
    labels = factor_labels(result)
    return [
        Section(
            f"When is {focus} likely? (scenario discovery)",
            figure=charts.discovery_figure(found, labels, f"P({focus})"),
            table=charts.box_table(found, labels),
            text=[discovery.summary_text(found, f"P({focus})", labels)],
            note=discovery.NOTE + _sample_note(result, "The cases are drawn from {}."),
        )
    ]


def assumption_sections(result: RunResult) -> list[Section]:
    """What the numbers assume: the scenario's facts, parameters, types, outcomes, references."""
    scenario = result.scenario
    labels = result.labels
    sections = [
        Section(
            "Assumptions",
            table=assumptions.scenario_facts(scenario, result.info),
            text=[
                "Every number above follows from the scenario below and the model of "
                "docs/model.md. Monte Carlo intervals say how precisely the model's numbers "
                "are estimated, not how right the model is."
            ],
        ),
        Section(
            "Parameters",
            table=assumptions.parameter_table(scenario),
            note="Each trial draws every parameter once from its distribution (a path: each "
            "point, interpolated between days). Sources cite the references below or say "
            "'assumption' and why.",
            level=3,
        ),
    ]
    types = assumptions.type_table(scenario, labels)
    if len(types):
        sections.append(
            Section(
                "Private types",
                table=types,
                note="Each trial draws one type with the prior's share; a type's overrides "
                "replace those parameters for its trials.",
                level=3,
            )
        )
    sections.append(
        Section("Outcomes", table=assumptions.outcome_definitions(scenario, labels), level=3)
    )
    rates = assumptions.base_rates(scenario)
    if rates:
        sections.append(
            Section(
                "Base rates",
                table=pd.DataFrame(
                    [
                        (labels.outcome(o), _pct(share), source)
                        for o, (share, source) in rates.items()
                    ],
                    columns=["outcome", "base rate", "source"],
                ),
                level=3,
            )
        )
    refs = assumptions.references_table(scenario)
    if len(refs):
        sections.append(Section("References", table=refs, level=3))
    return sections


def run_sections(result: RunResult) -> list[Section]:
    """Every part of the run report, in order."""
    figures = run_figures(result)
    n = result.n_trials
    focus = focus_label(result)
    sections = [
        Section(
            "How the crisis ends",
            figure=figures["outcomes"],
            table=outcomes_table(result),
            note=f"Share of {n:,} trials ending in each outcome, with 95% Wilson intervals "
            "(the Monte Carlo uncertainty, not the uncertainty of the model itself)."
            + (
                " Black bars: base rates the scenario records, for comparison."
                if assumptions.base_rates(result.scenario)
                else ""
            ),
        )
    ]
    if "cumulative" in figures:
        sections.append(
            Section(
                "When violence comes",
                figure=figures["cumulative"],
                table=timing_table(result),
                note="Share of trials that have reached each violent rung, or a higher one, "
                "by each date, with 95% bands. The curves are nested: a trial that reached a "
                "higher rung has reached the lower ones.",
            )
        )
    sections.append(
        Section(
            "The crisis over time",
            figure=figures["timeline"],
            note=_timeline_note(result),
        )
    )
    if "survival" in figures:
        sections.append(
            Section(
                f"Days without {focus}",
                figure=figures["survival"],
                note=f"Share of trials that have not reached {focus} by each date, with a "
                "95% band. The axis spans the curve's range, not 0-100%.",
            )
        )
        sections.append(
            Section(
                f"What drives {focus}",
                figure=figures["drivers"],
                table=drivers_table(result),
                note=_drivers_note(result, focus),
            )
        )
    for column in result.type_columns:
        sections.append(
            Section(
                f"Outcomes by {result.labels.factor(column)}",
                table=types_table(result, column),
                note="P(outcome | type) with 95% Wilson intervals (in brackets, in percent).",
            )
        )
    sections += discovery_sections(result)
    sections += assumption_sections(result)
    return sections


def _timeline_note(result: RunResult) -> str:
    """What the timeline's panels show: one per deciding actor, then the provisional outcome."""
    deciders = result.scenario.decider_blocks
    where = (
        "Top: where live trials stand on the ladder each day"
        if len(deciders) == 1
        else "Upper panels, one per deciding actor ("
        + ", ".join(result.labels.actor(d.key) for d in deciders)
        + "): where live trials stand on its ladder each day"
    )
    return (
        f"{where}, and the shares that have ended. Bottom: how trials would be classified if "
        "the horizon were that day."
    )


#: Fewer cases of the focus outcome than this, and the drivers section says they are few.
FEW_CASES = 100


def _drivers_note(result: RunResult, focus: str) -> str:
    cases = result.cases()
    text = f"{cases:,} of {result.n_trials:,} trials ended in {focus}."
    if cases < FEW_CASES:
        text += (
            " That is few: most differences below are within Monte Carlo noise, as their "
            "intervals show; more trials would sharpen them."
        )
    text += (
        f" Left: P({focus}) in the top third of each parameter minus the bottom third (for a "
        "private type: in the type where it is likeliest minus the one where it is rarest), "
        "with 95% intervals. Right: the PAWN index (Pianosi and Wagener 2015, as in SALib), a "
        "global measure on the same trials that also sees effects that are not monotone; the "
        "dashed line is the index of a dummy factor of pure noise. Parameters are read as drawn, "
        "before a type's overrides. Associations in the model, not causes in the world."
    )
    if result.streamed is not None and result.streamed.sample_trials < result.n_trials:
        text += (
            f" The shares and their intervals count all {result.n_trials:,} trials; the thirds "
            "are cut, and the rank correlations and the PAWN index computed, in a sample:"
            + _sample_note(result, "{}.")
        )
    replaced = replaced_in(result)
    if replaced:
        text += (
            " Some types replace a parameter by a value of their own ("
            + "; ".join(
                f"{result.labels.parameter(p)}: type {types}" for p, types in replaced.items()
            )
            + "): in their trials its drawn value plays no part, so its effect is its effect "
            "in the other types, spread over all trials."
        )
    return text


def _sample_note(result: RunResult, sentence: str) -> str:
    """``sentence`` with ``{}`` replaced by which trials a streamed run's sample holds, after a
    space ('' if the run has no sample or its sample is every trial)."""
    streamed = result.streamed
    if streamed is None or streamed.sample_trials >= result.n_trials:
        return ""
    which = (
        f"the first {streamed.sample_trials:,} of the {result.n_trials:,} trials (its first "
        f"{streamed.sample_blocks} block{'s' if streamed.sample_blocks != 1 else ''}: the "
        "same trials for a given seed, whatever the workers)"
    )
    return " " + sentence.format(which)


def _streamed_text(result: RunResult) -> str:
    """How a streamed run kept its trials, for the report's introduction."""
    kept = {
        "trials/": "its trials were written block by block to trials/ (a parquet dataset)",
        None: "its trials were not kept (--no-trials)",
    }.get(result.info.get("trials_file"), "")
    text = (
        "The run was streamed: the summaries, the timeline and the drivers' shares were "
        "counted block by block over every trial, exactly, without keeping a table of trials"
    )
    return text + (f"; {kept}." if kept else ".")


def write_run_report(result: RunResult, path: str | Path, plotly_js: str = "inline") -> Path:
    """Write the run's HTML report."""
    scenario = result.scenario
    n = result.n_trials
    start = (
        f" from {result.labels.date(0)} to {result.labels.date(scenario.horizon)}"
        if scenario.date
        else ""
    )
    intro = [
        f"{scenario.title or scenario.name}. {n:,} trials, seed {result.info.get('seed')}, "
        f"{scenario.horizon} days{start}.",
    ]
    if scenario.description:
        intro.append(" ".join(scenario.description.split()))
    if result.streamed is not None:
        intro.append(_streamed_text(result))
    return charts.write_report(
        path,
        f"escalation: {scenario.title or scenario.name}",
        [],
        intro=intro,
        sections=run_sections(result),
        plotly_js=plotly_js,
    )


def short_repr(result: RunResult) -> str:
    """A few lines: the scenario, trials, and each outcome's share."""
    scenario = result.scenario
    shares = ", ".join(
        f"{result.labels.outcome(row.outcome)} {row.probability:.1%}"
        for row in result.summary.itertuples()
        if row.count
    )
    return (
        f"<RunResult {scenario.name!r}: {result.n_trials:,} trials, seed "
        f"{result.info.get('seed', scenario.seed)}, {scenario.horizon} days; {shares}>"
    )


def html_repr(result: RunResult) -> str:
    """A small HTML table for notebooks: each outcome's share and interval."""
    scenario = result.scenario
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(result.labels.outcome(r.outcome))}</td>"
        f"<td>{r.probability:.1%}</td><td>{r.lo:.1%} – {r.hi:.1%}</td><td>{r.count:,}</td></tr>"
        for r in result.summary.itertuples()
    )
    return (
        f"<div><b>{html.escape(scenario.title or scenario.name)}</b><br>"
        f"{result.n_trials:,} trials, seed {result.info.get('seed', scenario.seed)}, "
        f"{scenario.horizon} days<table><thead><tr><th>outcome</th><th>probability</th>"
        f"<th>95% interval</th><th>trials</th></tr></thead><tbody>{rows}</tbody></table>"
        "<small>.summary, .drivers(), .figures(), .write(folder)</small></div>"
    )
