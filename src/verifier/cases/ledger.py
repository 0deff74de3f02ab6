"""案件台账: the case list as the xlsx an office keeps, with the list's filters, search and sort applied to every
matching case (not one page).

The rows are read from the database in chunks (`listing.iter_cases`) and written to a write-only workbook, which
keeps what it has written in a temporary file: memory stays bounded however many cases there are. Text cells go
through `domain.cells.escape_cell` (a name beginning "=" stays text); amounts are numbers with two decimals.

ID numbers are masked (6+4) for every role: the only full numbers anyone sees are the officers' at the door of a
case they are checking, and a file outlives that visit.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..documents.sheets import MONEY_FORMAT
from ..domain.cells import escape_cell
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.masking import mask_id
from ..payments.models import PaymentItem
from ..store.db import Database
from ..store.tables import Check, Determination, Member
from ..store.vault import Vault
from .listing import CaseQuery, iter_cases
from .service import due_dates

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ("案件编号", "户主", "证件号", "乡镇", "村", "致贫原因", "户类型", "状态", "受理日期", "核查期限", "核查日期",
           "是否逾期", "认定结果", "救助金额", "发放状态")
WIDTHS = (22, 10, 22, 12, 12, 10, 16, 12, 12, 12, 12, 9, 10, 12, 12)
AMOUNT_COLUMN = HEADERS.index("救助金额")
DATE_COLUMNS = tuple(HEADERS.index(h) for h in ("受理日期", "核查期限", "核查日期"))
AWAITING_CHECK = ("received", "screened", "scheduled")


def _heads(session: Session, household_ids: list[str]) -> dict[str, bytes]:
    """Each household's head's sealed ID number (the first member stored when none is marked head)."""
    found: dict[str, tuple[bool, str, bytes]] = {}
    rows = session.execute(select(Member.household_id, Member.relation, Member.id, Member.id_number_enc)
                           .where(Member.household_id.in_(household_ids)))
    for hh, relation, member_id, sealed in rows:
        key = (relation != "head", member_id)
        if hh not in found or key < found[hh][:2]:
            found[hh] = (*key, sealed)
    return {hh: v[2] for hh, v in found.items()}


def _latest(session: Session, model: Any, order: Any, columns: tuple[Any, ...], case_ids: list[str]) -> dict[str, Any]:
    """The latest row per case of `model` (by `order`), as a tuple of `columns`."""
    newest = (select(model.case_id, func.max(order).label("at")).where(model.case_id.in_(case_ids))
              .group_by(model.case_id).subquery())
    rows = session.execute(select(model.case_id, *columns)
                           .join(newest, (newest.c.case_id == model.case_id) & (newest.c.at == order)))
    return {r[0]: tuple(r[1:]) for r in rows}


def ledger_rows(session: Session, vault: Vault, principal: Principal, query: CaseQuery,
                today: date) -> Iterator[tuple[Any, ...]]:
    """One row per matching case, in the list's order, with codes turned into Chinese labels."""
    from ..web.labels import CAUSES, GROUPS
    from ..web.stagelabels import ITEM_STATUS

    for chunk in iter_cases(session, principal, query, vault):
        ids = [c.id for c in chunk]
        due = due_dates(session, chunk)
        heads = _heads(session, list({c.household_id for c in chunk}))
        checks = _latest(session, Check, Check.seq, (Check.visited_on, Check.days_late), ids)
        dets = _latest(session, Determination, Determination.confirmed_at,
                       (Determination.eligible, Determination.relief), ids)
        pays = _latest(session, PaymentItem, PaymentItem.created_at, (PaymentItem.status,), ids)
        for c in chunk:
            sealed = heads.get(c.household_id)
            id_number = mask_id(vault.open(sealed, "member.id_number")) if sealed is not None else ""
            visited_on, days_late = checks.get(c.id, (None, None))
            if visited_on is not None:
                overdue = bool(days_late)
            else:
                overdue = c.status in AWAITING_CHECK and today > due[c.id]
            det = dets.get(c.id)
            result = "" if det is None else ("符合" if det[0] else "不符合")
            relief = None if det is None or not det[0] else (Decimal(det[1]) / 100).quantize(Decimal("0.01"))
            pay = pays.get(c.id)
            yield (c.number, c.household.head_name, id_number, c.town, c.village, CAUSES.get(c.cause, c.cause),
                   GROUPS.get(c.household_group, c.household_group), STATUS_LABELS_ZH.get(c.status, c.status),
                   c.referred_on, due[c.id], visited_on, "是" if overdue else "否", result, relief,
                   "" if pay is None else ITEM_STATUS.get(pay[0], pay[0]))


def ledger_filename(principal: Principal, query: CaseQuery, today: date) -> str:
    county = query.county_code or ("-".join(principal.counties) if principal.counties else "全部县")
    return f"案件台账-{county}-{today.isoformat()}.xlsx"


def workbook(db: Database, vault: Vault, principal: Principal, query: CaseQuery, *, today: date) -> tuple[bytes, str]:
    """The ledger's xlsx and its file name (county and date)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("案件台账")
    ws.freeze_panes = "A2"
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width

    def text(value: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=None)
        cell._value = escape_cell("" if value is None else str(value))  # set, then typed: never read as a formula
        cell.data_type = "s"
        return cell

    ws.append([text(h) for h in HEADERS])
    with db.read() as session:
        for row in ledger_rows(session, vault, principal, query, today):
            cells = [text(v) for v in row]
            for i in DATE_COLUMNS:
                if row[i] is not None:
                    cells[i] = WriteOnlyCell(ws, value=row[i])
                    cells[i].number_format = "yyyy-mm-dd"
            if row[AMOUNT_COLUMN] is not None:
                cells[AMOUNT_COLUMN] = WriteOnlyCell(ws, value=row[AMOUNT_COLUMN])
                cells[AMOUNT_COLUMN].number_format = MONEY_FORMAT
            ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), ledger_filename(principal, query, today)
