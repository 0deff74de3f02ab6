"""Argument checks and the distributions behind spot-check sample sizes (see `domain.sampling`): exact where the
numbers are small, by logarithms beyond; floats for probabilities only, never for money."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

from .errors import ValidationFailed


# What a rate's bounds name it (as the round's form does).
RATE_NAMES = {"confidence": "置信度", "tolerable_rate": "可容忍偏差率", "expected_rate": "预期偏差率", "min_rate": "最低抽样比例"}


def _count(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed.one(field, f"应为整数（现为 {value!r}）")
    if value < 0:
        raise ValidationFailed.one(field, f"不能为负数（现为 {value}）")
    return value


def _rate(value: object, field: str, *, allow_zero: bool = True, allow_one: bool = True) -> Fraction:
    """A rate given as Decimal, Fraction or int, as an exact Fraction within [0, 1]."""
    if isinstance(value, bool) or isinstance(value, float) or not isinstance(value, (Decimal, Fraction, int)):
        raise ValidationFailed.one(field, f"请填写小数，如 0.95（现为 {value!r}）")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationFailed.one(field, f"应为有限的数（现为 {value}）")
    rate = Fraction(value)
    if not (0 <= rate <= 1) or (rate == 0 and not allow_zero) or (rate == 1 and not allow_one):
        low = "0 <=" if allow_zero else "0 <"
        high = "<= 1" if allow_one else "< 1"
        raise ValidationFailed.one(field, f"超出允许范围（{low} {RATE_NAMES.get(field, field)} {high}），现为 {value}")
    return rate


def _confidence(value: object) -> Fraction:
    return _rate(value, "confidence", allow_zero=False, allow_one=False)


def _tolerable(value: object) -> Fraction:
    return _rate(value, "tolerable_rate", allow_zero=False)


def _probability(p: object) -> float | Fraction:
    if isinstance(p, float):
        if not (0.0 <= p <= 1.0):
            raise ValidationFailed.one("p", f"应在 0 至 1 之间（现为 {p}）")
        return p
    return _rate(p, "p")



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
        raise ValidationFailed.one("k", f"应为整数（现为 {k!r}）")
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
        raise ValidationFailed.one("N", f"K（{K}）和 n（{n}）不能大于 N（{N}）")
    if isinstance(k, bool) or not isinstance(k, int):
        raise ValidationFailed.one("k", f"应为整数（现为 {k!r}）")
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
