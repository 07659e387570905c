"""Views of the model's environment (the names expressions read) for evaluating on a subset.

Expressions are elementwise: a trial's value depends only on that trial's inputs. So a few
trials (those deciding today, those a hazard may touch) can be evaluated on their own, with
exactly the values they would get over the whole block, at the cost of those few trials.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class Subset(dict):
    """The environment restricted to the trials ``idx``: each array is indexed on first use.

    Expressions are elementwise, so one evaluated on a subset gives each of its trials
    exactly the value it has over the whole block, at the cost of the few trials.
    """

    def __init__(self, env: Mapping[str, object], idx: np.ndarray) -> None:
        super().__init__()
        self.env = env
        self.idx = idx

    def __missing__(self, key: str) -> object:
        value = self.env[key]
        if isinstance(value, np.ndarray):
            value = value[self.idx]
        self[key] = value
        return value


class Overlay(dict):
    """A few names replaced on top of another environment (the challenger on another rung)."""

    def __init__(self, base: Mapping[str, object], changes: dict[str, object]) -> None:
        super().__init__(changes)
        self.base = base

    def __missing__(self, key: str) -> object:
        return self.base[key]


def column(value: np.ndarray | float | bool, m: int) -> np.ndarray:
    """A value over ``m`` trials as a contiguous float array, a scalar repeated.

    Contiguous like the fancy-indexed slice of a full array, so that numpy takes the same
    (SIMD) loop for transcendental functions and the digits do not depend on the path.
    """
    if isinstance(value, np.ndarray) and value.ndim:
        return value.astype(float, copy=False)
    return np.full(m, value, dtype=float)
