"""The casebook and its backtest: dated cases played and scored against what happened.

A casebook is a folder of scenario files with a ``case:`` block and an ``outcomes.yaml`` that
records what happened in each (see ``docs/casebook.md``). :func:`run_backtest` plays every
case as ``escalation run`` would and scores it, beside reference forecasts, with the proper
scoring rules of :mod:`escalation.analysis.scoring`.

Modules: :mod:`~.outcomes` (the outcomes file), :mod:`~.casebook` (a folder, checked),
:mod:`~.references` (ICB, uniform, published), :mod:`~.scores`, :mod:`~.play` (one case, in a
worker), :mod:`~.runner` (play and score), :mod:`~.report`. Names are imported on first use, so
that a worker playing a case imports only the engine.

>>> from escalation.backtest import run_backtest
>>> result = run_backtest("scenarios", trials=2000)       # doctest: +SKIP
>>> result.skill                                           # doctest: +SKIP
"""

from __future__ import annotations

from escalation.lazy import lazy_exports

#: Public names and the module each lives in.
_EXPORTS = {
    "BacktestResult": "escalation.backtest.runner",
    "run_backtest": "escalation.backtest.runner",
    "Case": "escalation.backtest.casebook",
    "Casebook": "escalation.backtest.casebook",
    "hindsight_errors": "escalation.backtest.casebook",
    "load_casebook": "escalation.backtest.casebook",
    "OutcomesFile": "escalation.backtest.outcomes",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
