"""The ``escalation`` command line: run, validate, schema. No logic of its own.

Mistakes in input files print one line, ``file:line: field: message``, and exit with status 2;
failures to write results exit with status 1; an interrupt exits with 130. None of them prints
a traceback, and none leaves a partial results folder.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
    """Turn expected failures into one clear line and an exit status, never a traceback."""
    try:
        yield
    except InputError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(INPUT_ERROR) from None
    except OutputError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(OUTPUT_ERROR) from None
    except KeyboardInterrupt:
        err_console.print("interrupted: no results were written", highlight=False)
        raise typer.Exit(INTERRUPTED) from None


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
        out_console.print(f"results written to [bold]{written}[/]", highlight=False)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.")],
) -> None:
    """Check scenario files without running them."""
    with reported():
        for file in files:
            loaded = api.as_scenario(file)
            out_console.print(
                f"ok: {file}: {len(loaded.actors)} actors, {len(loaded.parameters)} parameters, "
                f"{len(loaded.ladder)} rungs, {len(loaded.policies)} policies, "
                f"horizon {loaded.horizon} days",
                highlight=False,
            )


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
    table = Table(
        title=f"{scenario.title or scenario.name}: {len(result.trials):,} trials, "
        f"seed {scenario.seed}, {scenario.horizon} days",
        title_justify="left",
    )
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
    timing = Table(title="When violence starts (day from the scenario's start)", title_justify="left")
    timing.add_column("reached")
    timing.add_column("share", justify="right")
    timing.add_column("median day", justify="right")
    timing.add_column("95% interval", justify="right")
    for row in result.timing.itertuples():
        median = "–" if row.median_day is None or row.median_day != row.median_day else (
            f"{row.median_day:g}"
        )
        interval = "–" if median == "–" else f"{row.lo:g} – {row.hi:g}"
        timing.add_row(str(row.outcome).replace("_", " "), f"{row.share:.1%}", median, interval)
    out_console.print(timing)


def main() -> None:
    """Entry point for ``python -m escalation``."""
    app()


if __name__ == "__main__":
    main()
