"""Spot-check sampling: sample sizes, confidence bounds, verdicts, stratified allocation and the seeded draw.

The distributions are in `sample_stats`, sizes, bounds, the verdict and allocation in `sample_sizes`, the draw in
`sample_draw`; this module names them all in one place.

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

from .sample_draw import (
    MAX_PUBLIC_VALUE_CHARS,
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    PARTIES,
    SEED_BYTES,
    commitment_of,
    derive_seed,
    draw_sample,
    draw_stratified,
    may_pass_over,
    mus_select,
    normalise_public_value,
    parse_commitment,
    parse_secret,
    population_digest,
    reveal_deadline,
    reveal_matches,
    round_seed,
    stratum_seed,
    uniform_below,
)
from .sample_sizes import (
    FINITE_POPULATION_SHARE,
    LimitedBy,
    MAX_BINOMIAL_SAMPLE,
    Method,
    Outcome,
    Rate,
    SampleSize,
    allocate,
    attribute_sample_size,
    attribute_sample_size_for_k,
    clopper_pearson_upper,
    hypergeom_upper_rate,
    sample_size,
    verdict,
)
from .sample_stats import (
    binomial_cdf,
    hypergeom_cdf,
)

__all__ = [
    "FINITE_POPULATION_SHARE",
    "LimitedBy",
    "MAX_BINOMIAL_SAMPLE",
    "MAX_PUBLIC_VALUE_CHARS",
    "MAX_SECRET_BYTES",
    "MIN_SECRET_BYTES",
    "Method",
    "Outcome",
    "PARTIES",
    "Rate",
    "SEED_BYTES",
    "SampleSize",
    "allocate",
    "attribute_sample_size",
    "attribute_sample_size_for_k",
    "binomial_cdf",
    "clopper_pearson_upper",
    "commitment_of",
    "derive_seed",
    "draw_sample",
    "draw_stratified",
    "hypergeom_cdf",
    "hypergeom_upper_rate",
    "may_pass_over",
    "mus_select",
    "normalise_public_value",
    "parse_commitment",
    "parse_secret",
    "population_digest",
    "reveal_deadline",
    "reveal_matches",
    "round_seed",
    "sample_size",
    "stratum_seed",
    "uniform_below",
    "verdict",
]
