"""The county's second look of a follow-up recorded by a setter of the payee account alone (回访待县级复核).

Where the county has no field officer left outside those who set the account at the door and their linked accounts
(`receipt.Involved.alone`), a setter records the follow-up (`setter_alone`). That follow-up is not final: it is
listed for the county reviewers of its county (`find`, the home card counting those the reader may decide,
`waiting`), and one who took no part in paying the item confirms it (确认, `confirm`) or refuses it with a reason
(退回, `refuse`: the reason stored, the audit entry holding its SHA-256). Refused, the follow-up is kept as it was and
answers nothing: the payment is due again, and its recorder does not record it again (`service.REFUSED_AGAIN`).
Until confirmed a "yes" does not count as received (`summary`), and a "no" or "partly" is not closed by anyone
(`receipt.resolve`: the alert waits for the follow-up to be confirmed first).

Who may not give the second look is one rule (`look_refusal`): the follow-up's recorder, whoever took part in paying
the item (set or changed its account, prepared, approved, signed off or released its batch, or checked the case:
`receipt.Involved.part_of`), and an account linked to any of them by a password (the roster's rule)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..payments.models import PaymentItem
from ..recusal import guard as recusal, refusals
from ..roster.service import password_links
from ..second_person import Waiting, waiting as second_waiting
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Household
from . import receipt
from .models import ALONE_WAITS, Followup, FollowupReceiptReview
from .receipt import Involved, barred_from_followup, did_of

LOOKERS = ("county_reviewer",)
READERS = ("county_reviewer", "auditor")
CONFIRM_STEP = "followup_alone_confirm"
REFUSE_STEP = "followup_alone_refuse"
MAX_REASON = 2000
REFUSED_PART = "回访待县级复核须由未参与这笔保障金支付的县级审核人员办理：您{did}"
NO_REASON = "请填写退回的理由（如电话向户主本人核对的结果、与回访记录不符之处）"
SEARCHED = (Household.head_name, Case.number, Case.town, Case.village)


def barred(who: Involved, f: Followup) -> frozenset[str]:
    """Whom `look_refusal` refuses by what they did (before any password link): everyone `barred_from_followup`
    bars, every officer and recorder of the case's checks, and the follow-up's recorder."""
    return barred_from_followup(who) | who.officers | {f.recorded_by}


def look_refusal(who: Involved, f: Followup, user_id: str, linked: frozenset[str] | set[str]) -> str | None:
    """What `user_id` did that bars them from the second look (a DID key), or None when they may. `linked`: the
    accounts of `barred(who, f)` linked to `user_id` by a password."""
    if user_id == f.recorded_by:
        return "followup_recorded"
    part = who.part_of(user_id)
    if part is not None:
        return part
    return "password_linked" if linked else None


def _involved_of(session: Session, rows: Sequence[Followup]) -> dict[str, Involved]:
    """Each follow-up's `Involved`, read for all at once."""
    items = list(session.scalars(select(PaymentItem).where(
        PaymentItem.id.in_(sorted({f.payment_item_id for f in rows}))))) if rows else []
    return receipt.involved_many(session, items)


def refusals_of(session: Session, rows: Sequence[Followup], principal: Principal) -> dict[str, str | None]:
    """Why the reader may not give each follow-up's second look (in Chinese), None when they may: the list's marks and
    the home card's count (`second_person.waiting`), in a fixed number of statements."""
    whos = _involved_of(session, rows)
    everyone = {p for f in rows for p in barred(whos[f.payment_item_id], f)}
    links = password_links(session, principal.id, everyone) if everyone else set()
    out: dict[str, str | None] = {}
    for f in rows:
        who = whos[f.payment_item_id]
        part = look_refusal(who, f, principal.id, set(links) & barred(who, f))
        out[f.id] = None if part is None else "您" + did_of(part, who)
    return out


def waiting(session: Session, principal: Principal) -> Waiting:
    """The follow-ups waiting for the county's second look that the reader may decide (`mine`, the home card) and how
    many wait for someone else, in the reader's counties."""
    return second_waiting(session, principal, select(Followup).where(ALONE_WAITS).order_by(Followup.recorded_at,
                                                                                           Followup.id),
                          Followup.county_code, refusals_of)


@dataclass(frozen=True)
class AloneRow:
    """A follow-up recorded by a setter alone, as the list shows it."""

    followup_id: str
    payment_item_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    done_on: date
    method: str
    received: str
    received_amount: int | None
    note: str | None
    recorded_by: str
    recorded_at: datetime
    state: str  # waits, confirmed, refused
    decided_by: str | None
    decided_at: datetime | None
    refuse_reason: str | None
    refused: str | None  # why the reader may not decide it (waiting ones only)


VIEWS = ("", "done")  # waiting (oldest first), or decided (newest first)


def find(session: Session, principal: Principal, *, view: str = "", q: str = "", only: list[str] | None = None,
         page: int = 1, page_size: int = PAGE_SIZE) -> Paged[AloneRow]:
    """One page of the follow-ups recorded by a setter alone in the reader's counties: waiting (`view` ""), oldest
    first, or decided (`done`), newest first; `q` in the head's name, case number, town or village; `only`: those
    ids (the `?to_decide=1` list: `waiting(...).mine`)."""
    stmt = (select(Followup, Case, Household.head_name).join(Case, Case.id == Followup.case_id)
            .join(Household, Household.id == Case.household_id).where(Followup.setter_alone.is_(True)))
    if view == "done":
        stmt = stmt.where(~ALONE_WAITS).order_by(Followup.recorded_at.desc(), Followup.id.desc())
    else:
        stmt = stmt.where(ALONE_WAITS).order_by(Followup.recorded_at, Followup.id)
    if principal.counties:
        stmt = stmt.where(Followup.county_code.in_(sorted(principal.counties)))
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, SEARCHED))
    if only is not None:
        stmt = stmt.where(Followup.id.in_(sorted(only) or [""]))
    found = page_of(session, stmt, page, page_size, rows=True)
    rows = [f for f, *_ in found.items]
    said = refusals_of(session, [f for f in rows if f.alone_waits], principal)
    items = [AloneRow(
        followup_id=f.id, payment_item_id=f.payment_item_id, case_id=case.id, case_number=case.number, county_code=case.county_code, town=case.town,
        village=case.village, head_name=head, done_on=f.done_on, method=f.method, received=f.received or "unknown",
        received_amount=f.received_amount, note=f.note, recorded_by=f.recorded_by, recorded_at=f.recorded_at,
        state=receipt.alone_state(f) or "waits", decided_by=f.alone_confirmed_by or f.alone_refused_by,
        decided_at=f.alone_confirmed_at or f.alone_refused_at, refuse_reason=f.alone_refuse_reason,
        refused=said.get(f.id)) for f, case, head in found.items]
    return Paged(items=items, total=found.total, page=found.page, pages=found.pages, page_size=found.page_size)


def _waiting_one(session: Session, followup_id: str, principal: Principal, *, step: str,
                 clock: Clock) -> tuple[Followup, Case]:
    """The follow-up waiting for its second look (locked with its case), once the caller is found allowed to give
    it: a county reviewer (403), of its county (404), not one `look_refusal` names (403, kept on 回避拦截记录 under
    `step`) nor a relative (回避); one not recorded by a setter alone, or decided already: 409."""
    if not principal.has(*LOOKERS):
        raise Forbidden("只有县级审核人员可以复核登记收款账户的人员独自录入的回访")
    f = receipt.county_followup(session, followup_id, principal)
    case = receipt.case_locked(session, f, principal)
    session.refresh(f, with_for_update=True)
    if not f.setter_alone:
        raise InvalidState("这次回访不是登记收款账户的人员独自录入的，无需县级复核")
    if f.alone_confirmed_by is not None:
        raise InvalidState("这次回访已经县级复核确认过了")
    if f.alone_refused_at is not None:
        raise InvalidState("这次回访已被县级复核退回，须重新回访")
    item = session.get(PaymentItem, f.payment_item_id)
    if item is None:
        raise InvalidState("这次回访所对应的支付明细已不存在，无法复核")
    who = receipt.involved(session, item)
    linked = password_links(session, principal.id, barred(who, f))
    part = look_refusal(who, f, principal.id, linked)
    if part is not None:
        exc = Forbidden(REFUSED_PART.format(did=did_of(part, who)))
        raise refusals.refused(exc, principal, step, [case.household_id], case_id=case.id, clock=clock)
    recusal.refuse_principal(session, principal, [case.household_id], step=step, case_id=case.id, clock=clock)
    return f, case


def _payload(f: Followup, case: Case) -> dict[str, Any]:
    return {"case_id": case.id, "followup_id": f.id, "payment_item_id": f.payment_item_id,
            "recorded_by": f.recorded_by, "received": f.received}


def confirm(session: Session, followup_id: str, *, principal: Principal, clock: Clock) -> Followup:
    """A county reviewer who took no part confirms a follow-up a setter recorded alone (确认): it is final, its
    "yes" counts as received and its alert, if any, may be closed. 403 to whoever `look_refusal` names (kept on
    回避拦截记录) and to a relative; 409 once decided; 404 outside the reader's counties."""
    f, case = _waiting_one(session, followup_id, principal, step=CONFIRM_STEP, clock=clock)
    f.alone_confirmed_by, f.alone_confirmed_at = principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(LOOKERS), action="followup.alone_confirmed",
                 subject=f.id, payload=_payload(f, case), county_code=case.county_code, clock=clock)
    return f


def refuse(session: Session, followup_id: str, reason: str, *, principal: Principal, clock: Clock) -> Followup:
    """A county reviewer who took no part refuses a follow-up a setter recorded alone, with a reason (退回, 422
    without one): it is kept as it was and answers nothing; the payment is due again for another officer (or, once
    the supervisor's assignment exists, one assigned). The same refusals as `confirm`; a follow-up whose 未收到救助金
    alert has a closing on record is not refused (409: its finding stands on it)."""
    f, case = _waiting_one(session, followup_id, principal, step=REFUSE_STEP, clock=clock)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed([FieldError("reason", NO_REASON)])
    if len(text) > MAX_REASON:
        raise ValidationFailed([FieldError("reason", f"退回理由不能超过 {MAX_REASON} 个字")])
    if session.scalar(select(FollowupReceiptReview.id).where(FollowupReceiptReview.followup_id == f.id).limit(1)):
        raise InvalidState("这次回访的未收到救助金已有县级核实记录，不能退回；请确认这次回访")
    f.alone_refused_by, f.alone_refused_at, f.alone_refuse_reason = principal.id, clock.now(), text
    session.flush()
    audit.append(session, actor=principal.id, role=principal.acting_role(LOOKERS), action="followup.alone_refused",
                 subject=f.id, payload={**_payload(f, case),
                                        "reason_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()},
                 county_code=case.county_code, clock=clock)
    return f
