"""escalation: play an international crisis forward as a vectorized agent-based model.

The Python API mirrors the command line: :func:`run` plays a scenario and returns a
:class:`~escalation.engine.results.RunResult`; :func:`sweep` plays an experiment file;
:func:`compare` plays several scenarios with common random numbers; :func:`load_scenario` reads
and checks a file.
"""

__version__ = "0.1.0"

from escalation.api import compare, run, sweep
from escalation.engine.results import RunResult
from escalation.scenario.load import load_scenario
from escalation.scenario.yamlio import InputError

__all__ = ["InputError", "RunResult", "__version__", "compare", "load_scenario", "run", "sweep"]
