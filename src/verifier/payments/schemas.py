"""Request and response shapes of the payments stage. Money crosses as yuan strings with two decimals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

CountyCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00]*$")]


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: CountyCode
    contract_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None


class PayeeIn(msgspec.Struct, forbid_unknown_fields=True):
    account_name: Name
    bank: Name
    account_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[0-9 ]+$")]


class SkippedCase(msgspec.Struct):
    case_id: str
    reason: str


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
    counts: dict[str, int] = msgspec.field(default_factory=dict)  # items by status
    skipped: list[SkippedCase] = msgspec.field(default_factory=list)  # only when the batch is created


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


class PayeeCorrected(msgspec.Struct):
    case_id: str
    status: str
    correction_id: str
    payee: PayeeOut


class FundOut(msgspec.Struct):
    contract_id: str
    budget: str
    committed: str
    paid: str
    service_fee: str
    balance: str
    service_fee_rate: str
    opened: bool


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
