"""Tests for escalation.scenario.yamlio: safe YAML reading, line numbers, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr, ValidationError

from escalation.scenario.yamlio import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_NODES,
    InputError,
    LineMap,
    describe,
    format_loc,
    parse_yaml,
    parse_yaml_bytes,
    read_yaml,
    validation_error,
)


def error_of(text: str) -> InputError:
    """The InputError that parsing ``text`` raises."""
    with pytest.raises(InputError) as caught:
        parse_yaml(text, "t.yaml")
    return caught.value


# --- values and lines -------------------------------------------------------------------


def test_values_and_lines_of_keys_and_items() -> None:
    """Every key and list item gets the line it starts on; lookups fall back to the parent."""
    text = "# comment\nname: x\nactors:\n  a:\n    forces: 3\nladder:\n  - id: r0\n  - id: r1\n"
    data, lines = parse_yaml(text, "t.yaml")
    assert data == {
        "name": "x",
        "actors": {"a": {"forces": 3}},
        "ladder": [{"id": "r0"}, {"id": "r1"}],
    }
    assert lines.line(("name",)) == 2
    assert lines.line(("actors", "a", "forces")) == 5
    assert lines.line(("ladder", 1)) == 8
    assert lines.line(("ladder", 1, "id")) == 8
    # a field that is not in the file (a missing one) is placed at its parent
    assert lines.line(("actors", "a", "capability")) == 4
    assert lines.line(()) == 2  # the document starts after the comment


def test_linemap_without_entries_gives_none() -> None:
    """A LineMap built by hand (a dict scenario) locates nothing."""
    assert LineMap().line(("horizon",)) is None


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("policies", "x", "do"), "policies.x.do"),
        (("ladder", 2, "cost"), "ladder[2].cost"),
        (("parameters", "p", "path", 0, 1), "parameters.p.path[0][1]"),
        ((), ""),
    ],
)
def test_format_loc(loc: tuple[str | int, ...], text: str) -> None:
    """Fields print as dotted names, list items as [index]."""
    assert format_loc(loc) == text


def test_input_error_text() -> None:
    """The message reads file:line: field: message, leaving out what is unknown."""
    assert str(InputError("a.yaml", 3, "horizon", "bad")) == "a.yaml:3: horizon: bad"
    assert str(InputError("a.yaml", 3, "", "bad")) == "a.yaml:3: bad"
    assert str(InputError("a.yaml", None, "", "file not found")) == "a.yaml: file not found"


def test_empty_document_is_none_at_line_one() -> None:
    """An empty file or one of only comments reads as None, located at line 1."""
    for text in ("", "# only a comment\n", "\n\n"):
        data, lines = parse_yaml(text, "t.yaml")
        assert data is None
        assert lines.line(()) == 1


def test_plain_scalars_keep_yaml_types() -> None:
    """Numbers, booleans, null and dates come out as Python values, text as text."""
    data, _ = parse_yaml("a: 3\nb: 0.5\nc: true\nd: null\ne: 2021-12-07\nf: beta(2, 5)\n")
    assert data["a"] == 3 and data["b"] == 0.5 and data["c"] is True and data["d"] is None
    assert str(data["e"]) == "2021-12-07"
    assert data["f"] == "beta(2, 5)"


# --- YAML mistakes ----------------------------------------------------------------------


def test_unclosed_bracket_blames_the_line_that_opened_it() -> None:
    """PyYAML notices a missing ']' a line later; the message points at the '['."""
    error = error_of("a: 1\nb: [x, y\nc: 2\n")
    assert error.line == 2
    assert "'['" in error.message and "not closed" in error.message


def test_unclosed_brace_and_quote() -> None:
    """Unclosed '{' and quotes are also blamed on the line that opened them."""
    assert error_of("a: 1\nb: {x: 1\nc: 2\n").line == 2
    quoted = error_of('a: 1\nb: "text\nc: 2\n')
    assert quoted.line == 2 and "quoted" in quoted.message


def test_tab_indentation() -> None:
    """A tab in indentation is named as such, on its line."""
    error = error_of("a:\n  b: 1\n\tc: 2\n")
    assert error.line == 3
    assert "tab" in error.message and "spaces" in error.message


def test_bad_indentation() -> None:
    """A line indented out of step with its siblings is reported on that line."""
    error = error_of("a:\n  b: 1\n c: 2\n")
    assert error.line == 3
    assert "indentation" in error.message


def test_colon_in_value_hint() -> None:
    """'a: b: c' says that a value with ': ' needs quotes."""
    error = error_of("name: x\ntitle: a: b\n")
    assert error.line == 2 and "quoted" in error.message


def test_duplicate_key_names_both_lines() -> None:
    """A repeated key is an error at the repeat, which names the first line."""
    error = error_of("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (error.line, error.field) == (4, "b.c")
    assert "duplicate key" in error.message and "line 3" in error.message


def test_merge_keys_are_refused() -> None:
    """Merge keys hide where a value comes from; they are refused at their line."""
    error = error_of("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert error.line == 3 and "merge" in error.message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "a: !!set {x, y}\n",
        "a: !custom {x: 1}\n",
        "a: !!binary not-base64\n",
    ],
)
def test_tags_construct_no_objects(text: str) -> None:
    """Python and other non-default tags are refused; nothing is ever constructed."""
    error = error_of(text)
    assert error.line == 1 and error.field == "a"


def test_control_character_is_located() -> None:
    """A character YAML forbids (here ESC) names its code and line, not a PyYAML trace."""
    error = error_of("a: 1\nb: x\x1by\n")
    assert error.line == 2 and "U+001B" in error.message


def test_alias_bomb_stops_at_the_node_budget() -> None:
    """Billion laughs: a few lines that expand to 10**9 values fail fast with a message."""
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        text += f"{cur}: &{cur} [{', '.join([f'*{prev}'] * 10)}]\n"
    error = error_of(text)
    assert f"more than {MAX_NODES}" in error.message and "alias" in error.message
    assert error.line is not None


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 2000 + "]" * 2000,
        "a: " + "{b: " * 300 + "1" + "}" * 300,
        "a:\n" + "".join(" " * i + "- \n" for i in range(0, 400, 2)),
    ],
)
def test_deep_nesting_is_refused_not_a_recursion_error(text: str) -> None:
    """Deeply nested input would exhaust Python's stack; it is refused with a message."""
    error = error_of(text)
    assert f"more than {MAX_DEPTH} levels" in error.message
    assert error.line is not None


@pytest.mark.parametrize("text", ["a: &x [*x]\n", "a: &x {b: *x}\n"])
def test_self_referencing_alias_is_refused(text: str) -> None:
    """An anchor used inside itself makes an infinite value; it is refused."""
    error = error_of(text)
    assert "levels deep" in error.message and error.line == 1


def test_nesting_within_the_limit_reads() -> None:
    """Nesting a little under the limit is still read (the limit is not off by a lot)."""
    depth = MAX_DEPTH - 2
    data, _ = parse_yaml("[" * depth + "1" + "]" * depth)
    for _ in range(depth):
        data = data[0]
    assert data == 1


def test_second_document_is_refused() -> None:
    """A file holds one document."""
    assert "single document" in error_of("a: 1\n---\nb: 2\n").message


# --- files and bytes --------------------------------------------------------------------


def test_read_yaml_missing_file_and_folder(tmp_path: Path) -> None:
    """A missing file and a folder are each one located message."""
    with pytest.raises(InputError, match="file not found") as missing:
        read_yaml(tmp_path / "nope.yaml")
    assert missing.value.file.endswith("nope.yaml")
    with pytest.raises(InputError, match="folder"):
        read_yaml(tmp_path)


def test_bytes_over_the_limit_are_refused_before_parsing() -> None:
    """A file larger than MAX_BYTES is refused by size."""
    with pytest.raises(InputError, match="bytes") as caught:
        parse_yaml_bytes(b"a: 1\n" + b"#" * MAX_BYTES, "big.yaml")
    assert "limited" in caught.value.message


def test_bytes_that_are_not_utf8_name_their_line() -> None:
    """Latin-1 text is refused at the line of the first bad byte."""
    with pytest.raises(InputError, match="UTF-8") as caught:
        parse_yaml_bytes("a: 1\nb: caf\xe9\n".encode("latin-1"), "l1.yaml")
    assert caught.value.line == 2


def test_utf8_bom_is_accepted() -> None:
    """Editors on Windows write a byte-order mark; it is not an error."""
    data, _ = parse_yaml_bytes("\ufeffa: 1\n".encode(), "bom.yaml")
    assert data == {"a": 1}


# --- describing values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "nothing (an empty value)"),
        (True, "true"),
        (3, "the number 3"),
        (0.5, "the number 0.5"),
        ("abc", "the text 'abc'"),
        ([1], "a list"),
        ({"a": 1}, "a mapping"),
        (10**5000, "a 16610-bit whole number"),
    ],
    ids=lambda value: type(value).__name__,  # str() of 10**5000 is refused by Python
)
def test_describe(value: object, text: str) -> None:
    """Values are described in words; a huge int does not hit Python's digit limit."""
    assert describe(value) == text


def test_describe_shortens_long_text() -> None:
    """A long value never floods the message."""
    assert len(describe("x" * 10_000)) < 80


# --- pydantic errors --------------------------------------------------------------------


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: StrictFloat | StrictInt
    when: bool | StrictStr = True


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    horizon: int
    rate: StrictStr | StrictInt | StrictFloat = 0
    items: dict[str, _Inner] = {}


def located(text: str) -> InputError:
    """Validate ``text`` against _Outer and return the located error."""
    data, lines = parse_yaml(text, "m.yaml")
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(data)
    return validation_error(caught.value, _Outer, "m.yaml", lines, data)


def test_union_member_names_are_not_fields() -> None:
    """'rate.str' is pydantic's name for a union member: the field is 'rate'."""
    error = located("horizon: 3\nrate: [1]\n")
    assert (error.field, error.line) == ("rate", 2)
    assert error.message == "expected a number or an expression (text such as '2 * x'); got a list"


def test_union_of_condition_and_numbers_in_words() -> None:
    """A number where a condition belongs, and a list where a number belongs."""
    cond = located("horizon: 3\nitems:\n  a:\n    weight: 1\n    when: [x]\n")
    assert (cond.field, cond.line) == ("items.a.when", 5)
    assert "condition" in cond.message
    weight = located("horizon: 3\nitems:\n  a:\n    weight: text\n")
    assert weight.message == "expected a number; got the text 'text'"


def test_unknown_field_comes_before_the_missing_one_it_causes() -> None:
    """'horizn' makes 'horizon' missing too; the typo is the one to report."""
    error = located("rate: 1\nhorizn: 3\n")
    assert (error.field, error.line) == ("horizn", 2)
    assert "did you mean 'horizon'?" in error.message


def test_unknown_field_in_a_nested_model_suggests_its_fields() -> None:
    """Did-you-mean looks at the model that holds the field, through dict keys."""
    error = located("horizon: 3\nitems:\n  a:\n    wieght: 1\n")
    assert (error.field, error.line) == ("items.a.wieght", 4)
    assert "did you mean 'weight'?" in error.message


def test_constraint_messages_say_must() -> None:
    """Pydantic's 'Input should be' reads as 'must be', with the value given."""
    error = located("horizon: ten\n")
    assert error.message == "expected a whole number; got the text 'ten'"


def test_validation_error_without_data_keeps_working() -> None:
    """Callers that do not pass the data still get a located message."""
    data, lines = parse_yaml("horizon: x\n", "m.yaml")
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(data)
    error = validation_error(caught.value, _Outer, "m.yaml", lines)
    assert error.line == 1 and error.field.startswith("horizon")


# --- hardening (issue 13) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [("no: 1\n", "no"), ("Yes: 1\n", "Yes"), ("off: 1\n", "off"), ("null: 1\n", "null")],
)
def test_keys_that_yaml_1_1_reads_as_booleans_keep_their_text(text: str, key: str) -> None:
    """A key written `no` is the name 'no', not False (YAML 1.2 reads it so, and users mean it)."""
    data, lines = parse_yaml(f"top:\n  {text}", "k.yaml")
    assert list(data["top"]) == [key]
    assert lines.line(("top", key)) == 2


def test_exponent_without_a_dot_is_a_number() -> None:
    """`6e-1` is a number in YAML 1.2 (PyYAML's 1.1 rules would read it as text)."""
    data, _ = parse_yaml("a: 6e-1\nb: -1E5\nc: 1e+3\nd: e5\ne: '6e-1'\nf: 1.5e3\ng: .5e1\n")
    assert data == {"a": 0.6, "b": -1e5, "c": 1000.0, "d": "e5", "e": "6e-1", "f": 1500.0, "g": 5.0}


def test_a_huge_integer_is_a_located_message_without_python_advice() -> None:
    """Python refuses to read a 5000-digit integer; the message says what is wrong instead."""
    error = error_of("a: 1\nseed: " + "9" * 5000 + "\n")
    assert (error.line, error.field) == (2, "seed")
    assert "5,000 digits" in error.message and "too large" in error.message
    assert "sys.set_int_max_str_digits" not in error.message


def test_describe_dates_and_times_in_words() -> None:
    """A date with a time is shown as written, not as datetime.datetime(...)."""
    import datetime

    moment = datetime.datetime(2021, 12, 7, 10, 0)
    assert describe(moment) == "the date and time 2021-12-07 10:00:00"
    assert describe(datetime.date(2021, 12, 7)) == "the date 2021-12-07"


def test_read_stops_at_the_limit_on_an_endless_file() -> None:
    """/dev/zero never ends: reading stops after the limit instead of filling memory."""
    zero = Path("/dev/zero")
    if not zero.exists():
        pytest.skip("no /dev/zero on this system")
    with pytest.raises(InputError, match="more than 2,000,000 bytes"):
        read_yaml(zero)


def test_a_fifo_is_read_once(tmp_path: Path) -> None:
    """A named pipe can be read only once: the scenario in it is read, not an empty second read."""
    import os
    import threading

    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    fifo = tmp_path / "scenario.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("a: 1\nb: [2, 3]\n"), daemon=True)
    writer.start()
    data, _ = read_yaml(fifo)
    writer.join(timeout=10)
    assert data == {"a": 1, "b": [2, 3]}


def test_values_of_any_kind_are_described_together() -> None:
    """A list item that must be a number, text or flag, given null, names all three."""
    from pydantic import StrictBool

    class _Values(BaseModel):
        values: list[StrictBool | StrictInt | StrictFloat | StrictStr]

    data, lines = parse_yaml("values: [null]\n", "v.yaml")
    with pytest.raises(ValidationError) as caught:
        _Values.model_validate(data)
    error = validation_error(caught.value, _Values, "v.yaml", lines, data)
    assert error.field == "values[0]"
    assert error.message == "expected a number, text or true/false; got nothing (an empty value)"
