"""Plotly figures and the self-contained HTML report for an ``escalation`` run.

The figures read the DataFrames returned by :mod:`escalation.analysis` and
the engine's ``timeline``; they never import the model, engine or scenario
packages. Their shared conventions (colours, labels, dates) are in
:mod:`~escalation.charts.style`. :func:`write_report` bundles figures, tables and notes into
one HTML file that opens offline.
"""

from escalation.charts.discovery import box_table, discovery_figure
from escalation.charts.figures import (
    cumulative_figure,
    drivers_figure,
    outcome_figure,
    survival_figure,
    timeline_figure,
)
from escalation.charts.report import Section, render_report, write_report
from escalation.charts.style import humanize, label_of, outcome_colors, time_axis

__all__ = [
    "Section",
    "box_table",
    "cumulative_figure",
    "discovery_figure",
    "drivers_figure",
    "humanize",
    "label_of",
    "outcome_colors",
    "outcome_figure",
    "render_report",
    "survival_figure",
    "time_axis",
    "timeline_figure",
    "write_report",
]
