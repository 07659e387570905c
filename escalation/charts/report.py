"""A single self-contained HTML report that opens offline.

:func:`write_report` assembles headed figures, tables and plain-language notes
into one HTML file.  plotly.js is inlined exactly once (with the first
figure); the page references no network resource at all – no CDN scripts, no
external stylesheets or fonts.  All caller text is HTML-escaped, tables are
rendered by pandas with escaping on, and the file is written atomically (a
temporary file in the same directory, then :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["render_report", "write_report"]

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 0 auto;
       max-width: 1100px; padding: 24px 32px 64px; line-height: 1.45; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; margin-top: 2.2em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.note { color: #444; max-width: 60em; margin: 0.4em 0 1.2em; }
p.intro { max-width: 60em; }
figure { margin: 0; }
table.report-table { border-collapse: collapse; font-size: 0.92em; margin: 0.5em 0 1em; }
table.report-table th, table.report-table td { border: 1px solid #ccc; padding: 4px 10px; }
table.report-table th { background: #f3f3f3; text-align: left; }
table.report-table td { text-align: right; font-variant-numeric: tabular-nums; }
table.report-table td:first-child { text-align: left; }
"""

_MISSING = "—"


def _format_cell(value: Any) -> str:
    """Plain-text rendering of one table cell (missing and non-finite values become a dash)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return _MISSING
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return _MISSING
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    return str(value)


def _table_html(frame: pd.DataFrame) -> str:
    """Escaped HTML for ``frame`` with numbers formatted and missing values shown as a dash."""
    shown = pd.DataFrame(
        {str(col): [_format_cell(v) for v in frame[col].tolist()] for col in frame.columns},
        index=range(len(frame)),
    )
    return shown.to_html(index=False, escape=True, border=0, classes="report-table")


def _unpack(item: Sequence[Any], what: str) -> tuple[str, Any, str | None]:
    if len(item) == 2:
        return str(item[0]), item[1], None
    if len(item) == 3:
        return str(item[0]), item[1], None if item[2] is None else str(item[2])
    raise ValueError(f"each {what} must be (heading, {what}) or (heading, {what}, note)")


def _paragraphs(text: str | Sequence[str] | None, css: str) -> str:
    if text is None:
        return ""
    items = [text] if isinstance(text, str) else list(text)
    return "".join(f'<p class="{css}">{html.escape(str(t))}</p>\n' for t in items if str(t))


def render_report(
    title: str,
    figures: Sequence[tuple[str, go.Figure] | tuple[str, go.Figure, str]],
    tables: Sequence[tuple[str, pd.DataFrame] | tuple[str, pd.DataFrame, str]] = (),
    notes: Sequence[str] | str = (),
    intro: str | Sequence[str] | None = None,
) -> str:
    """Return the complete HTML text of the report (see :func:`write_report`)."""
    figure_items = [_unpack(item, "figure") for item in figures]
    table_items = [_unpack(item, "table") for item in tables]
    intro_text: list[str] = []
    if isinstance(notes, str):
        intro_text.append(notes)
        figure_notes: list[str] = []
    else:
        figure_notes = [str(n) for n in notes]
        if len(figure_notes) > len(figure_items):
            raise ValueError(
                f"{len(figure_notes)} notes given for {len(figure_items)} figures; "
                "pass one note per figure (or a single string for the whole report)"
            )
    if intro is not None:
        intro_text[:0] = [intro] if isinstance(intro, str) else [str(t) for t in intro]

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(str(title))}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(str(title))}</h1>",
        _paragraphs(intro_text, "intro"),
    ]
    for i, (heading, fig, note) in enumerate(figure_items):
        if note is None and i < len(figure_notes):
            note = figure_notes[i]
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=(i == 0),
            include_mathjax=False,
            div_id=f"figure-{i}",
            default_width="100%",
            default_height=f"{int(fig.layout.height or 480)}px",
            config={"displaylogo": False, "responsive": True},
        )
        parts.append(f'<section class="figure">\n<h2>{html.escape(heading)}</h2>')
        parts.append(f"<figure>{div}</figure>")
        parts.append(_paragraphs(note, "note"))
        parts.append("</section>")
    for heading, frame, note in table_items:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {heading!r} is not a pandas DataFrame")
        parts.append(f'<section class="table">\n<h2>{html.escape(heading)}</h2>')
        parts.append(_table_html(frame))
        parts.append(_paragraphs(note, "note"))
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(p for p in parts if p is not None)


def write_report(
    path: str | os.PathLike[str],
    title: str,
    figures: Sequence[tuple[str, go.Figure] | tuple[str, go.Figure, str]],
    tables: Sequence[tuple[str, pd.DataFrame] | tuple[str, pd.DataFrame, str]] = (),
    notes: Sequence[str] | str = (),
    intro: str | Sequence[str] | None = None,
) -> Path:
    """Write one self-contained, offline HTML report to ``path`` and return the path.

    * ``figures`` – ``(heading, figure)`` pairs, or ``(heading, figure, note)``
      triples carrying the plain-language note shown under that chart.
    * ``tables`` – ``(heading, DataFrame)`` pairs or ``(heading, DataFrame,
      note)`` triples, rendered after the figures as simple escaped HTML
      tables (numbers to 4 significant figures; ``<NA>``/NaN shown as "—").
    * ``notes`` – a **list**: one note per figure, in order (``notes[i]`` goes
      under ``figures[i]`` unless that figure is a triple with its own note;
      it may be shorter than ``figures``, not longer); a **string**: one
      report-level paragraph shown under the title.
    * ``intro`` – optional paragraph(s) shown under the title, before any
      string ``notes``.

    plotly.js is inlined once, with the first figure; the page makes no
    network requests.  Title, headings and notes are HTML-escaped.  The file
    is written to a temporary file in the target directory (created if
    missing) and moved into place with :func:`os.replace`, so readers never
    see a half-written report and no temporary file is left behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(title, figures, tables, notes, intro)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file private (0600); give the report ordinary permissions.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        os.chmod(tmp_name, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return target
