"""Numbers from a Monte Carlo run: outcome shares, timing, survival and drivers.

This layer only reads the DataFrames produced by the engine (``trials`` and
``timeline``); it never imports the model, engine or scenario packages.  All
functions are pure and vectorized and never return NaN or inf (see each
docstring for the sentinel used when a quantity is undefined).
"""

from escalation.analysis.drivers import (
    DUMMY,
    drivers,
    indicator,
    parameter_columns,
    pawn_indices,
    type_columns,
    type_outcomes,
)
from escalation.analysis.intervals import (
    median_interval,
    newcombe_difference,
    wilson_interval,
    z_value,
)
from escalation.analysis.summary import (
    cumulative_incidence,
    median_day,
    outcome_summary,
    survival,
    timing_summary,
)

__all__ = [
    "DUMMY",
    "cumulative_incidence",
    "drivers",
    "indicator",
    "median_day",
    "median_interval",
    "newcombe_difference",
    "outcome_summary",
    "parameter_columns",
    "pawn_indices",
    "survival",
    "timing_summary",
    "type_columns",
    "type_outcomes",
    "wilson_interval",
    "z_value",
]
