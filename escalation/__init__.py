"""escalation: play an international crisis forward as a vectorized agent-based model.

The Python API mirrors the command line: :func:`run` plays a scenario and returns a
:class:`~escalation.engine.results.RunResult`; :func:`sweep` plays an experiment file;
:func:`compare` plays several scenarios with common random numbers; :func:`load_scenario` reads
and checks a file. The machinery of sweeps and comparisons lives in :mod:`escalation.sweeps`
(a package named apart from the :func:`sweep` function, so importing it never rebinds it).

The names are imported on first use, so that ``import escalation`` (and the command line's
start-up) does not load numpy, pandas and Mesa before they are needed.
"""

from __future__ import annotations

from escalation.lazy import lazy_exports

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "InputError": "escalation.scenario.yamlio",
    "RunResult": "escalation.engine.results",
    "compare": "escalation.api",
    "load_scenario": "escalation.scenario.load",
    "run": "escalation.api",
    "sweep": "escalation.api",
}

__all__ = ["InputError", "RunResult", "__version__", "compare", "load_scenario", "run", "sweep"]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
