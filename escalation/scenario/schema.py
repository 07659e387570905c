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
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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

#: The endings that the engine itself defines; violent outcomes are named by the ladder.
DIPLOMATIC_OUTCOMES: tuple[str, ...] = ("settlement", "stand_down", "frozen_standoff")


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
        """Check that exactly one of ``dist`` and ``path`` is given."""
        if (self.dist is None) == (self.path is None):
            raise ValueError("give exactly one of 'dist' (a distribution) or 'path' (points)")
        return self


class Actor(Strict):
    """A state or bloc. The engine knows it only by its key in ``actors``."""

    name: str = Field(min_length=1, description="Display name.")
    forces: Expr = Field(0, description="Forces it can commit to an attack (challenger).")
    capability: Expr = Field(0, description="Base capability to resist an attack (target).")
    description: str = ""
    source: str = ""


class Rung(Strict):
    """One rung of the escalation ladder, lowest first."""

    id: Identifier
    label: str = ""
    outcome: Identifier | None = Field(
        None, description="Outcome class of a trial whose crisis reaches this rung."
    )
    choosable: bool = Field(True, description="Whether the challenger can climb to it by choice.")
    absorbing: bool = Field(False, description="Whether reaching it ends the trial.")
    gain: Expr = Field(0, description="Share of the ungranted stake won if the move succeeds.")
    force: Expr = Field(1, description="Share of the challenger's forces the move commits.")
    cost: Expr = Field(0, description="The challenger's cost of the move, in stake units.")
    hold_cost: Expr = Field(0, description="The challenger's daily cost of standing on it.")
    source: str = ""


class ChallengerType(Strict):
    """A private type of the challenger, drawn per trial with its prior share."""

    prior: Expr
    overrides: dict[Identifier, Expr] = Field(
        default_factory=dict, description="Parameters that take other values in this type."
    )
    description: str = ""
    source: str = ""


class Challenger(Strict):
    """The actor that makes demands and may climb the ladder, with its decision traits."""

    actor: Identifier
    target: Identifier
    start_rung: Identifier
    stake: Expr = Field(description="Value of every demand met, the unit of all utilities.")
    audience_cost: Expr = Field(0, description="Cost of backing down from the unmet demands.")
    rationality: Expr = Field(description="Logit precision lambda of the choice.")
    decision_rate: Expr = Field(description="Daily probability of a decision opportunity.")
    hope: Expr = Field(0, description="Believed chance that holding wins the unmet demands.")
    planning_days: Expr = Field(30, description="Days of holding costs weighed when deciding.")
    decisiveness: Expr = Field(1, description="Exponent k of the contest success function.")
    types: dict[Identifier, ChallengerType] = Field(default_factory=dict)
    source: str = ""


class Demand(Strict):
    """What the challenger wants, its share of the stake, and who can grant it."""

    weight: StrictFloat | StrictInt = Field(gt=0, le=1)
    grantors: list[Identifier] = Field(min_length=1)
    text: str = ""
    source: str = Field(min_length=1)


class Sanction(Strict):
    """Economic measures against an actor; severity is in the challenger's stake units."""

    target: Identifier
    severity: Expr


class Aid(Strict):
    """Materiel to an actor that adds to its capability after a lag in days."""

    to: Identifier
    amount: Expr
    lag: Expr = 0


class Reinforce(Strict):
    """Forces sent to an actor's territory after a lag in days."""

    to: Identifier
    amount: Expr
    lag: Expr = 0


class Action(Strict):
    """What a policy does: exactly one of its fields."""

    sanction: Sanction | None = None
    aid: Aid | None = None
    reinforce: Reinforce | None = None
    concede: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        """Check that exactly one action is given."""
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "'do' takes exactly one of sanction, aid, reinforce, concede; "
                f"got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        """The name of the action that is set."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


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
    perceived: Expr | None = Field(
        None, description="The challenger's belief in its follow-through (default: the truth)."
    )
    cost: Expr | None = Field(
        None,
        description="Cost to the challenger if carried out, in stake units (default: a sanction's "
        "severity when it targets the challenger, else 0).",
    )
    enabled: bool = True
    source: str = Field(min_length=1, description="The sentence the policy encodes.")


class Event(Strict):
    """A hazard nobody chooses: while `when` holds, the crisis jumps to a rung at a daily rate."""

    when: Condition = True
    rate: Expr
    to_rung: Identifier
    source: str = Field(min_length=1)


class Scenario(Strict):
    """One crisis: actors, uncertain parameters, ladder, challenger, demands, policies, events."""

    name: str = Field(min_length=1, max_length=120)
    title: str = ""
    date: datetime.date | None = None
    description: str = ""
    horizon: WholeNumber = Field(
        ge=1, le=MAX_HORIZON, description="Days played from the start date."
    )
    trials: WholeNumber = Field(10_000, ge=1, le=MAX_TRIALS)
    seed: WholeNumber = Field(0, ge=0, lt=2**63)
    references: dict[str, str] = Field(default_factory=dict)
    actors: dict[Identifier, Actor] = Field(min_length=2)
    parameters: dict[Identifier, Parameter] = Field(default_factory=dict)
    ladder: list[Rung] = Field(min_length=2)
    challenger: Challenger
    demands: dict[Identifier, Demand] = Field(default_factory=dict)
    policies: dict[Identifier, Policy] = Field(default_factory=dict)
    events: dict[Identifier, Event] = Field(default_factory=dict)

    @property
    def outcomes(self) -> list[str]:
        """Every outcome class, diplomatic endings first, then violent ones in ladder order."""
        return list(DIPLOMATIC_OUTCOMES) + self.violent_outcomes

    @property
    def violent_outcomes(self) -> list[str]:
        """Outcome classes named by the ladder, lowest rung first."""
        return [rung.outcome for rung in self.ladder if rung.outcome]

    def rung_index(self, rung_id: str) -> int:
        """Position of a rung on the ladder."""
        return [rung.id for rung in self.ladder].index(rung_id)
