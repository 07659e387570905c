"""Checks that need the whole scenario: names refer to things that exist, expressions compile.

:func:`check_scenario` raises :class:`ScenarioCheckError` carrying the location of the field at
fault, so the loader can report the file and line. :func:`namespace` says which names an
expression may use; the model compiles its expressions against the same namespace.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from escalation.scenario.conditions import ExpressionError, Namespace, compile_expression
from escalation.scenario.schema import (
    DIPLOMATIC_OUTCOMES,
    SHARED_LADDER,
    DeciderBlock,
    Scenario,
)

#: State every actor has, as arrays over trials; conditions read them as ``actor.attribute``.
ACTOR_ATTRIBUTES: tuple[str, ...] = ("forces", "capability", "aid", "sanctions", "reinforcement")
#: State only deciders have: the rung they stand on, the highest reached, the share of their
#: demands met, and whether they have ended their part in the crisis (1) or not (0).
DECIDER_ATTRIBUTES: tuple[str, ...] = ("rung", "peak", "granted", "ended")
#: The old name of :data:`DECIDER_ATTRIBUTES`.
CHALLENGER_ATTRIBUTES = DECIDER_ATTRIBUTES
#: State of a demand: whether it is met (1) or not (0), read as ``demand.granted``.
DEMAND_ATTRIBUTES: tuple[str, ...] = ("granted",)
#: Plain names every expression may use besides the parameters.
BUILTIN_VARIABLES: tuple[str, ...] = ("day", "horizon")
#: Names a scenario may not give a parameter, rung, actor or demand: they mean something already.
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
        "ended_by",
    }
)

Loc = tuple[str | int, ...]


class ScenarioCheckError(ValueError):
    """A cross-field mistake, located by the path of the field at fault."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(loc, message)
        self.loc = loc
        self.message = message

    def __str__(self) -> str:
        return self.message


class ScenarioValueError(ScenarioCheckError):
    """An expression that takes a value the model cannot use (NaN or infinite) in some trial.

    Raised while trials are played, with the field's location, so that the caller can name the
    file and line as for any other mistake.
    """


def ladder_loc(name: str) -> Loc:
    """Where a ladder sits in the file: ``ladder`` or ``ladders.<name>``."""
    return ("ladder",) if name == SHARED_LADDER else ("ladders", name)


def namespace(scenario: Scenario) -> Namespace:
    """The names expressions in ``scenario`` may use."""
    deciders = {d.key: d for d in scenario.decider_blocks}
    objects = {
        actor: frozenset(ACTOR_ATTRIBUTES + (DECIDER_ATTRIBUTES if actor in deciders else ()))
        for actor in scenario.actors
    }
    objects.update((name, frozenset(DEMAND_ATTRIBUTES)) for name in scenario.demands)
    objects.update(
        (name, frozenset(hypotheses(scenario, name)))
        for name, belief in scenario.beliefs.items()
        if belief.kind == "hypotheses"
    )
    credibility = [n for n, b in scenario.beliefs.items() if b.kind == "credibility"]
    standing: dict[str, list[str]] = {}
    for d in deciders.values():
        standing.setdefault(scenario.ladder_of(d.block), []).append(d.key)
    constants: dict[str, float] = {}
    rungs: dict[str, frozenset[str]] = {}
    for name, ladder in scenario.all_ladders.items():
        for index, rung in enumerate(ladder):
            constants[rung.id] = float(index)
            rungs[rung.id] = frozenset(standing.get(name, ()))
    return Namespace(
        variables=frozenset((*BUILTIN_VARIABLES, *scenario.parameters, *credibility)),
        constants=constants,
        actors=objects,
        rungs=rungs if len(scenario.all_ladders) > 1 else {},
    )


def hypotheses(scenario: Scenario, name: str) -> dict[str, str | int | float]:
    """A discrete belief's hypotheses and prior weights (from the decider's types if ``about``)."""
    belief = scenario.beliefs[name]
    if belief.hypotheses or belief.about is None:
        return dict(belief.hypotheses)
    for decider in scenario.decider_blocks:
        if decider.key == belief.about:
            return {t: kind.prior for t, kind in decider.block.types.items()}
    return {}


def static_names(scenario: Scenario) -> frozenset[str]:
    """Names whose value is fixed for a whole trial: parameters that do not follow a path."""
    return frozenset(name for name, p in scenario.parameters.items() if p.path is None)


@dataclass(frozen=True)
class ExprField:
    """One expression field of a scenario: where it is, its text, and what it must be."""

    loc: Loc
    text: str | int | float | bool
    kind: str  # "bool" or "number"
    static: bool = False


#: Expression fields of a rung and of a decider block, in the order they are checked.
RUNG_FIELDS = (
    "gain",
    "force",
    "cost",
    "hold_cost",
    "hope",
    "harm",
    "war_rate",
    "stalemate_rate",
    "kills",
    "losses",
)
#: Rung fields that make a campaign fought on the rung when any is not the constant 0.
WAR_FIELDS = ("war_rate", "stalemate_rate", "kills", "losses")
DECIDER_FIELDS = (
    "stake",
    "audience_cost",
    "rationality",
    "decision_rate",
    "hope",
    "planning_days",
    "decisiveness",
    "discount",
    "step_down_cost",
)


def expression_fields(scenario: Scenario) -> Iterator[ExprField]:
    """Every expression in the scenario, with its location."""
    for name, actor in scenario.actors.items():
        yield ExprField(("actors", name, "forces"), actor.forces, "number")
        yield ExprField(("actors", name, "capability"), actor.capability, "number")
    for name, ladder in scenario.all_ladders.items():
        for index, rung in enumerate(ladder):
            for field in RUNG_FIELDS:
                value = getattr(rung, field)
                if value is not None:
                    yield ExprField((*ladder_loc(name), index, field), value, "number")
    for decider in scenario.decider_blocks:
        for field in DECIDER_FIELDS:
            yield ExprField((*decider.loc, field), getattr(decider.block, field), "number")
        for name, kind in decider.block.types.items():
            loc = (*decider.loc, "types", name)
            yield ExprField((*loc, "prior"), kind.prior, "number", static=True)
            for parameter, value in kind.overrides.items():
                yield ExprField((*loc, "overrides", parameter), value, "number", static=True)
    for name, demand in scenario.demands.items():
        if demand.cost is not None:
            yield ExprField(("demands", name, "cost"), demand.cost, "number")
        if demand.met_when is not None:
            yield ExprField(("demands", name, "met_when"), demand.met_when, "bool")
    for name, policy in scenario.policies.items():
        loc = ("policies", name)
        yield ExprField((*loc, "when"), policy.when, "bool")
        for field in ("hazard", "follow_through", "perceived", "cost"):
            value = getattr(policy, field)
            if value is not None:
                yield ExprField((*loc, field), value, "number")
        kind, payload = policy.do.kind, policy.do.payload
        for field in payload.expression_fields:
            yield ExprField((*loc, "do", kind, field), getattr(payload, field), "number")
    for name, event in scenario.events.items():
        yield ExprField(("events", name, "when"), event.when, "bool")
        yield ExprField(("events", name, "rate"), event.rate, "number")
    for name, belief in scenario.beliefs.items():
        loc = ("beliefs", name)
        for field in ("a", "b"):
            value = getattr(belief, field)
            if value is not None:
                yield ExprField((*loc, field), value, "number", static=True)
        for hypothesis, prior in belief.hypotheses.items():
            yield ExprField((*loc, "hypotheses", hypothesis), prior, "number", static=True)
        for signal_name, signal in belief.signals.items():
            sloc = (*loc, "signals", signal_name)
            if signal.when is not None:
                yield ExprField((*sloc, "when"), signal.when, "bool")
            for hypothesis, value in signal.likelihood.items():
                yield ExprField((*sloc, "likelihood", hypothesis), value, "number")
            for field in ("successes", "failures"):
                yield ExprField((*sloc, field), getattr(signal, field), "number")


def _compile_text(text: str | int | float | bool) -> str | int | float:
    """YAML ``true``/``false`` in a condition field become the grammar's words."""
    if isinstance(text, bool):
        return "true" if text else "false"
    return text


def check_scenario(scenario: Scenario) -> None:
    """Raise :class:`ScenarioCheckError` at the first cross-field mistake."""
    _check_names(scenario)
    _check_outcomes(scenario)
    _check_deciders(scenario)
    _check_demands(scenario)
    _check_policies(scenario)
    _check_events(scenario)
    _check_beliefs(scenario)
    for name in scenario.base_rates:
        _need(("base_rates", name), "outcome", name, scenario.outcomes)
    if scenario.case is not None:
        _check_case(scenario)
    names = namespace(scenario)
    static = static_names(scenario)
    _check_state_cycles(scenario, names)
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
        if compiled.is_constant and compiled.kind == "number":
            value = float(compiled({}))
            if not np.isfinite(value):
                raise ScenarioCheckError(
                    field.loc,
                    f"'{field.text}' evaluates to {value}: every number the model uses must be "
                    "finite",
                )
            if field.loc[-1] == "discount" and not 0 <= value < 1:
                raise ScenarioCheckError(
                    field.loc,
                    f"a daily discount rate is at least 0 and below 1; got {value:g}",
                )
            if field.loc[-1] in ("war_rate", "stalemate_rate") and not 0 <= value <= 1:
                raise ScenarioCheckError(
                    field.loc, f"a daily probability is between 0 and 1; got {value:g}"
                )
            if field.loc[0] == "beliefs" and "likelihood" in field.loc and not 0 <= value <= 1:
                raise ScenarioCheckError(
                    field.loc, f"a likelihood is a probability, between 0 and 1; got {value:g}"
                )
            if field.loc[0] == "beliefs" and field.loc[-1] in ("a", "b") and not value > 0:
                raise ScenarioCheckError(
                    field.loc, f"a Beta prior's pseudo-counts are above 0; got {value:g}"
                )
            counts = field.loc[0] == "beliefs" and field.loc[-1] in ("successes", "failures")
            if counts and value < 0:
                raise ScenarioCheckError(field.loc, f"a count is at least 0; got {value:g}")
            if field.loc[-1] in ("kills", "losses") and value < 0:
                raise ScenarioCheckError(
                    field.loc, f"an attrition rate is at least 0; got {value:g}"
                )
            if field.loc[-1] == "force" and not 0 <= value <= 1:
                raise ScenarioCheckError(
                    field.loc,
                    f"a rung's force is the share of the decider's forces it commits, between 0 "
                    f"and 1; got {value:g}",
                )
        if field.loc[0] == "demands" and field.loc[-1] == "met_when":
            read = sorted(n for n in compiled.names if n.endswith(".granted"))
            if read:
                raise ScenarioCheckError(
                    field.loc,
                    f"a demand's met_when may not read whether demands are met ({read[0]}): "
                    "that would be circular",
                )


def _check_case(scenario: Scenario) -> None:
    """A case's event is a violent outcome; its ICB map covers each outcome class once."""
    case = scenario.case
    assert case is not None
    _need(("case", "event"), "violent outcome", case.event, scenario.violent_outcomes)
    if not case.icb_classes:
        if case.trigger is not None:
            raise ScenarioCheckError(
                ("case", "icb_classes"),
                "a case with an ICB trigger needs icb_classes: which outcome classes each ICB "
                "violence class (no_violence, minor_clashes, serious_clashes, full_scale_war) "
                "stands for",
            )
        return
    seen: dict[str, str] = {}
    for icb, outcomes in case.icb_classes.items():
        for index, name in enumerate(outcomes):
            loc = ("case", "icb_classes", icb, index)
            _need(loc, "outcome", name, scenario.outcomes)
            if name in seen:
                raise ScenarioCheckError(loc, f"'{name}' is already listed under {seen[name]}")
            seen[name] = icb
    missing = [o for o in scenario.outcomes if o not in seen]
    if missing:
        raise ScenarioCheckError(
            ("case", "icb_classes"),
            f"every outcome class must stand under one ICB class; missing {', '.join(missing)}",
        )


def hindsight(scenario: Scenario) -> list[tuple[Loc, str]]:
    """References and published forecasts dated after the scenario's own date.

    A dated scenario may use only what was public on its date: each such source is returned as
    ``(location, message)``; ``escalation validate`` warns about them, and refuses them with
    ``--strict``. Undated references cannot be checked and are not reported here.
    """
    if scenario.date is None:
        return []
    found = []
    for key, value in scenario.references.items():
        if not isinstance(value, str) and value.date is not None and value.date > scenario.date:
            found.append(
                (
                    ("references", key, "date"),
                    f"reference [{key}] is dated {value.date.isoformat()}, after the scenario's "
                    f"date {scenario.date.isoformat()}: hindsight",
                )
            )
    if scenario.case is not None:
        for index, forecast in enumerate(scenario.case.published_forecasts):
            if forecast.date > scenario.date:
                found.append(
                    (
                        ("case", "published_forecasts", index, "date"),
                        f"the forecast of {forecast.source} is dated {forecast.date.isoformat()}, "
                        f"after the scenario's date {scenario.date.isoformat()}",
                    )
                )
    return found


def _check_state_cycles(scenario: Scenario, names: Namespace) -> None:
    """Forces and capability may read each other, but not in a circle (or themselves)."""
    reads: dict[str, set[str]] = {}
    for actor, spec in scenario.actors.items():
        for attribute in ("forces", "capability"):
            text = _compile_text(getattr(spec, attribute))
            try:
                compiled = compile_expression(text, names, expect="number")
            except ExpressionError:
                continue  # reported with its location by the expression check
            reads[f"{actor}.{attribute}"] = {
                n for n in compiled.names if n.endswith((".forces", ".capability"))
            }
    for start in reads:
        path, seen = [start], {start}
        stack = [iter(sorted(reads[start]))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                seen.discard(path.pop())
                continue
            if nxt == start:
                actor, attribute = start.split(".")
                cycle = " -> ".join([*path, start])
                raise ScenarioCheckError(
                    ("actors", actor, attribute),
                    f"circular state: {cycle}; forces and capability are today's values of "
                    "their expressions, so none may read itself, directly or through others",
                )
            if nxt in seen or nxt not in reads:
                continue
            path.append(nxt)
            seen.add(nxt)
            stack.append(iter(sorted(reads[nxt])))


def _known(kind: str, name: str, options: list[str]) -> str:
    message = f"unknown {kind} '{name}'"
    close = difflib.get_close_matches(name, options, n=1)
    if close:
        return message + f"; did you mean '{close[0]}'?"
    return message + f"; expected one of: {', '.join(options) or 'none defined'}"


def _need(loc: Loc, kind: str, name: str, options: list[str]) -> None:
    if name not in options:
        raise ScenarioCheckError(loc, _known(kind, name, options))


def _check_names(scenario: Scenario) -> None:
    """Actors, parameters, rungs and demands share one namespace in expressions: no clashes."""
    seen: dict[str, Loc] = {}
    groups: list[tuple[Loc, str]] = [(("actors", name), name) for name in scenario.actors]
    groups += [(("parameters", name), name) for name in scenario.parameters]
    for ladder, rungs in scenario.all_ladders.items():
        groups += [((*ladder_loc(ladder), i, "id"), rung.id) for i, rung in enumerate(rungs)]
    groups += [(("demands", name), name) for name in scenario.demands]
    groups += [(("beliefs", name), name) for name in scenario.beliefs]
    for loc, name in groups:
        if name in RESERVED:
            raise ScenarioCheckError(loc, f"'{name}' is a reserved word; choose another name")
        if name in seen:
            raise ScenarioCheckError(
                loc, f"'{name}' is already used at {'.'.join(map(str, seen[name]))}"
            )
        seen[name] = loc
    if scenario.ladder is not None and SHARED_LADDER in scenario.ladders:
        raise ScenarioCheckError(
            ("ladders", SHARED_LADDER), "'ladder' names the shared ladder; choose another name"
        )


def _check_outcomes(scenario: Scenario) -> None:
    """Outcomes are named once per ladder, and their order of severity is known and consistent."""
    named_by: dict[str, list[str]] = {}
    for ladder, rungs in scenario.all_ladders.items():
        here: set[str] = set()
        for index, rung in enumerate(rungs):
            loc = (*ladder_loc(ladder), index, "outcome")
            if rung.outcome is None:
                if rung.absorbing:
                    raise ScenarioCheckError(loc, "an absorbing rung must name its outcome")
                continue
            if rung.outcome in DIPLOMATIC_OUTCOMES or rung.outcome in here:
                raise ScenarioCheckError(loc, f"outcome '{rung.outcome}' is already defined")
            here.add(rung.outcome)
            named_by.setdefault(ladder, []).append(rung.outcome)
    named = {o for outcomes in named_by.values() for o in outcomes}
    if scenario.severity is None:
        if len(named_by) > 1:
            second = list(named_by)[1]
            raise ScenarioCheckError(
                ladder_loc(second),
                "outcomes are named on more than one ladder, so their order of severity is not "
                "given by one ladder; list every violent outcome, least severe first, in "
                f"'severity' (e.g. severity: [{', '.join(sorted(named))}])",
            )
        return
    order = scenario.severity
    for index, name in enumerate(order):
        loc = ("severity", index)
        if name not in named:
            raise ScenarioCheckError(
                loc, _known("outcome (a rung's 'outcome')", name, sorted(named))
            )
        if name in order[:index]:
            raise ScenarioCheckError(loc, f"outcome '{name}' is listed twice")
    missing = sorted(named - set(order))
    if missing:
        raise ScenarioCheckError(
            ("severity",), f"every violent outcome must be listed; missing {', '.join(missing)}"
        )
    rank = {name: i for i, name in enumerate(order)}
    for ladder, outcomes in named_by.items():
        for lower, higher in itertools.pairwise(outcomes):
            if rank[higher] < rank[lower]:
                rungs = scenario.all_ladders[ladder]
                index = next(i for i, r in enumerate(rungs) if r.outcome == higher)
                raise ScenarioCheckError(
                    (*ladder_loc(ladder), index, "outcome"),
                    f"'{higher}' stands above '{lower}' on this ladder but is listed as less "
                    "severe in 'severity'; a higher rung cannot be a milder outcome",
                )


def _rung_ids(scenario: Scenario, block: DeciderBlock) -> list[str]:
    return [rung.id for rung in scenario.all_ladders.get(scenario.ladder_of(block.block), [])]


def _need_on_ladder(scenario: Scenario, decider: DeciderBlock, loc: Loc, rung: str) -> None:
    """Refuse a rung that is not on the decider's ladder, saying where it is if anywhere."""
    rungs = _rung_ids(scenario, decider)
    if rung in rungs:
        return
    other = [n for n, r in scenario.all_ladders.items() if rung in {x.id for x in r}]
    if not other:
        raise ScenarioCheckError(loc, _known("rung", rung, rungs))
    raise ScenarioCheckError(
        loc,
        f"rung '{rung}' is on ladder '{other[0]}', not on the ladder of '{decider.key}' "
        f"('{scenario.ladder_of(decider.block)}'); expected one of: {', '.join(rungs)}",
    )


def _has_options(scenario: Scenario, decider: DeciderBlock) -> bool:
    """Whether a decider on its start rung has anything to choose besides holding."""
    key, block = decider.key, decider.block
    makers = [d.by for d in scenario.demands.values()]
    if key in makers or (len(scenario.decider_blocks) == 1 and scenario.demands):
        return True  # it can end its part
    if any(key in d.grantors and d.cost is not None for d in scenario.demands.values()):
        return True  # it can concede
    rungs = scenario.all_ladders.get(scenario.ladder_of(block), [])
    ids = [rung.id for rung in rungs]
    if block.start_rung not in ids:
        return True  # reported elsewhere
    start = ids.index(block.start_rung)
    up = any(r.choosable for r in rungs[start + 1 :])
    down = block.can_step_down and any(r.choosable for r in rungs[:start])
    return up or down


def _check_deciders(scenario: Scenario) -> None:
    """Each decider is an actor with a ladder, a start rung on it, a target and some options."""
    actors = list(scenario.actors)
    overridden: dict[str, Loc] = {}
    for decider in scenario.decider_blocks:
        block, loc = decider.block, decider.loc
        key_loc = (*loc, "actor") if loc == ("challenger",) else loc
        _need(key_loc, "actor", decider.key, actors)
        if block.ladder is not None:
            _need((*loc, "ladder"), "ladder", block.ladder, list(scenario.ladders))
        elif scenario.ladder is None:
            raise ScenarioCheckError(
                (*loc, "ladder"),
                f"there is no shared 'ladder'; name one of: {', '.join(scenario.ladders)}",
            )
        if block.target is not None:
            _need((*loc, "target"), "actor", block.target, actors)
            if block.target == decider.key:
                raise ScenarioCheckError((*loc, "target"), "a decider cannot target itself")
        rungs = _rung_ids(scenario, decider)
        if block.start_rung not in rungs:
            _need_on_ladder(scenario, decider, (*loc, "start_rung"), block.start_rung)
        ladder_name = scenario.ladder_of(block)
        for index, rung in enumerate(scenario.all_ladders.get(ladder_name, [])):
            if rung.on_failure is not None:
                _need_on_ladder(
                    scenario,
                    decider,
                    (*ladder_loc(ladder_name), index, "on_failure"),
                    rung.on_failure,
                )
        if not _has_options(scenario, decider):
            raise ScenarioCheckError(
                loc,
                f"'{decider.key}' decides but has nothing to choose: it makes no demand (so it "
                "cannot end its part), concedes nothing with a cost, and no choosable rung lies "
                "above its start rung (or below it, with can_step_down); give it one",
            )
        for name, kind in block.types.items():
            for parameter in kind.overrides:
                ploc = (*loc, "types", name, "overrides", parameter)
                _need(ploc, "parameter", parameter, list(scenario.parameters))
                if scenario.parameters[parameter].path is not None:
                    raise ScenarioCheckError(ploc, "a parameter with a path cannot be overridden")
                first = overridden.setdefault(parameter, ploc)
                if first[: len(loc)] != loc:
                    raise ScenarioCheckError(
                        ploc,
                        f"'{parameter}' is already overridden by the types at "
                        f"{'.'.join(map(str, first[: len(first) - 3]))}; one decider's types "
                        "may override a parameter",
                    )


def _check_demands(scenario: Scenario) -> None:
    """Demands are made by a decider of other actors who can grant them; trades link known ones."""
    actors = list(scenario.actors)
    deciders = [d.key for d in scenario.decider_blocks]
    concessions = {
        (policy.actor, policy.do.payload.demand)
        for policy in scenario.policies.values()
        if policy.do.kind == "concede"
    }
    totals: dict[str, float] = {}
    names = list(scenario.demands)
    for name, demand in scenario.demands.items():
        loc = ("demands", name)
        if demand.by is None:
            if len(deciders) > 1:
                raise ScenarioCheckError(
                    loc,
                    f"there are several deciders; say which one makes this demand "
                    f"(by: one of {', '.join(deciders)})",
                )
            maker = deciders[0]
        else:
            _need((*loc, "by"), "decider", demand.by, deciders)
            maker = demand.by
        for index, grantor in enumerate(demand.grantors):
            gloc = (*loc, "grantors", index)
            _need(gloc, "actor", grantor, actors)
            if grantor == maker:
                raise ScenarioCheckError(gloc, f"'{maker}' cannot grant its own demand")
            # A rule-following actor without a concede policy simply never concedes (the
            # maker's hope may be wrong); a decider without a price for it cannot concede by
            # choice either, which is a mistake rather than a stance.
            stuck = (
                grantor in deciders
                and demand.cost is None
                and (grantor, name) not in concessions
                and demand.met_when is None
            )
            if stuck:
                raise ScenarioCheckError(
                    gloc,
                    f"'{grantor}' decides but can never grant '{name}': give the demand a "
                    "'cost' (its price to the grantor) so that it can concede by choice, a "
                    "concede policy, or a 'met_when' condition",
                )
        blocks = {d.key: d for d in scenario.decider_blocks}
        for who, rung in demand.on_grant.items():
            _need((*loc, "on_grant", who), "decider", who, deciders)
            _need_on_ladder(scenario, blocks[who], (*loc, "on_grant", who), rung)
        for index, other in enumerate(demand.together_with):
            tloc = (*loc, "together_with", index)
            _need(tloc, "demand", other, names)
            if other == name:
                raise ScenarioCheckError(tloc, "a demand cannot be traded with itself")
        totals[maker] = totals.get(maker, 0.0) + float(demand.weight)
        if totals[maker] > 1 + 1e-9:  # blame the demand that tips the sum over 1
            mine = [d for d in scenario.demands.values() if (d.by or maker) == maker]
            shares = " + ".join(f"{d.weight:g}" for d in mine)
            raise ScenarioCheckError(
                (*loc, "weight"),
                f"the weights of a decider's demands are shares of its stake and must add up to "
                f"at most 1; {maker}: {shares} = {sum(float(d.weight) for d in mine):g}",
            )
    for decider in deciders:
        if decider not in totals and len(deciders) == 1:
            raise ScenarioCheckError(
                ("demands",),
                f"the decider '{decider}' makes no demand, so it has nothing to press for; "
                "add at least one demand",
            )
    if not totals:
        raise ScenarioCheckError(("demands",), "no decider makes a demand; add at least one")
    _check_trade_cycles(scenario)


def _check_trade_cycles(scenario: Scenario) -> None:
    """A trade links demands once; a longer cycle of links is refused as circular."""
    links = {name: list(d.together_with) for name, d in scenario.demands.items()}
    for start in links:
        path = [start]
        stack = [(start, iter(links[start]))]
        while stack:
            _node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                stack.pop()
                path.pop()
                continue
            if nxt == start and len(path) > 2:
                cycle = " -> ".join([*path, start])
                index = scenario.demands[path[-1]].together_with.index(start)
                raise ScenarioCheckError(
                    ("demands", path[-1], "together_with", index),
                    f"circular trade {cycle}; a trade links its demands once: list the others "
                    f"under one of them",
                )
            if nxt in path or nxt not in links:
                continue
            path.append(nxt)
            stack.append((nxt, iter(links[nxt])))


def _check_policies(scenario: Scenario) -> None:
    """Policies name known actors; whoever bears a threat's cost is a decider."""
    actors = list(scenario.actors)
    deciders = [d.key for d in scenario.decider_blocks]
    demands = list(scenario.demands)
    for name, policy in scenario.policies.items():
        loc = ("policies", name)
        _need((*loc, "actor"), "actor", policy.actor, actors)
        kind, payload = policy.do.kind, policy.do.payload
        for field in payload.actor_fields:
            _need((*loc, "do", kind, field), "actor", getattr(payload, field), actors)
        for field in payload.rung_fields:
            if policy.actor not in deciders:
                raise ScenarioCheckError(
                    (*loc, "actor"),
                    f"'{policy.actor}' does not decide, so it stands on no rung to {kind} from",
                )
            block = next(d for d in scenario.decider_blocks if d.key == policy.actor)
            _need_on_ladder(scenario, block, (*loc, "do", kind), getattr(payload, field))
        if kind == "concede":
            _need((*loc, "do", kind), "demand", payload.demand, demands)
            if policy.actor not in scenario.demands[payload.demand].grantors:
                raise ScenarioCheckError(
                    (*loc, "actor"),
                    f"'{policy.actor}' is not a grantor of demand '{payload.demand}'",
                )
        if policy.against is not None:
            _need((*loc, "against"), "decider", policy.against, deciders)
        elif policy.cost is not None and len(deciders) > 1:
            target = getattr(payload, "target", None)
            if target not in deciders:
                raise ScenarioCheckError(
                    (*loc, "cost"),
                    f"there are several deciders; say who bears this cost "
                    f"(against: one of {', '.join(deciders)})",
                )


def _check_beliefs(scenario: Scenario) -> None:
    """A belief is held by a decider, is of one kind, and its signals fit that kind."""
    deciders = {d.key: d for d in scenario.decider_blocks}
    policies = list(scenario.policies)
    for name, belief in scenario.beliefs.items():
        loc = ("beliefs", name)
        _need((*loc, "holder"), "decider", belief.holder, list(deciders))
        if belief.kind == "credibility":
            for field in ("a", "b"):
                if getattr(belief, field) is None:
                    raise ScenarioCheckError(
                        loc,
                        f"a credibility belief needs both 'a' and 'b' (its Beta prior); "
                        f"no '{field}'",
                    )
            if belief.hypotheses or belief.about is not None:
                raise ScenarioCheckError(
                    loc,
                    "a belief is either a credibility (a, b) or over hypotheses (hypotheses or "
                    "about), not both",
                )
        else:
            if belief.learns_from:
                raise ScenarioCheckError(
                    (*loc, "learns_from"),
                    "learns_from counts threats carried out for a credibility belief (a, b); a "
                    "belief over hypotheses learns from signals with likelihoods",
                )
            if belief.about is not None:
                _need((*loc, "about"), "decider", belief.about, list(deciders))
                if not belief.hypotheses and not deciders[belief.about].block.types:
                    raise ScenarioCheckError(
                        (*loc, "about"),
                        f"'{belief.about}' has no types to be the hypotheses; give hypotheses",
                    )
            elif not belief.hypotheses:
                raise ScenarioCheckError(
                    loc, "give the belief 'a' and 'b' (a credibility), or 'hypotheses' or 'about'"
                )
        for index, policy in enumerate(belief.learns_from):
            _need((*loc, "learns_from", index), "policy", policy, policies)
        names = list(hypotheses(scenario, name))
        for signal_name, signal in belief.signals.items():
            sloc = (*loc, "signals", signal_name)
            if signal.policy is not None:
                _need((*sloc, "policy"), "policy", signal.policy, policies)
            if belief.kind == "credibility":
                if signal.likelihood:
                    raise ScenarioCheckError(
                        (*sloc, "likelihood"),
                        "a credibility belief counts a signal as successes and failures, not "
                        "by likelihoods",
                    )
                continue
            for hypothesis in signal.likelihood:
                _need((*sloc, "likelihood", hypothesis), "hypothesis", hypothesis, names)
            missing = [h for h in names if h not in signal.likelihood]
            if missing:
                raise ScenarioCheckError(
                    (*sloc, "likelihood"),
                    "give the signal's likelihood under every hypothesis; missing "
                    + ", ".join(missing),
                )


def _check_events(scenario: Scenario) -> None:
    """An event moves a decider to a rung of that decider's ladder."""
    deciders = {d.key: d for d in scenario.decider_blocks}
    for name, event in scenario.events.items():
        loc = ("events", name)
        if event.actor is None:
            if len(deciders) > 1:
                raise ScenarioCheckError(
                    loc,
                    f"there are several deciders; say whose rung this event moves "
                    f"(actor: one of {', '.join(deciders)})",
                )
            decider = next(iter(deciders.values()))
        else:
            _need((*loc, "actor"), "decider", event.actor, list(deciders))
            decider = deciders[event.actor]
        rungs = _rung_ids(scenario, decider)
        _need_on_ladder(scenario, decider, (*loc, "to_rung"), event.to_rung)
        if event.to_rung == rungs[0]:
            raise ScenarioCheckError(
                (*loc, "to_rung"),
                "an event only moves a decider up, so an event to the lowest rung could never "
                "do anything",
            )
