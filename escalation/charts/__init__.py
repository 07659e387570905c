"""Plotly figures and the self-contained HTML report for an ``escalation`` run.

The figures read the DataFrames returned by :mod:`escalation.analysis` and
the engine's ``timeline``; they never import the model, engine or scenario
packages.  :func:`write_report` bundles figures, tables and notes into one
HTML file that opens offline.
"""

from escalation.charts.figures import (
    drivers_figure,
    outcome_colors,
    outcome_figure,
    survival_figure,
    timeline_figure,
)
from escalation.charts.report import render_report, write_report

__all__ = [
    "drivers_figure",
    "outcome_colors",
    "outcome_figure",
    "render_report",
    "survival_figure",
    "timeline_figure",
    "write_report",
]
