"""Rigid expenditure counted only as far as bills back it (domain/backing.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from verifier.domain.backing import backed, refusal, shortfalls
from verifier.domain.income import RigidExpenditure

FIELDS = ("medical_self_paid", "schooling", "disaster_loss", "other_rigid")
fen = st.integers(min_value=0, max_value=10**10)


def test_a_shortfall_names_the_kind_and_the_missing_amount_in_chinese() -> None:
    claimed = RigidExpenditure(medical_self_paid=4_000_000, schooling=300_000)
    found = shortfalls(claimed, {"medical_self_paid": 2_500_000, "schooling": 300_000})
    assert [(s.field, s.missing) for s in found] == [("medical_self_paid", 1_500_000)]
    assert "合规自付医疗费用申报 40,000.00 元，票据合计 25,000.00 元，差 15,000.00 元" in refusal(found)
    assert backed(claimed, {"medical_self_paid": 2_500_000, "schooling": 300_000}) == RigidExpenditure(
        medical_self_paid=2_500_000, schooling=300_000)


@given(st.tuples(fen, fen, fen, fen), st.tuples(fen, fen, fen, fen))
def test_backed_never_exceeds_the_claim_and_the_shortfalls_make_up_the_difference(claims, bills) -> None:  # type: ignore[no-untyped-def]
    claimed = RigidExpenditure(*claims)
    billed = dict(zip(FIELDS, bills))
    counted = backed(claimed, billed)
    for name in FIELDS:
        assert getattr(counted, name) == min(getattr(claimed, name), billed[name])
    assert claimed.total - counted.total == sum(s.missing for s in shortfalls(claimed, billed))
    assert all(s.missing > 0 for s in shortfalls(claimed, billed))
