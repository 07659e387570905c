"""Dotted paths into a scenario, and how a design's value is written there.

An experiment varies a scenario by naming a field with a dotted path, such as
``policies.blue_sanctions.do.sanction.severity`` or ``parameters.red_lambda.dist``.
Paths are resolved against the scenario as validated (every field present, defaults filled
in), so a field the file left at its default (``policies.X.enabled``) can be varied too.
List items are named by position (``parameters.forces.path.1.1``) or, for the ladder, by a
rung's ``id`` (``ladder.invasion.cost``).

A :class:`Target` turns a value from a design into what is written: the value itself; the
text of a ``format`` template with ``{x}`` replaced by the value (arithmetic in a
distribution's arguments, such as ``beta(0.3*10, (1-0.3)*10)``, is folded to numbers); or,
for ``quantile`` variables, the parameter's value at that quantile of its distribution, fixed
for the whole point.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from escalation.scenario.conditions import ExpressionError, Namespace, compile_expression
from escalation.scenario.distributions import Distribution, parse_distribution

#: Scenario fields an experiment sets itself, so a variable may not name them.
RESERVED_PATHS = ("trials", "seed")

_ARGUMENTS = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s*\((.*)\)\s*$", re.DOTALL)
_EMPTY = Namespace()


class PathError(ValueError):
    """A dotted path that does not name a field of the scenario; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where one variable writes in a scenario, and how a design value becomes that value.

    Attributes:
        name: the variable's name in the experiment.
        parts: the resolved path, with list positions as integers.
        template: a ``format`` template holding ``{x}``, or None.
        quantile: for a quantile variable, the distribution of each value of the parameter
            (one for ``dist``, one per point of a ``path``); else None.
        distribution_text: whether the field holds distribution text (then arithmetic in a
            formatted value's arguments is folded to numbers).
    """

    name: str
    parts: tuple[str | int, ...]
    template: str | None = None
    quantile: tuple[Distribution, ...] | None = None
    path_days: tuple[int, ...] | None = None
    distribution_text: bool = False

    def written(self, value: Any) -> Any:
        """The value this variable writes into the scenario for the design value ``value``."""
        if self.quantile is not None:
            q = np.array([float(value)])
            numbers = [float(dist.ppf(q)[0]) for dist in self.quantile]
            if self.path_days is None:
                return {"dist": numbers[0]}
            return {"path": [[day, x] for day, x in zip(self.path_days, numbers, strict=True)]}
        if self.template is None:
            return value
        text = self.template.replace("{x}", number_text(value))
        return fold_arguments(text) if self.distribution_text else text

    def apply(self, data: dict[str, Any], value: Any) -> None:
        """Write the value for ``value`` into ``data`` (scenario data, changed in place).

        Tuples on the way (a path's ``[day, value]`` points, as validated) become lists, so
        that an item such as ``parameters.forces.path.1.1`` can be written.
        """
        holder: Any = data
        for part in self.parts[:-1]:
            if isinstance(holder[part], tuple):
                holder[part] = list(holder[part])
            holder = holder[part]
        written = self.written(value)
        if self.quantile is not None:
            holder[self.parts[-1]].update(written)
        else:
            holder[self.parts[-1]] = written


def number_text(value: Any) -> str:
    """Text of a number for a scenario field: 10 significant digits, integers without a point,
    booleans as YAML writes them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15:
            return str(int(number))
        return format(number, ".10g")
    return str(value)


def fold_arguments(text: str) -> str:
    """Fold arithmetic in the arguments of distribution text: ``beta(3*2, 1+1)`` -> ``beta(6, 2)``.

    Each argument (and each keyword's value) is read with the scenario expression grammar, so
    nothing is evaluated by Python itself. Text that is not ``name(arguments)`` is returned
    as it is; an argument that is not constant arithmetic raises :class:`ValueError`.
    """
    match = _ARGUMENTS.match(text)
    if not match:
        return text.strip()
    name, inside = match.groups()
    folded = []
    for argument in _split_arguments(inside):
        key, sep, expr = argument.partition("=")
        if not sep:
            key, expr = "", argument
        try:
            value = compile_expression(expr.strip(), _EMPTY, expect="number")({})
        except ExpressionError as error:
            raise ValueError(f"cannot compute {expr.strip()!r} in {text!r}: {error}") from None
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{expr.strip()!r} in {text!r} is not a finite number")
        folded.append(f"{key.strip()}={number_text(number)}" if sep else number_text(number))
    return f"{name}({', '.join(folded)})"


def _split_arguments(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip() or parts:
        parts.append(current)
    return [part for part in parts if part.strip()]


def resolve_path(data: Mapping[str, Any], path: str) -> tuple[str | int, ...]:
    """Resolve a dotted path against scenario data; raise :class:`PathError` if it names nothing.

    The path must end at a single field (a number, text, a flag), not at a group of fields.
    """
    words = path.split(".")
    if words[0] in RESERVED_PATHS and len(words) == 1:
        raise PathError(f"'{path}' is set by the experiment itself (its trials and seed)")
    parts: list[str | int] = []
    holder: Any = data
    for word in words:
        where = ".".join(str(p) for p in parts) or "the scenario"
        if isinstance(holder, Mapping):
            if word not in holder:
                raise PathError(f"{where} has no field '{word}'{_suggest(word, holder)}")
            parts.append(word)
            holder = holder[word]
        elif isinstance(holder, list | tuple):
            index = _list_index(holder, word)
            if index is None:
                ids = [item.get("id") for item in holder if isinstance(item, Mapping)]
                hint = f"; use a position 0-{len(holder) - 1}"
                if any(ids):
                    hint += f" or a rung id ({', '.join(str(i) for i in ids if i)})"
                raise PathError(f"{where} has no item '{word}'{hint}")
            parts.append(index)
            holder = holder[index]
        else:
            raise PathError(f"{where} is a single value; it has no field '{word}'")
    if isinstance(holder, Mapping):
        raise PathError(
            f"'{path}' is a group of fields; name one of them: {', '.join(map(str, holder))}"
        )
    if isinstance(holder, list | tuple):
        raise PathError(f"'{path}' is a list; name one item by position (e.g. '{path}.0')")
    return tuple(parts)


def _list_index(items: list[Any] | tuple[Any, ...], word: str) -> int | None:
    if word.isdigit():
        index = int(word)
        return index if index < len(items) else None
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and item.get("id") == word:
            return index
    return None


def _suggest(word: str, options: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, [str(k) for k in options], n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    names = [str(k) for k in options]
    if len(names) <= 12:
        return f"; it has: {', '.join(names)}" if names else ""
    return ""


def parameter_target(
    name: str, data: Mapping[str, Any], path: str
) -> tuple[tuple[str | int, ...], tuple[Distribution, ...], tuple[int, ...] | None]:
    """Resolve ``parameters.<name>`` for a quantile variable: its parts, distributions, days."""
    words = path.split(".")
    if len(words) != 2 or words[0] != "parameters":
        raise PathError(
            f"a quantile variable names a whole parameter, as 'parameters.<name>' (got '{path}')"
        )
    parameters = data.get("parameters", {})
    if words[1] not in parameters:
        raise PathError(
            f"the scenario has no parameter '{words[1]}'{_suggest(words[1], parameters)}"
        )
    parameter = parameters[words[1]]
    if parameter.get("path") is not None:
        days = tuple(int(day) for day, _ in parameter["path"])
        dists = tuple(parse_distribution(dist) for _, dist in parameter["path"])
    else:
        days = None
        dists = (parse_distribution(parameter["dist"]),)
    if all(dist.is_constant for dist in dists):
        what = "a path of constants" if days else f"the constant {parameter.get('dist')}"
        raise PathError(
            f"parameter '{words[1]}' is {what}; a quantile of it varies nothing: vary "
            f"'parameters.{words[1]}.dist' by values or a range instead"
        )
    return ("parameters", words[1]), dists, days


def make_target(
    name: str,
    data: Mapping[str, Any],
    path: str,
    template: str | None = None,
    quantile: bool = False,
) -> Target:
    """The :class:`Target` of a variable, resolved against scenario data."""
    if quantile:
        parts, dists, days = parameter_target(name, data, path)
        return Target(name=name, parts=parts, quantile=dists, path_days=days)
    parts = resolve_path(data, path)
    distribution_text = (
        len(parts) >= 3
        and parts[0] == "parameters"
        and (parts[2] == "dist" or (parts[2] == "path" and len(parts) == 5 and parts[4] == 1))
    )
    return Target(name=name, parts=parts, template=template, distribution_text=distribution_text)


def apply_point(
    base: Mapping[str, Any], targets: Mapping[str, Target], point: Mapping[str, Any]
) -> dict[str, Any]:
    """A copy of scenario data with each variable of ``point`` written (None: left as it is)."""
    data = copy.deepcopy(dict(base))
    for name, value in point.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        targets[name].apply(data, value)
    return data
