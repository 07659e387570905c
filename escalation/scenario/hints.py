"""Hints added to messages about expressions: what the writer most likely meant.

The expression grammar says precisely what it could not read ("unknown function 'beta'");
a hint says what to write instead, in the scenario's own terms: a distribution is drawn by a
parameter, a choice between two values is ``where()``, a decider's type is not readable.
Each hint is one entry of :data:`HINTS`: a pattern of the grammar's message and the line that
replaces it; :func:`with_hint` applies the first that matches to the message's first line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from escalation.scenario.distributions import DISTRIBUTION_NAMES


def _distribution(match: re.Match[str]) -> str | None:
    name = match.group(1)
    if name not in DISTRIBUTION_NAMES:
        return None
    return (
        f"{match.group(0)}: a distribution is drawn by a parameter, not inside an expression; "
        f"define one under 'parameters' (e.g. my_{name}: {{dist: \"{name}(...)\"}}) and write "
        "its name here"
    )


_CONDITIONAL_WORDS = ("if", "then", "else")


def _conditional(match: re.Match[str]) -> str | None:
    word = next((w for w in match.groups() if w in _CONDITIONAL_WORDS), None)
    if word is None:
        return None
    return (
        f"'{word}' is not a word of expressions, which have no if/else; write "
        "where(condition, value if true, value if false), e.g. where(day > 30, 0.1, 0)"
    )


def _reserved(match: re.Match[str]) -> str | None:
    if match.group(1) == "type":
        return (
            "'type' is a reserved name: no expression can read a decider's type; let each type "
            "change parameters through its 'overrides' (types.<name>.overrides)"
        )
    return "'trial' is a reserved name: no expression can depend on a trial's number"


#: (pattern of the grammar's first line, what replaces the whole line, or None for no hint).
HINTS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (re.compile(r"unknown function '([a-z_][a-z0-9_]*)'"), _distribution),
    (re.compile(r"^(?:unexpected|unknown) name '(\w+)'(?: after '(\w+)')?"), _conditional),
    (re.compile(r"unknown name '(type|trial)'"), _reserved),
)


def with_hint(message: str) -> str:
    """``message`` with its first line rewritten by the first matching hint.

    The rest of the message (a caret under the column at fault) stays as it is.
    """
    first, newline, rest = message.partition("\n")
    for pattern, hint in HINTS:
        match = pattern.search(first)
        line = hint(match) if match else None
        if line:
            return f"{line}{newline}{rest}"
    return message
