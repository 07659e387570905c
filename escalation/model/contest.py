"""The contest success function: the chance that an attack of strength a beats a defence d."""

from __future__ import annotations

import numpy as np


def contest(attack: np.ndarray, defence: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Contest success function ``a^k / (a^k + d^k)``; 0 when both sides are 0.

    Computed as ``1 / (1 + (d / a)^k)``: one power instead of two, and a zero on either side
    gives the right limit (0 or 1) through infinities rather than special cases.
    """
    attack = np.maximum(attack, 0.0)
    defence = np.maximum(defence, 0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = 1.0 / (1.0 + np.power(defence / attack, k))
    # 0/0 (no forces on either side) and inf/inf (absurd forces) are undefined: the side with
    # the larger force wins, and nobody wins with nothing.
    undefined = np.isnan(p)
    if undefined.any():
        p[undefined] = (attack > defence)[undefined]
    return p
