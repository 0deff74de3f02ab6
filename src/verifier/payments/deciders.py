"""Who may approve a payment batch, sign it off (or refuse to) for the county, or release it: the one rule the steps
refuse by (`service.approve`, `service.county_signoff`, `service.refuse_signoff`, `service.release`) and the home
cards 待审批批次, 待县级签批批次 and 待发放批次 count by (`batch_list.waiting`, what /payments?todo=…&to_decide=1 lists),
asked for any number of batches at once in a fixed number of statements, reading only those batches' cases' payee
changes and checks, nothing decrypted but a later check's account stored without its blind index.

A batch of the caller's counties, not prepared by the caller (nor approved by them, to sign off), no item of it taken
out by them (to approve or sign off), no payee it pays changed by their hand (`payees.payee_refusal`: a payee change
requested or approved, a later check naming another payee recorded or confirmed), no account it pays set by them (an
officer or the recorder of the check that named it, `account_setters`), their account linked by a password to none of
those (`roster.service.password_links`), and no household it pays one they are a member or a declared
relative of (回避, `recusal.guard.recused_cases`). What the batch's state refuses to anyone (the contract not
accepted, a case held, an account held, the fund short) is `batch_stops`'s to say: the card counts such a batch
apart, as one nobody can take now."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..clock import Clock
from ..domain.errors import Forbidden, ValidationFailed
from ..recusal import guard as recusal
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..store.vault import Vault
from . import account_setters, payees
from .models import PaymentBatch, PaymentItem

VERBS = {"approve": "approve", "signoff": "sign off", "release": "release"}  # a `batch_list.TODO` → the step as
# `payees.BATCH_STEPS` says it
STEP_NAMES = payees.BATCH_STEP_NAMES  # on 回避拦截记录

OWN_BATCH = "按“四眼原则”，制单人不能审批自己制作的批次，须由另一名财务人员审批。"
OWN_BATCH_RELEASE = "按“四眼原则”，批次 {code} 由您制作，须由其他财务人员发放"
REMOVED_APPROVE = "您移出过本批次的明细：按“四眼原则”，须由另一名财务人员审批。"
REMOVED_SIGNOFF = "您移出过本批次的明细：按“四眼原则”，县级签批须由其他县级复核人员办理。"
SIGNOFF_FOUR_EYES = "按“四眼原则”，县级签批须由既未制单、也未审批本批次的人员办理。"
NOT_OF_COUNTY = "支付批次不存在"  # another county's batch: as the step's 404 says it
RECUSED_FROM_BATCH = ("回避：本批次中有案件的家庭成员与您存在回避关系（与本户成员存在回避关系），您不能审批、签批或发放本批次："
                      "请交由其他人员办理")
LINKED_TO_BATCH = ("按“四眼原则”，您的账号与本批次{part}的账号有密码关联" + PASSWORD_LINK
                   + "，按职责分离规定不能{act}批次 {code}，须由其他{others}办理。")


@dataclass(frozen=True)
class Refusal:
    """Why the caller may not take the step on a batch: `said` (Chinese); with `linked`, a password link kept on
    回避拦截记录 when refused; with `recused`, the households of the batch the caller is tied to (回避, 422)."""

    said: str | Callable[[], str]  # made when needed: counting reads no case number
    linked: recusal_refusals.LinkedPart | None = None
    recused: tuple[str, ...] = ()

    def text(self) -> str:
        return self.said if isinstance(self.said, str) else self.said()

    def error(self, session: Session, principal: Principal, verb: str, clock: Clock | None) -> BaseException:
        """The refusal the step raises (403, or 422 for 回避), carrying its trace for 回避拦截记录."""
        step = STEP_NAMES[verb]
        if self.linked is not None:
            return recusal_refusals.linked_refusal(session, principal, step, self.linked, clock=clock)
        if self.recused:
            return recusal_refusals.refused(ValidationFailed.one("recusal", self.text()), principal, step,
                                            list(self.recused), clock=clock)
        return Forbidden(self.text())


def _removers(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """Per batch, who took items out of it since it was prepared."""
    out: dict[str, list[str]] = {}
    for batch_id, who in session.execute(select(PaymentItem.batch_id, PaymentItem.removed_by).where(
            PaymentItem.batch_id.in_(ids), PaymentItem.removed_by.is_not(None)).distinct().order_by(
            PaymentItem.batch_id, PaymentItem.removed_by)).tuples():
        if who and batch_id:
            out.setdefault(batch_id, []).append(who)
    return out


def _recused(session: Session, principal: Principal, ids: Sequence[str], clock: Clock | None) -> dict[str, list[str]]:
    """Per batch, the households it pays that the caller is a member or a declared relative of (the caller's ties
    read first: nothing for a caller without)."""
    live = select(PaymentItem.case_id).where(PaymentItem.batch_id.in_(ids), PaymentItem.status != "cancelled")
    tied = recusal.recused_cases(session, principal, live, clock)
    if not tied:
        return {}
    out: dict[str, set[str]] = {}
    for batch_id, case_id in session.execute(select(PaymentItem.batch_id, PaymentItem.case_id).where(
            PaymentItem.batch_id.in_(ids), PaymentItem.status != "cancelled",
            PaymentItem.case_id.in_(sorted(tied)))).tuples():
        out.setdefault(batch_id or "", set()).add(tied[case_id])
    return {b: sorted(h) for b, h in out.items()}


def refusals(session: Session, batches: Sequence[PaymentBatch], principal: Principal, verb: str, vault: Vault,
             clock: Clock | None = None) -> dict[str, Refusal | None]:
    """Per batch, why the caller may not `verb` it ("approve" or "sign off"; its status aside), or None: the first
    of its preparer (and approver, to sign off), who took items out, a password link to one of them, a hand in a
    payee it pays (or a link to one), who set an account it pays (`account_setters`, or a link to one), 回避. In a
    fixed number of statements whatever the batches' count."""
    ids = sorted({b.id for b in batches})
    if not ids:
        return {}
    removers = _removers(session, ids)
    hands = payees.payee_hands_of(session, ids, vault)
    setters = account_setters.setters_of(session, ids, vault)
    people = ({b.prepared_by for b in batches} | {b.approved_by or "" for b in batches}
              | {w for ws in removers.values() for w in ws} | {w for hs in hands.values() for h in hs
                                                              for w, _ in h.parts()}
              | {s.who for ss in setters.values() for s in ss}) - {"", principal.id}
    linked = password_links(session, principal.id, people)
    recused = _recused(session, principal, ids, clock)
    act, others = payees.BATCH_STEPS[verb]
    out: dict[str, Refusal | None] = {}
    for batch in batches:
        out[batch.id] = _refusal(session, batch, principal, verb, removers.get(batch.id, []),
                                 hands.get(batch.id, []), setters.get(batch.id, []), linked,
                                 recused.get(batch.id, []), act, others)
    return out


def _refusal(session: Session, batch: PaymentBatch, principal: Principal, verb: str, removers: list[str],
             hands: list[payees.PayeeHands], setters: list[account_setters.Setter], linked: frozenset[str],
             recused: list[str], act: str, others: str) -> Refusal | None:
    if not principal.may_see_county(batch.county_code):
        return Refusal(NOT_OF_COUNTY)
    signoff, release = verb == "sign off", verb == "release"
    if release and principal.id == batch.prepared_by:
        return Refusal(OWN_BATCH_RELEASE.format(code=batch.code))
    if principal.id == batch.prepared_by or (signoff and principal.id == batch.approved_by):
        return Refusal(SIGNOFF_FOUR_EYES if signoff else OWN_BATCH)
    if release:  # who took items out of it was the approval's to ask
        removers = []
    if principal.id in removers:
        return Refusal(REMOVED_SIGNOFF if signoff else REMOVED_APPROVE)
    parts = {**dict.fromkeys(removers, "移出过案件的人员"), **({batch.approved_by or "": "审批人"} if signoff else {}),
             batch.prepared_by: "制单人"}
    for who, part in sorted(parts.items()):  # of several, the first by user id
        if who and who in linked:
            said = LINKED_TO_BATCH.format(part=part, act=act, code=batch.code, others=others)
            return Refusal(said, linked=recusal_refusals.LinkedPart(
                who, said, households=[], county_code=batch.county_code, subject=batch.id,
                extra={"batch_id": batch.id, "why": "password_linked"}))
    why = payees.payee_refusal(session, hands, principal, linked, verb, batch.code)
    if isinstance(why, str):
        return Refusal(why)
    if why is not None:
        return Refusal(why.said, linked=why)
    set_by = account_setters.refusal(session, setters, principal, linked, verb, batch.code)
    if isinstance(set_by, recusal_refusals.LinkedPart):
        return Refusal(set_by.said, linked=set_by)
    if set_by is not None:
        return Refusal(set_by)
    if recused:
        return Refusal(RECUSED_FROM_BATCH, recused=tuple(recused))
    return None


def refuse(session: Session, batch: PaymentBatch, principal: Principal, verb: str, vault: Vault,
           clock: Clock | None) -> None:
    """The step's refusal when `refusals` says one for the batch (403, or 422 for 回避, kept on 回避拦截记录 when a
    password link or a tie)."""
    refusal = refusals(session, [batch], principal, verb, vault, clock)[batch.id]
    if refusal is not None:
        raise refusal.error(session, principal, verb, clock)
