"""Who set the account a batch pays: the officers and the recorder of the home check whose payee an item of the batch
pays, and of every earlier check of its case that named the same account (by its blind index). They typed it at the
door, under a member's name; one of them who also holds the finance role (or the county reviewer's) does not approve,
sign off or release a batch paying it, nor does an account linked to theirs by a password (`deciders.refusals`, the
one rule the steps refuse by and the home cards count by): else one person types his own account at the door and pays
it out himself. A payee change's requester and approver are `payees.payee_refusal`'s.

Read for any number of batches in one statement, through the items' batch index and each case's checks (the index of
case and number), never another county's rows; each paid check is compared with its own case's checks only. A check
stored without its blind index (before 0045, not filled without the keys) is opened from its row alone and its
account's index taken, as `payees` compares a re-check with such a first check: only when a check of the same case is
compared with it, once a call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..recusal import refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..store.tables import Case, Check
from ..store.vault import Vault
from . import payees
from .models import PaymentItem
from .payees import BATCH_STEPS


@dataclass(frozen=True)
class _Named:
    """A check of a paid case naming a payee, as `setters_of` reads it."""

    id: str
    seq: int
    officers: tuple[str, ...]
    recorded_by: str
    index: str | None  # the account's blind index; None for a check stored before it
    sealed: bytes  # the account, sealed: opened only when `index` is None and a check is compared with it


@dataclass(frozen=True)
class Setter:
    """One person who set the account an item of a batch pays: an officer of a check naming it, or its recorder."""

    case_id: str
    who: str
    recorder: bool

    @property
    def part(self) -> str:
        """Their part in the check, as a refusal says it."""
        return "录入人" if self.recorder else "核查人员"


def setters_of(session: Session, batch_ids: Sequence[str], vault: Vault) -> dict[str, list[Setter]]:
    """Per batch of `batch_ids`, who set the accounts its live items pay (a check's payee; an approved change's are
    `payees`'), by case then user id; batches without any are left out."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(PaymentItem.batch_id, PaymentItem.case_id, PaymentItem.payee_check_id, Check.id, Check.seq,
               Check.officer_ids, Check.recorded_by, Check.payee_account_index, Check.payee_account_enc)
        .join(Check, Check.case_id == PaymentItem.case_id)
        .where(PaymentItem.batch_id.in_(ids), PaymentItem.status != "cancelled",
               PaymentItem.payee_check_id.is_not(None), Check.payee_account_enc.is_not(None))).tuples().all()
    by_case: dict[str, dict[str, _Named]] = {}
    paid: set[tuple[str, str, str]] = set()
    for batch_id, case_id, paid_check, check_id, seq, officers, recorded_by, index, sealed in rows:
        by_case.setdefault(case_id, {})[check_id] = _Named(check_id, seq, tuple(officers or []), recorded_by, index,
                                                           sealed)
        paid.add((batch_id or "", case_id, paid_check or ""))
    keys: dict[str, str | None] = {}

    def key(check: _Named) -> str | None:
        if check.id not in keys:
            keys[check.id] = payees.check_account_key(check.index, check.sealed, vault)
        return keys[check.id]

    out: dict[str, set[Setter]] = {}
    for batch_id, case_id, paid_check in paid:
        checks = by_case.get(case_id, {})
        to = checks.get(paid_check)
        if to is None:
            continue
        for check in checks.values():
            if check.seq > to.seq:
                continue
            if check.id != to.id and (key(check) is None or key(check) != key(to)):
                continue
            found = out.setdefault(batch_id, set())
            found.update(Setter(case_id, o, False) for o in check.officers if o)
            if check.recorded_by:
                found.add(Setter(case_id, check.recorded_by, True))
    return {b: sorted(s, key=lambda s: (s.case_id, s.who, s.recorder)) for b, s in out.items()}


@dataclass(frozen=True)
class Hand:
    """The caller's hand in an account a batch pays: `setter`, their own part in a check that set it (`linked`
    False), or the first setter whose account is linked to the caller's by a password (`linked` True)."""

    setter: Setter
    linked: bool


def hand(setters: Sequence[Setter], principal: Principal, linked: frozenset[str]) -> Hand | None:
    """The caller's hand in an account these `setters` set: their own part in a check that set one, else the first
    of them linked to the caller's account by a password (`linked`: the caller's links among them, read
    beforehand), else None. The one rule the steps refuse by (`refusal`) and the batch page hides their buttons by
    (`hand_in_batch`)."""
    own = next((s for s in setters if s.who == principal.id), None)
    if own is not None:
        return Hand(own, False)
    link = next((s for s in setters if s.who in linked), None)
    return Hand(link, True) if link is not None else None


def hand_in_batch(session: Session, batch_id: str, principal: Principal, vault: Vault) -> Hand | None:
    """`hand` in the accounts one batch pays, its setters and the caller's password links among them read here: what
    the batch page says instead of the approve, sign-off and release buttons."""
    setters = setters_of(session, [batch_id], vault).get(batch_id, [])
    return hand(setters, principal, password_links(session, principal.id, {s.who for s in setters} - {principal.id}))


def _number(session: Session, case_id: str) -> str:
    case = session.get(Case, case_id)
    return case.number if case is not None else case_id


def refusal(session: Session, setters: Sequence[Setter], principal: Principal, linked: frozenset[str], verb: str,
            batch_code: str) -> Callable[[], str] | refusals.LinkedPart | None:
    """Why the caller may not `verb` ("approve", "sign off", "release") a batch whose accounts these `setters` set
    (`hand`): their own hand in one (the reason, made when said), else the first of them linked to the caller's
    account by a password (`linked`: the caller's links among them, read beforehand), else None."""
    act, others = BATCH_STEPS[verb]
    found = hand(setters, principal, linked)
    if found is None:
        return None
    s = found.setter
    if not found.linked:
        def said() -> str:
            return (f"您是案件 {_number(session, s.case_id)} 入户核查的{s.part}，本批次支付给该案的收款账户由这次"
                    f"核查录入，按职责分离规定不能{act}包含该案件的批次 {batch_code}，须由其他{others}办理。")
        return said

    def made() -> str:
        return (f"按“四眼原则”，您的账号与案件 {_number(session, s.case_id)} 录入收款账户的入户核查的{s.part}"
                f"的账号有密码关联{PASSWORD_LINK}，按职责分离规定不能{act}包含该案件的批次 {batch_code}，"
                f"须由其他{others}办理。")
    return refusals.LinkedPart(s.who, made, case_id=s.case_id)
