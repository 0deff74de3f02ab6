"""Spot-check sampling: sample sizes, confidence bounds, verdicts, stratified allocation and the seeded draw.

Pure functions only (no I/O, no database, standard library only). Money is integer fen; rates and confidence
levels are `Decimal` or `Fraction` at the API (floats are refused). Floats are used internally for
probabilities only, never for money.

Conventions
-----------
* **Attribute sample size.** For `k` allowed deviations, the size is the smallest `n` whose test rejects the
  hypothesis "the deviation rate is at least the tolerable rate" when `k` deviations are found:
  `P(X <= k) <= 1 - confidence`, `X` being the deviations in a sample of `n` at the tolerable rate.
* **k from an expected rate.** `k = ceil(n x expected_rate)`, evaluated at the `n` being tried (so a
  non-zero expected rate always allows at least one deviation). This reproduces the AICPA table of statistical
  sample sizes for tests of controls at 5% risk of overreliance, e.g. at 5% tolerable:
  0% -> 59 (0), 0.25% to 1% -> 93 (1), 1.25% and 1.5% -> 124 (2), 1.75% -> 153 (3), 2% -> 181 (4);
  at 4% tolerable, 1% expected -> 156 (2).
* **Binomial or hypergeometric.** Without a population size the binomial applies. With one, the
  hypergeometric (sampling without replacement) applies when the binomial size exceeds 5% of the population
  (`20 x n > N`), the usual threshold under which the finite-population correction is immaterial; it also
  applies when no binomial size up to the search limit exists. In the hypergeometric the population at the
  tolerable rate holds `K = ceil(tolerable x N)` deviations: the smallest count that is not tolerable.
  The size is never above the population; when even a census cannot reject (`K <= k`), the size is `N`.
* **Verdict.** `accept` exactly when every deviation rate still plausible at the confidence level is below the
  tolerable rate. The decision is taken with the very predicate used for sizing (same function, same
  arguments), so a sample sized for `k` deviations that finds no more than `k` is accepted, and a sample of the
  minimum size that finds `k + 1` is expanded. In terms of the reported bound:
  binomial: `accept <=> clopper_pearson_upper <= tolerable` (the bound is a supremum that is itself rejected);
  hypergeometric: `accept <=> hypergeom_upper_rate < tolerable` (the bound is the largest plausible count / N).

Byte layouts of the draw are given on `population_digest`, `round_seed`, `uniform_below`, `stratum_seed`,
`draw_sample` and `mus_select`; the commitments on `commitment_of`.

* **Commit, freeze, reveal.** Nobody chooses the sample: the county and the insurer each commit to a secret
  (`commitment_of`) before the population is frozen, and reveal it after; the seed (`round_seed`) hashes the
  population digest, the checkpoint root, both secrets and, when the round named one, a value published after the
  freeze. A secret fixed before the population existed cannot be tried against it; the last to reveal can only
  withhold (recorded), never choose. `derive_seed` is the withdrawn single-party layout, kept to replay rounds
  drawn with it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Literal

from .errors import ValidationFailed
from .money import Fen

Method = Literal["binomial", "hypergeometric"]
Outcome = Literal["pending", "accept", "expand"]
LimitedBy = Literal["statistical", "minimum_rate", "population"]
Rate = Decimal | Fraction | int

MAX_BINOMIAL_SAMPLE = 20_000
"""Largest binomial sample size searched; beyond it the expected rate is too close to the tolerable rate."""

FINITE_POPULATION_SHARE = Fraction(1, 20)
"""The hypergeometric applies when the binomial size is more than this share of a known population."""

SEED_BYTES = 32
_WORD_BITS = 256
_COUNTER_LIMIT = 1 << 64
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


# --------------------------------------------------------------------------------------------------------------
# Argument checks


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.one(field, f"must be a whole number, got {value!r}")
    if value < 0:
        raise ValidationFailed.one(field, f"must not be negative, got {value}")
    return value


def _rate(value: object, field: str, *, allow_zero: bool = True, allow_one: bool = True) -> Fraction:
    """A rate given as Decimal, Fraction or int, as an exact Fraction within [0, 1]."""
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, (Decimal, Fraction, int)):
        raise ValidationFailed.one(field, f"must be a Decimal or Fraction such as Decimal(\"0.95\"), got {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationFailed.one(field, f"must be a finite number, got {value}")
    rate = Fraction(value)
    if not (0 <= rate <= 1) or (rate == 0 and not allow_zero) or (rate == 1 and not allow_one):
        low = "0 <=" if allow_zero else "0 <"
        high = "<= 1" if allow_one else "< 1"
        raise ValidationFailed.one(field, f"must satisfy {low} {field} {high}, got {value}")
    return rate


def _confidence(value: object) -> Fraction:
    return _rate(value, "confidence", allow_zero=False, allow_one=False)


def _tolerable(value: object) -> Fraction:
    return _rate(value, "tolerable_rate", allow_zero=False)


def _probability(p: object) -> float | Fraction:
    if isinstance(p, float):
        if not (0.0 <= p <= 1.0):
            raise ValidationFailed.one("p", f"must lie between 0 and 1, got {p}")
        return p
    return _rate(p, "p")


# --------------------------------------------------------------------------------------------------------------
# Distribution functions

_EXACT_BINOMIAL_BITS = 16_000
_EXACT_TERMS = 500
_EXACT_HYPERGEOMETRIC_N = 5_000


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _geometric_tail(ratio: Callable[[int], float], indices: range) -> float:
    """1 + r(i0) + r(i0) r(i1) + ...: a sum of terms each no larger than the one before (ratios <= 1)."""
    total, term = 1.0, 1.0
    for i in indices:
        term *= ratio(i)
        total += term
        if term < total * 1e-18:
            break
    return total


def binomial_cdf(k: int, n: int, p: float | Fraction | Decimal) -> float:
    """P(X <= k) for X ~ Binomial(n, p).

    Exact (big-integer arithmetic, then correctly rounded) when `p` is a Fraction or Decimal and the numbers
    are modest; otherwise in floating point, summing the tail that lies away from the mean term by term
    from its largest term (taken through `lgamma`), so the result keeps a relative accuracy near 1e-10 for
    n up to the hundreds of thousands.
    """
    n = _count(n, "n")
    prob = _probability(p)
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValidationFailed.one("k", f"must be a whole number, got {k!r}")
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if prob == 0:
        return 1.0
    if prob == 1:
        return 0.0
    if isinstance(prob, Fraction):
        a, d = prob.numerator, prob.denominator
        if n * d.bit_length() <= _EXACT_BINOMIAL_BITS and k <= _EXACT_TERMS:
            b = d - a
            term: int = b**n  # C(n, 0) a^0 b^n
            total = term
            for i in range(k):
                term = term * (n - i) * a // ((i + 1) * b)  # exact: C(n, i+1) a^(i+1) b^(n-i-1)
                total += term
            scale: int = d**n
            return total / scale  # int / int is correctly rounded
        prob = float(prob)
    q = 1.0 - prob
    log_p, log_q = math.log(prob), math.log1p(-prob)

    def log_pmf(i: int) -> float:
        return _log_comb(n, i) + i * log_p + (n - i) * log_q

    if k < n * prob:  # lower tail, terms shrink going down from k
        tail = _geometric_tail(lambda i: i * q / ((n - i + 1) * prob), range(k, 0, -1))
        return min(1.0, math.exp(log_pmf(k)) * tail)
    # upper tail from k + 1, terms shrink going up
    tail = _geometric_tail(lambda i: (n - i) * prob / ((i + 1) * q), range(k + 1, n))
    return max(0.0, 1.0 - math.exp(log_pmf(k + 1)) * tail)


def hypergeom_cdf(k: int, N: int, K: int, n: int) -> float:
    """P(X <= k) for X the deviations in a sample of n drawn without replacement from N items, K of them deviations.

    Exact (integer binomial coefficients, then correctly rounded) for N up to 5,000; otherwise in floating
    point as for `binomial_cdf`, with `lgamma` for the largest term of the tail summed (N up to the millions).
    """
    N = _count(N, "N")
    K = _count(K, "K")
    n = _count(n, "n")
    if K > N or n > N:
        raise ValidationFailed.one("N", f"K ({K}) and n ({n}) must not exceed N ({N})")
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValidationFailed.one("k", f"must be a whole number, got {k!r}")
    low, high = max(0, n - (N - K)), min(n, K)
    if k < low:
        return 0.0
    if k >= high:
        return 1.0
    if N <= _EXACT_HYPERGEOMETRIC_N:
        total = sum(math.comb(K, i) * math.comb(N - K, n - i) for i in range(low, k + 1))
        return total / math.comb(N, n)
    log_all = _log_comb(N, n)

    def log_pmf(i: int) -> float:
        return _log_comb(K, i) + _log_comb(N - K, n - i) - log_all

    if k * N < n * K:  # below the mean: lower tail, terms shrink going down
        tail = _geometric_tail(lambda i: i * (N - K - n + i) / ((K - i + 1) * (n - i + 1)), range(k, low, -1))
        return min(1.0, math.exp(log_pmf(k)) * tail)
    tail = _geometric_tail(lambda i: (K - i) * (n - i) / ((i + 1) * (N - K - n + i + 1)), range(k + 1, high))
    return max(0.0, 1.0 - math.exp(log_pmf(k + 1)) * tail)


# --------------------------------------------------------------------------------------------------------------
# The test shared by sizing and verdict


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
            raise ValidationFailed.one("k", f"no sample of at most {MAX_BINOMIAL_SAMPLE} reaches the confidence")
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
        raise ValidationFailed.one("expected_rate", "must be below the tolerable rate")
    alpha = 1 - conf
    if population is not None:
        population = _count(population, "population")
    binomial = _size_for_rate(lambda k, cap: _binomial_size(k, tol, alpha, cap), expected, MAX_BINOMIAL_SAMPLE)
    if not _needs_hypergeometric(None if binomial is None else binomial[0], population):
        if binomial is None:
            raise ValidationFailed.one(
                "expected_rate", f"too close to the tolerable rate: no sample of at most {MAX_BINOMIAL_SAMPLE} suffices"
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


# --------------------------------------------------------------------------------------------------------------
# Upper bounds and verdict


def clopper_pearson_upper(deviations: int, n: int, confidence: Rate) -> Fraction:
    """One-sided Clopper-Pearson upper bound: the p with P(X <= x; n, p) = 1 - confidence.

    Found by bisection to a width of 1e-12 and returned as the upper end of the final bracket rounded up to
    12 decimals (so the binomial test still rejects at the returned value). `x = n` gives 1.
    """
    x, n = _count(deviations, "deviations"), _count(n, "n")
    if x > n:
        raise ValidationFailed.one("deviations", f"must not exceed the sample size ({n})")
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
        raise ValidationFailed.one("deviations", f"need deviations ({x}) <= sample ({n}) <= population ({N})")
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
        raise ValidationFailed.one("deviations", "need deviations <= rechecked <= sampled")
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
        raise ValidationFailed.one("method", f"must be binomial or hypergeometric, got {method!r}")
    if population is None:
        raise ValidationFailed.one("population", "the hypergeometric verdict needs the population size")
    N = _count(population, "population")
    if sampled > N:
        raise ValidationFailed.one("sampled", f"must not exceed the population ({N})")
    if N == 0:
        return "accept", Fraction(0)
    bound = hypergeom_upper_rate(found, sampled, N, conf)
    accepted = _hypergeom_rejects(found, N, _tolerable_count(tol, N), sampled, alpha)
    return ("accept" if accepted else "expand"), bound


# --------------------------------------------------------------------------------------------------------------
# Stratified allocation


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


# --------------------------------------------------------------------------------------------------------------
# The draw


def _check_ids(case_ids: Sequence[str], field: str) -> list[str]:
    for case_id in case_ids:
        if not isinstance(case_id, str) or not case_id or "\n" in case_id:
            raise ValidationFailed.one(field, f"case ids must be non-empty strings without a line break, got {case_id!r}")
    ids = sorted(case_ids)
    for before, after in zip(ids, ids[1:]):
        if before == after:
            raise ValidationFailed.one(field, f"duplicate case id {before!r}")
    return ids


def _check_seed(seed: bytes) -> bytes:
    if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
        raise ValidationFailed.one("seed", f"must be {SEED_BYTES} bytes")
    return seed


def population_digest(case_ids: Sequence[str]) -> bytes:
    """SHA-256 of the frozen population.

    Bytes hashed: the case ids sorted by code point (Python `sorted`), joined by a single "\\n" (0x0A), encoded
    as UTF-8, with no trailing newline. Ids must be distinct, non-empty and free of line breaks, which makes
    the encoding unambiguous. An empty population hashes the empty string.
    """
    return hashlib.sha256("\n".join(_check_ids(case_ids, "case_ids")).encode("utf-8")).digest()


PARTIES = ("county", "insurer")
"""The two parties of a round, in the order their secrets enter the seed."""

MIN_SECRET_BYTES = 16
MAX_SECRET_BYTES = 512
MAX_PUBLIC_VALUE_CHARS = 500
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _hex_bytes(text: object, field: str, *, low: int, high: int) -> bytes:
    if not isinstance(text, str):
        raise ValidationFailed.one(field, "must be a string of hexadecimal digits")
    value = text.strip()
    if not value or not set(value) <= _HEX_DIGITS:
        raise ValidationFailed.one(field, "must be hexadecimal digits 0-9 and a-f only")
    if len(value) % 2:
        raise ValidationFailed.one(field, "must have an even number of hex digits (whole bytes)")
    if len(value) < 2 * low:
        raise ValidationFailed.one(field, f"must be at least {low} bytes ({2 * low} hex digits), got {len(value) // 2}")
    if len(value) > 2 * high:
        raise ValidationFailed.one(field, f"must be at most {high} bytes ({2 * high} hex digits)")
    return bytes.fromhex(value)


def parse_secret(text: object, field: str = "secret") -> bytes:
    """A party's secret: hex, 16 to 512 bytes, upper or lower case."""
    return _hex_bytes(text, field, low=MIN_SECRET_BYTES, high=MAX_SECRET_BYTES)


def parse_commitment(text: object, field: str = "commitment") -> bytes:
    """A commitment: the 64 hex digits of a SHA-256."""
    value = _hex_bytes(text, field, low=32, high=32)
    return value


def commitment_of(secret: bytes) -> bytes:
    """A party's commitment: SHA-256 of the secret's bytes (the bytes the hex stands for, not the hex text)."""
    return hashlib.sha256(secret).digest()


def reveal_matches(secret: bytes, commitment: bytes) -> bool:
    """True when the revealed secret is the one committed to."""
    return hmac.compare_digest(commitment_of(secret), commitment)


def normalise_public_value(text: object) -> str:
    """A published value as entered: surrounding white space removed, inner runs of white space made one space."""
    if not isinstance(text, str):
        raise ValidationFailed.one("value", "must be text")
    value = " ".join(text.split())
    if not value:
        raise ValidationFailed.one("value", "required")
    if len(value) > MAX_PUBLIC_VALUE_CHARS:
        raise ValidationFailed.one("value", f"must be at most {MAX_PUBLIC_VALUE_CHARS} characters")
    return value


def round_seed(population_digest: bytes, checkpoint_root: bytes, county_secret: bytes | None,
               insurer_secret: bytes | None, public_value: str | None) -> bytes:
    """The 32-byte seed of a commit-reveal round.

    seed = SHA-256( len(D) || D || len(R) || R || len(C) || C || len(I) || I || len(P) || P ), each len a 4-byte
    big-endian unsigned byte count, with D the population digest (32 bytes), R the root hash of the signed
    checkpoint covering the freezing entry (32 bytes), C the county's secret and I the insurer's secret (the
    revealed bytes, 16 to 512; zero bytes for a party passed over for not revealing), P the public value as
    UTF-8 after `normalise_public_value` (zero bytes when the round named none).
    """
    message = bytearray()
    for field, part in (("population_digest", population_digest), ("checkpoint_root", checkpoint_root)):
        if not isinstance(part, bytes) or len(part) != 32:
            raise ValidationFailed.one(field, "must be 32 bytes")
        message += len(part).to_bytes(4, "big") + part
    for field, secret in (("county_secret", county_secret), ("insurer_secret", insurer_secret)):
        if secret is not None and (not isinstance(secret, bytes)
                                   or not MIN_SECRET_BYTES <= len(secret) <= MAX_SECRET_BYTES):
            raise ValidationFailed.one(field, f"must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
        message += len(secret or b"").to_bytes(4, "big") + (secret or b"")
    if county_secret is None and insurer_secret is None:
        raise ValidationFailed.one("secret", "at least one party's secret is needed")
    public = b"" if public_value is None else normalise_public_value(public_value).encode("utf-8")
    message += len(public).to_bytes(4, "big") + public
    return hashlib.sha256(bytes(message)).digest()


def reveal_deadline(opened_on: date, within_days: int) -> date:
    """The last day to reveal: `within_days` after the day reveals opened (the freeze, or the public value's entry)."""
    return opened_on + timedelta(days=within_days)


def may_pass_over(today: date, deadline: date) -> bool:
    """A party that has not revealed may be passed over from the day after its deadline."""
    return today > deadline


def derive_seed(population_digest: bytes, checkpoint_root: bytes, randomness: bytes) -> bytes:
    """The 32-byte seed of a single-party draw (withdrawn: kept to replay rounds drawn before commit-reveal).

    seed = SHA-256( len(D) || D || len(R) || R || len(X) || X ), with D the population digest, R the audit-log
    checkpoint root hash, X the randomness supplied by the county, and each len a 4-byte big-endian unsigned
    byte count.
    """
    parts = {"population_digest": population_digest, "checkpoint_root": checkpoint_root, "randomness": randomness}
    message = bytearray()
    for field, part in parts.items():
        if not isinstance(part, bytes) or not part:
            raise ValidationFailed.one(field, "must be non-empty bytes")
        message += len(part).to_bytes(4, "big") + part
    return hashlib.sha256(bytes(message)).digest()


def _rejection_sample(word: Callable[[int], int], bits: int, counter: int, bound: int) -> tuple[int, int]:
    """Uniform integer in [0, bound) from the words word(counter), word(counter + 1), ... of `bits` bits each.

    A word w is accepted when w < limit, limit being the largest multiple of bound not above 2^bits, and
    gives w mod bound; otherwise the next counter is tried. Returns (value, next unused counter).
    """
    space = 1 << bits
    if isinstance(bound, bool) or not isinstance(bound, int) or not 1 <= bound <= space:
        raise ValidationFailed.one("bound", f"must be a whole number between 1 and 2^{bits}, got {bound!r}")
    if isinstance(counter, bool) or not isinstance(counter, int) or counter < 0:
        raise ValidationFailed.one("counter_start", f"must be a non-negative whole number, got {counter!r}")
    limit = space - space % bound
    while True:
        if counter >= _COUNTER_LIMIT:
            raise ValidationFailed.one("counter_start", "the 64-bit counter is exhausted")
        value = word(counter)
        counter += 1
        if value < limit:
            return value % bound, counter


def _hash_word(seed: bytes, counter: int) -> int:
    return int.from_bytes(hashlib.sha256(seed + counter.to_bytes(8, "big")).digest(), "big")


def uniform_below(seed: bytes, counter_start: int, bound: int) -> tuple[int, int]:
    """A uniform integer in [0, bound) and the next unused counter.

    Word i is SHA-256(seed || i as 8-byte big-endian unsigned) read as a 256-bit big-endian integer, for
    i = counter_start, counter_start + 1, ...; words at or above the largest multiple of `bound` not above
    2^256 are rejected (no modulo bias), and the first accepted word w gives w mod bound.
    """
    seed = _check_seed(seed)
    return _rejection_sample(lambda i: _hash_word(seed, i), _WORD_BITS, counter_start, bound)


def stratum_seed(seed: bytes, stratum: str) -> bytes:
    """The seed of one stratum: SHA-256(seed || stratum name as UTF-8), the seed being exactly 32 bytes."""
    return hashlib.sha256(_check_seed(seed) + stratum.encode("utf-8")).digest()


def draw_sample(seed: bytes, ids_sorted: Sequence[str], n: int, stratum_label: str = "") -> list[str]:
    """n distinct ids by a partial Fisher-Yates shuffle driven by `uniform_below`, in the order drawn.

    The ids are put in code-point order first (any order given yields the same sample). With a non-empty
    `stratum_label` the seed is first replaced by `stratum_seed(seed, stratum_label)`. Then, with counter c
    starting at 0 and carried from one call of `uniform_below` to the next: for i = 0 .. n-1,
    j = i + uniform_below(seed, c, len - i) and positions i and j are swapped; the sample is positions 0 .. n-1.
    A larger n with the same seed extends the same sequence, so a second stage drawing more from the same
    frozen population is `draw_sample(seed, ids, n1 + n2)[n1:]`.
    """
    seed = stratum_seed(seed, stratum_label) if stratum_label else _check_seed(seed)
    pool = _check_ids(ids_sorted, "ids")
    n = _count(n, "n")
    if n > len(pool):
        raise ValidationFailed.one("n", f"cannot draw {n} from {len(pool)}")
    counter = 0
    for i in range(n):
        offset, counter = uniform_below(seed, counter, len(pool) - i)
        j = i + offset
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:n]


def draw_stratified(seed: bytes, strata: Mapping[str, Sequence[str]], allocation: Mapping[str, int]) -> dict[str, list[str]]:
    """Draw each stratum's allocated number with its own seed `stratum_seed(seed, name)`.

    Strata are processed in name order; a stratum missing from `allocation` gets none. A case id may belong
    to one stratum only.
    """
    _check_seed(seed)
    unknown = sorted(set(allocation) - set(strata))
    if unknown:
        raise ValidationFailed.one("allocation", f"unknown strata: {', '.join(unknown)}")
    _check_ids([case_id for ids in strata.values() for case_id in ids], "strata")
    return {name: draw_sample(stratum_seed(seed, name), strata[name], allocation.get(name, 0)) for name in sorted(strata)}


# --------------------------------------------------------------------------------------------------------------
# Monetary-unit sampling


def mus_select(seed: bytes, items: Sequence[tuple[str, Fen]], n: int) -> list[str]:
    """Monetary-unit (probability proportional to amount) selection of about n items, in id order.

    The items are laid end to end in id order (code point), item i covering the fen (C_(i-1), C_i] of the
    cumulative total T. interval = T // n (integer fen); start = 1 + uniform_below(seed, 0, interval)[0], a
    fen in [1, interval]; the selection points are start, start + interval, ... up to T (n of them, or n + 1
    when start <= T mod interval), and an item is chosen when a point falls on it, once however many do.
    Every item of at least `interval` fen is chosen: its fen span holds `interval` consecutive values, one of
    them congruent to start modulo interval, and that value is a point since it is at least start (a smaller
    positive value congruent to start does not exist, start being at most interval) and at most T. An item
    of a < interval fen is chosen for exactly a of the interval possible starts (probability a / interval).
    Items of 0 fen are never chosen. If n exceeds T (interval 0), every item with a positive amount is chosen.
    """
    _check_seed(seed)
    n = _count(n, "n")
    _check_ids([item[0] for item in items], "items")
    for case_id, amount in items:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValidationFailed.one("items", f"amount of {case_id!r} must be a non-negative integer of fen")
    ordered = sorted(items, key=lambda item: item[0])
    total = sum(amount for _, amount in ordered)
    if n == 0 or total == 0:
        return []
    interval = total // n
    if interval == 0:
        return [case_id for case_id, amount in ordered if amount > 0]
    return _mus_pick(ordered, interval, 1 + uniform_below(seed, 0, interval)[0])


def _mus_pick(ordered: Sequence[tuple[str, Fen]], interval: int, start: int) -> list[str]:
    """The items (in the given order) on which the points start, start + interval, ... fall, each once."""
    chosen: list[str] = []
    point, covered = start, 0
    for case_id, amount in ordered:
        end = covered + amount  # this item covers fen covered+1 .. end
        if point <= end:
            chosen.append(case_id)
            point += ((end - point) // interval + 1) * interval  # first point past this item
        covered = end
    return chosen
