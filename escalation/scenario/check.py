"""Checks that need the whole scenario: names refer to things that exist, expressions compile.

:func:`check_scenario` raises :class:`ScenarioCheckError` carrying the location of the field at
fault, so the loader can report the file and line. :func:`namespace` says which names an
expression may use; the model compiles its expressions against the same namespace.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from escalation.scenario.conditions import ExpressionError, Namespace, compile_expression
from escalation.scenario.schema import DIPLOMATIC_OUTCOMES, Scenario

#: State every actor has, as arrays over trials; conditions read them as ``actor.attribute``.
ACTOR_ATTRIBUTES: tuple[str, ...] = ("forces", "capability", "aid", "sanctions", "reinforcement")
#: State that only the challenger has: where the crisis stands on the ladder, what it was granted.
CHALLENGER_ATTRIBUTES: tuple[str, ...] = ("rung", "peak", "granted")
#: Plain names every expression may use besides the parameters.
BUILTIN_VARIABLES: tuple[str, ...] = ("day", "horizon")
#: Names a scenario may not give a parameter, rung or actor: they mean something already.
RESERVED: frozenset[str] = frozenset(
    {
        *BUILTIN_VARIABLES,
        "true",
        "false",
        "and",
        "or",
        "not",
        "min",
        "max",
        "abs",
        "exp",
        "log",
        "sqrt",
        "clip",
        "where",
        "trial",
        "type",
        "outcome",
        "outcome_day",
        "peak_rung",
        "sanctions",
        "aid",
        "granted",
    }
)


class ScenarioCheckError(ValueError):
    """A cross-field mistake, located by the path of the field at fault."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def namespace(scenario: Scenario) -> Namespace:
    """The names expressions in ``scenario`` may use."""
    challenger = scenario.challenger.actor
    return Namespace(
        variables=frozenset((*BUILTIN_VARIABLES, *scenario.parameters)),
        constants={rung.id: float(index) for index, rung in enumerate(scenario.ladder)},
        actors={
            actor: frozenset(
                ACTOR_ATTRIBUTES + (CHALLENGER_ATTRIBUTES if actor == challenger else ())
            )
            for actor in scenario.actors
        },
    )


def static_names(scenario: Scenario) -> frozenset[str]:
    """Names whose value is fixed for a whole trial: parameters that do not follow a path."""
    return frozenset(name for name, p in scenario.parameters.items() if p.path is None)


@dataclass(frozen=True)
class ExprField:
    """One expression field of a scenario: where it is, its text, and what it must be."""

    loc: tuple[str | int, ...]
    text: str | int | float | bool
    kind: str  # "bool" or "number"
    static: bool = False


def expression_fields(scenario: Scenario) -> Iterator[ExprField]:
    """Every expression in the scenario, with its location."""
    for name, actor in scenario.actors.items():
        yield ExprField(("actors", name, "forces"), actor.forces, "number")
        yield ExprField(("actors", name, "capability"), actor.capability, "number")
    for index, rung in enumerate(scenario.ladder):
        for field in ("gain", "force", "cost", "hold_cost"):
            yield ExprField(("ladder", index, field), getattr(rung, field), "number")
    challenger = scenario.challenger
    for field in (
        "stake",
        "audience_cost",
        "rationality",
        "decision_rate",
        "hope",
        "planning_days",
        "decisiveness",
    ):
        yield ExprField(("challenger", field), getattr(challenger, field), "number")
    for name, kind in challenger.types.items():
        loc = ("challenger", "types", name)
        yield ExprField((*loc, "prior"), kind.prior, "number", static=True)
        for parameter, value in kind.overrides.items():
            yield ExprField((*loc, "overrides", parameter), value, "number", static=True)
    for name, policy in scenario.policies.items():
        loc = ("policies", name)
        yield ExprField((*loc, "when"), policy.when, "bool")
        for field in ("hazard", "follow_through", "perceived", "cost"):
            value = getattr(policy, field)
            if value is not None:
                yield ExprField((*loc, field), value, "number")
        action = policy.do
        if action.sanction:
            yield ExprField(
                (*loc, "do", "sanction", "severity"), action.sanction.severity, "number"
            )
        for kind in ("aid", "reinforce"):
            move = getattr(action, kind)
            if move:
                yield ExprField((*loc, "do", kind, "amount"), move.amount, "number")
                yield ExprField((*loc, "do", kind, "lag"), move.lag, "number")
    for name, event in scenario.events.items():
        yield ExprField(("events", name, "when"), event.when, "bool")
        yield ExprField(("events", name, "rate"), event.rate, "number")


def _compile_text(text: str | int | float | bool) -> str | int | float:
    """YAML ``true``/``false`` in a condition field become the grammar's words."""
    if isinstance(text, bool):
        return "true" if text else "false"
    return text


def check_scenario(scenario: Scenario) -> None:
    """Raise :class:`ScenarioCheckError` at the first cross-field mistake."""
    _check_names(scenario)
    _check_references(scenario)
    names = namespace(scenario)
    static = static_names(scenario)
    for field in expression_fields(scenario):
        try:
            compiled = compile_expression(_compile_text(field.text), names, expect=field.kind)
        except ExpressionError as error:
            raise ScenarioCheckError(field.loc, f"{error}") from None
        if field.static and not compiled.names <= static:
            dynamic = ", ".join(sorted(compiled.names - static))
            raise ScenarioCheckError(
                field.loc,
                f"must be fixed for a whole trial, so it may use only parameters without a path; "
                f"it uses {dynamic}",
            )


def _check_names(scenario: Scenario) -> None:
    """Actors, parameters and rungs share one namespace in expressions: no clashes."""
    seen: dict[str, tuple[str | int, ...]] = {}
    groups: list[tuple[tuple[str | int, ...], str]] = [
        (("actors", name), name) for name in scenario.actors
    ]
    groups += [(("parameters", name), name) for name in scenario.parameters]
    groups += [(("ladder", i, "id"), rung.id) for i, rung in enumerate(scenario.ladder)]
    for loc, name in groups:
        if name in RESERVED:
            raise ScenarioCheckError(loc, f"'{name}' is a reserved word; choose another name")
        if name in seen:
            raise ScenarioCheckError(
                loc, f"'{name}' is already used at {'.'.join(map(str, seen[name]))}"
            )
        seen[name] = loc
    outcomes: set[str] = set()
    for index, rung in enumerate(scenario.ladder):
        if rung.outcome is None:
            if rung.absorbing:
                raise ScenarioCheckError(
                    ("ladder", index, "outcome"), "an absorbing rung must name its outcome"
                )
            continue
        if rung.outcome in DIPLOMATIC_OUTCOMES or rung.outcome in outcomes:
            raise ScenarioCheckError(
                ("ladder", index, "outcome"), f"outcome '{rung.outcome}' is already defined"
            )
        outcomes.add(rung.outcome)


def _known(kind: str, name: str, options: list[str]) -> str:
    import difflib

    message = f"unknown {kind} '{name}'"
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return message + f"; did you mean '{close[0]}'?"
    return message + f"; expected one of: {', '.join(options)}"


def _check_references(scenario: Scenario) -> None:
    """Every actor, rung, demand and parameter a field names exists and fits its role."""
    actors = list(scenario.actors)
    rungs = [rung.id for rung in scenario.ladder]
    demands = list(scenario.demands)
    challenger = scenario.challenger

    def need(loc: tuple[str | int, ...], kind: str, name: str, options: list[str]) -> None:
        if name not in options:
            raise ScenarioCheckError(loc, _known(kind, name, options))

    need(("challenger", "actor"), "actor", challenger.actor, actors)
    need(("challenger", "target"), "actor", challenger.target, actors)
    if challenger.target == challenger.actor:
        raise ScenarioCheckError(("challenger", "target"), "the challenger cannot target itself")
    need(("challenger", "start_rung"), "rung", challenger.start_rung, rungs)
    for name, kind in challenger.types.items():
        for parameter in kind.overrides:
            loc = ("challenger", "types", name, "overrides", parameter)
            need(loc, "parameter", parameter, list(scenario.parameters))
            if scenario.parameters[parameter].path is not None:
                raise ScenarioCheckError(loc, "a parameter with a path cannot be overridden")
    total = 0.0
    for name, demand in scenario.demands.items():
        for index, grantor in enumerate(demand.grantors):
            loc = ("demands", name, "grantors", index)
            need(loc, "actor", grantor, actors)
            if grantor == challenger.actor:
                raise ScenarioCheckError(loc, "the challenger cannot grant its own demand")
        total += float(demand.weight)
        if total > 1 + 1e-9:  # blame the demand that tips the sum over 1
            shares = " + ".join(f"{d.weight:g}" for d in scenario.demands.values())
            raise ScenarioCheckError(
                ("demands", name, "weight"),
                f"demand weights are shares of the stake and must add up to at most 1; "
                f"{shares} = {sum(float(d.weight) for d in scenario.demands.values()):g}",
            )
    for name, policy in scenario.policies.items():
        loc = ("policies", name)
        need((*loc, "actor"), "actor", policy.actor, actors)
        action = policy.do
        if action.sanction:
            need((*loc, "do", "sanction", "target"), "actor", action.sanction.target, actors)
        for kind in ("aid", "reinforce"):
            move = getattr(action, kind)
            if move:
                need((*loc, "do", kind, "to"), "actor", move.to, actors)
        if action.concede:
            need((*loc, "do", "concede"), "demand", action.concede, demands)
            if policy.actor not in scenario.demands[action.concede].grantors:
                raise ScenarioCheckError(
                    (*loc, "actor"),
                    f"'{policy.actor}' is not a grantor of demand '{action.concede}'",
                )
    for name, event in scenario.events.items():
        need(("events", name, "to_rung"), "rung", event.to_rung, rungs)
