"""From a YAML file, or a dict, to a checked :class:`~escalation.scenario.schema.Scenario`.

Every mistake comes out as one :class:`~escalation.scenario.yamlio.InputError` naming the file,
the line and the field, so the command line can print it and exit with status 2.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from escalation.scenario.check import ScenarioCheckError, check_scenario
from escalation.scenario.hints import with_hint
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import (
    InputError,
    LineMap,
    describe,
    format_loc,
    read_yaml,
    validation_error,
)


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and cross-check a scenario file."""
    data, lines = read_yaml(path)
    return scenario_from_dict(data, file=str(path), lines=lines).from_file(str(path))


def is_experiment_data(data: Any) -> bool:
    """Whether data read from a file is an experiment: it names a scenario and what to vary."""
    return (
        isinstance(data, dict) and "scenario" in data and ("variables" in data or "design" in data)
    )


def is_scenario_data(data: Any) -> bool:
    """Whether data read from a file is a scenario rather than an experiment."""
    return (
        isinstance(data, dict)
        and "scenario" not in data
        and any(key in data for key in ("actors", "ladder", "challenger"))
    )


def scenario_from_dict(
    data: Any, file: str = "<scenario>", lines: LineMap | None = None
) -> Scenario:
    """Validate and cross-check scenario data already read into Python values."""
    lines = lines or LineMap()
    if is_experiment_data(data):
        raise InputError(
            file,
            lines.line(("scenario",)),
            "",
            "this is an experiment file, not a scenario: it names a scenario and what to vary; "
            f"sweep it with 'escalation sweep {file}'",
        )
    if not isinstance(data, dict):
        found = "the file is empty" if data is None else f"found {describe(data)}"
        raise InputError(
            file,
            lines.line(()),
            "",
            f"a scenario is a YAML mapping of fields (name, actors, ...); {found}",
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, Scenario, file, lines, data) from None
    try:
        check_scenario(scenario)
    except ScenarioCheckError as error:
        line = lines.line(error.loc)
        raise InputError(file, line, format_loc(error.loc), with_hint(error.message)) from None
    return scenario


def locate(error: ScenarioCheckError, file: str | Path | None) -> InputError:
    """A mistake found while playing, as a located input error of ``file`` (if known)."""
    line = None
    if file is not None:
        try:
            _, lines = read_yaml(file)
            line = lines.line(error.loc)
        except InputError:
            line = None
    return InputError(str(file or "<scenario>"), line, format_loc(error.loc), error.message)


def scenario_hash(scenario: Scenario) -> str:
    """A SHA-256 of the scenario's content, independent of YAML formatting and comments.

    Key order counts: it fixes the order of random draws.
    """
    text = json.dumps(scenario.model_dump(mode="json"), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
