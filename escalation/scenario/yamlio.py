"""Safe YAML reading that remembers the line of every field, and errors that name it.

Input files (scenarios, experiments) are read with PyYAML's safe composer only: no Python
objects are ever constructed from tags. While the node tree is turned into plain Python
values, the line of every mapping key and list item is kept in a :class:`LineMap`, so that a
later error, from pydantic or from a cross-check, can say ``file:line: field: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

#: Largest input file read; scenario files are a few kilobytes.
MAX_BYTES = 2_000_000
#: Most YAML nodes after aliases are expanded; stops "billion laughs" alias bombs.
MAX_NODES = 200_000

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
        return f"{where}: {self.field or '(file)'}: {self.message}" if self.field else (
            f"{where}: {self.message}"
        )


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
    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(file, None, "", "file not found") from None
    except IsADirectoryError:
        raise InputError(file, None, "", "is a folder, not a file") from None
    except OSError as error:
        raise InputError(file, None, "", f"cannot read: {error.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise InputError(
            file, None, "", f"file is {len(raw):,} bytes; input files are limited to {MAX_BYTES:,}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(
            file, line, "", f"bytes that are not UTF-8 at byte {error.start}; save the file as UTF-8"
        ) from None
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str = "<string>") -> tuple[Any, LineMap]:
    """Parse YAML text into plain Python values and the lines of its fields."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        raise InputError(file, line, "", f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise InputError(file, None, "", f"YAML error: {error}") from None
    finally:
        loader.dispose()
    lines = LineMap()
    if node is None:
        return None, lines
    lines.set((), node.start_mark.line + 1)
    return _convert(node, (), lines, loader, _Budget(file), file), lines


def _convert(
    node: yaml.Node, loc: Loc, lines: LineMap, loader: yaml.SafeLoader, budget: _Budget, file: str
) -> Any:
    budget.spend(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InputError(file, line, format_loc(loc), "YAML merge keys '<<' are not supported")
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(file, line, format_loc(loc), "a key must be a plain name")
            key = loader.construct_object(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = str(key)
            if key in out:
                raise InputError(file, line, format_loc((*loc, key)), "duplicate key")
            lines.set((*loc, key), line)
            out[key] = _convert(value_node, (*loc, key), lines, loader, budget, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines.set((*loc, index), item.start_mark.line + 1)
            items.append(_convert(item, (*loc, index), lines, loader, budget, file))
        return items
    try:
        return loader.construct_object(node)
    except yaml.constructor.ConstructorError as error:
        raise InputError(
            file, node.start_mark.line + 1, format_loc(loc), f"cannot read value: {error.problem}"
        ) from None
    except ValueError as error:  # e.g. a timestamp such as 2021-13-45
        raise InputError(file, node.start_mark.line + 1, format_loc(loc), str(error)) from None


def _model_at(model: type[BaseModel], loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model class that holds the last element of ``loc``, for did-you-mean."""
    current: Any = model
    for part in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


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
        annotation = field.annotation
        origin = getattr(annotation, "__origin__", None)
        current = _unwrap(annotation)
        if origin in (dict, list) and index + 1 < len(parts):
            index += 1  # skip the key or index into the container
        index += 1
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def validation_error(
    error: ValidationError, model: type[BaseModel], file: str, lines: LineMap
) -> InputError:
    """Turn pydantic's first error into one located, plain-language :class:`InputError`."""
    first = error.errors(include_url=False)[0]
    loc = tuple(part for part in first["loc"] if part != "[key]")
    kind = first["type"]
    field = format_loc(loc)
    if kind == "extra_forbidden":
        parent = _container_models(model, loc[:-1]) if loc[:-1] else model
        known = sorted(parent.model_fields) if parent else []
        message = f"unknown field '{loc[-1]}'"
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if close:
            message += f"; did you mean '{close[0]}'?"
        elif known:
            message += f"; expected one of: {', '.join(known)}"
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}'"
    elif kind == "string_pattern_mismatch":
        message = (
            f"'{first['input']}' is not a valid name: use lower-case letters, digits and "
            "underscores, starting with a letter"
        )
    else:
        message = first["msg"].removeprefix("Value error, ")
        if kind not in ("value_error", "assertion_error") and not isinstance(
            first.get("input"), dict | list
        ):
            message += f" (got {first.get('input')!r})"
    return InputError(file, lines.line(loc), field, message)
