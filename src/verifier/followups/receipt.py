"""Whether the household received the relief (是否收到救助金): who may hear it, and the county's alert when it did not.

A changed bank account is the classic way relief is stolen, and the follow-up is the one time after payment someone
talks to the household. So:

- `involved` reads who took part in paying a settled item: who asked for and approved a payee change the item paid
  (or recorded and confirmed a later check naming another payee), the officers and the recorder of the check that set
  the case's payee account (the first to record one: they typed it at the door), the officers of the case's checks,
  and the batch's preparer, approver, county sign-off and releaser; and whether the account paid differs from the one
  the case's first check recorded, or the payee is not a household member on record (`checks.on_record`: a name a
  check typed is its officers' word until a confirmed check vouches for it).
- `refuse_involved`: none who set or changed the account, nor the batch's people, records the follow-up; where the
  account differs (or the payee is no member), no officer of the case's checks either (403, nothing written; the try
  is kept on the record as `followup.refused`, in a transaction of its own, as 回避 refusals are). Otherwise an
  officer of a later check that kept the account, or one who took no part, follows up.
- A follow-up answering "no" or "partly" is an alert (`alerts`, the county reviewer's 未收到救助金待核实) until a county
  reviewer who took no part in paying it, nor recorded the follow-up, closes it with a note (`resolve`); a 核实已收到
  of an account changed after the check stays open (待复核) until a second county reviewer confirms it, or returns
  it (退回: open again, the closing kept; `receipt_second`). The alert's current closing is its one not returned
  (`CURRENT`); the closer of a returned one does not close it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import load_case
from ..checks import on_record
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.masking import mask_account
from ..domain.money import format_yuan
from ..domain.payee import is_household_member
from ..payments import recoveries
from ..payments.models import PayeeCorrection, PaymentBatch, PaymentItem, Recovery, SupplementaryPayment
from ..payments.payees import CHECK_ACCOUNT_COLUMN, CORRECTION_ACCOUNT_COLUMN
from ..recusal import guard as recusal, refusals
from ..roster.service import PASSWORD_LINK, password_links, password_links_of
from ..sampling import consequences
from ..store.base import new_id
from ..store.paged import PAGE_SIZE, Paged, count_of, fold_search, page_of, text_search
from ..store.db import keep_after_rollback
from ..store.tables import Case, Check, Determination, Household, User
from ..store.vault import Vault
from .models import (FOLLOWUP_STANDS, MISDIRECTED_STANDS, NOT_RECEIVED, OUTCOMES, STANDS, Followup,
                     FollowupReceiptReview)

RESOLVERS = ("county_reviewer",)
ALERT_READERS = ("county_reviewer", "auditor")
REFUSED = "followup.refused"  # listed on 回避拦截记录 with the 回避 refusals (`recusal.refusals.FOLLOWUP_ACTION`)
MAX_NOTE = 2000

DID = {
    "payee_requested": "申请了该案件的收款人变更",
    "payee_approved": "批准了该案件的收款人变更",
    "payee_check_recorded": "录入了改变收款账户的复查",
    "payee_check_confirmed": "确认了改变收款账户的复查认定",
    "payee_check_officer": "参与了改变收款账户的入户核查",
    "check_officer": "参与了该案件的入户核查",
    "account_set_officer": "参与了登记该户收款账户的入户核查",
    "account_set_recorder": "录入了登记该户收款账户的入户核查",
    "batch_prepared": "制作了支付批次",
    "batch_approved": "审批了支付批次",
    "batch_signed_off": "签批了支付批次",
    "batch_released": "发放了支付批次",
    "followup_recorded": "录入了这次回访",
    "receipt_resolved": "核实了这次未收到救助金的回访（核实未收到）",
    "receipt_closed": "核实了这次未收到救助金的回访（核实已收到）",
    "receipt_returned": "核实了这次未收到救助金的回访（核实已收到），已被另一名县级审核人员退回",
    "receipt_withdrawn": "核实了这次未收到救助金的回访（核实未收到），已被两名县级审核人员撤回",
    "password_linked": "的账号与参与支付的人员有密码关联" + PASSWORD_LINK,
}

if TYPE_CHECKING:  # receipt_withdraw imports this module
    from .receipt_withdraw import EndedProposal


@dataclass(frozen=True)
class Involved:
    """Who took part in paying one settled item, and why its follow-up needs someone else."""

    changed: bool  # the account paid is not the one the case's first check recorded
    outside: bool  # the payee is not a member of the household on record (by the case's latest check)
    batch_code: str
    changers: dict[str, str] = field(default_factory=dict)  # user id → what they did (DID key)
    officers: frozenset[str] = frozenset()
    batch: dict[str, str] = field(default_factory=dict)
    # The officers and the recorder of the check that set the case's payee account (the first to record one, before
    # the item): they chose, at the door, the account the money goes to (a later change's people are `changers`).
    setters: dict[str, str] = field(default_factory=dict)
    # No active field officer of the case's county is left once everyone `barred_from_followup` and their accounts
    # linked by a password are set aside (a county of two officers, say): the setters are not refused then, or the
    # county could follow nothing up; their follow-up says so on record (`setter_alone`).
    alone: bool = False

    def part_of(self, user_id: str) -> str | None:
        """What `user_id` did in paying the item (a DID key), or None."""
        if user_id in self.changers:
            return self.changers[user_id]
        if user_id in self.setters:
            return self.setters[user_id]
        if user_id in self.batch:
            return self.batch[user_id]
        return "check_officer" if user_id in self.officers else None

    @property
    def changed_by(self) -> list[str]:
        return sorted(self.changers)


@dataclass(frozen=True)
class _Paid:
    """What paying some items involved, read in a fixed number of statements whatever their count: the cases'
    checks, their payee changes, the items' determinations and batches."""

    checks: dict[str, list[Check]]  # case id → its checks, in order
    changes: dict[str, PayeeCorrection]  # by id
    by_case: dict[str, list[PayeeCorrection]]  # case id → its approved changes
    confirmers: dict[str, str | None]  # check id → who confirmed its determination
    batches: dict[str, PaymentBatch]
    members: dict[str, list[str]]  # case id → the names on record of its latest check's members (`checks.on_record`)


def _paid(session: Session, items: list[PaymentItem]) -> _Paid:
    cases = sorted({i.case_id for i in items})
    checks: dict[str, list[Check]] = {c: [] for c in cases}
    changes: dict[str, PayeeCorrection] = {}
    by_case: dict[str, list[PayeeCorrection]] = {c: [] for c in cases}
    confirmers: dict[str, str | None] = {}
    batches: dict[str, PaymentBatch] = {}
    members: dict[str, list[str]] = {}
    if items:
        for check in session.scalars(select(Check).where(Check.case_id.in_(cases)).order_by(Check.case_id, Check.seq)):
            checks[check.case_id].append(check)
        wanted = sorted({i.payee_correction_id for i in items if i.payee_correction_id})
        for c in session.scalars(select(PayeeCorrection).where(or_(
                and_(PayeeCorrection.case_id.in_(cases), PayeeCorrection.status == "approved"),
                PayeeCorrection.id.in_(wanted)))):
            changes[c.id] = c
            if c.status == "approved" and c.case_id in by_case:
                by_case[c.case_id].append(c)
        confirmers = dict(session.execute(select(Determination.check_id, Determination.confirmed_by)
                                          .where(Determination.case_id.in_(cases))).tuples().all())
        batches = {b.id: b for b in session.scalars(select(PaymentBatch).where(
            PaymentBatch.id.in_(sorted({i.batch_id for i in items}))))}
        members = on_record.names_on_record_by_case(
            session, {case_id: list(checks[case_id][-1].members or []) for case_id in cases if checks[case_id]})
    return _Paid(checks, changes, by_case, confirmers, batches, members)


def _involved(paid: _Paid, item: PaymentItem) -> Involved:
    checks = paid.checks.get(item.case_id, [])
    first = next((c for c in checks if c.payee_account_enc is not None), None)
    changers: dict[str, str] = {}
    changed = False
    if item.payee_correction_id is not None:
        change = paid.changes.get(item.payee_correction_id)
        if change is None:
            raise InvalidState(f"支付明细 {item.id} 所付的收款人变更记录不存在，无法判断谁参与了支付")
        changed = (first is None or change.account_index is None
                   or change.account_index != first.payee_account_index)
    elif item.payee_check_id is not None and first is not None and item.payee_check_id != first.id:
        changed = (item.payee_account_index is None or first.payee_account_index is None
                   or item.payee_account_index != first.payee_account_index)
    # Every check recorded before the item was made that names another account than the check before it: a change of
    # payee, whichever later check paid (a routine check may keep the new account), so its officers, its recorder and
    # whoever confirmed its determination took part in it.
    before = None
    setters: dict[str, str] = {}
    for check in checks:
        if check.payee_account_enc is None or check.recorded_at > item.created_at:
            continue
        if before is None:
            # The check that set the account: its officers typed it at the door, under a member's name, and would
            # otherwise be the ones to ask the household whether the money arrived.
            for officer in check.officer_ids or []:
                setters.setdefault(officer, "account_set_officer")
            setters.setdefault(check.recorded_by, "account_set_recorder")
        elif (check.payee_account_index is None or before.payee_account_index is None
              or check.payee_account_index != before.payee_account_index):
            # an account stored without its blind index (before 0045, not filled without the keys) cannot be told
            # the same as the one before here: counted as a change, so its check's people stay out of the follow-up
            for officer in check.officer_ids or []:
                changers.setdefault(officer, "payee_check_officer")
            confirmed_by = paid.confirmers.get(check.id)
            if confirmed_by:
                changers[confirmed_by] = "payee_check_confirmed"
            changers[check.recorded_by] = "payee_check_recorded"
        before = check
    # Every approved change of the case before the item was made: one may have changed the account and another
    # changed it back to look the same.
    for c in sorted(paid.by_case.get(item.case_id, []), key=lambda c: c.id):
        if c.decided_at is not None and c.decided_at <= item.created_at:
            if c.decided_by:
                changers.setdefault(c.decided_by, "payee_approved")
            changers[c.requested_by] = "payee_requested"
    # a member by the record, not only by a check's word (a name a check typed counts once another case's confirmed
    # check vouches for it, `checks.on_record`): the check's officers may have typed the payee in themselves
    outside = not is_household_member(item.payee_name, paid.members.get(item.case_id, []))
    officers = frozenset(o for c in checks for o in [*(c.officer_ids or []), c.recorded_by])
    batch = paid.batches.get(item.batch_id)
    if batch is None:
        raise InvalidState(f"支付明细 {item.id} 所属的支付批次不存在，无法判断谁参与了支付")
    people: dict[str, str] = {}
    for who, did in ((batch.prepared_by, "batch_prepared"), (batch.approved_by, "batch_approved"),
                     (batch.signed_off_by, "batch_signed_off"), (batch.released_by, "batch_released")):
        if who:
            people[who] = did  # the last step one person took wins: the releaser is told they released
    return Involved(changed=changed, outside=outside, batch_code=batch.code, changers=changers, officers=officers,
                    batch=people, setters=setters)


def involved(session: Session, item: PaymentItem) -> Involved:
    return _alone_of(session, [(item, _involved(_paid(session, [item]), item))])[0]


def involved_many(session: Session, items: list[PaymentItem]) -> dict[str, Involved]:
    """Each item's `Involved` (by item id), read for them all at once; `alone` told."""
    paid = _paid(session, items)
    return {item.id: who for item, who in zip(items, _alone_of(session, [(i, _involved(paid, i)) for i in items]))}


def _alone_of(session: Session, everyone: list[tuple[PaymentItem, Involved]]) -> list[Involved]:
    """Each of `everyone` with `Involved.alone` told: whether its case's county has an active field officer left
    outside `barred_from_followup` and the accounts linked to those by a password; three statements for them all."""
    if not everyone:
        return []
    county = dict(session.execute(select(Case.id, Case.county_code).where(
        Case.id.in_(sorted({item.case_id for item, _ in everyone})))).tuples().all())
    officers = [u for u in session.scalars(select(User).where(User.active.is_(True))) if "field_officer" in u.roles]
    def of_county(code: str | None) -> set[str]:
        return {u.id for u in officers if not u.counties or code in u.counties}
    barred_all = {b for _, who in everyone for b in barred_from_followup(who)}
    links = password_links_of(session, barred_all, {u.id for u in officers})
    out = []
    for item, who in everyone:
        barred = barred_from_followup(who)
        linked = {a for b in barred for a in links.get(b, ())}
        out.append(replace(who, alone=not (of_county(county.get(item.case_id)) - barred - linked)))
    return out


def setter_alone(who: Involved, user_id: str) -> bool:
    """Whether `user_id` may record the follow-up only because no one else of the county may (`Involved.alone`): a
    setter of the account, recorded so in the follow-up's entry for the county's reviewers."""
    return who.alone and user_id in who.setters and refused_part(replace(who, alone=False), user_id) is not None


def county_followup(session: Session, followup_id: str, principal: Principal) -> Followup:
    """The follow-up `followup_id` of a county the caller reads; another county's reads as one that does not exist
    (404)."""
    f = session.get(Followup, followup_id)
    if f is None or not principal.may_see_county(f.county_code):
        raise NotFound("没有这次回访")
    return f


def case_locked(session: Session, f: Followup, principal: Principal) -> Case:
    """The case of follow-up `f`, locked for the step (its rows after it are decided under this lock); 404 as for the
    follow-up where the caller may not read the case."""
    try:
        return load_case(session, f.case_id, principal, for_update=True)
    except NotFound:
        raise NotFound("没有这次回访") from None


def refused_part(who: Involved, user_id: str, linked: frozenset[str] = frozenset()) -> str | None:
    """The one rule of who may not record the follow-up; what they did (a DID key), or None when they may: whoever
    set the payee account at the door (the officers and the recorder of the check that first recorded one) or changed
    it (a payee change asked for or approved, a later check naming another account), or prepared, approved, signed off
    or released the batch; every check officer of the case too where the account paid was changed (or the payee is no
    household member). An officer of a later check that kept the account follows it up. `linked`: the accounts linked
    to `user_id` by a password (`roster.service.password_links`, the roster's rule): one linked to a person refused is
    refused too."""
    part = who.part_of(user_id)
    if part == "check_officer" and not (who.changed or who.outside):
        part = None
    if part in SETTERS and who.alone and not (who.changed or who.outside):
        part = None  # a county with no one else to send (`Involved.alone`): the follow-up's entry says so
    if part is not None:
        return part
    return "password_linked" if linked & barred_from_followup(who) else None


def barred_from_followup(who: Involved) -> frozenset[str]:
    """Whom `refused_part` refuses by what they did (before any password link)."""
    return frozenset({*who.changers, *who.setters, *who.batch,
                      *(who.officers if who.changed or who.outside else ())})


def why_of(who: Involved) -> str:
    return "，且".join(w for w, yes in (("保障金付入的账户与首次入户核查登记的不同", who.changed),
                                      ("收款人不是本户成员", who.outside)) if yes)


HELD_CHUNK = 500  # items read in one go by `held_back`


SETTERS = ("account_set_officer", "account_set_recorder")


def _reason(who: Involved, part: str) -> str:
    return ("收款账户已变更" if who.changed else "收款人不是本户成员" if who.outside
            else "须由未登记收款账户的人员回访" if part in SETTERS else "须由未参与支付的人员回访")


def held_back(session: Session, user_id: str, item_ids: list[str]) -> dict[str, str]:
    """Of `item_ids`, those `user_id` will be refused the follow-up of (`refused_part`), each with why in one phrase
    (the due lists' 须由其他人员回访): read in a fixed number of statements for each `HELD_CHUNK` items (a long unpaged
    due list would otherwise bind more values in one IN (…) than SQLite takes)."""
    wanted = sorted(set(item_ids))
    out = {}
    for at in range(0, len(wanted), HELD_CHUNK):
        items = list(session.scalars(select(PaymentItem).where(PaymentItem.id.in_(wanted[at:at + HELD_CHUNK]))))
        paid = _paid(session, items)
        everyone = _alone_of(session, [(item, _involved(paid, item)) for item in items])
        linked = password_links(session, user_id, {p for who in everyone for p in barred_from_followup(who)})
        for item, who in zip(items, everyone):
            part = refused_part(who, user_id, linked)
            if part is not None:
                out[item.id] = _reason(who, part) + "，您" + did_of(part, who)
    return out


def did_of(part: str, who: Involved) -> str:
    return DID[part] + (f" {who.batch_code}" if part.startswith("batch_") else "")


def _refusal(who: Involved, part: str) -> str:
    why = why_of(who)
    return (f"回访须由其他核查员办理：{'该案件' + why + '，而' if why else ''}您{did_of(part, who)}。"
            + ("请由未参与收款人变更、入户核查和支付的核查员回访" if why else
               "请由未参与登记或变更收款账户、也未参与支付的核查员回访"))


def _part(session: Session, who: Involved, user_id: str) -> str | None:
    """`refused_part` with `user_id`'s password links to the people it refuses (one statement)."""
    return refused_part(who, user_id, password_links(session, user_id, barred_from_followup(who)))


def refuse_involved(session: Session, principal: Principal, case: Case, item_id: str, *, role: str,
                    clock: Clock | None, assigned: bool = False) -> None:
    """403 when the caller took part in paying the item (`refused_part`: set or changed its account, moved its batch,
    or checked the case where its account was changed or its payee is no household member); the try is kept
    (`followup.refused`) once the refused transaction has rolled back. `assigned`: a supervisor assigned it to the
    caller (`assignment`), which lifts a setter's refusal only."""
    item = session.get(PaymentItem, item_id)
    if item is None:
        raise InvalidState("这次回访所对应的支付明细已不存在")
    who = involved(session, item)
    part = _part(session, who, principal.id)
    if part is None or (assigned and part in SETTERS and not (who.changed or who.outside)):
        return
    exc = Forbidden(_refusal(who, part))
    case_id, county = case.id, case.county_code  # read now: the case's row is gone with the rolled-back session
    payload = {"case_id": case_id, "payment_item_id": item_id, "part": part, "changed": who.changed,
               "outside": who.outside, "households": [case.household_id]}  # for 回避拦截记录's count of households
    keep_after_rollback(exc, lambda s: audit.append(s, actor=principal.id, role=role, action=REFUSED,
                                                    subject=case_id, payload=payload, county_code=county,
                                                    clock=clock))
    raise exc


PAID_CASE_CHANGE = ("该案件的保障金付到了别处（回访核实未收到），补发前的收款人变更不能由参与这笔支付或其核实的人员"
                    "申请、批准或驳回：您{did}")


def paid_change_refusal(session: Session, case: Case, user_id: str) -> str | None:
    """The one rule of who may not request, approve or reject a payee change of a paid case (the change before a
    misdirected supplement is paid): for each follow-up of the case closed as misdirected, whoever `refused_part`
    refuses for its item (the payee changers, the check officers where the account was changed, the batch's
    preparer, approver, sign-off and releaser), the follow-up's recorder, the alert's closer, the closer of a 核实已收到
    of that alert since returned (`returned_closers`: they vouched for the diverted payment), and the accounts linked
    to any of them by a password. The refusal in Chinese naming why, or None when they may (or the case is not paid):
    else the one who moved the money, or the closer alone, would choose where the supplement goes."""
    if case.status != "paid":
        return None
    rows = session.execute(select(Followup, FollowupReceiptReview, PaymentItem)
                           .join(FollowupReceiptReview, FollowupReceiptReview.followup_id == Followup.id)
                           .join(PaymentItem, PaymentItem.id == Followup.payment_item_id)
                           .where(Followup.case_id == case.id, MISDIRECTED_STANDS)
                           .order_by(Followup.id)).tuples().all()
    for f, review, item in rows:
        who = involved(session, item)
        part = refused_part(who, user_id)
        if part is None and user_id == f.recorded_by:
            part = "followup_recorded"
        if part is None and user_id == review.resolved_by:
            part = "receipt_resolved"
        earlier = returned_closers(session, f.id)
        if part is None and user_id in earlier:
            part = "receipt_returned"
        if part is None and password_links(session, user_id, {*barred_from_followup(who), f.recorded_by,
                                                               review.resolved_by, *earlier}):
            part = "password_linked"
        if part is not None:
            return PAID_CASE_CHANGE.format(did=did_of(part, who))
    return None


@dataclass(frozen=True)
class ReceiptAlert:
    """A follow-up whose household said it did not receive the relief (or only part), with what paid it."""

    followup_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    received: str
    received_amount: int | None
    paid_amount: int
    done_on: date
    recorded_by: str
    payee_name: str
    account: str  # masked
    batch_id: str
    batch_code: str
    changed: bool
    outside: bool
    payee_changed_by: list[str]
    barred: frozenset[str]  # who may not close it
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None
    outcome: str | None = None  # closed: received, misdirected, or unknown (closed before the question, 未记录)
    recovery_id: str | None = None  # misdirected: the recovery (追回) and the supplement (补发) it opened
    recovery_status: str | None = None
    supplement_id: str | None = None
    supplement_status: str | None = None
    supplement_opened_by: str | None = None
    supplement_confirmed_by: str | None = None
    second_needed: bool = False  # 核实已收到, account changed or payee outside: another reviewer confirms it (待复核)
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    second_barred: frozenset[str] = frozenset()  # who may not confirm it (the closer too; password links aside)
    returned: tuple[ReturnedClosing, ...] = ()  # its closings a second reviewer returned, oldest first
    # 撤回核实未收到 (`receipt_withdraw`): proposed by one county reviewer with a reason, waiting for another's
    # confirmation; `withdraw_barred`: who may not confirm it (password links aside); `withdrawn`: its 核实未收到
    # closings withdrawn, oldest first; `withdrawn_closers`: their closers, who may not close it again.
    withdraw_proposed_by: str | None = None
    withdraw_proposed_at: datetime | None = None
    withdraw_reason: str | None = None
    withdraw_barred: frozenset[str] = frozenset()
    withdrawn: tuple[WithdrawnClosing, ...] = ()
    # Migration 0057: the number of the proposal that waits (the forms name it: another one since is refused), who may
    # not decline it (驳回撤回, `receipt_withdraw.decline_bar`: as `withdraw_barred`, and who declined an earlier proposal
    # of the closing; the proposer drops it instead, 撤销提议; with the password links, `declines_refused`), and the
    # follow-up's proposals ended (dropped or declined), oldest first.
    withdraw_proposal: int | None = None
    decline_barred: frozenset[str] = frozenset()
    withdraw_ended: tuple[EndedProposal, ...] = ()
    # Of `withdraw_ended`, those of the current closing (`under_closings`): the page shows them under it, and each
    # withdrawn closing's under that closing (`WithdrawnClosing.ended`).
    closing_ended: tuple[EndedProposal, ...] = ()
    # recorded by a setter of the account alone and not yet confirmed (回访待县级复核): nobody closes it before
    alone_waits: bool = False

    @property
    def may_withdraw(self) -> bool:
        """A 核实未收到 whose supplement is in no batch and whose recovery is open: its withdrawal may be proposed
        (the service reads the repayments too)."""
        return (self.outcome == "misdirected" and self.supplement_status == "open"
                and self.recovery_status == "open")

    @property
    def second_why(self) -> str:
        """Why its 核实已收到 waits for a second look, as the list says it."""
        said = "，且".join(w for w, yes in (("收款账户已变更", self.changed), ("收款人不是本户成员", self.outside)) if yes)
        return said or ("此前的核实已被退回" if self.returned else "收款账户已变更或收款人不是本户成员")

    @property
    def second_waits(self) -> bool:
        """Closed as 核实已收到 where the account was changed (or the payee is no household member), not yet
        confirmed: still open (待复核)."""
        return self.second_needed and self.confirmed_by is None

    @property
    def supplement_waits(self) -> bool:
        """The supplement waits for a second county reviewer's confirmation (核实后确认补发)."""
        return self.supplement_status == "open" and self.supplement_confirmed_by is None


def _account(vault: Vault, item: PaymentItem, paid: _Paid) -> str:
    if item.payee_correction_id is not None:
        change = paid.changes.get(item.payee_correction_id)
        return mask_account(vault.open(change.account_number_enc, CORRECTION_ACCOUNT_COLUMN)) if change else ""
    if item.payee_check_id is not None:
        check = next((c for c in paid.checks.get(item.case_id, []) if c.id == item.payee_check_id), None)
        if check is not None and check.payee_account_enc is not None:
            return mask_account(vault.open(check.payee_account_enc, CHECK_ACCOUNT_COLUMN))
    return ""


def _barred(who: Involved, followup: Followup, earlier: frozenset[str] = frozenset()) -> frozenset[str]:
    """Whom `resolve` refuses the closing by what they did (before any password link); `earlier`: the closers of its
    returned closings."""
    return frozenset({*who.changers, *who.setters, *who.batch, followup.recorded_by, *earlier})


CURRENT = and_(FollowupReceiptReview.followup_id == Followup.id, STANDS)
"""A follow-up's current closing, to outer-join it by: the one neither returned nor withdrawn (one a follow-up, the
database's `uq_followup_receipt_review_current`); a returned one is history (`returned_closings`), and so is a
withdrawn one (`receipt_withdraw.withdrawn_closings`)."""

STILL_OPEN = or_(FollowupReceiptReview.id.is_(None),
                 and_(FollowupReceiptReview.second_needed.is_(True), FollowupReceiptReview.confirmed_by.is_(None)))
"""An alert not closed yet (outer-joined to its closing by `CURRENT`): none (never closed, or its closing returned),
or a 核实已收到 that waits for its second look."""


@dataclass(frozen=True)
class WithdrawnClosing:
    """A 核实未收到 closing withdrawn by two county reviewers (`receipt_withdraw.withdrawn_closings`): kept as it was,
    with who proposed it, when and why, and who confirmed it."""

    id: str
    resolved_by: str
    resolved_at: datetime
    note: str
    proposed_by: str
    proposed_at: datetime
    reason: str
    withdrawn_by: str
    withdrawn_at: datetime
    # its proposals that ended without a withdrawal (dropped or declined) before the one confirmed, oldest first
    # (`under_closings`)
    ended: tuple[EndedProposal, ...] = ()


def under_closings(withdrawn: tuple[WithdrawnClosing, ...], ended: tuple[EndedProposal, ...],
                   current: str | None) -> tuple[tuple[WithdrawnClosing, ...], tuple[EndedProposal, ...]]:
    """A follow-up's ended proposals (`receipt_withdraw.ended_proposals`) placed under the 核实未收到 closing each
    belongs to (its `review_id`), oldest first (by their number: one is proposed only once the one before ended): each
    withdrawn closing with its own (`WithdrawnClosing.ended`), and those of the current closing (`current`: its id, None
    when none stands). A page prints each under its closing, never all of them above the first."""
    def of(review_id: str | None) -> tuple[EndedProposal, ...]:
        return tuple(sorted((e for e in ended if review_id is not None and e.review_id == review_id),
                            key=lambda e: (e.proposal, e.ended_at, e.id)))

    return tuple(replace(w, ended=of(w.id)) for w in withdrawn), of(current)


@dataclass(frozen=True)
class ReturnedClosing:
    """A closing the second reviewer returned (退回重新核实): kept as it was, with who returned it, when and why."""

    id: str
    resolved_by: str
    resolved_at: datetime
    note: str
    outcome: str
    returned_by: str
    returned_at: datetime
    return_note: str


def returned_closings(session: Session, followup_ids: list[str]) -> dict[str, tuple[ReturnedClosing, ...]]:
    """The returned closings of `followup_ids`, oldest first, in one statement (a page's follow-ups at once)."""
    out: dict[str, list[ReturnedClosing]] = {}
    if followup_ids:
        for r in session.scalars(select(FollowupReceiptReview).where(
                FollowupReceiptReview.followup_id.in_(sorted(set(followup_ids))),
                FollowupReceiptReview.returned_by.is_not(None)).order_by(FollowupReceiptReview.returned_at,
                                                                          FollowupReceiptReview.id)):
            out.setdefault(r.followup_id, []).append(ReturnedClosing(
                id=r.id, resolved_by=r.resolved_by, resolved_at=r.resolved_at, note=r.note,
                outcome=r.outcome or "unknown", returned_by=r.returned_by or "",
                returned_at=r.returned_at or r.resolved_at, return_note=r.return_note or ""))
    return {k: tuple(v) for k, v in out.items()}


def returned_closers(session: Session, followup_id: str) -> frozenset[str]:
    """Who closed the follow-up's alert in a closing since returned: none of them closes it again (`resolve`), nor
    gives the second look at the closing that followed (`receipt_second.second_look_refusal`)."""
    return frozenset(session.scalars(select(FollowupReceiptReview.resolved_by).where(
        FollowupReceiptReview.followup_id == followup_id, FollowupReceiptReview.returned_by.is_not(None))))


def withdrawn_closers(session: Session, followup_id: str) -> frozenset[str]:
    """Who closed the follow-up's alert as 核实未收到 in a closing since withdrawn (撤回, `receipt_withdraw`): none of
    them closes it again (`resolve`), so one reviewer does not reopen the recovery and the supplement alone."""
    return frozenset(session.scalars(select(FollowupReceiptReview.resolved_by).where(
        FollowupReceiptReview.followup_id == followup_id, FollowupReceiptReview.withdrawn_at.is_not(None))))


ALERT_SEARCHED = (Case.number, Household.head_name, Case.village)
"""What the alerts' search box looks in: the case number, the household head's name, the village."""


def alert_query(principal: Principal, *, status: str = "open", county_code: str | None = None,
                q: str = "") -> Select[Any]:
    """The follow-ups answered "no" or "partly" within the caller's counties, newest first, each with its case, head,
    closing (if any) and the item paid: `open` (not yet closed), `resolved` or `all`; `q` in `ALERT_SEARCHED`."""
    stmt = (select(Followup, Case, Household.head_name, FollowupReceiptReview, Recovery.status,
                   SupplementaryPayment, PaymentItem)
            .join(Case, Case.id == Followup.case_id).join(Household, Household.id == Case.household_id)
            .join(PaymentItem, PaymentItem.id == Followup.payment_item_id)
            .outerjoin(FollowupReceiptReview, CURRENT)
            .outerjoin(Recovery, Recovery.id == FollowupReceiptReview.recovery_id)
            .outerjoin(SupplementaryPayment, SupplementaryPayment.id == FollowupReceiptReview.supplement_id)
            .where(Followup.received.in_(NOT_RECEIVED), FOLLOWUP_STANDS)
            .order_by(Followup.done_on.desc(), Followup.id.desc()))
    if status == "open":
        stmt = stmt.where(STILL_OPEN)
    elif status == "resolved":
        stmt = stmt.where(~STILL_OPEN)
    if county_code:
        stmt = stmt.where(Followup.county_code == county_code)
    if principal.counties:
        stmt = stmt.where(Followup.county_code.in_(principal.counties))
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, ALERT_SEARCHED))
    return stmt


def _alerts_of(session: Session, vault: Vault, rows: list[Any]) -> list[ReceiptAlert]:
    """The alerts of one page's rows: what paid them read for all at once (`_paid`), never one alert at a time."""
    from .receipt_second import second_barred  # the second look's module reads this one
    from .receipt_withdraw import decline_bar, ended_proposals, waiting_proposal, withdrawn_closings

    paid = _paid(session, [item for *_, item in rows])
    history = returned_closings(session, [f.id for f, *_ in rows])
    undone = withdrawn_closings(session, [f.id for f, *_ in rows])
    ended_of = ended_proposals(session, [f.id for f, *_ in rows])
    out = []
    for f, case, head, review, recovery_status, sup, item in rows:
        who = _involved(paid, item)
        returned = history.get(f.id, ())
        ended = ended_of.get(f.id, ())
        withdrawn, closing_ended = under_closings(undone.get(f.id, ()), ended, review.id if review else None)
        earlier = frozenset(r.resolved_by for r in returned)
        barred = second_barred(who, f, review, earlier) if review else frozenset()
        out.append(ReceiptAlert(
            followup_id=f.id, case_id=case.id, case_number=case.number, county_code=case.county_code, town=case.town,
            village=case.village, head_name=head, received=f.received or "", received_amount=f.received_amount,
            paid_amount=item.amount, done_on=f.done_on, recorded_by=f.recorded_by, payee_name=item.payee_name,
            account=_account(vault, item, paid), batch_id=item.batch_id, batch_code=who.batch_code,
            changed=who.changed, outside=who.outside, payee_changed_by=who.changed_by,
            barred=_barred(who, f, earlier) | {w.resolved_by for w in withdrawn},
            resolved_by=review.resolved_by if review else None, resolved_at=review.resolved_at if review else None,
            note=review.note if review else None, outcome=(review.outcome or "unknown") if review else None,
            recovery_id=review.recovery_id if review else None, recovery_status=recovery_status,
            supplement_id=sup.id if sup else None, supplement_status=sup.status if sup else None,
            supplement_opened_by=sup.opened_by if sup else None,
            supplement_confirmed_by=sup.confirmed_by if sup else None,
            second_needed=bool(review.second_needed) if review else False,
            confirmed_by=review.confirmed_by if review else None, confirmed_at=review.confirmed_at if review else None,
            second_barred=barred, returned=returned,
            withdraw_proposed_by=review.withdraw_proposed_by if review else None,
            withdraw_proposed_at=review.withdraw_proposed_at if review else None,
            withdraw_reason=review.withdraw_reason if review else None,
            withdraw_barred=(barred | {review.withdraw_proposed_by}
                             if review is not None and review.withdraw_proposed_by else barred),
            withdrawn=withdrawn,
            withdraw_proposal=waiting_proposal(review, ended),
            decline_barred=decline_bar(barred, review, ended) if review is not None else barred,
            withdraw_ended=ended, closing_ended=closing_ended, alone_waits=f.alone_waits))
    return out


def find_alerts(session: Session, principal: Principal, vault: Vault, *, status: str = "open",
                county_code: str | None = None, q: str = "", page: int = 1,
                page_size: int = PAGE_SIZE) -> Paged[ReceiptAlert]:
    """One numbered page of `alert_query` (the list page), in a fixed number of statements whatever its length."""
    found = page_of(session, alert_query(principal, status=status, county_code=county_code, q=q), page, page_size,
                    rows=True)
    return Paged(items=_alerts_of(session, vault, found.items), total=found.total, page=found.page,
                 pages=found.pages, page_size=found.page_size)


def alerts(session: Session, principal: Principal, vault: Vault, *, status: str = "open",
           county_code: str | None = None, q: str = "", limit: int = PAGE_SIZE,
           offset: int = 0) -> tuple[list[ReceiptAlert], int]:
    """`limit` alerts from `offset` (the API) and how many there are in all."""
    stmt = alert_query(principal, status=status, county_code=county_code, q=q)
    total = count_of(session, stmt)
    rows = list(session.execute(stmt.limit(limit).offset(offset)).tuples())
    return _alerts_of(session, vault, rows), total


def open_count(session: Session, principal: Principal) -> int:
    """How many alerts wait within the caller's counties: the county reviewer's home page card."""
    stmt = (select(func.count()).select_from(Followup)
            .outerjoin(FollowupReceiptReview, CURRENT)
            .where(Followup.received.in_(NOT_RECEIVED), FOLLOWUP_STANDS, STILL_OPEN))
    if principal.counties:
        stmt = stmt.where(Followup.county_code.in_(principal.counties))
    return int(session.scalar(stmt) or 0)


ALONE_FIRST = ("这次回访由登记收款账户的人员在本县没有其他核查员时独自录入，待县级复核：先由未参与支付的县级审核人员"
               "确认这次回访（回访待县级复核），再核实未收到救助金")
ALONE_REFUSED = "这次回访已被县级复核退回，须重新回访；请核实重新录入的那次回访"
OUTCOME_MISSING = "请选择核实结果：核实已收到（农户误会或钱已找到），或核实未收到（钱付到了别处，将追回并补发）"


NOT_PAID = ("案件已不是“已支付”状态（已撤销、重新认定或转入其他流程），不能核实为未收到并追回、补发；"
            "请先查明案件现状，或核实已收到后另行处理")
PARTLY_NO_AMOUNT = ("农户说部分收到，但这次回访没有记录户称收到的金额，无法确定应追回、补发多少：不能核实为未收到。"
                    "请重新回访并记录收到的金额，再核实那次回访")


def resolve(session: Session, followup_id: str, note: str, *, principal: Principal, clock: Clock,
            outcome: str | None = None) -> FollowupReceiptReview:
    """A county reviewer closes the alert with what they found: not one who took part in paying the item (asked for or
    approved its payee change, or prepared, approved, signed off or released its batch), nor who recorded the follow-up,
    nor who closed it in a closing since returned (退回, `receipt_second.return_closing`) or withdrawn (撤回,
    `receipt_withdraw.confirm`), nor an account linked to one of them by a password (403); once, while its closing
    stands (409: a returned or withdrawn one no longer does); with a note and an outcome (422). `received` (核实已收到)
    closes it (waiting for a second look where the account was changed, the payee is no household member, or a closing
    of it was returned: two reviewers disagreed); `misdirected` (核实未收到: the relief, or the part not received, went
    elsewhere) also opens, in this transaction, the recovery (追回) of what the household did not get and a supplementary
    payment (补发) of it to the household, which another county reviewer confirms before a batch pays it, and only to
    another account than the one this item paid. A follow-up answered "partly" with no amount is not closed as
    misdirected (422, `PARTLY_NO_AMOUNT`): the whole sum would be recovered and paid again; a new follow-up records the
    amount and is closed instead. Nor one of a case no longer paid (409, `NOT_PAID`)."""
    if not principal.has(*RESOLVERS):
        raise Forbidden("只有县级审核人员可以核实农户未收到救助金的回访")
    f = county_followup(session, followup_id, principal)
    case = case_locked(session, f, principal)
    if f.received not in NOT_RECEIVED:
        raise InvalidState("这次回访中农户没有说未收到救助金，无需核实")
    if f.alone_refused_at is not None:
        raise InvalidState(ALONE_REFUSED)
    if f.alone_waits:
        raise InvalidState(ALONE_FIRST)
    if session.scalar(select(FollowupReceiptReview.id).where(FollowupReceiptReview.followup_id == f.id, STANDS)):
        raise InvalidState("这次回访的未收到救助金已经核实过了")
    item = session.get(PaymentItem, f.payment_item_id)
    if item is None:
        raise InvalidState("这次回访所对应的支付明细已不存在，无法核实")
    who = involved(session, item)
    earlier = returned_closers(session, f.id)
    undone = withdrawn_closers(session, f.id)
    part = ("followup_recorded" if principal.id == f.recorded_by else
            "receipt_returned" if principal.id in earlier else
            "receipt_withdrawn" if principal.id in undone else who.part_of(principal.id))
    if part is None and password_links(session, principal.id, _barred(who, f, earlier) | undone):
        part = "password_linked"  # the roster's rule: linked by a password to one who may not close it
    if part is not None and part != "check_officer":
        exc = Forbidden(f"未收到救助金的核实须由其他县级审核人员办理：您{did_of(part, who)}")
        raise refusals.refused(exc, principal, "receipt_review", [case.household_id], case_id=case.id, clock=clock)
    recusal.refuse_principal(session, principal, [case.household_id], step="receipt_review", case_id=case.id,
                             clock=clock)
    text = note.strip()
    problems = []
    if outcome not in OUTCOMES:
        problems.append(FieldError("outcome", OUTCOME_MISSING))
    if outcome == "misdirected" and f.received == "partly" and f.received_amount is None:
        problems.append(FieldError("outcome", PARTLY_NO_AMOUNT))
    if not text:
        problems.append(FieldError("note", "请填写核实情况（如查询银行流水、与户主核对的结果）"))
    elif len(text) > MAX_NOTE:
        problems.append(FieldError("note", f"核实情况不能超过 {MAX_NOTE} 个字"))
    if problems:
        raise ValidationFailed(problems)
    row = FollowupReceiptReview(id=new_id("frr"), followup_id=f.id, case_id=case.id, county_code=case.county_code,
                                note=text, outcome=outcome, resolved_by=principal.id, resolved_at=clock.now(),
                                second_needed=outcome == "received" and (who.changed or who.outside or bool(earlier)))
    missing = 0
    if outcome == "misdirected":
        if case.status != "paid":
            raise InvalidState(NOT_PAID)
        got = f.received_amount or 0
        missing = item.amount - got
        if missing <= 0:
            raise InvalidState("农户称收到的金额不少于支付金额，没有未收到的部分可追回、补发")
        source = {"followup_id": f.id, "payment_item_id": item.id}
        rec = recoveries.open_recovery(session, case, None, paid=item.amount, due=got, principal=principal,
                                       clock=clock, source=source)
        sup = consequences.open_supplement(session, case, missing, item.determination_id, round_id=None,
                                           principal=principal, clock=clock, source=source)
        row.recovery_id, row.supplement_id = rec.id, sup.id
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(RESOLVERS),
                 action="followup.receipt_resolved", subject=f.id,
                 payload={"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
                          "received": f.received, "outcome": outcome, "second_needed": row.second_needed,
                          "note_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                          **({"amount": format_yuan(missing), "recovery_id": row.recovery_id,
                              "supplement_id": row.supplement_id} if missing else {})},
                 county_code=case.county_code, clock=clock)
    return row


def confirm_supplement(session: Session, followup_id: str, *, principal: Principal, clock: Clock) -> dict[str, Any]:
    """Another county reviewer confirms the supplementary payment a misdirected closing of `followup_id` opened
    (`sampling.consequences.confirm_supplement`: never the one who opened it, nor one who took part in the case's
    check; 404 outside the caller's counties)."""
    f = county_followup(session, followup_id, principal)
    sup = session.scalar(select(FollowupReceiptReview.supplement_id).where(FollowupReceiptReview.followup_id == f.id,
                                                                           STANDS))
    if sup is None:
        raise InvalidState("这次回访没有核实为未收到，没有待确认的补发")
    return consequences.confirm_supplement(session, sup, principal=principal, clock=clock)


@dataclass(frozen=True)
class CaseFollowup:
    """A follow-up as the case page shows it: whether the household received the relief, and the county's finding."""

    id: str
    done_on: date
    method: str
    received: str  # yes, no, partly; unknown before the question was asked (未询问)
    received_amount: int | None
    recorded_by: str
    resolved_by: str | None
    resolved_at: datetime | None
    note: str | None
    outcome: str | None = None  # closed: received, misdirected, or unknown (closed before the question, 未记录)
    second_waits: bool = False  # closed as 核实已收到 of a changed account (or outside payee), not yet confirmed (待复核)
    confirmed_by: str | None = None
    returned: tuple[ReturnedClosing, ...] = ()  # closings a second reviewer returned (退回), oldest first
    withdrawn: tuple[WithdrawnClosing, ...] = ()  # 核实未收到 closings withdrawn by two reviewers (撤回), oldest first
    # proposals to withdraw a 核实未收到 closing that ended without a withdrawal (撤销提议, 驳回撤回), oldest first; of
    # them, the current closing's (`under_closings`; a withdrawn closing's are its `ended`)
    withdraw_ended: tuple[EndedProposal, ...] = ()
    closing_ended: tuple[EndedProposal, ...] = ()
    # recorded by a setter of the account alone (migration 0065): `waits` (待县级复核), `confirmed` or `refused`
    # (退回重新回访: kept, not counted), None when recorded by anyone else
    alone: str | None = None

    @property
    def waiting(self) -> bool:
        """An open 未收到 alert (a follow-up refused at the county's second look raises none: it answers nothing)."""
        return self.received in NOT_RECEIVED and self.resolved_by is None and self.alone != "refused"


def for_case(session: Session, case_id: str) -> list[CaseFollowup]:
    """The case's follow-ups, oldest first, each with the county's current finding when one was recorded, the
    findings returned or withdrawn before it, and the proposals to withdraw one that ended without a withdrawal
    (dropped or declined, as the alerts page shows them)."""
    stmt = (select(Followup, FollowupReceiptReview)
            .outerjoin(FollowupReceiptReview, CURRENT)
            .where(Followup.case_id == case_id).order_by(Followup.done_on, Followup.recorded_at))
    from .receipt_withdraw import ended_proposals, withdrawn_closings  # the withdrawal's module reads this one

    rows = session.execute(stmt).tuples().all()
    history = returned_closings(session, [f.id for f, _ in rows])
    undone = withdrawn_closings(session, [f.id for f, _ in rows])
    ended = ended_proposals(session, [f.id for f, _ in rows])
    out = []
    for f, r in rows:
        withdrawn, closing_ended = under_closings(undone.get(f.id, ()), ended.get(f.id, ()), r.id if r else None)
        out.append(CaseFollowup(
            id=f.id, done_on=f.done_on, method=f.method, received=f.received or "unknown",
            received_amount=f.received_amount, recorded_by=f.recorded_by,
            resolved_by=r.resolved_by if r else None, resolved_at=r.resolved_at if r else None,
            note=r.note if r else None, outcome=(r.outcome or "unknown") if r else None,
            second_waits=bool(r and r.second_needed and r.confirmed_by is None),
            confirmed_by=r.confirmed_by if r else None, returned=history.get(f.id, ()),
            withdrawn=withdrawn, withdraw_ended=ended.get(f.id, ()), closing_ended=closing_ended,
            alone=alone_state(f)))
    return out


def alone_state(f: Followup) -> str | None:
    """Where a follow-up recorded by a setter alone stands (`waits`, `confirmed`, `refused`), None for another's."""
    if not f.setter_alone:
        return None
    return "refused" if f.alone_refused_at else "confirmed" if f.alone_confirmed_by else "waits"
