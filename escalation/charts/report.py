"""A single self-contained HTML report that opens offline.

:func:`write_report` assembles headed figures, tables and plain-language notes
into one HTML file.  By default plotly.js is inlined exactly once (with the first
figure); with ``plotly_js="beside"`` it is written once as ``plotly.min.js`` next to the
page, which loads it by a relative path (lighter folders when there are several pages). Either
way the page references no network resource at all – no CDN scripts, no
external stylesheets or fonts.  All caller text is HTML-escaped, tables are
rendered by pandas with escaping on, and files are written atomically (a
temporary file in the same directory, then :func:`os.replace`).
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["PLOTLY_JS", "Section", "render_report", "write_plotly_js", "write_report"]

#: File name of plotly.js when it is written beside the pages.
PLOTLY_JS = "plotly.min.js"

PlotlyJs = Literal["inline", "beside"]


@dataclass(frozen=True)
class Section:
    """One headed part of a report: a figure, a table or paragraphs (or several), and a note.

    ``level`` 2 is a section, 3 a part of the section above it.
    """

    heading: str
    figure: go.Figure | None = None
    table: pd.DataFrame | None = None
    text: Sequence[str] = field(default_factory=tuple)
    note: str | None = None
    level: int = 2


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
table.report-table.text td { text-align: left; vertical-align: top; max-width: 46em; }
nav.toc { font-size: 0.95em; margin: 1em 0 0.5em; }
nav.toc a { margin-right: 1.2em; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
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
    """Escaped HTML for ``frame`` with numbers formatted and missing values shown as a dash.

    A table whose columns are all text is left-aligned throughout.
    """
    shown = pd.DataFrame(
        {str(col): [_format_cell(v) for v in frame[col].tolist()] for col in frame.columns},
        index=range(len(frame)),
    )
    text = not any(pd.api.types.is_numeric_dtype(frame[c]) for c in frame)
    classes = ["report-table", "text"] if text and len(frame.columns) else "report-table"
    return shown.to_html(index=False, escape=True, border=0, classes=classes)


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


def _figure_html(fig: go.Figure, index: int, plotly_js: PlotlyJs) -> str:
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=(index == 0 and plotly_js == "inline"),
        include_mathjax=False,
        div_id=f"figure-{index}",
        default_width="100%",
        default_height=f"{int(fig.layout.height or 480)}px",
        config={"displaylogo": False, "responsive": True},
    )


def render_report(
    title: str,
    figures: Sequence[tuple[str, go.Figure] | tuple[str, go.Figure, str]],
    tables: Sequence[tuple[str, pd.DataFrame] | tuple[str, pd.DataFrame, str]] = (),
    notes: Sequence[str] | str = (),
    intro: str | Sequence[str] | None = None,
    sections: Sequence[Section] = (),
    plotly_js: PlotlyJs = "inline",
) -> str:
    """Return the complete HTML text of the report (see :func:`write_report`)."""
    if plotly_js not in ("inline", "beside"):
        raise ValueError(f"plotly_js must be 'inline' or 'beside', not {plotly_js!r}")
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
    for i, (heading, fig, note) in enumerate(figure_items):
        if note is None and i < len(figure_notes):
            note = figure_notes[i]
        figure_items[i] = (heading, fig, note)
    ordered = [Section(h, figure=f, note=n) for h, f, n in figure_items]
    for heading, frame, note in table_items:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {heading!r} is not a pandas DataFrame")
        ordered.append(Section(heading, table=frame, note=note))
    ordered += list(sections)

    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(str(title))}</title>",
        f"<style>{_CSS}</style>",
    ]
    if plotly_js == "beside":
        head.append(f'<script src="{PLOTLY_JS}" charset="utf-8"></script>')
    parts = [*head, "</head>", "<body>", f"<h1>{html.escape(str(title))}</h1>"]
    parts.append(_paragraphs(intro_text, "intro"))
    top = [s for s in ordered if s.level == 2]
    if len(top) > 4:
        links = "".join(
            f'<a href="#section-{i}">{html.escape(s.heading)}</a>'
            for i, s in enumerate(ordered)
            if s.level == 2
        )
        parts.append(f'<nav class="toc">{links}</nav>')
    figure_index = 0
    for i, section in enumerate(ordered):
        tag = "h2" if section.level <= 2 else "h3"
        parts.append(
            f'<section class="part" id="section-{i}">\n'
            f"<{tag}>{html.escape(section.heading)}</{tag}>"
        )
        parts.append(_paragraphs(list(section.text), "note"))
        if section.figure is not None:
            div = _figure_html(section.figure, figure_index, plotly_js)
            figure_index += 1
            parts.append(f"<figure>{div}</figure>")
        if section.table is not None:
            if not isinstance(section.table, pd.DataFrame):
                raise TypeError(f"table {section.heading!r} is not a pandas DataFrame")
            parts.append(_table_html(section.table))
        parts.append(_paragraphs(section.note, "note"))
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
    sections: Sequence[Section] = (),
    plotly_js: PlotlyJs = "inline",
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
    * ``sections`` – further :class:`Section` parts, after the figures and tables.
    * ``plotly_js`` – ``"inline"`` (default: one self-contained file) or ``"beside"``:
      ``plotly.min.js`` is written once next to the page (if not already there) and loaded
      from it by a relative path.

    By default plotly.js is inlined once, with the first figure; the page makes no
    network requests.  Title, headings and notes are HTML-escaped.  The file
    is written to a temporary file in the target directory (created if
    missing) and moved into place with :func:`os.replace`, so readers never
    see a half-written report and no temporary file is left behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render_report(title, figures, tables, notes, intro, sections, plotly_js)
    if plotly_js == "beside":
        write_plotly_js(target.parent)
    _atomic_write(target, text)
    return target


def write_plotly_js(folder: str | os.PathLike[str]) -> Path:
    """Write ``plotly.min.js`` (the installed plotly's) into ``folder`` unless it is there."""
    from plotly.offline import get_plotlyjs

    target = Path(folder) / PLOTLY_JS
    if not target.exists():
        _atomic_write(target, get_plotlyjs())
    return target


def _atomic_write(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file and :func:`os.replace`."""
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
