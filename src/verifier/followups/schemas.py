"""What the follow-up routes send and receive (money as yuan strings, dates YYYY-MM-DD)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from ..domain.money import format_yuan
from .models import Followup
from .alone_look import AloneRow
from .receipt import ReceiptAlert, ReturnedClosing, alone_state
from .receipt_withdraw import EndedProposal, WithdrawnClosing
from .service import DueFollowup


class DueOut(msgspec.Struct):
    payment_item_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    cause: str
    amount: str
    settled_on: date
    due_on: date
    overdue_days: int
    refused: str | None  # why the caller must leave it to someone else (须由其他人员回访)


class FollowupOut(msgspec.Struct):
    id: str
    case_id: str
    payment_item_id: str
    county_code: str
    due_on: date
    done_on: date
    late: bool
    method: str
    income_change: str
    risk_remains: bool
    satisfaction: str
    new_needs: list[str]
    note: str | None
    received: str  # "yes" | "no" | "partly"; "unknown" for a follow-up recorded before the question (未询问)
    received_amount: str | None
    recorded_by: str
    recorded_at: datetime
    # recorded by a setter of the payee account alone: `waits` (待县级复核: not final, a "yes" not counted
    # received), `confirmed` or `refused` (退回: kept, answers nothing; the payment is due again); null otherwise
    setter_alone: str | None = None


class FollowupListOut(msgspec.Struct):
    due: list[DueOut]
    done: list[FollowupOut]
    others: int = 0  # `mine=true`: due in the caller's counties but left to other officers (须由其他核查员回访)


def due_out(d: DueFollowup, today: date) -> DueOut:
    return DueOut(d.payment_item_id, d.case_id, d.case_number, d.county_code, d.town, d.village, d.head_name, d.cause,
                  format_yuan(d.amount), d.settled_on, d.due_on, d.overdue_days(today), d.refused)


def followup_out(f: Followup) -> FollowupOut:
    return FollowupOut(f.id, f.case_id, f.payment_item_id, f.county_code, f.due_on, f.done_on, f.done_on > f.due_on,
                       f.method, f.income_change, f.risk_remains, f.satisfaction, list(f.new_needs), f.note,
                       f.received or "unknown",
                       None if f.received_amount is None else format_yuan(f.received_amount), f.recorded_by,
                       f.recorded_at, alone_state(f))


class AloneOut(msgspec.Struct):
    """A follow-up recorded by a setter of the payee account alone (回访待县级复核)."""

    followup_id: str
    case_id: str
    case_number: str
    county_code: str
    village: str
    head_name: str
    done_on: date
    method: str
    received: str
    received_amount: str | None
    recorded_by: str
    recorded_at: datetime
    state: str  # waits, confirmed, refused
    decided_by: str | None
    decided_at: datetime | None
    refused: str | None  # why the caller may not confirm or refuse it (a waiting one)


class AloneListOut(msgspec.Struct):
    items: list[AloneOut]
    total: int
    others: int  # `to_decide`: waiting ones left to other county reviewers


class AloneRefuseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""  # why the follow-up is refused (退回的理由); missing or blank: 422 naming it


def alone_out(r: AloneRow) -> AloneOut:
    return AloneOut(r.followup_id, r.case_id, r.case_number, r.county_code, r.village, r.head_name, r.done_on,
                    r.method, r.received, None if r.received_amount is None else format_yuan(r.received_amount),
                    r.recorded_by, r.recorded_at, r.state, r.decided_by, r.decided_at, r.refused)


class ReturnedClosingOut(msgspec.Struct):
    """A closing the second county reviewer returned (退回重新核实), kept as it was."""

    id: str
    resolved_by: str
    resolved_at: datetime
    outcome: str
    note: str
    returned_by: str
    returned_at: datetime
    return_note: str


def returned_out(r: ReturnedClosing) -> ReturnedClosingOut:
    return ReturnedClosingOut(r.id, r.resolved_by, r.resolved_at, r.outcome, r.note, r.returned_by, r.returned_at,
                              r.return_note)


class WithdrawnClosingOut(msgspec.Struct):
    id: str
    resolved_by: str
    resolved_at: datetime
    note: str
    withdraw_proposed_by: str
    withdraw_proposed_at: datetime
    withdraw_reason: str
    withdrawn_by: str
    withdrawn_at: datetime


def withdrawn_out(w: WithdrawnClosing) -> WithdrawnClosingOut:
    return WithdrawnClosingOut(w.id, w.resolved_by, w.resolved_at, w.note, w.proposed_by, w.proposed_at, w.reason,
                               w.withdrawn_by, w.withdrawn_at)


class ReceiptAlertOut(msgspec.Struct):
    followup_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    received: str
    received_amount: str | None
    paid_amount: str
    done_on: date
    recorded_by: str
    payee_name: str
    account: str
    batch_id: str
    batch_code: str
    account_changed: bool
    payee_outside_household: bool
    payee_changed_by: list[str]
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    outcome: str | None  # closed: "received" | "misdirected" | "unknown" (closed before the question, 未记录)
    recovery_id: str | None  # misdirected: the recovery (追回) and the supplementary payment (补发) opened
    supplement_id: str | None
    supplement_status: str | None
    supplement_confirmed_by: str | None
    # 核实已收到 of an account changed after the check: open (待复核) until another county reviewer confirms it.
    second_needed: bool = False
    second_waits: bool = False
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    # Its closings a second reviewer returned (退回), oldest first: the alert was open again after each.
    returned: list[ReturnedClosingOut] = msgspec.field(default_factory=list)
    # 撤回核实未收到: proposed by one county reviewer with a reason, waiting for another's confirmation (null: none).
    withdraw_proposed_by: str | None = None
    withdraw_proposed_at: datetime | None = None
    withdraw_reason: str | None = None
    # Its 核实未收到 closings withdrawn by two county reviewers, oldest first: the alert was open again after each.
    withdrawn: list[WithdrawnClosingOut] = msgspec.field(default_factory=list)
    # The number of the proposal that waits (to name in a confirmation, a drop or a decline; null: none waits), and
    # the proposals ended without a withdrawal (dropped by their proposer or declined), oldest first.
    withdraw_proposal: int | None = None
    withdraw_ended: list[EndedProposalOut] = msgspec.field(default_factory=list)


class ReceiptAlertListOut(msgspec.Struct):
    items: list[ReceiptAlertOut]
    total: int
    limit: int
    offset: int


class ReceiptReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""
    outcome: str | None = None  # "received" (核实已收到) | "misdirected" (核实未收到); missing: 422 naming it


class ReceiptReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""  # why the closing is returned (退回的理由); missing or blank: 422 naming it


class ReceiptWithdrawIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str = ""  # why the 核实未收到 is withdrawn (撤回的理由); missing or blank: 422 naming it


class ReceiptWithdrawConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    # The number of the proposal confirmed (`withdraw_proposal` of the alert read): another one since, 409. Left out,
    # the one that waits (as before migration 0057).
    proposal: int | None = None


class ReceiptWithdrawEndIn(msgspec.Struct, forbid_unknown_fields=True):
    proposal: int  # the number of the proposal dropped or declined (`withdraw_proposal`): another one since, 409
    reason: str = ""  # why it is dropped (撤销的理由) or declined (驳回的理由); missing or blank: 422 naming it


class EndedProposalOut(msgspec.Struct):
    id: str
    review_id: str
    proposal: int
    proposed_by: str
    proposed_at: datetime
    reason: str
    ended: str  # "dropped" (撤销提议, by its proposer) | "declined" (驳回撤回, by another county reviewer)
    ended_by: str
    ended_at: datetime
    end_reason: str


def ended_out(e: EndedProposal) -> EndedProposalOut:
    return EndedProposalOut(e.id, e.review_id, e.proposal, e.proposed_by, e.proposed_at, e.reason, e.ended,
                            e.ended_by, e.ended_at, e.end_reason)


def alert_out(a: ReceiptAlert) -> ReceiptAlertOut:
    return ReceiptAlertOut(a.followup_id, a.case_id, a.case_number, a.county_code, a.town, a.village, a.head_name,
                           a.received, None if a.received_amount is None else format_yuan(a.received_amount),
                           format_yuan(a.paid_amount), a.done_on, a.recorded_by, a.payee_name, a.account, a.batch_id,
                           a.batch_code, a.changed, a.outside, a.payee_changed_by, a.resolved_by, a.resolved_at,
                           a.note, a.outcome, a.recovery_id, a.supplement_id, a.supplement_status,
                           a.supplement_confirmed_by, a.second_needed, a.second_waits, a.confirmed_by,
                           a.confirmed_at, [returned_out(r) for r in a.returned], a.withdraw_proposed_by,
                           a.withdraw_proposed_at, a.withdraw_reason, [withdrawn_out(w) for w in a.withdrawn],
                           a.withdraw_proposal, [ended_out(e) for e in a.withdraw_ended])
