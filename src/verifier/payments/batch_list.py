"""The payment batches list as the office pages it: by status or by what is waiting for whom, searched by batch
number, county code or name, newest first, counted and cut into numbered pages; and a batch's items, in order, searched
by reference, payee, case number or household head, paged alike; and the smaller reads the payment pages show
beside them (cases ready or failed, what waits for the caller, a batch's bank returns and its creation's notes)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit.models import AuditEntry
from ..notices.posting import UNCONFIRMED_CASES
from ..notices.reading import OPEN_OBJECTION_CASES
from ..store import contracts as contract_store
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Household
from ..store.vault import Vault
from . import batch_stops, deciders
from .models import BankReturn, PaymentBatch, PaymentItem
from .schemas import BatchOut, ItemOut
from .service import batch_item_rows, batch_out, get_batch, item_out

TODO: dict[str, Any] = {  # what waits for whom: the condition on a batch
    "approve": PaymentBatch.status == "prepared",
    "signoff": and_(PaymentBatch.status == "approved", PaymentBatch.signoff_required.is_(True)),
    "release": or_(and_(PaymentBatch.status == "approved", PaymentBatch.signoff_required.is_(False)),
                   PaymentBatch.status == "signed_off"),
    "return": PaymentBatch.status == "released",
}


def find_batches(session: Session, principal: Principal, *, status: str | None = None, todo: str | None = None,
                 county_code: str | None = None, q: str = "", page: int = 1,
                 page_size: int = PAGE_SIZE, only: Iterable[str] | None = None) -> Paged[BatchOut]:
    """One page of the batches of the caller's counties (an unknown `todo` is no filter); `only`: those of these ids
    (`waiting(...).mine`)."""
    stmt = select(PaymentBatch).order_by(PaymentBatch.id.desc())
    if only is not None:
        stmt = stmt.where(PaymentBatch.id.in_(sorted(only)))
    if principal.counties:
        stmt = stmt.where(PaymentBatch.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(PaymentBatch.county_code == county_code)
    if todo in TODO:
        stmt = stmt.where(TODO[todo])
    elif status:
        stmt = stmt.where(PaymentBatch.status == status)
    text = fold_search(q)
    if text:  # a batch number as typed in any case (they are capitals), a county's code or part of its name
        stmt = stmt.where(or_(text_search(text.upper(), (PaymentBatch.code,)),
                              text_search(text, (PaymentBatch.county_code,)),
                              PaymentBatch.county_code.in_(contract_store.counties_named(session, text))))
    return page_of(session, stmt, page, page_size).map(lambda b: batch_out(session, b))


def find_batch_items(session: Session, batch_id: str, principal: Principal, vault: Vault, *, q: str = "",
                     page: int = 1, page_size: int = PAGE_SIZE) -> Paged[ItemOut]:
    """One page of a batch of the caller's counties (else NotFound): its items in order, those matching `q` (part of
    the reference, the payee's name, the case number or the household head's name)."""
    batch = get_batch(session, batch_id, principal)
    stmt = batch_item_rows(batch.id)
    text = fold_search(q)
    if text:
        stmt = (stmt.join(Case, Case.id == PaymentItem.case_id).join(Household, Household.id == Case.household_id)
                .where(or_(text_search(text.upper(), (PaymentItem.reference,)),  # references are capitals
                           text_search(text, (PaymentItem.payee_name, Case.number, Household.head_name)))))
    return page_of(session, stmt, page, page_size, rows=True).map(lambda row: item_out(vault, row))


def _scope(stmt: Any, column: Any, principal: Principal) -> Any:
    return stmt.where(column.in_(principal.counties)) if principal.counties else stmt


def ready_by_county(session: Session, principal: Principal) -> list[tuple[str, str, int]]:
    """(county, contract, cases) of the cases ready to pay: what a new batch would take (not a case whose notice's
    posting waits for its second person, nor one with an objection typed after its notice closed and not resolved)."""
    stmt = (select(Case.county_code, Case.contract_id, func.count()).where(Case.status == "ready_to_pay",
                                                                           Case.id.not_in(UNCONFIRMED_CASES),
                                                                           Case.id.not_in(OPEN_OBJECTION_CASES))
            .group_by(Case.county_code, Case.contract_id).order_by(Case.county_code, Case.contract_id))
    return [(c, k, int(n)) for c, k, n in session.execute(_scope(stmt, Case.county_code, principal))]


def waiting_for_objections(session: Session, principal: Principal) -> int:
    """How many cases ready to pay are held by an objection typed after their notice closed, not yet resolved."""
    stmt = select(func.count()).select_from(Case).where(Case.status == "ready_to_pay",
                                                        Case.id.in_(OPEN_OBJECTION_CASES))
    return int(session.scalar(_scope(stmt, Case.county_code, principal)) or 0)


def waiting_for_the_wall(session: Session, principal: Principal) -> int:
    """How many cases ready to pay wait for a second person to confirm their notice hung on the wall."""
    stmt = select(func.count()).select_from(Case).where(Case.status == "ready_to_pay",
                                                        Case.id.in_(UNCONFIRMED_CASES))
    return int(session.scalar(_scope(stmt, Case.county_code, principal)) or 0)


FAILED_SHOWN = 200  # the batches page lists at most this many failed payments (the case list has them all)


def failed_cases(session: Session, principal: Principal, limit: int = FAILED_SHOWN) -> list[Case]:
    """Cases whose payment failed, the longest waiting first."""
    stmt = select(Case).where(Case.status == "payment_failed").order_by(Case.updated_at, Case.id).limit(limit)
    return list(session.scalars(_scope(stmt, Case.county_code, principal)))


def count_failed(session: Session, principal: Principal) -> int:
    """How many cases of the caller's counties wait for their payee to be corrected (the home page's card's count)."""
    stmt = select(func.count()).select_from(Case).where(Case.status == "payment_failed")
    return int(session.scalar(_scope(stmt, Case.county_code, principal)) or 0)


@dataclass(frozen=True)
class Waiting:
    """The batches of the caller's counties at a step the caller decides (`DECIDED`): those the caller may take it
    on now (`mine`, ids: what the home card counts and /payments?todo=…&to_decide=1 lists), those the caller would
    take but that nobody can now (`stopped`: (id, `batch_stops.KINDS` kind), said apart as 暂不能…), and how many
    others wait at it for someone else."""

    mine: list[str]
    others: int
    stopped: list[tuple[str, str]] = field(default_factory=list)

    def stopped_by_kind(self) -> list[tuple[str, int]]:
        """(kind, how many) of `stopped`, in the steps' order of asking."""
        counted = Counter(kind for _, kind in self.stopped)
        return [(k, counted[k]) for k in dict.fromkeys(k for ks in batch_stops.KINDS.values() for k in ks)
                if counted[k]]


DECIDED = tuple(deciders.VERBS)  # the steps whose card counts by who may take them: approve, signoff, release


def waiting(session: Session, principal: Principal, todo: str, vault: Vault, today: date) -> Waiting:
    """The batches of the caller's counties at step `todo` (one of `DECIDED`), asked `deciders.refusals` (who may) and
    `batch_stops.stops` (what stops it for everyone), the rules the step refuses by, all at once."""
    stmt = _scope(select(PaymentBatch).where(TODO[todo]), PaymentBatch.county_code, principal)
    rows = list(session.scalars(stmt))
    verb = deciders.VERBS[todo]
    refused = deciders.refusals(session, rows, principal, verb, vault)
    theirs = [b for b in rows if refused[b.id] is None]
    stops = batch_stops.stops(session, theirs, verb, today)
    mine = sorted(b.id for b in theirs if stops[b.id] is None)
    stopped = sorted((b.id, stop.kind) for b in theirs if (stop := stops[b.id]) is not None)
    return Waiting(mine, len(rows) - len(theirs), stopped)


def count_waiting(session: Session, principal: Principal, todo: str, vault: Vault, today: date) -> int:
    """How many batches of the caller's counties wait at a step (`TODO`) for them: to approve, sign off or release,
    those `waiting` finds the caller may take now (the step's own rules); to import the bank's return of, not one
    they released."""
    if todo in DECIDED:
        return len(waiting(session, principal, todo, vault, today).mine)
    conditions = [TODO[todo]]
    if todo == "return":
        conditions.append(func.coalesce(PaymentBatch.released_by, "") != principal.id)
    stmt = select(func.count()).select_from(PaymentBatch).where(*conditions)
    return session.scalar(_scope(stmt, PaymentBatch.county_code, principal)) or 0


def creation_payload(session: Session, batch_id: str) -> dict[str, Any]:
    """The payload of the batch's creation in the audit log: it lists the cases left out, with the reason. A case
    left out of an older batch because its preparer was related to the household (a reason saying 回避) is not
    shown: it would tell every reader who is related (the auditors read it in the audit log)."""
    raw = session.scalar(select(AuditEntry.entry).where(AuditEntry.subject == batch_id,
                                                        AuditEntry.action == "payment_batch.create").limit(1))
    payload = json.loads(raw)["payload"] if raw else {}
    if isinstance(payload.get("skipped"), list):
        payload["skipped"] = [s for s in payload["skipped"]
                              if not (isinstance(s, dict) and str(s.get("reason", "")).startswith("回避"))]
    return payload


def bank_returns_of(session: Session, batch_id: str) -> list[BankReturn]:
    """The bank return files imported for a batch, in the order they came."""
    return list(session.scalars(select(BankReturn).where(BankReturn.batch_id == batch_id)
                                .order_by(BankReturn.imported_at, BankReturn.id)))


def batch_codes(session: Session, batch_ids: set[str]) -> dict[str, str]:
    """Each batch's readable number, keyed by id."""
    return dict(session.execute(select(PaymentBatch.id, PaymentBatch.code).where(
        PaymentBatch.id.in_(batch_ids))).tuples().all())
