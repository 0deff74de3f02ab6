"""Spot-check sample sizes, upper bounds, the verdict and stratified allocation (see `domain.sampling` for the
conventions): the verdict is taken with the very predicate used for sizing."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Literal

from .errors import ValidationFailed

from .sample_stats import _confidence, _count, _rate, _tolerable, binomial_cdf, hypergeom_cdf

Method = Literal["binomial", "hypergeometric"]
Outcome = Literal["pending", "accept", "expand"]
LimitedBy = Literal["statistical", "minimum_rate", "population"]
Rate = Decimal | Fraction | int

MAX_BINOMIAL_SAMPLE = 20_000
"""Largest binomial sample size searched; beyond it the expected rate is too close to the tolerable rate."""

FINITE_POPULATION_SHARE = Fraction(1, 20)
"""The hypergeometric applies when the binomial size is more than this share of a known population."""

_BISECTION_WIDTH = 1e-12
_BOUND_PLACES = Decimal("1e-12")


@dataclass(frozen=True)
class SampleSize:
    """A sample size and how it was reached.

    `expected_deviations` is the `k` the size was computed for; `limited_by` says whether the statistical size
    stands, was raised to the contract's minimum rate, or was capped at the population (a census).
    """

    n: int
    method: Method
    expected_deviations: int
    limited_by: LimitedBy = "statistical"


def _binomial_rejects(k: int, n: int, tolerable: Fraction, alpha: Fraction) -> bool:
    """True when finding k deviations in n rejects "the rate is at least `tolerable`" at level alpha."""
    return binomial_cdf(k, n, tolerable) <= alpha


def _tolerable_count(tolerable: Fraction, population: int) -> int:
    """The smallest number of deviations in the population that is not tolerable: ceil(tolerable x N)."""
    return math.ceil(tolerable * population)


def _hypergeom_rejects(k: int, population: int, tolerable_count: int, n: int, alpha: Fraction) -> bool:
    """True when finding k deviations in n rejects "the population holds at least `tolerable_count`"."""
    return hypergeom_cdf(k, population, tolerable_count, n) <= alpha


def _smallest(predicate: Callable[[int], bool], low: int, high: int) -> int | None:
    """The smallest n in [low, high] with predicate(n), for a predicate monotone in n; None if none."""
    if low > high or not predicate(high):
        return None
    while low < high:
        mid = (low + high) // 2
        if predicate(mid):
            high = mid
        else:
            low = mid + 1
    return low


def _binomial_size(k: int, tolerable: Fraction, alpha: Fraction, cap: int) -> int | None:
    return _smallest(lambda n: _binomial_rejects(k, n, tolerable, alpha), k + 1, cap)


def _hypergeom_size(k: int, tolerable: Fraction, alpha: Fraction, population: int, cap: int) -> int | None:
    count = _tolerable_count(tolerable, population)
    return _smallest(lambda n: _hypergeom_rejects(k, population, count, n, alpha), k + 1, min(cap, population))


def _size_for_rate(size_for_k: Callable[[int, int], int | None], expected: Fraction, cap: int) -> tuple[int, int] | None:
    """Smallest n <= cap (and its k) whose test rejects with k = ceil(n x expected).

    For k >= 1 the n with ceil(n x expected) = k form the interval ((k-1)/expected, k/expected]; within it the
    test is monotone in n, so each k needs one search, and k rises until an interval holds a solution.
    """
    if expected == 0:
        n = size_for_k(0, cap)
        return None if n is None else (n, 0)
    k = 1
    while True:
        first = math.floor((k - 1) / expected) + 1
        if first > cap:
            return None
        last = min(math.floor(k / expected), cap)
        n = size_for_k(k, last)
        if n is not None:
            return max(n, first), k
        k += 1


def _needs_hypergeometric(binomial_n: int | None, population: int | None) -> bool:
    if population is None:
        return False
    return binomial_n is None or binomial_n > FINITE_POPULATION_SHARE * population


def attribute_sample_size_for_k(confidence: Rate, tolerable_rate: Rate, k: int, population: int | None = None) -> SampleSize:
    """The smallest n with P(X <= k; n, tolerable) <= 1 - confidence, for k allowed deviations.

    Binomial, or hypergeometric with K = ceil(tolerable x N) when `population` is given and the binomial size
    exceeds 5% of it. Never above the population (a census, `limited_by="population"`, when even that
    cannot reach the confidence).
    """
    conf, tol = _confidence(confidence), _tolerable(tolerable_rate)
    k = _count(k, "k")
    alpha = 1 - conf
    if population is not None:
        population = _count(population, "population")
    binomial_n = _binomial_size(k, tol, alpha, MAX_BINOMIAL_SAMPLE)
    if not _needs_hypergeometric(binomial_n, population):
        if binomial_n is None:
            raise ValidationFailed.one("k", f"样本不超过 {MAX_BINOMIAL_SAMPLE} 户时达不到置信度")
        return SampleSize(binomial_n, "binomial", k)
    assert population is not None
    n = _hypergeom_size(k, tol, alpha, population, population)
    if n is None:
        return SampleSize(population, "hypergeometric", k, "population")
    return SampleSize(n, "hypergeometric", k)


def attribute_sample_size(
    confidence: Rate, tolerable_rate: Rate, expected_rate: Rate, population: int | None = None
) -> SampleSize:
    """The attribute sample size for an expected deviation rate, allowing k = ceil(n x expected_rate).

    The expected rate must be below the tolerable rate. Method choice as in `attribute_sample_size_for_k`.
    """
    conf, tol = _confidence(confidence), _tolerable(tolerable_rate)
    expected = _rate(expected_rate, "expected_rate", allow_one=False)
    if expected >= tol:
        raise ValidationFailed.one("expected_rate", f"应低于可容忍偏差率（可容忍 {tolerable_rate}，预期 {expected_rate}）")
    alpha = 1 - conf
    if population is not None:
        population = _count(population, "population")
    binomial = _size_for_rate(lambda k, cap: _binomial_size(k, tol, alpha, cap), expected, MAX_BINOMIAL_SAMPLE)
    if not _needs_hypergeometric(None if binomial is None else binomial[0], population):
        if binomial is None:
            raise ValidationFailed.one(
                "expected_rate", f"与可容忍偏差率过于接近，所需样本过大（超过 {MAX_BINOMIAL_SAMPLE} 户）"
            )
        return SampleSize(binomial[0], "binomial", binomial[1])
    assert population is not None
    N = population
    found = _size_for_rate(lambda k, cap: _hypergeom_size(k, tol, alpha, N, cap), expected, N)
    if found is None:
        return SampleSize(N, "hypergeometric", math.ceil(N * expected), "population")
    return SampleSize(found[0], "hypergeometric", found[1])


def sample_size(population: int, confidence: Rate, tolerable_rate: Rate, expected_rate: Rate, min_rate: Rate) -> SampleSize:
    """The round's sample size: the statistical size, raised to ceil(min_rate x N), capped at N.

    The method (and so the verdict's distribution) is the one the statistical size came from.
    """
    population = _count(population, "population")
    minimum = _rate(min_rate, "min_rate")
    statistical = attribute_sample_size(confidence, tolerable_rate, expected_rate, population)
    floor = math.ceil(minimum * population)
    n: int = statistical.n
    limited_by: LimitedBy = statistical.limited_by
    if floor > n:
        n, limited_by = floor, "minimum_rate"
    if statistical.n >= population:
        n, limited_by = population, "population"
    return SampleSize(n, statistical.method, statistical.expected_deviations, limited_by)




def clopper_pearson_upper(deviations: int, n: int, confidence: Rate) -> Fraction:
    """One-sided Clopper-Pearson upper bound: the p with P(X <= x; n, p) = 1 - confidence.

    Found by bisection to a width of 1e-12 and returned as the upper end of the final bracket rounded up to
    12 decimals (so the binomial test still rejects at the returned value). `x = n` gives 1.
    """
    x, n = _count(deviations, "deviations"), _count(n, "n")
    if x > n:
        raise ValidationFailed.one("deviations", f"不能超过样本量（{n}）")
    alpha = 1 - _confidence(confidence)
    if x == n:
        return Fraction(1)
    low, high = 0.0, 1.0  # invariant: cdf(low) > alpha >= cdf(high)
    while high - low > _BISECTION_WIDTH:
        mid = (low + high) / 2
        if binomial_cdf(x, n, mid) <= alpha:
            high = mid
        else:
            low = mid
    return Fraction(min(Decimal(high).quantize(_BOUND_PLACES, rounding=ROUND_CEILING), Decimal(1)))


def hypergeom_upper_rate(deviations: int, n: int, population: int, confidence: Rate) -> Fraction:
    """One-sided upper bound on the population deviation rate under the hypergeometric: K_u / N.

    K_u is the largest deviation count the population can hold that is still plausible, i.e. the largest K
    with P(X <= x; N, K, n) > 1 - confidence (K = x always is). A census (n = N) gives x / N exactly.
    """
    x, n, N = _count(deviations, "deviations"), _count(n, "n"), _count(population, "population")
    if x > n or n > N:
        raise ValidationFailed.one("deviations", f"应满足 偏差数（{x}）≤ 样本量（{n}）≤ 总体（{N}）")
    if N == 0:
        return Fraction(0)
    alpha = 1 - _confidence(confidence)
    low, high = x, N - (n - x)  # the counts consistent with what was seen; cdf(low) = 1 > alpha
    while low < high:
        mid = (low + high + 1) // 2
        if hypergeom_cdf(x, N, mid, n) > alpha:
            low = mid
        else:
            high = mid - 1
    return Fraction(low, N)


def verdict(
    sampled: int,
    rechecked: int,
    deviations: int,
    confidence: Rate,
    tolerable: Rate,
    method: Method,
    population: int | None = None,
) -> tuple[Outcome, Fraction | None]:
    """("pending", None) until every sampled case is re-checked; then ("accept" | "expand", upper bound).

    Accept exactly when the sizing test rejects "the rate is at least the tolerable rate" for the deviations
    found, which is: binomial, Clopper-Pearson upper bound <= tolerable; hypergeometric, upper rate < tolerable
    (see the module docstring). The binomial bound is reported as min(bound, tolerable) when accepted: the exact
    bound lies inside the bisection bracket and, the test having rejected at `tolerable`, not above it.
    An empty population is accepted with bound 0.
    """
    sampled, rechecked, found = _count(sampled, "sampled"), _count(rechecked, "rechecked"), _count(deviations, "deviations")
    if not (found <= rechecked <= sampled):
        raise ValidationFailed.one("deviations", "应满足 偏差数 ≤ 已复核数 ≤ 样本量")
    conf, tol = _confidence(confidence), _tolerable(tolerable)
    alpha = 1 - conf
    if rechecked < sampled:
        return "pending", None
    if method == "binomial":
        bound = clopper_pearson_upper(found, sampled, conf)
        if _binomial_rejects(found, sampled, tol, alpha):
            return "accept", min(bound, tol)
        return "expand", bound
    if method != "hypergeometric":
        raise ValidationFailed.one("method", f"应为二项分布或超几何分布（现为 {method!r}）")
    if population is None:
        raise ValidationFailed.one("population", "按超几何分布下结论须有总体数量")
    N = _count(population, "population")
    if sampled > N:
        raise ValidationFailed.one("sampled", f"不能超过总体数量（{N}）")
    if N == 0:
        return "accept", Fraction(0)
    bound = hypergeom_upper_rate(found, sampled, N, conf)
    accepted = _hypergeom_rejects(found, N, _tolerable_count(tol, N), sampled, alpha)
    return ("accept" if accepted else "expand"), bound




def allocate(strata: Mapping[str, int], n: int) -> dict[str, int]:
    """Split a sample of n over strata in proportion to their sizes (largest remainder method).

    Every non-empty stratum gets at least one, no stratum more than its size, and the total is exactly n,
    except: n at or above the total population gives every stratum in full, and n below the number of
    non-empty strata gives each of them one (the total is then that number). Strata whose proportional
    quota is below one are given one and set aside, and the rest of the sample is shared again among the
    others, until no quota is below one; remainder seats go to the largest fractional parts, ties to the
    stratum name that sorts first. Every key of `strata` appears in the result.
    """
    n = _count(n, "n")
    sizes = {name: _count(size, f"strata[{name!r}]") for name, size in strata.items()}
    names = sorted(sizes)
    result = {name: 0 for name in names}
    nonempty = [name for name in names if sizes[name] > 0]
    total = sum(sizes.values())
    if n == 0 or not nonempty:
        return result
    if n >= total:
        return {name: sizes[name] for name in names}
    if n <= len(nonempty):
        result.update({name: 1 for name in nonempty})
        return result
    fixed: list[str] = []
    free = nonempty
    while True:
        share, pool = n - len(fixed), sum(sizes[name] for name in free)
        quotas = {name: Fraction(share * sizes[name], pool) for name in free}
        small = [name for name in free if quotas[name] < 1]
        if not small:
            break
        fixed += small
        free = [name for name in free if quotas[name] >= 1]
    for name in fixed:
        result[name] = 1
    for name in free:
        result[name] = math.floor(quotas[name])
    seats = share - sum(result[name] for name in free)
    for name in sorted(free, key=lambda s: (-(quotas[s] - math.floor(quotas[s])), s))[:seats]:
        result[name] += 1
    return result
