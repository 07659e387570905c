"""Compile the small expressions in scenario files into fast numpy callables.

Scenario YAML written by analysts carries conditions and rates such as
``red.rung >= invasion``, ``day > 30 and blue.aid < 0.5`` or
``min(1, base_hazard * exp(0.1 * red.rung))``. This module turns such text into an
:class:`Expression`: a callable that takes a mapping of state arrays (or scalars) and
returns the numpy result.

The text is never handed to Python's own machinery (no eval/exec, no ``ast``). A
hand-written tokenizer and Pratt parser build a small tree, which is then checked once
against a :class:`Namespace` (which names exist) and for kinds (``bool`` vs ``number``);
subtrees without runtime names are folded to constants. What remains is compiled into
nested closures, so a call costs only the numpy operations themselves. That matters
because the Monte Carlo engine evaluates these expressions every simulated day on
arrays of ~10^4 trials.

Grammar, from lowest to highest precedence::

    or-expr    := and-expr ('or' and-expr)*
    and-expr   := not-expr ('and' not-expr)*
    not-expr   := 'not' not-expr | comparison
    comparison := sum (CMP sum)*            # a < b < c means a < b and b < c
    sum        := product (('+' | '-') product)*
    product    := unary (('*' | '/') unary)*
    unary      := ('-' | '+') unary | power
    power      := atom ('**' unary)?        # right-assoc; -x ** 2 == -(x ** 2)
    atom       := NUMBER | 'true' | 'false' | NAME | NAME '.' NAME
                | FUNC '(' args ')' | '(' or-expr ')'
"""

from __future__ import annotations

import difflib
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, Literal

import numpy as np

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "Kind",
    "Namespace",
    "compile_expression",
]

Kind = Literal["bool", "number"]
"""The two kinds of value an expression can produce."""

MAX_LENGTH: Final = 2000
"""Longest accepted expression text, in characters."""

MAX_DEPTH: Final = 64
"""Deepest accepted nesting of parentheses, calls and operators."""

FUNCTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "abs": "abs(x)",
        "clip": "clip(x, lo, hi)",
        "exp": "exp(x)",
        "log": "log(x)",
        "max": "max(a, b, ...)",
        "min": "min(a, b, ...)",
        "sqrt": "sqrt(x)",
        "where": "where(condition, if_true, if_false)",
    }
)
"""The whitelisted functions, each with its call signature (used in error messages)."""

_ARITY: Final[dict[str, tuple[int, int | None]]] = {
    "abs": (1, 1),
    "clip": (3, 3),
    "exp": (1, 1),
    "log": (1, 1),
    "max": (2, None),
    "min": (2, None),
    "sqrt": (1, 1),
    "where": (3, 3),
}

_KEYWORDS: Final = frozenset({"and", "or", "not", "true", "false"})

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]


# --------------------------------------------------------------------------- errors


class ExpressionError(ValueError):
    """A malformed expression. `position` is the 0-based character offset of the problem, or None.

    `text` is the expression the error refers to (filled in by :func:`compile_expression`);
    ``str(err)`` shows the message and, when the position is known, the offending column
    of the text with a caret under it.
    """

    def __init__(self, message: str, position: int | None = None, text: str | None = None):
        # All three go to args so the error survives pickling (e.g. from worker processes).
        super().__init__(message, position, text)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        column = self.position + 1
        if self.text is None:
            return f"{self.message} (at column {column})"
        shown, caret = _excerpt(self.text, self.position)
        lead = f"  at column {column}: "
        return f'{self.message}\n{lead}"{shown}"\n{" " * (len(lead) + 1 + caret)}^'


def _excerpt(text: str, position: int, width: int = 72) -> tuple[str, int]:
    """A one-line, caret-alignable window of `text` around `position`."""
    # Anything that is not printable ASCII would break the caret alignment.
    clean = "".join(ch if " " <= ch <= "~" else (" " if ch in "\t\r\n" else "?") for ch in text)
    if len(clean) <= width:
        return clean, position
    start = max(0, min(position - width // 2, len(clean) - width))
    end = start + width
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(clean) else ""
    return prefix + clean[start:end] + suffix, position - start + len(prefix)


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest candidate, or '' if none is close."""
    match = difflib.get_close_matches(word, list(candidates), n=1)
    return f"; did you mean '{match[0]}'?" if match else ""


def _listing(items: Iterable[str], limit: int = 12) -> str:
    """Comma-separated sorted items, cut short with '...' after `limit`."""
    ordered = sorted(items)
    text = ", ".join(ordered[:limit])
    return text + (", ..." if len(ordered) > limit else "")


def _short(fragment: str, limit: int = 40) -> str:
    """Shorten a quoted source fragment so messages stay readable."""
    fragment = " ".join(fragment.split())
    return fragment if len(fragment) <= limit else fragment[: limit - 3] + "..."


# ------------------------------------------------------------------------ namespace

_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _check_identifier(name: object, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"invalid {what} {name!r}: use ASCII letters, digits and '_', starting with a letter"
        )
    if name in _KEYWORDS or name in FUNCTIONS:
        raise ValueError(
            f"invalid {what} {name!r}: it is a reserved word of the expression language"
        )
    return name


def _name_set(values: Iterable[str], what: str) -> frozenset[str]:
    # A bare string is iterable too; frozenset("day") would silently mean {'d', 'a', 'y'}.
    if isinstance(values, str):
        raise TypeError(f"{what} must be a collection of names, not the string {values!r}")
    return frozenset(_check_identifier(v, what) for v in values)


@dataclass(frozen=True)
class Namespace:
    """What names an expression may use.

    `variables` are plain runtime names ("day", parameter names), `constants` are names
    replaced by numbers at compile time (rung ids such as ``{"invasion": 3}``) and
    `actors` maps each actor id to its attribute names, used as ``red.rung``. All names
    must be ASCII identifiers that start with a letter and are not reserved words or
    function names; a name may belong to only one of the three groups. `rungs` optionally
    says, for constants that are rungs, which actors stand on the ladder holding them: a
    comparison of ``red.rung`` (or ``red.peak``) with a rung of another ladder is refused.
    Mappings are copied into read-only views, and the namespace is hashable.
    """

    variables: frozenset[str] = frozenset()
    constants: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    actors: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    rungs: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        variables = _name_set(self.variables, "variable name")
        constants = {
            _check_identifier(k, "constant name"): float(v) for k, v in dict(self.constants).items()
        }
        actors = {
            _check_identifier(k, "actor id"): _name_set(v, f"attribute name of actor {k!r}")
            for k, v in dict(self.actors).items()
        }
        for first, second, label in (
            (variables, constants.keys(), "both a variable and a constant"),
            (variables, actors.keys(), "both a variable and an actor"),
            (constants.keys(), actors.keys(), "both a constant and an actor"),
        ):
            clash = sorted(set(first) & set(second))
            if clash:
                raise ValueError(f"{_listing(clash)}: a name cannot be {label}")
        object.__setattr__(self, "variables", variables)
        object.__setattr__(self, "constants", MappingProxyType(constants))
        object.__setattr__(self, "actors", MappingProxyType(actors))
        rungs = {name: frozenset(owners) for name, owners in dict(self.rungs).items()}
        object.__setattr__(self, "rungs", MappingProxyType(rungs))

    def __hash__(self) -> int:
        return hash(
            (
                self.variables,
                frozenset(self.constants.items()),
                frozenset(self.actors.items()),
                frozenset(self.rungs.items()),
            )
        )


# ------------------------------------------------------------------------ tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: Literal["num", "name", "kw", "op", "end"]
    text: str
    pos: int
    value: float = 0.0

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the expression"
        if self.kind == "num":
            return f"number '{self.text}'"
        if self.kind == "name":
            return f"name '{self.text}'"
        return f"'{self.text}'"


_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_BAD_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_OPS_2: Final = frozenset({"**", "<=", ">=", "==", "!="})
_OPS_1: Final = frozenset("+-*/<>(),.")
_LOGIC_HINT = "use and/or/not, e.g. 'day > 30 and not (blue.sanctions > 0)'"
_BAD_OPS: Final = {
    "&&": f"'&&' is not an operator; {_LOGIC_HINT}",
    "||": f"'||' is not an operator; {_LOGIC_HINT}",
    "//": "'//' (floor division) is not supported; use / for division",
    "=<": "'=<' is not an operator; use <=",
    "=>": "'=>' is not an operator; use >=",
    "<>": "'<>' is not an operator; use !=",
    "^": "'^' is not an operator; use ** for powers, e.g. 'x ** 2'",
    "&": f"'&' is not an operator; {_LOGIC_HINT}",
    "|": f"'|' is not an operator; {_LOGIC_HINT}",
    "!": f"'!' is not an operator; {_LOGIC_HINT}",
    "~": f"'~' is not an operator; {_LOGIC_HINT}",
    "=": "'=' alone is not an operator; use == to compare, e.g. 'red.rung == 3'",
    "%": "'%' (modulo) is not supported",
    "'": "quotes are not allowed: expressions have no strings",
    '"': "quotes are not allowed: expressions have no strings",
    "[": "'[' is not allowed; use ( ) for grouping",
    "]": "']' is not allowed; use ( ) for grouping",
    "{": "'{' is not allowed; use ( ) for grouping",
    "}": "'}' is not allowed; use ( ) for grouping",
}
# Characters that word processors and copy-paste tend to introduce.
_UNICODE_HINTS: Final = {
    "\u2265": "'>='",
    "\u2264": "'<='",
    "\u2260": "'!='",
    "\u2212": "'-'",
    "\u2013": "'-'",
    "\u2014": "'-'",
    "\u00d7": "'*'",
    "\u00f7": "'/'",
    "\u00a0": "a plain space",
}


def _check_characters(text: str) -> None:
    if not text.isascii():
        pos, ch = next((i, c) for i, c in enumerate(text) if not c.isascii())
        hint = _UNICODE_HINTS.get(ch)
        extra = f"; write {hint} instead" if hint else "; use plain ASCII"
        raise ExpressionError(f"non-ASCII character {ch!r} (U+{ord(ch):04X}){extra}", pos)
    bad = _BAD_CONTROL.search(text)
    if bad:
        code = ord(bad.group())
        raise ExpressionError(f"control character U+{code:04X} is not allowed", bad.start())


def _tokenize(text: str) -> list[_Token]:
    """Split `text` into tokens; the list always ends with an 'end' token."""
    _check_characters(text)
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
            continue
        after_name = bool(tokens) and tokens[-1].kind == "name"
        if ch.isdigit() or (ch == "." and text[i + 1 : i + 2].isdigit() and not after_name):
            match = _NUMBER.match(text, i)
            assert match is not None  # the first character guarantees a match
            j = match.end()
            if j < n and (text[j].isalnum() or text[j] in "_."):
                k = _NUMBER_TAIL.match(text, j).end()  # type: ignore[union-attr]
                raise ExpressionError(
                    f"malformed number '{text[i:k]}'; numbers look like 3, 0.5, .5 or 1e-3"
                    " (write '2 * x', not '2x')",
                    i,
                )
            tokens.append(_Token("num", match.group(), i, float(match.group())))
            i = j
            continue
        if ch.isalpha() or ch == "_":
            word = _WORD.match(text, i).group()  # type: ignore[union-attr]
            if word.startswith("_"):
                raise ExpressionError(f"invalid name '{word}': names cannot start with '_'", i)
            tokens.append(_Token("kw" if word in _KEYWORDS else "name", word, i))
            i += len(word)
            continue
        pair = text[i : i + 2]
        if pair in _OPS_2:
            tokens.append(_Token("op", pair, i))
            i += 2
            continue
        if pair in _BAD_OPS:
            raise ExpressionError(_BAD_OPS[pair], i)
        if ch in _OPS_1:
            tokens.append(_Token("op", ch, i))
            i += 1
            continue
        raise ExpressionError(_BAD_OPS.get(ch, f"unexpected character '{ch}'"), i)
    tokens.append(_Token("end", "", n))
    return tokens


# --------------------------------------------------------------------------- parser


@dataclass(frozen=True, slots=True)
class _Node:
    """A syntax-tree node; `value` holds the literal, name, operator list or function."""

    op: str  # num bool name attr neg pos not arith and or cmp pow call
    start: int
    end: int
    children: tuple[_Node, ...] = ()
    value: Any = None


_CMP_OPS: Final = frozenset({"<", "<=", ">", ">=", "==", "!="})
_NOT_BP, _CMP_BP, _UNARY_BP, _POW_BP = 30, 40, 70, 80
_INFIX_BP: Final = {
    "or": 10,
    "and": 20,
    **dict.fromkeys(_CMP_OPS, _CMP_BP),
    "+": 50,
    "-": 50,
    "*": 60,
    "/": 60,
    "**": _POW_BP,
}
# Operators sharing a level are collected into one n-ary node, so long chains such as
# 'a + b + ... + z' build a flat node rather than a deep tree (no deep recursion later).
_LEVEL: Final = {
    "or": ("or",),
    "and": ("and",),
    "+": ("+", "-"),
    "-": ("+", "-"),
    "*": ("*", "/"),
    "/": ("*", "/"),
}


class _Parser:
    """Pratt parser over a token list; nesting is bounded by MAX_DEPTH."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def at(self, *texts: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind in ("op", "kw") and tok.text in texts

    def parse(self) -> _Node:
        node = self.expression(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.trailing(tok, node)
        return node

    def trailing(self, tok: _Token, node: _Node) -> ExpressionError:
        before = _short(self.text[node.start : node.end])
        if tok.text == ")":
            return ExpressionError("unbalanced parentheses: this ')' has no matching '('", tok.pos)
        if tok.kind == "name" and tok.text.lower() in _KEYWORDS:
            return ExpressionError(
                f"'{tok.text}' is not an operator; keywords are lowercase: '{tok.text.lower()}'",
                tok.pos,
            )
        if tok.text == ",":
            return ExpressionError(
                "unexpected ','; commas only separate function arguments", tok.pos
            )
        return ExpressionError(
            f"unexpected {tok.describe()} after '{before}'; is an operator missing?", tok.pos
        )

    def expression(self, rbp: int) -> _Node:
        """Parse operators binding tighter than `rbp` (the Pratt loop)."""
        self.depth += 1
        try:
            # The top level is depth 1, so MAX_DEPTH nested parentheses are still accepted.
            if self.depth > MAX_DEPTH + 1:
                raise ExpressionError(
                    f"expression is nested more than {MAX_DEPTH} levels deep; simplify it",
                    self.peek().pos,
                )
            left = self.prefix(rbp)
            while True:
                tok = self.peek()
                lbp = _INFIX_BP.get(tok.text) if tok.kind in ("op", "kw") else None
                if lbp is None or lbp <= rbp:
                    return left
                left = self.infix(left, lbp)
        finally:
            self.depth -= 1

    def prefix(self, rbp: int) -> _Node:
        tok = self.advance()
        if tok.kind == "num":
            return _Node("num", tok.pos, tok.end, value=tok.value)
        if tok.kind == "name":
            return self.name(tok)
        if tok.kind == "kw":
            if tok.text in ("true", "false"):
                return _Node("bool", tok.pos, tok.end, value=tok.text == "true")
            if tok.text == "not":
                if rbp > _NOT_BP:
                    raise ExpressionError(
                        "'not' must start a whole condition; put it in parentheses, "
                        "e.g. '(not x > 1)'",
                        tok.pos,
                    )
                operand = self.expression(_NOT_BP)
                return _Node("not", tok.pos, operand.end, (operand,))
            raise ExpressionError(f"expected a value before '{tok.text}'", tok.pos)
        if tok.text in ("-", "+"):
            operand = self.expression(_UNARY_BP)
            return _Node("neg" if tok.text == "-" else "pos", tok.pos, operand.end, (operand,))
        if tok.text == "(":
            if self.at(")"):
                raise ExpressionError("empty parentheses '()'", tok.pos)
            inner = self.expression(0)
            close = self.close(tok)
            # Widen the span so messages quote the parentheses too.
            return replace(inner, start=tok.pos, end=close.end)
        if tok.kind == "end":
            if self.i == 0:
                raise ExpressionError("empty expression", tok.pos)
            prev = self.tokens[self.i - 1]
            raise ExpressionError(
                f"unexpected end of expression; expected a value after '{prev.text}'", tok.pos
            )
        raise ExpressionError(f"expected a value, got {tok.describe()}", tok.pos)

    def close(self, opening: _Token, in_call: bool = False) -> _Token:
        tok = self.advance()
        if tok.text == ")" and tok.kind == "op":
            return tok
        if tok.kind == "end":
            raise ExpressionError(
                f"unbalanced parentheses: the '(' at column {opening.pos + 1} is never closed",
                opening.pos,
            )
        expected = "',' or ')'" if in_call else "')'"
        raise ExpressionError(
            f"expected {expected} to close the '(' at column {opening.pos + 1}, "
            f"got {tok.describe()}",
            tok.pos,
        )

    def name(self, tok: _Token) -> _Node:
        if self.at("."):
            self.advance()
            attr = self.advance()
            if attr.kind != "name":
                raise ExpressionError(
                    f"expected an attribute name after '{tok.text}.', got {attr.describe()}",
                    attr.pos,
                )
            node = _Node("attr", tok.pos, attr.end, value=(tok.text, attr.text, attr.pos))
            if self.at("."):
                raise ExpressionError(
                    "a name has at most one '.', as in 'red.rung'", self.peek().pos
                )
            if self.at("("):
                raise ExpressionError(
                    f"'{tok.text}.{attr.text}' cannot be called; only the built-in functions "
                    f"can: {', '.join(FUNCTIONS)}",
                    tok.pos,
                )
            return node
        if not self.at("("):
            return _Node("name", tok.pos, tok.end, value=tok.text)
        opening = self.advance()
        args: list[_Node] = []
        if not self.at(")"):
            args.append(self.expression(0))
            while self.at(","):
                self.advance()
                args.append(self.expression(0))
        close = self.close(opening, in_call=True)
        return _Node("call", tok.pos, close.end, tuple(args), value=tok.text)

    def infix(self, left: _Node, lbp: int) -> _Node:
        tok = self.advance()
        if tok.text == "**":
            # Right operand is a unary: right-associative and allows '2 ** -1'.
            right = self.expression(_POW_BP - 1)
            return _Node("pow", left.start, right.end, (left, right))
        if tok.text in _CMP_OPS:
            same: tuple[str, ...] = tuple(_CMP_OPS)
            kind = "cmp"
        else:
            same = _LEVEL[tok.text]
            kind = tok.text if tok.text in ("and", "or") else "arith"
        ops = [tok.text]
        operands = [left, self.expression(lbp)]
        while self.at(*same):
            ops.append(self.advance().text)
            operands.append(self.expression(lbp))
        return _Node(kind, left.start, operands[-1].end, tuple(operands), tuple(ops))


# ------------------------------------------------------------------------- compiler

_NOT_CONSTANT: Final = object()


class _Code:
    """A type-checked subtree: either a folded constant `value` or a closure `fn`."""

    __slots__ = ("fn", "kind", "names", "risky", "value")

    def __init__(
        self,
        kind: Kind,
        *,
        value: Any = _NOT_CONSTANT,
        fn: Fn | None = None,
        names: frozenset[str] = frozenset(),
        risky: bool = False,
    ) -> None:
        self.kind = kind
        self.value = value
        self.fn = fn
        self.names = names
        self.risky = risky  # whether evaluation can raise floating-point warnings

    @property
    def is_constant(self) -> bool:
        return self.value is not _NOT_CONSTANT

    def getter(self) -> Fn:
        if self.fn is not None:
            return self.fn
        value = self.value
        return lambda env: value


def _numeric(code: _Code) -> _Code:
    """Coerce a bool subtree to 0/1 floats (numpy's bool+bool is 'or' and -bool raises)."""
    if code.kind == "number":
        return code
    if code.is_constant:
        return _Code("number", value=float(code.value))
    f = code.getter()
    return _Code(
        "number", fn=lambda env: np.multiply(f(env), 1.0), names=code.names, risky=code.risky
    )


def _clip(x: Any, lo: Any, hi: Any) -> Any:
    return np.minimum(np.maximum(x, lo), hi)


def _where(cond: Any, a: Any, b: Any) -> Any:
    # np.where returns a 0-d array for scalar inputs; [()] turns that back into a scalar.
    return np.where(cond, a, b)[()]


_ARITH: Final = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.true_divide,
}
_COMPARE: Final = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}
_MATH: Final = {"abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt}


class _Compiler:
    """Resolves names, checks kinds and folds constants, producing closures."""

    def __init__(self, text: str, namespace: Namespace) -> None:
        self.text = text
        self.ns = namespace

    def source(self, node: _Node) -> str:
        return _short(self.text[node.start : node.end])

    def need_bool(self, code: _Code, node: _Node, what: str) -> None:
        if code.kind != "bool":
            frag = self.source(node)
            raise ExpressionError(
                f"{what}, but '{frag}' is a number; compare it, e.g. '{frag} > 0'", node.start
            )

    # -- folding and closure building

    def fold(self, thunk: Callable[[], Any], node: _Node) -> Any:
        try:
            with np.errstate(all="ignore"):
                return thunk()
        except (ArithmeticError, ValueError, TypeError) as exc:  # pragma: no cover - defensive
            raise ExpressionError(
                f"cannot compute '{self.source(node)}': {exc}", node.start
            ) from None

    def apply(
        self, func: Callable[..., Any], codes: list[_Code], kind: Kind, node: _Node, risky: bool
    ) -> _Code:
        """Combine 1-3 operands with `func`, folding when all are constant."""
        if all(c.is_constant for c in codes):
            values = [c.value for c in codes]
            return _Code(kind, value=self.fold(lambda: func(*values), node))
        names = frozenset().union(*(c.names for c in codes))
        risky = risky or any(c.risky for c in codes)
        fn: Fn
        if len(codes) == 1:
            f = codes[0].getter()
            fn = lambda env: func(f(env))  # noqa: E731
        elif len(codes) == 2:
            a, b = codes
            # Bind constants directly so a call does not pay for a constant getter.
            if a.is_constant:
                va, fb = a.value, b.getter()
                fn = lambda env: func(va, fb(env))  # noqa: E731
            elif b.is_constant:
                fa, vb = a.getter(), b.value
                fn = lambda env: func(fa(env), vb)  # noqa: E731
            else:
                fa, fb = a.getter(), b.getter()
                fn = lambda env: func(fa(env), fb(env))  # noqa: E731
        else:
            ga, gb, gc = (c.getter() for c in codes)
            fn = lambda env: func(ga(env), gb(env), gc(env))  # noqa: E731
        return _Code(kind, fn=fn, names=names, risky=risky)

    def chain(
        self,
        funcs: list[Callable[[Any, Any], Any]],
        codes: list[_Code],
        kind: Kind,
        node: _Node,
        risky: bool,
    ) -> _Code:
        """Left-fold binary `funcs` over `codes` with one loop (no deep closure nesting)."""
        acc = codes[0]
        steps: list[tuple[Callable[[Any, Any], Any], _Code]] = []
        for func, code in zip(funcs, codes[1:], strict=True):
            if not steps and acc.is_constant and code.is_constant:
                acc = self.apply(func, [acc, code], kind, node, risky)
            else:
                steps.append((func, code))
        if not steps:
            return acc
        if len(steps) == 1:
            func, code = steps[0]
            return self.apply(func, [acc, code], kind, node, risky)
        first = acc.getter()
        rest = tuple((func, code.getter()) for func, code in steps)

        def run(env: Env) -> Any:
            value = first(env)
            for func, get in rest:
                value = func(value, get(env))
            return value

        names = frozenset().union(acc.names, *(c.names for _, c in steps))
        risky = risky or acc.risky or any(c.risky for _, c in steps)
        return _Code(kind, fn=run, names=names, risky=risky)

    # -- node lowering

    def lower(self, node: _Node) -> _Code:
        op = node.op
        if op == "num":
            return _Code("number", value=node.value)
        if op == "bool":
            return _Code("bool", value=node.value)
        if op == "name":
            return self.name(node)
        if op == "attr":
            return self.attribute(node)
        if op == "neg":
            return self.apply(
                np.negative, [_numeric(self.lower(node.children[0]))], "number", node, False
            )
        if op == "pos":
            return _numeric(self.lower(node.children[0]))
        if op == "not":
            code = self.lower(node.children[0])
            self.need_bool(code, node.children[0], "'not' needs a condition")
            return self.apply(np.logical_not, [code], "bool", node, False)
        if op in ("and", "or"):
            codes = [self.lower(child) for child in node.children]
            for code, child in zip(codes, node.children, strict=True):
                self.need_bool(code, child, f"'{op}' joins conditions")
            func = np.logical_and if op == "and" else np.logical_or
            return self.chain([func] * (len(codes) - 1), codes, "bool", node, False)
        if op == "arith":
            codes = [self.lower(child) for child in node.children]
            if codes[0].kind == "bool" and codes[1].kind == "bool":
                codes[0] = _numeric(codes[0])
            return self.chain([_ARITH[o] for o in node.value], codes, "number", node, True)
        if op == "pow":
            # float_power: integer arrays to negative powers would raise with np.power.
            codes = [self.lower(child) for child in node.children]
            return self.apply(np.float_power, codes, "number", node, True)
        if op == "cmp":
            return self.compare(node)
        if op == "call":
            return self.call(node)
        raise AssertionError(f"unknown node {op!r}")  # pragma: no cover

    def compare(self, node: _Node) -> _Code:
        self.check_ladders(node.children)
        codes = [self.lower(child) for child in node.children]
        funcs = [_COMPARE[o] for o in node.value]
        if len(codes) == 2:
            return self.apply(funcs[0], codes, "bool", node, False)
        # A chain a < b < c is a < b and b < c with b evaluated once, like Python.
        getters = [c.getter() for c in codes]
        first = getters[0]
        pairs = tuple(zip(funcs, getters[1:], strict=True))

        def run(env: Env) -> Any:
            left = first(env)
            result: Any = True
            for func, get in pairs:
                right = get(env)
                result = np.logical_and(result, func(left, right))
                left = right
            return result

        if all(c.is_constant for c in codes):
            return _Code("bool", value=self.fold(lambda: run({}), node))
        names = frozenset().union(*(c.names for c in codes))
        return _Code("bool", fn=run, names=names, risky=any(c.risky for c in codes))

    def check_ladders(self, children: tuple[_Node, ...]) -> None:
        """Refuse ``red.rung >= x`` where rung ``x`` is not on the ladder ``red`` stands on."""
        rungs = self.ns.rungs
        if not rungs:
            return
        for left, right in itertools.pairwise(children):
            for side, other in ((left, right), (right, left)):
                if side.op != "attr" or side.value[1] not in ("rung", "peak"):
                    continue
                if other.op != "name" or other.value not in rungs:
                    continue
                actor = side.value[0]
                if actor in self.ns.actors and actor not in rungs[other.value]:
                    owners = _listing(sorted(rungs[other.value])) or "no actor"
                    raise ExpressionError(
                        f"rung '{other.value}' is not on the ladder of '{actor}' "
                        f"(it is on the ladder of {owners})",
                        other.start,
                    )

    def call(self, node: _Node) -> _Code:
        name = node.value
        if name not in FUNCTIONS:
            if name in self.ns.variables or name in self.ns.constants:
                raise ExpressionError(
                    f"'{name}' is not a function; to multiply, write '{name} * (...)'", node.start
                )
            raise ExpressionError(
                f"unknown function '{name}'{_did_you_mean(name, FUNCTIONS)} "
                f"(functions: {', '.join(FUNCTIONS)})",
                node.start,
            )
        low, high = _ARITY[name]
        count = len(node.children)
        if count < low or (high is not None and count > high):
            need = f"at least {low}" if high is None else f"exactly {low}"
            plural = "" if low == 1 and high == 1 else "s"
            raise ExpressionError(
                f"{name}() takes {need} argument{plural} ({FUNCTIONS[name]}), got {count}",
                node.start,
            )
        codes = [self.lower(child) for child in node.children]
        if name in ("min", "max"):
            if all(c.kind == "bool" for c in codes):
                codes[0] = _numeric(codes[0])
            func = np.minimum if name == "min" else np.maximum
            return self.chain([func] * (count - 1), codes, "number", node, True)
        if name == "where":
            self.need_bool(codes[0], node.children[0], "where() needs a condition first")
            kind: Kind = "bool" if codes[1].kind == codes[2].kind == "bool" else "number"
            return self.apply(_where, codes, kind, node, False)
        codes = [_numeric(c) for c in codes]
        if name == "clip":
            return self.apply(_clip, codes, "number", node, True)
        return self.apply(_MATH[name], codes, "number", node, name != "abs")

    def name(self, node: _Node) -> _Code:
        name: str = node.value
        ns = self.ns
        if name in ns.variables:
            return _Code("number", fn=operator.itemgetter(name), names=frozenset({name}))
        if name in ns.constants:
            return _Code("number", value=ns.constants[name])
        if name in ns.actors:
            attrs = sorted(ns.actors[name])
            if not attrs:
                raise ExpressionError(f"'{name}' is an actor with no attributes", node.start)
            example = "rung" if "rung" in attrs else attrs[0]
            raise ExpressionError(
                f"'{name}' is an actor; name one of its attributes, e.g. '{name}.{example}'",
                node.start,
            )
        if name in FUNCTIONS:
            raise ExpressionError(
                f"'{name}' is a function; call it, e.g. '{FUNCTIONS[name]}'", node.start
            )
        if name.lower() in _KEYWORDS:
            raise ExpressionError(
                f"unknown name '{name}'; did you mean '{name.lower()}'? (keywords are lowercase)",
                node.start,
            )
        owners = sorted(actor for actor, attrs in ns.actors.items() if name in attrs)
        if owners:
            options = " or ".join(f"'{actor}.{name}'" for actor in owners[:3])
            raise ExpressionError(
                f"unknown name '{name}'; did you mean {options}? (attributes need their actor)",
                node.start,
            )
        known = [*ns.variables, *ns.constants]
        known += [f"{actor}.{attr}" for actor, attrs in ns.actors.items() for attr in attrs]
        hint = _did_you_mean(name, known)
        if not hint and known:
            hint = f" (known names: {_listing(known)})"
        raise ExpressionError(f"unknown name '{name}'{hint}", node.start)

    def attribute(self, node: _Node) -> _Code:
        actor, attr, attr_pos = node.value
        ns = self.ns
        full = f"{actor}.{attr}"
        if actor not in ns.actors:
            actors = (
                f" (actors: {_listing(ns.actors)})" if ns.actors else " (no actors are defined)"
            )
            if actor in ns.variables or actor in ns.constants:
                raise ExpressionError(
                    f"'{actor}' is not an actor, so '{full}' is not a valid name{actors}",
                    node.start,
                )
            hint = _did_you_mean(actor, ns.actors)
            raise ExpressionError(
                f"unknown actor '{actor}' in '{full}'{hint or actors}", node.start
            )
        attrs = ns.actors[actor]
        if attr not in attrs:
            raise ExpressionError(
                f"actor '{actor}' has no attribute '{attr}'{_did_you_mean(attr, attrs)} "
                f"(attributes: {_listing(attrs) or 'none'})",
                attr_pos,
            )
        return _Code("number", fn=operator.itemgetter(full), names=frozenset({full}))


# ----------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Expression:
    """A compiled expression: call it with a mapping of runtime names to values.

    `names` lists the runtime names the expression reads (plain variables and
    ``"actor.attr"`` keys; constants are already substituted). ``expr(env)`` returns what
    numpy broadcasting gives: an array if any input is an array, else a scalar. Runtime
    names are treated as numbers, so pass flags as 0/1 numbers and compare them. Inputs
    are never copied or modified; a bare name returns the caller's own object.
    """

    text: str
    kind: Kind
    names: frozenset[str]
    _fn: Fn = field(repr=False, compare=False)

    def __call__(self, env: Env) -> np.ndarray | float | bool:
        """Evaluate on `env`, which must map every name in `names` to a scalar or array."""
        return self._fn(env)

    @property
    def is_constant(self) -> bool:
        """True if the expression uses no runtime names (its value was computed once)."""
        return not self.names


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so constants compare and print naturally."""
    return value.item() if isinstance(value, np.generic) else value


def _constant(text: str, kind: Kind, value: Any) -> Expression:
    value = _plain(value)
    return Expression(text=text, kind=kind, names=frozenset(), _fn=lambda env: value)


def _quiet(fn: Fn) -> Fn:
    # One errstate per call around the whole expression is cheaper than one per node.
    def run(env: Env) -> Any:
        with np.errstate(all="ignore"):
            return fn(env)

    return run


def compile_expression(
    text: str | float, namespace: Namespace, expect: Kind | None = None
) -> Expression:
    """Parse, name-check and type-check `text` once, returning a callable Expression.

    `text` may also be a plain number or bool (a YAML scalar), giving a constant. With
    ``expect="bool"`` a numeric expression is rejected; with ``expect="number"`` a
    condition is accepted and evaluates to 0.0/1.0. Raises ExpressionError (a
    ValueError) for anything malformed, never another exception type.
    """
    if expect not in (None, "bool", "number"):
        raise ValueError(f"expect must be 'bool', 'number' or None, not {expect!r}")
    if isinstance(text, bool | np.bool_):
        if expect == "number":
            return _constant(str(bool(text)).lower(), "number", float(text))
        return _constant(str(bool(text)).lower(), "bool", bool(text))
    if isinstance(text, int | float | np.integer | np.floating):
        if expect == "bool":
            raise ExpressionError(
                f"expected a condition (a comparison such as 'x >= 2'), got the number {text!r}"
            )
        try:
            value = float(text)
        except OverflowError:
            raise ExpressionError(f"the number {text} is too large") from None
        if not math.isfinite(value):
            raise ExpressionError(f"numbers must be finite; got {text!r}")
        return _constant(str(text), "number", value)
    if text is None:
        raise ExpressionError("empty expression: expected a condition or a number, got nothing")
    if not isinstance(text, str):
        raise ExpressionError(
            f"expected an expression string or a number, got {type(text).__name__}"
        )
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}"
        )
    if not text.strip():
        raise ExpressionError("empty expression: expected a condition or a number")
    try:
        tree = _Parser(text, _tokenize(text)).parse()
        code = _Compiler(text, namespace).lower(tree)
        if expect == "bool" and code.kind != "bool":
            frag = _short(text)
            raise ExpressionError(
                f"expected a condition, got a number; compare it, e.g. '{frag} >= 2'",
                tree.start,
            )
    except ExpressionError as exc:
        raise ExpressionError(exc.message, exc.position, text) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH should make this unreachable
        raise ExpressionError("expression is nested too deeply", None, text) from None
    if expect == "number":
        code = _numeric(code)
    if code.is_constant:
        return _constant(text, code.kind, code.value)
    fn = code.fn
    assert fn is not None
    return Expression(
        text=text, kind=code.kind, names=code.names, _fn=_quiet(fn) if code.risky else fn
    )
