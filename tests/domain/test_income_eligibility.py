from decimal import Decimal

import pytest

from verifier.domain.eligibility import assess
from verifier.domain.errors import ValidationFailed
from verifier.domain.income import HouseholdIncome, RigidExpenditure, net_income, per_capita_income

LINE = 520000  # 5200.00 yuan per person per year
RATIO = Decimal("1.00")
INCOME = HouseholdIncome(wages=800000, transfer_net=120000)  # 8000.00 + 1200.00 = 9200.00
MEDICAL = RigidExpenditure(medical_self_paid=4200000)  # 42000.00


def fields_of(error: ValidationFailed) -> list[str]:
    return [e.field for e in error.errors]


def test_net_income_subtracts_productive_costs() -> None:
    income = HouseholdIncome(wages=100, business_net=20, property_net=3, transfer_net=4, productive_costs=50)
    assert net_income(income) == 77


def test_per_capita_income_rounds_half_up() -> None:
    assert per_capita_income(INCOME, 2) == 460000
    assert per_capita_income(HouseholdIncome(wages=1000000), 3) == 333333  # 3333.333... -> 3333.33
    assert per_capita_income(HouseholdIncome(wages=2000000), 3) == 666667  # 6666.666... -> 6666.67
    assert per_capita_income(HouseholdIncome(wages=1000001), 2) == 500001  # 5000.005 -> 5000.01


def test_per_capita_income_may_be_negative() -> None:
    assert per_capita_income(HouseholdIncome(wages=100, productive_costs=400), 2) == -150


@pytest.mark.parametrize("members", [0, -1])
def test_members_must_be_at_least_one(members: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        per_capita_income(INCOME, members)
    assert fields_of(info.value) == ["members"]


def test_negative_categories_are_refused_by_name() -> None:
    income = HouseholdIncome(wages=-1, business_net=0, property_net=-5)
    assert [e.field for e in income.validate()] == ["income.wages", "income.property_net"]
    with pytest.raises(ValidationFailed) as info:
        income.checked()
    assert fields_of(info.value) == ["income.wages", "income.property_net"]
    with pytest.raises(ValidationFailed):
        per_capita_income(income, 1)


def test_negative_rigid_expenditure_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed) as info:
        RigidExpenditure(schooling=-100).checked()
    assert fields_of(info.value) == ["rigid_expenditure.schooling"]


def test_float_amounts_are_refused() -> None:
    assert [e.field for e in HouseholdIncome(wages=1.5).validate()] == ["income.wages"]  # type: ignore[arg-type]


def test_rigid_total_and_basis() -> None:
    rigid = RigidExpenditure(medical_self_paid=1, schooling=20, disaster_loss=300)
    assert rigid.total == 321
    assert rigid.amount_for("disaster_loss") == 300
    with pytest.raises(ValidationFailed):
        rigid.amount_for("wages")


def test_income_line_rule() -> None:
    # 9200.00 / 2 = 4600.00 <= 5200.00
    result = assess(INCOME, 2, MEDICAL, True, LINE, RATIO)
    assert (result.eligible, result.rule, result.per_capita_income) == (True, "income_line", 460000)
    assert result.reason == "per-capita net income 4600.00 is at or below the income line 5200.00"


def test_income_exactly_at_the_line_qualifies() -> None:
    result = assess(HouseholdIncome(wages=1040000), 2, RigidExpenditure(), True, LINE, RATIO)
    assert (result.eligible, result.rule) == (True, "income_line")


def test_burden_rule() -> None:
    # 9200.00 per person > 5200.00, but no stable income and 42000.00 > 1.00 x 9200.00
    result = assess(INCOME, 1, MEDICAL, False, LINE, RATIO)
    assert (result.eligible, result.rule, result.per_capita_income) == (True, "burden", 920000)
    assert "rigid expenditure 42000.00 exceeds 1.00 times household net income 9200.00" in result.reason


def test_stable_income_rules_out_the_burden_rule() -> None:
    result = assess(INCOME, 1, MEDICAL, True, LINE, RATIO)
    assert (result.eligible, result.rule) == (False, "none")
    assert result.reason == (
        "per-capita net income 9200.00 is above the income line 5200.00, and the household has a stable income source"
    )


def test_burden_must_exceed_not_equal() -> None:
    # 1.50 x 9200.00 = 13800.00: equal does not qualify, one fen more does
    assert not assess(INCOME, 1, RigidExpenditure(schooling=1380000), False, LINE, Decimal("1.50")).eligible
    result = assess(INCOME, 1, RigidExpenditure(schooling=1380001), False, LINE, Decimal("1.50"))
    assert (result.eligible, result.rule) == (True, "burden")


def test_negative_net_income_qualifies_on_the_income_line() -> None:
    # (1000.00 - 3000.00) / 2 = -1000.00 <= 0.00; the burden rule is never needed for such a household.
    income = HouseholdIncome(wages=100000, productive_costs=300000)
    result = assess(income, 2, RigidExpenditure(disaster_loss=1), False, 0, RATIO)
    assert (result.eligible, result.rule, result.per_capita_income) == (True, "income_line", -100000)


def test_bad_assessment_inputs_name_every_field() -> None:
    with pytest.raises(ValidationFailed) as info:
        assess(HouseholdIncome(wages=-1), 0, RigidExpenditure(schooling=-1), False, -5, Decimal("-1"))
    assert fields_of(info.value) == ["income.wages", "members", "rigid_expenditure.schooling", "income_line", "burden_ratio"]
