"""What ``escalation backtest`` prints: each case's forecast and scores, and the skill."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from escalation.backtest.runner import BacktestResult
from escalation.backtest.scores import SUBSETS


def print_warnings(warnings: Iterable[object], console: Console) -> None:
    """Each warning on its own line, as plain text (a path may contain brackets)."""
    for warning in warnings:
        console.print(Text.assemble(("warning:", "bold yellow"), f" {warning}"), soft_wrap=True)


def _number(value: object, digits: int = 3) -> str:
    return "–" if value is None or pd.isna(value) else f"{float(value):.{digits}f}"


def print_backtest(result: BacktestResult, console: Console) -> None:
    """Print each case's forecast and Brier scores, and the skill over each reference."""
    cases = Table(title="Cases (Brier scores: lower is better)", title_justify="left")
    cases.add_column("case")
    cases.add_column("outcome")
    for column in ("P(outcome)", "P(event)", "event", "model", "ICB", "uniform"):
        cases.add_column(column, justify="right")
    for row in result.table.to_dict("records"):
        cases.add_row(
            Text(str(row["name"])),
            row["outcome"].replace("_", " "),
            f"{row['model_p_outcome']:.1%}",
            f"{row['model_p_event']:.1%}",
            "yes" if row["happened"] else "no",
            *(_number(row[f"{who}_brier"]) for who in ("model", "icb", "uniform")),
        )
    console.print(cases)
    for subset, label in SUBSETS.items():
        rows = result.skill[result.skill["subset"] == subset]
        if rows.empty:
            console.print(f"No score over {label}: there is no such case.", highlight=False)
            continue
        table = Table(title=f"Skill 1 - S_model/S_ref, {label}", title_justify="left")
        table.add_column("reference and score")
        for column in ("n", "model", "ref", "skill", "95% interval"):
            table.add_column(column, justify="right")
        for row in rows.to_dict("records"):
            table.add_row(
                f"{row['reference']} {row['score'].replace('_', ' ')}",
                str(row["cases"]),
                _number(row["model"]),
                _number(row["reference_score"]),
                _number(row["skill"], 2),
                f"{_number(row['lo'], 2)} to {_number(row['hi'], 2)}",
            )
        console.print(table)
