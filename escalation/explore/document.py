"""The scenario a page's settings make: its YAML, its validation, and the experiment file.

:class:`Explorer` holds one scenario file as read and as validated. :meth:`Explorer.build`
writes a :class:`~escalation.explore.settings.Settings` into it and returns a :class:`Built`:
the exported scenario's YAML text (a header comment saying what was changed), and either the
validated scenario or the located error that ``escalation validate`` prints for that text.
:meth:`Built.experiment_text` gives the same changes as an experiment file (one variable per
changed field, each with one value).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from escalation.explore.settings import (
    AddedPolicy,
    Change,
    Controls,
    Settings,
    apply_changes,
    changes,
    variable_name,
)
from escalation.scenario.load import scenario_from_dict
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import InputError, LineMap, parse_yaml, read_yaml


@dataclass
class Built:
    """A page's settings written into the scenario.

    Attributes:
        settings: the settings as read (unreadable values dropped).
        notes: what was dropped from the settings, and why.
        changes, added: the fields written and the policies added.
        text: the exported scenario's YAML.
        file: the exported file's name, used in located messages.
        scenario: the validated scenario, or None when ``error`` says why it is invalid.
        error: the message ``escalation validate`` prints for ``text`` (without ``error:``).
        lines: line numbers of ``text``'s fields, for errors found while playing.
    """

    explorer: Explorer
    settings: Settings
    notes: list[str]
    changes: list[Change]
    added: list[AddedPolicy]
    text: str
    file: str
    scenario: Scenario | None = None
    error: InputError | None = None
    lines: LineMap = field(default_factory=LineMap)

    @property
    def ok(self) -> bool:
        """Whether the settings make a valid scenario."""
        return self.scenario is not None

    @cached_property
    def experiment_text(self) -> str:
        """The changes as an experiment file: one grid point, each changed field a variable."""
        return self.explorer.experiment_text(self)


class Explorer:
    """One scenario file, as read and as validated, and the controls it offers."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.raw, lines = read_yaml(self.path)
        self.scenario = scenario_from_dict(self.raw, file=str(self.path), lines=lines).from_file(
            str(self.path)
        )
        self.validated = self.scenario.model_dump(mode="python")
        self.controls = Controls.from_scenario(self.scenario)

    @property
    def export_name(self) -> str:
        """File name of the exported scenario."""
        return f"{self.path.stem}-explored.yaml"

    @property
    def experiment_name(self) -> str:
        """File name of the exported experiment."""
        return f"{self.path.stem}-explored-experiment.yaml"

    def build(self, data: Any) -> Built:
        """Write settings (a :class:`Settings`, a URL query or JSON-like data) into the scenario.

        Never raises for bad settings: unreadable values are dropped with a note, and an
        invalid scenario is returned with its located error.
        """
        if isinstance(data, Settings):
            settings, notes = data, []
        elif isinstance(data, str):
            settings, notes = Settings.from_query(data, self.controls)
        else:
            settings, notes = Settings.from_data(data, self.controls)
        found, added = changes(self.controls, settings)
        name = self.export_name
        try:
            written = apply_changes(self.raw, self.validated, found, added)
        except ValueError as error:
            failure = InputError(name, None, "", str(error))
            return Built(self, settings, notes, found, added, "", name, error=failure)
        text = self.header(found, added) + _dump(written)
        built = Built(self, settings, notes, found, added, text, name)
        try:
            data_read, lines = parse_yaml(text, file=name)
            built.lines = lines
            built.scenario = scenario_from_dict(data_read, file=name, lines=lines).from_file(name)
        except InputError as error:
            built.error = error
        return built

    def header(self, found: list[Change], added: list[AddedPolicy]) -> str:
        """The exported scenario's opening comment: where it comes from and what changed."""
        stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        lines = [f"# {self.path.name} as changed on the escalation explore page ({stamp})."]
        notes = [c.note for c in found] + [p.note for p in added]
        if notes:
            lines.append(f"# Changed from {self.path}:")
            lines += [f"#   - {note}" for note in dict.fromkeys(notes)]
        else:
            lines.append(f"# Nothing was changed from {self.path}.")
        lines.append("# Everything else is as in that file (its comments are not kept).")
        return "\n".join(_comment_safe(line) for line in lines) + "\n"

    def experiment_text(self, built: Built) -> str:
        """The experiment file of ``built``'s changes (see :attr:`Built.experiment_text`)."""
        scenario = self.scenario
        taken: set[str] = set()
        variables: dict[str, dict[str, Any]] = {}
        trials = built.settings.trials or scenario.trials
        for change in built.changes:
            if change.path == "trials":
                continue  # an experiment states its trials itself
            entry: dict[str, Any] = {"path": change.path, "values": [change.value]}
            if change.quantile:
                entry["quantile"] = True
            entry["label"] = f"{change.path}: {change.note}"[:200]
            variables[variable_name(change.path, taken)] = entry
        if not variables:
            # An experiment varies something: the horizon at its own value changes nothing.
            variables["horizon"] = {"path": "horizon", "values": [scenario.horizon]}
        head = [
            f"# The changes made to {self.path.name} on the escalation explore page, as an "
            "experiment:",
            "# one grid point; each changed field is a variable with one value.",
        ]
        for policy in built.added:
            head.append(
                f"# Not expressible here (an experiment writes fields that exist): {policy.note}"
            )
        document = {
            "name": f"{_name(scenario.name)}_explored"[:120],
            "title": f"{scenario.title or scenario.name}: explored settings",
            "scenario": str(self.path.resolve()),
            "design": "grid",
            "trials": trials,
            "seed": scenario.seed,
            "metrics": [f"p:{outcome}" for outcome in scenario.outcomes],
            "variables": variables,
        }
        return "\n".join(_comment_safe(line) for line in head) + "\n" + _dump(document)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _name(text: str) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")
    return cleaned if cleaned and cleaned[0].isalpha() else f"s_{cleaned}"


def _comment_safe(line: str) -> str:
    """A comment line stays one line (a name or value with a line break cannot end it)."""
    return line.replace("\r", " ").replace("\n", " ")
