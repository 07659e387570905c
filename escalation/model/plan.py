"""A scenario compiled once for play: expressions parsed, names turned into positions.

A :class:`Plan` is built once per process from a checked scenario and shared by every block of
trials; nothing on the per-day path parses text again. It also draws the per-trial world
(parameters, challenger type) at the start of a block, in the order the file lists them, so
that renaming anything in a scenario changes no draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from escalation.scenario.check import namespace
from escalation.scenario.conditions import Expression, compile_expression
from escalation.scenario.distributions import Distribution, parse_distribution
from escalation.scenario.schema import DIPLOMATIC_OUTCOMES, Scenario

#: Outcome codes of the diplomatic endings; violent outcomes follow from 3 in ladder order.
SETTLEMENT, STAND_DOWN, FROZEN = 0, 1, 2


def _compile(text: str | int | float | bool, scenario_ns, kind: str = "number") -> Expression:
    if isinstance(text, bool):
        text = "true" if text else "false"
    return compile_expression(text, scenario_ns, expect=kind)


@dataclass(frozen=True)
class PathParameter:
    """A parameter that follows a path over days: per-trial values at fixed days."""

    name: str
    days: np.ndarray
    points: tuple[Distribution, ...]
    step: bool

    def weights(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """For each day 0..horizon, the left point's index and the weight of the right point."""
        day = np.arange(horizon + 1)
        left = np.clip(np.searchsorted(self.days, day, side="right") - 1, 0, len(self.days) - 1)
        right = np.minimum(left + 1, len(self.days) - 1)
        span = np.where(right > left, self.days[right] - self.days[left], 1)
        weight = np.clip((day - self.days[left]) / span, 0.0, 1.0)
        if self.step:
            weight = np.zeros_like(weight)
        return left, weight


@dataclass(frozen=True)
class PolicyPlan:
    """A policy with its expressions compiled and its references resolved to positions."""

    name: str
    actor: int
    kind: str  # sanction | aid | reinforce | concede
    when: Expression
    hazard: Expression
    follow_through: Expression
    perceived: Expression
    cost: Expression | None  # None: no cost to the challenger, so it never enters its choice
    target: int = -1  # actor receiving the sanction, aid or reinforcement
    amount: Expression | None = None
    lag: Expression | None = None
    demand: int = -1
    enabled: bool = True
    #: Whether `when`, `perceived` or `cost` reads the challenger's rung or peak (and so
    #: changes with its move): the challenger then weighs it at each rung it could stand on.
    reads_rung: bool = False


@dataclass(frozen=True)
class EventPlan:
    """A hazard that moves the crisis to a rung."""

    name: str
    when: Expression
    rate: Expression
    to_rung: int


@dataclass(frozen=True)
class RungPlan:
    """A rung's compiled terms."""

    id: str
    outcome: str | None
    choosable: bool
    absorbing: bool
    gain: Expression
    force: Expression
    cost: Expression
    hold_cost: Expression


@dataclass
class Plan:
    """Everything a :class:`~escalation.model.crisis.CrisisModel` needs, compiled once."""

    scenario: Scenario
    actors: list[str]
    challenger: int
    target: int
    start_rung: int
    rungs: list[RungPlan]
    parameters: dict[str, Distribution]
    paths: dict[str, PathParameter]
    types: list[str]
    priors: list[Expression]
    overrides: list[dict[str, Expression]]
    forces: list[Expression]
    capability: list[Expression]
    stake: Expression
    audience_cost: Expression
    rationality: Expression
    decision_rate: Expression
    hope: Expression
    planning_days: Expression
    decisiveness: Expression
    demand_names: list[str]
    demand_weights: np.ndarray
    demand_grantors: list[list[int]]
    policies: list[PolicyPlan]
    events: list[EventPlan]
    outcomes: list[str] = field(default_factory=list)
    #: For each rung, the code of the outcome a trial that peaked there gets (-1: none).
    rung_outcome: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Plan:
        """Compile a checked scenario."""
        ns = namespace(scenario)
        actors = list(scenario.actors)
        rung_ids = [rung.id for rung in scenario.ladder]
        ch = scenario.challenger
        challenger_key = ch.actor
        rung_keys = {f"{challenger_key}.rung", f"{challenger_key}.peak"}

        rungs = [
            RungPlan(
                id=rung.id,
                outcome=rung.outcome,
                choosable=rung.choosable,
                absorbing=rung.absorbing,
                gain=_compile(rung.gain, ns),
                force=_compile(rung.force, ns),
                cost=_compile(rung.cost, ns),
                hold_cost=_compile(rung.hold_cost, ns),
            )
            for rung in scenario.ladder
        ]
        parameters: dict[str, Distribution] = {}
        paths: dict[str, PathParameter] = {}
        for name, parameter in scenario.parameters.items():
            if parameter.path is None:
                parameters[name] = parse_distribution(parameter.dist)
            else:
                paths[name] = PathParameter(
                    name=name,
                    days=np.array([day for day, _ in parameter.path], dtype=float),
                    points=tuple(parse_distribution(dist) for _, dist in parameter.path),
                    step=parameter.interpolate == "step",
                )

        policies = []
        for name, policy in scenario.policies.items():
            action = policy.do
            kind = action.kind
            follow = _compile(policy.follow_through, ns)
            perceived = _compile(policy.perceived, ns) if policy.perceived is not None else follow
            cost = None
            if policy.cost is not None:
                cost = _compile(policy.cost, ns)
            elif kind == "sanction" and action.sanction.target == challenger_key:
                cost = _compile(action.sanction.severity, ns)
            when = _compile(policy.when, ns, "bool")
            plan = PolicyPlan(
                name=name,
                actor=actors.index(policy.actor),
                kind=kind,
                when=when,
                hazard=_compile(policy.hazard, ns),
                follow_through=follow,
                perceived=perceived,
                cost=cost,
                enabled=policy.enabled,
                reads_rung=any(
                    e is not None and e.names & rung_keys for e in (when, perceived, cost)
                ),
            )
            if kind == "sanction":
                plan = replace(
                    plan,
                    target=actors.index(action.sanction.target),
                    amount=_compile(action.sanction.severity, ns),
                )
            elif kind in ("aid", "reinforce"):
                move = getattr(action, kind)
                plan = replace(
                    plan,
                    target=actors.index(move.to),
                    amount=_compile(move.amount, ns),
                    lag=_compile(move.lag, ns),
                )
            else:
                plan = replace(plan, demand=list(scenario.demands).index(action.concede))
            policies.append(plan)

        events = [
            EventPlan(
                name=name,
                when=_compile(event.when, ns, "bool"),
                rate=_compile(event.rate, ns),
                to_rung=rung_ids.index(event.to_rung),
            )
            for name, event in scenario.events.items()
        ]
        outcomes = scenario.outcomes
        rung_outcome = np.full(len(rungs), -1, dtype=np.int64)
        current = -1
        for index, rung in enumerate(rungs):
            if rung.outcome is not None:
                current = outcomes.index(rung.outcome)
            rung_outcome[index] = current

        return cls(
            scenario=scenario,
            actors=actors,
            challenger=actors.index(challenger_key),
            target=actors.index(ch.target),
            start_rung=rung_ids.index(ch.start_rung),
            rungs=rungs,
            parameters=parameters,
            paths=paths,
            types=list(ch.types) or ["default"],
            priors=[_compile(t.prior, ns) for t in ch.types.values()],
            overrides=[
                {name: _compile(value, ns) for name, value in t.overrides.items()}
                for t in ch.types.values()
            ],
            forces=[_compile(a.forces, ns) for a in scenario.actors.values()],
            capability=[_compile(a.capability, ns) for a in scenario.actors.values()],
            stake=_compile(ch.stake, ns),
            audience_cost=_compile(ch.audience_cost, ns),
            rationality=_compile(ch.rationality, ns),
            decision_rate=_compile(ch.decision_rate, ns),
            hope=_compile(ch.hope, ns),
            planning_days=_compile(ch.planning_days, ns),
            decisiveness=_compile(ch.decisiveness, ns),
            demand_names=list(scenario.demands),
            demand_weights=np.array(
                [float(d.weight) for d in scenario.demands.values()], dtype=float
            ),
            demand_grantors=[
                [actors.index(g) for g in d.grantors] for d in scenario.demands.values()
            ],
            policies=policies,
            events=events,
            outcomes=outcomes,
            rung_outcome=rung_outcome,
        )

    @property
    def horizon(self) -> int:
        """Days played."""
        return self.scenario.horizon

    @property
    def violent(self) -> list[str]:
        """Violent outcome names in ladder order."""
        return self.outcomes[len(DIPLOMATIC_OUTCOMES) :]

    def parameter_columns(self) -> list[str]:
        """Names of the per-trial parameter columns, in draw order."""
        columns = list(self.parameters)
        for name, path in self.paths.items():
            columns += [f"{name}@{int(day)}" for day in path.days]
        return columns

    def draw_world(
        self, rng: np.random.Generator, n: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
        """Draw one block's parameters, path points and challenger types.

        Every parameter consumes exactly ``n`` uniforms per value, in file order, whatever its
        distribution: so a sweep that changes one distribution leaves every other stream alone.
        Returns the fixed parameters, the path points (shape ``(points, n)``) and type codes.
        """
        values: dict[str, np.ndarray] = {}
        for name, parameter in self.scenario.parameters.items():
            if parameter.path is None:
                values[name] = self.parameters[name].sample(rng, n)
        points = {
            name: np.stack([point.sample(rng, n) for point in path.points])
            for name, path in self.paths.items()
        }
        u_type = rng.random(n)
        types = np.zeros(n, dtype=np.int64)
        if self.priors:
            env = {"horizon": float(self.horizon), "day": 0.0, **values}
            weights = np.stack(
                [np.broadcast_to(np.maximum(p(env), 0.0), (n,)) for p in self.priors]
            ).astype(float)
            total = weights.sum(axis=0)
            # All-zero priors fall back to the first type rather than dividing by zero.
            weights[0] = np.where(total > 0, weights[0], 1.0)
            total = np.where(total > 0, total, 1.0)
            cumulative = np.cumsum(weights / total, axis=0)
            types = np.minimum((u_type[None, :] >= cumulative).sum(axis=0), len(self.priors) - 1)
            # Overrides read the values as drawn, then apply together, so their order is moot.
            updates = {}
            for code, overrides in enumerate(self.overrides):
                mask = types == code
                for name, expression in overrides.items():
                    value = np.broadcast_to(expression(env), (n,))
                    updates.setdefault(name, values[name].copy())
                    updates[name] = np.where(mask, value, updates[name])
            values.update(updates)
        return values, points, types
