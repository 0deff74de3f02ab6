"""Sampling's and a hold's refusals say what may be chosen and the limit they hit (the detail their English carried)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from verifier.domain import sampling
from verifier.accounts.auth import Principal
from verifier.domain.errors import InvalidState, ValidationFailed
from verifier.sampling.flow import _require_party_role
from verifier.sampling.plans import Member, Plan, plan_expansion


def test_a_monetary_round_with_too_many_deviations_names_the_largest_sample() -> None:
    members = [Member(f"c{i}", "", 10_000_000) for i in range(10)]
    rates = {"confidence": Decimal("0.95"), "tolerable_rate": Decimal("0.05")}
    with pytest.raises(InvalidState) as raised:
        plan_expansion("monetary", False, members, rates, Plan(1, 59, {}), 10_000)
    assert str(raised.value) == (f"偏差金额单位过多（10000 个）：样本扩大到上限 {sampling.MAX_BINOMIAL_SAMPLE} 个也无法达到置信度要求，"
                                 "本轮复核不能以扩大样本的方式通过。")


def test_an_unknown_party_is_refused_naming_the_two() -> None:
    reviewer = Principal(id="u1", username="r", display_name="", roles=("county_reviewer",), counties=())
    with pytest.raises(ValidationFailed) as raised:
        _require_party_role(reviewer, "bank")
    assert [(e.field, e.message) for e in raised.value.errors] == [
        ("party", "请选择参与方：县级复核方(county)或保险公司(insurer)")]
