"""The headless Chromium of ``shared/tools/browser/setup.sh``, for the browser tests.

Tests that drive a page take :func:`browser_context`; it skips them, saying why, where
Playwright or the browser is absent, so that they run wherever both are installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CACHE = Path.home() / ".cache" / "escalation-browser"
#: How long any wait of a browser test may take, in milliseconds.
TIMEOUT_MS = 120_000


def chromium_or_skip() -> tuple[Any, str, list[str]]:
    """Playwright's ``sync_playwright``, the Chromium binary and its arguments, or a skip."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install playwright)")
    path_file = CACHE / "chromium-path"
    if not path_file.is_file():
        pytest.skip("no headless Chromium: run shared/tools/browser/setup.sh once")
    executable = path_file.read_text().strip()
    if not Path(executable).is_file():
        pytest.skip(f"the Chromium binary {executable} is gone: run setup.sh again")
    args = json.loads((CACHE / "chromium-args.json").read_text())
    return sync_playwright, executable, args


@contextmanager
def browser_context(**options: Any) -> Iterator[Any]:
    """One browser context for a module's pages (``options`` go to ``new_context``).

    Pages are not closed: this Chromium runs in a single process, which closing a page can end.
    """
    sync_playwright, executable, args = chromium_or_skip()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=args)
        try:
            context = chromium.new_context(**options)
            # Generous waits: a page under a loaded CI machine (every core busy with other
            # tests) can take far longer than Playwright's default of 30 s to reload.
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            chromium.close()
