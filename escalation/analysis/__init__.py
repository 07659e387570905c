"""Numbers from a Monte Carlo run: outcome shares, timing, survival and drivers.

This layer only reads the DataFrames produced by the engine (``trials`` and
``timeline``); it never imports the model, engine or scenario packages.  All
functions are pure and vectorized and never return NaN or inf (see each
docstring for the sentinel used when a quantity is undefined).
"""

from escalation.analysis.drivers import (
    DUMMY,
    DriverCounts,
    Thirds,
    drivers,
    indicator,
    parameter_columns,
    pawn_indices,
    thirds,
    type_columns,
    type_outcomes,
    type_outcomes_counts,
)
from escalation.analysis.intervals import (
    median_interval,
    median_interval_counts,
    newcombe_difference,
    wilson_interval,
    z_value,
)
from escalation.analysis.summary import (
    cumulative_incidence,
    cumulative_incidence_counts,
    median_day,
    outcome_summary,
    outcome_summary_counts,
    survival,
    survival_counts,
    timing_summary,
    timing_summary_counts,
)

__all__ = [
    "DUMMY",
    "DriverCounts",
    "Thirds",
    "cumulative_incidence",
    "cumulative_incidence_counts",
    "drivers",
    "indicator",
    "median_day",
    "median_interval",
    "median_interval_counts",
    "newcombe_difference",
    "outcome_summary",
    "outcome_summary_counts",
    "parameter_columns",
    "pawn_indices",
    "survival",
    "survival_counts",
    "thirds",
    "timing_summary",
    "timing_summary_counts",
    "type_columns",
    "type_outcomes",
    "type_outcomes_counts",
    "wilson_interval",
    "z_value",
]
