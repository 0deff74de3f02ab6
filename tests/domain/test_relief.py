import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.domain.errors import ValidationFailed
from verifier.domain.relief import Band, BandLine, ReliefRule, formula_relief, relief_for

D = Decimal
YUAN = 100  # fen per yuan


def illness_exited(mode: str, cap_per_year: int | None = 100000 * YUAN) -> ReliefRule:
    """Illness, poverty-exited households of low standard (DOMAIN.md)."""
    return ReliefRule(
        cause="illness", group="exited_low_standard", basis="medical_self_paid", deductible=5000 * YUAN, mode=mode,
        bands=(Band(10000 * YUAN, D("0.5")), Band(30000 * YUAN, D("0.6")), Band(None, D("0.7"))),
        cap_per_year=cap_per_year,
    )


def illness_low_income(mode: str) -> ReliefRule:
    """Illness, non-poor low-income households (DOMAIN.md)."""
    return ReliefRule(
        cause="illness", group="low_income", basis="medical_self_paid", deductible=20000 * YUAN, mode=mode,
        bands=(Band(20000 * YUAN, D("0.5")), Band(40000 * YUAN, D("0.6")), Band(None, D("0.7"))),
        cap_per_year=100000 * YUAN,
    )


DISASTER = ReliefRule(
    cause="disaster", group="low_income", basis="disaster_loss", deductible=10000 * YUAN, mode="marginal",
    bands=(Band(None, D("1.0")),), cap_per_member=30000 * YUAN,
)


# --- worked examples --------------------------------------------------------------------------


def test_exited_low_standard_marginal() -> None:
    # cost 42000 - deductible 5000 = excess 37000
    # 10000 x 0.5 + 20000 x 0.6 + 7000 x 0.7 = 5000 + 12000 + 4900 = 21900.00
    quote = relief_for(42000 * YUAN, illness_exited("marginal"), members=3)
    assert quote.amount == quote.gross == 21900 * YUAN
    assert (quote.cap, quote.capped, quote.already_paid) == (100000 * YUAN, False, 0)
    assert quote.breakdown == (
        BandLine(0, 1000000, D("0.5"), 1000000, 500000),
        BandLine(1000000, 3000000, D("0.6"), 2000000, 1200000),
        BandLine(3000000, None, D("0.7"), 700000, 490000),
    )


def test_exited_low_standard_bracket() -> None:
    # excess 37000 lies above 30000: 37000 x 0.7 = 25900.00
    quote = relief_for(42000 * YUAN, illness_exited("bracket"), members=3)
    assert quote.amount == 25900 * YUAN
    assert quote.breakdown == (BandLine(3000000, None, D("0.7"), 3700000, 2590000),)


def test_bracket_boundary_belongs_to_the_lower_band() -> None:
    # cost 15000: excess 10000 is exactly the first band's upto -> 10000 x 0.5 = 5000.00
    assert relief_for(15000 * YUAN, illness_exited("bracket"), 1).amount == 5000 * YUAN
    # one fen more moves the whole excess to 0.6: 10000.01 x 0.6 = 6000.006 -> 6000.01
    assert relief_for(15000 * YUAN + 1, illness_exited("bracket"), 1).amount == 600001


def test_cost_at_or_below_the_deductible_pays_nothing() -> None:
    for mode in ("marginal", "bracket"):
        for cost in (0, 1, 5000 * YUAN):
            quote = relief_for(cost, illness_exited(mode), 1)
            assert (quote.amount, quote.gross, quote.breakdown) == (0, 0, ())


def test_low_income_both_modes() -> None:
    # cost 70000 - deductible 20000 = excess 50000
    # marginal: 20000 x 0.5 + 20000 x 0.6 + 10000 x 0.7 = 10000 + 12000 + 7000 = 29000.00
    assert relief_for(70000 * YUAN, illness_low_income("marginal"), 4).amount == 29000 * YUAN
    # bracket: 50000 x 0.7 = 35000.00
    assert relief_for(70000 * YUAN, illness_low_income("bracket"), 4).amount == 35000 * YUAN
    # cost 50000: excess 30000 lies in the 20000-40000 band
    # marginal: 20000 x 0.5 + 10000 x 0.6 = 16000.00; bracket: 30000 x 0.6 = 18000.00
    assert relief_for(50000 * YUAN, illness_low_income("marginal"), 4).amount == 16000 * YUAN
    assert relief_for(50000 * YUAN, illness_low_income("bracket"), 4).amount == 18000 * YUAN


def test_disaster_capped_per_member() -> None:
    # 3 members, loss 110000: excess 100000 x 1.0 = 100000; cap 3 x 30000 = 90000 -> 90000.00
    quote = relief_for(110000 * YUAN, DISASTER, members=3)
    assert (quote.gross, quote.cap, quote.capped, quote.amount) == (100000 * YUAN, 90000 * YUAN, True, 90000 * YUAN)


def test_cap_is_the_smaller_of_year_and_members() -> None:
    rule = dataclasses.replace(DISASTER, cap_per_year=50000 * YUAN)
    assert relief_for(110000 * YUAN, rule, members=3).cap == 50000 * YUAN  # min(50000, 90000)
    assert relief_for(110000 * YUAN, rule, members=1).cap == 30000 * YUAN  # min(50000, 30000)


def test_cap_per_year_with_huge_costs() -> None:
    # cost 1000000: excess 995000; marginal 5000 + 12000 + 965000 x 0.7 = 692500.00 -> capped at 100000.00
    quote = relief_for(1000000 * YUAN, illness_exited("marginal"), 2)
    assert (quote.gross, quote.amount, quote.capped) == (692500 * YUAN, 100000 * YUAN, True)
    quote = relief_for(1000000 * YUAN, illness_exited("bracket"), 2)
    assert (quote.gross, quote.amount, quote.capped) == (696500 * YUAN, 100000 * YUAN, True)  # 995000 x 0.7


def test_no_cap() -> None:
    quote = relief_for(1000000 * YUAN, illness_exited("marginal", cap_per_year=None), 2)
    assert (quote.cap, quote.capped, quote.amount) == (None, False, 692500 * YUAN)


def test_rounding_odd_fen_half_up() -> None:
    # cost 5000.01: excess 0.01 x 0.5 = 0.005 -> 0.01 (half up)
    assert relief_for(500001, illness_exited("marginal"), 1).amount == 1
    # cost 5000.03: excess 0.03 x 0.5 = 0.015 -> 0.02
    assert relief_for(500003, illness_exited("marginal"), 1).amount == 2
    # cost 42000.03: excess 37000.03; the last slice 7000.03 x 0.7 = 4900.021 -> 4900.02
    # marginal 5000 + 12000 + 4900.02 = 21900.02; bracket 37000.03 x 0.7 = 25900.021 -> 25900.02
    assert relief_for(4200003, illness_exited("marginal"), 1).amount == 2190002
    assert relief_for(4200003, illness_exited("bracket"), 1).amount == 2590002


def test_each_marginal_slice_is_rounded_on_its_own() -> None:
    # excess 0.03 over bands 0.01 @ 0.5 / rest @ 0.5: slices 0.005 -> 0.01 and 0.01 -> 0.01 = 0.02
    rule = ReliefRule("illness", "g", "medical_self_paid", 0, "marginal", (Band(1, D("0.5")), Band(None, D("0.5"))))
    assert [line.amount for line in relief_for(3, rule, 1).breakdown] == [1, 1]


def test_already_paid_is_subtracted_never_below_zero() -> None:
    # cumulative 42000 -> 21900.00; 20000.00 already paid -> 1900.00 due
    quote = relief_for(42000 * YUAN, illness_exited("marginal"), 1, already_paid=20000 * YUAN)
    assert (quote.amount, quote.gross, quote.already_paid) == (1900 * YUAN, 21900 * YUAN, 20000 * YUAN)
    assert relief_for(42000 * YUAN, illness_exited("marginal"), 1, already_paid=30000 * YUAN).amount == 0


def test_formula_relief_returns_gross_breakdown_cap_capped() -> None:
    gross, breakdown, cap, capped = formula_relief(110000 * YUAN, DISASTER, 3)
    assert (gross, cap, capped) == (100000 * YUAN, 90000 * YUAN, True)
    assert breakdown == (BandLine(0, None, D("1.0"), 100000 * YUAN, 100000 * YUAN),)


# --- bad input ----------------------------------------------------------------------------------


def test_valid_rules_have_no_errors() -> None:
    for rule in (illness_exited("marginal"), illness_exited("bracket"), illness_low_income("bracket"), DISASTER):
        assert rule.validate() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bands": ()}, "relief[0].bands"),
        ({"bands": (Band(100, D("0.5")),)}, "relief[0].bands[0].upto"),  # last band not open
        ({"bands": (Band(None, D("0.5")), Band(None, D("0.6")))}, "relief[0].bands[0].upto"),
        ({"bands": (Band(200, D("0.5")), Band(100, D("0.6")), Band(None, D("0.7")))}, "relief[0].bands[1].upto"),
        ({"bands": (Band(100, D("0.5")), Band(100, D("0.6")), Band(None, D("0.7")))}, "relief[0].bands[1].upto"),
        ({"bands": (Band(0, D("0.5")), Band(None, D("0.6")))}, "relief[0].bands[0].upto"),
        ({"bands": (Band(None, D("1.01")),)}, "relief[0].bands[0].rate"),
        ({"bands": (Band(None, D("-0.1")),)}, "relief[0].bands[0].rate"),
        ({"bands": (Band(None, 0.5),)}, "relief[0].bands[0].rate"),
        ({"bands": (Band(100, D("0.6")), Band(None, D("0.5")))}, "relief[0].bands[1].rate"),  # bracket, falling
        ({"deductible": -1}, "relief[0].deductible"),
        ({"cap_per_year": -1}, "relief[0].cap_per_year"),
        ({"cap_per_member": -1}, "relief[0].cap_per_member"),
        ({"mode": "progressive"}, "relief[0].mode"),
        ({"basis": "wages"}, "relief[0].basis"),
        ({"group": ""}, "relief[0].group"),
    ],
)
def test_bad_rules_name_the_field(change: dict, field: str) -> None:
    rule = dataclasses.replace(illness_exited("bracket"), **change)
    assert [e.field for e in rule.validate("relief[0]")] == [field]
    with pytest.raises(ValidationFailed):
        relief_for(42000 * YUAN, rule, 1)


def test_a_cause_is_known_by_the_table_it_is_checked_against() -> None:
    """The causes are data: a rule alone is checked against the scheme's three, a contract's rule against the causes
    that contract declares, and a rule its contract has checked prices whatever its cause."""
    rule = dataclasses.replace(illness_exited("bracket"), cause="disability", basis="other_rigid")
    assert [e.field for e in rule.validate("relief[0]")] == ["relief[0].cause"]
    assert rule.validate("relief[0]", causes=("illness", "disability")) == []
    assert [e.field for e in rule.validate("relief[0]", causes=("illness",))] == ["relief[0].cause"]
    assert relief_for(42000 * YUAN, rule, 1).amount == relief_for(42000 * YUAN, illness_exited("bracket"), 1).amount
    blank = dataclasses.replace(rule, cause=" ")
    assert [e.field for e in blank.validate("relief[0]", causes=None)] == ["relief[0].cause"]
    with pytest.raises(ValidationFailed):
        relief_for(42000 * YUAN, blank, 1)


def test_falling_rates_are_fine_in_marginal_mode() -> None:
    rule = dataclasses.replace(illness_exited("marginal"), bands=(Band(100, D("0.6")), Band(None, D("0.5"))))
    assert rule.validate() == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"members": 0}, "members"), ({"cumulative_basis": -1}, "basis"), ({"already_paid": -1}, "already_paid")],
)
def test_bad_amounts_are_refused(kwargs: dict, field: str) -> None:
    args = {"cumulative_basis": 1000, "rule": DISASTER, "members": 1, **kwargs}
    with pytest.raises(ValidationFailed) as info:
        relief_for(**args)
    assert [e.field for e in info.value.errors] == [field]


# --- properties ---------------------------------------------------------------------------------

rates = st.integers(0, 1000).map(lambda n: Decimal(n) / 1000)
caps = st.none() | st.integers(0, 10**7)


@st.composite
def rules(draw: st.DrawFn) -> ReliefRule:
    mode = draw(st.sampled_from(["marginal", "bracket"]))
    uptos = sorted(draw(st.sets(st.integers(1, 10**7), max_size=4)))
    band_rates = draw(st.lists(rates, min_size=len(uptos) + 1, max_size=len(uptos) + 1))
    if mode == "bracket":
        band_rates.sort()
    bands = tuple(Band(u, r) for u, r in zip([*uptos, None], band_rates))
    rule = ReliefRule(
        cause="illness", group="g", basis="medical_self_paid", deductible=draw(st.integers(0, 10**6)), mode=mode,
        bands=bands, cap_per_year=draw(caps), cap_per_member=draw(caps),
    )
    assert rule.validate() == []
    return rule


costs = st.integers(0, 10**8)
members = st.integers(1, 8)


@settings(max_examples=200)
@given(rules(), costs, members, st.integers(0, 10**7))
def test_relief_is_never_negative_nor_above_its_cap(rule: ReliefRule, cost: int, n: int, paid: int) -> None:
    quote = relief_for(cost, rule, n, already_paid=paid)
    assert quote.amount >= 0
    assert quote.amount <= quote.gross
    if quote.cap is not None:
        assert quote.amount <= quote.cap
    assert quote.gross == sum(line.amount for line in quote.breakdown)


@settings(max_examples=200)
@given(rules(), costs, costs, members)
def test_relief_never_falls_as_cost_rises(rule: ReliefRule, a: int, b: int, n: int) -> None:
    low, high = sorted((a, b))
    assert relief_for(low, rule, n).amount <= relief_for(high, rule, n).amount
    assert formula_relief(low, rule, n).gross <= formula_relief(high, rule, n).gross


@settings(max_examples=200)
@given(rules(), st.lists(st.integers(0, 3 * 10**7), min_size=1, max_size=6), members)
def test_split_claims_add_up_to_one_claim_of_the_total(rule: ReliefRule, claims: list[int], n: int) -> None:
    cumulative = paid = 0
    for claim in claims:
        cumulative += claim
        paid += relief_for(cumulative, rule, n, already_paid=paid).amount
    assert paid == relief_for(sum(claims), rule, n).amount
