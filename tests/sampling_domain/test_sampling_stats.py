"""Sample sizes, distribution functions, upper bounds, verdicts and stratified allocation."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.sampling import (
    SampleSize,
    allocate,
    attribute_sample_size,
    attribute_sample_size_for_k,
    binomial_cdf,
    clopper_pearson_upper,
    hypergeom_cdf,
    hypergeom_upper_rate,
    sample_size,
    verdict,
)

D = Decimal
C95 = D("0.95")
ALPHA95 = Fraction(1, 20)


def exact_binomial_cdf(k: int, n: int, p: Fraction) -> Fraction:
    a, d = p.numerator, p.denominator
    return Fraction(sum(math.comb(n, i) * a**i * (d - a) ** (n - i) for i in range(k + 1)), d**n)


def exact_hypergeom_cdf(k: int, N: int, K: int, n: int) -> Fraction:
    low = max(0, n - (N - K))
    top = sum(math.comb(K, i) * math.comb(N - K, n - i) for i in range(low, k + 1))
    return Fraction(top, math.comb(N, n))


# ---------------------------------------------------------------------------------------------------- sizes


@pytest.mark.parametrize(
    ("confidence", "tolerable", "k", "n"),
    [
        ("0.95", "0.05", 0, 59),
        ("0.95", "0.05", 1, 93),
        ("0.95", "0.10", 0, 29),
        ("0.90", "0.05", 0, 45),
        ("0.95", "0.02", 0, 149),
        ("0.95", "0.05", 2, 124),
        ("0.95", "0.05", 4, 181),
        ("0.90", "0.05", 1, 77),
    ],
)
def test_sample_size_for_k_reproduces_the_table(confidence: str, tolerable: str, k: int, n: int) -> None:
    size = attribute_sample_size_for_k(D(confidence), D(tolerable), k)
    assert size == SampleSize(n, "binomial", k)
    # n is the smallest: one less does not reach the confidence
    alpha = 1 - Fraction(D(confidence))
    assert binomial_cdf(k, n, Fraction(D(tolerable))) <= alpha < binomial_cdf(k, n - 1, Fraction(D(tolerable)))


@pytest.mark.parametrize(
    ("confidence", "tolerable", "expected", "n", "k"),
    [
        # AICPA statistical sample sizes for tests of controls, 5% risk of overreliance, 5% tolerable rate
        ("0.95", "0.05", "0", 59, 0),
        ("0.95", "0.05", "0.0025", 93, 1),
        ("0.95", "0.05", "0.005", 93, 1),
        ("0.95", "0.05", "0.0075", 93, 1),
        ("0.95", "0.05", "0.01", 93, 1),
        ("0.95", "0.05", "0.0125", 124, 2),
        ("0.95", "0.05", "0.015", 124, 2),
        ("0.95", "0.05", "0.0175", 153, 3),
        ("0.95", "0.05", "0.02", 181, 4),
        # other cells of the same table, and of the 10% risk table
        ("0.95", "0.04", "0.01", 156, 2),
        ("0.95", "0.10", "0", 29, 0),
        ("0.95", "0.02", "0", 149, 0),
        ("0.95", "0.03", "0", 99, 0),
        ("0.90", "0.05", "0", 45, 0),
        ("0.90", "0.05", "0.01", 77, 1),
        ("0.90", "0.07", "0.03", 94, 3),
        ("0.90", "0.08", "0.04", 98, 4),
    ],
)
def test_sample_size_for_an_expected_rate_reproduces_the_aicpa_table(
    confidence: str, tolerable: str, expected: str, n: int, k: int
) -> None:
    assert attribute_sample_size(D(confidence), D(tolerable), D(expected)) == SampleSize(n, "binomial", k)


def test_fractions_are_accepted_like_decimals() -> None:
    assert attribute_sample_size(Fraction(19, 20), Fraction(1, 20), Fraction(0)).n == 59


@pytest.mark.parametrize(
    ("confidence", "tolerable", "expected"),
    [(0.95, D("0.05"), D(0)), (D("1"), D("0.05"), D(0)), (D("0.95"), D(0), D(0)), (D("0.95"), D("0.05"), D("0.05")), (D("0.95"), D("0.05"), "0")],
)
def test_bad_parameters_are_refused(confidence: object, tolerable: object, expected: object) -> None:
    with pytest.raises(ValidationFailed):
        attribute_sample_size(confidence, tolerable, expected)  # type: ignore[arg-type]


def test_an_expected_rate_too_close_to_the_tolerable_rate_is_refused_without_a_population() -> None:
    with pytest.raises(ValidationFailed, match="与可容忍偏差率过于接近"):
        attribute_sample_size(C95, D("0.05"), D("0.049"))


def test_large_population_keeps_the_binomial() -> None:
    assert attribute_sample_size(C95, D("0.05"), D(0), population=10_000) == SampleSize(59, "binomial", 0)
    assert attribute_sample_size(C95, D("0.05"), D(0), population=59 * 20) == SampleSize(59, "binomial", 0)


def test_small_population_uses_the_hypergeometric() -> None:
    size = attribute_sample_size(C95, D("0.05"), D(0), population=383)
    assert size == SampleSize(52, "hypergeometric", 0)
    tolerable_count = math.ceil(Fraction(383, 20))  # 20 deviations: the smallest count that is not tolerable
    assert exact_hypergeom_cdf(0, 383, tolerable_count, 52) <= ALPHA95 < exact_hypergeom_cdf(0, 383, tolerable_count, 51)
    assert attribute_sample_size(C95, D("0.05"), D(0), population=59 * 20 - 1).method == "hypergeometric"


def test_tiny_population_is_taken_in_full() -> None:
    assert attribute_sample_size_for_k(C95, D("0.05"), 0, population=10) == SampleSize(10, "hypergeometric", 0)
    # 20 cases at 5%: one deviation is already intolerable, so allowing one cannot be tested: census
    assert attribute_sample_size_for_k(C95, D("0.05"), 1, population=20) == SampleSize(20, "hypergeometric", 1, "population")


def test_round_size_applies_the_minimum_rate_and_the_population() -> None:
    assert sample_size(383, C95, D("0.05"), D(0), D("0.10")) == SampleSize(52, "hypergeometric", 0)
    assert sample_size(383, C95, D("0.05"), D(0), D("0.20")) == SampleSize(77, "hypergeometric", 0, "minimum_rate")
    assert sample_size(10_000, C95, D("0.05"), D(0), D("0.10")) == SampleSize(1000, "binomial", 0, "minimum_rate")
    assert sample_size(10_000, C95, D("0.05"), D(0), D(0)) == SampleSize(59, "binomial", 0)
    assert sample_size(10, C95, D("0.05"), D(0), D("0.10")) == SampleSize(10, "hypergeometric", 0, "population")
    assert sample_size(0, C95, D("0.05"), D(0), D("0.10")).n == 0


@settings(max_examples=60, deadline=None)
@given(
    population=st.integers(1, 60_000),
    min_rate=st.sampled_from([D(0), D("0.05"), D("0.10"), D("0.25"), D(1)]),
    expected=st.sampled_from([D(0), D("0.005"), D("0.01")]),
)
def test_round_size_is_within_its_limits(population: int, min_rate: Decimal, expected: Decimal) -> None:
    size = sample_size(population, C95, D("0.05"), expected, min_rate)
    statistical = attribute_sample_size(C95, D("0.05"), expected, population)
    assert math.ceil(min_rate * population) <= size.n <= population
    assert size.n >= min(statistical.n, population)
    assert size.method == statistical.method


# ---------------------------------------------------------------------------------------------------- distributions


def test_binomial_cdf_known_values() -> None:
    assert binomial_cdf(0, 59, Fraction(1, 20)) == pytest.approx(0.95**59, rel=1e-14)
    assert binomial_cdf(0, 59, 0.05) == pytest.approx(0.95**59, rel=1e-12)
    assert binomial_cdf(-1, 10, 0.5) == 0.0
    assert binomial_cdf(10, 10, 0.5) == 1.0
    assert binomial_cdf(3, 10, 0.0) == 1.0
    assert binomial_cdf(3, 10, 1.0) == 0.0
    assert binomial_cdf(5, 10, D("0.5")) == float(Fraction(638, 1024))


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 1500),
    p=st.sampled_from([Fraction(1, 100), Fraction(1, 20), Fraction(1, 10), Fraction(3, 10), Fraction(1, 2), Fraction(9, 10)]),
    data=st.data(),
)
def test_binomial_cdf_floating_point_agrees_with_exact(n: int, p: Fraction, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    exact = float(exact_binomial_cdf(k, n, p))
    computed = binomial_cdf(k, n, float(p))
    if exact < 0.5:
        assert computed == pytest.approx(exact, rel=1e-9, abs=1e-300)
    else:
        assert computed == pytest.approx(exact, abs=1e-12)
    assert binomial_cdf(k, n, p) == pytest.approx(exact, rel=1e-9, abs=1e-300)


def test_hypergeom_cdf_small_is_exact() -> None:
    assert hypergeom_cdf(0, 383, 20, 52) == float(exact_hypergeom_cdf(0, 383, 20, 52))
    assert hypergeom_cdf(1, 10, 3, 4) == float(Fraction(math.comb(7, 4) + 3 * math.comb(7, 3), math.comb(10, 4)))
    assert hypergeom_cdf(-1, 10, 3, 4) == 0.0
    assert hypergeom_cdf(3, 10, 3, 4) == 1.0
    assert hypergeom_cdf(0, 10, 8, 4) == 0.0  # at least 2 of any 4 are deviations


@settings(max_examples=40, deadline=None)
@given(N=st.integers(5_001, 40_000), data=st.data())
def test_hypergeom_cdf_floating_point_agrees_with_exact(N: int, data: st.DataObject) -> None:
    K = data.draw(st.integers(0, N))
    n = data.draw(st.integers(0, min(N, 400)))
    low, high = max(0, n - (N - K)), min(n, K)
    k = data.draw(st.integers(low, high))
    exact = float(exact_hypergeom_cdf(k, N, K, n))
    computed = hypergeom_cdf(k, N, K, n)
    if exact < 0.5:
        # The sizes and verdicts compare the lower tail with 1 - confidence: it must hold to 1e-8 relative.
        assert computed == pytest.approx(exact, rel=1e-8, abs=1e-300)
    else:
        # Near 1 the float sum of terms carries about 1e-10 of rounding (seen: 1.04e-10 at 0.99997).
        assert computed == pytest.approx(exact, abs=1e-9)


def test_hypergeom_approaches_the_binomial_for_a_huge_population() -> None:
    assert hypergeom_cdf(1, 1_000_000, 50_000, 93) == pytest.approx(binomial_cdf(1, 93, 0.05), rel=1e-3)


# ---------------------------------------------------------------------------------------------------- upper bounds


def test_clopper_pearson_known_values() -> None:
    assert clopper_pearson_upper(0, 59, C95) < Fraction(1, 20)
    assert float(clopper_pearson_upper(0, 59, C95)) == pytest.approx(0.0495, abs=1e-4)
    assert clopper_pearson_upper(0, 58, C95) > Fraction(1, 20)
    assert float(clopper_pearson_upper(1, 93, C95)) == pytest.approx(0.0499, abs=1e-4)
    assert clopper_pearson_upper(1, 93, C95) < Fraction(1, 20) < clopper_pearson_upper(1, 92, C95)
    assert clopper_pearson_upper(5, 5, C95) == 1
    assert clopper_pearson_upper(0, 0, C95) == 1


@pytest.mark.parametrize("n", [1, 2, 10, 59, 200, 3000])
@pytest.mark.parametrize("confidence", [D("0.90"), D("0.95"), D("0.99")])
def test_clopper_pearson_closed_forms(n: int, confidence: Decimal) -> None:
    alpha = 1 - float(confidence)
    assert float(clopper_pearson_upper(0, n, confidence)) == pytest.approx(1 - alpha ** (1 / n), abs=2e-12)
    # x = n - 1: P(X <= n - 1) = 1 - p^n
    assert float(clopper_pearson_upper(n - 1, n, confidence)) == pytest.approx((1 - alpha) ** (1 / n), abs=2e-12)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 2000), data=st.data(), confidence=st.sampled_from([D("0.90"), D("0.95"), D("0.99")]))
def test_clopper_pearson_is_the_root(n: int, data: st.DataObject, confidence: Decimal) -> None:
    x = data.draw(st.integers(0, n - 1))
    alpha = 1 - Fraction(confidence)
    bound = clopper_pearson_upper(x, n, confidence)
    assert binomial_cdf(x, n, float(bound)) <= alpha
    assert binomial_cdf(x, n, float(bound) - 1e-9) > alpha


def test_hypergeometric_upper_rate() -> None:
    assert hypergeom_upper_rate(3, 100, 100, C95) == Fraction(3, 100)  # a census knows the rate
    assert hypergeom_upper_rate(0, 0, 100, C95) == 1  # nothing seen, anything possible
    bound = hypergeom_upper_rate(0, 52, 383, C95)
    assert bound * 383 == 19 and bound < Fraction(1, 20)
    assert hypergeom_upper_rate(0, 51, 383, C95) * 383 == 20
    # close to Clopper-Pearson for a large population
    assert float(hypergeom_upper_rate(3, 500, 1_000_000, C95)) == pytest.approx(float(clopper_pearson_upper(3, 500, C95)), rel=2e-3)


@settings(max_examples=60, deadline=None)
@given(N=st.integers(1, 20_000), data=st.data(), confidence=st.sampled_from([D("0.90"), D("0.95"), D("0.99")]))
def test_hypergeometric_upper_rate_is_the_largest_plausible_count(N: int, data: st.DataObject, confidence: Decimal) -> None:
    n = data.draw(st.integers(0, min(N, 300)))
    x = data.draw(st.integers(0, n))
    alpha = 1 - Fraction(confidence)
    count = hypergeom_upper_rate(x, n, N, confidence) * N
    assert count.denominator == 1 and x <= count <= N - (n - x)
    assert hypergeom_cdf(x, N, int(count), n) > alpha
    if count < N - (n - x):
        assert hypergeom_cdf(x, N, int(count) + 1, n) <= alpha


# ---------------------------------------------------------------------------------------------------- verdict


def test_verdict_on_constructed_outcomes() -> None:
    tol = D("0.05")
    assert verdict(59, 58, 0, C95, tol, "binomial") == ("pending", None)
    outcome, bound = verdict(59, 59, 0, C95, tol, "binomial")
    assert outcome == "accept" and bound is not None and bound <= Fraction(1, 20)
    outcome, bound = verdict(59, 59, 1, C95, tol, "binomial")
    assert outcome == "expand" and bound is not None and bound > Fraction(1, 20)
    assert verdict(93, 93, 1, C95, tol, "binomial")[0] == "accept"
    assert verdict(93, 93, 2, C95, tol, "binomial")[0] == "expand"
    assert verdict(52, 52, 0, C95, tol, "hypergeometric", 383) == ("accept", Fraction(19, 383))
    assert verdict(52, 52, 1, C95, tol, "hypergeometric", 383)[0] == "expand"
    assert verdict(383, 383, 19, C95, tol, "hypergeometric", 383) == ("accept", Fraction(19, 383))
    assert verdict(383, 383, 20, C95, tol, "hypergeometric", 383) == ("expand", Fraction(20, 383))
    assert verdict(0, 0, 0, C95, tol, "hypergeometric", 0) == ("accept", 0)


@pytest.mark.parametrize(
    "args",
    [
        (59, 60, 0, C95, D("0.05"), "binomial", None),
        (59, 59, 60, C95, D("0.05"), "binomial", None),
        (59, 59, 0, C95, D("0.05"), "hypergeometric", None),
        (59, 59, 0, C95, D("0.05"), "hypergeometric", 58),
        (59, 59, 0, C95, D("0.05"), "poisson", None),
    ],
)
def test_verdict_refuses_inconsistent_counts(args: tuple) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationFailed):
        verdict(*args)


CONFIDENCES = st.sampled_from([D("0.90"), D("0.95"), D("0.99")])
TOLERABLES = st.sampled_from([D("0.02"), D("0.03"), D("0.04"), D("0.05"), D("0.06"), D("0.07"), D("0.08"), D("0.09"), D("0.10")])
POPULATIONS = st.one_of(st.none(), st.integers(20, 3_000), st.integers(3_000, 200_000))


def assert_bound_agrees(outcome: str, bound: Fraction | None, tolerable: Fraction, method: str) -> None:
    assert bound is not None
    if method == "binomial":
        assert (outcome == "accept") == (bound <= tolerable)
    else:
        assert (outcome == "accept") == (bound < tolerable)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(confidence=CONFIDENCES, tolerable=TOLERABLES, k=st.integers(0, 2), population=POPULATIONS)
def test_size_and_verdict_agree(confidence: Decimal, tolerable: Decimal, k: int, population: int | None) -> None:
    size = attribute_sample_size_for_k(confidence, tolerable, k, population)
    assume(size.limited_by == "statistical")  # a census forced by a tiny population tests nothing
    n, tol = size.n, Fraction(tolerable)
    for found in range(k + 1):
        outcome, bound = verdict(n, n, found, confidence, tolerable, size.method, population)
        assert outcome == "accept"
        assert_bound_agrees(outcome, bound, tol, size.method)
    if k + 1 <= n:
        outcome, bound = verdict(n, n, k + 1, confidence, tolerable, size.method, population)
        assert outcome == "expand"
        assert_bound_agrees(outcome, bound, tol, size.method)


@settings(max_examples=60, deadline=None)
@given(
    confidence=CONFIDENCES,
    tolerable=st.sampled_from([D("0.05"), D("0.08"), D("0.10")]),
    expected=st.sampled_from([D(0), D("0.0025"), D("0.01"), D("0.02")]),
    population=st.integers(200, 100_000),
    min_rate=st.sampled_from([D(0), D("0.10"), D("0.30")]),
)
def test_round_size_and_verdict_agree(
    confidence: Decimal, tolerable: Decimal, expected: Decimal, population: int, min_rate: Decimal
) -> None:
    size = sample_size(population, confidence, tolerable, expected, min_rate)
    assume(size.n < population)
    k = size.expected_deviations
    assert verdict(size.n, size.n, k, confidence, tolerable, size.method, population)[0] == "accept"


def test_both_methods_are_exercised_by_the_property() -> None:
    assert attribute_sample_size_for_k(D("0.99"), D("0.02"), 2, 3_000).method == "hypergeometric"
    assert attribute_sample_size_for_k(D("0.90"), D("0.10"), 0, 200_000).method == "binomial"


# ---------------------------------------------------------------------------------------------------- allocation


def test_allocation_is_proportional() -> None:
    assert allocate({"b": 300, "a": 500, "c": 200}, 100) == {"a": 50, "b": 30, "c": 20}
    # quotas 33.3, 33.3, 33.3: the remainder seat goes to the name sorting first
    assert allocate({"x": 10, "y": 10, "z": 10}, 10) == {"x": 4, "y": 3, "z": 3}


def test_allocation_gives_every_nonempty_stratum_one() -> None:
    assert allocate({"big": 990, "small": 10, "empty": 0}, 50) == {"big": 49, "empty": 0, "small": 1}
    assert allocate({"big": 1000, "t1": 1, "t2": 2}, 10) == {"big": 8, "t1": 1, "t2": 1}


def test_allocation_edges() -> None:
    assert allocate({"a": 5, "b": 5, "c": 5}, 2) == {"a": 1, "b": 1, "c": 1}  # more strata than n
    assert allocate({"a": 5, "b": 3}, 100) == {"a": 5, "b": 3}  # census
    assert allocate({"a": 5, "b": 3}, 0) == {"a": 0, "b": 0}
    assert allocate({}, 10) == {}
    with pytest.raises(ValidationFailed):
        allocate({"a": -1}, 3)


@settings(max_examples=200, deadline=None)
@given(strata=st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 2_000), max_size=12), data=st.data())
def test_allocation_totals_and_limits(strata: dict[str, int], data: st.DataObject) -> None:
    total = sum(strata.values())
    n = data.draw(st.integers(0, total + 5))
    result = allocate(strata, n)
    nonempty = [name for name, size in strata.items() if size > 0]
    assert set(result) == set(strata)
    for name, size in strata.items():
        assert 0 <= result[name] <= size
        if size > 0 and n > 0:
            assert result[name] >= 1
        if size == 0:
            assert result[name] == 0
    expected_total = 0 if n == 0 else min(total, max(n, len(nonempty)))
    assert sum(result.values()) == expected_total
    assert allocate(dict(reversed(list(strata.items()))), n) == result  # insertion order does not matter
    if 0 < n < total and all(Fraction(n * size, total) >= 1 for size in strata.values() if size):
        for name, size in strata.items():
            assert abs(result[name] - Fraction(n * size, total)) < 1
