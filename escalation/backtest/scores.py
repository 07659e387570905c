"""The scoring rules and case subsets of a backtest, and its bootstrap settings.

Kept apart from the runner so that the report can name them without importing the runner.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bootstrap over cases for the skill scores' intervals: resamples and fixed seed.
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
#: Equal-width bins of the reliability diagram.
RELIABILITY_BINS = 5


@dataclass(frozen=True)
class Score:
    """A scoring rule of the backtest (lower is better)."""

    name: str
    label: str
    description: str
    over_classes: bool


#: The scores, in report order.
SCORES: dict[str, Score] = {
    score.name: score
    for score in (
        Score("brier", "Brier", "Brier score over the outcome classes (0 best, 2 worst)", True),
        Score(
            "log",
            "log score",
            "log score over the outcome classes, in nats, probabilities floored at 1/(2 trials)",
            True,
        ),
        Score("binary_brier", "Brier (yes/no)", "Brier score of the yes/no event (0-1)", False),
        Score(
            "binary_log",
            "log score (yes/no)",
            "log score of the yes/no event, in nats, floored at 1/(2 trials)",
            False,
        ),
    )
}

#: The subsets of cases scores are given over.
SUBSETS: dict[str, str] = {
    "all": "all cases",
    "before_outcome": "cases written before their outcome",
}
