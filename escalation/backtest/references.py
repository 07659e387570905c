"""Reference forecasts the model is scored against: ICB base rates, uniform, published.

Each reference is an entry of :data:`REFERENCES`: a function from a case to its forecast
(probabilities over the case's outcome classes and of its yes/no event, or None when the
reference says nothing about that case). Every reference is ex ante: the ICB table counts only
crises that had ended before the case's date, and a published forecast counts only if it is
dated on or before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from escalation.backtest.casebook import Case
from escalation.backtest.outcomes import icb_row


@dataclass(frozen=True)
class Forecast:
    """A reference's forecast for one case.

    Attributes:
        classes: probabilities over the case's outcome classes (scenario order), or None for a
            forecast of the yes/no event only.
        event: probability of the event (or a graver violent outcome) within the horizon.
        detail: what the forecast is, for the results (table used, source, date).
    """

    classes: np.ndarray | None
    event: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """A kind of reference forecast."""

    name: str
    label: str
    description: str
    forecast: Callable[[Case], Forecast | None]
    over_classes: bool = True


def event_probability(case: Case, classes: np.ndarray) -> float:
    """P(event or graver) from probabilities over the case's outcome classes."""
    outcomes = case.scenario.outcomes
    return float(sum(classes[outcomes.index(name)] for name in case.event_classes))


def icb_forecast(case: Case) -> Forecast | None:
    """ICB shares for the case's trigger, each ICB class's share split over its outcomes.

    ICB classes that stand for none of the case's outcome classes are left out and the rest
    renormalized: the forecast is conditional on the crisis ending in a class the case has. A
    trigger with few crises in the table is pooled with its group (see
    :func:`~escalation.backtest.outcomes.icb_row`).
    """
    spec = case.scenario.case
    assert spec is not None
    if spec.trigger is None or case.icb_table is None:
        return None
    row = icb_row(case.icb_table, spec.trigger)
    shares = row.shares()
    assert shares is not None  # checked when the casebook was loaded
    outcomes = case.scenario.outcomes
    classes = np.zeros(len(outcomes))
    for icb, names in spec.icb_classes.items():
        for name in names:
            classes[outcomes.index(name)] += shares[icb] / len(names)
    classes /= classes.sum()
    detail = {
        "table_ended_before": case.icb_table.ended_before.isoformat(),
        "trigger": spec.trigger,
        "crises_of": row.label,
        "pooled": row.pooled,
        "crises": row.crises,
        "counts": list(row.counts),
        "unmapped": sorted(set(shares) - {k for k, v in spec.icb_classes.items() if v}),
    }
    return Forecast(classes, event_probability(case, classes), detail)


def uniform_forecast(case: Case) -> Forecast:
    """Every outcome class equally likely; one half for the yes/no event.

    The event gets 1/2 rather than its share of the classes, which would depend on how finely
    the case's author split the violent outcomes.
    """
    k = len(case.scenario.outcomes)
    return Forecast(np.full(k, 1 / k), 0.5, {})


def published_forecast(case: Case) -> Forecast | None:
    """The latest forecast of the event published on or before the case's date, if any.

    Forecasts dated after the case's date are hindsight and are never used (``validate`` warns
    about them, ``--strict`` refuses them). Of forecasts on the same latest day, the last listed.
    """
    spec = case.scenario.case
    assert spec is not None
    usable = [(f.date, i, f) for i, f in enumerate(spec.published_forecasts) if f.date <= case.date]
    if not usable:
        return None
    _, index, chosen = max(usable, key=lambda item: (item[0], item[1]))
    detail = {
        "index": index,
        "source": chosen.source,
        "date": chosen.date.isoformat(),
        "note": chosen.note,
    }
    return Forecast(None, float(chosen.probability), detail)


#: The reference forecasts, in report order.
REFERENCES: dict[str, Reference] = {
    reference.name: reference
    for reference in (
        Reference(
            "icb",
            "ICB base rate",
            "Share of ICB crises with the case's trigger that reached each level of violence, "
            "among crises that had ended before the case's date (ICB v14, VIOL by BREAK; a "
            "trigger with fewer than 20 such crises pooled with its group), each ICB class's "
            "share split equally over the outcome classes it stands for.",
            icb_forecast,
        ),
        Reference(
            "uniform",
            "uniform",
            "Every outcome class equally likely; probability 1/2 for the yes/no event.",
            uniform_forecast,
        ),
        Reference(
            "published",
            "published forecast",
            "The latest forecast of the event published on or before the case's date, where "
            "the case records one (yes/no question only).",
            published_forecast,
            over_classes=False,
        ),
    )
}
