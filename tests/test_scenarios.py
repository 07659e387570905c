"""The shipped scenarios: each loads, compiles and runs, and its sources hold together.

Every parameter (and everything else that carries a ``source``) must say where its value comes
from, and the ``[key]`` citations in those sources and the scenario's ``references`` must match
both ways: no citation of a missing reference, no reference nobody cites.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import escalation
from escalation.model.plan import Plan
from escalation.scenario.load import load_scenario
from escalation.scenario.yamlio import read_yaml

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
KARGIL = SCENARIOS / "kargil1999.yaml"
#: A citation in a source: ``[key]``, the key as written in ``references``.
CITATION = re.compile(r"\[([A-Za-z0-9_.-]+)\]")
#: A reference ends with its publication date in ISO form: "... (Rediff, 1999-05-28)."
DATE_AT_END = re.compile(r"(\d{4}-\d{2}-\d{2})\)\.?$")


def sources(node: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``source`` field in a parsed scenario, with its path, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key == "source" and isinstance(value, str):
                yield path, value
            else:
                yield from sources(value, path)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from sources(value, f"{where}[{i}]")


def test_kargil_validates_and_compiles() -> None:
    scenario = load_scenario(KARGIL)
    assert sorted(scenario.deciders) == ["india", "pakistan"]
    plan = Plan.from_scenario(scenario)
    assert len(plan.deciders) == 2


def test_kargil_every_parameter_has_a_source() -> None:
    data, _ = read_yaml(KARGIL)
    missing = [
        name
        for name, parameter in data["parameters"].items()
        if not str(parameter.get("source", "")).strip()
    ]
    assert missing == []


def test_kargil_every_actor_and_rung_has_a_source_too() -> None:
    # Optional in the format; in a shipped scenario every number's home says where it is from.
    data, _ = read_yaml(KARGIL)
    parts = [(f"actors.{k}", v) for k, v in data["actors"].items()] + [
        (f"ladders.{name}.{rung['id']}", rung)
        for name, ladder in data["ladders"].items()
        for rung in ladder
    ]
    missing = [where for where, part in parts if not str(part.get("source", "")).strip()]
    assert missing == []


def test_kargil_citations_and_references_match_both_ways() -> None:
    data, _ = read_yaml(KARGIL)
    references = set(data["references"])
    cited: dict[str, list[str]] = {}
    for path, text in sources(data):
        for key in CITATION.findall(text):
            cited.setdefault(key, []).append(path)
    unknown = {key: paths for key, paths in cited.items() if key not in references}
    assert unknown == {}, f"cited but not in references: {unknown}"
    assert sorted(references - set(cited)) == [], "references never cited in a source"


def test_kargil_references_end_with_their_date() -> None:
    data, _ = read_yaml(KARGIL)
    undated = [key for key, text in data["references"].items() if not DATE_AT_END.search(text)]
    assert undated == []


def test_kargil_no_reference_is_later_than_the_case_date() -> None:
    # The date rule: only what was public on 28 May 1999. The ICB data behind base_rates (which
    # the model never reads) is the one exception, and it says so.
    data, _ = read_yaml(KARGIL)
    late = [
        key
        for key, text in data["references"].items()
        if key != "icb-v14" and DATE_AT_END.search(text).group(1) > "1999-05-28"
    ]
    assert late == []


@pytest.fixture(scope="module")
def kargil_run() -> escalation.RunResult:
    return escalation.run(KARGIL, trials=2000, seed=1)


def test_kargil_runs_and_every_trial_has_a_declared_outcome(
    kargil_run: escalation.RunResult,
) -> None:
    trials = kargil_run.trials
    assert len(trials) == 2000
    declared = {"settlement", "stand_down", "frozen_standoff"} | set(load_scenario(KARGIL).severity)
    assert set(trials["outcome"].astype(str)) <= declared
    days = trials["outcome_day"].to_numpy()
    assert ((days >= 0) & (days <= 90)).all()


def test_kargil_no_trial_is_violent_on_day_zero(kargil_run: escalation.RunResult) -> None:
    # Both start rungs carry no outcome: the fighting of 28 May is the baseline, not a class.
    trials = kargil_run.trials
    violent = trials["outcome"].astype(str).isin(["loc_war", "wider_war", "nuclear_use"])
    assert (trials.loc[violent, "outcome_day"] >= 1).all()


def test_kargil_settlement_is_the_trade_and_a_stand_down_is_not(
    kargil_run: escalation.RunResult,
) -> None:
    # The only concession group is withdrawal-for-talks, granted together on one day.
    trials = kargil_run.trials
    outcome = trials["outcome"].astype(str)
    settled = trials[outcome == "settlement"]
    assert len(settled) > 0
    assert settled["granted:withdrawal"].all() and settled["granted:kashmir_talks"].all()
    assert (settled["day_granted:kashmir_talks"] == settled["day_granted:withdrawal"]).all()
    stood_down = trials[outcome == "stand_down"]
    assert not stood_down["granted:kashmir_talks"].any()
    # A stand-down ends with the intruders back behind the line: Pakistan's rung 0.
    rungs = stood_down["rung:pakistan"].astype(str).to_numpy()
    assert np.all(rungs == "withdrawn")
