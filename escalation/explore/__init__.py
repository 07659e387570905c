"""``escalation explore``: a live what-if page over one scenario.

:mod:`~escalation.explore.settings` and :mod:`~escalation.explore.document` say what the page
can change and write it into a scenario (no web framework needed); :mod:`~escalation.explore.
replay` plays changed scenarios with common random numbers in a background thread, with
progress and cancellation; :mod:`~escalation.explore.app` is the Dash page itself, imported
only by :func:`serve` (Dash is the ``explore`` extra).
"""

from __future__ import annotations

import importlib.util

#: What to install when Dash is missing.
INSTALL_HINT = 'pip install "escalation[explore]"'


def missing() -> str | None:
    """The name of a missing package the page needs, or None when all are installed."""
    for module in ("dash", "flask"):
        if importlib.util.find_spec(module) is None:
            return module
    return None
