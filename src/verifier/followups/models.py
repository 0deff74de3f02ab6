"""The table of follow-ups (回访): after the bank settles a relief payment, the contract may require an officer to
visit or phone the household within `[followup] within_days` and record how it is doing.

A follow-up answers one settled payment item (`payment_item_id`, unique): the due date is the bank's settlement
day (in the scheme's time zone) plus the contract's days, so what is due is derived from the payments, and only
what was done is stored here.

Whether the household received the relief (是否收到救助金, `received`): asked at every follow-up since migration 0051
(NULL on the rows before it: 未询问). A "no" or "partly" is an alert to the county until a county reviewer records
what they found (`FollowupReceiptReview`; a 核实已收到 of a changed account also waits for another county reviewer's
confirmation, `second_needed`, who may instead return it, `returned_by`: the alert is open again, the returned closing
kept, and another reviewer closes it anew; a 核实未收到 may be withdrawn by two county reviewers, `withdrawn_by`, the
alert open again. One closing a follow-up neither returned nor withdrawn: its current one).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, and_, text)
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

METHODS = ("visit", "phone")
INCOME_CHANGES = ("up", "same", "down")
SATISFACTION = ("satisfied", "basic", "dissatisfied")
RECEIVED = ("yes", "no", "partly")
NOT_RECEIVED = ("no", "partly")  # an alert to the county until reviewed
OUTCOMES = ("received", "misdirected")  # a closed alert: 核实已收到, 核实未收到 (the money went elsewhere)
OUTCOME_KNOWN = "outcome IS NULL OR outcome IN ('received', 'misdirected')"
# A misdirected closing names its recovery and supplement; no other closing names either.
LINKS_WHEN_MISDIRECTED = ("(outcome IS NOT NULL AND outcome = 'misdirected' AND recovery_id IS NOT NULL"
                          " AND supplement_id IS NOT NULL) OR (recovery_id IS NULL AND supplement_id IS NULL"
                          " AND (outcome IS NULL OR outcome <> 'misdirected'))")
NOT_RECEIVED_WHERE = text("received IN ('no', 'partly')")
# A 核实已收到 closing of an account changed after the check waits for a second county reviewer (migration 0054);
# no other closing does, and only such a closing is confirmed, by someone other than its closer.
SECOND_ONLY_RECEIVED = "NOT second_needed OR (outcome IS NOT NULL AND outcome = 'received')"
CONFIRMED_WHEN_NEEDED = ("(confirmed_by IS NULL AND confirmed_at IS NULL) OR (second_needed"
                         " AND confirmed_by IS NOT NULL AND confirmed_at IS NOT NULL AND confirmed_by <> resolved_by)")
# A closing waiting for its second look may be returned (退回, migration 0055) instead of confirmed: by someone other
# than its closer, with a note and a time; it stays on record, and the follow-up has one closing not returned.
RETURNED_WHEN_WAITING = ("(returned_by IS NULL AND returned_at IS NULL AND return_note IS NULL) OR (second_needed"
                         " AND confirmed_by IS NULL AND returned_by IS NOT NULL AND returned_at IS NOT NULL"
                         " AND return_note IS NOT NULL AND returned_by <> resolved_by)")
# A 核实未收到 closing may be withdrawn (撤回, migration 0056): one county reviewer proposes it with a reason, another
# (never the proposer, nor the closer) confirms it; it stays on record, and the follow-up's current closing is the one
# neither returned nor withdrawn.
WITHDRAWN_WHEN_PROPOSED = ("(withdraw_proposed_by IS NULL AND withdraw_proposed_at IS NULL AND withdraw_reason IS NULL"
                           " AND withdrawn_by IS NULL AND withdrawn_at IS NULL) OR (outcome IS NOT NULL"
                           " AND outcome = 'misdirected' AND withdraw_proposed_by IS NOT NULL"
                           " AND withdraw_proposed_at IS NOT NULL AND withdraw_reason IS NOT NULL"
                           " AND ((withdrawn_by IS NULL AND withdrawn_at IS NULL) OR (withdrawn_by IS NOT NULL"
                           " AND withdrawn_at IS NOT NULL AND withdrawn_by <> withdraw_proposed_by"
                           " AND withdrawn_by <> resolved_by)))")
NOT_RETURNED_WHERE = text("returned_by IS NULL AND withdrawn_at IS NULL")
# A follow-up a setter of the payee account recorded alone (no other field officer in the county, migration 0065)
# waits for a county reviewer's second look: confirmed, or refused with a reason (kept; the payment is due again);
# never by its recorder, never both.
ALONE_CONFIRMED = ("(alone_confirmed_by IS NULL AND alone_confirmed_at IS NULL) OR (setter_alone"
                   " AND alone_confirmed_by IS NOT NULL AND alone_confirmed_at IS NOT NULL"
                   " AND alone_confirmed_by <> recorded_by AND alone_refused_by IS NULL)")
ALONE_REFUSED = ("(alone_refused_by IS NULL AND alone_refused_at IS NULL AND alone_refuse_reason IS NULL) OR"
                 " (setter_alone AND alone_refused_by IS NOT NULL AND alone_refused_at IS NOT NULL"
                 " AND alone_refuse_reason IS NOT NULL AND alone_refused_by <> recorded_by"
                 " AND alone_confirmed_by IS NULL)")
NOT_REFUSED_WHERE = text("alone_refused_at IS NULL")
ALONE_WAITING_WHERE = text("setter_alone AND alone_confirmed_by IS NULL AND alone_refused_at IS NULL")
RECEIVED_AMOUNT_CHECK = ("received_amount IS NULL OR (received IS NOT NULL AND received IN ('no', 'partly')"
                         " AND received_amount >= 0)")


class Followup(Base):
    __tablename__ = "followup"
    __table_args__ = (
        CheckConstraint("method IN ('visit', 'phone')", name="method_known"),
        CheckConstraint("income_change IN ('up', 'same', 'down')", name="income_change_known"),
        CheckConstraint("satisfaction IN ('satisfied', 'basic', 'dissatisfied')", name="satisfaction_known"),
        CheckConstraint("received IS NULL OR received IN ('yes', 'no', 'partly')", name="received_known"),
        # `received IS NOT NULL` spelled out: `NULL IN (...)` is unknown, and a check that is unknown passes.
        CheckConstraint(RECEIVED_AMOUNT_CHECK, name="received_amount_when_not_all"),
        CheckConstraint(ALONE_CONFIRMED, name="alone_confirmed"),
        CheckConstraint(ALONE_REFUSED, name="alone_refused"),
        # one standing follow-up a payment: a refused one (recorded by a setter alone) is kept beside the next
        Index("uq_followup_payment_item_current", "payment_item_id", unique=True,
              postgresql_where=NOT_REFUSED_WHERE, sqlite_where=NOT_REFUSED_WHERE),
        # the county reviewers' list of follow-ups recorded by a setter alone (待县级复核)
        Index("ix_followup_alone_waiting", "county_code", postgresql_where=ALONE_WAITING_WHERE,
              sqlite_where=ALONE_WAITING_WHERE),
        Index("ix_followup_county_done", "county_code", "done_on"),
        # The county's open alerts (the reviewer's home page card, 未收到救助金待核实): only the follow-ups answered no
        # or partly, by county; the other follow-ups insert into no more indexes.
        Index("ix_followup_not_received_county", "county_code", postgresql_where=NOT_RECEIVED_WHERE,
              sqlite_where=NOT_RECEIVED_WHERE),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    # The settled payment it follows up: one standing follow-up per payment, refused twice by the database (a
    # refused one, `alone_refused_at`, stays beside the next).
    payment_item_id: Mapped[str] = mapped_column(ForeignKey("payment_item.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date] = mapped_column(Date)  # the day of the visit or call
    method: Mapped[str] = mapped_column(String(8))
    income_change: Mapped[str] = mapped_column(String(8))
    risk_remains: Mapped[bool] = mapped_column(Boolean)
    satisfaction: Mapped[str] = mapped_column(String(16))
    new_needs: Mapped[list[Any]] = mapped_column(JSON)  # need codes (needs/models.py NEEDS)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 是否收到救助金: yes, no, partly; NULL: a follow-up recorded before the question was asked (未询问).
    received: Mapped[str | None] = mapped_column(String(8), nullable=True)
    received_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # fen the household says it got
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Recorded by a setter of the payee account because the county had no other field officer (migration 0065,
    # `receipt.Involved.alone`): not final until a county reviewer who took no part in paying it confirms it
    # (`followups.alone_look`); refused with a reason, it is kept as it was and the payment is due again.
    setter_alone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    alone_confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    alone_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    alone_refused_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    alone_refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    alone_refuse_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def alone_waits(self) -> bool:
        """Recorded by a setter alone, not yet confirmed nor refused (待县级复核): not final."""
        return self.setter_alone and self.alone_confirmed_by is None and self.alone_refused_at is None


class FollowupReceiptReview(Base):
    """A county reviewer's finding on a follow-up whose household said it did not receive the relief (or only part):
    the alert closed, with a note. One per follow-up not returned (its current closing), refused twice by the
    database; a returned one is kept beside the closing that followed it."""

    __tablename__ = "followup_receipt_review"
    __table_args__ = (CheckConstraint(OUTCOME_KNOWN, name="outcome_known"),
                      CheckConstraint(LINKS_WHEN_MISDIRECTED, name="links_when_misdirected"),
                      CheckConstraint(SECOND_ONLY_RECEIVED, name="second_only_received"),
                      CheckConstraint(CONFIRMED_WHEN_NEEDED, name="confirmed_when_needed"),
                      CheckConstraint(RETURNED_WHEN_WAITING, name="returned_when_waiting"),
                      CheckConstraint(WITHDRAWN_WHEN_PROPOSED, name="withdrawn_when_proposed"),
                      Index("uq_followup_receipt_review_current", "followup_id", unique=True,
                            postgresql_where=NOT_RETURNED_WHERE, sqlite_where=NOT_RETURNED_WHERE))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    followup_id: Mapped[str] = mapped_column(ForeignKey("followup.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    note: Mapped[str] = mapped_column(Text)
    # What the reviewer found (migration 0053): `received` (核实已收到: nothing follows) or `misdirected` (核实未收到:
    # the recovery and the supplementary payment of what the household did not get, opened with it). NULL: closed
    # before the question (未记录).
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recovery_id: Mapped[str | None] = mapped_column(ForeignKey("recovery.id"), nullable=True, unique=True)
    supplement_id: Mapped[str | None] = mapped_column(ForeignKey("supplementary_payment.id"), nullable=True,
                                                      unique=True)
    resolved_by: Mapped[str] = mapped_column(String(40))
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # 核实已收到 where the account paid is not the one the case's first check recorded (migration 0054): the one
    # signal of a diverted payment is not buried by one reviewer; the alert stays open (待复核) until another county
    # reviewer confirms it (`confirmed_by`, `confirmed_at`). False for every closing before it.
    second_needed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Returned (退回, migration 0055): the second reviewer disagreed with a closing waiting for them (the money did not
    # arrive); the alert is open again and this closing stays on record as it was, with who returned it and why.
    returned_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    return_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Withdrawn (撤回核实未收到, migration 0056): a 核实未收到 closing made by mistake (or by an insider who wants a second
    # payment to flow) is withdrawn by two county reviewers: one proposes it with a reason (`withdraw_proposed_by`,
    # `withdraw_proposed_at`, `withdraw_reason`), another confirms it (`withdrawn_by`, `withdrawn_at`), which
    # withdraws its recovery and its supplement and opens the alert again; the closing stays on record as it was.
    withdraw_proposed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    withdraw_proposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    withdraw_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class FollowupAssignment(Base):
    """An insurer supervisor's assignment, with a reason, of a payment's follow-up to a setter of its account (the
    county having no other field officer, or after that setter's follow-up was refused at the county's second look;
    migration 0065, `followups.assignment`): the officer may record it, and the follow-up waits for the same second
    look (`setter_alone`). Kept whatever follows."""

    __tablename__ = "followup_assignment"
    __table_args__ = (CheckConstraint("officer_id <> assigned_by", name="not_oneself"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_item_id: Mapped[str] = mapped_column(ForeignKey("payment_item.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"))
    county_code: Mapped[str] = mapped_column(String(6))
    officer_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    assigned_by: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the follow-up recorded under it: the assignment is used up (another refusal needs another assignment)
    followup_id: Mapped[str | None] = mapped_column(ForeignKey("followup.id"), nullable=True, unique=True)


FOLLOWUP_STANDS = Followup.alone_refused_at.is_(None)
"""A follow-up not refused at its second look (a refused one is history; the payment is due again)."""
ALONE_WAITS = and_(Followup.setter_alone.is_(True), Followup.alone_confirmed_by.is_(None),
                   Followup.alone_refused_at.is_(None))
"""Recorded by a setter alone and waiting for the county's second look (待县级复核)."""

STANDS = and_(FollowupReceiptReview.returned_by.is_(None), FollowupReceiptReview.withdrawn_at.is_(None))
"""A closing that stands: neither returned (退回) nor withdrawn (撤回); a follow-up has at most one
(`uq_followup_receipt_review_current`), its current closing."""
MISDIRECTED_STANDS = and_(FollowupReceiptReview.outcome == "misdirected", FollowupReceiptReview.withdrawn_at.is_(None))
"""A 核实未收到 closing not withdrawn: the case's money went elsewhere (a withdrawn one no longer says so)."""


# A proposal to withdraw a 核实未收到 ended without a withdrawal (migration 0057): dropped by its proposer (撤销提议),
# or declined by another county reviewer (驳回撤回); never dropped by another, nor declined by its proposer.
ENDED_HOW = ("dropped", "declined")
ENDED_HOW_KNOWN = "ended IN ('dropped', 'declined')"
ENDED_BY_WHOM = "(ended = 'dropped' AND ended_by = proposed_by) OR (ended = 'declined' AND ended_by <> proposed_by)"


class FollowupReceiptWithdrawEnded(Base):
    """A proposal to withdraw a 核实未收到 closing that ended without a withdrawal: kept as it was (its number among
    the closing's proposals, who proposed it, when and why) with who ended it, when, how and why. The closing's own
    proposal columns hold only the proposal that waits (or was confirmed): its number is one more than the closing's
    ended proposals."""

    __tablename__ = "followup_receipt_withdraw_ended"
    __table_args__ = (CheckConstraint(ENDED_HOW_KNOWN, name="how_known"),
                      CheckConstraint(ENDED_BY_WHOM, name="who_ends"),
                      CheckConstraint("proposal >= 1", name="proposal_counted"),
                      UniqueConstraint("review_id", "proposal"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("followup_receipt_review.id"))
    followup_id: Mapped[str] = mapped_column(ForeignKey("followup.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    proposal: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(String(40))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text)
    ended: Mapped[str] = mapped_column(String(8))
    ended_by: Mapped[str] = mapped_column(String(40))
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    end_reason: Mapped[str] = mapped_column(Text)
