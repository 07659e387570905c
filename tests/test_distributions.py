"""Tests for escalation.scenario.distributions: parsing, errors, ppf and sampling."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

from escalation.scenario.distributions import (
    Bernoulli,
    Beta,
    Constant,
    Distribution,
    DistributionError,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
    parse_distribution,
)

SEED = 12345
N = 200_000
Q_MAX = 1.0 - 2.0**-53  # largest value Generator.random can return

# --- parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.3, Constant(0.3)),
        (3, Constant(3.0)),
        (-2, Constant(-2.0)),
        (np.float64(0.25), Constant(0.25)),
        ("0.3", Constant(0.3)),
        (" 1e-3 ", Constant(0.001)),
        ("-2.5E+2", Constant(-250.0)),
        ("+.5", Constant(0.5)),
        ("constant(7)", Constant(7.0)),
        ("beta(6, 3)", Beta(6.0, 3.0)),
        ("beta(6,3)", Beta(6.0, 3.0, 0.0, 1.0)),
        ("  beta ( 2 , 5 , -10 , 20 )  ", Beta(2.0, 5.0, -10.0, 20.0)),
        ("beta(1, 2,)", Beta(1.0, 2.0)),
        ("uniform(-1, 1)", Uniform(-1.0, 1.0)),
        ("triangular(0, 0.2, 1)", Triangular(0.0, 0.2, 1.0)),
        ("triangular(0, 0, 1)", Triangular(0.0, 0.0, 1.0)),
        ("normal(0, 1)", Normal(0.0, 1.0)),
        ("normal(0.5, 0.2, lo=0)", Normal(0.5, 0.2, lo=0.0)),
        ("normal(0.5, 0.2, hi=1)", Normal(0.5, 0.2, hi=1.0)),
        ("normal(0.5, 0.2, lo=0, hi=1)", Normal(0.5, 0.2, 0.0, 1.0)),
        ("normal(0.5, 0.2, hi=1, lo=0)", Normal(0.5, 0.2, 0.0, 1.0)),
        ("normal(-1e-3, 2e-3, lo=-1e-2)", Normal(-0.001, 0.002, lo=-0.01)),
        ("lognormal(0, 0.5)", LogNormal(0.0, 0.5)),
        ("lognormal(median=2, sigma=0.5)", LogNormal(math.log(2.0), 0.5)),
        ("lognormal( sigma = 0.5 , median = 2 )", LogNormal(math.log(2.0), 0.5)),
        ("bernoulli(0.3)", Bernoulli(0.3)),
        ("bernoulli(1)", Bernoulli(1.0)),
    ],
)
def test_parse_every_form(value: object, expected: Distribution) -> None:
    """Each accepted text or number gives the expected distribution object."""
    parsed = parse_distribution(value)  # type: ignore[arg-type]
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize(
    ("dist", "text"),
    [
        (Constant(0.3), "0.3"),
        (Constant(-4.0), "-4"),
        (Beta(6, 3), "beta(6, 3)"),
        (Beta(6, 3, 0.5, 2.25), "beta(6, 3, 0.5, 2.25)"),
        (Uniform(0, 1e-5), "uniform(0, 1e-05)"),
        (Triangular(0, 0.2, 1), "triangular(0, 0.2, 1)"),
        (Normal(0.5, 0.2), "normal(0.5, 0.2)"),
        (Normal(0.5, 0.2, hi=1), "normal(0.5, 0.2, hi=1)"),
        (Normal(0.5, 0.2, 0, 1), "normal(0.5, 0.2, lo=0, hi=1)"),
        (LogNormal(0, 0.5), "lognormal(0, 0.5)"),
        (Bernoulli(0.25), "bernoulli(0.25)"),
    ],
)
def test_str_is_canonical_text(dist: Distribution, text: str) -> None:
    """str() gives the short canonical text, which parses back to the same object."""
    assert str(dist) == text
    assert parse_distribution(text) == dist


def test_distribution_error_is_value_error() -> None:
    """Callers catching ValueError also catch parse failures."""
    assert issubclass(DistributionError, ValueError)
    with pytest.raises(ValueError, match="unknown distribution"):
        parse_distribution("gamma(1, 2)")


@pytest.mark.parametrize(
    "build",
    [
        lambda: Beta(-1, 2),
        lambda: Uniform(1, 0),
        lambda: Triangular(0, 2, 1),
        lambda: Normal(0, 0),
        lambda: Normal(0, 1, lo=10),
        lambda: LogNormal(0, -1),
        lambda: Bernoulli(2),
        lambda: Constant(math.nan),
        lambda: Constant(True),
    ],
)
def test_direct_construction_is_validated(build: object) -> None:
    """The dataclasses validate themselves, not only the parser."""
    with pytest.raises(DistributionError):
        build()  # type: ignore[operator]


# --- invalid input ----------------------------------------------------------------

_ALL_NAMES = "beta, uniform, triangular, normal, lognormal, bernoulli, constant (or a plain number)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("beta(-1, 2)", "beta(a, b) needs a > 0 and b > 0; got a = -1"),
        ("beta(1, 0)", "beta(a, b) needs a > 0 and b > 0; got b = 0"),
        ("beta(0, -2.5)", "got a = 0, b = -2.5"),
        ("beta(1, 2, 3, 3)", "beta(a, b, lo, hi) needs lo < hi; got lo = 3, hi = 3"),
        ("beta(1, 2, 3)", "beta(a, b) takes 2 numbers, or 4 as beta(a, b, lo, hi); got 3"),
        ("beta()", "got 0"),
        ("beta(1, 2, lo=0)", "takes no keyword arguments; got 'lo='"),
        ("gamma(1, 2)", f"unknown distribution 'gamma'; expected one of {_ALL_NAMES}"),
        ("unifrom(0, 1)", "did you mean 'uniform'?"),
        ("Beta(6, 3)", "did you mean 'beta'?"),
        ("lognorm(0, 1)", "did you mean 'lognormal'?"),
        ("uniform(0, 1, 2)", "uniform(lo, hi) takes 2 numbers; got 3"),
        ("uniform(1, 1)", "uniform(lo, hi) needs lo < hi; got lo = 1, hi = 1"),
        ("uniform(2, 1)", "needs lo < hi"),
        ("triangular(0, 2, 1)", "triangular(lo, mode, hi) needs lo <= mode <= hi and lo < hi"),
        ("triangular(1, 1, 1)", "needs lo <= mode <= hi and lo < hi"),
        ("triangular(0, 1)", "triangular(lo, mode, hi) takes 3 numbers; got 2"),
        ("normal(0, 0)", "normal(mu, sd) needs sd > 0; got sd = 0"),
        ("normal(0, -1)", "needs sd > 0; got sd = -1"),
        ("normal(0, 1, 0, 1)", "bounds as keywords lo=, hi=; got 4"),
        ("normal(0, 1, lo=1, hi=0)", "needs lo < hi; got lo = 1, hi = 0"),
        ("normal(0, 1, lo=1, hi=1)", "needs lo < hi"),
        ("normal(0, 1, lo=10)", "keeps only 7.62e-24 of its probability"),
        ("normal(0, 1, hi=-10)", "needs at least 1e-09"),
        ("normal(0, 1, lo=20, hi=30)", "keeps only 2.75e-89 of its probability"),
        ("normal(0, 1, mid=0)", "accepts only the keywords lo= and hi=; got 'mid='"),
        ("normal(0, 1, lo=0, lo=1)", "keyword 'lo' given twice"),
        ("normal(0, lo=0, 1)", "positional numbers come first"),
        ("normal(0, 1, lo=)", "expected a number after 'lo='"),
        ("normal(0, 1, lo=hi)", "expected a number after 'lo='"),
        ("lognormal(0, 0)", "lognormal(mu, sigma) needs sigma > 0; got sigma = 0"),
        ("lognormal(median=0, sigma=1)", "needs M > 0; got median = 0"),
        ("lognormal(median=-1, sigma=1)", "needs M > 0; got median = -1"),
        ("lognormal(median=1, sigma=0)", "needs sigma > 0"),
        ("lognormal(median=1)", "lognormal(mu, sigma) or lognormal(median=M, sigma=S)"),
        ("lognormal(0, sigma=1)", "got lognormal(0, sigma=)"),
        ("lognormal(mu=0, sigma=1)", "lognormal(median=M, sigma=S)"),
        ("lognormal(0, 200)", "too extreme"),
        ("lognormal(0, 1, 2)", "lognormal(mu, sigma) takes 2 numbers; got 3"),
        ("bernoulli(1.5)", "bernoulli(p) needs 0 <= p <= 1; got p = 1.5"),
        ("bernoulli(-0.1)", "got p = -0.1"),
        ("bernoulli(0.1, 0.2)", "bernoulli(p) takes 1 number; got 2"),
        ("constant(1, 2)", "constant(x) takes 1 number; got 2"),
        ("constant(x=1)", "constant(x) takes no keyword arguments"),
        ("uniform(-1e308, 1e308)", "too extreme"),
        ("beta(1,", "malformed distribution 'beta(1,': expected ')'"),
        ("beta(1", "malformed distribution 'beta(1': expected ')'"),
        ("beta", "malformed distribution 'beta': expected '('"),
        ("beta 1, 2", "expected '(' after the name, got '1'"),
        ("beta(1 2)", "expected ',' or ')' at position 7, got '2'"),
        ("beta(1,,2)", "expected a number at position 7, got ','"),
        ("beta(,)", "expected a number at position 5, got ','"),
        ("beta(1, 2) x", "unexpected 'x' at position 11 after the closing ')'"),
        ("beta(1, 2))", "after the closing ')'"),
        ("beta(1; 2)", "unexpected character ';' at position 6"),
        ("beta(uniform(0, 1), 2)", "expected a number at position 5, got 'uniform'"),
        ("beta(1, 2 + 3)", "unexpected character '+' at position 10"),
        ("0.3 0.4", "unexpected '0.4' at position 4 after the number"),
        ("1,5", "after the number"),
        ("50%", "unexpected character '%'"),
        ("(1, 2)", "expected a number or a distribution name, got '('"),
        ("", "empty distribution text"),
        ("   ", "empty distribution text"),
        ("nan", "numbers must be finite; got 'nan'"),
        ("-inf", "numbers must be finite; got '-inf'"),
        ("uniform(0, Infinity)", "numbers must be finite; got 'Infinity'"),
        ("beta(1, NaN)", "numbers must be finite"),
        ("1e999", "numbers must be finite; got '1e999'"),
        (math.nan, "must be a finite number"),
        (-math.inf, "must be a finite number"),
        (10**400, "must be a finite number"),
        (True, "got the boolean True"),
        (False, "got the boolean False"),
        (None, "expected a number or distribution text"),
        ([1, 2], "expected a number or distribution text"),
        ("beta(1, 2)" + " " * 191, "201 characters long; at most 200"),
        ("x" * 1000, "at most 200"),
    ],
)
def test_invalid_input_explains_what_was_expected(value: object, message: str) -> None:
    """Every invalid input raises DistributionError whose message contains the hint."""
    with pytest.raises(DistributionError) as info:
        parse_distribution(value)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_text_of_exactly_200_characters_is_accepted() -> None:
    """The length limit is inclusive: 200 characters still parse."""
    text = "beta(6, 3)".ljust(200)
    assert len(text) == 200
    assert parse_distribution(text) == Beta(6, 3)


# --- round trip and fuzzing (hypothesis) ------------------------------------------

_finite = st.floats(allow_nan=False, allow_infinity=False)
_moderate = st.floats(-1e6, 1e6, allow_nan=False)
_positive = st.floats(1e-3, 1e3)
_sorted_pair = st.tuples(_moderate, _moderate).filter(lambda t: t[0] != t[1]).map(sorted)


def _try(build: object, *args: object) -> Distribution | None:
    """The distribution, or None when these parameters are (legitimately) rejected."""
    try:
        return build(*args)  # type: ignore[operator]
    except DistributionError:
        return None


_normals = st.builds(
    lambda mu, sd, lo_k, hi_k, use_lo, use_hi: _try(
        Normal, mu, sd, mu + lo_k * sd if use_lo else None, mu + hi_k * sd if use_hi else None
    ),
    _moderate,
    _positive,
    st.floats(-8, 5),
    st.floats(-5, 8),
    st.booleans(),
    st.booleans(),
).filter(lambda d: d is not None)

valid_distributions = st.one_of(
    st.builds(Constant, _finite),
    st.builds(Beta, _positive, _positive),
    st.builds(lambda a, b, lh: Beta(a, b, *lh), _positive, _positive, _sorted_pair),
    _sorted_pair.map(lambda lh: Uniform(*lh)),
    st.tuples(_moderate, _moderate, _moderate)
    .map(sorted)
    .filter(lambda t: t[0] < t[2])
    .map(lambda t: Triangular(*t)),
    _normals,
    st.builds(LogNormal, st.floats(-50, 50), st.floats(1e-3, 5)),
    st.builds(Bernoulli, st.floats(0, 1)),
)


@settings(max_examples=300, deadline=None)
@given(valid_distributions)
def test_str_round_trips_to_an_equal_object(dist: Distribution) -> None:
    """str() -> parse_distribution gives back an equal object, for any valid parameters."""
    text = str(dist)
    assert len(text) <= 200
    again = parse_distribution(text)
    assert again == dist
    assert str(again) == text


@settings(max_examples=100, deadline=None)
@given(st.floats(1e-6, 1e6), st.floats(1e-3, 5))
def test_lognormal_median_form_round_trips(median: float, sigma: float) -> None:
    """The median keyword form sets mu = log(median), and its canonical text round-trips."""
    dist = parse_distribution(f"lognormal(median={median!r}, sigma={sigma!r})")
    assert dist == LogNormal(math.log(median), sigma)
    assert parse_distribution(str(dist)) == dist
    assert math.isclose(float(dist.ppf(np.array([0.5]))[0]), median, rel_tol=1e-12)


@settings(max_examples=200, deadline=None)
@given(valid_distributions, st.lists(st.floats(0.0, Q_MAX), min_size=1, max_size=50))
def test_ppf_is_finite_and_inside_bounds(dist: Distribution, qs: list[float]) -> None:
    """For any valid distribution, ppf on [0, 1) is finite and lies inside the support."""
    q = np.array([0.0, 0.5, Q_MAX, *qs])
    x = dist.ppf(q)
    assert x.dtype == np.float64
    assert x.shape == q.shape
    assert np.all(np.isfinite(x))
    low, high = dist.bounds
    assert np.all((x >= low) & (x <= high))


_TOKENS = [
    *["beta", "uniform", "triangular", "normal", "lognormal", "bernoulli", "constant"],
    *["(", ")", ",", "=", " ", "lo", "hi", "median", "sigma", "x"],
    *["0", "1", "-1", "0.5", "1e-3", "2.5", "1e308", "-1e308", "5e-324", "inf", "nan", "+", "e"],
]
_fuzz_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet="betauniformlh(),=0123456789.-+eE ", max_size=60),
    st.lists(st.sampled_from(_TOKENS), max_size=14).map("".join),
)


@settings(max_examples=600, deadline=None)
@given(_fuzz_text)
def test_arbitrary_text_parses_or_raises_distribution_error(text: str) -> None:
    """Fuzz: any text either parses (and then round-trips, with a finite ppf) or raises
    DistributionError; never any other exception."""
    try:
        dist = parse_distribution(text)
    except DistributionError as error:
        assert str(error)
        return
    assert isinstance(dist, Distribution)
    assert parse_distribution(str(dist)) == dist
    assert np.all(np.isfinite(dist.ppf(np.array([0.0, 0.5, Q_MAX]))))


# --- moments and goodness of fit --------------------------------------------------

# (name, distribution, matching frozen scipy distribution)
CASES: list[tuple[str, Distribution, object]] = [
    ("beta", Beta(6, 3), stats.beta(6, 3)),
    ("beta_u_shaped", Beta(0.5, 0.5), stats.beta(0.5, 0.5)),
    ("beta_scaled", Beta(2, 5, -10, 20), stats.beta(2, 5, loc=-10, scale=30)),
    ("uniform", Uniform(-1, 3), stats.uniform(loc=-1, scale=4)),
    ("triangular", Triangular(0, 0.2, 1), stats.triang(0.2, loc=0, scale=1)),
    ("triangular_left", Triangular(2, 2, 5), stats.triang(0.0, loc=2, scale=3)),
    ("normal", Normal(0.5, 0.2), stats.norm(0.5, 0.2)),
    ("normal_trunc", Normal(0.5, 0.2, 0, 1), stats.truncnorm(-2.5, 2.5, loc=0.5, scale=0.2)),
    ("normal_lo", Normal(0.1, 0.3, lo=0), stats.truncnorm(-1 / 3, np.inf, loc=0.1, scale=0.3)),
    ("normal_hi", Normal(0, 1, hi=-1), stats.truncnorm(-np.inf, -1, loc=0, scale=1)),
    # Far right tail (mass 2.9e-7): exercises the mirrored, cancellation-free ppf.
    ("normal_tail", Normal(0, 1, lo=5), stats.truncnorm(5, np.inf)),
    ("lognormal", LogNormal(1, 0.5), stats.lognorm(0.5, scale=math.e)),
    (
        "lognormal_median",
        parse_distribution("lognormal(median=3, sigma=0.8)"),
        stats.lognorm(0.8, scale=3),
    ),
]
DISCRETE_CASES: list[tuple[str, Distribution, object]] = [
    ("bernoulli", Bernoulli(0.3), stats.bernoulli(0.3)),
    ("bernoulli_rare", Bernoulli(0.01), stats.bernoulli(0.01)),
]
ALL_DISTRIBUTIONS = [d for _, d, _ in CASES + DISCRETE_CASES] + [
    Constant(2.5),
    Bernoulli(0.0),
    Bernoulli(1.0),
]


@functools.cache
def _draws(name: str) -> np.ndarray:
    """N draws of the named case from the fixed seed (cached: shared by several tests)."""
    dist = dict((n, d) for n, d, _ in CASES + DISCRETE_CASES)[name]
    return dist.sample(np.random.default_rng(SEED), N)


@pytest.mark.parametrize(("name", "dist", "reference"), CASES + DISCRETE_CASES)
def test_analytic_mean_matches_scipy(name: str, dist: Distribution, reference: object) -> None:
    """mean() agrees with scipy's mean for the same distribution (to rounding error)."""
    assert math.isclose(dist.mean(), reference.mean(), rel_tol=1e-9, abs_tol=1e-12)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "dist", "reference"), CASES + DISCRETE_CASES)
def test_sample_mean_within_four_standard_errors(
    name: str, dist: Distribution, reference: object
) -> None:
    """Sample mean of N draws is within 4 Monte Carlo standard errors of mean().

    The standard error is the analytic standard deviation (from scipy) / sqrt(N), so the
    tolerance follows from the distribution, not from tuning; at a fixed seed this fails
    only if the sampler is wrong.
    """
    standard_error = reference.std() / math.sqrt(N)  # type: ignore[attr-defined]
    assert abs(_draws(name).mean() - dist.mean()) <= 4 * standard_error


@pytest.mark.parametrize(("name", "dist", "reference"), CASES)
def test_kolmogorov_smirnov_against_scipy(name: str, dist: Distribution, reference: object) -> None:
    """The draws are consistent with scipy's distribution (KS p > 1e-3 at a fixed seed)."""
    result = stats.kstest(_draws(name), reference.cdf)  # type: ignore[attr-defined]
    assert result.pvalue > 1e-3


@pytest.mark.parametrize(("name", "dist", "reference"), CASES)
def test_ppf_matches_scipy(name: str, dist: Distribution, reference: object) -> None:
    """ppf agrees with scipy's ppf to near machine precision over the whole q range."""
    # Not closer to 1 than 1 - 1e-6: there scipy's truncnorm itself loses digits
    # (see test_truncated_normal_tails_keep_precision).
    q = np.concatenate([np.linspace(0.001, 0.999, 999), [1e-12, 1e-6, 1 - 1e-6]])
    expected = reference.ppf(q)  # type: ignore[attr-defined]
    np.testing.assert_allclose(dist.ppf(q), expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "dist",
    [Normal(0.1, 0.3, lo=0), Normal(0, 1, lo=5), Normal(-0.1, 0.3, hi=0), Normal(0, 1, hi=-5.5)],
    ids=str,
)
def test_one_sided_truncated_normal_keeps_tail_precision(dist: Normal) -> None:
    """In the unbounded tail, P(X beyond ppf(q)) equals the matching tail of q to 1e-9
    relative, for q from 1e-300 to 1 - 2**-53.

    The tail probability is computed straight from ndtr (no 1 - ndtr cancellation), so
    this checks full relative precision, including where scipy's truncnorm loses digits
    (q near 1 for lo=). 1e-9 is ~1e7 ulps: far above rounding, far below any real error.
    """
    q = np.array([1e-300, 1e-15, 1e-9, 1e-3, 0.5, 1 - 1e-3, 1 - 1e-9, 1 - 1e-13, Q_MAX])
    clipped = np.clip(q, 2.0**-53, Q_MAX)  # ppf clips q to [2**-53, 1 - 2**-53]
    z = (dist.ppf(q) - dist.mu) / dist.sd
    if dist.lo is not None:  # open upper tail: P(X > x) = Phi(-z) / Phi(-a)
        tail = special.ndtr(-z) / special.ndtr(-(dist.lo - dist.mu) / dist.sd)
        expected = 1.0 - clipped
    else:  # open lower tail: P(X < x) = Phi(z) / Phi(b)
        assert dist.hi is not None
        tail = special.ndtr(z) / special.ndtr((dist.hi - dist.mu) / dist.sd)
        expected = clipped
    np.testing.assert_allclose(tail, expected, rtol=1e-9)


def test_constant_sample_is_exact() -> None:
    """A constant's draws all equal the constant, with zero spread."""
    dist = parse_distribution("constant(0.3)")
    draws = dist.sample(np.random.default_rng(SEED), 1000)
    assert np.all(draws == 0.3)
    assert dist.mean() == 0.3
    assert dist.bounds == (0.3, 0.3)


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_bernoulli_values_are_zero_or_one(p: float) -> None:
    """Bernoulli draws are exactly 0.0 or 1.0, and all equal for p = 0 or 1."""
    draws = Bernoulli(p).sample(np.random.default_rng(SEED), 10_000)
    assert set(np.unique(draws)) <= {0.0, 1.0}
    if p in (0.0, 1.0):
        assert np.all(draws == p)
    # Edge q values: p = 1 gives 1 even at q = 0; p = 0 gives 0 even at the largest q.
    assert Bernoulli(p).ppf(np.array([0.0, Q_MAX])).tolist() == [float(p == 1.0), float(p > 0.0)]


# --- sampling contract ------------------------------------------------------------


@pytest.mark.parametrize("dist", ALL_DISTRIBUTIONS, ids=str)
def test_sample_consumes_exactly_n_uniforms(dist: Distribution) -> None:
    """After sample(rng, n), rng is where rng.random(n) would have left it (common
    random numbers: swapping one distribution does not shift the other streams)."""
    n = 1234
    used = np.random.default_rng(SEED)
    dist.sample(used, n)
    reference = np.random.default_rng(SEED)
    reference.random(n)
    assert used.random() == reference.random()


@pytest.mark.parametrize("dist", ALL_DISTRIBUTIONS, ids=str)
def test_sample_is_ppf_of_uniforms(dist: Distribution) -> None:
    """sample(rng, n) is exactly ppf(rng.random(n)) from an identically seeded rng."""
    drawn = dist.sample(np.random.default_rng(SEED), 500)
    expected = dist.ppf(np.random.default_rng(SEED).random(500))
    np.testing.assert_array_equal(drawn, expected)
    assert drawn.shape == (500,)


# --- bounds and extremes ----------------------------------------------------------


@pytest.mark.parametrize(
    "dist",
    [
        Normal(0.5, 0.2, 0, 1),
        Normal(0.5, 5.0, 0, 1),
        Normal(0, 1, lo=5.5),
        Normal(0, 1, hi=-5.5),
        Normal(3, 0.01, lo=2.999, hi=3.0001),
        Beta(2, 5, -10, 20),
        Beta(0.05, 0.05, 3, 4),
        Uniform(-2, -1),
        Triangular(1, 4, 4),
    ],
    ids=str,
)
def test_draws_stay_inside_bounds(dist: Distribution) -> None:
    """Draws and the ppf at the extremes of q lie inside the declared bounds."""
    low, high = dist.bounds
    draws = dist.sample(np.random.default_rng(SEED), 50_000)
    extremes = dist.ppf(np.array([0.0, 1e-300, 2.0**-53, Q_MAX]))
    for x in (draws, extremes):
        assert np.all(np.isfinite(x))
        assert np.all((x >= low) & (x <= high))


@pytest.mark.parametrize(
    "dist",
    [
        *ALL_DISTRIBUTIONS,
        Normal(0, 1e-300),
        Normal(1e300, 1e299),
        LogNormal(0, 30),
        LogNormal(-700, 1),
        Beta(1e-3, 1e-3),
        Beta(1e5, 1e5),
    ],
    ids=str,
)
def test_ppf_finite_at_q_zero_and_near_one(dist: Distribution) -> None:
    """ppf never returns nan or inf for q in [0, 1), including q = 0 and 1 - 2**-53."""
    x = dist.ppf(np.array([0.0, 2.0**-53, 0.5, 1 - 1e-12, Q_MAX]))
    assert np.all(np.isfinite(x))
    assert np.all(np.diff(x) >= 0)  # monotone in q


def test_unbounded_normal_reports_infinite_bounds() -> None:
    """An untruncated normal's support is the whole line; a one-sided one is half of it."""
    assert Normal(0, 1).bounds == (-math.inf, math.inf)
    assert Normal(0, 1, lo=-1).bounds == (-1.0, math.inf)
    assert LogNormal(0, 1).bounds == (0.0, math.inf)


@pytest.mark.parametrize(
    ("dist", "expected"),
    [
        (Constant(1.0), True),
        (Bernoulli(0.0), True),
        (Bernoulli(1.0), True),
        (Bernoulli(0.5), False),
        (Beta(6, 3), False),
        (Normal(0, 1), False),
    ],
    ids=str,
)
def test_is_constant(dist: Distribution, expected: bool) -> None:
    """is_constant is true exactly when every draw is the same value."""
    assert dist.is_constant is expected
    if expected:
        assert np.unique(dist.sample(np.random.default_rng(SEED), 100)).size == 1


def test_distributions_are_hashable_values() -> None:
    """Frozen dataclasses: equal parameters give equal, hashable, immutable objects."""
    assert {Beta(6, 3), parse_distribution("beta(6.0, 3.0)")} == {Beta(6, 3)}
    with pytest.raises(AttributeError):
        Beta(6, 3).a = 1.0  # type: ignore[misc]


# --- checking a file without SciPy (start-up of `escalation validate`) --------------------


def test_known_values_at_the_check_points_are_scipys() -> None:
    """The normal quantiles the checks use without SciPy are SciPy's own, to the last bit."""
    from scipy import special as scipy_special

    from escalation.scenario import distributions as d

    np.testing.assert_array_equal(scipy_special.ndtri(d._Q_CHECKED), d._Z_CHECK)
    assert scipy_special.ndtr(-np.inf) == 0.0 and scipy_special.ndtr(np.inf) == 1.0


def test_beta_is_finite_at_the_check_points_inside_its_box() -> None:
    """Inside BETA_FINITE, betaincinv is finite at the check points: the shortcut is exact."""
    from scipy import special as scipy_special

    from escalation.scenario import distributions as d

    low, high = d.BETA_FINITE
    grid = np.geomspace(low, high, 120)
    x = scipy_special.betaincinv(grid[:, None, None], grid[None, :, None], d._Q_CHECKED)
    assert np.isfinite(x).all()


@pytest.mark.parametrize(
    "text", ["beta(1e7, 2)", "beta(0.0001, 3)", "beta(2, 5, -1e308, 1e308)", "beta(2, 5)"]
)
def test_beta_check_agrees_inside_and_outside_its_box(text: str) -> None:
    """The shortcut and SciPy's check accept and refuse the same distributions."""
    from escalation.scenario import distributions as d

    try:
        parse_distribution(text)
        accepted = True
    except d.DistributionError:
        accepted = False
    dist = object.__new__(d.Beta)
    for name, value in zip(("a", "b", "lo", "hi"), _beta_fields(text), strict=True):
        object.__setattr__(dist, name, value)
    try:
        d.Distribution._check_representable(dist)  # the check through SciPy
        by_scipy = True
    except d.DistributionError:
        by_scipy = False
    assert accepted == by_scipy


def _beta_fields(text: str) -> list[float]:
    numbers = [float(word) for word in text[5:-1].split(",")]
    return numbers + [0.0, 1.0][len(numbers) - 2 :]


def test_checking_the_shipped_scenario_needs_no_scipy(dec2021_path) -> None:
    """`escalation validate` stays quick: loading dec2021 does not import SciPy."""
    import subprocess
    import sys

    code = (
        "import sys; from escalation.scenario.load import load_scenario; "
        f"load_scenario({str(dec2021_path)!r}); "
        "print(sorted(m for m in ('scipy', 'pandas', 'mesa') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
