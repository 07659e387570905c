"""Evaluating one point: a scenario with the point's values written in, played, measured.

A sweep's executor calls an *evaluator*: any picklable callable that takes a point (a mapping
from variable name to value) and returns a flat mapping of numbers. :class:`ScenarioEvaluator`
is the one for scenarios; a test can pass another (the Ishigami function) through the same
designs, executors and analysis.

Common random numbers: every point is played with the same seed and trial count, so trial
``i`` of every point starts from the same random stream. The engine's draw layout keeps the
streams aligned when inputs change: every parameter consumes exactly ``n`` uniforms whatever
its distribution, and a disabled policy still consumes its row of draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from escalation.engine.blocks import block_specs, play_blocks
from escalation.model.records import BlockResult
from escalation.scenario.load import scenario_from_dict
from escalation.scenario.schema import Scenario
from escalation.sweeps.metrics import Metric, compute_metrics
from escalation.sweeps.variables import Target, apply_point


@dataclass(frozen=True)
class ScenarioEvaluator:
    """Plays a scenario at a point of a design and returns the point's metrics.

    Each point is played in the calling process, block after block, with the given seed and
    trials (so the numbers do not depend on where or in which order points are evaluated).
    """

    base: Mapping[str, Any]
    targets: Mapping[str, Target]
    metrics: tuple[Metric, ...]
    trials: int
    seed: int
    level: float = 0.95
    #: Categorical records and their values, for ``share:`` metrics.
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_experiment(cls, loaded) -> ScenarioEvaluator:
        """The evaluator of a :class:`~escalation.sweeps.experiment.LoadedExperiment`."""
        return cls(
            base=loaded.base,
            targets=loaded.targets,
            metrics=tuple(loaded.metrics),
            trials=loaded.trials,
            seed=loaded.seed,
            categories={k: tuple(v) for k, v in loaded.words.categories.items()},
        )

    def scenario(self, point: Mapping[str, Any]) -> Scenario:
        """The point's scenario, validated, with the evaluator's trials and seed."""
        data = apply_point(self.base, self.targets, point)
        data["trials"], data["seed"] = self.trials, self.seed
        return scenario_from_dict(data, file="<sweep point>")

    def play(self, point: Mapping[str, Any]) -> tuple[Scenario, list[BlockResult]]:
        """Play every trial of the point in this process."""
        scenario = self.scenario(point)
        return scenario, play_blocks(scenario, block_specs(self.trials, self.seed), workers=1)

    def __call__(self, point: Mapping[str, Any]) -> dict[str, float]:
        """The point's metrics, each with its interval."""
        scenario, blocks = self.play(point)
        return compute_metrics(
            self.metrics,
            scenario.outcomes,
            scenario.violent_outcomes,
            blocks,
            self.level,
            self.categories,
        )
