"""A scenario compiled once for play: expressions parsed, names turned into positions.

A :class:`Plan` is built once per process from a checked scenario and shared by every block of
trials; nothing on the per-day path parses text again. It also fixes the layout of the random
draws (which row of a day's draws serves what) and draws the per-trial world (parameters,
deciders' types) at the start of a block, in the order the file lists them, so that renaming
anything in a scenario changes no draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from escalation.scenario.check import expression_fields, namespace
from escalation.scenario.check import hypotheses as check_hypotheses
from escalation.scenario.conditions import Expression, Namespace, compile_expression
from escalation.scenario.distributions import Distribution, parse_distribution
from escalation.scenario.schema import DIPLOMATIC_OUTCOMES, Rung, Scenario

#: Outcome codes of the diplomatic endings; violent outcomes follow from 3, least severe first.
SETTLEMENT, STAND_DOWN, FROZEN = 0, 1, 2

#: A decider's first two options; option ``2 + r`` moves to rung ``r``, and option
#: ``2 + R + c`` concedes its ``c``-th concedable demand.
END, HOLD = 0, 1


def _compile(text: str | int | float | bool, ns: Namespace, kind: str = "number") -> Expression:
    if isinstance(text, bool):
        text = "true" if text else "false"
    return compile_expression(text, ns, expect=kind)


@dataclass(frozen=True)
class PathParameter:
    """A parameter that follows a path over days: per-trial values at fixed days."""

    name: str
    days: np.ndarray
    points: tuple[Distribution, ...]
    step: bool
    period: int | None = None  # the path repeats every `period` days

    def _days(self, day: np.ndarray) -> np.ndarray:
        """Days on the path's own clock: within one period for a repeating path.

        A repeating path wraps around: after its last point it runs back to its first point's
        value at the start of the next period.
        """
        return day if self.period is None else np.mod(day, self.period)

    def at(self, points: np.ndarray, days: np.ndarray | float) -> np.ndarray:
        """The value on ``days`` (one day, or one per trial), from per-trial ``points``."""
        day = np.asarray(days, dtype=float)
        left, right, weight = self._segment(self._days(np.atleast_1d(day)))
        if day.ndim == 0:  # one day for every trial: one segment
            i, j, w = int(left[0]), int(right[0]), float(weight[0])
            return points[i] if self.step or w == 0.0 else points[i] + w * (points[j] - points[i])
        cols = np.arange(points.shape[1])
        low = points[left, cols]
        if self.step:
            return low
        return low + weight * (points[right, cols] - low)

    def _segment(self, day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each day: the left point, the right point and the weight of the right one."""
        last = len(self.days) - 1
        left = np.clip(np.searchsorted(self.days, day, side="right") - 1, 0, last)
        right = np.minimum(left + 1, last)
        span = np.where(right > left, self.days[right] - self.days[left], 1.0)
        weight = np.clip((day - self.days[left]) / span, 0.0, 1.0)
        if self.period is not None:
            # Past the last point, run back to the first point's value at the period's end.
            wrap = (left == last) & (day > self.days[last])
            span = self.period - self.days[last] + self.days[0]
            right = np.where(wrap, 0, right)
            weight = np.where(wrap, (day - self.days[last]) / span, weight)
            early = day < self.days[0]  # before the first point: the tail of the last period
            left = np.where(early, last, left)
            right = np.where(early, 0, right)
            weight = np.where(early, (day + self.period - self.days[last]) / span, weight)
        return left, right, weight

    def weights(self, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each day 0..horizon: the left point, the right point, the right one's weight."""
        left, right, weight = self._segment(self._days(np.arange(horizon + 1, dtype=float)))
        if self.step:
            weight = np.zeros_like(weight)
        return left, right, weight


@dataclass(frozen=True)
class RungPlan:
    """A rung's compiled terms."""

    id: str
    label: str
    outcome: str | None
    choosable: bool
    absorbing: bool
    gain: Expression
    force: Expression
    cost: Expression
    hold_cost: Expression
    hope: Expression | None  # None: the decider's own hope
    harm: Expression
    war_rate: Expression
    stalemate_rate: Expression
    kills: Expression
    losses: Expression
    on_failure: str | None

    @property
    def fought(self) -> bool:
        """Whether a campaign is fought on this rung (some war term is not a constant 0)."""
        terms = (self.war_rate, self.stalemate_rate, self.kills, self.losses)
        return any(not (t.is_constant and float(t({})) == 0.0) for t in terms)


@dataclass(frozen=True)
class LadderPlan:
    """A ladder: its rungs, and the outcome code a peak on each rung gives a trial."""

    name: str
    rungs: tuple[RungPlan, ...]
    #: For each rung, the code of the outcome of the highest rung at or below it that names
    #: one (-1: none): a decider that peaked there makes the trial at least that violent.
    outcome_code: np.ndarray

    @property
    def ids(self) -> list[str]:
        """Rung ids, lowest first."""
        return [rung.id for rung in self.rungs]

    @property
    def fought(self) -> np.ndarray:
        """Whether a campaign is fought on each rung."""
        return np.array([rung.fought for rung in self.rungs])

    @property
    def choosable(self) -> np.ndarray:
        """Whether each rung can be chosen."""
        return np.array([rung.choosable for rung in self.rungs])

    @property
    def absorbing(self) -> np.ndarray:
        """Whether reaching each rung ends the trial."""
        return np.array([rung.absorbing for rung in self.rungs])

    def __len__(self) -> int:
        return len(self.rungs)


@dataclass(frozen=True)
class TypePlan:
    """A private type of a decider: its prior weight and the parameters it overrides."""

    name: str
    prior: Expression
    overrides: dict[str, Expression]


@dataclass(frozen=True)
class DeciderPlan:
    """A deciding actor's compiled block, its options, and what concerns its choice."""

    key: str
    actor: int  # position among all actors
    position: int  # position among deciders
    ladder: LadderPlan
    target: int  # actor whose capability resists its climbs; -1: none
    start_rung: int
    stake: Expression
    audience_cost: Expression
    rationality: Expression
    decision_rate: Expression
    hope: Expression
    planning_days: Expression
    decisiveness: Expression
    can_step_down: bool
    persistent_noise: bool  # the logit's noise is drawn once per trial, not at each decision
    step_down_cost: Expression
    look_ahead: int  # later days of the planning window weighed for a climb
    discount: Expression
    types: tuple[TypePlan, ...]
    demands: tuple[int, ...]  # demands it makes
    concessions: tuple[int, ...]  # demands made of it that it may concede by choice
    threats: tuple[int, ...]  # enabled policies whose cost it bears
    support: tuple[int, ...]  # enabled policies that add to its target's capability
    row: int  # its first row in a day's draws: the decision opportunity, then one per option
    war_row: int = -1  # its row of war draws (-1: no rung of its ladder is fought)

    @property
    def type_names(self) -> list[str]:
        """Names of its types (``default`` when it has none)."""
        return [t.name for t in self.types] or ["default"]

    @property
    def options(self) -> int:
        """How many options a decision weighs: end, hold, a move per rung, a concession each."""
        return 2 + len(self.ladder) + len(self.concessions)

    @property
    def rows(self) -> int:
        """Rows of a day's draws it uses: its decision opportunity and one per option."""
        return 1 + self.options

    @property
    def rung_keys(self) -> frozenset[str]:
        """The names under which expressions read where it stands."""
        return frozenset({f"{self.key}.rung", f"{self.key}.peak"})


@dataclass(frozen=True)
class DemandPlan:
    """A demand: who makes it, its weight, who grants it, and how it may be met."""

    name: str
    by: int  # position of the decider who makes it
    weight: float
    grantors: tuple[int, ...]  # actor positions
    cost: Expression | None  # price to a deciding grantor; None: not concedable by choice
    group: tuple[int, ...]  # the demands granted together with it (itself included)
    met_when: Expression | None
    on_grant: tuple[tuple[int, int], ...] = ()  # (decider position, rung) moved when granted


@dataclass(frozen=True)
class PolicyPlan:
    """A policy with its expressions compiled and its references resolved to positions."""

    name: str
    actor: int
    kind: str
    when: Expression
    hazard: Expression
    follow_through: Expression
    perceived: Expression
    cost: Expression | None  # None: it costs no decider anything, so it weighs on no choice
    against: int  # decider who bears `cost` and believes `perceived`; -1: none
    #: The action's own fields: actor fields as positions, expression fields compiled.
    fields: dict[str, object]
    adds_capability: bool = False
    enabled: bool = True

    @property
    def target(self) -> int:
        """The actor the action is done to (-1: none)."""
        return int(self.fields.get("target", -1))  # type: ignore[arg-type]


@dataclass(frozen=True)
class SignalPlan:
    """Something a belief's holder observes, and what it is worth as evidence."""

    name: str
    when: Expression | None  # observed the first day this holds
    policy: int  # or when this policy triggers (-1: none)
    carried_out: bool | None  # ... and was (True) or was not (False) carried out
    likelihood: tuple[Expression, ...]  # under each hypothesis (a belief over hypotheses)
    successes: Expression  # what it counts as (a credibility belief)
    failures: Expression


@dataclass(frozen=True)
class BeliefPlan:
    """A belief held by a decider: a Beta credibility, or a distribution over hypotheses."""

    name: str
    holder: int  # position of the decider who holds it
    kind: str  # credibility | hypotheses
    a: Expression | None
    b: Expression | None
    learns_from: tuple[int, ...]  # policies whose triggers it counts
    hypotheses: tuple[str, ...]
    priors: tuple[Expression, ...]
    signals: tuple[SignalPlan, ...]


@dataclass(frozen=True)
class EventPlan:
    """A hazard that moves a decider up to a rung."""

    name: str
    decider: int
    when: Expression
    rate: Expression
    to_rung: int


def _rung(rung: Rung, ns: Namespace) -> RungPlan:
    return RungPlan(
        id=rung.id,
        label=rung.label or rung.id.replace("_", " ").capitalize(),
        outcome=rung.outcome,
        choosable=rung.choosable,
        absorbing=rung.absorbing,
        gain=_compile(rung.gain, ns),
        force=_compile(rung.force, ns),
        cost=_compile(rung.cost, ns),
        hold_cost=_compile(rung.hold_cost, ns),
        hope=None if rung.hope is None else _compile(rung.hope, ns),
        harm=_compile(rung.harm, ns),
        war_rate=_compile(rung.war_rate, ns),
        stalemate_rate=_compile(rung.stalemate_rate, ns),
        kills=_compile(rung.kills, ns),
        losses=_compile(rung.losses, ns),
        on_failure=rung.on_failure,
    )


def _rung_index(scenario: Scenario, decider: str, rung: str) -> int:
    """The position of ``rung`` on the ladder of ``decider``."""
    block = next(d.block for d in scenario.decider_blocks if d.key == decider)
    return [r.id for r in scenario.all_ladders[scenario.ladder_of(block)]].index(rung)


def _trade_groups(scenario: Scenario) -> dict[str, tuple[int, ...]]:
    """Each demand's trade group: the demands linked to it by ``together_with``, both ways."""
    names = list(scenario.demands)
    linked = {name: set(d.together_with) for name, d in scenario.demands.items()}
    for name, others in list(linked.items()):
        for other in others:
            linked[other].add(name)
    groups: dict[str, tuple[int, ...]] = {}
    for name in names:
        seen, stack = {name}, [name]
        while stack:
            for other in linked[stack.pop()]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        groups[name] = tuple(sorted(names.index(n) for n in seen))
    return groups


@dataclass
class Plan:
    """Everything a :class:`~escalation.model.crisis.CrisisModel` needs, compiled once."""

    scenario: Scenario
    actors: list[str]
    ladders: dict[str, LadderPlan]
    deciders: list[DeciderPlan]
    parameters: dict[str, Distribution]
    paths: dict[str, PathParameter]
    forces: list[Expression]
    capability: list[Expression]
    demands: list[DemandPlan]
    policies: list[PolicyPlan]
    events: list[EventPlan]
    beliefs: list[BeliefPlan] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    row_policy: int = 0  # first row of the policies' trigger draws in a day's draws
    row_event: int = 0
    rows: int = 0  # rows of a day's draws: deciders, policies, events, then wars
    #: Every numeric expression with the place of its field in the file, to check its values.
    located: list[tuple[tuple[str | int, ...], Expression]] = field(default_factory=list)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Plan:
        """Compile a checked scenario."""
        ns = namespace(scenario)
        actors = list(scenario.actors)
        outcomes = scenario.outcomes
        ladders = {}
        for name, rungs in scenario.all_ladders.items():
            compiled = tuple(_rung(rung, ns) for rung in rungs)
            codes = np.full(len(compiled), -1, dtype=np.int64)
            current = -1
            for index, rung in enumerate(compiled):
                if rung.outcome is not None:
                    current = outcomes.index(rung.outcome)
                codes[index] = current
            ladders[name] = LadderPlan(name, compiled, codes)

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
                    period=parameter.period,
                )

        blocks = scenario.decider_blocks
        decider_keys = [d.key for d in blocks]
        groups = _trade_groups(scenario)
        demands = []
        for name, demand in scenario.demands.items():
            demands.append(
                DemandPlan(
                    name=name,
                    by=decider_keys.index(demand.by or decider_keys[0]),
                    weight=float(demand.weight),
                    grantors=tuple(actors.index(g) for g in demand.grantors),
                    cost=None if demand.cost is None else _compile(demand.cost, ns),
                    group=groups[name],
                    met_when=None
                    if demand.met_when is None
                    else _compile(demand.met_when, ns, "bool"),
                    on_grant=tuple(
                        (decider_keys.index(who), _rung_index(scenario, who, rung))
                        for who, rung in demand.on_grant.items()
                    ),
                )
            )

        policies = []
        for name, policy in scenario.policies.items():
            kind, payload = policy.do.kind, policy.do.payload
            follow = _compile(policy.follow_through, ns)
            fields: dict[str, object] = {}
            if payload.actor_fields:
                fields["target"] = actors.index(payload.recipient)
            for field_name in payload.expression_fields:
                fields[field_name] = _compile(getattr(payload, field_name), ns)
            if kind == "concede":
                fields["demand"] = list(scenario.demands).index(payload.demand)
            for field_name in payload.rung_fields:
                fields[field_name] = _rung_index(
                    scenario, policy.actor, getattr(payload, field_name)
                )
            against = policy.against
            if against is None and payload.recipient in decider_keys and payload.cost_field:
                against = payload.recipient
            if against is None and policy.cost is not None and len(decider_keys) == 1:
                against = decider_keys[0]
            cost = None
            if policy.cost is not None:
                cost = _compile(policy.cost, ns)
            elif payload.cost_field and payload.recipient == against and against is not None:
                cost = fields[payload.cost_field]
            policies.append(
                PolicyPlan(
                    name=name,
                    actor=actors.index(policy.actor),
                    kind=kind,
                    when=_compile(policy.when, ns, "bool"),
                    hazard=_compile(policy.hazard, ns),
                    follow_through=follow,
                    perceived=follow
                    if policy.perceived is None
                    else _compile(policy.perceived, ns),
                    cost=cost,  # type: ignore[arg-type]
                    against=-1 if against is None else decider_keys.index(against),
                    fields=fields,
                    adds_capability=payload.adds_capability,
                    enabled=policy.enabled,
                )
            )

        deciders = []
        row = 0
        for position, block in enumerate(blocks):
            d = block.block
            ladder = ladders[scenario.ladder_of(d)]
            target = -1 if d.target is None else actors.index(d.target)
            concessions = tuple(
                i
                for i, demand in enumerate(demands)
                if actors.index(block.key) in demand.grantors and demand.cost is not None
            )
            plan = DeciderPlan(
                key=block.key,
                actor=actors.index(block.key),
                position=position,
                ladder=ladder,
                target=target,
                start_rung=ladder.ids.index(d.start_rung),
                stake=_compile(d.stake, ns),
                audience_cost=_compile(d.audience_cost, ns),
                rationality=_compile(d.rationality, ns),
                decision_rate=_compile(d.decision_rate, ns),
                hope=_compile(d.hope, ns),
                planning_days=_compile(d.planning_days, ns),
                decisiveness=_compile(d.decisiveness, ns),
                can_step_down=d.can_step_down,
                persistent_noise=d.noise == "persistent",
                step_down_cost=_compile(d.step_down_cost, ns),
                look_ahead=d.look_ahead,
                discount=_compile(d.discount, ns),
                types=tuple(
                    TypePlan(
                        name,
                        _compile(t.prior, ns),
                        {p: _compile(v, ns) for p, v in t.overrides.items()},
                    )
                    for name, t in d.types.items()
                ),
                demands=tuple(i for i, demand in enumerate(demands) if demand.by == position),
                concessions=concessions,
                threats=tuple(
                    p
                    for p, policy in enumerate(policies)
                    if policy.enabled and policy.cost is not None and policy.against == position
                ),
                support=tuple(
                    p
                    for p, policy in enumerate(policies)
                    if policy.enabled
                    and policy.adds_capability
                    and target >= 0
                    and policy.target == target
                ),
                row=row,
            )
            deciders.append(plan)
            row += plan.rows

        war_row = row + len(policies) + len(scenario.events)
        for i, plan in enumerate(deciders):
            if plan.target >= 0 and plan.ladder.fought.any():
                deciders[i] = replace(plan, war_row=war_row)
                war_row += 1

        events = []
        for name, event in scenario.events.items():
            position = decider_keys.index(event.actor) if event.actor else 0
            events.append(
                EventPlan(
                    name=name,
                    decider=position,
                    when=_compile(event.when, ns, "bool"),
                    rate=_compile(event.rate, ns),
                    to_rung=deciders[position].ladder.ids.index(event.to_rung),
                )
            )

        names = list(scenario.policies)
        beliefs = []
        for name, belief in scenario.beliefs.items():
            hypotheses = check_hypotheses(scenario, name)
            beliefs.append(
                BeliefPlan(
                    name=name,
                    holder=decider_keys.index(belief.holder),
                    kind=belief.kind,
                    a=None if belief.a is None else _compile(belief.a, ns),
                    b=None if belief.b is None else _compile(belief.b, ns),
                    learns_from=tuple(names.index(p) for p in belief.learns_from),
                    hypotheses=tuple(hypotheses),
                    priors=tuple(_compile(v, ns) for v in hypotheses.values()),
                    signals=tuple(
                        SignalPlan(
                            name=signal_name,
                            when=None if signal.when is None else _compile(signal.when, ns, "bool"),
                            policy=-1 if signal.policy is None else names.index(signal.policy),
                            carried_out=signal.carried_out,
                            likelihood=tuple(
                                _compile(signal.likelihood[h], ns) for h in hypotheses
                            ),
                            successes=_compile(signal.successes, ns),
                            failures=_compile(signal.failures, ns),
                        )
                        for signal_name, signal in belief.signals.items()
                    ),
                )
            )

        return cls(
            scenario=scenario,
            actors=actors,
            ladders=ladders,
            deciders=deciders,
            parameters=parameters,
            paths=paths,
            forces=[_compile(a.forces, ns) for a in scenario.actors.values()],
            capability=[_compile(a.capability, ns) for a in scenario.actors.values()],
            demands=demands,
            policies=policies,
            events=events,
            beliefs=beliefs,
            outcomes=outcomes,
            row_policy=row,
            row_event=row + len(policies),
            rows=war_row,
            located=[
                (f.loc, _compile(f.text, ns))
                for f in expression_fields(scenario)
                if f.kind == "number"
            ],
        )

    @property
    def horizon(self) -> int:
        """Days played."""
        return self.scenario.horizon

    @property
    def violent(self) -> list[str]:
        """Violent outcome names, least severe first."""
        return self.outcomes[len(DIPLOMATIC_OUTCOMES) :]

    def parameter_columns(self) -> list[str]:
        """Names of the per-trial parameter columns, in draw order."""
        columns = list(self.parameters)
        for name, path in self.paths.items():
            columns += [f"{name}@{int(day)}" for day in path.days]
        return columns

    def draw_world(self, rng: np.random.Generator, n: int) -> World:
        """Draw one block's parameters, path points and deciders' types.

        Every parameter consumes exactly ``n`` uniforms per value, in file order, whatever its
        distribution, and every decider ``n`` uniforms for its type (with types or without): so
        a sweep that changes one distribution leaves every other stream alone.
        """
        drawn: dict[str, np.ndarray] = {}
        specs = self.scenario.parameters
        for name, parameter in specs.items():
            if parameter.path is None:
                drawn[name] = _bounded(self.parameters[name].sample(rng, n), parameter)
        points = {
            name: _bounded(np.stack([point.sample(rng, n) for point in path.points]), specs[name])
            for name, path in self.paths.items()
        }
        env = {"horizon": float(self.horizon), "day": 0.0, **drawn}
        values = dict(drawn)
        types = np.zeros((len(self.deciders), n), dtype=np.int64)
        for decider in self.deciders:
            u_type = rng.random(n)
            if not decider.types:
                continue
            weights = np.stack(
                [np.broadcast_to(np.maximum(t.prior(env), 0.0), (n,)) for t in decider.types]
            ).astype(float)
            total = weights.sum(axis=0)
            # All-zero priors fall back to the first type rather than dividing by zero.
            weights[0] = np.where(total > 0, weights[0], 1.0)
            total = np.where(total > 0, total, 1.0)
            cumulative = np.cumsum(weights / total, axis=0)
            codes = np.minimum((u_type[None, :] >= cumulative).sum(axis=0), len(decider.types) - 1)
            types[decider.position] = codes
            # Overrides read the values as drawn, then apply together, so their order is moot.
            for code, kind in enumerate(decider.types):
                mask = codes == code
                for name, expression in kind.overrides.items():
                    value = np.broadcast_to(expression(env), (n,))
                    if values[name] is drawn[name]:
                        values[name] = drawn[name].copy()
                    values[name] = np.where(mask, value, values[name])
        return World(values=values, drawn=drawn, points=points, types=types)


def _bounded(values: np.ndarray, parameter: object) -> np.ndarray:
    """Values held between a parameter's ``floor`` and ``cap`` (where it has them)."""
    floor, cap = getattr(parameter, "floor", None), getattr(parameter, "cap", None)
    if floor is None and cap is None:
        return values
    return np.clip(values, -np.inf if floor is None else floor, np.inf if cap is None else cap)


@dataclass(frozen=True)
class World:
    """A block's world: parameter values (after type overrides) and as drawn, path points, types."""

    values: dict[str, np.ndarray]
    drawn: dict[str, np.ndarray]
    points: dict[str, np.ndarray]
    types: np.ndarray  # (deciders, n) type codes
