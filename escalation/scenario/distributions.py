"""Uncertain scenario parameters written as short distribution strings.

Analysts write uncertain inputs in YAML as text such as ``beta(6, 3)`` or
``normal(0.5, 0.2, lo=0, hi=1)``; :func:`parse_distribution` turns that text into a
:class:`Distribution`. Accepted forms (names are case-sensitive, whitespace is free,
numbers may be negative or in scientific notation, and must be finite):

``0.3``, ``-2``, ``1e-3`` (or a YAML int/float)
    A constant (:class:`Constant`); ``constant(x)`` is the same.
``beta(a, b)`` / ``beta(a, b, lo, hi)``
    Beta(a, b) with a > 0, b > 0, optionally rescaled to ``[lo, hi]``, lo < hi.
``uniform(lo, hi)``
    Uniform on ``[lo, hi]``, lo < hi.
``triangular(lo, mode, hi)``
    Triangular with lo <= mode <= hi and lo < hi.
``normal(mu, sd)`` / ``normal(mu, sd, lo=L)`` / ``normal(mu, sd, lo=L, hi=H)``
    Normal with sd > 0; the keyword bounds truncate it (lo < hi, and at least
    ``1e-9`` of the probability must lie between the bounds).
``lognormal(mu, sigma)`` / ``lognormal(median=M, sigma=S)``
    Log-normal in numpy's convention: ``log(value) ~ Normal(mu, sigma)``, sigma > 0.
    The keyword form takes the median ``M = exp(mu)`` (M > 0) instead of ``mu``.
``bernoulli(p)``
    0.0 or 1.0, with ``P(1.0) = p``, 0 <= p <= 1.

Every distribution samples by inverse transform: ``sample(rng, n)`` is exactly
``ppf(rng.random(n))``. The engine relies on this (common random numbers, and
Latin-hypercube/Sobol designs that feed ``ppf`` directly), so do not override it.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


class _Special:
    """``scipy.special``, imported on first use.

    Importing SciPy takes about 0.3 s, most of ``escalation validate``'s start-up; checking a
    file rarely needs it (see :data:`_Z_CHECK` and :data:`BETA_FINITE`).
    """

    def ndtri(self, q: np.ndarray) -> np.ndarray:
        """``scipy.special.ndtri``; at the check points, its known values without SciPy."""
        q = np.asarray(q)
        if q.shape == _Q_CHECKED.shape and np.array_equal(q, _Q_CHECKED):
            return _Z_CHECK.copy()
        return self.__getattr__("ndtri")(q)

    def ndtr(self, x: float) -> float:
        """``scipy.special.ndtr``; at an infinite bound (no truncation), 0 or 1 without SciPy."""
        if np.ndim(x) == 0 and math.isinf(x):
            return 0.0 if x < 0 else 1.0
        return self.__getattr__("ndtr")(x)

    def __getattr__(self, name: str):
        from scipy import special as module

        return getattr(module, name)


special = _Special()

__all__ = [
    "Bernoulli",
    "Beta",
    "Constant",
    "Distribution",
    "DistributionError",
    "LogNormal",
    "Normal",
    "Triangular",
    "Uniform",
    "parse_distribution",
]

#: Longest distribution text accepted; longer text is a mistake, not a distribution.
MAX_TEXT_LENGTH = 200
#: Least probability a truncated normal must keep between its bounds.
MIN_TRUNCATED_MASS = 1e-9

# Largest double below 1 (also the largest value Generator.random returns). The normal
# family and beta clip q to [_Q_LO, _Q_HI], symmetric, so q = 0 (probability 2**-53 per
# draw) maps to about -8.2 sd, like its mirror image, instead of to -inf.
_Q_HI = 1.0 - 2.0**-53
_Q_LO = 2.0**-53
# Extremes of the allowed q range; a monotone ppf that is finite here is finite everywhere.
_Q_CHECK = np.array([0.0, 0.5, _Q_HI])
_Q_CHECKED = np.clip(_Q_CHECK, _Q_LO, _Q_HI)
#: ``scipy.special.ndtri(_Q_CHECKED)``, exactly (tests/test_distributions.py compares them), so
#: that checking a normal or lognormal distribution needs no SciPy.
_Z_CHECK = np.array([-8.209536151601387, 0.0, 8.209536151601387])
#: The box of Beta's ``a`` and ``b`` in which ``betaincinv`` is finite at the check points
#: (tests/test_distributions.py checks a grid of it against SciPy): there the check of a beta
#: distribution needs no SciPy.
BETA_FINITE = (1e-3, 1e6)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class DistributionError(ValueError):
    """Distribution text that cannot be understood; the message says what was expected."""


def _fmt(x: float) -> str:
    """Shortest text that parses back to exactly ``x`` (``6`` rather than ``6.0``)."""
    if x.is_integer() and abs(x) < 2.0**53:
        return str(int(x))
    return repr(x)


def _real(name: str, value: object) -> float:
    """``value`` as a finite float, or a DistributionError naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise DistributionError(f"{name} must be a number; got {value!r}")
    try:
        x = float(value)
    except OverflowError:  # a huge Python int
        raise DistributionError(f"{name} must be a finite number; got {value!r}") from None
    if not math.isfinite(x):
        raise DistributionError(f"{name} must be a finite number; got {value!r}")
    return x


def _set_floats(obj: object, **fields: object) -> None:
    """Coerce the fields of a frozen dataclass to finite floats (``None`` passes through)."""
    for name, value in fields.items():
        if value is not None:
            object.__setattr__(obj, name, _real(name, value))


class Distribution(ABC):
    """A univariate distribution sampled by inverse transform of uniforms.

    Concrete distributions are frozen dataclasses, so they compare by value and hash.
    """

    def ppf(self, q: np.ndarray) -> np.ndarray:
        """Inverse CDF at probabilities ``q`` in [0, 1), vectorized, as float64.

        Never returns nan or inf for ``q`` in [0, 1). Values above the largest double
        below 1 (such as 1.0) are treated as that double; values below 0 as 0.
        """
        q = np.clip(np.asarray(q, dtype=np.float64), 0.0, _Q_HI)
        return self._ppf(q)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values; always exactly ``self.ppf(rng.random(n))``.

        Every distribution, Constant included, consumes exactly ``n`` uniforms so that
        changing one parameter's distribution leaves the random streams of the others
        untouched (common random numbers).
        """
        return self.ppf(rng.random(n))

    @abstractmethod
    def _ppf(self, q: np.ndarray) -> np.ndarray:
        """Inverse CDF for float64 ``q`` already clipped to [0, 1 - 2**-53]."""

    @abstractmethod
    def mean(self) -> float:
        """Analytic mean."""

    @property
    @abstractmethod
    def bounds(self) -> tuple[float, float]:
        """Support ``(low, high)``; may be infinite (e.g. an unbounded normal)."""

    @abstractmethod
    def __str__(self) -> str:
        """Canonical text that :func:`parse_distribution` parses back to an equal object."""

    @property
    def is_constant(self) -> bool:
        """True when every draw gives the same value (a single-point support)."""
        low, high = self.bounds
        return low == high

    def _check_representable(self) -> None:
        """Reject parameters so extreme that ppf or mean would overflow float64.

        ppf is monotone, so finite values at the ends of the q range imply finite values
        everywhere in between.
        """
        with np.errstate(all="ignore"):  # overflow is the condition being tested for
            ends = self.ppf(_Q_CHECK)
            mean = self.mean()
        if not (np.all(np.isfinite(ends)) and math.isfinite(mean)):
            self._too_extreme()

    def _too_extreme(self) -> None:
        raise DistributionError(
            f"{self} is too extreme: its values or mean overflow float64 arithmetic"
        )


@dataclass(frozen=True)
class Constant(Distribution):
    """Always ``value``; written as a plain number or ``constant(value)``."""

    value: float

    def __post_init__(self) -> None:
        """Validate and coerce the field."""
        _set_floats(self, value=self.value)

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.full(q.shape, self.value, dtype=np.float64)

    def mean(self) -> float:
        """The constant itself."""
        return self.value

    @property
    def bounds(self) -> tuple[float, float]:
        """``(value, value)``."""
        return (self.value, self.value)

    def __str__(self) -> str:
        """The plain number."""
        return _fmt(self.value)


@dataclass(frozen=True)
class Beta(Distribution):
    """``lo + (hi - lo) * Beta(a, b)``; ``beta(a, b)`` or ``beta(a, b, lo, hi)``."""

    a: float
    b: float
    lo: float = 0.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        """Validate and coerce the fields."""
        _set_floats(self, a=self.a, b=self.b, lo=self.lo, hi=self.hi)
        if not (self.a > 0 and self.b > 0):
            bad = ", ".join(f"{k} = {_fmt(v)}" for k, v in (("a", self.a), ("b", self.b)) if v <= 0)
            raise DistributionError(f"beta(a, b) needs a > 0 and b > 0; got {bad}")
        if not self.lo < self.hi:
            raise DistributionError(
                f"beta(a, b, lo, hi) needs lo < hi; got lo = {_fmt(self.lo)}, hi = {_fmt(self.hi)}"
            )
        self._check_representable()

    def _check_representable(self) -> None:
        """The base class's check, without SciPy where its answer is known.

        In :data:`BETA_FINITE`, ``betaincinv`` is finite at the check points, so the values
        ``lo + (hi - lo) * x`` (clipped to ``[lo, hi]``) are finite exactly when ``hi - lo``
        is; the mean is computed as always.
        """
        low, high = BETA_FINITE
        if low <= self.a <= high and low <= self.b <= high:
            with np.errstate(all="ignore"):
                if not (math.isfinite(self.hi - self.lo) and math.isfinite(self.mean())):
                    self._too_extreme()
            return
        super()._check_representable()

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # betaincinv returns nan below q ~ 1e-200 when a > 1 (internal underflow); clip
        # to the same [2**-53, 1 - 2**-53] range as the normal family.
        x = special.betaincinv(self.a, self.b, np.clip(q, _Q_LO, _Q_HI))
        # Rescaling can round just past hi; the support is closed, so clip.
        return np.clip(self.lo + (self.hi - self.lo) * x, self.lo, self.hi)

    def mean(self) -> float:
        """``lo + (hi - lo) * a / (a + b)``."""
        # 1 / (1 + b/a) rather than a / (a + b): a + b may overflow for huge a, b.
        return self.lo + (self.hi - self.lo) / (1.0 + self.b / self.a)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``."""
        return (self.lo, self.hi)

    def __str__(self) -> str:
        """``beta(a, b)``, or ``beta(a, b, lo, hi)`` when rescaled."""
        if self.lo == 0.0 and self.hi == 1.0:
            return f"beta({_fmt(self.a)}, {_fmt(self.b)})"
        return f"beta({_fmt(self.a)}, {_fmt(self.b)}, {_fmt(self.lo)}, {_fmt(self.hi)})"


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on ``[lo, hi]``; ``uniform(lo, hi)``."""

    lo: float
    hi: float

    def __post_init__(self) -> None:
        """Validate and coerce the fields."""
        _set_floats(self, lo=self.lo, hi=self.hi)
        if not self.lo < self.hi:
            raise DistributionError(
                f"uniform(lo, hi) needs lo < hi; got lo = {_fmt(self.lo)}, hi = {_fmt(self.hi)}"
            )
        self._check_representable()

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.clip(self.lo + (self.hi - self.lo) * q, self.lo, self.hi)

    def mean(self) -> float:
        """``(lo + hi) / 2``."""
        return 0.5 * self.lo + 0.5 * self.hi

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``."""
        return (self.lo, self.hi)

    def __str__(self) -> str:
        """``uniform(lo, hi)``."""
        return f"uniform({_fmt(self.lo)}, {_fmt(self.hi)})"


@dataclass(frozen=True)
class Triangular(Distribution):
    """Triangular on ``[lo, hi]`` peaking at ``mode``; ``triangular(lo, mode, hi)``."""

    lo: float
    mode: float
    hi: float

    def __post_init__(self) -> None:
        """Validate and coerce the fields."""
        _set_floats(self, lo=self.lo, mode=self.mode, hi=self.hi)
        if not (self.lo <= self.mode <= self.hi and self.lo < self.hi):
            raise DistributionError(
                "triangular(lo, mode, hi) needs lo <= mode <= hi and lo < hi; got "
                f"lo = {_fmt(self.lo)}, mode = {_fmt(self.mode)}, hi = {_fmt(self.hi)}"
            )
        self._check_representable()

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        width = self.hi - self.lo
        split = (self.mode - self.lo) / width  # CDF at the mode
        left = self.lo + np.sqrt(q * width * (self.mode - self.lo))
        right = self.hi - np.sqrt((1.0 - q) * width * (self.hi - self.mode))
        return np.clip(np.where(q < split, left, right), self.lo, self.hi)

    def mean(self) -> float:
        """``(lo + mode + hi) / 3``."""
        return self.lo / 3.0 + self.mode / 3.0 + self.hi / 3.0

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``."""
        return (self.lo, self.hi)

    def __str__(self) -> str:
        """``triangular(lo, mode, hi)``."""
        return f"triangular({_fmt(self.lo)}, {_fmt(self.mode)}, {_fmt(self.hi)})"


def _phi(z: float) -> float:
    """Standard normal density (0 at +-inf)."""
    return _INV_SQRT_2PI * math.exp(-0.5 * z * z) if math.isfinite(z) else 0.0


@dataclass(frozen=True)
class Normal(Distribution):
    """Normal(mu, sd), truncated to ``[lo, hi]`` when either bound is given.

    Written ``normal(mu, sd)``, ``normal(mu, sd, lo=L)``, ``normal(mu, sd, hi=H)`` or
    ``normal(mu, sd, lo=L, hi=H)``; ``None`` means no bound on that side.
    """

    mu: float
    sd: float
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self) -> None:
        """Validate and coerce the fields."""
        _set_floats(self, mu=self.mu, sd=self.sd, lo=self.lo, hi=self.hi)
        if not self.sd > 0:
            raise DistributionError(f"normal(mu, sd) needs sd > 0; got sd = {_fmt(self.sd)}")
        if self.lo is not None and self.hi is not None and not self.lo < self.hi:
            raise DistributionError(
                f"normal(mu, sd, lo=, hi=) needs lo < hi; got lo = {_fmt(self.lo)}, "
                f"hi = {_fmt(self.hi)}"
            )
        mass = self._standard_interval()[4]
        if not mass >= MIN_TRUNCATED_MASS:
            raise DistributionError(
                f"{self} keeps only {mass:.3g} of its probability between its bounds "
                f"(needs at least {MIN_TRUNCATED_MASS:g}); widen the bounds or move mu inside"
            )
        self._check_representable()

    def _standard_interval(self) -> tuple[float, float, float, float, float]:
        """Standardized bounds and their tail probabilities.

        Returns ``(a, b, Phi(a), 1 - Phi(b), mass)``. Both tails come straight from
        ``ndtr`` (never as ``1 - ndtr``), and the mass is taken on the side of the mean
        away from the interval, so an interval far in either tail keeps full relative
        precision instead of cancelling to 0.
        """
        a = -math.inf if self.lo is None else (self.lo - self.mu) / self.sd
        b = math.inf if self.hi is None else (self.hi - self.mu) / self.sd
        cdf_a, sf_b = float(special.ndtr(a)), float(special.ndtr(-b))
        mass = float(special.ndtr(-a)) - sf_b if a > 0.0 else float(special.ndtr(b)) - cdf_a
        return a, b, cdf_a, sf_b, mass

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        q = np.clip(q, _Q_LO, _Q_HI)
        if self.lo is None and self.hi is None:
            return self.mu + self.sd * special.ndtri(q)
        _, _, cdf_a, sf_b, mass = self._standard_interval()
        # Invert through whichever tail the point is in: P(Z < z) below the median and
        # P(Z > z) above it, each accumulated from its own bound, so neither loses digits.
        # Both are >= 2**-53 * mass > 0, so ndtri stays finite.
        below = cdf_a + q * mass
        above = sf_b + (1.0 - q) * mass
        z = np.where(below < 0.5, special.ndtri(below), -special.ndtri(above))
        low, high = self.bounds
        return np.clip(self.mu + self.sd * z, low, high)

    def mean(self) -> float:
        """``mu + sd * (phi(a) - phi(b)) / mass`` (just ``mu`` when untruncated)."""
        if self.lo is None and self.hi is None:
            return self.mu
        a, b, _, _, mass = self._standard_interval()
        return self.mu + self.sd * (_phi(a) - _phi(b)) / mass

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)`` with missing bounds as -inf / inf."""
        return (
            -math.inf if self.lo is None else self.lo,
            math.inf if self.hi is None else self.hi,
        )

    def __str__(self) -> str:
        """``normal(mu, sd)`` plus ``lo=`` / ``hi=`` keywords for the bounds given."""
        parts = [_fmt(self.mu), _fmt(self.sd)]
        if self.lo is not None:
            parts.append(f"lo={_fmt(self.lo)}")
        if self.hi is not None:
            parts.append(f"hi={_fmt(self.hi)}")
        return f"normal({', '.join(parts)})"


@dataclass(frozen=True)
class LogNormal(Distribution):
    """``exp(Normal(mu, sigma))`` (numpy's convention); median ``exp(mu)``.

    Written ``lognormal(mu, sigma)`` or ``lognormal(median=M, sigma=S)``; ``str`` always
    gives the ``(mu, sigma)`` form because ``log(exp(mu))`` need not equal ``mu`` exactly.
    """

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        """Validate and coerce the fields."""
        _set_floats(self, mu=self.mu, sigma=self.sigma)
        if not self.sigma > 0:
            raise DistributionError(
                f"lognormal(mu, sigma) needs sigma > 0; got sigma = {_fmt(self.sigma)}"
            )
        self._check_representable()

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * special.ndtri(np.clip(q, _Q_LO, _Q_HI)))

    def mean(self) -> float:
        """``exp(mu + sigma**2 / 2)``."""
        try:
            return math.exp(self.mu + 0.5 * self.sigma**2)
        except OverflowError:
            return math.inf

    @property
    def bounds(self) -> tuple[float, float]:
        """``(0, inf)``."""
        return (0.0, math.inf)

    def __str__(self) -> str:
        """``lognormal(mu, sigma)``."""
        return f"lognormal({_fmt(self.mu)}, {_fmt(self.sigma)})"


@dataclass(frozen=True)
class Bernoulli(Distribution):
    """1.0 with probability ``p``, else 0.0; ``bernoulli(p)``."""

    p: float

    def __post_init__(self) -> None:
        """Validate and coerce the field."""
        _set_floats(self, p=self.p)
        if not 0.0 <= self.p <= 1.0:
            raise DistributionError(f"bernoulli(p) needs 0 <= p <= 1; got p = {_fmt(self.p)}")

    def _ppf(self, q: np.ndarray) -> np.ndarray:
        # Monotone in q (so LHS and copula designs keep their ordering) and, for q uniform
        # on [0, 1), exactly P(1.0) = p, including p = 0 and p = 1.
        return (q >= 1.0 - self.p).astype(np.float64)

    def mean(self) -> float:
        """``p``."""
        return self.p

    @property
    def bounds(self) -> tuple[float, float]:
        """Values that can occur: ``(0, 1)``, or a single point when p is 0 or 1."""
        if self.p == 0.0:
            return (0.0, 0.0)
        if self.p == 1.0:
            return (1.0, 1.0)
        return (0.0, 1.0)

    def __str__(self) -> str:
        """``bernoulli(p)``."""
        return f"bernoulli({_fmt(self.p)})"


# --- parsing -------------------------------------------------------------------------

# One token at a position (whitespace already skipped). inf/nan are tokenized as numbers
# so that they get the "must be finite" message rather than a confusing syntax error.
_TOKEN = re.compile(
    r"(?P<number>[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|(?i:inf(?:inity)?|nan)(?![A-Za-z0-9_])))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),=])"
)

_Token = tuple[str, str, int]  # (kind, text, position)
_Args = tuple[list[float], dict[str, float]]


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into number, name and punctuation tokens."""
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            raise DistributionError(
                f"malformed distribution {text!r}: unexpected character {text[pos]!r} "
                f"at position {pos}"
            )
        kind = match.lastgroup
        assert kind is not None  # every alternative is a named group
        tokens.append((kind, match.group(), pos))
        pos = match.end()
    return tokens


def _number(token: _Token) -> float:
    """The finite float value of a number token."""
    value = float(token[1])
    if not math.isfinite(value):
        raise DistributionError(f"numbers must be finite; got {token[1]!r}")
    return value


class _Parser:
    """Recursive-descent parser for ``name(arg, ..., key=arg, ...)`` over tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    def fail(self, expected: str) -> DistributionError:
        """A malformed-text error saying what was expected where."""
        return DistributionError(f"malformed distribution {self.text!r}: expected {expected}")

    def next(self, expected: str) -> _Token:
        """Consume the next token; running out means ``expected`` was missing."""
        if self.i >= len(self.tokens):
            raise self.fail(expected)
        token = self.tokens[self.i]
        self.i += 1
        return token

    def peek(self) -> _Token | None:
        """The next token without consuming it."""
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def arguments(self) -> _Args:
        """Parse ``(...)`` after a name: positional numbers then ``key=number`` pairs."""
        kind, text, pos = self.next("'('")
        if text != "(":
            raise self.fail(f"'(' after the name, got {text!r} at position {pos}")
        args: list[float] = []
        kwargs: dict[str, float] = {}
        while True:
            token = self.next("')'")
            kind, text, pos = token
            if text == ")":
                break
            after = self.peek()
            if kind == "name" and after is not None and after[1] == "=":
                self.i += 1
                value_token = self.next(f"a number after '{text}='")
                if value_token[0] != "number":
                    raise self.fail(
                        f"a number after '{text}=', got {value_token[1]!r} "
                        f"at position {value_token[2]}"
                    )
                if text in kwargs:
                    raise DistributionError(
                        f"malformed distribution {self.text!r}: keyword '{text}' given twice"
                    )
                kwargs[text] = _number(value_token)
            elif kind == "number":
                if kwargs:
                    raise DistributionError(
                        f"malformed distribution {self.text!r}: number {text} at position "
                        f"{pos} follows a keyword argument; positional numbers come first"
                    )
                args.append(_number(token))
            else:
                raise self.fail(f"a number at position {pos}, got {text!r}")
            kind, text, pos = self.next("')'")
            if text == ")":
                break
            if text != ",":
                raise self.fail(f"',' or ')' at position {pos}, got {text!r}")
        if (extra := self.peek()) is not None:
            raise DistributionError(
                f"malformed distribution {self.text!r}: unexpected {extra[1]!r} at "
                f"position {extra[2]} after the closing ')'"
            )
        return args, kwargs


def _no_keywords(form: str, kwargs: dict[str, float]) -> None:
    if kwargs:
        names = ", ".join(f"'{k}='" for k in kwargs)
        raise DistributionError(f"{form} takes no keyword arguments; got {names}")


def _count(form: str, args: list[float], n: int) -> None:
    if len(args) != n:
        noun = "number" if n == 1 else "numbers"
        raise DistributionError(f"{form} takes {n} {noun}; got {len(args)}")


def _build_constant(args: list[float], kwargs: dict[str, float]) -> Distribution:
    _no_keywords("constant(x)", kwargs)
    _count("constant(x)", args, 1)
    return Constant(args[0])


def _build_beta(args: list[float], kwargs: dict[str, float]) -> Distribution:
    _no_keywords("beta(a, b) / beta(a, b, lo, hi)", kwargs)
    if len(args) not in (2, 4):
        raise DistributionError(
            f"beta(a, b) takes 2 numbers, or 4 as beta(a, b, lo, hi); got {len(args)}"
        )
    return Beta(*args)


def _build_uniform(args: list[float], kwargs: dict[str, float]) -> Distribution:
    _no_keywords("uniform(lo, hi)", kwargs)
    _count("uniform(lo, hi)", args, 2)
    return Uniform(*args)


def _build_triangular(args: list[float], kwargs: dict[str, float]) -> Distribution:
    _no_keywords("triangular(lo, mode, hi)", kwargs)
    _count("triangular(lo, mode, hi)", args, 3)
    return Triangular(*args)


def _build_normal(args: list[float], kwargs: dict[str, float]) -> Distribution:
    unknown = sorted(set(kwargs) - {"lo", "hi"})
    if unknown:
        raise DistributionError(
            f"normal(mu, sd) accepts only the keywords lo= and hi=; got '{unknown[0]}='"
        )
    if len(args) != 2:
        raise DistributionError(
            "normal(mu, sd) takes 2 numbers, with optional bounds as keywords "
            f"lo=, hi=; got {len(args)}"
        )
    return Normal(args[0], args[1], kwargs.get("lo"), kwargs.get("hi"))


def _build_lognormal(args: list[float], kwargs: dict[str, float]) -> Distribution:
    if not kwargs:
        _count("lognormal(mu, sigma)", args, 2)
        return LogNormal(*args)
    if args or set(kwargs) != {"median", "sigma"}:
        given = ", ".join([*(_fmt(a) for a in args), *(f"{k}=" for k in kwargs)])
        raise DistributionError(
            "lognormal takes lognormal(mu, sigma) or lognormal(median=M, sigma=S); "
            f"got lognormal({given})"
        )
    median = kwargs["median"]
    if not median > 0:
        raise DistributionError(
            f"lognormal(median=M, sigma=S) needs M > 0; got median = {_fmt(median)}"
        )
    return LogNormal(math.log(median), kwargs["sigma"])


def _build_bernoulli(args: list[float], kwargs: dict[str, float]) -> Distribution:
    _no_keywords("bernoulli(p)", kwargs)
    _count("bernoulli(p)", args, 1)
    return Bernoulli(args[0])


_BUILDERS: dict[str, Callable[[list[float], dict[str, float]], Distribution]] = {
    "beta": _build_beta,
    "uniform": _build_uniform,
    "triangular": _build_triangular,
    "normal": _build_normal,
    "lognormal": _build_lognormal,
    "bernoulli": _build_bernoulli,
    "constant": _build_constant,
}
#: The distributions a parameter's ``dist`` may name.
DISTRIBUTION_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def _parse_text(text: str) -> Distribution:
    if len(text) > MAX_TEXT_LENGTH:
        raise DistributionError(
            f"distribution text is {len(text)} characters long; at most "
            f"{MAX_TEXT_LENGTH} are accepted"
        )
    parser = _Parser(text)
    if not parser.tokens:
        raise DistributionError(
            "empty distribution text; expected a number or a distribution such as 'beta(6, 3)'"
        )
    kind, word, pos = parser.next("a number or a distribution name")
    if kind == "number":
        if (extra := parser.peek()) is not None:
            raise DistributionError(
                f"malformed distribution {text!r}: unexpected {extra[1]!r} at position "
                f"{extra[2]} after the number"
            )
        return Constant(_number((kind, word, pos)))
    if kind != "name":
        raise parser.fail(f"a number or a distribution name, got {word!r} at position {pos}")
    builder = _BUILDERS.get(word)
    if builder is None:
        message = (
            f"unknown distribution {word!r}; expected one of {', '.join(_BUILDERS)} "
            "(or a plain number)"
        )
        close = difflib.get_close_matches(word, list(_BUILDERS), n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        raise DistributionError(message)
    args, kwargs = parser.arguments()
    return builder(args, kwargs)


def parse_distribution(value: str | int | float) -> Distribution:
    """Parse a YAML scalar (distribution text or a number) into a :class:`Distribution`.

    Numbers (Python ints/floats, or numeric text such as ``"0.3"``) become
    :class:`Constant`. Raises :class:`DistributionError`, whose message says what was
    expected, for anything else: unknown names, malformed text, wrong argument counts,
    invalid parameters, nan/inf, booleans and text over 200 characters.
    """
    if isinstance(value, str):
        return _parse_text(value)
    if isinstance(value, bool):
        raise DistributionError(
            f"got the boolean {value!r} (YAML true/false/yes/no); expected a number or "
            "a distribution such as 'beta(6, 3)'"
        )
    if isinstance(value, numbers.Real):
        return Constant(_real("value", value))
    raise DistributionError(
        f"expected a number or distribution text such as 'beta(6, 3)'; got {value!r} "
        f"({type(value).__name__})"
    )
