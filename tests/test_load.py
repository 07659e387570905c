"""Tests for escalation.scenario.load: every broken scenario gives one located, specific message.

``tests/bad/base.yaml`` is a small valid scenario; each file in ``tests/bad/scenarios/`` is a copy
of it with the one mistake its name says. :data:`EXPECTED` records, per file, the line and field
the message must name and words it must contain; adding a file without an entry fails.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from escalation.model.plan import Plan
from escalation.scenario.load import load_scenario, scenario_from_dict, scenario_hash
from escalation.scenario.yamlio import InputError, parse_yaml, read_yaml

BAD = Path(__file__).resolve().parent / "bad"
BASE = BAD / "base.yaml"
#: The two-sided base: bad files named two_sided_* are copies of it.
BASE_TWO_SIDED = BAD / "base_two_sided.yaml"
#: The base with beliefs: bad files named belief_* are copies of it.
BASE_BELIEFS = BAD / "base_beliefs.yaml"
BAD_SCENARIOS = sorted((BAD / "scenarios").glob("*.yaml"))

#: file stem -> (line, field, words the message must contain). The line is the offending field's
#: line in the file (checked by eye when the file was written), never the document start.
EXPECTED: dict[str, tuple[int, str, tuple[str, ...]]] = {
    "yaml_tab_indentation": (8, "", ("tab", "spaces")),
    "yaml_unclosed_bracket": (66, "", ("'['", "not closed", "line 67")),
    "yaml_bad_indentation": (24, "", ("indentation",)),
    "yaml_merge_key": (26, "parameters.resolve.<<", ("merge keys",)),
    "python_object_tag": (57, "challenger.stake", ("python/object", "not allowed")),
    "horizon_is_text": (2, "horizon", ("whole number", "'ten'")),
    "horizon_is_boolean": (2, "horizon", ("whole number", "got true")),
    "horizon_negative": (2, "horizon", ("greater than or equal to 1", "-5")),
    "horizon_absurd": (2, "horizon", ("less than or equal to 3650", "100000")),
    "trials_zero": (3, "trials", ("greater than or equal to 1", "0")),
    "trials_absurd": (3, "trials", ("less than or equal to 50000000", "1000000000000")),
    "seed_negative": (4, "seed", ("greater than or equal to 0",)),
    "date_impossible": (5, "date", ("month",)),
    "date_with_time": (5, "date", ("got the date and time 2021-12-07 10:00:00",)),
    "seed_5000_digits": (4, "seed", ("5,000 digits", "too large")),
    "distribution_in_expression": (
        79,
        "policies.sanctions.follow_through",
        ("unknown function 'beta'", "drawn by a parameter", "under 'parameters'"),
    ),
    "if_in_expression": (84, "policies.concede_guarantee.hazard", ("no if/else", "where(")),
    "condition_reads_type": (
        76,
        "policies.sanctions.when",
        ("'type' is a reserved name", "no expression can read a decider's type"),
    ),
    "weight_is_list": (65, "demands.guarantee.weight", ("expected a number", "got a list")),
    "weight_is_nan": (65, "demands.guarantee.weight", ("greater than 0", "nan")),
    "unknown_field_folow_through": (
        79,
        "policies.sanctions.folow_through",
        ("unknown field 'folow_through'", "did you mean 'follow_through'?"),
    ),
    "unknown_field_horizn": (2, "horizn", ("did you mean 'horizon'?",)),
    "unknown_field_in_ladder_rung": (42, "ladder[1].hold_cots", ("did you mean 'hold_cost'?",)),
    "beta_negative_parameter": (23, "parameters.audience.dist", ("beta", "a > 0", "-1")),
    "uniform_reversed_bounds": (19, "parameters.forces.path[0][1]", ("uniform", "lo < hi")),
    "normal_negative_sd": (26, "parameters.resolve.dist", ("normal", "sd > 0")),
    "unknown_distribution_gama": (
        29,
        "parameters.severity.dist",
        ("unknown distribution 'gama'", "beta"),
    ),
    "path_days_decreasing": (18, "parameters.forces.path", ("strictly increasing", "25, 20")),
    "condition_unknown_actor": (
        76,
        "policies.sanctions.when",
        ("unknown actor 'rusia'", "did you mean 'russia'?"),
    ),
    "condition_unknown_attribute": (
        76,
        "policies.sanctions.when",
        ("no attribute 'rungg'", "did you mean 'rung'?"),
    ),
    "condition_double_operator": (76, "policies.sanctions.when", ("'='", "==", "column 15")),
    "condition_single_equals": (76, "policies.sanctions.when", ("use == to compare",)),
    "condition_unicode_operator": (76, "policies.sanctions.when", ("U+2265", "'>='")),
    "condition_is_number": (76, "policies.sanctions.when", ("condition", "the number 3")),
    "expression_unknown_parameter": (
        84,
        "policies.concede_guarantee.hazard",
        ("unknown name 'concesion_rate'", "did you mean 'concession_rate'?"),
    ),
    "duplicate_key": (24, "parameters.audience.dist", ("duplicate key", "line 23")),
    "start_rung_unknown": (
        56,
        "challenger.start_rung",
        ("unknown rung 'build_up'", "did you mean 'buildup'?"),
    ),
    "challenger_not_actor": (54, "challenger.actor", ("unknown actor 'moscow'", "russia")),
    "grantor_not_actor": (66, "demands.guarantee.grantors[0]", ("unknown actor 'nato'",)),
    "demand_weights_over_one": (
        69,
        "demands.autonomy.weight",
        ("at most 1", "0.6 + 0.7 = 1.3"),
    ),
    "concede_not_grantor": (
        82,
        "policies.concede_guarantee.actor",
        ("'usa' is not a grantor of demand 'autonomy'",),
    ),
    "policy_two_actions": (83, "policies.concede_guarantee.do", ("exactly one", "aid, concede")),
    "parameter_reserved_word": (22, "parameters.day", ("'day' is a reserved word",)),
    "parameter_name_capitalised": (22, "parameters.Audience", ("not a valid name", "lower-case")),
    "ladder_one_rung": (38, "ladder", ("at least 2 items",)),
    "actors_is_list": (6, "actors", ("expected a mapping", "got a list")),
    "alias_bomb": (4, "", ("alias bomb", "200000")),
    "not_utf8": (11, "", ("not UTF-8", "byte 137")),
    "empty": (1, "", ("the file is empty", "mapping")),
    "top_level_list": (2, "", ("mapping", "found a list")),
    "war_rate_above_one": (46, "ladder[2].war_rate", ("between 0 and 1", "1.5")),
    "on_failure_unknown": (
        46,
        "ladder[2].on_failure",
        ("unknown rung 'build_up'", "did you mean 'buildup'?"),
    ),
    "belief_unknown_policy": (
        99,
        "beliefs.trust.learns_from[0]",
        ("unknown policy 'sanction'", "did you mean 'sanctions'?"),
    ),
    "belief_likelihood_above_one": (
        108,
        "beliefs.nature.signals.seen.likelihood.bold",
        ("between 0 and 1", "1.2"),
    ),
    "two_sided_on_grant_other_ladder": (
        66,
        "demands.withdrawal.on_grant.blue",
        ("'red_calm' is on ladder 'red_posture'", "not on the ladder of 'blue'"),
    ),
    "escalate_by_non_decider": (75, "policies.sanctions.actor", ("'usa' does not decide",)),
    "cap_below_floor": (22, "parameters.audience", ("the cap 0.2 is below the floor 0.4",)),
    "period_too_short": (17, "parameters.forces", ("repeats every 15 days", "the last is 20")),
    "discount_negative": (62, "challenger.discount", ("at least 0 and below 1", "-0.1")),
    "expression_infinite": (59, "challenger.rationality", ("'1e999' evaluates to inf", "finite")),
    "expression_nan": (60, "challenger.decision_rate", ("'0/0' evaluates to nan",)),
    "forces_circular": (
        9,
        "actors.russia.forces",
        ("circular state: russia.forces -> russia.forces",),
    ),
    "rung_force_above_one": (46, "ladder[2].force", ("between 0 and 1", "1.5")),
    "two_sided_start_rung_other_ladder": (
        51,
        "deciders.blue.start_rung",
        ("on ladder 'red_posture'", "not on the ladder of 'blue'"),
    ),
    "two_sided_condition_rung_other_ladder": (
        76,
        "policies.blue_sanctions.when",
        ("rung 'blue_war' is not on the ladder of 'red'",),
    ),
    "two_sided_event_rung_other_ladder": (
        87,
        "events.incident.to_rung",
        ("'red_strike' is on ladder 'red_posture'", "not on the ladder of 'blue'"),
    ),
    "two_sided_decider_no_options": (58, "deciders.green", ("has nothing to choose",)),
    "two_sided_demand_cannot_be_granted": (
        69,
        "demands.pledge.grantors[0]",
        ("'red' decides but can never grant 'pledge'", "'cost'"),
    ),
    "two_sided_trade_unknown_demand": (
        64,
        "demands.withdrawal.together_with[0]",
        ("unknown demand 'pledg'", "did you mean 'pledge'?"),
    ),
    "two_sided_circular_trade": (
        73,
        "demands.inspection.together_with[0]",
        ("circular trade withdrawal -> pledge -> inspection -> withdrawal",),
    ),
    "two_sided_severity_missing": (
        26,
        "ladders.blue_posture",
        ("more than one ladder", "severity: [strike, war]"),
    ),
    "two_sided_demand_without_maker": (
        59,
        "demands.withdrawal",
        ("several deciders", "by: one of red, blue"),
    ),
}

#: Files not made by a small edit of base.yaml (their mistake is the whole file).
WHOLE_FILE = {
    "alias_bomb",
    "empty",
    "top_level_list",
    "not_utf8",
    "ladder_one_rung",
    "actors_is_list",
}


def _loaded_error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return caught.value


def test_base_scenario_is_valid() -> None:
    """The scenario every bad file is copied from loads, so each copy fails by its own mistake."""
    scenario = load_scenario(BASE)
    assert scenario.name == "small"
    Plan.from_scenario(scenario)  # and compiles
    assert load_scenario(BASE_BELIEFS).beliefs
    two_sided = load_scenario(BASE_TWO_SIDED)
    assert [d.key for d in two_sided.decider_blocks] == ["red", "blue"]
    Plan.from_scenario(two_sided)


def test_every_bad_file_has_an_expectation() -> None:
    """Adding a bad file needs an entry in EXPECTED, and every entry needs its file."""
    assert len(BAD_SCENARIOS) >= 25
    assert {path.stem for path in BAD_SCENARIOS} == set(EXPECTED)


@pytest.mark.parametrize("path", BAD_SCENARIOS, ids=lambda path: path.stem)
def test_bad_scenario_message_is_located_and_specific(path: Path) -> None:
    """The message names this file, the offending line and field, and what is wrong."""
    error = _loaded_error(path)
    line, field, words = EXPECTED[path.stem]
    assert (error.file, error.line, error.field) == (str(path), line, field)
    for word in words:
        assert word in error.message, f"{word!r} not in {error.message!r}"
    prefix = f"{path}:{line}: {field}: " if field else f"{path}:{line}: "
    assert str(error).startswith(prefix)
    assert "Traceback" not in str(error)


@pytest.mark.parametrize(
    "path",
    [p for p in BAD_SCENARIOS if p.stem not in WHOLE_FILE],
    ids=lambda path: path.stem,
)
def test_bad_scenario_is_one_small_edit_of_the_base(path: Path) -> None:
    """Each file differs from its base in a line or two, so it holds one mistake."""
    if path.stem.startswith("two_sided_"):
        base_path = BASE_TWO_SIDED
    elif path.stem.startswith("belief_"):
        base_path = BASE_BELIEFS
    else:
        base_path = BASE
    base = base_path.read_text().splitlines()
    base = base[next(i for i, text in enumerate(base) if not text.startswith("#")) :]
    changed = [
        text
        for text in difflib.unified_diff(base, path.read_text().splitlines(), n=0, lineterm="")
        if text[:1] in "+-" and not text.startswith(("+++", "---"))
    ]
    assert 1 <= len(changed) <= 4, changed


@pytest.mark.parametrize(
    "path",
    [p for p in BAD_SCENARIOS if EXPECTED[p.stem][1] and not EXPECTED[p.stem][1].endswith("]")],
    ids=lambda path: path.stem,
)
def test_reported_line_holds_the_field(path: Path) -> None:
    """The line the message names is where the field's key is written, not a parent's line."""
    error = _loaded_error(path)
    key = re.split(r"[.\[]", error.field)[-1]
    assert error.line is not None
    text = path.read_text(encoding="utf-8").splitlines()[error.line - 1]
    assert re.match(rf"\s*(- )?{re.escape(key)}:", text), text


# --- the shipped scenario, edited -----------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "at", "field", "word"),
    [
        (
            "when: russia.rung >= invasion\n    do:\n      sanction: {target: russia, severity: eu",
            "when: russia.rung >= invasoin\n    do:\n      sanction: {target: russia, severity: eu",
            "invasoin",
            "policies.eu_sanctions.when",
            "did you mean 'invasion'?",
        ),
        ("beta(2, 6)", "beta(2, -6)", "beta(2, -6)", "parameters.p_resolved.dist", "b > 0"),
        ("[ukraine]", "[ukrane]", "[ukrane]", "demands.minsk.grantors[0]", "'ukrane'"),
        (
            "[56,",
            "[-56,",
            "russia_forces:\n    path",
            "parameters.russia_forces.path",
            "increasing",
        ),
        ("to_rung: nuclear", "to_rung: nucler", "nucler", "events.nuclear_use.to_rung", "nuclear"),
    ],
)
def test_lines_in_the_shipped_scenario(
    dec2021_path: Path, tmp_path: Path, old: str, new: str, at: str, field: str, word: str
) -> None:
    """A mistake deep in a long real file is reported at the line of the field (ending `at`)."""
    text = dec2021_path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    edited = text.replace(old, new)
    assert edited.count(at) == 1
    line = edited[: edited.index(at) + len(at)].count("\n") + 1
    path = tmp_path / "edited.yaml"
    path.write_text(edited, encoding="utf-8")
    error = _loaded_error(path)
    assert (error.line, error.field) == (line, field)
    assert word in error.message


@pytest.mark.parametrize(
    ("old", "new", "at", "field", "message"),
    [
        (
            "dist: beta(2, 5)",
            "dist: [1]",
            "dist: [1]",
            "parameters.audience.dist",
            "expected a number or distribution text such as 'beta(6, 3)'; got [1] (list)",
        ),
        (
            "dist: beta(2, 5)",
            "dist: yes",
            "dist: yes",
            "parameters.audience.dist",
            "got the boolean True (YAML true/false/yes/no); expected a number or a distribution "
            "such as 'beta(6, 3)'",
        ),
        (
            '[20, "uniform(100, 150)"]',
            "[20]",
            "[20]",
            "parameters.forces.path[1]",
            "the list needs at least 2 items",
        ),
        (
            '[20, "uniform(100, 150)"]',
            "[20.5, 1]",
            "[20.5, 1]",
            "parameters.forces.path[1][0]",
            "expected a whole number; got the number 20.5",
        ),
        (
            "capability: 80",
            "capability: [80]",
            "capability: [80]",
            "actors.ukraine.capability",
            "expected a number or an expression (text such as '2 * x'); got a list",
        ),
        (
            "  guarantee:\n",
            "  Guarantee:\n",
            "Guarantee:",
            "demands.Guarantee",
            "'Guarantee' is not a valid name: use lower-case letters, digits and underscores, "
            "starting with a letter (at most 64 characters)",
        ),
        (
            "    to_rung: invasion",
            "    to_rung: invasion\n    rate_: 1",
            "rate_",
            "events.flare_up.rate_",
            "unknown field 'rate_'; did you mean 'rate'?",
        ),
        (
            "  stake: 1\n",
            "",
            "challenger:",
            "challenger.stake",
            "missing required field 'stake'",
        ),
    ],
)
def test_more_messages_on_the_base(
    tmp_path: Path, old: str, new: str, at: str, field: str, message: str
) -> None:
    """Exact messages for mistakes the folder does not hold: types, names, tuples, typos."""
    text = BASE.read_text()
    assert text.count(old) == 1
    edited = text.replace(old, new)
    line = edited[: edited.index(at) + len(at)].count("\n") + 1
    path = tmp_path / "edited.yaml"
    path.write_text(edited)
    error = _loaded_error(path)
    assert (error.line, error.field, error.message) == (line, field, message)


# --- files that cannot be read ----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is one message that names it."""
    path = tmp_path / "absent.yaml"
    error = _loaded_error(path)
    assert str(error) == f"{path}: file not found"


def test_folder(tmp_path: Path) -> None:
    """A folder is one message that names it."""
    error = _loaded_error(tmp_path)
    assert str(error) == f"{tmp_path}: is a folder, not a file"


def test_very_large_file(tmp_path: Path) -> None:
    """A file over the size limit (here 2.5 MB of valid YAML) is refused without parsing."""
    path = tmp_path / "large.yaml"
    text = BASE.read_text() + "".join(
        f"# padding line {i:07d} " + "x" * 80 + "\n" for i in range(25_000)
    )
    path.write_text(text)
    assert path.stat().st_size > 2_000_000
    error = _loaded_error(path)
    assert error.file == str(path)
    assert "bytes" in error.message and "limited to 2,000,000" in error.message


# --- dicts, hashes ----------------------------------------------------------------------


def test_dict_without_lines_is_still_named() -> None:
    """A scenario given as a dict has no lines; the message names the source and field."""
    data, _ = read_yaml(BASE)
    data["horizon"] = "ten"
    with pytest.raises(InputError) as caught:
        scenario_from_dict(data, file="<notebook>")
    assert str(caught.value) == "<notebook>: horizon: expected a whole number; got the text 'ten'"


@pytest.mark.parametrize("data", [None, [1, 2], "text", 3])
def test_non_mapping_data(data: object) -> None:
    """Anything but a mapping at the top is refused."""
    with pytest.raises(InputError, match="a scenario is a YAML mapping"):
        scenario_from_dict(data)


def test_scenario_hash_ignores_formatting_but_not_content() -> None:
    """Comments and layout do not change the hash; a value does."""
    text = BASE.read_text()
    data, lines = parse_yaml(text)
    original = scenario_hash(scenario_from_dict(data, lines=lines))
    data, lines = parse_yaml("# another comment\n" + text.replace("seed: 7", "seed:    7"))
    assert scenario_hash(scenario_from_dict(data, lines=lines)) == original
    data, lines = parse_yaml(text.replace("seed: 7", "seed: 8"))
    assert scenario_hash(scenario_from_dict(data, lines=lines)) != original


def test_shipped_scenario_loads(dec2021_path: Path) -> None:
    """The shipped scenario is valid and compiles."""
    scenario = load_scenario(dec2021_path)
    assert scenario.horizon == 120
    assert len(scenario.actors) == 5
    Plan.from_scenario(scenario)


# --- YAML 1.1 surprises (issue 13) -----------------------------------------------------


def test_an_exponent_without_a_dot_is_a_number(tmp_path: Path) -> None:
    """`weight: 6e-1` is the number 0.6, not 'the text 6e-1'."""
    path = tmp_path / "exponent.yaml"
    path.write_text(BASE.read_text().replace("weight: 0.6", "weight: 6e-1"))
    assert load_scenario(path).demands["guarantee"].weight == pytest.approx(0.6)


def test_a_key_written_no_is_named_no(tmp_path: Path) -> None:
    """YAML 1.1 reads the key `no` as false; the message names it as written, not 'False'."""
    path = tmp_path / "no.yaml"
    path.write_text(BASE.read_text().replace("  usa:\n", "  no:\n", 1))
    error = _loaded_error(path)
    assert "False" not in str(error)
    assert error.field == "demands.guarantee.grantors[0]"  # 'usa' is gone; 'no' is an actor
    assert "unknown actor 'usa'" in error.message
