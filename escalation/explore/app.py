"""The explore page: a Dash app over one scenario (``escalation explore SCENARIO``).

The page's state lives in its URL (``?trials=..&enabled.<policy>=0&...``, see
:class:`~escalation.explore.settings.Settings`), so a reload or a shared link gives the same
page. Four callbacks, none of which lets an exception out (whatever the page sends, the
server answers with a message, never a 500):

- ``controls``: builds the controls from the scenario and the URL, once per page load;
- ``changed``: any control -> settings -> the scenario they make; an invalid one shows the
  located message of ``escalation validate`` and keeps the last good result; a valid one is
  submitted to the :class:`~escalation.explore.replay.Replayer` (superseding the page's
  previous replay) and written to the URL;
- ``poll``: progress of the running replay, then its numbers and figures;
- ``export``: the scenario YAML and the experiment file of the current settings.
"""

from __future__ import annotations

import functools
import logging
import uuid
from pathlib import Path
from typing import Any

import dash
from dash import ALL, Dash, Input, Output, State, dcc, html

from escalation.explore.document import Built, Explorer
from escalation.explore.replay import Replayer, outcome_rows
from escalation.explore.settings import Controls, Settings

#: Figures of :meth:`~escalation.engine.results.RunResult.figures` shown, in page order.
FIGURES = ("outcomes", "difference", "timeline", "cumulative", "survival", "drivers")
#: Milliseconds between progress polls while a replay runs.
POLL_MS = 300
#: Kinds of per-name controls, their Settings attribute, and the property holding the value.
KINDS = {
    "enabled": "value",
    "follow_through": "value",
    "perceived": "value",
    "quantile": "value",
    "shift": "value",
    "grant": "value",
}

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
.top { padding: 10px 18px; border-bottom: 1px solid #ddd; }
.top h1 { font-size: 20px; margin: 0 0 4px 0; }
.top p { margin: 2px 0; font-size: 13px; color: #555; }
.main { display: flex; align-items: flex-start; }
.side { width: 430px; min-width: 430px; height: calc(100vh - 80px); overflow-y: auto;
        padding: 8px 14px; border-right: 1px solid #ddd; font-size: 13px; }
.side h2 { font-size: 15px; margin: 14px 0 6px 0; }
.item { border-bottom: 1px solid #eee; padding: 5px 0; }
.item .name { font-weight: 600; }
.item .written { color: #666; font-size: 12px; }
.row { display: flex; gap: 8px; align-items: center; margin-top: 3px; }
.row label { min-width: 92px; color: #444; }
.row input[type=text], .row input[type=number] { width: 120px; }
.note { color: #8a5a00; font-size: 12px; }
.results { flex: 1; padding: 10px 18px; min-width: 0; }
.error { white-space: pre-wrap; background: #fdecea; border: 1px solid #e0a0a0;
         padding: 8px; font-family: ui-monospace, monospace; font-size: 12.5px; }
.notes { color: #8a5a00; font-size: 12.5px; }
table.outcomes { border-collapse: collapse; font-size: 13px; margin: 8px 0 14px 0; }
table.outcomes td, table.outcomes th { border-bottom: 1px solid #ddd; padding: 3px 10px;
                                       text-align: right; }
table.outcomes td:first-child, table.outcomes th:first-child { text-align: left; }
.status { font-size: 13px; color: #444; }
.buttons { display: flex; gap: 8px; margin: 10px 0; flex-wrap: wrap; }
"""


def _guarded(*fallback: Any):
    """Turn any exception of a callback into an error message in the page.

    ``fallback`` gives the outputs returned instead (``None`` marks the error message's
    place). Dash's own exceptions that steer the update (PreventUpdate) pass through.
    """

    def wrap(function):
        @functools.wraps(function)
        def guarded(*args: Any) -> Any:
            try:
                return function(*args)
            except dash.exceptions.PreventUpdate:
                raise
            except Exception as error:  # nothing the page sends may crash the server
                message = f"the page sent something it could not use: {type(error).__name__}"
                logging.getLogger(__name__).debug("callback failed", exc_info=True)
                out = [message if item is None else item for item in fallback]
                return out[0] if len(out) == 1 else tuple(out)

        return guarded

    return wrap


def _labelled(label: str, component: Any, title: str = "") -> html.Div:
    return html.Div([html.Label(label, title=title), component], className="row")


def _number(kind: str, name: str, value: Any, placeholder: str, **extra: Any) -> dcc.Input:
    return dcc.Input(
        id={"kind": kind, "name": name},
        type="number",
        value=value,
        placeholder=placeholder,
        debounce=0.5,
        **extra,
    )


def _text(kind: str, name: str, value: Any, placeholder: str) -> dcc.Input:
    return dcc.Input(
        id={"kind": kind, "name": name},
        type="text",
        value=value,
        placeholder=placeholder,
        debounce=True,
        maxLength=2000,
    )


def _written(text: str, kind: str) -> str:
    if kind == "default":
        return "as the follow-through"
    return f"{text} ({kind})"


def control_panel(controls: Controls, settings: Settings) -> list[Any]:
    """The controls of a scenario, set to ``settings``."""
    scenario = controls.scenario
    items: list[Any] = [
        html.H2("Run"),
        _labelled(
            "trials",
            dcc.Input(
                id={"kind": "run", "name": "trials"},
                type="number",
                value=settings.trials or scenario.trials,
                min=1,
                step=1,
                debounce=0.5,
            ),
        ),
        _labelled(
            "horizon (days)",
            dcc.Input(
                id={"kind": "run", "name": "horizon"},
                type="number",
                value=settings.horizon or scenario.horizon,
                step=1,
                debounce=0.5,
            ),
        ),
        html.H2("Policies"),
        html.P(
            "Follow-through and perceived take a number, or an expression in the scenario's "
            "grammar; either replaces the field as written (a parameter keeps its other uses). "
            "Empty: as written.",
            className="written",
        ),
    ]
    for name, policy in controls.policies.items():
        on = settings.enabled.get(name, policy.enabled)
        items.append(
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Checklist(
                                id={"kind": "enabled", "name": name},
                                options=[{"label": "", "value": "on"}],
                                value=["on"] if on else [],
                                inline=True,
                                style={"display": "inline-block"},
                            ),
                            html.Span(name, className="name"),
                            html.Span(f"  {policy.actor}: {policy.action}", className="written"),
                        ]
                    ),
                    _labelled(
                        "follow-through",
                        _text(
                            "follow_through",
                            name,
                            settings.follow_through.get(name),
                            policy.follow_through.text,
                        ),
                        title=_written(policy.follow_through.text, policy.follow_through.kind),
                    ),
                    _labelled(
                        "perceived",
                        _text(
                            "perceived",
                            name,
                            settings.perceived.get(name),
                            policy.perceived.text or "= follow-through",
                        ),
                        title=_written(policy.perceived.text, policy.perceived.kind),
                    ),
                ],
                className="item",
                id=f"policy-{name}",
            )
        )
    items += [
        html.H2("Uncertain parameters"),
        html.P(
            "Fix at a quantile of its distribution (0 to 1), or shift every draw by an amount "
            "(families where a shift is exact: uniform, triangular, beta, normal).",
            className="written",
        ),
    ]
    for name, parameter in controls.parameters.items():
        rows = [
            html.Div([html.Span(name, className="name")]),
            html.Div(parameter.text, className="written", title=parameter.description),
            _labelled(
                "quantile",
                _number(
                    "quantile",
                    name,
                    settings.quantile.get(name),
                    "drawn",
                    min=0,
                    max=1,
                    step=0.05,
                ),
            ),
        ]
        if parameter.shiftable:
            rows.append(
                _labelled(
                    "shift by",
                    _number("shift", name, settings.shift.get(name), "0", step=parameter.step),
                )
            )
        items.append(html.Div(rows, className="item", id=f"parameter-{name}"))
    items += [
        html.H2("Demands granted on day N"),
        html.P(
            "Sets the grantor's concede policy to concede on day N (when: day >= N, hazard 1, "
            "follow-through 1; not before). A grantor with no concede policy gets one added, "
            "which moves the daily random numbers (the pairing then holds for each trial's "
            "world, not its days).",
            className="written",
        ),
    ]
    for name, demand in controls.demands.items():
        rows = [
            html.Div(
                [
                    html.Span(name, className="name"),
                    html.Span(f"  by {demand.by}", className="written"),
                ]
            ),
            html.Div(demand.text, className="written"),
            _labelled(
                "granted on day",
                _number("grant", name, settings.grant.get(name), "as written", min=0, step=1),
            ),
        ]
        if len(demand.group) > 1:
            others = ", ".join(d for d in demand.group if d != name)
            rows.append(html.Div(f"traded with {others}: granted together", className="note"))
        if demand.adds_policies:
            rows.append(html.Div("adds a concede policy", className="note"))
        items.append(html.Div(rows, className="item", id=f"demand-{name}"))
    return items


def _percent(value: float, signed: bool = False) -> str:
    return f"{value:+.1%}" if signed else f"{value:.1%}"


def outcome_table(
    rows: list[dict[str, Any]], labels: dict[str, str], query: str = ""
) -> html.Table:
    """The outcome distribution and its paired difference from the scenario as written.

    ``query`` (the settings' URL query) is kept on the table, so a reader (or a test) can tell
    which settings the numbers are for.
    """
    head = html.Tr(
        [
            html.Th("outcome"),
            html.Th("probability"),
            html.Th("95% interval"),
            html.Th("trials"),
            html.Th("as written"),
            html.Th("difference (paired)"),
            html.Th("95% interval"),
        ]
    )
    body = []
    for row in rows:
        body.append(
            html.Tr(
                [
                    html.Td(labels.get(row["outcome"], row["outcome"].replace("_", " "))),
                    html.Td(_percent(row["probability"])),
                    html.Td(f"{_percent(row['lo'])}\u00a0–\u00a0{_percent(row['hi'])}"),
                    html.Td(f"{row['count']:,}"),
                    html.Td(_percent(row["base_count"] / max(1, sum(r["count"] for r in rows)))),
                    html.Td(_percent(row["difference"], True)),
                    html.Td(
                        f"{_percent(row['diff_lo'], True)}\u00a0–\u00a0"
                        f"{_percent(row['diff_hi'], True)}"
                    ),
                ],
                className="outcome-row",
                **{
                    "data-outcome": row["outcome"],
                    "data-count": str(row["count"]),
                    "data-base-count": str(row["base_count"]),
                    "data-difference": repr(row["difference"]),
                },
            )
        )
    return html.Table(
        [html.Thead(head), html.Tbody(body)],
        className="outcomes",
        id="outcome-table",
        **{"data-query": query},
    )


def _labels(result: Any) -> dict[str, str]:
    labels = getattr(result, "labels", None)
    outcomes = getattr(labels, "outcomes", None)
    return dict(outcomes) if isinstance(outcomes, dict) else {}


def create_app(
    path: str | Path, explorer: Explorer | None = None, replayer: Replayer | None = None
) -> Dash:
    """The Dash app of one scenario file (raises InputError if the file is invalid)."""
    explorer = explorer or Explorer(path)
    replayer = replayer or Replayer(explorer)
    scenario = explorer.scenario
    app = Dash(
        __name__,
        title=f"escalation explore: {scenario.name}",
        update_title=None,
        serve_locally=True,
        suppress_callback_exceptions=True,
    )
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + _STYLE + "</style>")
    app.server.register_error_handler(Exception, _bad_request)
    app.explorer = explorer  # type: ignore[attr-defined]
    app.replayer = replayer  # type: ignore[attr-defined]
    when = f", day 0 = {scenario.date.isoformat()}" if scenario.date else ""

    def layout() -> html.Div:
        return html.Div(
            [
                dcc.Location(id="url", refresh=False),
                dcc.Store(id="session", data=uuid.uuid4().hex),
                dcc.Store(id="built", data=False),
                dcc.Store(id="job", data=None),
                dcc.Store(id="shown", data=None),
                dcc.Interval(id="poll", interval=POLL_MS, disabled=True),
                dcc.Download(id="download-scenario"),
                dcc.Download(id="download-experiment"),
                html.Div(
                    [
                        html.H1(scenario.title or scenario.name),
                        html.P(
                            f"{explorer.path} · seed {scenario.seed}{when} · every change is "
                            "replayed with this seed (common random numbers), beside the "
                            "scenario as written with the same trials and horizon."
                        ),
                    ],
                    className="top",
                ),
                html.Div(
                    [
                        html.Div(
                            [
                                html.Div(
                                    [
                                        html.Button("Export scenario YAML", id="export-scenario"),
                                        html.Button("Export experiment", id="export-experiment"),
                                        html.A("Reset", href="./", id="reset"),
                                    ],
                                    className="buttons",
                                ),
                                html.Div(id="export-message", className="notes"),
                                html.Div(id="controls"),
                            ],
                            className="side",
                        ),
                        html.Div(
                            [
                                html.Div(
                                    [
                                        html.Progress(id="progress", value="0", max="1"),
                                        html.Span(" ", id="status", className="status"),
                                    ]
                                ),
                                html.Div(id="error"),
                                html.Div(id="notes", className="notes"),
                                html.Div(id="changes", className="written"),
                                html.Div(id="table"),
                                *[
                                    dcc.Graph(
                                        id=f"figure-{name}",
                                        figure=_blank(),
                                        config={"displaylogo": False},
                                    )
                                    for name in FIGURES
                                ],
                            ],
                            className="results",
                        ),
                    ],
                    className="main",
                ),
            ]
        )

    app.layout = layout

    @app.callback(
        Output("controls", "children"),
        Output("built", "data"),
        Input("url", "search"),
        State("built", "data"),
    )
    @_guarded(None, True)
    def controls(search: Any, built: Any) -> Any:
        if built:
            raise dash.exceptions.PreventUpdate
        query = search if isinstance(search, str) else ""
        settings, _ = Settings.from_query(query, explorer.controls)
        return control_panel(explorer.controls, settings), True

    inputs = [Input({"kind": kind, "name": ALL}, prop) for kind, prop in KINDS.items()]
    inputs.append(Input({"kind": "run", "name": ALL}, "value"))
    states = [State({"kind": kind, "name": ALL}, "id") for kind in KINDS]
    states.append(State({"kind": "run", "name": ALL}, "id"))

    @app.callback(
        Output("url", "search"),
        Output("error", "children"),
        Output("notes", "children"),
        Output("changes", "children"),
        Output("job", "data"),
        inputs=[*inputs, *states, State("session", "data")],
    )
    @_guarded(dash.no_update, None, dash.no_update, dash.no_update, dash.no_update)
    def changed(*args: Any) -> Any:
        n = len(KINDS) + 1
        values, ids, session = args[:n], args[n : 2 * n], args[2 * n]
        if not any(isinstance(i, list) and i for i in ids):
            raise dash.exceptions.PreventUpdate  # the controls are not built yet
        data = settings_data(values, ids)
        built = explorer.build(data)
        search = "?" + built.settings.to_query() if not built.settings.is_empty() else ""
        notes = "; ".join(built.notes)
        changes = _changes_text(built)
        if not built.ok:
            # The list of changes stays that of the result still shown.
            return dash.no_update, _error(built), notes, dash.no_update, dash.no_update
        job = replayer.submit(str(session), built)
        return search, None, notes, changes, job.id

    @app.callback(
        Output("progress", "value"),
        Output("status", "children"),
        Output("table", "children"),
        *[Output(f"figure-{name}", "figure") for name in FIGURES],
        Output("poll", "disabled"),
        Output("shown", "data"),
        Output("error", "children", allow_duplicate=True),
        Input("poll", "n_intervals"),
        Input("job", "data"),
        State("shown", "data"),
        prevent_initial_call=True,
    )
    @_guarded(
        dash.no_update,
        dash.no_update,
        *[dash.no_update] * (len(FIGURES) + 1),
        True,
        dash.no_update,
        None,
    )
    def poll(_: Any, job_id: Any, shown: Any) -> Any:
        same = [dash.no_update] * (len(FIGURES) + 1)
        job = replayer.job(job_id)
        if job is None:
            return "0", "", *same, True, dash.no_update, dash.no_update
        if not job.finished:
            verb = "replaying" if job.state == "running" else "waiting"
            text = f"{verb}: {job.done:,} of {job.total:,} trials played"
            return str(job.progress), text, *same, False, dash.no_update, dash.no_update
        if job.state == "superseded":
            return "0", "superseded by a newer change", *same, False, dash.no_update, dash.no_update
        if job.state == "failed":
            error = html.Div(job.error, className="error", id="error-text")
            return "0", "the replay failed", *same, True, dash.no_update, error
        replay = job.replay
        assert replay is not None
        status = (
            f"{replay.trials:,} trials replayed in {replay.seconds:.1f} s "
            f"(seed {replay.result.scenario.seed}, horizon {replay.result.scenario.horizon} days)"
        )
        if shown == job.id:
            return "1", status, *same, True, dash.no_update, dash.no_update
        rows = outcome_rows(replay.table)
        figures = [replay.figures.get(name, _blank()) for name in FIGURES]
        table = outcome_table(rows, _labels(replay.result), replay.query)
        return "1", status, table, *figures, True, job.id, None

    @app.callback(
        Output("download-scenario", "data"),
        Output("download-experiment", "data"),
        Output("export-message", "children"),
        Input("export-scenario", "n_clicks"),
        Input("export-experiment", "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    @_guarded(dash.no_update, dash.no_update, None)
    def export(_a: Any, _b: Any, search: Any) -> Any:
        built = explorer.build(search if isinstance(search, str) else "")
        if not built.ok:
            return dash.no_update, dash.no_update, "fix the error shown first: " + str(built.error)
        trigger = dash.ctx.triggered_id
        if trigger == "export-experiment":
            file = {"content": built.experiment_text, "filename": explorer.experiment_name}
            return dash.no_update, file, f"exported {explorer.experiment_name}"
        file = {"content": built.text, "filename": explorer.export_name}
        return file, dash.no_update, f"exported {explorer.export_name}"

    return app


def _bad_request(error: Exception) -> Any:
    """A request Dash itself cannot read (not one the page makes): 400, never a 500."""
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException):
        return error
    logging.getLogger(__name__).debug("bad request", exc_info=True)
    return f"bad request: {type(error).__name__}", 400


def settings_data(values: Any, ids: Any) -> dict[str, Any]:
    """JSON-like settings from the values and ids of the pattern-matched controls.

    Anything malformed (ids that are not ours, lists of the wrong length) is skipped: the
    page's requests are untrusted input.
    """
    data: dict[str, Any] = {}
    kinds = [*KINDS, "run"]
    for kind, kind_values, kind_ids in zip(kinds, values, ids, strict=False):
        if not isinstance(kind_values, list) or not isinstance(kind_ids, list):
            continue
        for value, ident in zip(kind_values, kind_ids, strict=False):
            if not isinstance(ident, dict) or not isinstance(ident.get("name"), str):
                continue
            name = ident["name"]
            if kind == "run":
                if name in ("trials", "horizon"):
                    data[name] = value
                continue
            if kind == "enabled":
                value = isinstance(value, list) and "on" in value
            data.setdefault(kind, {})[name] = value
    return data


def _changes_text(built: Built) -> Any:
    notes = [c.note for c in built.changes] + [p.note for p in built.added]
    if not notes:
        return "The scenario as written."
    return html.Ul([html.Li(note) for note in dict.fromkeys(notes)], id="change-list")


def _error(built: Built) -> html.Div:
    return html.Div(
        [
            html.Div(
                "This setting makes the scenario invalid; the last good result stays below. "
                "escalation validate says:",
            ),
            html.Pre(f"error: {built.error}", id="error-text"),
        ],
        className="error",
    )


def _blank() -> dict[str, Any]:
    """An empty, axis-free figure for a place the replay has not filled yet."""
    axis = {"visible": False}
    return {"data": [], "layout": {"height": 30, "xaxis": axis, "yaxis": axis}}


def serve(path: str | Path, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Serve the page of ``path`` until interrupted."""
    serve_app(create_app(path), host, port)


def serve_app(app: Dash, host: str = "127.0.0.1", port: int = 8050) -> None:
    """Serve an app made by :func:`create_app` until interrupted (localhost by default).

    Raises OSError when the address cannot be bound (a port in use), before serving.
    """
    from werkzeug.serving import make_server

    _check_free(host, port)  # werkzeug would print its own message and exit with status 1
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app.server, threaded=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.replayer.close()  # type: ignore[attr-defined]


def _check_free(host: str, port: int) -> None:
    """Raise OSError if ``host:port`` cannot be bound (as the server would bind it)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
