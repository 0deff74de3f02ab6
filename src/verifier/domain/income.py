"""A household's verified annual income (the four statistical categories less productive costs) and its rigid expenditure.

All amounts are integer fen and must be >= 0; the household's net income itself may come out negative
when productive costs exceed what it earned.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from functools import lru_cache

from .errors import FieldError, ValidationFailed
from .money import Fen, format_yuan, round_half_up


def amount_errors(obj: object, prefix: str) -> list[FieldError]:
    """Errors for every dataclass field of `obj` that is not an integer amount of fen >= 0."""
    errors = []
    for name in _field_names(type(obj)):
        value = getattr(obj, name)
        if type(value) is int and value >= 0:
            continue  # the usual
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(FieldError(f"{prefix}.{name}", "金额应为整数（分）"))
        elif value < 0:
            errors.append(FieldError(f"{prefix}.{name}", f"不能为负数（填写的是 {format_yuan(value)} 元）"))
    return errors


@lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class HouseholdIncome:
    wages: Fen = 0
    business_net: Fen = 0
    property_net: Fen = 0
    transfer_net: Fen = 0
    productive_costs: Fen = 0

    def validate(self, prefix: str = "income") -> list[FieldError]:
        return amount_errors(self, prefix)

    def checked(self, prefix: str = "income") -> HouseholdIncome:
        """Self, or `ValidationFailed` listing every bad category."""
        if errors := self.validate(prefix):
            raise ValidationFailed(errors)
        return self


@dataclass(frozen=True)
class RigidExpenditure:
    medical_self_paid: Fen = 0
    schooling: Fen = 0
    disaster_loss: Fen = 0
    other_rigid: Fen = 0  # the generic basis of a cause a contract adds (因残 …)

    @property
    def total(self) -> Fen:
        return self.medical_self_paid + self.schooling + self.disaster_loss + self.other_rigid

    def amount_for(self, basis: str) -> Fen:
        """The amount a relief rule's `basis` ("medical_self_paid", "schooling", "disaster_loss", "other_rigid") refers to."""
        if basis not in {f.name for f in fields(self)}:
            raise ValidationFailed.one("basis", f"没有“{basis}”这项保障金计算依据，可用：" + "、".join(f.name for f in fields(self)))
        return getattr(self, basis)  # type: ignore[no-any-return]

    def validate(self, prefix: str = "rigid_expenditure") -> list[FieldError]:
        return amount_errors(self, prefix)

    def checked(self, prefix: str = "rigid_expenditure") -> RigidExpenditure:
        if errors := self.validate(prefix):
            raise ValidationFailed(errors)
        return self


def net_income(income: HouseholdIncome) -> Fen:
    """wages + business net + property net + transfer net - productive costs (may be negative)."""
    return income.wages + income.business_net + income.property_net + income.transfer_net - income.productive_costs


def members_errors(members: object, field: str = "members") -> list[FieldError]:
    if not isinstance(members, int) or isinstance(members, bool):
        return [FieldError(field, "家庭人口应为整数")]
    if members < 1:
        return [FieldError(field, f"家庭人口至少 1 人（填写的是 {members}）")]
    return []


def per_capita_income(income: HouseholdIncome, members: int) -> Fen:
    """Household net income divided by the number of members, rounded half up to the fen."""
    errors = income.validate() + members_errors(members)
    if errors:
        raise ValidationFailed(errors)
    return round_half_up(Decimal(net_income(income)) / Decimal(members))
