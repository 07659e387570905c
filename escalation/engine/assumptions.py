"""What a result assumes, as tables a report prints: the scenario's facts, parameters, types,
outcomes, references and base rates, and what differs between two scenarios.

Every table is a small DataFrame of text, built from the scenario as loaded (the same content
that its hash covers), so a report states exactly the assumptions its numbers came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from escalation.engine.labels import DIPLOMATIC_DEFINITIONS, Labels
from escalation.scenario.schema import DIPLOMATIC_OUTCOMES, Parameter, Scenario


def distribution_text(parameter: Parameter) -> str:
    """A parameter's distribution as written: ``beta(2, 5)``, or its path of points.

    A path says how it is interpolated and, if it repeats, its period; a floor or a cap on
    the values follows.
    """
    if parameter.path is None:
        text = str(parameter.dist)
    else:
        points = "; ".join(f"day {day}: {value}" for day, value in parameter.path)
        how = parameter.interpolate
        if parameter.period is not None:
            how += f", repeating every {parameter.period} days"
        text = f"{points} ({how})"
    bounds = [
        f"{word} {value:g}"
        for word, value in (("at least", parameter.floor), ("at most", parameter.cap))
        if value is not None
    ]
    return text + (f"; {', '.join(bounds)}" if bounds else "")


def scenario_facts(scenario: Scenario, info: Mapping[str, Any]) -> pd.DataFrame:
    """Title, description, date, package version, scenario hash, seed, trials, horizon."""
    versions = info.get("versions") or {}
    rows = [
        ("title", scenario.title or scenario.name),
        ("name", scenario.name),
        ("description", " ".join(scenario.description.split())),
        ("date (day 0)", scenario.date.isoformat() if scenario.date else "not given"),
        ("horizon", f"{scenario.horizon} days"),
        ("trials", f"{int(info.get('trials', scenario.trials)):,}"),
        ("seed", str(info.get("seed", scenario.seed))),
        ("scenario hash (SHA-256)", str(info.get("scenario_hash", ""))),
        ("scenario file", str(info.get("source") or "—")),
        ("escalation version", str(versions.get("escalation", "—"))),
        ("run at (UTC)", str(info.get("created", "—"))),
    ]
    return pd.DataFrame(rows, columns=["", "value"])


def parameter_table(scenario: Scenario) -> pd.DataFrame:
    """Every parameter: its description, distribution (or path) and source."""
    rows = [
        (name, " ".join(p.description.split()), distribution_text(p), " ".join(p.source.split()))
        for name, p in scenario.parameters.items()
    ]
    return pd.DataFrame(rows, columns=["parameter", "description", "distribution", "source"])


def type_table(scenario: Scenario, labels: Labels) -> pd.DataFrame:
    """Every decider's private types: prior, overrides, description and source."""
    rows = []
    for decider in scenario.decider_blocks:
        for name, kind in decider.block.types.items():
            overrides = ", ".join(f"{k} = {v}" for k, v in kind.overrides.items()) or "none"
            rows.append(
                (
                    labels.actor(decider.key),
                    name,
                    str(kind.prior),
                    overrides,
                    " ".join(kind.description.split()),
                    " ".join(kind.source.split()),
                )
            )
    return pd.DataFrame(
        rows, columns=["decider", "type", "prior", "overrides", "description", "source"]
    )


def _defining_rungs(scenario: Scenario, outcome: str, labels: Labels) -> list[str]:
    """The lowest rung of each ladder that names ``outcome``, as quoted labels."""
    found = []
    several = len(scenario.all_ladders) > 1
    for ladder, rungs in scenario.all_ladders.items():
        rung = next((r for r in rungs if r.outcome == outcome), None)
        if rung is None:
            continue
        users = [
            labels.actor(d.key)
            for d in scenario.decider_blocks
            if scenario.ladder_of(d.block) == ladder
        ]
        where = f" (ladder of {' and '.join(users) or ladder})" if several else ""
        absorbing = " (ends the trial)" if rung.absorbing else ""
        found.append(f"'{labels.rung(rung.id)}'{where}{absorbing}")
    return found


def outcome_definitions(scenario: Scenario, labels: Labels) -> pd.DataFrame:
    """Each outcome class: its label and what puts a trial in it.

    A trial ends in the gravest violent outcome any decider's rung reached; a violent
    outcome is reached on the rung that names it or any higher rung of the same ladder.
    """
    rows = []
    for name in scenario.outcomes:
        if name in DIPLOMATIC_OUTCOMES:
            definition = DIPLOMATIC_DEFINITIONS[name]
        else:
            rungs = _defining_rungs(scenario, name, labels)
            if len(rungs) == 1:
                definition = f"reached the rung {rungs[0]} or a higher one"
            elif rungs:
                definition = f"reached one of the rungs {' or '.join(rungs)}, or a higher one"
            else:
                definition = "a violent outcome"
            if name != scenario.violent_outcomes[-1]:
                definition += ", but no graver outcome"
        rows.append((labels.outcome(name), name, definition))
    return pd.DataFrame(rows, columns=["outcome", "name", "a trial ends here when it"])


def references_table(scenario: Scenario) -> pd.DataFrame:
    """The scenario's references, by the key its sources cite them with."""
    return pd.DataFrame(
        [(f"[{key}]", " ".join(str(text).split())) for key, text in scenario.references.items()],
        columns=["key", "reference"],
    )


def base_rates(scenario: Scenario) -> dict[str, tuple[float, str]]:
    """Base rates the scenario records (its ``base_rates``), as ``outcome -> (share, source)``."""
    return {
        name: (float(rate.share), " ".join(rate.source.split()))
        for name, rate in scenario.base_rates.items()
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings and lists as ``{dotted.path: leaf}``."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list | tuple) and value and all(isinstance(v, Mapping) for v in value):
        out = {}
        for i, item in enumerate(value):
            key = item.get("id", i) if isinstance(item, Mapping) else i
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_shown(v) for v in value)
    return " ".join(str(value).split())


#: Fields that say what a scenario is called or documents, not what it assumes.
_DOCUMENTATION = ("name", "title", "description", "references", "source", "label", "text")


def scenario_differences(first: Scenario, other: Scenario) -> pd.DataFrame:
    """What differs between two scenarios: one row per changed, added or removed field.

    Columns ``section`` (parameters, policies, ladder, ...), ``item`` (the parameter, policy or
    rung), ``field`` (the path within it), ``first`` and ``this`` (the values; "—" where
    absent). Documentation (names, titles, descriptions, sources, labels) is left out: it
    changes no number.
    """
    a = first.model_dump(mode="json", exclude_defaults=False)
    b = other.model_dump(mode="json", exclude_defaults=False)
    rows = []
    for section in dict.fromkeys([*a, *b]):
        if section in _DOCUMENTATION:
            continue
        left, right = _flatten(a.get(section), ""), _flatten(b.get(section), "")
        for path in dict.fromkeys([*left, *right]):
            if path.rsplit(".", 1)[-1] in _DOCUMENTATION:
                continue
            x, y = left.get(path, None), right.get(path, None)
            if x == y:
                continue
            item, _, rest = path.partition(".")
            if not path:
                item, rest = section, ""
            rows.append((section, item, rest, _shown(x), _shown(y)))
    return pd.DataFrame(rows, columns=["section", "item", "field", "first", "this"])
