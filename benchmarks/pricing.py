"""Pricing 1,000,000 determinations through the domain rules, against the same integer arithmetic written inline."""

from __future__ import annotations

import random
from decimal import Decimal

from verifier.domain.relief import Band, ReliefRule, relief_for

from .harness import Result, best_of

N = 1_000_000


def _rule() -> ReliefRule:
    return ReliefRule(
        cause="illness", group="exited_low_standard", basis="medical_self_paid", deductible=500_000, mode="marginal",
        bands=(Band(1_000_000, Decimal("0.50")), Band(3_000_000, Decimal("0.60")), Band(None, Decimal("0.70"))),
        cap_per_year=10_000_000,
    )


def _inline(costs: list[int]) -> int:
    # The same arithmetic with rates as integer per-mille and half-up rounding done by hand.
    total = 0
    bands = ((0, 1_000_000, 500), (1_000_000, 3_000_000, 600), (3_000_000, None, 700))
    for cost in costs:
        excess = cost - 500_000
        amount = 0
        if excess > 0:
            for lo, hi, permille in bands:
                if excess <= lo:
                    break
                base = (excess if hi is None or excess < hi else hi) - lo
                amount += (base * permille + 500) // 1000
        total += min(amount, 10_000_000)
    return total


def _domain(costs: list[int], rule: ReliefRule) -> int:
    return sum(relief_for(cost, rule, 3).amount for cost in costs)


def run(scale: float = 1.0) -> list[Result]:
    n = max(1000, int(N * scale))
    rng = random.Random(2020)
    costs = [rng.randrange(0, 12_000_000) for _ in range(n)]
    rule = _rule()
    assert _inline(costs[:5000]) == _domain(costs[:5000], rule), "baseline and rules disagree"
    domain = best_of(lambda: _domain(costs, rule), repeat=1 if n >= N else 3)
    inline = best_of(lambda: _inline(costs), repeat=1 if n >= N else 3)
    return [Result("pricing", n, "determinations", domain, inline, "inline integer arithmetic")]
