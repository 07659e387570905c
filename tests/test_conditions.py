"""Tests for escalation.scenario.conditions: parsing, typing, errors and evaluation."""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from escalation.scenario import conditions
from escalation.scenario.conditions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Expression,
    ExpressionError,
    Namespace,
    compile_expression,
)

NS = Namespace(
    variables=frozenset({"day", "horizon", "x", "y", "clash_rate", "base_hazard"}),
    constants={"invasion": 3, "nuclear": 6},
    actors={
        "russia": frozenset({"rung", "aid"}),
        "ukraine": frozenset({"rung", "aid", "morale"}),
        "eu": frozenset({"sanctions"}),
        "flank": frozenset({"reinforcement"}),
    },
)

_RNG = np.random.default_rng(20240601)
N = 64
X = _RNG.normal(size=N)
Y = _RNG.normal(size=N)
RUNG = _RNG.integers(0, 7, size=N)
ENV: dict[str, Any] = {
    "day": 40,
    "horizon": 365,
    "x": X,
    "y": Y,
    "clash_rate": 0.2,
    "base_hazard": 0.01,
    "russia.rung": RUNG,
    "russia.aid": _RNG.random(N),
    "ukraine.rung": _RNG.integers(0, 7, size=N),
    "ukraine.aid": _RNG.random(N),
    "ukraine.morale": _RNG.random(N),
    "eu.sanctions": _RNG.integers(0, 2, size=N).astype(float),
    "flank.reinforcement": _RNG.random(N),
}


def run(text: str | float, env: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Compile against NS and evaluate on ENV (or `env`)."""
    return compile_expression(text, NS, **kwargs)(ENV if env is None else env)


def error_of(text: Any, namespace: Namespace = NS, **kwargs: Any) -> ExpressionError:
    """The ExpressionError raised when compiling `text`."""
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, namespace, **kwargs)
    return info.value


# ---------------------------------------------------------------- precedence & assoc


def test_multiplication_binds_tighter_than_addition() -> None:
    np.testing.assert_allclose(run("1 + 2 * x - y / 4"), 1 + 2 * X - Y / 4)
    np.testing.assert_allclose(run("(1 + 2) * x"), 3 * X)


def test_subtraction_and_division_are_left_associative() -> None:
    assert run("10 - 3 - 2") == 5
    assert run("64 / 4 / 2") == 8
    np.testing.assert_allclose(run("x - y - 1"), (X - Y) - 1)
    np.testing.assert_allclose(run("x / 2 / y"), (X / 2) / Y)


def test_power_is_right_associative() -> None:
    assert run("2 ** 3 ** 2") == 512
    np.testing.assert_allclose(run("2 ** abs(x) ** 0.5"), 2 ** (np.abs(X) ** 0.5))


def test_unary_minus_binds_looser_than_power() -> None:
    np.testing.assert_allclose(run("-x ** 2"), -(X**2))
    assert run("-2 ** 2") == -4
    assert run("2 ** -1") == 0.5
    assert run("2 ** -1 ** 2") == 0.5  # 2 ** (-(1 ** 2))
    assert run("--3") == 3
    np.testing.assert_allclose(run("2 * -x"), -2 * X)


def test_integer_arrays_to_negative_powers_do_not_raise() -> None:
    np.testing.assert_allclose(run("(russia.rung + 1) ** -1"), 1 / (RUNG + 1.0))


def test_and_binds_tighter_than_or_and_not_tightest() -> None:
    a, b, c = X > 0, Y > 0, RUNG >= 3
    got = run("not x > 0 or y > 0 and russia.rung >= 3")
    np.testing.assert_array_equal(got, (~a) | (b & c))
    got = run("not (x > 0 or y > 0) and not russia.rung >= 3")
    np.testing.assert_array_equal(got, ~(a | b) & ~c)
    assert run("not not true") is True


def test_comparison_binds_looser_than_arithmetic() -> None:
    np.testing.assert_array_equal(run("x + 1 > y * 2"), (X + 1) > (Y * 2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 < x < 1", (X > 0) & (X < 1)),
        ("x < y < 1", (X < Y) & (Y < 1)),
        ("-1 <= x <= y != 0", (X >= -1) & (X <= Y) & (Y != 0)),
        ("1 < 2 < 3", True),
        ("3 > 2 > 2", False),
        ("1 == 1 != 2", True),
    ],
)
def test_chained_comparisons_follow_python(text: str, expected: Any) -> None:
    got = run(text)
    np.testing.assert_array_equal(got, expected)
    assert compile_expression(text, NS).kind == "bool"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("russia.rung >= invasion", RUNG >= 3),
        ("day > 30 and ukraine.aid < 0.5", ENV["ukraine.aid"] < 0.5),
        (
            "clash_rate * (1 + flank.reinforcement) * (russia.rung >= 3)",
            0.2 * (1 + ENV["flank.reinforcement"]) * (RUNG >= 3),
        ),
        ("not (eu.sanctions > 0)", ~(ENV["eu.sanctions"] > 0)),
        ("min(1, base_hazard * exp(0.1 * russia.rung))", np.minimum(1, 0.01 * np.exp(0.1 * RUNG))),
        ("clip(x - 2, 0, 1)", np.clip(X - 2, 0, 1)),
        ("-x ** 2", -(X**2)),
        ("max(x, y, 0.5, -x)", np.maximum.reduce([X, Y, np.full(N, 0.5), -X])),
        ("min(x, y, 0)", np.minimum(np.minimum(X, Y), 0)),
        ("abs(x) + sqrt(abs(y))", np.abs(X) + np.sqrt(np.abs(Y))),
        ("log(1 + abs(x))", np.log1p(np.abs(X))),
        ("where(x > y, x, y)", np.maximum(X, Y)),
        ("1.5e1 + .5 + 1e-3 + 2.", np.full(1, 15 + 0.5 + 0.001 + 2.0)),
    ],
)
def test_scenario_examples_match_numpy(text: str, expected: Any) -> None:
    np.testing.assert_allclose(np.asarray(run(text), dtype=float), np.asarray(expected, float))


# -------------------------------------------------------------------------- typing


def test_bools_count_as_zero_and_one_in_arithmetic() -> None:
    a, b = X > 0, Y > 0
    got = run("(x > 0) + (y > 0)")
    np.testing.assert_array_equal(got, a.astype(int) + b.astype(int))  # not a logical or
    assert got.dtype.kind == "f"
    np.testing.assert_array_equal(run("-(x > 0)"), -a.astype(float))
    np.testing.assert_array_equal(run("(x > 0) - (y > 0)"), a.astype(int) - b.astype(int))
    assert run("(x > 0) * (y > 0)").dtype.kind == "f"
    assert run("exp(x > 0)").dtype == np.float64
    assert run("min(x > 0, y > 0)").dtype.kind == "f"
    assert run("true + true") == 2
    assert compile_expression("(x > 0) + 1", NS).kind == "number"


def test_expect_number_coerces_conditions_to_floats() -> None:
    expr = compile_expression("x > 0", NS, expect="number")
    assert expr.kind == "number"
    got = expr(ENV)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, (X > 0).astype(float))
    assert compile_expression("1 < 2", NS, expect="number")({}) == 1.0


def test_expect_bool_rejects_numbers() -> None:
    err = error_of("russia.rung", expect="bool")
    assert "expected a condition, got a number; compare it, e.g. 'russia.rung >= 2'" in err.message
    assert err.position == 0
    assert compile_expression("russia.rung >= 2", NS, expect="bool").kind == "bool"
    assert "expected a condition" in error_of(0.5, expect="bool").message


def test_expect_must_be_a_kind() -> None:
    with pytest.raises(ValueError, match="expect must be"):
        compile_expression("x", NS, expect="float")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("x and 1", "'and' joins conditions, but 'x' is a number", 0),
        ("x > 0 and 1", "but '1' is a number", 10),
        ("x > 0 or y", "'or' joins conditions, but 'y' is a number", 9),
        ("not x", "'not' needs a condition, but 'x' is a number", 4),
        ("not (x + 1)", "'(x + 1)' is a number; compare it, e.g. '(x + 1) > 0'", 4),
        ("where(x, 1, 2)", "where() needs a condition first, but 'x' is a number", 6),
    ],
)
def test_logic_operands_must_be_conditions(text: str, fragment: str, position: int) -> None:
    err = error_of(text)
    assert fragment in err.message
    assert err.position == position


def test_where_kind_follows_its_branches() -> None:
    assert compile_expression("where(x > 0, y > 0, false)", NS).kind == "bool"
    assert compile_expression("where(x > 0, 1, y > 0)", NS).kind == "number"
    np.testing.assert_array_equal(run("where(x > 0, 1, y > 0)"), np.where(X > 0, 1.0, Y > 0))
    assert run("where(day > 30, 1, 2)") == 1


# -------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "fragment", "position"),
    [
        ("2 ^ 3", "use ** for powers", 2),
        ("x > 0 && y > 0", "use and/or/not", 6),
        ("x > 0 || y > 0", "use and/or/not", 6),
        ("!(x > 0)", "use and/or/not", 0),
        ("x > 0 & y > 0", "use and/or/not", 6),
        ("russia.rung = 3", "use == to compare", 12),
        ("russia.rung >== 3", "use == to compare", 14),
        ("x => 1", "use >=", 2),
        ("x // 2", "'//'", 2),
        ("x % 2", "modulo", 2),
        ("'x' > 1", "quotes", 0),
        ("x[0]", "use ( ) for grouping", 1),
        ("x # comment", "unexpected character '#'", 2),
        ("mn(x, 1)", "unknown function 'mn'; did you mean 'min'?", 0),
        ("foo(x)", "unknown function 'foo' (functions: abs, clip, exp", 0),
        ("day(2)", "'day' is not a function", 0),
        ("np.exp(x)", "'np.exp' cannot be called", 0),
        ("exp(1, 2)", "exp() takes exactly 1 argument (exp(x)), got 2", 0),
        ("1 + abs()", "abs() takes exactly 1 argument", 4),
        ("min(x)", "min() takes at least 2 arguments", 0),
        ("max()", "max() takes at least 2 arguments", 0),
        ("clip(x, 0)", "clip() takes exactly 3 arguments (clip(x, lo, hi)), got 2", 0),
        ("where(x > 0, 1)", "where() takes exactly 3 arguments", 0),
        ("(x + 1", "unbalanced parentheses: the '(' at column 1 is never closed", 0),
        ("min(x, (y)", "the '(' at column 4 is never closed", 3),
        ("x + 1)", "unbalanced parentheses: this ')' has no matching '('", 5),
        ("(x + 1 y)", "expected ')' to close the '(' at column 1, got name 'y'", 7),
        ("min(1 2)", "expected ',' or ')'", 6),
        ("x y", "unexpected name 'y' after 'x'; is an operator missing?", 2),
        ("x > 1 2", "unexpected number '2' after 'x > 1'", 6),
        ("2 (x)", "unexpected '('", 2),
        ("x, y", "commas only separate function arguments", 1),
        ("x AND y", "keywords are lowercase: 'and'", 2),
        ("x +", "unexpected end of expression; expected a value after '+'", 3),
        ("* x", "expected a value, got '*'", 0),
        ("and x", "expected a value before 'and'", 0),
        ("()", "empty parentheses", 0),
        ("min(1,)", "expected a value, got ')'", 6),
        ("x + not y > 0", "'not' must start a whole condition", 4),
        ("2x", "malformed number '2x'", 0),
        ("1.2.3", "malformed number '1.2.3'", 0),
        ("1e", "malformed number '1e'", 0),
        ("russia.", "expected an attribute name after 'russia.'", 7),
        ("russia.rung.max", "at most one '.'", 11),
        ("x.__class__", "invalid name '__class__': names cannot start with '_'", 2),
        ("__import__(x)", "names cannot start with '_'", 0),
        ("x + _y", "invalid name '_y'", 4),
        ("x \u2265 1", "non-ASCII character '\u2265' (U+2265); write '>=' instead", 2),
        ("caf\u00e9 > 1", "non-ASCII character", 3),
        ("x\x00 > 1", "control character U+0000", 1),
        ("x \x1b> 1", "control character U+001B", 2),
    ],
)
def test_error_messages_and_positions(text: str, fragment: str, position: int) -> None:
    err = error_of(text)
    assert fragment in err.message
    assert err.position == position
    assert err.text == text


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("rusia.rung", "unknown actor 'rusia' in 'rusia.rung'; did you mean 'russia'?", 0),
        (
            "russia.rungg > 1",
            "actor 'russia' has no attribute 'rungg'; did you mean 'rung'? (attributes: aid, rung)",
            7,
        ),
        ("dya > 30", "unknown name 'dya'; did you mean 'day'?", 0),
        ("russia > 2", "'russia' is an actor; name one of its attributes, e.g. 'russia.rung'", 0),
        ("eu", "'eu' is an actor; name one of its attributes, e.g. 'eu.sanctions'", 0),
        ("rung > 1", "did you mean 'russia.rung' or 'ukraine.rung'?", 0),
        ("invasoin", "unknown name 'invasoin'; did you mean 'invasion'?", 0),
        ("qqqq", "unknown name 'qqqq' (known names: ", 0),
        ("day.rung", "'day' is not an actor, so 'day.rung' is not a valid name", 0),
        ("china.rung", "unknown actor 'china' in 'china.rung' (actors: eu, flank, russia", 0),
        ("ukraine.zzz", "(attributes: aid, morale, rung)", 8),
        ("exp + 1", "'exp' is a function; call it, e.g. 'exp(x)'", 0),
        ("True", "did you mean 'true'?", 0),
        ("1 + mx(x, 1)", "did you mean 'max'?", 4),
    ],
)
def test_name_errors_say_what_is_wrong(text: str, message: str, position: int) -> None:
    err = error_of(text)
    assert message in err.message
    assert err.position == position


def test_error_string_shows_column_and_caret() -> None:
    err = error_of("russia.rung >== 3")
    lines = str(err).splitlines()
    assert lines[0] == err.message
    assert lines[1] == '  at column 15: "russia.rung >== 3"'
    assert lines[2].index("^") == lines[1].index('"') + 1 + 14


def test_error_excerpt_of_long_text_stays_aligned() -> None:
    text = "x + " * 100 + "y ^ 2"
    err = error_of(text)
    _, excerpt, caret = str(err).splitlines()
    assert len(excerpt) < 100
    assert excerpt[caret.index("^")] == "^"


def test_error_is_value_error_and_pickles() -> None:
    err = error_of("x +")
    assert isinstance(err, ValueError)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.message, copy.position, copy.text) == (err.message, err.position, err.text)
    assert str(copy) == str(err)
    assert str(ExpressionError("bad", 2)) == "bad (at column 3)"
    assert str(ExpressionError("bad")) == "bad"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_expressions_are_rejected(text: str | None) -> None:
    err = error_of(text)
    assert "empty expression" in err.message


def test_non_string_input_is_rejected() -> None:
    assert "got list" in error_of([1, 2]).message  # type: ignore[arg-type]


def test_length_limit() -> None:
    at_limit = "+".join(["x"] * 1000) + " "
    assert len(at_limit) == MAX_LENGTH
    # A flat 1000-term chain must evaluate without deep recursion.
    np.testing.assert_allclose(run(at_limit), 1000 * X)
    err = error_of(at_limit + "x")
    assert f"{MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}" in err.message
    assert err.position is None


def test_nesting_limit() -> None:
    deepest = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    np.testing.assert_array_equal(run(deepest), X)
    err = error_of("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    assert "nested more than 64 levels" in err.message
    assert err.position == MAX_DEPTH + 1


@pytest.mark.parametrize(
    "text",
    [
        "(" * 1999 + "x",
        "-" * 1999 + "x",
        "not " * 499 + "true",
        "x" + " ** x" * 399,
        "min(" * 400 + "x",
        "abs(" * 300 + "x" + ")" * 300,
    ],
)
def test_deep_nesting_raises_expression_error_not_recursion_error(text: str) -> None:
    assert "nested more than" in error_of(text).message


# ------------------------------------------------------------- names and constants


def test_constants_are_substituted_and_not_runtime_names() -> None:
    expr = compile_expression("russia.rung >= invasion and ukraine.rung < nuclear", NS)
    assert expr.names == frozenset({"russia.rung", "ukraine.rung"})
    env = {"russia.rung": np.array([2, 3, 6]), "ukraine.rung": np.array([6, 5, 1])}
    np.testing.assert_array_equal(expr(env), [False, True, True])


def test_names_lists_variables_and_actor_attributes() -> None:
    expr = compile_expression("where(day > horizon, russia.aid, min(x, 1))", NS)
    assert expr.names == frozenset({"day", "horizon", "russia.aid", "x"})
    assert not expr.is_constant


def test_missing_runtime_value_raises_key_error() -> None:
    with pytest.raises(KeyError):
        compile_expression("x + y", NS)({"x": 1.0})


def test_constant_expressions_are_folded_once() -> None:
    expr = compile_expression("invasion * 2 + max(1, nuclear) / 2", NS)
    assert expr.is_constant
    assert expr.names == frozenset()
    value = expr({})
    assert value == 9.0
    assert type(value) is float  # a plain Python value, not a numpy scalar
    cond = compile_expression("invasion < nuclear and not false", NS)
    assert cond.is_constant and cond.kind == "bool" and cond({}) is True


def test_constant_folding_never_warns_and_partial_folding_keeps_names() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compile_expression("log(0)", NS)({}) == -np.inf
        assert np.isnan(compile_expression("0 / 0", NS)({}))
        expr = compile_expression("x + 2 * 3 - log(1)", NS)
    assert expr.names == frozenset({"x"})
    np.testing.assert_allclose(expr(ENV), X + 6)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (0.25, "number", 0.25),
        (3, "number", 3.0),
        (True, "bool", True),
        (np.float64(2), "number", 2),
    ],
)
def test_plain_numbers_compile_to_constants(value: Any, kind: str, expected: Any) -> None:
    expr = compile_expression(value, NS)
    assert expr.kind == kind
    assert expr.is_constant
    assert expr({}) == expected
    assert compile_expression(True, NS, expect="number")({}) == 1.0


# ---------------------------------------------------------------------- evaluation


def test_scalar_inputs_give_scalars_and_arrays_give_arrays() -> None:
    expr = compile_expression("clash_rate * (1 + flank.reinforcement) * (russia.rung >= 3)", NS)
    scalar = expr({"clash_rate": 0.5, "flank.reinforcement": 1.0, "russia.rung": 4})
    assert np.ndim(scalar) == 0 and not isinstance(scalar, np.ndarray)
    assert scalar == 1.0
    array = expr({"clash_rate": 0.5, "flank.reinforcement": np.array([0.0, 1.0]), "russia.rung": 4})
    assert isinstance(array, np.ndarray) and array.shape == (2,)
    np.testing.assert_allclose(array, [0.5, 1.0])
    cond = compile_expression("where(day > 30, x, 0)", NS)
    assert np.ndim(cond({"day": 40, "x": 2.0})) == 0


def test_inputs_are_neither_copied_nor_modified() -> None:
    x = X.copy()
    assert compile_expression("x", NS)({"x": x}) is x
    compile_expression("-x + 1", NS)({"x": x})
    compile_expression("clip(x, 0, 1) * 2", NS)({"x": x})
    np.testing.assert_array_equal(x, X)


def test_evaluation_never_warns_on_bad_arithmetic() -> None:
    env = {"x": np.array([-1.0, 0.0, 1.0, np.inf]), "y": np.array([0.0, 0.0, 1e308, -np.inf])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ["x / y", "log(x)", "sqrt(x)", "exp(1000 * x)", "y * 10 + x * y", "x ** y"]:
            result = compile_expression(text, NS)(env)
            assert result.shape == (4,)
    np.testing.assert_array_equal(run("x / 0", {"x": np.array([1.0, -1.0])}), [np.inf, -np.inf])


def test_expression_is_a_frozen_value() -> None:
    a = compile_expression("x > 1", NS)
    b = compile_expression("x > 1", NS)
    assert isinstance(a, Expression)
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.text = "y"  # type: ignore[misc]


def test_module_never_uses_eval_or_exec() -> None:
    source = Path(conditions.__file__).read_text(encoding="utf-8")
    # re.compile is fine; the builtin compile() is not.
    for pattern in [r"\beval\s*\(", r"\bexec\s*\(", r"(?<![\w.])compile\s*\(", r"literal_eval"]:
        assert not re.search(pattern, source), pattern
    assert not re.search(r"^\s*(import ast|from ast )", source, re.MULTILINE)
    assert "__import__" not in source.replace("'__import__", "")


# ------------------------------------------------------------------------ namespace


def test_namespace_validates_names() -> None:
    with pytest.raises(ValueError, match="both a variable and a constant"):
        Namespace(variables=frozenset({"a"}), constants={"a": 1})
    with pytest.raises(ValueError, match="both a variable and an actor"):
        Namespace(variables=frozenset({"a"}), actors={"a": frozenset({"b"})})
    with pytest.raises(ValueError, match="invalid variable name '_a'"):
        Namespace(variables=frozenset({"_a"}))
    with pytest.raises(ValueError, match="reserved"):
        Namespace(constants={"and": 1})
    with pytest.raises(ValueError, match="invalid actor id 'north-korea'"):
        Namespace(actors={"north-korea": frozenset({"rung"})})
    with pytest.raises(TypeError, match="not the string"):
        Namespace(variables="day")  # type: ignore[arg-type]


def test_namespace_is_frozen_hashable_and_copies_its_inputs() -> None:
    constants = {"invasion": 3}
    ns = Namespace(variables=frozenset({"day"}), constants=constants, actors={"r": {"rung"}})
    constants["invasion"] = 99
    assert ns.constants["invasion"] == 3.0
    assert ns.actors["r"] == frozenset({"rung"})
    same = Namespace(
        variables=frozenset({"day"}), constants={"invasion": 3}, actors={"r": {"rung"}}
    )
    assert ns == same and hash(ns) == hash(same)
    with pytest.raises(TypeError):
        ns.constants["x"] = 1  # type: ignore[index]


def test_empty_namespace_accepts_only_literals() -> None:
    empty = Namespace()
    assert compile_expression("1 + 2", empty)({}) == 3
    assert "unknown name 'day'" in error_of("day", empty).message


# ------------------------------------------------------------------ property tests

_LITERALS = ["0", "1", "2", "3", "0.5", ".5", "2.5", "1e-3", "1.5e1", "10", "7."]
_VARIABLES = ["x", "y", "russia.rung"]
_Pair = tuple[str, Any]


def _quiet(func: Any, *args: Any) -> Any:
    with np.errstate(all="ignore"):
        return func(*args)


def _clip_reference(x: Any, lo: Any, hi: Any) -> Any:
    return np.minimum(np.maximum(x, lo), hi)


_LEAVES = st.one_of(
    st.sampled_from(_LITERALS).map(lambda s: (s, float(s))),
    st.sampled_from(_VARIABLES).map(lambda s: (s, ENV[s])),
)


@st.composite
def _arithmetic(draw: st.DrawFn, depth: int) -> _Pair:
    """A sum of products of factors, unparenthesised so precedence is exercised."""
    text, value = draw(_product(depth))
    for _ in range(draw(st.integers(0, 2 if depth > 1 else 1))):
        op = draw(st.sampled_from("+-"))
        term, term_value = draw(_product(depth))
        text = f"{text} {op} {term}"
        value = _quiet(np.add if op == "+" else np.subtract, value, term_value)
    return text, value


@st.composite
def _product(draw: st.DrawFn, depth: int) -> _Pair:
    text, value = draw(_factor(depth))
    for _ in range(draw(st.integers(0, 2 if depth > 1 else 1))):
        op = draw(st.sampled_from("*/"))
        term, term_value = draw(_factor(depth))
        text = f"{text} {op} {term}"
        value = _quiet(np.multiply if op == "*" else np.true_divide, value, term_value)
    return text, value


@st.composite
def _factor(draw: st.DrawFn, depth: int) -> _Pair:
    """unary := '-' unary | primary ('**' unary)?"""
    choice = draw(st.integers(0, 2 if depth > 0 else 0))
    if choice == 1:
        text, value = draw(_factor(depth - 1))
        return f"-{text}", _quiet(np.negative, value)
    base, base_value = draw(_primary(depth))
    if choice == 2:
        exponent, exponent_value = draw(_factor(depth - 1))
        return f"{base} ** {exponent}", _quiet(np.float_power, base_value, exponent_value)
    return base, base_value


@st.composite
def _primary(draw: st.DrawFn, depth: int) -> _Pair:
    choice = draw(st.integers(0, 2 if depth > 0 else 0))
    if choice == 0:
        return draw(_LEAVES)
    if choice == 1:
        text, value = draw(_arithmetic(depth - 1))
        return f"({text})", value
    name = draw(st.sampled_from(["abs", "exp", "sqrt", "log", "min", "max", "clip"]))
    arity = {"min": draw(st.integers(2, 3)), "max": 2, "clip": 3}.get(name, 1)
    args = [draw(_arithmetic(depth - 1)) for _ in range(arity)]
    values = [v for _, v in args]
    if name in ("min", "max"):
        value = values[0]
        for other in values[1:]:
            value = _quiet(np.minimum if name == "min" else np.maximum, value, other)
    elif name == "clip":
        value = _quiet(_clip_reference, *values)
    else:
        value = _quiet(
            {"abs": np.abs, "exp": np.exp, "sqrt": np.sqrt, "log": np.log}[name], *values
        )
    return f"{name}({', '.join(t for t, _ in args)})", value


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_arithmetic(2))
def test_random_arithmetic_matches_reference(pair: _Pair) -> None:
    text, expected = pair
    assume(len(text) <= MAX_LENGTH)
    expr = compile_expression(text, NS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = expr(ENV)
    assert np.shape(got) == np.shape(expected)
    assert np.allclose(got, expected, rtol=1e-9, atol=0, equal_nan=True), text


_ATOMS = st.sampled_from(
    [
        ("x > 0", X > 0),
        ("y <= x", Y <= X),
        ("russia.rung >= invasion", RUNG >= 3),
        ("-1 < x < 1", (X > -1) & (X < 1)),
        ("true", np.True_),
        ("false", np.False_),
        ("(x > y or y > 1)", (X > Y) | (Y > 1)),
    ]
)


@st.composite
def _condition(draw: st.DrawFn) -> _Pair:
    """A disjunction of conjunctions of possibly negated atoms, without parentheses."""
    disjuncts = []
    for _ in range(draw(st.integers(1, 3))):
        conjuncts = []
        for _ in range(draw(st.integers(1, 3))):
            text, value = draw(_ATOMS)
            if draw(st.booleans()):
                text, value = f"not {text}", np.logical_not(value)
            conjuncts.append((text, value))
        disjuncts.append(
            (
                " and ".join(t for t, _ in conjuncts),
                np.logical_and.reduce([np.broadcast_to(v, X.shape) for _, v in conjuncts]),
            )
        )
    text = " or ".join(t for t, _ in disjuncts)
    return text, np.logical_or.reduce([v for _, v in disjuncts])


@settings(max_examples=100, deadline=None)
@given(_condition())
def test_random_conditions_match_reference(pair: _Pair) -> None:
    text, expected = pair
    expr = compile_expression(text, NS, expect="bool")
    np.testing.assert_array_equal(np.broadcast_to(expr(ENV), X.shape), expected)


_TOKENS = [
    "x", "y", "day", "russia.rung", "russia", "rung", "invasion", "eu.sanctions", "1", "0",
    "2.5", "1e3", ".5", "(", ")", "+", "-", "*", "/", "**", "<", "<=", ">", ">=", "==", "!=",
    "and", "or", "not", "true", "false", "min(", "max(", "abs(", "exp(", "log(", "sqrt(",
    "clip(", "where(", ",", ".", "_x", "^", "=", "!", "&&", "\u00e9", "\t",
]  # fmt: skip


def _check_compiles_or_expression_error(text: str) -> None:
    try:
        expr = compile_expression(text, NS)
    except ExpressionError as err:
        assert err.message
        assert err.position is None or 0 <= err.position <= len(text)
        assert str(err)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expr(ENV)  # anything that compiles must also evaluate


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_arbitrary_text_compiles_or_raises_expression_error(text: str) -> None:
    _check_compiles_or_expression_error(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=20), st.sampled_from([" ", ""]))
def test_fuzz_token_soup_compiles_or_raises_expression_error(tokens: list[str], sep: str) -> None:
    _check_compiles_or_expression_error(sep.join(tokens))


@pytest.mark.parametrize("number", [10**400, float("nan"), float("inf"), -float("inf")])
def test_numbers_given_directly_must_be_finite(number: float) -> None:
    with pytest.raises(ExpressionError, match=r"too large|finite"):
        compile_expression(number, NS)
