"""The ``escalation`` console script: quiet interrupts from the first instant, then the app.

A Ctrl-C or SIGTERM that arrives while the command line is still being imported ends the
process at once with status 130 and one line instead of a traceback: nothing has been
written yet. Once a command runs, :func:`escalation.cli.reported` takes over and unwinds
through the atomic writers. This module imports nothing but the standard library before it
installs its handlers.
"""

from __future__ import annotations

import os
import signal
import threading

#: Exit status of an interrupted command (128 + SIGINT, as shells report it).
INTERRUPTED = 130


def _quit(signum: int, frame: object) -> None:
    """Leave at once: only reached before a command runs, when nothing was written."""
    os.write(2, b"interrupted: no results were written\n")
    os._exit(INTERRUPTED)


def main() -> None:
    """Run the command line with quiet interrupts from the start."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _quit)
        signal.signal(signal.SIGTERM, _quit)
    from escalation.cli import app

    app(prog_name="escalation")


if __name__ == "__main__":
    main()
