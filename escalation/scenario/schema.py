"""Pydantic models of a scenario file: what each field means and which values it takes.

The models check the shape of a file (types, ranges, unknown fields). Checks that need the
whole scenario at once (does a condition name a known actor, does a demand's grantor exist)
live in :mod:`escalation.scenario.check`, so that every error can still name its own field.

Numeric fields that an analyst may want to make uncertain or time-dependent are *expressions*
(:data:`Expr`): a plain number, or text in the condition grammar of
:mod:`escalation.scenario.conditions`, e.g. ``"invasion_cost * (2 - frozen_ground)"``.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from escalation.scenario.distributions import DistributionError, parse_distribution

#: Names of actors, parameters, rungs, demands, policies: lower case, digits and underscores.
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

#: A number or an expression in the condition grammar, evaluated on the trial state.
Expr = StrictInt | StrictFloat | StrictStr

#: A condition: an expression that must come out true or false (``true`` is always).
Condition = StrictBool | StrictStr

#: The endings that the engine itself defines; violent outcomes are named by the ladders.
DIPLOMATIC_OUTCOMES: tuple[str, ...] = ("settlement", "stand_down", "frozen_standoff")

#: The name by which the shared ``ladder`` is known among named ``ladders``.
SHARED_LADDER = "ladder"


def _not_bool(value: object) -> object:
    """Refuse YAML's true/false (and yes/no, on/off) where a count belongs; pydantic takes 1/0."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number; got {str(value).lower()}")
    return value


#: A whole number (numpy integers pass too); never a boolean.
WholeNumber = Annotated[int, BeforeValidator(_not_bool)]

#: Most trials and days a scenario may ask for; beyond these a typo is likelier than intent.
MAX_TRIALS = 50_000_000
MAX_HORIZON = 3650


class Strict(BaseModel):
    """Base of every model: unknown fields are errors, so that typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse(text: object) -> object:
    """Check that distribution text parses; errors then name the field that holds it.

    Run before type validation, so that a list or a boolean also gets the distribution
    parser's message rather than one per member of the union.
    """
    try:
        parse_distribution(text)
    except DistributionError as error:
        raise ValueError(str(error)) from None
    return text


#: Distribution text such as ``beta(6, 3)``, or a plain number.
DistText = Annotated[StrictStr | StrictInt | StrictFloat, BeforeValidator(_parse)]


class Parameter(Strict):
    """An uncertain number, drawn once per trial: a distribution, or a path over days.

    ``dist`` is distribution text such as ``beta(6, 3)`` or a plain number. ``path`` is a list
    of ``[day, distribution]`` points; the value on a day is interpolated between the points
    (``linear``) or held from the last point (``step``), with every point drawn per trial.
    """

    dist: DistText | None = None
    path: list[tuple[StrictInt, DistText]] | None = Field(default=None, min_length=1)
    interpolate: Literal["linear", "step"] = "linear"
    period: WholeNumber | None = Field(
        None,
        ge=1,
        le=MAX_HORIZON,
        description="A path that repeats every `period` days (a season); its days lie below it.",
    )
    floor: StrictFloat | StrictInt | None = Field(None, description="Lowest value it takes.")
    cap: StrictFloat | StrictInt | None = Field(None, description="Highest value it takes.")
    description: str = ""
    source: str = Field(
        min_length=1, description="Where the value comes from, or 'assumption: why'."
    )

    @field_validator("path")
    @classmethod
    def _increasing(
        cls, path: list[tuple[int, str | int | float]] | None
    ) -> list[tuple[int, str | int | float]] | None:
        """Check that the days of a path are >= 0 and strictly increasing."""
        if path is not None:
            days = [day for day, _ in path]
            if days != sorted(set(days)) or days[0] < 0:
                shown = ", ".join(map(str, days))
                raise ValueError(f"path days must be >= 0 and strictly increasing; got {shown}")
        return path

    @model_validator(mode="after")
    def _one_form(self) -> Parameter:
        """Exactly one of ``dist`` and ``path``; a period fits its path; a cap above its floor."""
        if (self.dist is None) == (self.path is None):
            raise ValueError("give exactly one of 'dist' (a distribution) or 'path' (points)")
        if self.period is not None:
            if self.path is None:
                raise ValueError("'period' repeats a path; this parameter has no path")
            if self.path[-1][0] >= self.period:
                raise ValueError(
                    f"a path that repeats every {self.period} days must have its days below "
                    f"{self.period}; the last is {self.path[-1][0]}"
                )
        if self.floor is not None and self.cap is not None and self.cap < self.floor:
            raise ValueError(f"the cap {self.cap:g} is below the floor {self.floor:g}")
        for bound in (self.floor, self.cap):
            if bound is not None and not math.isfinite(bound):
                raise ValueError("a floor or cap must be a finite number")
        return self


class Actor(Strict):
    """A state or bloc. The engine knows it only by its key in ``actors``."""

    name: str = Field(min_length=1, description="Display name.")
    forces: Expr = Field(0, description="Forces it can commit to an attack (challenger).")
    capability: Expr = Field(0, description="Base capability to resist an attack (target).")
    description: str = ""
    source: str = ""


class Rung(Strict):
    """One rung of an escalation ladder, lowest first."""

    id: Identifier
    label: str = ""
    outcome: Identifier | None = Field(
        None, description="Outcome class of a trial whose crisis reaches this rung."
    )
    choosable: bool = Field(
        True, description="Whether a decider can move to it by choice (climbing or stepping down)."
    )
    absorbing: bool = Field(False, description="Whether reaching it ends the trial.")
    gain: Expr = Field(0, description="Share of the ungranted stake won if the move succeeds.")
    force: Expr = Field(1, description="Share of the decider's forces the move commits.")
    cost: Expr = Field(
        0, description="The decider's one-off cost of climbing to it, in stake units."
    )
    hold_cost: Expr = Field(0, description="The decider's daily cost of standing on it.")
    hope: Expr | None = Field(
        None,
        description="Believed chance that standing on it wins the unmet demands "
        "(default: the decider's hope).",
    )
    harm: Expr = Field(
        0,
        description="Daily cost to the decider's target while it stands here, in the target's "
        "stake units (matters when the target decides too).",
    )
    war_rate: Expr = Field(
        0,
        description="Daily probability that a day of fighting on this rung decides the campaign "
        "(won with the contest's chance, else lost); 0: no campaign is fought here.",
    )
    stalemate_rate: Expr = Field(0, description="Daily probability that the front freezes.")
    kills: Expr = Field(
        0, description="Defending strength destroyed per day per unit of attacking strength."
    )
    losses: Expr = Field(
        0, description="Attacking strength destroyed per day per unit of defending strength."
    )
    on_failure: Identifier | None = Field(
        None,
        description="The rung a lost campaign falls back to (default: the highest rung below on "
        "which no campaign is fought).",
    )
    source: str = ""


class DeciderType(Strict):
    """A private type of a decider, drawn per trial with its prior share."""

    prior: Expr
    overrides: dict[Identifier, Expr] = Field(
        default_factory=dict, description="Parameters that take other values in this type."
    )
    description: str = ""
    source: str = ""


#: The old name of :class:`DeciderType`, kept for code written against it.
ChallengerType = DeciderType


class Decider(Strict):
    """An actor that chooses its moves by utility: its ladder, target and decision traits.

    Each decider stands on a rung of its ladder (the shared ``ladder`` unless it names one of
    ``ladders``); at a decision it may end its part in the crisis, hold, climb, step down (if
    ``can_step_down``) or concede a demand made of it that has a price.
    """

    ladder: Identifier | None = Field(
        None, description="Name of its ladder in `ladders` (default: the shared `ladder`)."
    )
    target: Identifier | None = Field(
        None,
        description="The actor whose capability resists its climbs (none: climbs win no contest).",
    )
    start_rung: Identifier
    stake: Expr = Field(description="Value of every demand met, the unit of all utilities.")
    audience_cost: Expr = Field(0, description="Cost of backing down from the unmet demands.")
    rationality: Expr = Field(description="Logit precision lambda of the choice.")
    decision_rate: Expr = Field(description="Daily probability of a decision opportunity.")
    hope: Expr = Field(0, description="Believed chance that holding wins the unmet demands.")
    planning_days: Expr = Field(30, description="Days of holding costs weighed when deciding.")
    decisiveness: Expr = Field(1, description="Exponent k of the contest success function.")
    can_step_down: bool = Field(False, description="Whether it may choose a lower rung.")
    step_down_cost: Expr = Field(
        0,
        description="One-off cost of stepping down, in stake units: the face lost by backing off "
        "a public posture (an audience cost of the step itself).",
    )
    noise: Literal["each_decision", "persistent"] = Field(
        "each_decision",
        description="The logit's random part: drawn afresh at each decision, or once per trial "
        "(fixed idiosyncratic preferences, so that the same choice faced again is made again).",
    )
    look_ahead: WholeNumber = Field(
        0,
        ge=0,
        le=30,
        description="Later days of its planning window on which it weighs climbing instead of "
        "now (evenly spaced; 0: it weighs only today).",
    )
    discount: Expr = Field(0, description="Daily discount rate of later payoffs (0 <= r < 1).")
    types: dict[Identifier, DeciderType] = Field(default_factory=dict)
    source: str = ""


class Challenger(Decider):
    """The one-decider form: the deciding actor named by ``actor``, with a required target."""

    actor: Identifier
    target: Identifier


@dataclass(frozen=True)
class DeciderBlock:
    """A decider with its actor's key and where its block sits in the file (for messages)."""

    key: str
    block: Decider
    loc: tuple[str, ...]


class Demand(Strict):
    """What a decider wants of others, its share of the decider's stake, and who can grant it."""

    by: Identifier | None = Field(
        None, description="The decider who makes it (default: the only decider)."
    )
    weight: StrictFloat | StrictInt = Field(gt=0, le=1)
    grantors: list[Identifier] = Field(min_length=1)
    cost: Expr | None = Field(
        None,
        description="What granting it costs a deciding grantor, in the grantor's stake units; "
        "with a cost, a deciding grantor may concede it by choice.",
    )
    together_with: list[Identifier] = Field(
        default_factory=list,
        description="Demands granted only together with this one (a trade).",
    )
    met_when: StrictStr | None = Field(
        None, description="A condition under which it counts as met without any concession."
    )
    on_grant: dict[Identifier, Identifier] = Field(
        default_factory=dict,
        description="Deciders that move to a rung of their ladder when it is granted (the "
        "grantor withdrawing, the maker lifting its blockade).",
    )
    text: str = ""
    source: str = Field(min_length=1)


class ActionFields(Strict):
    """The fields of one kind of action; subclasses say which name actors or are expressions.

    Checks and the compiled plan read ``actor_fields`` and ``expression_fields``, so a new
    kind of action is a new subclass here and its behaviour in :mod:`escalation.model.actions`.
    """

    actor_fields: ClassVar[tuple[str, ...]] = ()
    expression_fields: ClassVar[tuple[str, ...]] = ()
    #: Fields naming a rung of the ladder of the policy's actor (which must then decide).
    rung_fields: ClassVar[tuple[str, ...]] = ()
    #: The field that is, by default, the recipient's cost when it is a decider (a threat).
    cost_field: ClassVar[str | None] = None
    #: Whether the action adds to the recipient's capability (support a decider anticipates).
    adds_capability: ClassVar[bool] = False

    @property
    def recipient(self) -> str | None:
        """The actor the action is done to, if any."""
        return getattr(self, self.actor_fields[0]) if self.actor_fields else None


class Sanction(ActionFields):
    """Economic measures against an actor; severity is in the target's stake units."""

    actor_fields: ClassVar[tuple[str, ...]] = ("target",)
    expression_fields: ClassVar[tuple[str, ...]] = ("severity",)
    cost_field: ClassVar[str | None] = "severity"

    target: Identifier
    severity: Expr


class Aid(ActionFields):
    """Materiel to an actor that adds to its capability after a lag in days."""

    actor_fields: ClassVar[tuple[str, ...]] = ("to",)
    expression_fields: ClassVar[tuple[str, ...]] = ("amount", "lag")
    adds_capability: ClassVar[bool] = True

    to: Identifier
    amount: Expr
    lag: Expr = 0


class Reinforce(Aid):
    """Forces sent to an actor's territory after a lag in days."""


class Concession(ActionFields):
    """Concede a demand (written ``concede: <demand>``)."""

    demand: Identifier


class Escalation(ActionFields):
    """The policy's actor (a decider) moves up to a rung (written ``escalate: <rung>``).

    A stated threat whose follow-through is the threatener's own climb: retaliation, a
    tripwire. It never lowers the rung.
    """

    rung_fields: ClassVar[tuple[str, ...]] = ("rung",)

    rung: Identifier


class Action(Strict):
    """What a policy does: exactly one of its fields."""

    sanction: Sanction | None = None
    aid: Aid | None = None
    reinforce: Reinforce | None = None
    concede: Identifier | None = None
    escalate: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        """Check that exactly one action is given."""
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"'do' takes exactly one of {', '.join(type(self).model_fields)}; "
                f"got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        """The name of the action that is set."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def payload(self) -> ActionFields:
        """The fields of the action that is set (a bare name becomes its action's fields)."""
        value = getattr(self, self.kind)
        if isinstance(value, str):
            return Escalation(rung=value) if self.kind == "escalate" else Concession(demand=value)
        return value


class Policy(Strict):
    """A rule of one actor: when the condition holds, act at a daily hazard, if it follows through.

    A policy triggers at most once per trial. When it triggers it is carried out with probability
    ``follow_through`` (its true credibility); the challenger weighs it with ``perceived``.
    """

    actor: Identifier
    when: Condition = True
    do: Action
    hazard: Expr = Field(1, description="Daily probability of triggering while `when` holds.")
    follow_through: Expr = Field(1, description="Probability it is carried out when triggered.")
    against: Identifier | None = Field(
        None,
        description="The decider who bears `cost` and holds the belief `perceived` (default: a "
        "sanction's target, or the only decider).",
    )
    perceived: Expr | None = Field(
        None, description="That decider's belief in its follow-through (default: the truth)."
    )
    cost: Expr | None = Field(
        None,
        description="Cost to that decider if carried out, in its stake units (default: a "
        "sanction's severity when it targets a decider, else 0).",
    )
    enabled: bool = True
    source: str = Field(min_length=1, description="The sentence the policy encodes.")


class Signal(Strict):
    """Something a belief's holder observes: a condition that comes true, or a policy triggered.

    Observed once per trial: on the first day ``when`` holds (at the end of the day), or when
    ``policy`` triggers (and, with ``carried_out``, only if it was or was not carried out). A
    belief over hypotheses takes ``likelihood``: the chance of observing it under each; a
    credibility belief takes ``successes`` and ``failures``: what it counts as.
    """

    when: StrictStr | None = None
    policy: Identifier | None = None
    carried_out: StrictBool | None = None
    likelihood: dict[Identifier, Expr] = Field(default_factory=dict)
    successes: Expr = 0
    failures: Expr = 0
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_trigger(self) -> Signal:
        """Check that exactly one of ``when`` and ``policy`` says what is observed."""
        if (self.when is None) == (self.policy is None):
            raise ValueError(
                "a signal is observed 'when' a condition holds or on a 'policy'; give one"
            )
        if self.carried_out is not None and self.policy is None:
            raise ValueError("'carried_out' qualifies a signal observed on a 'policy'")
        return self


class Belief(Strict):
    """What a decider believes, as state that moves with what it observes (by Bayes' rule).

    A **credibility** belief (``a``, ``b``) is a Beta distribution over the chance that some
    threats are carried out; expressions read its mean as ``<name>``. Each trigger of a policy
    in ``learns_from`` counts as a success (carried out) or a failure. A belief over
    **hypotheses** (``hypotheses``, or ``about`` a decider whose types are the hypotheses) is a
    discrete distribution; expressions read ``<name>.<hypothesis>``.
    """

    holder: Identifier = Field(description="The decider who holds it.")
    a: Expr | None = Field(None, description="Beta prior: pseudo-count of threats carried out.")
    b: Expr | None = Field(None, description="Beta prior: pseudo-count of threats not carried out.")
    learns_from: list[Identifier] = Field(
        default_factory=list, description="Policies whose triggers it counts (credibility)."
    )
    about: Identifier | None = Field(
        None, description="A decider whose private types are the hypotheses (with their priors)."
    )
    hypotheses: dict[Identifier, Expr] = Field(
        default_factory=dict, description="Hypotheses and their prior weights."
    )
    signals: dict[Identifier, Signal] = Field(default_factory=dict)
    description: str = ""
    source: str = Field(min_length=1)

    @property
    def kind(self) -> str:
        """``credibility`` (a Beta belief) or ``hypotheses`` (a discrete one)."""
        return "credibility" if self.a is not None or self.b is not None else "hypotheses"


class Event(Strict):
    """A hazard nobody chooses: while `when` holds, a decider jumps up to a rung at a daily rate."""

    actor: Identifier | None = Field(
        None, description="The decider whose rung it moves (default: the only decider)."
    )
    when: Condition = True
    rate: Expr
    to_rung: Identifier
    source: str = Field(min_length=1)


class Reference(Strict):
    """A source, with the day it was published (so that hindsight can be checked)."""

    text: str = Field(min_length=1)
    date: datetime.date | None = Field(None, description="Publication date of the source.")


#: ICB trigger categories (the BREAK variable of the International Crisis Behavior data).
ICB_TRIGGERS: tuple[str, ...] = (
    "verbal_act",
    "political_act",
    "economic_act",
    "external_change",
    "other_non_violent_act",
    "internal_challenge",
    "non_violent_military_act",
    "indirect_violent_act",
    "violent_act",
)


#: ICB's classes of the highest level of violence in a crisis (the VIOL variable).
ICB_VIOLENCE: tuple[str, ...] = (
    "no_violence",
    "minor_clashes",
    "serious_clashes",
    "full_scale_war",
)


class PublishedForecast(Strict):
    """A forecast published at the time, of the case's event, for comparison with the model."""

    source: str = Field(min_length=1, description="Where it was published ([key] of references).")
    date: datetime.date = Field(description="When it was published.")
    probability: StrictFloat | StrictInt = Field(ge=0, le=1, description="P(event) as published.")
    note: str = Field("", description="How its question differs from the case's, if it does.")


class Case(Strict):
    """What makes a scenario a case of the casebook: its question and how it may be scored.

    What actually happened is never here: it is recorded apart, in the casebook's outcomes file.
    """

    question: str = Field(min_length=1, description="The question a forecaster asked on the date.")
    event: Identifier = Field(
        description="The violent outcome whose reaching within the horizon is the yes/no question."
    )
    trigger: Literal[ICB_TRIGGERS] | None = Field(  # type: ignore[valid-type]
        None, description="The ICB trigger category, for the base-rate reference forecast."
    )
    icb_classes: dict[Literal[ICB_VIOLENCE], list[Identifier]] = Field(  # type: ignore[valid-type]
        default_factory=dict,
        description="For the base-rate forecast: which of the scenario's outcome classes each ICB "
        "violence class stands for (every outcome class in exactly one).",
    )
    written_after_outcome: StrictBool = Field(
        description="True when its author knew how the crisis ended (the date rule limits what "
        "a case may cite, not what its author knows)."
    )
    published_forecasts: list[PublishedForecast] = Field(default_factory=list)
    cannot_express: str = Field("", description="What the format could not say about this crisis.")


class BaseRate(Strict):
    """A published share of comparable crises that ended in an outcome, for comparison only."""

    share: StrictFloat | StrictInt = Field(ge=0, le=1)
    source: str = Field(min_length=1, description="Where the share comes from.")


class Scenario(Strict):
    """One crisis: actors, uncertain parameters, ladders, deciders, demands, policies, events."""

    name: str = Field(min_length=1, max_length=120)
    title: str = ""
    date: datetime.date | None = None
    description: str = ""
    horizon: WholeNumber = Field(
        ge=1, le=MAX_HORIZON, description="Days played from the start date."
    )
    trials: WholeNumber = Field(10_000, ge=1, le=MAX_TRIALS)
    seed: WholeNumber = Field(0, ge=0, lt=2**63)
    references: dict[str, StrictStr | Reference] = Field(
        default_factory=dict,
        description="Sources by key, cited as [key]; a reference may carry its publication date.",
    )
    actors: dict[Identifier, Actor] = Field(min_length=2)
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    ladder: list[Rung] | None = Field(
        None, min_length=2, description="The shared ladder, lowest rung first."
    )
    ladders: dict[Identifier, Annotated[list[Rung], Field(min_length=2)]] = Field(
        default_factory=dict,
        description="Ladders of their own, by name, for deciders that name one.",
    )
    severity: list[Identifier] | None = Field(
        None,
        description="Violent outcome classes, least severe first (required when several "
        "ladders name outcomes).",
    )
    challenger: Challenger | None = None
    deciders: dict[Identifier, Decider] = Field(default_factory=dict)
    demands: dict[Identifier, Demand] = Field(default_factory=dict)
    policies: dict[Identifier, Policy] = Field(default_factory=dict)
    events: dict[Identifier, Event] = Field(default_factory=dict)
    beliefs: dict[Identifier, Belief] = Field(
        default_factory=dict, description="Beliefs that move with what deciders observe."
    )
    #: The file the scenario was read from, if any: later mistakes (a value found NaN while
    #: playing) can then still name its line. Not part of the content or its hash.
    _source_file: str | None = PrivateAttr(default=None)

    case: Case | None = Field(None, description="Casebook metadata: the question and its scoring.")
    base_rates: dict[Identifier, BaseRate] = Field(
        default_factory=dict,
        description="Shares of comparable crises by outcome class, shown beside the model's; "
        "never used by the model.",
    )

    @model_validator(mode="after")
    def _one_form(self) -> Scenario:
        """Deciders are given either as ``challenger`` or as ``deciders``; a ladder exists."""
        if (self.challenger is None) == (not self.deciders):
            raise ValueError(
                "give the deciding actors either as 'deciders' (a block per deciding actor) or, "
                "for one decider, as 'challenger'; not both, and not neither"
            )
        if self.ladder is None and not self.ladders:
            raise ValueError("give a shared 'ladder' or named 'ladders'")
        return self

    def reference_text(self, key: str) -> str:
        """The text of a reference, dated or not."""
        value = self.references[key]
        return value if isinstance(value, str) else value.text

    @property
    def source_file(self) -> str | None:
        """The file the scenario was read from (None if built in memory)."""
        return self._source_file

    def from_file(self, path: str | None) -> Scenario:
        """This scenario, marked as read from ``path``."""
        self._source_file = path
        return self

    @property
    def decider_blocks(self) -> list[DeciderBlock]:
        """Every decider in file order, with its actor's key and its place in the file."""
        if self.challenger is not None:
            return [DeciderBlock(self.challenger.actor, self.challenger, ("challenger",))]
        return [DeciderBlock(key, block, ("deciders", key)) for key, block in self.deciders.items()]

    @property
    def all_ladders(self) -> dict[str, list[Rung]]:
        """Every ladder by name; the shared ladder is named ``ladder``."""
        found = {SHARED_LADDER: self.ladder} if self.ladder is not None else {}
        found.update(self.ladders)
        return found

    def ladder_of(self, decider: Decider) -> str:
        """The name of a decider's ladder."""
        return decider.ladder or SHARED_LADDER

    @property
    def all_rungs(self) -> list[Rung]:
        """Every rung of every ladder, ladder by ladder."""
        return [rung for rungs in self.all_ladders.values() for rung in rungs]

    @property
    def outcomes(self) -> list[str]:
        """Every outcome class, diplomatic endings first, then violent ones, least severe first."""
        return list(DIPLOMATIC_OUTCOMES) + self.violent_outcomes

    @property
    def violent_outcomes(self) -> list[str]:
        """Violent outcome classes, least severe first: ``severity``, else ladder order."""
        if self.severity is not None:
            return list(self.severity)
        found: list[str] = []
        for rung in self.all_rungs:
            if rung.outcome and rung.outcome not in found:
                found.append(rung.outcome)
        return found
