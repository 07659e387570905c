"""escalation: play an international crisis forward as a vectorized agent-based model.

The Python API mirrors the command line: :func:`run` plays a scenario and returns a
:class:`~escalation.engine.results.RunResult`; :func:`load_scenario` reads and checks a file.
"""

__version__ = "0.1.0"

from escalation.api import run  # noqa: E402
from escalation.engine.results import RunResult  # noqa: E402
from escalation.scenario.load import load_scenario  # noqa: E402
from escalation.scenario.yamlio import InputError  # noqa: E402

__all__ = ["InputError", "RunResult", "__version__", "load_scenario", "run"]
