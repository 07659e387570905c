"""Playing one case: the evaluator the executors call, light enough for a worker to import."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from escalation.engine.blocks import block_specs, play_blocks
from escalation.scenario.check import ScenarioValueError
from escalation.scenario.schema import Scenario


@dataclass(frozen=True)
class CasePlayer:
    """Plays one case of a list in the calling process: the evaluator given to the executors.

    Returns the number of trials ending in each outcome class (``count:<outcome>``) and the
    seconds it took; a value the model cannot use (a NaN while playing) comes back as
    ``error`` and ``error_loc``, since located errors do not cross process boundaries.
    """

    scenarios: tuple[Scenario, ...]

    def __call__(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """Play the case ``point["case"]``."""
        scenario = self.scenarios[int(point["case"])]
        started = time.perf_counter()
        try:
            blocks = play_blocks(scenario, block_specs(scenario.trials, scenario.seed))
        except ScenarioValueError as error:
            return {"error": error.message, "error_loc": list(error.loc)}
        codes = np.concatenate([block.outcome for block in blocks])
        counts = np.bincount(codes, minlength=len(scenario.outcomes))
        found: dict[str, Any] = {
            f"count:{name}": int(count)
            for name, count in zip(scenario.outcomes, counts, strict=True)
        }
        found["seconds"] = time.perf_counter() - started
        return found
