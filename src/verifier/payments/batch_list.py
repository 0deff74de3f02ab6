"""The payment batches list as the office pages it: by status or by what is waiting for whom, searched by batch
number or county code, newest first, counted and cut into numbered pages; and a batch's items, in order, searched
by reference, payee, case number or household head, paged alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import Case, Household
from ..store.vault import Vault
from .models import PaymentBatch, PaymentItem
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
                 page_size: int = PAGE_SIZE) -> Paged[BatchOut]:
    """One page of the batches of the caller's counties (an unknown `todo` is no filter)."""
    stmt = select(PaymentBatch).order_by(PaymentBatch.id.desc())
    if principal.counties:
        stmt = stmt.where(PaymentBatch.county_code.in_(principal.counties))
    if county_code:
        stmt = stmt.where(PaymentBatch.county_code == county_code)
    if todo in TODO:
        stmt = stmt.where(TODO[todo])
    elif status:
        stmt = stmt.where(PaymentBatch.status == status)
    text = fold_search(q)
    if text:
        stmt = stmt.where(text_search(text, (PaymentBatch.code, PaymentBatch.county_code)))
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
                .where(text_search(text, (PaymentItem.reference, PaymentItem.payee_name, Case.number,
                                          Household.head_name))))
    return page_of(session, stmt, page, page_size, rows=True).map(lambda row: item_out(vault, row))
