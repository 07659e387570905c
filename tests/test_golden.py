"""Golden test: the shipped scenario at a fixed seed gives exactly the stored numbers.

``scenarios/dec2021.yaml`` at seed 1 with 4096 trials must reproduce, byte for byte, the
``summary.csv`` stored in ``tests/golden/dec2021_seed1_4096.csv``, and the SHA-256 of its
trials' outcome column stored beside it. Any change to the engine, the random streams or the
scenario that moves a single trial fails this test. That is the point: such a change must be
deliberate. Regenerate the files with either of

    python tests/test_golden.py --update
    ESCALATION_UPDATE_GOLDEN=1 pytest tests/test_golden.py

(or ``pytest tests/test_golden.py --update-golden`` where tests/conftest.py declares that
option), and record the change and its reason in CHANGELOG.md under "Golden numbers".
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

import escalation

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "dec2021.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden"
SUMMARY = GOLDEN / "dec2021_seed1_4096.csv"
OUTCOME_HASH = GOLDEN / "dec2021_seed1_4096.outcome.sha256"
SEED = 1
TRIALS = 4096


def outcome_hash(result: escalation.RunResult) -> str:
    """SHA-256 of the trials' outcome names, one per line, in trial order."""
    text = "\n".join(result.trials["outcome"].astype(str)) + "\n"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def golden_run() -> tuple[bytes, str]:
    """The summary.csv bytes and outcome hash of the golden run, as RunResult.write makes them."""
    result = escalation.run(SCENARIO, trials=TRIALS, seed=SEED)
    with tempfile.TemporaryDirectory() as folder:
        data = (result.write(Path(folder) / "run") / "summary.csv").read_bytes()
    return data, outcome_hash(result)


def update() -> None:
    """Write the golden files from the current engine."""
    GOLDEN.mkdir(exist_ok=True)
    summary, digest = golden_run()
    SUMMARY.write_bytes(summary)
    OUTCOME_HASH.write_text(digest + "\n")
    print(f"wrote {SUMMARY.relative_to(ROOT)} and {OUTCOME_HASH.relative_to(ROOT)}")
    print("now record the change and its reason in CHANGELOG.md under 'Golden numbers'")


def wants_update(config: pytest.Config) -> bool:
    """Whether this run should rewrite the golden files instead of checking them."""
    return bool(os.environ.get("ESCALATION_UPDATE_GOLDEN")) or bool(
        config.getoption("--update-golden", default=False)
    )


def test_dec2021_matches_the_golden_summary(request: pytest.FixtureRequest) -> None:
    if wants_update(request.config):
        update()
    summary, digest = golden_run()
    expected = SUMMARY.read_bytes()
    assert summary == expected, (
        "dec2021 at seed 1, 4096 trials no longer gives the stored summary.\n"
        f"stored:\n{expected.decode()}\nnow:\n{summary.decode()}\n"
        "If the change is intended, regenerate (see this module's docstring) and record why in "
        "CHANGELOG.md."
    )
    assert digest == OUTCOME_HASH.read_text().strip(), "the trials' outcomes have changed"


def test_golden_summary_is_a_real_summary() -> None:
    # The stored file is what a run writes: header, one row per outcome, counts adding to 4096.
    lines = SUMMARY.read_text().splitlines()
    assert lines[0] == "outcome,count,probability,lo,hi"
    counts = [int(line.split(",")[1]) for line in lines[1:]]
    assert len(counts) == len(escalation.load_scenario(SCENARIO).outcomes)
    assert sum(counts) == TRIALS
    assert len(OUTCOME_HASH.read_text().strip()) == 64


if __name__ == "__main__":
    if "--update" not in sys.argv[1:]:
        sys.exit("usage: python tests/test_golden.py --update")
    update()
