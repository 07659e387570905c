"""Safe YAML reading that remembers the line of every field, and errors that name it.

Input files (scenarios, experiments) are read with PyYAML's safe composer only: no Python
objects are ever constructed from tags. While the node tree is turned into plain Python
values, the line of every mapping key and list item is kept in a :class:`LineMap`, so that a
later error, from pydantic or from a cross-check, can say ``file:line: field: message``.
"""

from __future__ import annotations

import datetime
import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

#: Largest input file read; scenario files are a few kilobytes.
MAX_BYTES = 2_000_000
#: Most YAML nodes after aliases are expanded; stops "billion laughs" alias bombs.
MAX_NODES = 200_000
#: Deepest nesting of lists and mappings; scenarios need fewer than ten levels, and deeper
#: input (or a self-referencing alias) would exhaust Python's recursion limit.
MAX_DEPTH = 64
#: The tags a list or mapping may carry: YAML's own defaults, never ``!!set``, ``!!python/...``.
_COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"})

Loc = tuple[str | int, ...]


class InputError(Exception):
    """A mistake in an input file, located by file, line and field."""

    def __init__(self, file: str, line: int | None, field: str, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.field = field
        self.message = message

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"


class LineMap:
    """Line numbers (1-based) of the fields of a document, looked up by location."""

    def __init__(self) -> None:
        self._lines: dict[Loc, int] = {}

    def set(self, loc: Loc, line: int) -> None:
        """Record the line of the field at ``loc``."""
        self._lines.setdefault(loc, line)

    def line(self, loc: Sequence[str | int]) -> int | None:
        """Line of ``loc``, or of its nearest recorded parent."""
        loc = tuple(loc)
        while loc:
            if loc in self._lines:
                return self._lines[loc]
            loc = loc[:-1]
        return self._lines.get((), None)


def format_loc(loc: Iterable[str | int]) -> str:
    """``('policies', 'x', 'do')`` -> ``policies.x.do``; list items as ``ladder[2]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


class _Budget:
    """Counts nodes while converting, so an alias bomb fails fast instead of filling memory."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.left = MAX_NODES

    def spend(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise InputError(
                self.file,
                node.start_mark.line + 1,
                "",
                f"the document expands to more than {MAX_NODES} values (an alias bomb, or far "
                "too large for a scenario)",
            )


def read_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Read a YAML file into plain Python values and the lines of its fields."""
    return parse_yaml_bytes(read_input(path), str(path))


def read_input(path: str | Path) -> bytes:
    """The bytes of an input file, read from one open and never more than the limit allows.

    One open, so that a named pipe or ``/dev/stdin`` is read once; at most ``MAX_BYTES + 1``
    bytes, so that an endless device such as ``/dev/zero`` is refused instead of filling
    memory. Raises :class:`InputError` naming the file.
    """
    file = str(path)
    try:
        if Path(path).is_dir():  # opening a folder raises PermissionError on Windows
            raise IsADirectoryError
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError(file, None, "", "file not found") from None
    except IsADirectoryError:
        raise InputError(file, None, "", "is a folder, not a file") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(file, None, "", f"cannot read: {reason}") from None
    if len(raw) > MAX_BYTES:
        try:
            size = Path(path).stat().st_size if Path(path).is_file() else 0
        except OSError:
            size = 0
        shown = f"{size:,} bytes" if size > MAX_BYTES else f"more than {MAX_BYTES:,} bytes"
        raise InputError(
            file, None, "", f"file is {shown}; input files are limited to {MAX_BYTES:,}"
        )
    return raw


def parse_yaml_bytes(raw: bytes, file: str = "<bytes>") -> tuple[Any, LineMap]:
    """Decode UTF-8 bytes and parse them as :func:`parse_yaml` does, within the size limit."""
    if len(raw) > MAX_BYTES:
        raise InputError(
            file, None, "", f"file is {len(raw):,} bytes; input files are limited to {MAX_BYTES:,}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(
            file,
            line,
            "",
            f"bytes that are not UTF-8 at byte {error.start}; save the file as UTF-8",
        ) from None
    return parse_yaml(text, file)


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with a bound on nesting, so deep input fails before recursing.

    PyYAML composes nodes recursively, two Python frames per level: a file of 500 '[' would
    otherwise end in a RecursionError rather than a message. It also reads numbers such as
    ``6e-1`` (no dot) as numbers, as YAML 1.2 does; PyYAML's YAML 1.1 rules make them text.
    """

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self.depth = 0
        super().__init__(text)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise InputError(
                    self.file,
                    self.peek_event().start_mark.line + 1,
                    "",
                    f"lists and mappings are nested more than {MAX_DEPTH} levels deep",
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


#: Numbers with an exponent that YAML 1.2 reads as floats but PyYAML's YAML 1.1 rules read as
#: text: no dot (``6e-1``) or no sign in the exponent (``1.5e3``).
_EXPONENT = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT, list("-+.0123456789"))
#: Python refuses to read integers longer than this (``sys.get_int_max_str_digits``).
_MAX_DIGITS = 4300


def parse_yaml(text: str, file: str = "<string>") -> tuple[Any, LineMap]:
    """Parse YAML text into plain Python values and the lines of its fields."""
    loader = None
    try:
        loader = _Loader(text, file)  # checks the characters of the whole text
        node = loader.get_single_node()
    except yaml.reader.ReaderError as error:
        position, code = error.position, error.character
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        character = f"character U+{code:04X}" if isinstance(code, int) else "a character"
        raise InputError(
            file, line, "", f"{character} is not allowed in YAML (a control character?)"
        ) from None
    except yaml.MarkedYAMLError as error:
        line, message = _syntax_message(error)
        raise InputError(file, line, "", f"YAML syntax error: {message}") from None
    except yaml.YAMLError as error:
        raise InputError(file, None, "", f"YAML error: {error}") from None
    finally:
        if loader is not None:
            loader.dispose()
    lines = LineMap()
    if node is None:  # empty, or only comments: say so at line 1
        lines.set((), 1)
        return None, lines
    lines.set((), node.start_mark.line + 1)
    return _convert(node, (), lines, loader, _Budget(file), file), lines


_OPENERS = {"flow sequence": "list opened with '['", "flow mapping": "mapping opened with '{'"}


def _syntax_message(error: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """The line to blame and a plain message for one of PyYAML's syntax errors."""
    problem = str(error.problem or "")
    context = str(error.context or "")
    problem_line = error.problem_mark.line + 1 if error.problem_mark else None
    context_line = error.context_mark.line + 1 if error.context_mark else None
    line = problem_line or context_line
    if "'\\t'" in problem or "tab character" in problem:
        return line, "a tab character; indent YAML with spaces, never tabs"
    for kind, opened in _OPENERS.items():
        # An unclosed bracket is noticed lines later; blame the line that opened it.
        if kind in context and context_line and problem_line and context_line != problem_line:
            return context_line, (
                f"the {opened} on this line is not closed ({problem} on line {problem_line})"
            )
    if "quoted scalar" in context and context_line:
        return context_line, f"the quoted text that starts on this line is not closed ({problem})"
    if "<block end>" in problem:
        return line, (
            f"this line's indentation does not line up with the lines above it ({problem})"
        )
    if "mapping values are not allowed here" in problem:
        return line, (
            f"{problem}; a value that contains ': ' must be quoted, and a nested mapping must "
            "start on its own line"
        )
    return line, " ".join(part for part in (context, problem) if part) or str(error)


def _convert(
    node: yaml.Node, loc: Loc, lines: LineMap, loader: yaml.SafeLoader, budget: _Budget, file: str
) -> Any:
    budget.spend(node)
    line = node.start_mark.line + 1
    if len(loc) > MAX_DEPTH:  # only a self-referencing alias gets here: composing bounds the rest
        raise InputError(
            file, line, format_loc(loc[:MAX_DEPTH]), f"nested more than {MAX_DEPTH} levels deep"
        )
    if isinstance(node, yaml.CollectionNode) and node.tag not in _COLLECTION_TAGS:
        raise InputError(
            file,
            line,
            format_loc(loc),
            f"YAML tag '{node.tag}' is not allowed on a list or mapping",
        )
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError(
                    file, key_line, format_loc((*loc, "<<")), "YAML merge keys are not supported"
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(file, key_line, format_loc(loc), "a key must be a plain name")
            key = _construct_scalar(key_node, loc, loader, file)
            if not isinstance(key, str | int) or isinstance(key, bool):
                # A key is a name: `no`, `on`, `null` or a date keep the text as written
                # (YAML 1.1 would make `no` the boolean False, reported as 'False').
                key = str(key_node.value)
            if key in out:
                raise InputError(
                    file,
                    key_line,
                    format_loc((*loc, key)),
                    f"duplicate key (first given on line {first_line[key]})",
                )
            first_line[key] = key_line
            lines.set((*loc, key), key_line)
            out[key] = _convert(value_node, (*loc, key), lines, loader, budget, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines.set((*loc, index), item.start_mark.line + 1)
            items.append(_convert(item, (*loc, index), lines, loader, budget, file))
        return items
    return _construct_scalar(node, loc, loader, file)


def _construct_scalar(node: yaml.Node, loc: Loc, loader: yaml.SafeLoader, file: str) -> Any:
    """A scalar's Python value (str, int, float, bool, None, date), or a located error."""
    if node.tag == "tag:yaml.org,2002:int" and len(str(node.value)) > _MAX_DIGITS:
        digits = sum(char.isdigit() for char in str(node.value))
        raise InputError(
            file,
            node.start_mark.line + 1,
            format_loc(loc),
            f"a whole number of {digits:,} digits is far too large for any field",
        )
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as error:
        raise InputError(
            file, node.start_mark.line + 1, format_loc(loc), f"cannot read value: {error.problem}"
        ) from None
    except ValueError as error:  # e.g. a timestamp such as 2021-13-45
        raise InputError(file, node.start_mark.line + 1, format_loc(loc), str(error)) from None


def _unwrap(annotation: Any) -> Any:
    """From ``dict[str, X]``, ``list[X]`` or ``X | None`` down to the model X, when there is one."""
    for _ in range(4):
        args = getattr(annotation, "__args__", None)
        if not args:
            return annotation
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if models:
            return models[0]
        annotation = args[-1]
    return annotation


def _strip(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``| None`` wrappers, keeping a container or model member."""
    for _ in range(8):
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if typing.get_origin(annotation) in (typing.Union, types.UnionType) and args:
            containers = [a for a in args if typing.get_origin(a) in (dict, list)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            annotation = (containers or models or args)[0]
            continue
        return annotation
    return annotation


def _container_models(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model whose fields sit at ``loc``, skipping dict keys and list indices."""
    current: Any = model
    index = 0
    parts = list(loc)
    while index < len(parts):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(parts[index]))
        if field is None:
            return None
        index += 1
        annotation = _strip(field.annotation)
        # Each dict or list level takes one part of the location (a key or an index).
        while typing.get_origin(annotation) in (dict, list) and index < len(parts):
            annotation = _strip(typing.get_args(annotation)[-1])
            index += 1
        current = _unwrap(annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


#: What a type error expected, in words; pydantic's own words name Python types.
_EXPECTED: dict[str, str] = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (name: value lines)",
    "model_type": "a mapping (name: value lines)",
    "model_attributes_type": "a mapping (name: value lines)",
    "list_type": "a list",
    "tuple_type": "a list",
    "date_type": "a date such as 2021-12-07",
    "date_parsing": "a date such as 2021-12-07",
    "date_from_datetime_parsing": "a date such as 2021-12-07",
    "date_from_datetime_inexact": "a date such as 2021-12-07",
}
#: Unions of the schema, described by what they mean rather than by their member types.
_UNIONS: dict[frozenset[str], str] = {
    frozenset({"text", "a whole number", "a number"}): (
        "a number or an expression (text such as '2 * x')"
    ),
    frozenset({"text", "true or false"}): "a condition (text such as 'day > 30') or true/false",
    frozenset({"a number", "a whole number"}): "a number",
    frozenset({"true or false", "a whole number", "a number", "text"}): (
        "a number, text or true/false"
    ),
}
#: Pydantic's "Input should be ..." and "List should have ..." read as "must be", "must have".
_SHOULD = re.compile(r"^(?:Input|List|String|Dictionary|Tuple|Value) should ")
_NAME_RULE = "use lower-case letters, digits and underscores, starting with a letter"


def describe(value: Any, limit: int = 60) -> str:
    """A short plain description of an input value for messages: ``the text 'abc'``."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int):
        if value.bit_length() > 64:  # repr of a huge int is long, or refused beyond 4300 digits
            sign = "negative " if value < 0 else ""
            return f"a {sign}{value.bit_length()}-bit whole number"
        return f"the number {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, datetime.datetime):
        return f"the date and time {value.isoformat(sep=' ')}"
    if isinstance(value, datetime.date):
        return f"the date {value.isoformat()}"
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 4] + "...'"
    return f"the text {text}" if isinstance(value, str) else text


def _data_loc(loc: Sequence[str | int], data: Any, kind: str) -> Loc:
    """Pydantic's location with the names of union members dropped, by walking the data.

    For ``horizon: [1]`` against ``int | str`` pydantic reports ``horizon.int`` and
    ``horizon.str``; only parts that are keys or indices of the input are fields. The last part
    of a missing field is not in the data either, and is kept.
    """
    parts = [part for part in loc if part != "[key]"]
    out: list[str | int] = []
    current = data
    for index, part in enumerate(parts):
        is_key = isinstance(current, dict) and part in current
        is_index = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if is_key or is_index:
            current = current[part]
        elif not (index == len(parts) - 1 and kind == "missing"):
            continue  # a union member's tag, such as 'str' or 'function-after[...]'
        out.append(part)
    return tuple(out)


_NO_DATA = object()


def validation_error(
    error: ValidationError,
    model: type[BaseModel],
    file: str,
    lines: LineMap,
    data: Any = _NO_DATA,
) -> InputError:
    """Turn one of pydantic's errors into a located, plain-language :class:`InputError`.

    ``data`` is the input that was validated; with it, the names of union members are left out
    of the field and a union's alternatives are described together. An unknown field is
    reported before anything else, since a misspelt name also makes a required field missing;
    otherwise the error nearest the top of the file is reported.
    """
    errors = error.errors(include_url=False)

    def where(item: Any) -> Loc:
        if data is _NO_DATA:
            return tuple(part for part in item["loc"] if part != "[key]")
        return _data_loc(item["loc"], data, item["type"])

    def rank(item: Any) -> tuple[int, int]:
        order = 0 if item["type"] == "extra_forbidden" else 2 if item["type"] == "missing" else 1
        return order, lines.line(where(item)) or 0

    first = min(errors, key=rank)
    loc = where(first)
    kind = first["type"]
    value = first.get("input")
    if kind == "extra_forbidden":
        parent = _container_models(model, loc[:-1]) if loc[:-1] else model
        known = sorted(parent.model_fields) if parent else []
        message = f"unknown field '{loc[-1]}'"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        elif known:
            message += f"; expected one of: {', '.join(known)}"
    elif kind == "missing" and isinstance(loc[-1], int):  # a short tuple, such as [day]
        message = f"the list needs at least {loc[-1] + 1} items"
        loc = loc[:-1]
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}'"
    elif "[key]" in first["loc"] or kind == "string_pattern_mismatch":
        shown = describe(value).removeprefix("the text ")
        message = f"{shown} is not a valid name: {_NAME_RULE} (at most 64 characters)"
    elif kind in _EXPECTED:
        # Every member of a union fails at the same place: describe them together.
        expected = [
            _EXPECTED[item["type"]]
            for item in errors
            if item["type"] in _EXPECTED and where(item) == loc
        ]
        words = list(dict.fromkeys(expected))
        alternatives = _UNIONS.get(frozenset(words)) or " or ".join(words)
        message = f"expected {alternatives}; got {describe(value)}"
    else:
        message = first["msg"].removeprefix("Value error, ").replace(" after validation", "")
        message = _SHOULD.sub("must ", message)
        if kind not in ("value_error", "assertion_error") and not isinstance(value, dict | list):
            message += f" (got {describe(value).removeprefix('the number ')})"
    return InputError(file, lines.line(loc), format_loc(loc), message)
