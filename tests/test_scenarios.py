"""The shipped scenarios: each validates, its sources hold together, it runs, and the casebook's
outcomes file names real cases and classes.

Every ``scenarios/*.yaml`` but the outcomes file is checked the same way: it loads; every
parameter says where its value comes from; the ``[key]`` citations in its ``source`` fields (the
published forecasts' included) and its ``references`` match both ways; no reference or forecast
is dated after the scenario's own date (the ex-ante rule, ``check.hindsight``); and 500 trials
run, each ending in a declared outcome class within the horizon.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import escalation
from escalation.scenario.check import hindsight
from escalation.scenario.load import load_scenario
from escalation.scenario.schema import Scenario
from escalation.scenario.yamlio import read_yaml

SCENARIOS_DIR = Path(__file__).resolve().parent.parent / "scenarios"
OUTCOMES = SCENARIOS_DIR / "outcomes.yaml"
SCENARIOS = sorted(p for p in SCENARIOS_DIR.glob("*.yaml") if p != OUTCOMES)
#: A citation in a source: ``[key]``, the key as written in ``references``.
CITATION = re.compile(r"\[([A-Za-z0-9_.-]+)\]")
#: A source of the outcomes file: "Publisher, title, YYYY-MM-DD".
DATED_SOURCE = re.compile(r"^.+, .+, (\d{4}-\d{2}-\d{2})$")


def sources(node: object, where: str = "") -> Iterator[tuple[str, str]]:
    """Every ``source`` text in a parsed scenario, with its path, at any depth."""
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


def test_the_shipped_scenarios_are_found() -> None:
    names = {path.stem for path in SCENARIOS}
    assert {"dec2021", "ukr_apr2021", "ukr_jan2022", "ukr_feb2022", "crimea2014"} <= names
    assert {"georgia2008"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_scenario_validates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    if scenario.case is not None:
        # A case is dated (the ex-ante rule needs a date) and its event is a violent outcome.
        assert scenario.date is not None
        assert scenario.case.event in scenario.violent_outcomes


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_every_parameter_has_a_source(path: Path) -> None:
    scenario = load_scenario(path)
    missing = [name for name, p in scenario.parameters.items() if not p.source.strip()]
    assert missing == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_citations_and_references_match_both_ways(path: Path) -> None:
    data, _ = read_yaml(path)
    references = set(data.get("references", {}))
    cited: dict[str, list[str]] = {}
    for where, text in sources(data):
        for key in CITATION.findall(text):
            cited.setdefault(key, []).append(where)
    unknown = {key: places for key, places in cited.items() if key not in references}
    assert unknown == {}, f"cited but not in references: {unknown}"
    assert sorted(references - set(cited)) == [], "references that no source cites"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_nothing_cited_is_dated_after_the_scenario(path: Path) -> None:
    assert hindsight(load_scenario(path)) == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.stem)
def test_scenario_runs(path: Path) -> None:
    scenario = load_scenario(path)
    trials = escalation.run(path, trials=500, seed=1).trials
    assert len(trials) == 500
    assert set(trials["outcome"].astype(str)) <= set(scenario.outcomes)
    days = trials["outcome_day"].to_numpy()
    assert ((days >= 0) & (days <= scenario.horizon)).all()


@pytest.fixture(scope="module")
def scenarios_by_name() -> dict[str, Scenario]:
    return {scenario.name: scenario for scenario in map(load_scenario, SCENARIOS)}


def test_outcomes_name_known_cases_classes_and_days(scenarios_by_name: dict[str, Scenario]) -> None:
    data, _ = read_yaml(OUTCOMES)
    cases = data["cases"]
    unknown = sorted(set(cases) - set(scenarios_by_name))
    assert unknown == [], f"outcomes for scenarios that do not exist: {unknown}"
    for name, record in cases.items():
        scenario = scenarios_by_name[name]
        assert set(record) <= {"outcome", "day", "sources", "note"}, name
        assert record["outcome"] in scenario.outcomes, name
        if record["outcome"] == "frozen_standoff":
            assert "day" not in record, name
        else:
            assert isinstance(record["day"], int), name
            assert 0 <= record["day"] <= scenario.horizon, name
        assert record["sources"], name
        for source in record["sources"]:
            match = DATED_SOURCE.match(source)
            assert match, f"{name}: {source!r} is not 'Publisher, title, YYYY-MM-DD'"
            datetime.date.fromisoformat(match.group(1))
        assert str(record["note"]).strip(), name


def test_every_case_has_an_outcome(scenarios_by_name: dict[str, Scenario]) -> None:
    data, _ = read_yaml(OUTCOMES)
    cases = {name for name, scenario in scenarios_by_name.items() if scenario.case is not None}
    assert sorted(cases - set(data["cases"])) == []


# Actor ids that are also ordinary English words, which the engine's prose may use.
_ENGLISH = {"powers", "west", "flank"}


def test_the_engine_never_names_a_shipped_actor() -> None:
    # Scenarios are data: an actor of a shipped scenario named in escalation/ would mean the
    # engine knows about one crisis.
    ids = {actor for path in SCENARIOS for actor in load_scenario(path).actors}
    assert {"russia", "usa", "india"} <= ids
    root = SCENARIOS_DIR.parent
    sources = {p: p.read_text() for p in (root / "escalation").rglob("*.py")}
    found = [
        f"{path.relative_to(root)}: {name}"
        for name in sorted(ids - _ENGLISH)
        for path, text in sources.items()
        if re.search(rf"\b{re.escape(name)}(\b|_)", text, re.IGNORECASE)
    ]
    assert not found, found
