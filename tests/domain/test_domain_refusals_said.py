"""The pure rules say their refusals in Chinese, naming what was given (the detail their English carried)."""

from __future__ import annotations

import pytest

from verifier.domain.errors import ValidationFailed
from verifier.domain.income import RigidExpenditure, members_errors
from verifier.domain.masking import parse_mask_spec


def test_a_mask_spec_is_refused_naming_what_was_given_and_the_limit() -> None:
    with pytest.raises(ValidationFailed) as bad:
        parse_mask_spec("6-4")
    assert bad.value.errors[0].message == "应写成“6+4”的样子（保留开头和末尾的位数），这里是“6-4”"
    with pytest.raises(ValidationFailed) as whole:
        parse_mask_spec("10+8")
    assert whole.value.errors[0].message == "“10+8”会显示完整的身份证号：保留的位数合计须少于 18 位"
    assert parse_mask_spec("6+4") == (6, 4)


def test_household_members_are_refused_naming_the_number_given() -> None:
    assert [e.message for e in members_errors(0)] == ["家庭人口至少 1 人（填写的是 0）"]
    assert [e.message for e in members_errors("3")] == ["家庭人口应为整数"]
    assert members_errors(3) == []


def test_a_negative_amount_is_named_in_yuan() -> None:
    rigid = RigidExpenditure(medical_self_paid=-150, schooling=0, disaster_loss=0, other_rigid=0)
    assert [(e.field, e.message) for e in rigid.validate()] == [
        ("rigid_expenditure.medical_self_paid", "不能为负数（填写的是 -1.50 元）")]
