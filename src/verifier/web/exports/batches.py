"""The payment batches workbook and a batch's items (bank accounts as the page masks them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from ...accounts.auth import Principal
from ...documents.sheets import Money, Sheet, workbook
from ...domain.money import parse_yuan
from ...payments import batch_list
from ...payments import service as pay
from ...store.vault import Vault
from .. import stagelabels as sl
from ..common import user_names
from .rows import MAX_ROWS, case_names


ITEM_HEADER = ["批次", "序号", "案件", "户主", "收款人", "开户银行", "账号", "金额（元）", "状态", "银行流水号", "失败原因",
               "到账时间"]
ITEM_WIDTHS = (18, 6, 18, 10, 10, 16, 22, 12, 10, 18, 20, 17)


def _item_rows(session: Session, user: Principal, vault: Vault, batch_id: str, code: str) -> list[list[Any]]:
    items, cursor = [], None
    while True:
        got = pay.batch_items(session, batch_id, user, vault, limit=pay.MAX_ITEMS, cursor=cursor)
        items += got.items
        cursor = got.next_cursor
        if cursor is None:
            break
    cases = case_names(session, [i.case_id for i in items])
    return [[code, i.seq, *cases.get(i.case_id, (i.case_id, "")), i.payee.account_name, i.payee.bank,
             i.payee.account_number, Money(parse_yuan(i.amount)), sl.ITEM_STATUS.get(i.status, i.status),
             i.bank_reference or "", i.failure_reason or "", i.settled_at] for i in items]


def batch_items_xlsx(session: Session, user: Principal, vault: Vault, batch_id: str) -> bytes:
    batch = pay.get_batch(session, batch_id, user)  # another county's batch: NotFound
    return workbook(Sheet("支付明细", ITEM_HEADER, _item_rows(session, user, vault, batch.id, batch.code),
                          ITEM_WIDTHS))


def batches_xlsx(session: Session, user: Principal, vault: Vault, *, status: str | None = None,
                 county_code: str | None = None, todo: str | None = None, q: str = "", to_decide: bool = False,
                 today: date) -> bytes:
    """Sheet 支付批次: one row a batch (the list's filters: status or 待办, county, search, `to_decide` as of `today`;
    all its pages, read as the list reads them, `batch_list.find_batches`); sheet 支付明细: the items of those
    batches."""
    only = (batch_list.waiting(session, user, todo, vault, today).mine
            if to_decide and todo in batch_list.DECIDED else None)
    batches = batch_list.find_batches(session, user, status=status or None, todo=todo or None,
                                      county_code=county_code or None, q=q, page=1, page_size=MAX_ROWS,
                                      only=only).items
    names = user_names(session, [p for b in batches for p in (b.prepared_by, b.approved_by, b.released_by) if p])
    batch_rows = [[b.code, b.county_code, b.contract_id, sl.BATCH_STATUS.get(b.status, b.status), b.item_count,
                   Money(parse_yuan(b.total)), names.get(b.prepared_by, b.prepared_by), b.prepared_at,
                   names.get(b.approved_by or "", b.approved_by or ""), b.approved_at,
                   names.get(b.released_by or "", b.released_by or ""), b.released_at] for b in batches]
    items = [row for b in batches for row in _item_rows(session, user, vault, b.id, b.code)]
    return workbook(
        Sheet("支付批次", ["批次", "县（区）", "服务合同", "状态", "笔数", "金额合计（元）", "制单人", "制单时间",
                          "审批人", "审批时间", "发放人", "发放时间"], batch_rows,
              (18, 10, 14, 10, 6, 14, 10, 17, 10, 17, 10, 17)),
        Sheet("支付明细", ITEM_HEADER, items, ITEM_WIDTHS),
    )
