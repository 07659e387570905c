"""The ``escalation`` command line: run, sweep, compare, backtest, discover, validate, explore,
schema. The commands hold no logic of their own.

Mistakes in input files print one line, ``file:line: field: message``, and exit with status 2;
failures to write results exit with status 1; an interrupt (Ctrl-C or SIGTERM) exits with 130.
None of them prints a traceback, and none leaves a partial results folder (an interrupted sweep
keeps its finished points in a folder marked incomplete, for ``--resume``).

With ``--json``, ``run``, ``sweep``, ``compare`` and ``validate`` print one JSON document on
stdout instead of tables (``"ok": true`` and the numbers, or ``"ok": false`` and the error);
the human-readable error still goes to stderr.

Everything heavy (numpy, pandas, Mesa, rich's tables) is imported inside the commands, so that
``escalation --help`` and ``escalation validate`` start quickly.
"""

from __future__ import annotations

import datetime
import json
import math
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

app = typer.Typer(
    help="Play an international crisis forward as an agent-based model and report how it ends.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

INPUT_ERROR, OUTPUT_ERROR, INTERRUPTED = 2, 1, 130


class _Consoles:
    """rich consoles for stdout and stderr, made on first use (rich is slow to import)."""

    _out: Console | None = None
    _err: Console | None = None

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console()
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True)
        return self._err


consoles = _Consoles()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("escalation")
        except PackageNotFoundError:
            import escalation

            number = escalation.__version__
        typer.echo(f"escalation {number}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Play an international crisis forward as an agent-based model and report how it ends."""


# --- errors, interrupts and JSON --------------------------------------------------------


@contextmanager
def reported(json_output: bool = False, document: dict | None = None) -> Iterator[None]:
    """Turn expected failures into one clear line and an exit status, never a traceback.

    SIGTERM is turned into the same clean interrupt as Ctrl-C while the command runs, so a
    terminated run also unwinds through the atomic writers and leaves nothing half-written.
    With ``json_output`` a failure also prints ``document`` with ``"ok": false`` and the error.
    """
    from escalation.engine.folders import OutputError
    from escalation.engine.memory import MemoryShortage
    from escalation.scenario.yamlio import InputError

    previous = {}
    if threading.current_thread() is threading.main_thread():
        _pending.clear()
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _interrupt)
        previous[signal.SIGINT] = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    except (InputError, OutputError, MemoryShortage) as error:
        status = OUTPUT_ERROR if isinstance(error, OutputError) else INPUT_ERROR
        _fail(str(error), status, json_output, document, _error_fields(error))
    except MemoryError:
        _fail(
            "out of memory: this run needs more memory than the machine gave it; use fewer "
            "--trials (or fewer --workers)",
            OUTPUT_ERROR,
            json_output,
            document,
            {"kind": "memory"},
        )
    except Exception as error:
        if not _caused_by_interrupt(error):
            raise
        _interrupted(json_output, document)
    except KeyboardInterrupt:
        _interrupted(json_output, document)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupted(json_output: bool, document: dict | None) -> None:
    _fail(
        "interrupted: no results were written",
        INTERRUPTED,
        json_output,
        document,
        {"kind": "interrupted"},
        prefix="",
    )


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` wraps a Ctrl-C: Python 3.11 turns a KeyboardInterrupt raised while a
    class is being made (in ``__set_name__``, during an import) into a RuntimeError."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__
    return False


def _fail(
    message: str,
    status: int,
    json_output: bool,
    document: dict | None,
    fields: dict[str, Any],
    prefix: str = "error:",
) -> None:
    from rich.text import Text

    # Text, not a markup string: a file name or YAML key such as '[/b]' prints as it is.
    line = Text.assemble((prefix, "bold red"), f" {message}") if prefix else Text(message)
    consoles.err.print(line, soft_wrap=True, highlight=False)
    if json_output:
        _emit({**(document or {}), "ok": False, "error": {**fields, "message": message}})
    raise typer.Exit(status) from None


def _error_fields(error: Exception) -> dict[str, Any]:
    from escalation.engine.folders import OutputError

    if isinstance(error, OutputError):
        return {"kind": "output"}
    fields: dict[str, Any] = {"kind": "input" if hasattr(error, "file") else "memory"}
    for name in ("file", "line", "field"):
        if hasattr(error, name):
            fields[name] = getattr(error, name) or None
    if hasattr(error, "message"):
        fields["detail"] = error.message
    return fields


#: Interrupts received while a command runs (see :func:`_interrupt`).
_pending: list[int] = []


def _interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C and SIGTERM: unwind with KeyboardInterrupt, remembered.

    Python prints and then drops an exception raised while an object is being finalized
    (``Exception ignored in ... __del__``), which would swallow the interrupt and let the
    command run on. Inside a finalizer the interrupt is only remembered, and
    :func:`_checkpoint` raises it at the next block, point or scenario.
    """
    _pending.append(signum)
    if not _in_finalizer(frame):
        raise KeyboardInterrupt


def _in_finalizer(frame: Any) -> bool:
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or (
            code.co_filename.endswith("weakref.py") and code.co_name == "__call__"
        ):
            return True
        frame = frame.f_back
    return False


def _checkpoint() -> None:
    """Raise an interrupt that arrived while an object was being finalized."""
    if _pending:
        raise KeyboardInterrupt


def _ticker(progress: Progress, task: Any):
    """A progress callback that first raises any interrupt still pending."""

    def tick(done: int, total: int | None, *rest: Any) -> None:
        _checkpoint()
        progress.update(task, completed=done, **({"total": total} if total else {}))

    return tick


def _emit(document: dict[str, Any]) -> None:
    """Print one JSON document on stdout."""
    typer.echo(json.dumps(_plain(document), indent=2, allow_nan=False))


def _plain(value: Any) -> Any:
    """JSON-ready values: numpy and pandas scalars as numbers, NaN and NA as null."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _plain(item())
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _records(frame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain JSON records."""
    return [_plain(row) for row in frame.to_dict("records")]


def _written(folder: object) -> None:
    """Say where the results are (plain text: a path may contain brackets)."""
    from rich.text import Text

    consoles.out.print(Text.assemble("results written to ", (str(folder), "bold")), soft_wrap=True)


# --- options ------------------------------------------------------------------------------


def _at_most(limit_name: str, unit: str = ""):
    """A typer callback that checks a value against a limit of the scenario schema."""

    def check(value: int | None) -> int | None:
        if value is not None:
            from escalation.scenario import schema

            limit = getattr(schema, limit_name)
            if value > limit:
                raise typer.BadParameter(f"{value:,} is more than the limit, {limit:,}{unit}")
        return value

    return check


Trials = Annotated[
    int | None,
    typer.Option(
        min=1,
        callback=_at_most("MAX_TRIALS"),
        help="Monte Carlo trials (default: the scenario's).",
    ),
]
Seed = Annotated[
    int | None, typer.Option(min=0, max=2**63 - 1, help="Random seed (default: the scenario's).")
]
Workers = Annotated[
    int, typer.Option(min=1, max=256, help="Worker processes; the numbers do not depend on it.")
]
Horizon = Annotated[
    int | None,
    typer.Option(
        min=1,
        callback=_at_most("MAX_HORIZON", " days"),
        help="Days to play (default: the scenario's).",
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Json = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout (the numbers, or the error) instead of tables.",
    ),
]


# --- commands -----------------------------------------------------------------------------


#: ``--scheduler``, the same for every command that plays on a Dask cluster.
SCHEDULER_HELP = (
    "Dask (pip install 'escalation\\[dask]'): 'local' starts a LocalCluster of --workers "
    "processes; an address such as tcp://host:8786 uses a running cluster. The numbers do not "
    "depend on it."
)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    trials: Trials = None,
    seed: Seed = None,
    workers: Workers = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder (default: results/<scenario>-<timestamp>/)."),
    ] = None,
    horizon: Horizon = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help=SCHEDULER_HELP + " The run is streamed: its trials are written block by "
            "block as a parquet dataset, trials/."
        ),
    ] = None,
    no_trials: Annotated[
        bool,
        typer.Option(
            "--no-trials",
            help="Keep no trials table: summaries, timeline and drivers are counted block by "
            "block in memory that does not grow with --trials (for 10^7 trials and more).",
        ),
    ] = False,
    quiet: Quiet = False,
    json_output: Json = False,
) -> None:
    """Play a scenario's trials; print the outcome distribution and write the results folder.

    A run streams (memory flat in the number of trials) with --no-trials or --scheduler; its
    numbers are the same.
    """
    document: dict[str, Any] = {"command": "run", "scenario_file": str(scenario)}
    with reported(json_output, document):
        from escalation import api
        from escalation.engine.folders import check_free, claimed
        from escalation.engine.play import executor_for, play_into

        loaded = api.with_overrides(api.as_scenario(scenario), trials, seed, horizon)
        executor_for(loaded, workers, scheduler)  # a bad address before anything is claimed
        folder = out or Path("results") / f"{_slug(loaded.name)}-{_stamp()}"
        with claimed(folder) as real:  # checked and locked before any trial is played
            check_free(real, folder)
            with _progress(quiet) as progress:
                task = progress.add_task("trials", total=loaded.trials)
                result, written = play_into(
                    folder,
                    loaded,
                    workers=workers,
                    on_block=_ticker(progress, task),
                    scheduler=scheduler,
                    keep_trials=not no_trials,
                    info={"source": str(scenario)},
                )
        if json_output:
            _emit({**document, "ok": True, **_run_document(result), "out": str(written)})
        else:
            _print_result(result)
            _written(written)


def _run_document(result) -> dict[str, Any]:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "title": scenario.title or scenario.name,
        "trials": result.n_trials,
        "seed": scenario.seed,
        "horizon": scenario.horizon,
        "summary": _records(result.summary),
        "timing": _records(result.timing),
        "run": result.info,
    }


@app.command()
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="Scenario or experiment YAML files to check.")
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse sources dated after the scenario's date (hindsight); without it they "
            "are warnings.",
        ),
    ] = False,
    json_output: Json = False,
) -> None:
    """Check scenario, experiment and casebook outcomes files without running them."""
    checked: list[dict[str, Any]] = []
    document: dict[str, Any] = {"command": "validate", "files": checked}
    with reported(json_output, document):
        from escalation.backtest.casebook import is_outcomes_data
        from escalation.scenario.load import is_experiment_data, scenario_from_dict
        from escalation.scenario.yamlio import read_yaml

        for file in files:
            data, lines = read_yaml(file)  # once: a pipe or /dev/stdin can be read only once
            if is_outcomes_data(data):
                summary = _check_outcomes(file, strict)
                facts = {"kind": "outcomes"}
            elif is_experiment_data(data):
                from escalation.sweeps.experiment import experiment_from_data

                experiment = experiment_from_data(data, lines, str(file), Path(file).parent)
                facts = {
                    "kind": "experiment",
                    "scenario": str(experiment.scenario_path),
                    "design": experiment.design.kind,
                    "points": len(experiment.design.points),
                    "trials": experiment.trials,
                }
                summary = (
                    f"experiment on {experiment.scenario_path}: {experiment.design.kind} design, "
                    f"{len(experiment.design.points)} points of {experiment.trials:,} trials"
                )
            else:
                loaded = scenario_from_dict(data, file=str(file), lines=lines)
                _hindsight(loaded, file, strict)
                facts = {
                    "kind": "scenario",
                    "name": loaded.name,
                    "actors": len(loaded.actors),
                    "deciding": len(loaded.decider_blocks),
                    "parameters": len(loaded.parameters),
                    "rungs": len(loaded.all_rungs),
                    "policies": len(loaded.policies),
                    "horizon": loaded.horizon,
                }
                summary = (
                    f"{len(loaded.actors)} actors ({len(loaded.decider_blocks)} deciding), "
                    f"{len(loaded.parameters)} parameters, {len(loaded.all_rungs)} rungs, "
                    f"{len(loaded.policies)} policies, "
                    f"horizon {loaded.horizon} days"
                )
            checked.append({"file": str(file), "ok": True, **facts})
            if not json_output:
                typer.echo(f"ok: {file}: {summary}")
        if json_output:
            _emit({**document, "ok": True})


def _check_outcomes(file: Path, strict: bool) -> str:
    """Check a casebook's outcomes file against the cases beside it; warn about hindsight."""
    from escalation.backtest.casebook import check_outcomes_file
    from escalation.backtest.console import print_warnings

    book = check_outcomes_file(file, strict)
    print_warnings(book.warnings, consoles.err)
    return f"outcomes of {len(book.cases)} cases in {book.folder}"


def _hindsight(scenario: Any, file: Path, strict: bool) -> None:
    """Warn about sources dated after the scenario (on stderr); refuse them if ``strict``."""
    from escalation.backtest.casebook import hindsight_errors

    found = hindsight_errors(scenario, file)
    if found and strict:
        raise found[0]
    if found:  # the printer needs the heavier backtest modules: only when there is news
        from escalation.backtest.console import print_warnings

        print_warnings(found, consoles.err)


@app.command()
def backtest(
    casebook: Annotated[
        Path, typer.Argument(help="Casebook folder: case scenarios and outcomes.yaml.")
    ],
    trials: Annotated[
        int | None,
        typer.Option(
            min=1,
            callback=_at_most("MAX_TRIALS"),
            help="Trials per case (default: each case's own).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, max=2**63 - 1, help="Seed of every case (default: each case's own)."),
    ] = None,
    workers: Workers = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask: 'local' starts a LocalCluster of --workers processes; an address such "
            "as tcp://host:8786 uses a running cluster. The numbers do not depend on it."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder (default: results/backtest-<timestamp>/)."),
    ] = None,
    outcomes: Annotated[
        Path | None,
        typer.Option(help="Outcomes file (default: outcomes.yaml in the casebook folder)."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Refuse sources dated after their case's date (hindsight)."),
    ] = False,
    quiet: Quiet = False,
    json_output: Json = False,
) -> None:
    """Play every case of a casebook and score it against what happened, beside references."""
    document: dict[str, Any] = {"command": "backtest", "casebook": str(casebook)}
    with reported(json_output, document):
        from escalation.backtest.console import print_backtest, print_warnings
        from escalation.backtest.runner import run_backtest
        from escalation.engine.folders import claimed

        folder = out or Path("results") / f"backtest-{_stamp()}"
        with claimed(folder):  # checked and locked before any case is played
            with _progress(quiet) as progress:
                task = progress.add_task("cases", total=None)

                def advance(done: int, total: int, name: str) -> None:
                    _checkpoint()
                    label = f"cases (last: {name})" if name else "cases"
                    progress.update(task, completed=done, total=total, description=label)

                result = run_backtest(
                    casebook,
                    outcomes=outcomes,
                    trials=trials,
                    seed=seed,
                    workers=workers,
                    scheduler=scheduler,
                    strict=strict,
                    on_case=advance,
                )
            print_warnings(result.casebook.warnings, consoles.err)
            written = result.write(folder)
        if json_output:
            _emit({**document, "ok": True, "out": str(written), **result.summary()})
            return
        print_backtest(result, consoles.out)
        _written(written)


@app.command()
def explore(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    host: Annotated[
        str,
        typer.Option(
            help="Address to serve on. The default serves this machine only; another address "
            "makes the page reachable from elsewhere (it has no login)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8050,
) -> None:
    """Serve a live what-if page over a scenario: change policies, parameters, demands, horizon
    and trials, and see the outcomes replayed with the same seed (pip install
    "escalation\\[explore]")."""
    with reported():
        from escalation.explore import INSTALL_HINT, missing
        from escalation.scenario.yamlio import InputError

        absent = missing()
        if absent is not None:
            raise InputError(
                "explore",
                None,
                "",
                f"the page needs {absent}, which is not installed: {INSTALL_HINT}",
            )
        from escalation.explore.app import create_app, serve_app

        app_ = create_app(scenario)  # a mistake in the scenario stops here, located
        local = host in ("127.0.0.1", "localhost", "::1")
        where = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        consoles.err.print(
            f"escalation explore: {scenario} on {where} (Ctrl-C to stop)"
            + ("" if local else "\nwarning: reachable from other machines; the page has no login"),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
        try:
            serve_app(app_, host, port)
        except OSError as error:
            reason = error.strerror or str(error)
            message = f"cannot serve on {where}: {reason}"
            raise InputError("explore", None, "--port", message) from None
        except KeyboardInterrupt:
            consoles.err.print("stopped", highlight=False, markup=False)


@app.command()
def schema(
    experiment: Annotated[
        bool,
        typer.Option(
            "--experiment", help="The schema of experiment files (sweeps) instead of scenarios."
        ),
    ] = False,
) -> None:
    """Print the JSON Schema of scenario (or experiment) files, for editors to check them."""
    if experiment:
        from escalation.sweeps.experiment import Experiment as Model
    else:
        from escalation.scenario.schema import Scenario as Model
    typer.echo(json.dumps(Model.model_json_schema(), indent=2))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "run"


def _stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def _progress(quiet: bool) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=consoles.err,
        disable=quiet or not sys.stderr.isatty(),
        transient=True,
    )


def _print_result(result) -> None:
    import pandas as pd
    from rich.table import Table
    from rich.text import Text

    scenario = result.scenario
    # The heading is printed on its own: a table title would wrap at the table's width.
    consoles.out.print(
        Text.assemble(
            (scenario.title or scenario.name, "bold"),
            f"\n{result.n_trials:,} trials, seed {scenario.seed}, {scenario.horizon} days",
        ),
        soft_wrap=True,
    )
    table = Table(title="How the crisis ends", title_justify="left")
    table.add_column("outcome")
    table.add_column("probability", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("trials", justify="right")
    labels = result.labels
    for row in result.summary.itertuples():
        table.add_row(
            labels.outcome(str(row.outcome)),
            f"{row.probability:.1%}",
            f"{row.lo:.1%} – {row.hi:.1%}",
            f"{row.count:,}",
        )
    consoles.out.print(table)
    dated = labels.start is not None
    timing = Table(
        title="When violence starts (day from the scenario's start"
        + (", and its date)" if dated else ")"),
        title_justify="left",
    )
    timing.add_column("reached")
    timing.add_column("share", justify="right")
    timing.add_column("median day", justify="right")
    timing.add_column("95% interval", justify="right")
    for row in result.timing.itertuples():
        # <NA> (never reached) has no truth value, so test for it, not with != itself
        median = "–" if pd.isna(row.median_day) else f"{row.median_day:g}"
        if dated and median != "–":
            median += f" ({labels.date(int(row.median_day))})"
        interval = "–" if pd.isna(row.median_day) else f"{row.lo:g} – {row.hi:g}"
        timing.add_row(labels.outcome(str(row.outcome)), f"{row.share:.1%}", median, interval)
    consoles.out.print(timing)
    sample = _sample_text(result)
    if sample:
        consoles.out.print(sample, highlight=False, soft_wrap=True)


def _sample_text(result) -> str:
    """What a streamed run's drivers read, when it is not every trial ('' otherwise)."""
    streamed = getattr(result, "streamed", None)
    if streamed is None or streamed.sample_trials >= result.n_trials:
        return ""
    return (
        f"Streamed: the tables above count all {result.n_trials:,} trials; the report's drivers "
        f"(their thirds, rank correlations and PAWN indices) and scenario discovery read a "
        f"sample, the first {streamed.sample_trials:,} trials ({streamed.sample_blocks} "
        f"block{'s' if streamed.sample_blocks != 1 else ''}, the same for this seed whatever "
        "the workers)."
    )


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    trials: Annotated[
        int | None,
        typer.Option(
            min=1,
            callback=_at_most("MAX_TRIALS"),
            help="Trials per point (default: the experiment's).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=2**63 - 1,
            help="Seed of every point (default: the experiment's, else the scenario's).",
        ),
    ] = None,
    horizon: Horizon = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder (default: results/<experiment>-sweep-<timestamp>/)."),
    ] = None,
    workers: Workers = 1,
    scheduler: Annotated[str | None, typer.Option(help=SCHEDULER_HELP)] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the interrupted sweep in --out.")
    ] = False,
    quiet: Quiet = False,
    json_output: Json = False,
) -> None:
    """Run an experiment: every point of its design, with the same seed (common random numbers)."""
    document: dict[str, Any] = {"command": "sweep", "experiment_file": str(experiment)}
    with reported(json_output, document):
        from escalation import api
        from escalation.scenario.yamlio import InputError

        if resume and out is None:
            raise InputError(
                str(experiment),
                None,
                "--resume",
                "give --out, the folder of the interrupted sweep",
            )
        folder = out or Path("results") / f"{_slug(experiment.stem)}-sweep-{_stamp()}"
        try:
            with _progress(quiet) as progress:
                task = progress.add_task("points", total=None)
                result = api.sweep(
                    experiment,
                    trials=trials,
                    seed=seed,
                    horizon=horizon,
                    out=folder,
                    workers=workers,
                    scheduler=scheduler,
                    resume=resume,
                    on_point=_ticker(progress, task),
                )
        except KeyboardInterrupt:
            _interrupted_sweep(experiment, folder, json_output, document)
            raise
        if json_output:
            _emit({**document, "ok": True, **_sweep_document(result)})
        else:
            _print_sweep(result)
            _written(result.out)


def _interrupted_sweep(experiment: Path, folder: Path, json_output: bool, document: dict) -> None:
    """Say where an interrupted sweep's finished points are kept, if any were."""
    from escalation.engine.folders import OutputError, target
    from escalation.sweeps.store import partial_folder

    try:
        partial = partial_folder(target(folder))
    except OutputError:
        return
    if not (partial / "points").is_dir():
        return
    kept = len(list((partial / "points").glob("*.parquet")))
    consoles.err.print(
        f"interrupted: {kept} finished points are kept in {partial}; finish with\n"
        f"  escalation sweep {experiment} --resume --out {folder}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if json_output:
        _emit(
            {
                **document,
                "ok": False,
                "error": {"kind": "interrupted", "kept_points": kept, "partial": str(partial)},
            }
        )
    raise typer.Exit(INTERRUPTED)


def _sweep_document(result) -> dict[str, Any]:
    info = result.info
    return {
        "experiment": result.name,
        "title": result.title,
        "out": str(result.out) if result.out else None,
        "design": info.get("design"),
        "seed": info.get("seed"),
        "trials_per_point": info.get("trials_per_point"),
        "metrics": result.metrics,
        "points": _records(result.points),
        "indices": None if result.indices is None else _records(result.indices),
        "notes": result.notes,
        "run": info,
    }


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Two or more scenario YAML files.")],
    trials: Trials = None,
    seed: Seed = None,
    workers: Workers = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder (default: results/compare-<timestamp>/)."),
    ] = None,
    horizon: Horizon = None,
    quiet: Quiet = False,
    json_output: Json = False,
) -> None:
    """Play scenarios with the same seed and trials; show their outcomes side by side."""
    document: dict[str, Any] = {
        "command": "compare",
        "scenario_files": [str(path) for path in scenarios],
    }
    with reported(json_output, document):
        from escalation import api
        from escalation.engine.folders import check_free, claimed
        from escalation.scenario.yamlio import InputError

        if len(scenarios) < 2:
            raise InputError(str(scenarios[0]), None, "", "compare needs two or more scenarios")
        folder = out or Path("results") / f"compare-{_stamp()}"
        with claimed(folder) as real:
            check_free(real, folder)
            with _progress(quiet) as progress:
                task = progress.add_task("scenarios", total=len(scenarios))
                result = api.compare(
                    scenarios,
                    trials=trials,
                    seed=seed,
                    horizon=horizon,
                    workers=workers,
                    on_scenario=lambda done, total, label: _ticker(progress, task)(done, None),
                )
            if not json_output:
                _print_compare(result)
            written = result.write(folder)
        if json_output:
            info = result.info
            _emit(
                {
                    **document,
                    "ok": True,
                    "labels": result.labels,
                    "trials": info.get("trials"),
                    "seed": info.get("seed"),
                    "table": _records(result.table),
                    "out": str(written),
                    "run": info,
                }
            )
        else:
            _written(written)


def _cell(metric: str, value: float, lo: float, hi: float) -> str:
    import pandas as pd

    from escalation.sweeps.metrics import is_share

    if pd.isna(value):
        return "–"
    if is_share(metric):
        return f"{value:.1%} ({100 * lo:.1f}–{100 * hi:.1f})"
    return f"{value:.3g} ({lo:.3g}–{hi:.3g})"


def _input_text(value: object) -> str:
    import pandas as pd

    if pd.isna(value):
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _print_sweep(result) -> None:
    """Print a sweep's points (or its Sobol or Morris indices) as a table."""
    from rich.table import Table
    from rich.text import Text

    info = result.info
    table = Table(
        title=Text(
            f"{result.title}: {result.design.kind} design, {len(result.points):,} points, "
            f"{info['trials_per_point']:,} trials each, seed {info['seed']}"
        ),
        title_justify="left",
    )
    if result.indices is not None and len(result.indices):
        sobol = "ST" in result.indices.columns
        key = "ST" if sobol else "mu_star"
        for column in (
            "metric",
            "variable",
            *(("S1", "ST") if sobol else ("mu*", "sigma")),
        ):
            table.add_column(
                column, justify="left" if column in ("metric", "variable") else "right"
            )
        shown = result.indices.sort_values(["metric", key], ascending=[True, False])
        for row in shown.groupby("metric").head(12).itertuples():
            if sobol:
                cells = (
                    f"{row.S1:.2f} ± {row.S1_conf:.2f}",
                    f"{row.ST:.2f} ± {row.ST_conf:.2f}",
                )
            else:
                cells = (
                    f"{row.mu_star:.3g} ± {row.mu_star_conf:.2g}",
                    f"{row.sigma:.3g}",
                )
            table.add_row(row.metric, row.variable, *cells)
    else:
        names = result.design.names
        for column in ("point", *names, *result.metrics):
            table.add_column(column, justify="left" if column in names else "right")
        for row in result.points.head(40).to_dict("records"):
            inputs = [_input_text(row[n]) for n in names]
            metrics = [_cell(m, row[m], row[f"{m}:lo"], row[f"{m}:hi"]) for m in result.metrics]
            table.add_row(str(row["point"]), *inputs, *metrics)
        if len(result.points) > 40:
            table.caption = f"first 40 of {len(result.points):,} points; all in points.parquet"
    consoles.out.print(table)
    for note in result.notes:
        consoles.out.print(f"note: {note}", highlight=False, markup=False)


def _print_compare(result) -> None:
    """Print the probabilities, the paired differences and what differs between the files."""
    from escalation.sweeps.compare import print_comparison

    print_comparison(result, consoles.out)


@app.command()
def discover(
    results: Annotated[Path, typer.Argument(help="A run's or a sweep's results folder.")],
    outcome: Annotated[
        str,
        typer.Option(
            help="Outcome name or label (a run), or metric such as p:full_scale_invasion (a sweep)."
        ),
    ],
    above: Annotated[
        float | None, typer.Option(help="Sweep: points whose metric is at least this count.")
    ] = None,
    below: Annotated[
        float | None, typer.Option(help="Sweep: points whose metric is at most this count.")
    ] = None,
    boxes: Annotated[int, typer.Option(min=1, max=10, help="Most boxes to find.")] = 1,
    min_coverage: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Least coverage of the chosen box.")
    ] = 0.5,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write boxes.csv, trajectory.csv and report.html here."),
    ] = None,
) -> None:
    """Scenario discovery (PRIM): the boxes of assumptions under which an outcome is likely."""
    from escalation.discover import discover as find_boxes
    from escalation.discover import print_discovery

    with reported():
        result = find_boxes(
            results, outcome, above=above, below=below, boxes=boxes, min_coverage=min_coverage
        )
        print_discovery(result, consoles.out)
        if out is not None:
            _written(result.write(out))
