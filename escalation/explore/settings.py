"""What the explore page can change in a scenario: its controls, its settings, their changes.

:class:`Controls` lists what a scenario offers (any scenario: policies, uncertain parameters,
demands, horizon, trials). :class:`Settings` is the page's state, plain values keyed by name,
read from and written to the page's URL. :func:`changes` turns settings into the scenario
fields they write, each named by a dotted path as an experiment names it; :func:`apply_changes`
writes them with the sweep's own :class:`~escalation.sweeps.variables.Target`, so the page, the
exported scenario and the exported experiment change the same fields in the same way.

Nothing here raises on bad settings: a value that cannot be written is dropped with a note,
and a value that can be written but makes an invalid scenario is left for the scenario's own
checks to report (the page shows their located message).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import numpy as np

from escalation.scenario.distributions import (
    Beta,
    Constant,
    Distribution,
    DistributionError,
    Normal,
    Triangular,
    Uniform,
    parse_distribution,
)
from escalation.scenario.schema import Scenario
from escalation.sweeps.variables import PathError, make_target, number_text

#: Most trials a page may ask for (a live page, not a batch run; the CLI has no such cap).
MAX_PAGE_TRIALS = 1_000_000

#: Longest text a follow-through or perceived field may hold (the expression grammar's limit).
MAX_TEXT = 2000

#: Fields of a distribution that a shift moves, by family: a location shift, exact for these.
SHIFTED_FIELDS: dict[type[Distribution], tuple[str, ...]] = {
    Constant: ("value",),
    Beta: ("lo", "hi"),
    Uniform: ("lo", "hi"),
    Triangular: ("lo", "mode", "hi"),
    Normal: ("mu", "lo", "hi"),
}

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


# --- what a scenario offers -----------------------------------------------------------------


@dataclass(frozen=True)
class FieldText:
    """A policy field as written: its text and what kind of thing it is.

    ``kind`` is ``number``, ``parameter``, ``belief``, ``expression`` or ``default`` (not
    written: ``perceived`` then defaults to the follow-through).
    """

    text: str
    kind: str


@dataclass(frozen=True)
class PolicyControl:
    """One policy: who acts, what it does, and its follow-through and perceived as written."""

    name: str
    actor: str
    action: str
    enabled: bool
    follow_through: FieldText
    perceived: FieldText


@dataclass(frozen=True)
class ParameterControl:
    """One uncertain parameter: its distribution (one per point of a path) and shift step."""

    name: str
    description: str
    dists: tuple[Distribution, ...]
    days: tuple[int, ...] | None
    shiftable: bool
    step: float

    written: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The distribution as written, or the path's points."""
        shown = self.written or tuple(str(d) for d in self.dists)
        if self.days is None:
            return shown[0]
        return ", ".join(f"day {d}: {x}" for d, x in zip(self.days, shown, strict=True))


@dataclass(frozen=True)
class Grant:
    """How one grantor's concession of one demand is forced: its concede policies, or none."""

    demand: str
    grantor: str
    policies: tuple[str, ...]

    @property
    def added_policy(self) -> str:
        """The name of the policy added when the grantor has no concede policy of its own."""
        return f"explore_grant_{self.demand}_by_{self.grantor}"[:64]


@dataclass(frozen=True)
class DemandControl:
    """One demand, its trade group, and the concessions that grant it."""

    name: str
    by: str
    text: str
    group: tuple[str, ...]
    grants: tuple[Grant, ...]

    @property
    def adds_policies(self) -> bool:
        """Whether granting it adds policies (some grantor has no concede policy)."""
        return any(not g.policies for g in self.grants)


@dataclass(frozen=True)
class Controls:
    """Everything the page can change in one scenario."""

    scenario: Scenario
    policies: dict[str, PolicyControl]
    parameters: dict[str, ParameterControl]
    demands: dict[str, DemandControl]

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Controls:
        """The controls of any scenario."""
        parameters = {name for name in scenario.parameters}
        beliefs = set(getattr(scenario, "beliefs", {}) or {})
        policies = {
            name: PolicyControl(
                name=name,
                actor=policy.actor,
                action=policy.do.kind,
                enabled=policy.enabled,
                follow_through=_field_text(policy.follow_through, parameters, beliefs),
                perceived=_field_text(policy.perceived, parameters, beliefs),
            )
            for name, policy in scenario.policies.items()
        }
        return cls(
            scenario=scenario,
            policies=policies,
            parameters=_parameter_controls(scenario),
            demands=_demand_controls(scenario),
        )


def _field_text(value: Any, parameters: set[str], beliefs: set[str]) -> FieldText:
    if value is None:
        return FieldText("", "default")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return FieldText(number_text(value), "number")
    text = str(value).strip()
    if text in parameters:
        return FieldText(text, "parameter")
    if text in beliefs:
        return FieldText(text, "belief")
    if _NUMBER.match(text):
        return FieldText(text, "number")
    return FieldText(text, "expression")


def _parameter_controls(scenario: Scenario) -> dict[str, ParameterControl]:
    found = {}
    for name, parameter in scenario.parameters.items():
        if parameter.path is not None:
            days = tuple(int(day) for day, _ in parameter.path)
            texts = tuple(number_text(dist) for _, dist in parameter.path)
        else:
            days, texts = None, (number_text(parameter.dist),)
        dists = tuple(parse_distribution(text) for text in texts)
        if all(dist.is_constant for dist in dists):
            continue  # nothing uncertain to fix or shift
        spans = [_span(dist) for dist in dists]
        found[name] = ParameterControl(
            name=name,
            description=parameter.description,
            dists=dists,
            days=days,
            shiftable=all(type(dist) in SHIFTED_FIELDS for dist in dists),
            step=_round_step(max(spans) / 20 if spans else 0.01),
            written=texts,
        )
    return found


def _span(dist: Distribution) -> float:
    lo, hi = (float(x) for x in dist.ppf(np.array([0.05, 0.95])))
    return hi - lo


def _round_step(x: float) -> float:
    if not math.isfinite(x) or x <= 0:
        return 0.01
    return float(10 ** math.floor(math.log10(x)))


def _demand_controls(scenario: Scenario) -> dict[str, DemandControl]:
    concede: dict[tuple[str, str], list[str]] = {}
    for name, policy in scenario.policies.items():
        if policy.do.kind == "concede":
            concede.setdefault((str(policy.do.concede), policy.actor), []).append(name)
    # Trade groups: together_with taken both ways and transitively (model.md, section 3.3).
    links: dict[str, set[str]] = {name: {name} for name in scenario.demands}
    for name, demand in scenario.demands.items():
        for other in demand.together_with:
            links[name].add(other)
            links.setdefault(other, {other}).add(name)
    found = {}
    blocks = scenario.decider_blocks
    for name, demand in scenario.demands.items():
        group, todo = set(), [name]
        while todo:
            item = todo.pop()
            if item not in group:
                group.add(item)
                todo.extend(links.get(item, ()))
        ordered = tuple(d for d in scenario.demands if d in group)
        grants = tuple(
            Grant(d, g, tuple(concede.get((d, g), ())))
            for d in ordered
            for g in scenario.demands[d].grantors
        )
        by = demand.by or (blocks[0].key if len(blocks) == 1 else "")
        found[name] = DemandControl(name, by, demand.text, ordered, grants)
    return found


# --- the page's state -------------------------------------------------------------------------


@dataclass
class Settings:
    """What the user changed; empty mappings and None mean "as written".

    ``follow_through`` and ``perceived`` hold text: a number, or an expression in the scenario
    grammar (checked by the scenario's own checks when written).
    """

    trials: int | None = None
    horizon: int | None = None
    enabled: dict[str, bool] = field(default_factory=dict)
    follow_through: dict[str, str] = field(default_factory=dict)
    perceived: dict[str, str] = field(default_factory=dict)
    quantile: dict[str, float] = field(default_factory=dict)
    shift: dict[str, float] = field(default_factory=dict)
    grant: dict[str, int] = field(default_factory=dict)

    #: URL keys of the mappings, in the order they are written.
    KEYS = ("enabled", "follow_through", "perceived", "quantile", "shift", "grant")

    def is_empty(self) -> bool:
        """Whether nothing is changed."""
        return self.trials is None and self.horizon is None and not any(self.mappings())

    def mappings(self) -> Iterator[dict[str, Any]]:
        """The per-name mappings, in :attr:`KEYS` order."""
        for key in self.KEYS:
            yield getattr(self, key)

    def to_query(self) -> str:
        """The settings as a URL query (without ``?``): ``trials=..&enabled.name=0&...``."""
        pairs: list[tuple[str, str]] = []
        for key in ("trials", "horizon"):
            value = getattr(self, key)
            if value is not None:
                pairs.append((key, str(value)))
        for key in self.KEYS:
            for name, value in sorted(getattr(self, key).items()):
                text = ("1" if value else "0") if key == "enabled" else _exact_text(value)
                pairs.append((f"{key}.{name}", text))
        return urlencode(pairs)

    @classmethod
    def from_query(cls, query: str, controls: Controls) -> tuple[Settings, list[str]]:
        """Settings from a URL query; anything that cannot be read is dropped with a note."""
        raw: dict[str, Any] = {}
        for key, value in parse_qsl(str(query or "").lstrip("?"), keep_blank_values=False):
            kind, _, name = key.partition(".")
            if name:
                raw.setdefault(kind, {})[name] = value
            else:
                raw[kind] = value
        return cls.from_data(raw, controls)

    @classmethod
    def from_data(cls, data: Any, controls: Controls) -> tuple[Settings, list[str]]:
        """Settings from JSON-like data (as the page sends it); drops what cannot be read."""
        notes: list[str] = []
        settings = cls()
        if not isinstance(data, Mapping):
            if data not in (None, "", {}):
                notes.append("ignored settings that are not a mapping")
            return settings, notes
        for key in ("trials", "horizon"):
            if data.get(key) not in (None, ""):
                value = _whole(data[key])
                if value is None:
                    notes.append(f"ignored {key}: {_show(data[key])} is not a whole number")
                else:
                    setattr(settings, key, value)
        known = {
            "enabled": (controls.policies, _flag),
            "follow_through": (controls.policies, _text),
            "perceived": (controls.policies, _text),
            "quantile": (controls.parameters, _quantile),
            "shift": (
                {n: c for n, c in controls.parameters.items() if c.shiftable},
                _finite,
            ),
            "grant": (controls.demands, _day),
        }
        for key in set(data) - {"trials", "horizon", *known}:
            notes.append(f"ignored unknown setting {_show(key)}")
        for key, (names, read) in known.items():
            values = data.get(key)
            if values in (None, ""):
                continue
            if not isinstance(values, Mapping):
                notes.append(f"ignored {key}: expected a mapping of names to values")
                continue
            for name, value in values.items():
                if value is None or value == "":
                    continue
                if not isinstance(name, str) or name not in names:
                    notes.append(f"ignored {key}.{_show(name)}: no such name in this scenario")
                    continue
                read_value = read(value)
                if read_value is None:
                    notes.append(f"ignored {key}.{name}: {_show(value)} cannot be used")
                    continue
                getattr(settings, key)[name] = read_value
        for name, by in list(settings.shift.items()):
            try:
                for dist in controls.parameters[name].dists:
                    _shifted(dist, by)
            except (DistributionError, ValueError, OverflowError) as error:
                notes.append(f"ignored shift.{name}: {error}")
                del settings.shift[name]
        # A value equal to the scenario's own is no change.
        for key in ("trials", "horizon"):
            if getattr(settings, key) == getattr(controls.scenario, key):
                setattr(settings, key, None)
        # A policy switched to what it already is, is no change.
        for name, on in list(settings.enabled.items()):
            if on == controls.policies[name].enabled:
                del settings.enabled[name]
        return settings, notes


def _show(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = _finite(value)
    if number is None or not number.is_integer() or abs(number) > 2**62:
        return None
    return int(number)


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    readable = isinstance(value, str) and len(value) < 40 and _NUMBER.match(value)
    if not (isinstance(value, int | float) or readable):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"1": True, "0": False, "true": True, "false": False}.get(str(value).lower())


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return number_text(value) if math.isfinite(float(value)) else None
    if isinstance(value, str) and value.strip() and len(value) <= MAX_TEXT:
        return value.strip()
    return None


def _quantile(value: Any) -> float | None:
    number = _finite(value)
    return number if number is not None and 0 <= number <= 1 else None


def _day(value: Any) -> int | None:
    day = _whole(value)
    return day if day is not None and 0 <= day <= 100_000 else None


def _exact_text(value: Any) -> str:
    """A number as the shortest text that reads back as the same number (for the URL)."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


# --- from settings to changed fields ----------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field the settings write: a dotted path (as an experiment names it) and its value.

    ``quantile`` marks a whole parameter fixed at a quantile (the sweep's quantile form);
    ``note`` says in words what was changed, for the exported file's header.
    """

    path: str
    value: Any
    note: str
    quantile: bool = False


@dataclass(frozen=True)
class AddedPolicy:
    """A concede policy the page adds, where a grantor has none of its own to set."""

    name: str
    policy: dict[str, Any]
    note: str


def _expr(text: str) -> Any:
    """Text typed in a field: a number is written as a number, anything else as expression."""
    number = _finite(text)
    if number is not None:
        return int(number) if number.is_integer() and abs(number) < 1e15 else number
    return text


def changes(controls: Controls, settings: Settings) -> tuple[list[Change], list[AddedPolicy]]:
    """The fields the settings write, and the policies they add, in a fixed order."""
    scenario = controls.scenario
    found: list[Change] = []
    added: list[AddedPolicy] = []
    if settings.horizon is not None and settings.horizon != scenario.horizon:
        found.append(
            Change("horizon", settings.horizon, f"horizon {scenario.horizon} -> {settings.horizon}")
        )
    if settings.trials is not None and settings.trials != scenario.trials:
        found.append(
            Change("trials", settings.trials, f"trials {scenario.trials} -> {settings.trials}")
        )
    granted = _granted_policies(controls, settings)
    for name, control in controls.policies.items():
        if name in settings.enabled and name not in granted:
            on = settings.enabled[name]
            found.append(
                Change(
                    f"policies.{name}.enabled",
                    on,
                    f"policy {name} switched {'on' if on else 'off'}",
                )
            )
        for key in ("follow_through", "perceived"):
            if name in getattr(settings, key) and not (key == "follow_through" and name in granted):
                text = getattr(settings, key)[name]
                written = getattr(control, key)
                before = written.text or "the follow-through"
                found.append(
                    Change(
                        f"policies.{name}.{key}",
                        _expr(text),
                        f"policy {name}: {key} {before} -> {text}",
                    )
                )
    for name, control in controls.parameters.items():
        shift = settings.shift.get(name)
        q = settings.quantile.get(name)
        if shift is not None and shift != 0:
            dists = tuple(_shifted(dist, shift) for dist in control.dists)
        else:
            shift, dists = None, control.dists
        if q is not None:
            values = [float(dist.ppf(np.array([q]))[0]) for dist in dists]
            fixed = ", ".join(number_text(v) for v in values)
            if shift is None:
                found.append(
                    Change(
                        f"parameters.{name}",
                        q,
                        f"parameter {name} fixed at its {number_text(q)} quantile ({fixed})",
                        quantile=True,
                    )
                )
                continue
            dists = tuple(Constant(v) for v in values)  # shifted, then fixed: plain values
        if shift is None and q is None:
            continue
        how = f"shifted by {number_text(shift)}" if shift is not None else ""
        if q is not None:
            how += f", then fixed at its {number_text(q)} quantile"
        for index, dist in enumerate(dists):
            if control.days is None:
                path, before = f"parameters.{name}.dist", control.text
            else:
                path = f"parameters.{name}.path.{index}.1"
                before = f"{control.written[index]} (day {control.days[index]})"
            found.append(
                Change(path, _dist_value(dist), f"parameter {name} {how}: {before} -> {dist}")
            )
    for demand, day in sorted(settings.grant.items()):
        control = controls.demands[demand]
        traded = f" (with {', '.join(d for d in control.group if d != demand)}, its trade)"
        for grant in control.grants:
            what = f"demand {demand} granted on day {day}" + (
                traded if len(control.group) > 1 else ""
            )
            if not grant.policies:
                added.append(
                    AddedPolicy(
                        grant.added_policy,
                        {
                            "actor": grant.grantor,
                            "when": f"day >= {day}",
                            "do": {"concede": grant.demand},
                            "hazard": 1,
                            "source": f"escalation explore: {what}",
                        },
                        f"{what}: added policy {grant.added_policy} ({grant.grantor} concedes "
                        f"{grant.demand} from day {day})",
                    )
                )
                continue
            for policy in grant.policies:
                note = (
                    f"{what}: policy {policy} concedes it from day {day} (when day >= {day}, "
                    "hazard 1, follow_through 1, enabled)"
                )
                for key, value in (
                    ("when", f"day >= {day}"),
                    ("hazard", 1),
                    ("follow_through", 1),
                    ("enabled", True),
                ):
                    found.append(Change(f"policies.{policy}.{key}", value, note))
    return found, added


def _granted_policies(controls: Controls, settings: Settings) -> set[str]:
    return {
        policy
        for demand in settings.grant
        for grant in controls.demands[demand].grants
        for policy in grant.policies
    }


def _shifted(dist: Distribution, by: float) -> Distribution:
    """The distribution moved by ``by`` (every draw plus ``by``); its family must allow it."""
    fields = SHIFTED_FIELDS[type(dist)]
    return dataclasses.replace(dist, **{f: getattr(dist, f) + by for f in fields})


def _dist_value(dist: Distribution) -> Any:
    """A distribution as a scenario writes it: a constant as a plain number."""
    if isinstance(dist, Constant):
        return float(dist.value)
    return str(dist)


def apply_changes(
    raw: dict[str, Any], validated: dict[str, Any], found: list[Change], added: list[AddedPolicy]
) -> dict[str, Any]:
    """A copy of the scenario as read (``raw``) with the changes written.

    Paths are resolved against ``validated`` (the scenario as validated, every default filled
    in) by :func:`~escalation.sweeps.variables.make_target`, as a sweep resolves them, and
    written into the data as read, so the exported file keeps what its author wrote.
    """
    data = _plain_copy(raw)
    for index, change in enumerate(found):
        if change.path == "trials":
            data["trials"] = change.value
            continue
        try:
            target = make_target(
                f"change_{index}", validated, change.path, quantile=change.quantile
            )
        except (PathError, DistributionError, ValueError) as error:
            raise ValueError(f"{change.path}: {error}") from None
        target.apply(data, change.value)
    if added:
        policies = data.setdefault("policies", {})
        if not isinstance(policies, dict):
            raise ValueError("policies: not a mapping")
        for policy in added:
            policies[policy.name] = copy.deepcopy(policy.policy)
    return data


def _plain_copy(value: Any) -> Any:
    """A copy that shares nothing (YAML aliases become separate values, so editing one field
    never edits another)."""
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_copy(item) for item in value]
    return value


def variable_name(path: str, taken: set[str]) -> str:
    """A valid, unused experiment variable name for a dotted path."""
    words = path.split(".")
    if words[0] in ("policies", "parameters") and len(words) > 1:
        words = words[1:]
    base = re.sub(r"[^a-z0-9_]", "_", "_".join(words).lower()).strip("_") or "change"
    if not base[0].isalpha():
        base = "v_" + base
    base = base[:60]
    name, k = base, 2
    while name in taken or not _NAME.match(name):
        name, k = f"{base[:56]}_{k}", k + 1
    taken.add(name)
    return name
