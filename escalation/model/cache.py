"""The model's environment and a cache of expression values that knows when they go stale.

Expressions read names from the environment (``day``, parameters, ``red.rung`` ...). A value is
computed again only when a name it reads has changed: whoever changes an array of the
environment in place calls :meth:`ExpressionCache.touch` with its name. Equal expressions share
one value, and those that read only parameters fixed for the block are computed once.
"""

from __future__ import annotations

import numpy as np

from escalation.model.environment import Subset
from escalation.scenario.conditions import Expression


class Memo:
    """The value of one expression over all trials, kept until a name it reads changes."""

    __slots__ = ("fixed", "stale", "value", "version")

    def __init__(self, fixed: bool) -> None:
        self.fixed = fixed  # reads only parameters fixed for the block
        self.stale = True
        self.value: np.ndarray | float | bool = 0.0
        self.version = 0  # how many times it was computed: a change for those who copy it


class ExpressionCache:
    """The environment of a block (``env``) and the cached values of expressions on it.

    Args:
        env: the names expressions read, mapped to scalars or arrays over the block's trials.
        fixed: names whose values never change during the block (parameters without a path).
    """

    def __init__(self, env: dict[str, object], fixed: frozenset[str]) -> None:
        self.env = env
        self.fixed = fixed
        self._version: dict[str, int] = {}
        self._readers: dict[str, list[Memo]] = {}
        self._memo: dict[int, tuple[Expression, Memo]] = {}
        self._by_text: dict[Expression, Memo] = {}

    def declare(self, name: str) -> None:
        """Make ``name`` a name whose changes are tracked (every name not fixed)."""
        self._version.setdefault(name, 0)
        self._readers.setdefault(name, [])

    def touch(self, name: str) -> None:
        """Record that the value of ``name`` in the environment has changed.

        Every change to an array of the environment must be followed by a touch: cached
        values of the expressions that read it are then computed again when next asked for.
        """
        self._version[name] += 1
        for memo in self._readers[name]:
            memo.stale = True

    def version(self, name: str) -> int:
        """How many times ``name`` has changed: a change for those who copy its value."""
        return self._version[name]

    def memo(self, expression: Expression) -> Memo:
        """The cached value of ``expression``, shared by every expression of the same text."""
        found = self._memo.get(id(expression))
        if found is None:
            memo = self._by_text.get(expression)
            if memo is None:
                changing = expression.names - self.fixed
                memo = self._by_text[expression] = Memo(not changing)
                for name in changing:
                    self._readers[name].append(memo)
            # Holding the expression keeps its id from being reused by another object.
            found = self._memo[id(expression)] = (expression, memo)
        return found[1]

    def value(self, expression: Expression) -> np.ndarray | float | bool:
        """The value of ``expression`` over all trials now, evaluated only if its inputs changed.

        The value is shared: callers must not modify it.
        """
        memo = self.memo(expression)
        if memo.stale:
            memo.value = expression(self.env)
            memo.stale = False
            memo.version += 1
        return memo.value

    def value_at(self, expression: Expression, sub: Subset) -> np.ndarray | float | bool:
        """The value of ``expression`` in the trials of ``sub``.

        Taken from today's value over all trials when that is current (always, for fixed
        parameters), else computed on those trials alone: expressions are elementwise, so
        either way each trial gets exactly the value it would have over the whole block.
        """
        memo = self.memo(expression)
        if memo.stale and not memo.fixed:
            return expression(sub)
        value = self.value(expression)
        return value[sub.idx] if isinstance(value, np.ndarray) else value

    def is_fixed(self, expression: Expression) -> bool:
        """Whether ``expression`` reads only names fixed for the block."""
        return not (expression.names - self.fixed)
