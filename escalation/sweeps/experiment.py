"""Experiment files: which scenario to start from, what to vary, how, and what to measure.

An experiment is a YAML file read like a scenario (safe YAML, every field's line kept), so
that a mistake is reported as ``file:line: field: message``. A small example::

    name: sanctions_credibility
    scenario: ../scenarios/dec2021.yaml      # relative to this file
    design: grid                             # grid | oat | lhs | sobol | morris
    trials: 8000                             # per point
    seed: 20211207                           # default: the scenario's seed
    metrics: [p:full_scale_invasion]
    variables:
      severity:
        path: parameters.blue_sanctions_severity.dist
        values: [0.2, 0.4, 0.6]
      belief:
        path: parameters.red_belief_blue.dist
        range: [0.1, 0.9]
        steps: 5
        format: "beta({x}*10, (1-{x})*10)"   # the design's number becomes distribution text

:func:`load_experiment` checks the file, the scenario it names, every variable's path and
every metric, builds the design and applies every point to the scenario, re-validating each
one: an invalid combination is an input error that names the variable at fault.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from escalation.scenario.load import (
    is_experiment_data,
    is_scenario_data,
    scenario_from_dict,
    scenario_hash,
)
from escalation.scenario.schema import MAX_HORIZON, MAX_TRIALS, Scenario
from escalation.scenario.yamlio import InputError, LineMap, format_loc, read_yaml, validation_error
from escalation.sweeps.designs import CONTINUOUS, Design, DesignError, Factor, make_design
from escalation.sweeps.metrics import Metric, Vocabulary, parse_metric, vocabulary
from escalation.sweeps.variables import PathError, Target, apply_point, make_target

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Number = StrictInt | StrictFloat


def _finite(value: Any) -> Any:
    """A value a scenario can take: not NaN, not infinite (``.nan`` would run the baseline)."""
    if isinstance(value, float) and not math.isfinite(value):
        written = ".nan" if value != value else ("-.inf" if value < 0 else ".inf")
        raise ValueError(f"{written} is not a value a scenario can take; give a finite number")
    return value


Value = Annotated[StrictBool | StrictInt | StrictFloat | StrictStr, AfterValidator(_finite)]

#: Column names a variable may not take, since the points table uses them.
RESERVED_NAMES = ("point", "trials")
_PATH = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$"


class Strict(BaseModel):
    """Unknown fields are errors, so that typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


DesignKind = Literal["grid", "oat", "lhs", "sobol", "morris"]
DESIGN_KINDS: tuple[str, ...] = DesignKind.__args__


class DesignSpec(Strict):
    """How points are chosen. ``design: grid`` is short for ``design: {kind: grid}``."""

    kind: DesignKind
    samples: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="lhs: points; sobol: base samples N (a power of 2), giving N*(k+2) points; "
        "morris: trajectories, giving N*(k+1) points.",
    )
    levels: int = Field(4, ge=2, le=64, description="morris: grid levels per variable.")

    @model_validator(mode="after")
    def _samples_given(self) -> DesignSpec:
        """Check that continuous designs say how many samples and grids do not."""
        if self.kind in CONTINUOUS and self.samples is None:
            raise ValueError(f"a {self.kind} design needs 'samples'")
        if self.kind not in CONTINUOUS and self.samples is not None:
            raise ValueError(
                f"a {self.kind} design takes its points from the values; drop 'samples'"
            )
        return self


class Variable(Strict):
    """One input of the experiment: a dotted path into the scenario and the values it takes."""

    path: str = Field(pattern=_PATH, max_length=300, description="Dotted path into the scenario.")
    values: list[Value] | None = Field(
        None, min_length=1, max_length=10_000, description="Values for grid and oat designs."
    )
    range: tuple[Number, Number] | None = Field(
        None, description="[lo, hi] for lhs, sobol and morris designs (or a grid with steps)."
    )
    steps: int | None = Field(None, ge=2, le=10_000, description="Grid values spread over range.")
    format: str | None = Field(
        None,
        min_length=3,
        max_length=500,
        description="Template turning a number into text, with {x} where the number goes.",
    )
    quantile: bool = Field(
        False,
        description="Vary a parameter by quantile: the value q in [0, 1] fixes the parameter "
        "at its distribution's q-quantile for the whole point.",
    )
    label: str = Field("", max_length=200, description="Axis label in the report.")

    @model_validator(mode="after")
    def _consistent(self) -> Variable:
        """Check that values and range exclude each other and that each is well formed."""
        if self.values is not None and self.range is not None:
            raise ValueError("give 'values' or 'range', not both")
        if self.values is None and self.range is None and not self.quantile:
            raise ValueError("give 'values' (for grid and oat designs) or 'range' [lo, hi]")
        if self.range is not None:
            lo, hi = self.range
            if not lo < hi:
                raise ValueError(f"range must be [lo, hi] with lo < hi; got [{lo}, {hi}]")
            if any(abs(x) == float("inf") or x != x for x in self.range):
                raise ValueError("range must be finite")
        if self.steps is not None and self.range is None:
            raise ValueError("'steps' spreads values over 'range'; give a range too")
        if self.format is not None:
            if "{x}" not in self.format:
                raise ValueError("format must contain {x} where the number goes")
            rest = self.format.replace("{x}", "")
            if "{" in rest or "}" in rest:
                raise ValueError("format may contain only the placeholder {x}")
        if self.quantile:
            if self.format is not None:
                raise ValueError("a quantile variable writes the parameter's value; drop 'format'")
            bounds = self.range or (0.0, 1.0)
            if not 0 <= bounds[0] < bounds[1] <= 1:
                raise ValueError("a quantile variable's range lies within [0, 1]")
            for value in self.values or ():
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not (0 <= value <= 1)
                ):
                    raise ValueError("a quantile variable's values are numbers in [0, 1]")
        return self

    def factor(self, name: str) -> Factor:
        """The design factor of this variable (a quantile one defaults to the range [0, 1])."""
        span = self.range if self.range is not None else ((0.0, 1.0) if self.quantile else None)
        values = tuple(self.values) if self.values is not None else None
        if span is not None:
            span = (float(span[0]), float(span[1]))
        return Factor(name=name, values=values, range=span, steps=self.steps)


def _design_shorthand(schema: dict[str, Any]) -> None:
    """The JSON Schema of ``design``: the mapping, or only its kind (``design: grid``)."""
    spec = dict(schema)
    schema.clear()
    schema["anyOf"] = [spec, {"type": "string", "enum": list(DESIGN_KINDS)}]


class Experiment(Strict):
    """A sweep over a scenario: the design, its variables, trials per point and metrics."""

    name: str = Field(
        "", max_length=120, description="Name of the experiment (default: the file name)."
    )
    title: str = ""
    description: str = ""
    scenario: str = Field(min_length=1, description="Scenario file, relative to this file.")
    design: DesignSpec = Field(json_schema_extra=_design_shorthand)
    variables: dict[Name, Variable] = Field(min_length=1, max_length=200)
    trials: int = Field(ge=1, le=MAX_TRIALS, description="Monte Carlo trials per point.")
    seed: int | None = Field(
        None, ge=0, lt=2**63, description="Seed of every point (default: the scenario's)."
    )
    metrics: list[str] = Field(
        min_length=1, max_length=100, description="What to measure at each point (see metrics)."
    )
    source: str = Field("", description="Where the question comes from.")

    @field_validator("design", mode="before")
    @classmethod
    def _short_design(cls, value: Any) -> Any:
        """Accept ``design: grid`` for ``design: {kind: grid}``."""
        return {"kind": value} if isinstance(value, str) else value


@dataclass
class LoadedExperiment:
    """An experiment checked against its scenario, with its design and variable targets."""

    experiment: Experiment
    file: str
    name: str
    scenario_path: Path
    scenario: Scenario
    base: dict[str, Any]
    targets: dict[str, Target]
    metrics: list[Metric]
    design: Design
    trials: int
    seed: int
    words: Vocabulary

    @property
    def experiment_hash(self) -> str:
        """SHA-256 of what fixes the numbers: design, variables, metrics, scenario, trials, seed.

        Names, titles, descriptions and variables' labels are left out, so editing them does not
        block a resume.
        """
        content = {
            "experiment": self.experiment.model_dump(
                mode="json",
                include={"design", "variables", "metrics"},
                exclude={"variables": {"__all__": {"label"}}},
            ),
            "scenario_hash": scenario_hash(self.scenario),
            "trials": self.trials,
            "seed": self.seed,
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def point_scenario(self, point: dict[str, Any]) -> Scenario:
        """The scenario of one point (its variables written, trials and seed set), validated."""
        return scenario_from_dict(self._point_data(point), file=f"{self.file} (point)")

    def _point_data(self, point: dict[str, Any]) -> dict[str, Any]:
        data = apply_point(self.base, self.targets, point)
        data["trials"], data["seed"] = self.trials, self.seed
        return data


def load_experiment(
    path: str | Path,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
) -> LoadedExperiment:
    """Read and check an experiment file, its scenario, its design and every point.

    ``trials``, ``seed`` and ``horizon`` replace the file's trials per point, its seed and the
    scenario's horizon. Raises :class:`InputError` naming the file, line and field of the first
    mistake.
    """
    data, lines = read_yaml(path)
    return experiment_from_data(
        data, lines, str(path), Path(path).parent, trials=trials, seed=seed, horizon=horizon
    )


def experiment_from_data(
    data: Any,
    lines: LineMap,
    file: str,
    folder: Path,
    trials: int | None = None,
    seed: int | None = None,
    horizon: int | None = None,
) -> LoadedExperiment:
    """Check experiment data already read from ``file``, whose scenario is relative to ``folder``.

    See :func:`load_experiment`.
    """
    if is_scenario_data(data):
        raise InputError(
            file,
            lines.line(()),
            "",
            "this is a scenario file, not an experiment: play it with "
            f"'escalation run {file}'; an experiment names a scenario and what to vary "
            "(docs/experiment-format.md)",
        )
    if not isinstance(data, dict):
        raise InputError(
            file, lines.line(()), "", "an experiment is a YAML mapping (scenario, design, ...)"
        )
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, Experiment, file, lines, data) from None
    if trials is not None and not 1 <= trials <= MAX_TRIALS:
        raise InputError(file, None, "--trials", f"must be between 1 and {MAX_TRIALS:,}")
    if seed is not None and not 0 <= seed < 2**63:
        raise InputError(file, None, "--seed", "must be between 0 and 2**63 - 1")
    if horizon is not None and not 1 <= horizon <= MAX_HORIZON:
        raise InputError(file, None, "--horizon", f"must be between 1 and {MAX_HORIZON} days")

    scenario_path = (folder / experiment.scenario).resolve()
    where = lines.line(("scenario",))
    if not scenario_path.is_file():
        raise InputError(
            file, where, "scenario", f"no scenario file at {experiment.scenario} (from this file)"
        )
    scenario_data, scenario_lines = read_yaml(scenario_path)
    if is_experiment_data(scenario_data):
        raise InputError(
            file,
            where,
            "scenario",
            f"{experiment.scenario} is an experiment file, not a scenario; name the scenario "
            "file to vary",
        )
    if horizon is not None and isinstance(scenario_data, dict):
        scenario_data = {**scenario_data, "horizon": horizon}
    scenario = scenario_from_dict(scenario_data, file=str(scenario_path), lines=scenario_lines)
    if seed is not None:
        experiment = experiment.model_copy(update={"seed": seed})
    return check_experiment(
        experiment,
        scenario,
        scenario_path=scenario_path,
        file=file,
        lines=lines,
        trials=trials,
    )


def check_experiment(
    experiment: Experiment,
    scenario: Scenario,
    scenario_path: Path | None = None,
    file: str = "<experiment>",
    lines: LineMap | None = None,
    trials: int | None = None,
) -> LoadedExperiment:
    """Check an experiment against its scenario, build its design, and validate every point."""
    lines = lines or LineMap()

    def fail(loc: tuple[str | int, ...], message: str) -> InputError:
        return InputError(file, lines.line(loc), format_loc(loc), message)

    base = scenario.model_dump(mode="python")
    targets: dict[str, Target] = {}
    for name, variable in experiment.variables.items():
        if name in RESERVED_NAMES:
            raise fail(("variables", name), f"'{name}' is a column of the results; rename it")
        try:
            targets[name] = make_target(
                name, base, variable.path, variable.format, variable.quantile
            )
        except PathError as error:
            raise fail(("variables", name, "path"), str(error)) from None
    paths = [t.parts for t in targets.values()]
    for name, target in targets.items():
        for other in paths:
            if other != target.parts and other[: len(target.parts)] == target.parts:
                raise fail(("variables", name, "path"), "two variables write the same field")
        if paths.count(target.parts) > 1:
            raise fail(("variables", name, "path"), "two variables write the same field")

    metrics = []
    words = vocabulary(scenario)
    for index, text in enumerate(experiment.metrics):
        try:
            metric = parse_metric(
                text, words.outcomes, words.violent, words.means, words.categories
            )
        except ValueError as error:
            raise fail(("metrics", index), str(error)) from None
        if metric.text in [m.text for m in metrics]:
            raise fail(("metrics", index), f"'{text}' is listed twice")
        metrics.append(metric)

    kind = experiment.design.kind
    for name, variable in experiment.variables.items():
        loc = ("variables", name)
        if kind in CONTINUOUS and variable.range is None and not variable.quantile:
            raise fail(loc, f"a {kind} design varies numbers over a 'range' [lo, hi]; give one")
        if kind in CONTINUOUS and variable.steps is not None:
            raise fail((*loc, "steps"), f"'steps' is for grids; a {kind} design samples the range")
        if kind not in CONTINUOUS and variable.values is None and variable.steps is None:
            raise fail(loc, f"a {kind} design takes 'values' (or 'range' with 'steps')")
        if kind == "oat" and variable.values is None and variable.range is None:
            raise fail(loc, "an oat design takes 'values'")

    samples = experiment.design.samples
    if kind == "sobol" and samples is not None and (samples < 2 or samples & (samples - 1)):
        raise fail(
            ("design", "samples"),
            f"a Sobol design needs a power of 2 (e.g. 16, 32, 64) base samples; got {samples}",
        )
    seed = scenario.seed if experiment.seed is None else experiment.seed
    try:
        design = make_design(
            kind,
            [v.factor(name) for name, v in experiment.variables.items()],
            samples=experiment.design.samples,
            levels=experiment.design.levels,
            seed=seed,
        )
    except DesignError as error:
        raise fail(("design",), str(error)) from None

    loaded = LoadedExperiment(
        experiment=experiment,
        file=file,
        name=experiment.name or Path(file).stem,
        scenario_path=scenario_path or Path(file),
        scenario=scenario,
        base=base,
        targets=targets,
        metrics=metrics,
        design=design,
        trials=experiment.trials if trials is None else trials,
        seed=seed,
        words=words,
    )
    _check_points(loaded, fail)
    return loaded


def _check_points(loaded: LoadedExperiment, fail) -> None:
    """Apply and validate every point; name the variable (and value) of an invalid one."""
    experiment = loaded.experiment
    for point in loaded.design.points:
        try:
            loaded.point_scenario(point)
            continue
        except (InputError, ValueError) as error:
            combined = error
        # Which variable alone breaks the scenario? Try each of the point's values by itself.
        for name, value in point.items():
            if value is None:
                continue
            try:
                loaded.point_scenario({name: value})
            except (InputError, ValueError) as error:
                variable = experiment.variables[name]
                loc: tuple[str | int, ...] = ("variables", name)
                if variable.values is not None and value in variable.values:
                    loc = (*loc, "values", variable.values.index(value))
                raise fail(
                    loc, f"the value {value!r} makes an invalid scenario: {_reason(error)}"
                ) from None
        changed = ", ".join(f"{k}={v!r}" for k, v in point.items() if v is not None)
        raise fail(
            ("variables",),
            f"the combination {changed} makes an invalid scenario: {_reason(combined)}",
        )


def _reason(error: Exception) -> str:
    """The scenario's own message, without its file name."""
    if isinstance(error, InputError):
        return f"{error.field}: {error.message}" if error.field else error.message
    return str(error)
