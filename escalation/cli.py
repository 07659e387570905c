"""The ``escalation`` command line: run, sweep, compare, backtest, validate, schema. No logic.

Mistakes in input files print one line, ``file:line: field: message``, and exit with status 2;
failures to write results exit with status 1; an interrupt (Ctrl-C or SIGTERM) exits with 130.
None of them prints a traceback, and none leaves a partial results folder (an interrupted sweep
keeps its finished points in a folder marked incomplete, for ``--resume``).
"""

from __future__ import annotations

import datetime
import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from escalation import api
from escalation.engine.results import OutputError, RunResult
from escalation.scenario.schema import MAX_HORIZON, MAX_TRIALS, Scenario
from escalation.scenario.yamlio import InputError

app = typer.Typer(
    help="Play an international crisis forward as an agent-based model and report how it ends.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console()
err_console = Console(stderr=True)

INPUT_ERROR, OUTPUT_ERROR, INTERRUPTED = 2, 1, 130


@contextmanager
def reported() -> Iterator[None]:
    """Turn expected failures into one clear line and an exit status, never a traceback.

    SIGTERM is turned into the same clean interrupt as Ctrl-C while the command runs, so a
    terminated run also unwinds through the atomic writers and leaves nothing half-written.
    """
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except (InputError, OutputError) as error:
        # Text, not a markup string: a file name or YAML key such as '[/b]' prints as it is.
        err_console.print(Text.assemble(("error:", "bold red"), f" {error}"), soft_wrap=True)
        raise typer.Exit(INPUT_ERROR if isinstance(error, InputError) else OUTPUT_ERROR) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: no results were written", highlight=False)
        raise typer.Exit(INTERRUPTED) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    """A SIGTERM handler: unwind like Ctrl-C."""
    raise KeyboardInterrupt


def _written(folder: object) -> None:
    """Say where the results are (plain text: a path may contain brackets)."""
    out_console.print(Text.assemble("results written to ", (str(folder), "bold")), soft_wrap=True)


Trials = Annotated[
    int | None,
    typer.Option(min=1, max=MAX_TRIALS, help="Monte Carlo trials (default: the scenario's)."),
]
Seed = Annotated[
    int | None, typer.Option(min=0, max=2**63 - 1, help="Random seed (default: the scenario's).")
]
Workers = Annotated[
    int, typer.Option(min=1, max=256, help="Worker processes; the numbers do not depend on it.")
]
Horizon = Annotated[
    int | None,
    typer.Option(min=1, max=MAX_HORIZON, help="Days to play (default: the scenario's)."),
]


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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Play a scenario's trials; print the outcome distribution and write the results folder."""
    with reported():
        loaded = api.as_scenario(scenario)
        loaded = api.with_overrides(loaded, trials, seed, horizon)
        folder = out or Path("results") / f"{_slug(loaded.name)}-{_stamp()}"
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise OutputError(f"{folder} already exists and is not empty; choose another --out")
        with _progress(quiet) as progress:
            task = progress.add_task("trials", total=loaded.trials)
            result = api.run(
                loaded,
                workers=workers,
                on_block=lambda done, total: progress.update(task, completed=done),
            )
        result.info["source"] = str(scenario)
        _print_result(result)
        written = result.write(folder)
        _written(written)


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
) -> None:
    """Check scenario, experiment and casebook outcomes files without running them."""
    from escalation.sweep.experiment import load_experiment

    with reported():
        for file in files:
            if _is_outcomes(file):
                summary = _check_outcomes(file, strict)
            elif api.is_experiment(file):
                experiment = load_experiment(file)
                summary = (
                    f"experiment on {experiment.scenario_path}: {experiment.design.kind} design, "
                    f"{len(experiment.design.points)} points of {experiment.trials:,} trials"
                )
            else:
                loaded = api.as_scenario(file)
                _hindsight(loaded, file, strict)
                summary = (
                    f"{len(loaded.actors)} actors ({len(loaded.decider_blocks)} deciding), "
                    f"{len(loaded.parameters)} parameters, {len(loaded.all_rungs)} rungs, "
                    f"{len(loaded.policies)} policies, "
                    f"horizon {loaded.horizon} days"
                )
            out_console.print(
                f"ok: {file}: {summary}",
                highlight=False,
                markup=False,
                emoji=False,
                soft_wrap=True,
            )


def _is_outcomes(file: Path) -> bool:
    from escalation.backtest.casebook import is_outcomes_data
    from escalation.scenario.yamlio import read_yaml

    return is_outcomes_data(read_yaml(file)[0])


def _check_outcomes(file: Path, strict: bool) -> str:
    """Check a casebook's outcomes file against the cases beside it; warn about hindsight."""
    from escalation.backtest.casebook import check_outcomes_file
    from escalation.backtest.console import print_warnings

    book = check_outcomes_file(file, strict)
    print_warnings(book.warnings, err_console)
    return f"outcomes of {len(book.cases)} cases in {book.folder}"


def _hindsight(scenario: Scenario, file: Path, strict: bool) -> None:
    """Warn about sources dated after the scenario (on stderr); refuse them if ``strict``."""
    from escalation.backtest.casebook import hindsight_errors
    from escalation.backtest.console import print_warnings

    found = hindsight_errors(scenario, file)
    if found and strict:
        raise found[0]
    print_warnings(found, err_console)


@app.command()
def backtest(
    casebook: Annotated[
        Path, typer.Argument(help="Casebook folder: case scenarios and outcomes.yaml.")
    ],
    trials: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_TRIALS, help="Trials per case (default: each case's own)."),
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
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the scores as one JSON document.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Play every case of a casebook and score it against what happened, beside references."""
    from escalation.backtest.console import print_backtest, print_warnings
    from escalation.backtest.runner import run_backtest

    with reported():
        folder = out or Path("results") / f"backtest-{_stamp()}"
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise OutputError(f"{folder} already exists and is not empty; choose another --out")
        with _progress(quiet) as progress:
            task = progress.add_task("cases", total=None)

            def advance(done: int, total: int, name: str) -> None:
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
        print_warnings(result.casebook.warnings, err_console)
        written = result.write(folder)
        if json_output:
            document = {"ok": True, "command": "backtest", "out": str(written)}
            typer.echo(json.dumps({**document, **result.summary()}, default=str))
            return
        print_backtest(result, out_console)
        _written(written)


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files, for editors to complete and check them."""
    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name).strip("-") or "run"


def _stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet or not sys.stderr.isatty(),
        transient=True,
    )


def _print_result(result: RunResult) -> None:
    scenario = result.scenario
    # The heading is printed on its own: a table title would wrap at the table's width.
    out_console.print(
        Text.assemble(
            (scenario.title or scenario.name, "bold"),
            f"\n{len(result.trials):,} trials, seed {scenario.seed}, {scenario.horizon} days",
        ),
        soft_wrap=True,
    )
    table = Table(title="How the crisis ends", title_justify="left")
    table.add_column("outcome")
    table.add_column("probability", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("trials", justify="right")
    for row in result.summary.itertuples():
        table.add_row(
            str(row.outcome).replace("_", " "),
            f"{row.probability:.1%}",
            f"{row.lo:.1%} – {row.hi:.1%}",
            f"{row.count:,}",
        )
    out_console.print(table)
    timing = Table(
        title="When violence starts (day from the scenario's start)", title_justify="left"
    )
    timing.add_column("reached")
    timing.add_column("share", justify="right")
    timing.add_column("median day", justify="right")
    timing.add_column("95% interval", justify="right")
    for row in result.timing.itertuples():
        # <NA> (never reached) has no truth value, so test for it, not with != itself
        median = "–" if pd.isna(row.median_day) else f"{row.median_day:g}"
        interval = "–" if median == "–" else f"{row.lo:g} – {row.hi:g}"
        timing.add_row(str(row.outcome).replace("_", " "), f"{row.share:.1%}", median, interval)
    out_console.print(timing)


@app.command()
def sweep(
    experiment: Annotated[Path, typer.Argument(help="Experiment YAML file.")],
    trials: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_TRIALS, help="Trials per point (default: the experiment's)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Results folder (default: results/<experiment>-sweep-<timestamp>/)."),
    ] = None,
    workers: Workers = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask: 'local' starts a LocalCluster of --workers processes; an address such "
            "as tcp://host:8786 uses a running cluster. The numbers do not depend on it."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish the interrupted sweep in --out.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Run an experiment: every point of its design, with the same seed (common random numbers)."""
    with reported():
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
                    out=folder,
                    workers=workers,
                    scheduler=scheduler,
                    resume=resume,
                    on_point=lambda done, total: progress.update(task, completed=done, total=total),
                )
        except KeyboardInterrupt:
            partial = folder.with_name(folder.name + ".partial")
            if not (partial / "points").is_dir():
                raise
            kept = len(list((partial / "points").glob("*.parquet")))
            err_console.print(
                f"interrupted: {kept} finished points are kept in {partial}; finish with\n"
                f"  escalation sweep {experiment} --resume --out {folder}",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
            raise typer.Exit(INTERRUPTED) from None
        _print_sweep(result)
        _written(result.out)


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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Play scenarios with the same seed and trials; show their outcomes side by side."""
    with reported():
        if len(scenarios) < 2:
            raise InputError(str(scenarios[0]), None, "", "compare needs two or more scenarios")
        folder = out or Path("results") / f"compare-{_stamp()}"
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise OutputError(f"{folder} already exists and is not empty; choose another --out")
        with _progress(quiet) as progress:
            task = progress.add_task("scenarios", total=len(scenarios))
            result = api.compare(
                scenarios,
                trials=trials,
                seed=seed,
                horizon=horizon,
                workers=workers,
                on_scenario=lambda done, total, label: progress.update(task, completed=done),
            )
        _print_compare(result)
        written = result.write(folder)
        _written(written)


def _cell(metric: str, value: float, lo: float, hi: float) -> str:
    if pd.isna(value):
        return "–"
    if metric.startswith("p:"):
        return f"{value:.1%} ({100 * lo:.1f}–{100 * hi:.1f})"
    return f"{value:.3g} ({lo:.3g}–{hi:.3g})"


def _input_text(value: object) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _print_sweep(result) -> None:
    """Print a sweep's points (or its Sobol or Morris indices) as a table."""
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
    out_console.print(table)
    for note in result.notes:
        out_console.print(f"note: {note}", highlight=False, markup=False)


def _print_compare(result) -> None:
    """Print each outcome's probability and interval in each compared scenario."""
    info = result.info
    table = Table(
        title=f"{info['trials']:,} trials per scenario, seed {info['seed']} "
        "(common random numbers)",
        title_justify="left",
    )
    table.add_column("outcome")
    for label in result.labels:
        table.add_column(label, justify="right")
    frame = result.table
    for outcome in dict.fromkeys(frame["outcome"]):
        rows = frame[frame["outcome"] == outcome].set_index("scenario")
        table.add_row(
            outcome.replace("_", " "),
            *(
                _cell("p:", *rows.loc[label, ["probability", "lo", "hi"]])
                for label in result.labels
            ),
        )
    out_console.print(table)


def main() -> None:
    """Entry point for ``python -m escalation``."""
    app()


if __name__ == "__main__":
    main()
