"""An insurer supervisor's assignment, with a reason, of a payment's follow-up to a setter of its account (指派回访).

A setter's follow-up refused at the county's second look (`alone_look.refuse`) is due again, and its recorder does not
record it again (`service.REFUSED_AGAIN`); in a county still without another field officer it would wait for one. The
supervisor may instead assign it, with a reason, to a setter of the account (the officers and the recorder of the
check that set it, `receipt.Involved.setters`) while the county has no one else (`Involved.alone`): never to one who
took any other part in paying it (changed the account, moved the batch, or checked a case whose account was changed)
nor to an account linked to such a one by a password, and never by a supervisor who took part or is linked by a
password to those who did or to the officer. The officer assigned may then record it (`assigned`), and the follow-up
is a setter's like any other: it waits for the county's second look (`setter_alone`). The reason is stored; the audit
entry holds its SHA-256."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.workflow import load_case
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..payments.models import PaymentItem
from ..roster.service import password_links
from ..store.base import new_id
from ..store.tables import Household, User
from . import receipt
from .models import FOLLOWUP_STANDS, Followup, FollowupAssignment

ASSIGNERS = ("insurer_supervisor",)
MAX_REASON = 2000


class AssignInput(msgspec.Struct, forbid_unknown_fields=True):
    payment_item_id: str
    officer_id: str
    reason: str = ""  # why this setter follows it up (指派理由); missing or blank: 422 naming it


def assigned_items(session: Session, item_ids: list[str], user_id: str) -> dict[str, str]:
    """Of `item_ids`, those assigned to `user_id` (item → the assignment's id): an assignment not used up yet (no
    follow-up recorded under it; one recorded and then refused needs another assignment)."""
    wanted = sorted(set(item_ids))
    out: dict[str, str] = {}
    for at in range(0, len(wanted), receipt.HELD_CHUNK):
        out.update(session.execute(select(FollowupAssignment.payment_item_id, FollowupAssignment.id).where(
            FollowupAssignment.payment_item_id.in_(wanted[at:at + receipt.HELD_CHUNK]),
            FollowupAssignment.officer_id == user_id, FollowupAssignment.followup_id.is_(None))).tuples().all())
    return out


def assigned(session: Session, item_id: str, user_id: str) -> str | None:
    """The assignment letting `user_id` record the follow-up of `item_id` (`assigned_items`), or None."""
    return assigned_items(session, [item_id], user_id).get(item_id)


def assign(session: Session, data: AssignInput, *, principal: Principal, clock: Clock) -> FollowupAssignment:
    """Assign the follow-up of a settled payment to a setter of its account, with a reason: an insurer supervisor of
    the case's county (403; another county's payment 404); the payment settled and not followed up (409); the officer
    an active field officer of the county (422 naming `officer_id`) who set the account and took no other part (403),
    while the county has no one else (409); not by a supervisor who took part in paying it, nor linked by a password
    to those who did or to the officer (403)."""
    if not principal.has(*ASSIGNERS):
        raise Forbidden("只有保险公司主管可以指派回访")
    item = session.get(PaymentItem, data.payment_item_id)
    if item is None:
        raise ValidationFailed.one("payment_item_id", "没有这笔支付")
    case = load_case(session, item.case_id, principal, for_update=True)
    if item.status != "succeeded" or item.settled_at is None:
        raise InvalidState("这笔保障金尚未到账，还不需要回访")
    if session.scalar(select(Followup.id).where(Followup.payment_item_id == item.id, FOLLOWUP_STANDS)):
        raise InvalidState("这笔支付已经回访过了（或回访待县级复核），无需指派")
    if assigned(session, item.id, data.officer_id):
        raise InvalidState("这笔支付的回访已经指派给该核查员，尚未录入")
    problems = []
    text = (data.reason or "").strip()
    if not text:
        problems.append(FieldError("reason", "请填写指派理由（如本县没有其他核查员、原回访被退回的情况）"))
    elif len(text) > MAX_REASON:
        problems.append(FieldError("reason", f"指派理由不能超过 {MAX_REASON} 个字"))
    officer = session.get(User, data.officer_id)
    if (officer is None or not officer.active or "field_officer" not in (officer.roles or [])
            or (officer.counties and case.county_code not in officer.counties)):
        problems.append(FieldError("officer_id", "请选择本县在岗的核查员"))
    if problems:
        raise ValidationFailed(problems)
    assert officer is not None
    who = receipt.involved(session, item)
    barred = receipt.barred_from_followup(who)
    part = receipt.refused_part(replace(who, alone=False), officer.id, password_links(session, officer.id, barred))
    if who.changed or who.outside:
        raise Forbidden(f"不能指派：该案件{receipt.why_of(who)}，须由未参与收款人变更、入户核查和支付的核查员回访")
    if part not in receipt.SETTERS:
        raise (InvalidState("该核查员可以直接录入这次回访，无需指派") if part is None else
               Forbidden(f"不能指派该核查员：他{receipt.did_of(part, who)}，只能指派登记收款账户的人员"))
    if password_links(session, officer.id, barred - set(who.setters)):
        # a setter whose account is linked by a password to another who paid it (the batch's people, a changer): the
        # recording would refuse him, so the assignment would only stand unused and lift his bars on his own list
        raise Forbidden(f"不能指派该核查员：他{receipt.did_of('password_linked', who)}")
    if not who.alone:
        raise InvalidState("本县还有其他可以回访的核查员：请由他们回访，不指派登记收款账户的人员")
    mine = who.part_of(principal.id)
    if mine is None and password_links(session, principal.id, barred | {officer.id}):
        mine = "password_linked"
    if mine is not None:
        raise Forbidden(f"指派回访须由未参与这笔保障金支付的主管办理：您{receipt.did_of(mine, who)}")
    row = FollowupAssignment(id=new_id("fas"), payment_item_id=item.id, case_id=case.id, county_code=case.county_code,
                             officer_id=officer.id, reason=text, assigned_by=principal.id, assigned_at=clock.now())
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(ASSIGNERS), action="followup.assigned",
                 subject=row.id, payload={"case_id": case.id, "payment_item_id": item.id, "officer_id": officer.id,
                                          "part": part, "reason_sha256": hashlib.sha256(text.encode()).hexdigest()},
                 county_code=case.county_code, clock=clock)
    return row


@dataclass(frozen=True)
class AssignForm:
    """What the assignment's page shows: the payment's case and the setters of its account the supervisor may choose
    (active field officers of the county), or why nothing may be assigned now (`said`)."""

    payment_item_id: str
    case_id: str
    case_number: str
    head_name: str
    officers: list[tuple[str, str]]  # (user id, display name)
    said: str | None
    assigned: list[str] = field(default_factory=list)  # the names of those it stands assigned to, not yet recorded


def form_of(session: Session, principal: Principal, payment_item_id: str) -> AssignForm:
    """The assignment page's read (404 for a payment outside the reader's counties or unknown)."""
    item = session.get(PaymentItem, payment_item_id)
    if item is None:
        raise NotFound("没有这笔支付")
    case = load_case(session, item.case_id, principal)
    head = session.scalar(select(Household.head_name).where(Household.id == case.household_id)) or ""
    who = receipt.involved(session, item)
    said = None
    if session.scalar(select(Followup.id).where(Followup.payment_item_id == item.id, FOLLOWUP_STANDS)):
        said = "这笔支付已经回访过了（或回访待县级复核），无需指派"
    elif who.changed or who.outside:
        said = f"该案件{receipt.why_of(who)}，须由未参与收款人变更、入户核查和支付的核查员回访，不能指派"
    elif not who.alone:
        said = "本县还有其他可以回访的核查员：请由他们回访，不指派登记收款账户的人员"
    standing = set(session.scalars(select(FollowupAssignment.officer_id).where(
        FollowupAssignment.payment_item_id == item.id, FollowupAssignment.followup_id.is_(None))))
    setters = [] if said else [
        (u.id, u.display_name or u.username) for u in session.scalars(
            select(User).where(User.id.in_(sorted(who.setters))).order_by(User.username))
        if u.active and "field_officer" in (u.roles or []) and (not u.counties or case.county_code in u.counties)]
    assigned = [name for uid, name in setters if uid in standing]  # sent back after assigning: said, not offered
    return AssignForm(item.id, case.id, case.number, head, [o for o in setters if o[0] not in standing], said,
                      assigned)
