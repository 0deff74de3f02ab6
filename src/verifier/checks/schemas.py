"""Request shapes for home checks and determinations (money as "0.00" strings, validated to fen)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

Money = Annotated[str, msgspec.Meta(max_length=20, description='yuan with at most two decimals, e.g. "8000.00"')]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class MemberIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    id_number: Annotated[str, msgspec.Meta(max_length=20)]
    relation: Literal["head", "spouse", "child", "parent", "other"]
    labour: Literal["full", "partial", "none"] = "none"


class IncomeIn(msgspec.Struct, forbid_unknown_fields=True):
    wages: Money = "0.00"
    business_net: Money = "0.00"
    property_net: Money = "0.00"
    transfer_net: Money = "0.00"
    productive_costs: Money = "0.00"


class RigidIn(msgspec.Struct, forbid_unknown_fields=True):
    medical_self_paid: Money = "0.00"
    schooling: Money = "0.00"
    disaster_loss: Money = "0.00"
    other_rigid: Money = "0.00"  # the generic basis of a cause a contract adds (因残 …)


class PayeeIn(msgspec.Struct, forbid_unknown_fields=True):
    account_name: Name
    bank: Name
    account_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class CrossCheckIn(msgspec.Struct, forbid_unknown_fields=True):
    source: Literal["medical_insurance", "housing", "market_regulation", "bank", "vehicle", "other"]
    finding: Literal["consistent", "inconsistent"]
    note: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class BillIn(msgspec.Struct, forbid_unknown_fields=True):
    """A bill behind the rigid expenditure (an invoice, a school's fee receipt, a loss assessment): counted once."""

    kind: Literal["medical", "schooling", "disaster", "other"]
    issuer: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    amount: Money  # the self-paid amount this bill shows


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    visited_on: date
    officers: Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=10)]
    members: Annotated[list[MemberIn], msgspec.Meta(max_length=30)]
    income: IncomeIn
    rigid_expenditure: RigidIn
    stable_income: bool
    payee: PayeeIn | None = None
    cross_checks: Annotated[list[CrossCheckIn], msgspec.Meta(max_length=50)] = []
    evidence: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]], msgspec.Meta(max_length=50)] = []
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # The bills behind rigid_expenditure; those of a kind add up to its amount; a bill another case counted is refused.
    bills: Annotated[list[BillIn], msgspec.Meta(max_length=100)] = []
    # Why the check is recorded only now: required when it is recorded more than 3 days after `visited_on`
    # (`domain.late_entry`).
    late_entry_reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class CheckRecorded(msgspec.Struct):
    id: str
    case_id: str
    seq: int
    status: str


class VisitAttemptIn(msgspec.Struct, forbid_unknown_fields=True):
    """A visit that produced no check."""

    visited_on: date
    officers: list[Annotated[str, msgspec.Meta(max_length=64)]]
    outcome: Literal["not_home", "refused", "moved_away", "other"]
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    # why it is recorded only now: required when `visited_on` is more than a few days back (`domain.late_entry`)
    late_entry_reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    # the photos taken at the door that day, uploaded as the case's evidence first (`POST /api/cases/{id}/evidence`):
    # at least one with its camera time on `visited_on` (`checks.attempts.door_problems`)
    evidence: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]], msgspec.Meta(max_length=20)] = []


class SendBackIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ReviewRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    """A household's request for a review of an ineligible decision, received on paper by the town."""

    received_on: date
    summary: Annotated[str, msgspec.Meta(max_length=2000)]


class BillsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Bills added to a recorded check before its determination (by one of its two officers)."""

    bills: Annotated[list[BillIn], msgspec.Meta(min_length=1, max_length=100)]


class DeterminationIn(msgspec.Struct, forbid_unknown_fields=True):
    confirm: bool = True


class EvidenceOut(msgspec.Struct):
    sha256: str
    size: int
    content_type: str
