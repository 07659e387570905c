"""The Python API: run, sweep and compare are callables of the package; no import cycles."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT.parent / "shared" / "tools" / "import_cycles.py"


def test_sweep_is_a_function_like_run_and_compare(tmp_path: Path) -> None:
    import escalation
    import escalation.api
    import escalation.sweeps

    # Importing the sweep machinery, any module of it, must not rebind the function.
    for module in pkgutil.iter_modules(escalation.sweeps.__path__, "escalation.sweeps."):
        importlib.import_module(module.name)
    assert inspect.isfunction(escalation.sweep) and escalation.sweep is escalation.api.sweep
    assert inspect.isfunction(escalation.run) and inspect.isfunction(escalation.compare)
    params = inspect.signature(escalation.sweep).parameters
    assert list(params)[:3] == ["experiment", "trials", "out"]
    from escalation import sweep

    path = tmp_path / "one.yaml"
    path.write_text(
        f"""
name: one
scenario: {(ROOT / "scenarios" / "dec2021.yaml").as_posix()}
design: grid
trials: 50
metrics: [p:settlement]
variables:
  severity: {{path: parameters.us_sanctions_severity.dist, values: [0.2]}}
"""
    )
    result = sweep(path)
    assert type(result).__name__ == "SweepResult"
    assert escalation.sweeps.runner.SweepResult is type(result)


def test_import_escalation_stays_light() -> None:
    code = "import sys, escalation; print('escalation.sweeps' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(
    not TOOL.is_file(), reason="the shared import-cycle tool is not beside the repo"
)
def test_no_import_cycle_touches_the_api_or_the_sweeps_package() -> None:
    out = subprocess.run(
        [sys.executable, str(TOOL), "escalation"], capture_output=True, text=True, cwd=ROOT
    )
    cycles = out.stdout
    named = set(cycles.replace(";", " ").replace(":", " ").split())
    mine = ("api", "sweeps", "engine", "charts", "analysis", "discover")
    for module in named:
        assert not module.startswith(tuple(f"escalation.{m}" for m in mine)), cycles
