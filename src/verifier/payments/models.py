"""Tables of the payments stage: batches and their items, payee changes, bank returns, recoveries and supplements,
account clearances (the fund ledger's tables are `ledger_models`).

What must never happen twice is refused by the database itself, not only by the code:

- a case has at most one *live* payment item (pending or sent to the bank): partial unique index;
- the same determined cost (case and determination) is paid at most once: partial unique index over the
  items the bank confirmed;
- an item's reference (what the bank file and the bank's return carry) is unique for ever;
- a bank return file is applied to a batch once (unique batch and file hash);
- a case has at most one payee change waiting for approval: partial unique index;
- a fund movement happens once (unique movement key, such as `commit:<batch id>`; `ledger_models`);
- an idempotency key is stored once per user (`verifier.idempotency.IdempotencyKey`, registered here).

Money columns hold integer fen. Bank accounts are sealed by the Vault and opened only for the bank file.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..idempotency import IdempotencyKey  # noqa: F401  (registers the idempotency_key table)
from ..store.base import Base, UtcDateTime

BATCH_STATUSES = ("prepared", "approved", "signed_off", "released", "reconciled", "cancelled")
ITEM_STATUSES = ("pending", "sent", "succeeded", "failed", "cancelled")
LIVE_ITEM_STATUSES = ("pending", "sent")

_LIVE_ITEM = text("status IN ('pending', 'sent')")
_SUCCEEDED_ITEM = text("status = 'succeeded'")
_SUCCEEDED_RELIEF = text("status = 'succeeded' AND supplement_id IS NULL")


class PaymentBatch(Base):
    """One county's cases ready to pay under one contract, through prepare → approve → (sign-off) → release."""

    __tablename__ = "payment_batch"
    __table_args__ = (
        CheckConstraint("total >= 0 AND item_count >= 0", name="amounts_not_negative"),
        CheckConstraint(
            "status IN ('prepared', 'approved', 'signed_off', 'released', 'reconciled', 'cancelled')",
            name="known_status",
        ),
        Index("ix_payment_batch_county_status", "county_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)  # the prefix of its items' references
    county_code: Mapped[str] = mapped_column(String(6))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    contract_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    item_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    items_sha256: Mapped[str] = mapped_column(String(64))
    signoff_required: Mapped[bool] = mapped_column(Boolean)
    prepared_by: Mapped[str] = mapped_column(String(40))
    prepared_at: Mapped[datetime] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    signed_off_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    signed_off_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    released_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cancelled_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reconciled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The bank file, written once at release and sealed by the Vault (column "payment_batch.bank_file"): what the
    # bank is given is fixed, its hash is in the release's audit entry, and accounts are opened for nothing else.
    bank_file_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    bank_file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The county reviewer's opinion on the latest sign-off decision; a refusal sends the batch back to prepared.
    signoff_opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    signoff_refused_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    signoff_refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PaymentBatchSignoff(Base):
    """Each county sign-off decision on a batch (migration 0059), oldest first: refused (不同意签批, with its opinion;
    the batch went back to prepared) or given (同意签批, its opinion optional), who and when. The batch's
    `signoff_opinion` keeps the latest opinion only; a refusal's opinion, overwritten by the sign-off that followed,
    stays here. Rows from before 0059 are the batch's latest decisions as its columns knew them: an earlier
    refusal's opinion is kept nowhere in clear (`opinion` NULL), only by its SHA-256 in the audit log."""

    __tablename__ = "payment_batch_signoff"
    __table_args__ = (CheckConstraint("decision IN ('given', 'refused')", name="known_decision"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    decided_by: Mapped[str] = mapped_column(String(40))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)


class PaymentItem(Base):
    """One transfer to one household: the relief of the case's confirmed determination, to its payee.

    The payee is the newer of the case's latest check's payee and its latest approved payee change; the item
    points at the row holding the sealed account (exactly one of `payee_check_id`, `payee_correction_id`).
    """

    __tablename__ = "payment_item"
    __table_args__ = (
        # A case is in at most one live batch.
        Index("uq_payment_item_live_case", "case_id", unique=True,
              postgresql_where=_LIVE_ITEM, sqlite_where=_LIVE_ITEM),
        # The same determined cost is never paid twice.
        Index("uq_payment_item_paid_determination", "case_id", "determination_id", unique=True,
              postgresql_where=_SUCCEEDED_RELIEF, sqlite_where=_SUCCEEDED_RELIEF),
        # A supplementary payment (a sampling round found the case underpaid) is paid at most once.
        Index("uq_payment_item_paid_supplement", "supplement_id", unique=True,
              postgresql_where=_SUCCEEDED_ITEM, sqlite_where=_SUCCEEDED_ITEM),
        Index("ix_payment_item_batch_status", "batch_id", "status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'sent', 'succeeded', 'failed', 'cancelled')", name="known_status"),
        CheckConstraint("(payee_check_id IS NULL) <> (payee_correction_id IS NULL)", name="one_payee_source"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("payment_batch.id"))
    seq: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    determination_id: Mapped[str] = mapped_column(ForeignKey("determination.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    payee_name: Mapped[str] = mapped_column(String(100))
    payee_bank: Mapped[str] = mapped_column(String(100))
    payee_check_id: Mapped[str | None] = mapped_column(ForeignKey("home_check.id"), nullable=True)
    payee_correction_id: Mapped[str | None] = mapped_column(ForeignKey("payee_correction.id"), nullable=True)
    payee_account_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # blind index
    status: Mapped[str] = mapped_column(String(16))
    bank_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    return_id: Mapped[str | None] = mapped_column(ForeignKey("bank_return.id"), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The day the bank settled it, from its return file's optional settled_on (到账日期) column; else the return's
    # import day (Asia/Shanghai). The monthly report counts a payment on this day.
    settled_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Taken out of its batch before approval (status cancelled): by whom, when, why.
    removed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    removed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set when the item pays a supplementary payment (the difference a sampling round found underpaid).
    supplement_id: Mapped[str | None] = mapped_column(ForeignKey("supplementary_payment.id"), nullable=True)


PAYEE_CHANGE_STATUSES = ("pending", "approved", "rejected")
_PENDING_CHANGE = text("status = 'pending'")


class PayeeCorrection(Base):
    """A change of a case's payee: requested by one person, approved or rejected by another.

    Only an approved change is paid: the case's next payment item pays its account. It records the payee it
    replaces (sealed like the new one), who asked and why, and whether the new account name is a member of the
    household by the latest check (when it is not, only a county reviewer may approve it). A case has at most one
    pending change at a time.
    """

    __tablename__ = "payee_correction"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="known_status"),
        CheckConstraint("status = 'pending' OR (decided_by IS NOT NULL AND decided_at IS NOT NULL)",
                        name="decided_has_decider"),
        Index("uq_payee_correction_pending_case", "case_id", unique=True,
              postgresql_where=_PENDING_CHANGE, sqlite_where=_PENDING_CHANGE),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    failed_item_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    account_name: Mapped[str] = mapped_column(String(100))
    bank: Mapped[str] = mapped_column(String(100))
    account_number_enc: Mapped[bytes] = mapped_column(LargeBinary)  # Vault column "payee_correction.account_number"
    account_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # blind index
    name_in_household: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The payee this change replaces, as it stood when it was requested (none when no payee was recorded).
    old_account_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    old_bank: Mapped[str | None] = mapped_column(String(100), nullable=True)
    old_account_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # same Vault column
    requested_by: Mapped[str] = mapped_column(String(40))
    requested_role: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class BankReturn(Base):
    """One bank return file applied to a batch; a second import of the same file answers with `result`."""

    __tablename__ = "bank_return"
    __table_args__ = (UniqueConstraint("batch_id", "file_sha256"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("payment_batch.id"), index=True)
    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    lines: Mapped[int] = mapped_column(Integer)
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    already_settled: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_by: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Recovery(Base):
    """A recovery (追回) of relief overpaid, opened when a sampling round's re-check of a paid case finds it should
    have got less or nothing. Tracked until repaid in full (`repaid` = the confirmed repayments) or waived: asked for
    by one county reviewer with a reason, done by another. One per round and case."""

    __tablename__ = "recovery"
    __table_args__ = (
        UniqueConstraint("round_id", "case_id"),
        CheckConstraint("amount > 0 AND repaid >= 0 AND repaid <= amount", name="repaid_within_amount"),
        CheckConstraint("status IN ('open', 'repaid', 'waived', 'withdrawn')", name="known_status"),
        Index("ix_recovery_county_status", "county_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    # The sampling round whose re-check opened it; NULL: a follow-up's household did not receive the relief and a
    # county reviewer found it went elsewhere (回访核实未收到, `FollowupReceiptReview.recovery_id`, migration 0053).
    round_id: Mapped[str | None] = mapped_column(ForeignKey("sampling_round.id"), nullable=True)
    county_code: Mapped[str] = mapped_column(String(6))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # fen overpaid
    repaid: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16))
    paid_amount: Mapped[int] = mapped_column(BigInteger)  # what the case had been paid
    due_amount: Mapped[int] = mapped_column(BigInteger)  # what the re-check found due
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the waiver's, or the last confirmer
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    waive_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # the waiver's (asked for, then done)
    # A waiver is asked for by one county reviewer and done by another: who asked, and when (None: nobody asked).
    waiver_requested_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    waiver_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The second county reviewer's words confirming the waiver (migration 0059; who and when: `closed_by`,
    # `closed_at`). The audit entry holds only their SHA-256; None for a waiver confirmed before 0059. A declined
    # request's reason is its `RecoveryWaiverRequest.note` (migration 0060), never here.
    waiver_confirm_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RecoveryWaiverRequest(Base):
    """Each request to waive a recovery (migration 0060), oldest first: who asked, when and why, and how it ended:
    confirmed (核销, the second reviewer's words), declined (驳回, the reason), withdrawn (the recovery ended
    otherwise while it waited: withdrawn, or repaid in full), by whom and when; `outcome` NULL while it waits. The
    recovery's `waiver_requested_*` and `waive_reason` name the latest request only, a decline clears them; its
    rows stay here. The audit log keeps the texts' SHA-256 only. Rows from before 0060 come from the log and the
    recovery's columns: a text kept nowhere in clear is NULL, a time the log does not name too."""

    __tablename__ = "recovery_waiver_request"
    __table_args__ = (
        CheckConstraint("outcome IS NULL OR outcome IN ('confirmed', 'declined', 'withdrawn')", name="known_outcome"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recovery_id: Mapped[str] = mapped_column(ForeignKey("recovery.id"), index=True)
    asked_by: Mapped[str] = mapped_column(String(40))
    asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class RecoveryRepayment(Base):
    """Money the household paid back: recorded by finance, confirmed by another person (finance or the county
    reviewer); only a confirmed repayment counts and goes back to the fund. A bank reference is used once."""

    __tablename__ = "recovery_repayment"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name="known_status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recovery_id: Mapped[str] = mapped_column(ForeignKey("recovery.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class SupplementaryPayment(Base):
    """The difference a sampling round's re-check found a paid case underpaid, paid through the normal batch flow
    (four eyes, county sign-off, bank file) once another county reviewer confirms it: open → in_batch → paid (a failed or removed item makes it open again);
    withdrawn when its result is corrected before it is in a batch. One per round and case."""

    __tablename__ = "supplementary_payment"
    __table_args__ = (
        UniqueConstraint("round_id", "case_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('open', 'in_batch', 'paid', 'withdrawn')", name="known_status"),
        Index("ix_supplementary_payment_county_status", "county_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    # NULL: opened by a follow-up closed as misdirected (回访核实未收到, `FollowupReceiptReview.supplement_id`,
    # migration 0053), paid only to another account than the one the misdirected item paid.
    round_id: Mapped[str | None] = mapped_column(ForeignKey("sampling_round.id"), nullable=True)
    county_code: Mapped[str] = mapped_column(String(6))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    determination_id: Mapped[str] = mapped_column(ForeignKey("determination.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    opened_by: Mapped[str] = mapped_column(String(40))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A second county reviewer's confirmation, never the one whose re-check opened it: only then is it paid
    # (sampling/consequences.py `confirm_supplement`). NULL: waiting for it.
    confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class AccountClearance(Base):
    """A county reviewer's clearance of one payee account for the households it pays (收款账户与其他家庭相同，已核实):
    the account by its blind index (and its masked tail), the households it covers, the reviewer's note. A clearance
    covers exactly those households: a further household paid into the same account is held again."""

    __tablename__ = "account_clearance"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_index: Mapped[str] = mapped_column(String(64), index=True)
    account_masked: Mapped[str] = mapped_column(String(40))
    households: Mapped[list[str]] = mapped_column(JSON)  # household ids, sorted
    case_ids: Mapped[list[str]] = mapped_column(JSON)  # the cases the reviewer saw, sorted
    county_code: Mapped[str] = mapped_column(String(6))
    note: Mapped[str] = mapped_column(Text)
    cleared_by: Mapped[str] = mapped_column(String(40))
    cleared_at: Mapped[datetime] = mapped_column(UtcDateTime())
