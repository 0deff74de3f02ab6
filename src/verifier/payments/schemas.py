"""Request and response shapes of the payments stage. Money crosses as yuan strings with two decimals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

CountyCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: CountyCode
    contract_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    # The cases claims chose (each ready to pay in the county); absent: every case ready to pay.
    case_ids: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                                         pattern=r"^[A-Za-z0-9_.-]+$")]],
                        msgspec.Meta(max_length=999_999)] | None = None


class ItemRemovalIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]


class SignoffIn(msgspec.Struct, forbid_unknown_fields=True):
    opinion: Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^[^\x00]*$")] = ""


class PayeeIn(msgspec.Struct, forbid_unknown_fields=True):
    account_name: Name
    bank: Name
    account_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[0-9 ]+$")]
    reason: Annotated[str, msgspec.Meta(max_length=500, pattern=r"^[^\x00]*$")] = ""


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    # The service refuses more than 500 characters (422 naming `note`, in Chinese); the schema only caps a huge body
    # early (a refused text over it is said in Chinese: `app._validation_to_problem`).
    note: Annotated[str, msgspec.Meta(max_length=2000, pattern=r"^[^\x00]*$")] = ""


class SharedAccount(msgspec.Struct):
    """One account number (masked) that the payees of several cases of a batch share."""
    account_number: str
    cases: int
    case_ids: list[str]


class SkippedCase(msgspec.Struct):
    case_id: str
    reason: str


class SignoffOut(msgspec.Struct):
    """One county sign-off decision on a batch: `refused` (不同意签批) or `given` (同意签批), who, when, the opinion
    (None: a sign-off given without one, or a refusal from before migration 0059 whose opinion the batch no longer
    kept)."""

    decision: str
    decided_by: str
    decided_at: datetime
    opinion: str | None = None


class BatchOut(msgspec.Struct):
    id: str
    code: str
    county_code: str
    contract_id: str
    status: str
    status_label: str
    item_count: int
    total: str
    items_sha256: str
    signoff_required: bool
    signoff_threshold: str
    prepared_by: str
    prepared_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    signed_off_by: str | None = None
    signed_off_at: datetime | None = None
    released_by: str | None = None
    released_at: datetime | None = None
    cancelled_by: str | None = None
    cancelled_at: datetime | None = None
    reconciled_at: datetime | None = None
    bank_file_sha256: str | None = None  # the CSV bank file written at release
    signoff_opinion: str | None = None  # the county reviewer's opinion on the latest sign-off decision
    signoff_refused_by: str | None = None  # the latest refusal of the sign-off (the batch went back to prepared)
    signoff_refused_at: datetime | None = None
    counts: dict[str, int] = msgspec.field(default_factory=dict)  # items by status
    skipped: list[SkippedCase] = msgspec.field(default_factory=list)  # only when the batch is created
    # Accounts that two or more cases' payees share, masked (GET of one batch, until it is released).
    shared_accounts: list[SharedAccount] = msgspec.field(default_factory=list)
    # Items whose payee was changed, for whoever approves or releases (on reading one batch; None elsewhere).
    payee_changes: list["ChangedPayeeOut"] | None = None
    # Every county sign-off decision, oldest first (on reading one batch; None elsewhere): a refusal's opinion stays
    # here after a later sign-off replaced `signoff_opinion`.
    signoffs: list[SignoffOut] | None = None
    # Cases of the batch (ids) that a batch the county refused to sign off held, not signed off since: the batch
    # needs the county's sign-off whatever its total (on reading one batch, prepared or approved; None elsewhere).
    signoff_refused_cases: list[str] | None = None


class BatchPage(msgspec.Struct):
    items: list[BatchOut]
    next_cursor: str | None


class PayeeOut(msgspec.Struct):
    account_name: str
    bank: str
    account_number: str  # masked except in the bank file


class ItemOut(msgspec.Struct):
    id: str
    seq: int
    reference: str
    case_id: str
    determination_id: str
    amount: str
    status: str
    payee: PayeeOut
    bank_reference: str | None
    failure_reason: str | None
    settled_at: datetime | None
    removed_by: str | None = None  # taken out of the batch before approval: by whom, when, why
    removed_at: datetime | None = None
    removed_reason: str | None = None
    settled_on: date | None = None  # the day the bank settled it (its return's 到账日期, else the import day)


class ItemPage(msgspec.Struct):
    items: list[ItemOut]
    next_cursor: int | None


class ReturnOut(msgspec.Struct):
    return_id: str
    batch_id: str
    file_sha256: str
    lines: int
    succeeded: int
    failed: int
    already_settled: int
    paid: str
    released: str
    service_fee: str
    batch_status: str


class PayeeChangeOut(msgspec.Struct):
    id: str
    case_id: str
    county_code: str
    case_status: str
    household_head: str
    status: str  # pending | approved | rejected
    status_label: str
    payee: PayeeOut  # the new payee, account masked
    old_payee: PayeeOut | None  # the payee it replaces, as it stood when requested
    name_in_household: bool
    approver_roles: list[str]  # who may approve: a county reviewer only when the name is not a household member
    reason: str
    failed_item_id: str | None
    requested_by: str
    requested_role: str
    requested_at: datetime
    decided_by: str | None
    decided_role: str | None
    decided_at: datetime | None
    decision_note: str
    case_number: str = ""  # the case's readable number
    # 收款账户与其他家庭相同: the new account is also another household's payee (masked, and the other cases' numbers
    # within the caller's counties); a warning, not a refusal. Given by the request and the decision.
    shared_account: dict[str, Any] | None = None
    # 收款账户为工作人员本人账户: the new account is a staff member's own declared account (whose is not said); the
    # case is held at batch preparation until a county reviewer clears it. A warning; its owner may not approve.
    staff_account: str | None = None


class PayeeChangePage(msgspec.Struct):
    items: list[PayeeChangeOut]
    next_cursor: str | None


class ChangedPayeeOut(msgspec.Struct):
    """An item whose payee differs from the one first recorded. `source` says what set it: `change` (an approved
    payee change: `change_id`, requested and approved by) or `check` (a later check, e.g. after an upheld objection
    or a check sent back: `check_id`; requested_by is who recorded it, approved_by who confirmed the determination
    the item pays; `old_payee` is the payee first recorded)."""

    item_id: str
    reference: str
    case_id: str
    change_id: str | None
    requested_by: str
    requested_at: datetime
    approved_by: str
    approved_at: datetime | None
    name_in_household: bool
    reason: str
    old_payee: PayeeOut | None
    payee: PayeeOut
    source: str = "change"
    check_id: str | None = None


class FundOut(msgspec.Struct):
    contract_id: str
    budget: str
    committed: str
    paid: str
    service_fee: str
    balance: str
    service_fee_rate: str
    opened: bool
    recovered: str = "0.00"  # overpaid relief repaid by households (追回), back in the balance


class MovementOut(msgspec.Struct):
    id: int
    kind: str
    key: str
    amount: str
    debit: str
    credit: str
    batch_id: str | None
    return_id: str | None
    note: str
    created_by: str
    created_at: datetime


class MovementPage(msgspec.Struct):
    items: list[MovementOut]
    next_cursor: int | None


class RepaymentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A household's repayment of a recovery (追回), as finance records it from the bank's statement."""

    amount: Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
    paid_on: date
    reference: Annotated[str, msgspec.Meta(max_length=100)]


class ReasonIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)]
