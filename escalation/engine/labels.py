"""Human labels for a scenario's outcomes, rungs, parameters and types, and outcome look-up.

Charts and reports never print an identifier such as ``full_scale_invasion``: they print the
ladder's ``label`` of the rung that defines the outcome ("Full-scale invasion"), and plain
words for everything else. :class:`Labels` is built once from a scenario and handed to the
charts as plain mappings, so that the charts need not read the scenario.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from escalation.charts.style import humanize, lower_first
from escalation.scenario.schema import DIPLOMATIC_OUTCOMES, Scenario

#: Labels of the endings the engine defines itself.
DIPLOMATIC_LABELS = {
    "settlement": "Settlement",
    "stand_down": "Stand-down",
    "frozen_standoff": "Frozen standoff",
}

#: What each of the engine's own endings means (the ladder defines the violent ones).
DIPLOMATIC_DEFINITIONS = {
    "settlement": "ended before any violent rung, no decider still pressing, with some demand "
    "granted",
    "stand_down": "ended before any violent rung, no decider still pressing, with no demand "
    "granted",
    "frozen_standoff": "still live at the horizon (some decider still pressing) without having "
    "reached a violent rung",
}


#: An outcome's label in running text (first letter in lower case unless an acronym).
sentence_case = lower_first


def title_case(label: str) -> str:
    """``label`` with its first letter in upper case."""
    return label[:1].upper() + label[1:]


def normalized(text: str) -> str:
    """Lower case, with hyphens, underscores and runs of spaces as one space (for look-ups)."""
    return re.sub(r"[-_\s]+", " ", str(text)).strip().lower()


class UnknownOutcome(ValueError):
    """An outcome name or label that the scenario does not define."""


@dataclass(frozen=True)
class Labels:
    """Labels of one scenario's names, as plain mappings the charts can take.

    Attributes:
        outcomes: outcome name -> label ("Full-scale invasion").
        rungs: rung id -> label.
        rung_outcomes: rung id -> the outcome it defines (violent rungs only).
        parameters: parameter column -> label (path points get their day or date).
        actors: actor key -> display name.
        demands: demand key -> label.
        start: the scenario's date (day 0), if it has one.
    """

    outcomes: Mapping[str, str] = field(default_factory=dict)
    rungs: Mapping[str, str] = field(default_factory=dict)
    rung_outcomes: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    actors: Mapping[str, str] = field(default_factory=dict)
    demands: Mapping[str, str] = field(default_factory=dict)
    start: datetime.date | None = None

    @classmethod
    def from_scenario(cls, scenario: Scenario, columns: Iterable[str] = ()) -> Labels:
        """Labels of a scenario, from every ladder; ``columns`` adds a trials table's parameters.

        A violent outcome takes the label of the rung that names it; when rungs of several
        ladders name it with different labels (each one side's move), it takes plain words
        from its own name, which is the shorter and truer heading for both.
        """
        outcomes = {
            name: DIPLOMATIC_LABELS.get(name, humanize(name)) for name in DIPLOMATIC_OUTCOMES
        }
        rungs, rung_outcomes = {}, {}
        named: dict[str, list[str]] = {}
        for rung in scenario.all_rungs:
            rungs[rung.id] = rung.label or title_case(humanize(rung.id))
            if rung.outcome:
                rung_outcomes[rung.id] = rung.outcome
                found = named.setdefault(rung.outcome, [])
                label = rung.label or title_case(humanize(rung.outcome))
                if label not in found:
                    found.append(label)
        for name, found in named.items():
            outcomes[name] = found[0] if len(found) == 1 else title_case(humanize(name))
        for name in scenario.outcomes:
            outcomes.setdefault(name, title_case(humanize(name)))
        bare = cls(start=scenario.date)
        return cls(
            outcomes=outcomes,
            rungs=rungs,
            rung_outcomes=rung_outcomes,
            parameters={name: bare.parameter(name) for name in [*scenario.parameters, *columns]},
            actors={key: actor.name for key, actor in scenario.actors.items()},
            demands={key: humanize(key) for key in scenario.demands},
            start=scenario.date,
        )

    def outcome(self, name: str) -> str:
        """The label of an outcome (its rung's label), or plain words from its name."""
        return self.outcomes.get(name) or title_case(humanize(name))

    def rung(self, rung_id: str) -> str:
        """The label of a rung."""
        return self.rungs.get(rung_id) or title_case(humanize(rung_id))

    def date(self, day: int) -> str:
        """Day ``day`` as a calendar date (``1 Feb 2022``), or ``day N`` without a start date."""
        if self.start is None:
            return f"day {int(day)}"
        when = self.start + datetime.timedelta(days=int(day))
        return f"{when.day} {when:%b %Y}"

    def parameter(self, column: str) -> str:
        """The label of a parameter column; a path point ``name@day`` names its date."""
        if column in self.parameters:
            return self.parameters[column]
        name, _, day = str(column).partition("@")
        text = humanize(name)
        return f"{text} ({self.date(int(day))})" if day.isdigit() else text

    def actor(self, key: str) -> str:
        """An actor's display name."""
        return self.actors.get(key) or humanize(key)

    def factor(self, column: str) -> str:
        """The label of a driver: a parameter, or a decider's type column ``type:<actor>``."""
        if column.startswith("type:"):
            return f"type of {self.actor(column.split(':', 1)[1])}"
        return self.parameter(column)

    def record(self, name: str) -> str:
        """The label of a per-trial record a ``mean:`` metric averages.

        ``sanctions:<actor>``, ``aid:<actor>``, ``met:<decider>``, ``granted:<demand>``; any
        other name in plain words.
        """
        what, _, whom = str(name).partition(":")
        templates = {
            "sanctions": "sanctions on {actor}",
            "aid": "aid to {actor}",
            "met": "share of {actor}'s demands met",
            "granted": "share of trials with {demand} granted",
        }
        if what not in templates or not whom or ":" in whom:
            return humanize(str(name).replace(":", " "))
        return templates[what].format(
            actor=self.actor(whom), demand=self.demands.get(whom) or humanize(whom)
        )

    def share(self, record: str, value: str) -> str:
        """The label of the trials whose categorical record has a value (a ``share:`` metric).

        ``war:<decider>=won``, ``type:<decider>=<type>``, ``peak:<decider>=<rung>``,
        ``rung:<decider>=<rung>``, ``exit:<decider>=<exit>``; any other in plain words.
        """
        what, _, whom = str(record).partition(":")
        templates = {
            "war": "{actor}'s campaign {value}",
            "type": "{actor} of type {value}",
            "peak": "{actor} reached {rung}",
            "rung": "{actor} ends on {rung}",
            "exit": "{actor}'s exit: {value}",
        }
        if what not in templates or not whom or ":" in whom:
            return f"{humanize(str(record).replace(':', ' '))} = {value}"
        return templates[what].format(
            actor=self.actor(whom), value=humanize(value).lower(), rung=self.rung(value)
        )

    def resolve_outcome(self, text: str, known: Iterable[str]) -> str:
        """The outcome name that ``text`` means: a name or a label, in any case or spacing.

        Several outcomes may be joined with ``+`` (``settlement+stand_down``); the names are
        then returned joined the same way. Raises :class:`UnknownOutcome` listing the outcomes.
        """
        names = list(known)
        parts = str(text).split("+")
        lookup: dict[str, str] = {}
        for name in names:
            for key in (name, self.outcome(name), humanize(name)):
                lookup.setdefault(normalized(key), name)
        found = []
        for part in parts:
            key = normalized(part)
            if key not in lookup:
                shown = ", ".join(f"{n} ({self.outcome(n)})" for n in names)
                raise UnknownOutcome(
                    f"'{part.strip()}' is not an outcome; the outcomes are {shown}"
                )
            found.append(lookup[key])
        return "+".join(found)
