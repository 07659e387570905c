"""A casebook folder: the case scenarios in it, their recorded outcomes, checked together.

Every scenario file in the folder with a ``case:`` block is a case; other scenarios and
experiment files are skipped. ``outcomes.yaml`` beside them records what happened (see
:mod:`escalation.backtest.outcomes`). Every mistake is an
:class:`~escalation.scenario.yamlio.InputError` naming the file, the line and the field.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from escalation.backtest.outcomes import (
    NO_DAY_OUTCOME,
    CaseOutcome,
    IcbTable,
    OutcomesFile,
    icb_row,
)
from escalation.scenario.check import hindsight
from escalation.scenario.load import scenario_from_dict
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import (
    InputError,
    LineMap,
    describe,
    format_loc,
    read_yaml,
    validation_error,
)

#: The outcomes file's name in a casebook folder.
OUTCOMES_FILE = "outcomes.yaml"
#: File endings read as scenarios.
YAML_SUFFIXES = (".yaml", ".yml")


def hindsight_errors(
    scenario: Scenario, file: str | Path, lines: LineMap | None = None
) -> list[InputError]:
    """Sources a scenario cites that are dated after its own date, as located errors.

    ``escalation validate`` prints them as warnings, and refuses the file with ``--strict``.
    Without ``lines`` the file is read again to find them (only when there is something to say).
    """
    found = hindsight(scenario)
    if not found:
        return []
    if lines is None:
        try:
            _, lines = read_yaml(file)
        except InputError:
            lines = LineMap()
    errors = [
        InputError(str(file), lines.line(loc), format_loc(loc), message) for loc, message in found
    ]
    return sorted(errors, key=lambda error: error.line or 0)


@dataclass(frozen=True)
class CaseFile:
    """A scenario file of the casebook, read and checked."""

    path: Path
    scenario: Scenario
    lines: LineMap
    sha256: str

    def error(self, loc: tuple[str | int, ...], message: str) -> InputError:
        """A mistake at ``loc`` of this file."""
        return InputError(str(self.path), self.lines.line(loc), format_loc(loc), message)


@dataclass(frozen=True)
class Case:
    """One case: its scenario, what happened, and the ICB table its base rate comes from."""

    file: CaseFile
    recorded: CaseOutcome
    icb_table: IcbTable | None

    @property
    def scenario(self) -> Scenario:
        """The case's scenario, as written (before any --trials or --seed)."""
        return self.file.scenario

    @property
    def name(self) -> str:
        """The case's name: its scenario's ``name``."""
        return self.scenario.name

    @property
    def date(self) -> datetime.date:
        """The day the case is written as of."""
        assert self.scenario.date is not None  # checked when the casebook is loaded
        return self.scenario.date

    @property
    def event(self) -> str:
        """The violent outcome of the case's yes/no question."""
        assert self.scenario.case is not None
        return self.scenario.case.event

    @property
    def event_classes(self) -> list[str]:
        """The outcome classes that answer yes: the event and every graver violent outcome."""
        violent = self.scenario.violent_outcomes
        return violent[violent.index(self.event) :]

    @property
    def happened(self) -> bool:
        """Whether the event (or a graver violent outcome) happened within the horizon."""
        return self.recorded.outcome in self.event_classes


@dataclass
class Casebook:
    """The checked cases of a folder, oldest first, with their outcomes file.

    Attributes:
        folder: the casebook folder.
        outcomes_path: the outcomes file.
        outcomes: its content.
        outcomes_sha256: SHA-256 of its bytes.
        cases: the cases, by date then name.
        skipped: files of the folder that are not cases, with the reason.
        warnings: sources dated after their scenario (refused instead with ``strict``).
    """

    folder: Path
    outcomes_path: Path
    outcomes: OutcomesFile
    outcomes_sha256: str
    cases: list[Case]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[InputError] = field(default_factory=list)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _is_experiment(data: Any) -> bool:
    return (
        isinstance(data, dict) and "scenario" in data and ("variables" in data or "design" in data)
    )


def _read_case_files(
    folder: Path, outcomes_path: Path
) -> tuple[list[CaseFile], dict[str, Path], list[tuple[str, str]]]:
    """Case files of the folder; the names of scenarios without a case; skipped files."""
    cases: list[CaseFile] = []
    plain: dict[str, Path] = {}
    skipped: list[tuple[str, str]] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in YAML_SUFFIXES or not path.is_file():
            continue
        if path.name == OUTCOMES_FILE or path.resolve() == outcomes_path.resolve():
            continue
        data, lines = read_yaml(path)
        if _is_experiment(data):
            skipped.append((str(path), "an experiment file"))
            continue
        scenario = scenario_from_dict(data, file=str(path), lines=lines).from_file(str(path))
        if scenario.case is None:
            plain[scenario.name] = path
            skipped.append((str(path), "a scenario without a case: block"))
            continue
        if scenario.name in seen:
            raise InputError(
                str(path),
                lines.line(("name",)),
                "name",
                f"'{scenario.name}' is already the name of the case in {seen[scenario.name]}; "
                "each case needs a name of its own (the outcomes file is keyed by it)",
            )
        seen[scenario.name] = path
        case_file = CaseFile(path, scenario, lines, _sha256(path))
        if scenario.date is None:
            raise case_file.error(
                ("case",),
                "a case needs the scenario's date: the day it is written as of, which limits the "
                "sources it may cite and from which the outcome's day is counted",
            )
        cases.append(case_file)
    return cases, plain, skipped


def _read_outcomes(path: Path) -> tuple[OutcomesFile, LineMap]:
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        found = "the file is empty" if data is None else f"found {describe(data)}"
        raise InputError(
            str(path),
            lines.line(()),
            "",
            f"an outcomes file is a YAML mapping with 'cases' (and 'icb_base_rates'); {found}",
        )
    try:
        return OutcomesFile.model_validate(data), lines
    except ValidationError as error:
        raise validation_error(error, OutcomesFile, str(path), lines, data) from None


def _close(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(options) or 'none (no case in the folder)'}"


def is_outcomes_data(data: Any) -> bool:
    """Whether YAML data read from a file is an outcomes file rather than a scenario."""
    return (
        isinstance(data, dict)
        and "actors" not in data
        and ("cases" in data or "icb_base_rates" in data)
    )


def check_outcomes_file(path: str | Path, strict: bool = False) -> Casebook:
    """Check an outcomes file against the case scenarios in its folder, without playing them."""
    path = Path(path)
    return load_casebook(path.parent, outcomes=path, strict=strict)


def load_casebook(
    folder: str | Path, outcomes: str | Path | None = None, strict: bool = False
) -> Casebook:
    """Read and check a casebook folder and its outcomes file.

    Args:
        folder: the folder of case scenarios.
        outcomes: the outcomes file (default: ``outcomes.yaml`` in the folder).
        strict: refuse sources dated after their scenario instead of warning about them.

    Raises:
        InputError: the first mistake, located by file, line and field.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputError(str(folder), None, "", "folder not found")
    if not folder.is_dir():
        raise InputError(str(folder), None, "", "a casebook is a folder of case scenarios")
    outcomes_path = Path(outcomes) if outcomes is not None else folder / OUTCOMES_FILE
    if outcomes is None and not outcomes_path.exists():
        raise InputError(
            str(outcomes_path),
            None,
            "",
            "no outcomes file: a casebook records what happened in each case in "
            f"{OUTCOMES_FILE} beside the case files (see docs/casebook.md)",
        )
    files, plain, skipped = _read_case_files(folder, outcomes_path)
    warnings: list[InputError] = []
    for case_file in files:
        found = hindsight_errors(case_file.scenario, case_file.path, case_file.lines)
        if found and strict:
            raise found[0]
        warnings += found
    recorded, lines = _read_outcomes(outcomes_path)
    file = str(outcomes_path)

    def error(loc: tuple[str | int, ...], message: str) -> InputError:
        return InputError(file, lines.line(loc), format_loc(loc), message)

    by_name = {case_file.scenario.name: case_file for case_file in files}
    for name, entry in recorded.cases.items():
        if name not in by_name:
            if name in plain:
                raise error(
                    ("cases", name),
                    f"the scenario '{name}' ({plain[name]}) has no case: block, so it is not a "
                    "case of the casebook",
                )
            raise error(
                ("cases", name),
                f"unknown case '{name}': no scenario in {folder} with a case: block has this "
                f"name{_close(name, sorted(by_name))}",
            )
        _check_entry(by_name[name], entry, ("cases", name), error)
    for case_file in files:
        if case_file.scenario.name not in recorded.cases:
            raise error(
                ("cases",),
                f"no outcome recorded for the case '{case_file.scenario.name}' "
                f"({case_file.path}): add what happened under cases",
            )
    cases = [Case(case_file, recorded.cases[case_file.scenario.name], None) for case_file in files]
    cases = [_with_icb_table(case, recorded, error) for case in cases]
    cases.sort(key=lambda case: (case.date, case.name))
    return Casebook(
        folder=folder,
        outcomes_path=outcomes_path,
        outcomes=recorded,
        outcomes_sha256=_sha256(outcomes_path),
        cases=cases,
        skipped=skipped,
        warnings=warnings,
    )


def _check_entry(case_file: CaseFile, entry: CaseOutcome, loc: tuple, error) -> None:
    """A recorded outcome is one of the case's classes, with a day within its horizon."""
    scenario = case_file.scenario
    if entry.outcome not in scenario.outcomes:
        raise error(
            (*loc, "outcome"),
            f"'{entry.outcome}' is not an outcome class of the case '{scenario.name}' "
            f"({case_file.path}){_close(entry.outcome, scenario.outcomes)}",
        )
    if entry.outcome == NO_DAY_OUTCOME:
        if entry.day is not None:
            raise error(
                (*loc, "day"),
                f"a {NO_DAY_OUTCOME} has no day (the crisis was still live at the horizon); "
                "leave 'day' out",
            )
        return
    if entry.day is None:
        raise error(
            loc,
            f"missing 'day': the days from the scenario's date ({scenario.date}) to the first "
            f"day of {entry.outcome}",
        )
    if entry.day > scenario.horizon:
        raise error(
            (*loc, "day"),
            f"day {entry.day} is after the case's horizon of {scenario.horizon} days; record "
            f"what had happened by day {scenario.horizon} ({NO_DAY_OUTCOME} if the crisis was "
            "still live then)",
        )


def _with_icb_table(case: Case, recorded: OutcomesFile, error) -> Case:
    """The case with the ICB table its base rate is taken from (if it names a trigger)."""
    spec = case.scenario.case
    assert spec is not None
    if spec.trigger is None:
        return case
    rates = recorded.icb_base_rates
    if rates is None:
        raise error(
            ("icb_base_rates",),
            f"the case '{case.name}' names an ICB trigger, so the outcomes file needs "
            "icb_base_rates (see docs/casebook.md)",
        )
    table = rates.table_for(case.date)
    if table is None:
        first = min(t.ended_before for t in rates.tables)
        raise error(
            ("icb_base_rates", "tables"),
            f"no table counts only crises that had ended by the date of the case '{case.name}' "
            f"({case.date}); the earliest ends before {first}. Add one (tools/icb_tables.py)",
        )
    row = icb_row(table, spec.trigger)
    shares = row.shares()
    if shares is None:
        group = f" (nor with another trigger of its group, {row.label})" if row.pooled else ""
        raise case.file.error(
            ("case", "trigger"),
            f"no crisis with the trigger {spec.trigger}{group} had ended before "
            f"{table.ended_before} in the ICB table the case uses; its base rate needs at least "
            "one: choose the trigger class nearest to it",
        )
    mapped = sum(shares[icb] for icb, names in spec.icb_classes.items() if names)
    if mapped == 0:
        raise case.file.error(
            ("case", "icb_classes"),
            f"none of the ICB classes that crises triggered by {spec.trigger} reached stands for "
            "an outcome class of the case, so the base rate gives it nothing",
        )
    return Case(case.file, case.recorded, table)
