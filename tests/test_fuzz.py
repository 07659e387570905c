"""Fuzzing the scenario loader: whatever the input, it loads or raises InputError, nothing else.

Two kinds of mutation of the shipped dec2021 scenario: of its parsed data (keys deleted or
renamed, values replaced by other types, random text, extremes, nan/inf, huge ints, keys
inserted), and of its raw text and bytes (characters and bytes inserted, deleted, replaced).
The default run tries a few hundred examples; the slow variants (``--runslow``) try many more.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from escalation.model.plan import Plan
from escalation.scenario.load import scenario_from_dict, scenario_hash
from escalation.scenario.yamlio import InputError, parse_yaml, parse_yaml_bytes, read_yaml

DEC2021 = Path(__file__).resolve().parent.parent / "scenarios" / "dec2021.yaml"
DATA, LINES = read_yaml(DEC2021)
TEXT = DEC2021.read_text(encoding="utf-8")
FILE = "fuzz.yaml"

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values a mutation may put anywhere: every YAML type, edge numbers, text the grammars parse.
EXTREMES = [
    0, -1, 1, -5, 2**31, 2**63, -(2**63), 10**12, 10**30, 10**400, -(10**400),
    1e308, -1e308, 5e-324, math.nan, math.inf, -math.inf, -0.0,
]  # fmt: skip
GRAMMAR_TEXT = [
    "", " ", "beta(-1, 2)", "uniform(3, 1)", "normal(0, -1)", "gama(2, 2)", "beta(",
    "beta(1e400, 1)", "lognormal(median=0, sigma=1)", "russia.rung >= 2", "rusia.rung >= 2",
    "russia.rungg",
    "russia.rung >== 2", "russia.rung = 2", "1/0", "log(0)", "10 ** 400", "day / 0",
    "where(day > 3, 1, 0)", "((((((((((1))))))))))", "(" * 100, "x" * 3000, "true", "nan",
    "invasion", "nuclear", "russia", "day", "\u2265", "\x00", "[page]", "[/bold]",
]  # fmt: skip
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(EXTREMES),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(GRAMMAR_TEXT),
    st.lists(st.integers(min_value=-3, max_value=200), max_size=3),
    st.dictionaries(
        st.sampled_from(["a", "dist", "when", "to", "source"]), st.integers(), max_size=2
    ),
    st.dates(),
)
KEYS = st.one_of(
    st.text(max_size=12), st.sampled_from(["horizn", "folow_through", "dist", "path", "Source"])
)


def _locations(node: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a tree of dicts and lists, the root included."""
    found = [loc]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _locations(value, (*loc, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _locations(value, (*loc, index))
    return found


def _at(root: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        root = root[part]
    return root


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    """The parsed dec2021 scenario with one to four random mutations."""
    data = copy.deepcopy(DATA)
    for _ in range(draw(st.integers(1, 4))):
        loc = draw(st.sampled_from(_locations(data)))
        op = draw(st.sampled_from(["delete", "replace", "wrap", "text", "insert", "rename"]))
        if not loc:  # the root: replace the whole document now and then
            if op == "replace":
                data = draw(VALUES)
            continue
        parent, key = _at(data, loc[:-1]), loc[-1]
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(VALUES)
        elif op == "wrap":  # the same value as another type
            value = parent[key]
            parent[key] = draw(st.sampled_from([[value], {"value": value}, str(value)]))
        elif op == "text":
            parent[key] = draw(st.text(max_size=40))
        elif op == "insert":
            if isinstance(parent, dict):
                parent[draw(KEYS)] = draw(VALUES)
            else:
                parent.insert(draw(st.integers(0, len(parent))), draw(VALUES))
        elif isinstance(parent, dict):  # rename a key, e.g. a typo
            parent[draw(KEYS)] = parent.pop(key)
    return data


def _check(data: Any, lines: Any = LINES) -> str:
    """Loading succeeds (and the scenario compiles) or raises InputError naming the file.

    Returns what happened, for hypothesis's statistics (``--hypothesis-show-statistics``).
    """
    try:
        scenario = scenario_from_dict(data, FILE, lines)
    except InputError as error:
        assert str(error).startswith(FILE)
        assert error.message
        return f"InputError at {error.field.split('.')[0] or '(document)'}"
    # What the loader accepts, the model must be able to compile.
    Plan.from_scenario(scenario)
    assert len(scenario_hash(scenario)) == 64
    return "loaded"


def _check_text(text: str) -> str:
    try:
        data, lines = parse_yaml(text, FILE)
    except InputError as error:
        assert str(error).startswith(FILE)
        return "InputError reading YAML"
    return _check(data, lines)


def _check_bytes(raw: bytes) -> str:
    try:
        data, lines = parse_yaml_bytes(raw, FILE)
    except InputError as error:
        assert str(error).startswith(FILE)
        return "InputError reading YAML"
    return _check(data, lines)


# Characters that matter to YAML or to the expression grammars, plus any character at all.
YAML_CHARS = st.one_of(
    st.sampled_from([*":-[]{},#&*!|>'\"%@`?\t\n\r \\.=()<+/", "\x00", "\x1b", "\x85", "\ufeff"]),
    st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")),  # control chars: listed above
)


@st.composite
def mutated_text(draw: st.DrawFn) -> str:
    """dec2021 with a few character edits, mostly near the start of lines (keys, indents)."""
    lines = TEXT.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(lines) - 1))
        line = lines[row]
        column = draw(st.integers(0, min(len(line), 16) if draw(st.booleans()) else len(line)))
        chars = draw(st.text(YAML_CHARS, min_size=1, max_size=3))
        op = draw(st.sampled_from(["insert", "delete", "replace", "join"]))
        if op == "insert":
            lines[row] = line[:column] + chars + line[column:]
        elif op == "delete":
            lines[row] = line[:column] + line[column + draw(st.integers(1, 6)) :]
        elif op == "replace":
            lines[row] = line[:column] + chars + line[column + len(chars) :]
        elif row + 1 < len(lines):  # join two lines
            lines[row : row + 2] = [line + lines[row + 1]]
    return "\n".join(lines)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    """dec2021's UTF-8 bytes with random bytes overwritten or inserted."""
    raw = bytearray(TEXT.encode("utf-8"))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(raw) - 1))
        # Half printable ASCII, so that not every example fails as invalid UTF-8.
        byte = draw(st.one_of(st.integers(0x20, 0x7E), st.integers(0, 255)))
        if draw(st.booleans()):
            raw[position] = byte
        else:
            raw.insert(position, byte)
    return bytes(raw)


def test_unmutated_baselines_load() -> None:
    """Without mutations every path loads, so the fuzzers start from valid input."""
    assert _check(copy.deepcopy(DATA)) == "loaded"
    assert _check_text(TEXT) == "loaded"
    assert _check_bytes(TEXT.encode("utf-8")) == "loaded"


@FAST
@given(mutated_data())
def test_mutated_data_loads_or_raises_input_error(data: Any) -> None:
    """Mutated parsed data: a scenario, or InputError; never another exception."""
    event(_check(data))


@FAST
@given(mutated_text())
def test_mutated_text_loads_or_raises_input_error(text: str) -> None:
    """Edited YAML text: a scenario, or InputError; never another exception."""
    event(_check_text(text))


@FAST
@given(mutated_bytes())
def test_mutated_bytes_load_or_raise_input_error(raw: bytes) -> None:
    """Edited bytes (often invalid UTF-8): a scenario, or InputError; never another exception."""
    event(_check_bytes(raw))


@pytest.mark.slow
@SLOW
@given(mutated_data())
def test_mutated_data_many(data: Any) -> None:
    """The data fuzzer, longer."""
    event(_check(data))


@pytest.mark.slow
@SLOW
@given(mutated_text())
def test_mutated_text_many(text: str) -> None:
    """The text fuzzer, longer."""
    event(_check_text(text))


@pytest.mark.slow
@SLOW
@given(mutated_bytes())
def test_mutated_bytes_many(raw: bytes) -> None:
    """The bytes fuzzer, longer."""
    event(_check_bytes(raw))
