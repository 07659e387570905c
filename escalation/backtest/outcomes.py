"""The outcomes file of a casebook: what happened in each case, and the ICB reference tables.

What happened is kept apart from the scenarios (a scenario cannot read its own answer), in
``outcomes.yaml`` beside the case files::

    cases:
      <scenario name>:
        outcome: <one of that scenario's outcome classes>
        day: <days from the scenario's date to the outcome's first day; none for frozen_standoff>
        sources: ["Publisher, title, YYYY-MM-DD", ...]
        note: "how sure the classification is"
    icb_base_rates:
      dataset: ...            # provenance: dataset, variables, citation, the copy and its hash
      tables:
        - ended_before: 1996-03-01
          crises: 415
          counts:             # ICB trigger -> [no violence, minor, serious clashes, war]
            political_act: [42, 20, 12, 15]

The models here check the file's shape; :mod:`escalation.backtest.casebook` checks it against
the cases (known names, the case's own outcome classes, a day within the horizon).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictInt, StrictStr, model_validator

from escalation.scenario.schema import ICB_TRIGGERS, ICB_VIOLENCE, Identifier, Strict, WholeNumber

#: The outcome that has no day: a crisis still live at the horizon.
NO_DAY_OUTCOME = "frozen_standoff"

#: A non-empty line of text.
Text = Annotated[StrictStr, Field(min_length=1)]


def _not_bool(value: object) -> object:
    """Refuse YAML's true/false where a day belongs (pydantic would take them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number; got {str(value).lower()}")
    return value


#: A day count; the bound comes before the validator so that the JSON schema says "minimum".
Day = Annotated[int, Field(ge=0), BeforeValidator(_not_bool)]


class CaseOutcome(Strict):
    """What happened in one case, in the case's own outcome classes."""

    outcome: Identifier = Field(description="One of the case scenario's outcome classes.")
    day: Day | None = Field(
        None,
        description="Days from the scenario's date to the outcome's first day (the first violent "
        "act of that class, or the day the crisis ended); omitted for frozen_standoff.",
    )
    sources: list[Text] = Field(
        min_length=1,
        description='Where the outcome is documented: "Publisher, title, YYYY-MM-DD".',
    )
    note: str = Field("", description="How sure the classification is, and why.")


#: One row of an ICB table: crises by highest level of violence, in ICB_VIOLENCE order.
Counts = Annotated[list[Annotated[StrictInt, Field(ge=0)]], Field(min_length=4, max_length=4)]


class IcbTable(Strict):
    """ICB crises that had ended before a date, by trigger and highest level of violence."""

    ended_before: datetime.date = Field(
        description="Only crises that had ended before this day are counted; a case uses the "
        "latest table that ends on or before its own date."
    )
    crises: WholeNumber = Field(ge=0, description="How many crises the table counts.")
    counts: dict[Literal[ICB_TRIGGERS], Counts] = Field(  # type: ignore[valid-type]
        description="By ICB trigger: crises with no violence, minor clashes, serious clashes, "
        "full-scale war (VIOL 1-4)."
    )

    @model_validator(mode="after")
    def _adds_up(self) -> IcbTable:
        total = sum(sum(row) for row in self.counts.values())
        if total != self.crises:
            raise ValueError(
                f"the counts add up to {total} crises, not the {self.crises} given in 'crises'"
            )
        return self


class IcbBaseRates(Strict):
    """The ICB reference tables and where they come from."""

    dataset: Text = Field(description="The data set, its version and level.")
    variables: Text = Field(description="Which variables the tables cross (trigger, violence).")
    citation: Text = Field(description="How ICB asks to be cited.")
    data_copy: Text = Field(description="The copy of the data file the tables were counted from.")
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="SHA-256 of that copy."
    )
    rule: Text = Field(description="Which crises a table counts.")
    note: str = ""
    tables: list[IcbTable] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> IcbBaseRates:
        days = [table.ended_before for table in self.tables]
        if len(set(days)) != len(days):
            raise ValueError("two tables end before the same day; keep one")
        return self

    def table_for(self, day: datetime.date) -> IcbTable | None:
        """The latest table of crises that had ended on or before ``day`` (None if none)."""
        usable = [table for table in self.tables if table.ended_before <= day]
        return max(usable, key=lambda table: table.ended_before) if usable else None


class OutcomesFile(Strict):
    """A casebook's ``outcomes.yaml``."""

    cases: dict[Annotated[str, Field(min_length=1)], CaseOutcome] = Field(
        default_factory=dict, description="What happened, by the case scenario's name."
    )
    icb_base_rates: IcbBaseRates | None = Field(
        None, description="ICB tables for the base-rate reference forecast."
    )


#: A trigger with fewer crises than this in a table is pooled with its group: a handful of
#: crises is too few to stand alone as a base rate (ICB notes, section 4.2).
MIN_CRISES = 20
#: The pooled trigger groups: non-violent and non-military, non-violent military, violent.
ICB_GROUPS: dict[str, tuple[str, ...]] = {
    "non-violent, non-military (BREAK 1-6)": ICB_TRIGGERS[:6],
    "non-violent military (BREAK 7)": ICB_TRIGGERS[6:7],
    "violent (BREAK 8-9)": ICB_TRIGGERS[7:],
}


@dataclass(frozen=True)
class IcbRow:
    """The crises a case's base rate is taken from: its trigger's, or its group's if few."""

    label: str
    triggers: tuple[str, ...]
    counts: tuple[int, int, int, int]

    @property
    def crises(self) -> int:
        """How many crises."""
        return sum(self.counts)

    @property
    def pooled(self) -> bool:
        """Whether the trigger was pooled with its group."""
        return len(self.triggers) > 1

    def shares(self) -> dict[str, float] | None:
        """Shares of the ICB violence classes (None without crises)."""
        if self.crises == 0:
            return None
        return {name: c / self.crises for name, c in zip(ICB_VIOLENCE, self.counts, strict=True)}


def icb_row(table: IcbTable, trigger: str) -> IcbRow:
    """The trigger's crises in the table, pooled with its group's if fewer than MIN_CRISES."""
    zero = [0, 0, 0, 0]
    own = table.counts.get(trigger, zero)  # type: ignore[call-overload]
    if sum(own) >= MIN_CRISES:
        return IcbRow(trigger, (trigger,), tuple(own))  # type: ignore[arg-type]
    label, group = next((k, v) for k, v in ICB_GROUPS.items() if trigger in v)
    rows = [table.counts.get(t, zero) for t in group]  # type: ignore[call-overload]
    pooled = tuple(sum(column) for column in zip(*rows, strict=True))
    return IcbRow(label if len(group) > 1 else trigger, group, pooled)  # type: ignore[arg-type]


def icb_shares(table: IcbTable, trigger: str) -> dict[str, float] | None:
    """Shares of the ICB violence classes for a trigger (pooled if few; None if no crisis)."""
    return icb_row(table, trigger).shares()
