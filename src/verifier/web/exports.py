"""The working lists as Excel workbooks, in the words the pages use: notices with their households, payment batches
and their items, a sampling round's samples, audit entries.

Each export reads through its stage's service with the caller's filters and counties (a batch or round of another
county does not exist for them), masks as the page does (bank accounts keep their last four digits; names on a
notice as posted), and is written by documents/sheets.py (Chinese headers, formula-like text escaped, money as
numbers with two decimals). The pages link to them (`/notices/export.xlsx`, …) and the API serves the same files to
a bearer token (`ExportController`); see README, "Excel exports".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter, QueryParameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import service as audit_service
from ..cases import service as case_service
from ..documents.sheets import XLSX, Money, Sheet, attachment, workbook
from ..domain.errors import ValidationFailed
from ..domain.scheme_calendar import day_start
from ..domain.money import parse_yuan
from ..http import Ctx, get
from ..notices import service as notice_service
from ..payments import service as pay
from ..sampling import service as smp
from ..store.vault import Vault
from . import labels
from . import stagelabels as sl
from .common import user_names
from .payments import READER_ROLES as PAYMENT_READERS
from .sampling import READERS as SAMPLING_READER_ROLES

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
NOTICE_STATUS = Literal["open", "closed", ""]
BATCH_STATUS = Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled", ""]
SAMPLING_READERS = SAMPLING_READER_ROLES["roles"]
MAX_ROWS = 100_000


def _cases(session: Session, case_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Each case's readable number and household head, as a sheet names a case (never its internal id)."""
    if not case_ids:
        return {}
    return {i: (c.number, c.household.head_name) for i, c in case_service.cases_by_id(session, case_ids).items()}


# --- notices ---------------------------------------------------------------------------------------------------------


def notices_xlsx(session: Session, user: Principal, *, status: str | None = None,
                 county_code: str | None = None) -> bytes:
    """Sheet 公示: one row a notice; sheet 公示名单: one row a household, as the notice showed it."""
    notices = notice_service.list_notices(session, user, status=status or None, county_code=county_code or None,
                                          limit=MAX_ROWS)
    names = user_names(session, [n.posted_by for n in notices])
    notice_rows = [[n.number or "", n.title, n.county_name, n.town, n.village or "（全镇）", n.posted_on, n.ends_on,
                    labels.NOTICE_STATUS.get(n.status, n.status), n.households, n.persons, Money(n.total),
                    names.get(n.posted_by, n.posted_by), n.id] for n in notices]
    item_rows = [[n.title, n.town, item.village, item.seq, item.head_name, item.household_size,
                  labels.CAUSES.get(item.cause, item.cause), Money(item.relief_amount),
                  labels.ITEM_STATUS.get(item.status, item.status), item.case_id]
                 for n in notices for item in n.items]
    return workbook(
        Sheet("公示", ["文号", "公示标题", "县（区）", "乡镇", "村", "公示日期", "截止日期", "状态", "户数", "人数",
                       "救助金额合计（元）", "发布人", "公示编号"], notice_rows, (14, 40, 10, 10, 10, 12, 12, 8, 6, 6, 16, 10, 18)),
        Sheet("公示名单", ["公示标题", "乡镇", "村", "序号", "户主", "家庭人口", "致困原因", "救助金额（元）", "公示结果",
                          "案件"], item_rows, (40, 10, 10, 6, 10, 8, 10, 14, 16, 18)),
    )


# --- payment batches -------------------------------------------------------------------------------------------------

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
    cases = _cases(session, [i.case_id for i in items])
    return [[code, i.seq, *cases.get(i.case_id, (i.case_id, "")), i.payee.account_name, i.payee.bank,
             i.payee.account_number, Money(parse_yuan(i.amount)), sl.ITEM_STATUS.get(i.status, i.status),
             i.bank_reference or "", i.failure_reason or "", i.settled_at] for i in items]


def batch_items_xlsx(session: Session, user: Principal, vault: Vault, batch_id: str) -> bytes:
    batch = pay.get_batch(session, batch_id, user)  # another county's batch: NotFound
    return workbook(Sheet("支付明细", ITEM_HEADER, _item_rows(session, user, vault, batch.id, batch.code),
                          ITEM_WIDTHS))


def batches_xlsx(session: Session, user: Principal, vault: Vault, *, status: str | None = None,
                 county_code: str | None = None) -> bytes:
    """Sheet 支付批次: one row a batch (the list's filters); sheet 支付明细: the items of those batches."""
    batches, cursor = [], None
    while True:
        got, cursor = pay.list_batches(session, user, county_code=county_code or None, status=status or None,
                                       limit=500, cursor=cursor)
        batches += got
        if cursor is None or len(batches) >= MAX_ROWS:
            break
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


# --- sampling --------------------------------------------------------------------------------------------------------


def samples_xlsx(session: Session, user: Principal, round_id: str) -> bytes:
    r = smp.round_view(session, round_id, user)  # another county's round: NotFound
    cases = _cases(session, [i.case_id for i in r.items])
    names = user_names(session, [i.result.recorded_by for i in r.items if i.result])

    def row(i: Any) -> list[Any]:
        x = i.result
        base = [*cases.get(i.case_id, (i.case_id, "")), i.town, i.stage]
        if x is None:
            return [*base, "待复核", "", "", "", "", "", "", "", "", ""]
        return [*base, sl.eligibility_zh(x.eligible), Money(parse_yuan(x.per_capita_income)),
                Money(parse_yuan(x.relief_amount)) if x.relief_amount is not None else "",
                sl.eligibility_zh(x.insurer_eligible), Money(parse_yuan(x.insurer_per_capita_income)),
                Money(parse_yuan(x.insurer_relief)) if x.insurer_relief is not None else "",
                "有偏差" if x.deviation else "无偏差",
                "、".join(sl.DEVIATION_REASONS.get(reason, reason) for reason in x.reasons),
                names.get(x.recorded_by, x.recorded_by), x.recorded_at]

    return workbook(Sheet("抽样复核样本", [
        "案件", "户主", "乡镇", "阶段", "复核结论", "复核人均纯收入（元）", "复核保障金额（元）", "原认定结论",
        "原人均纯收入（元）", "原保障金额（元）", "偏差", "偏差原因", "复核人", "录入时间"],
        [row(i) for i in r.items], (18, 10, 10, 6, 10, 14, 14, 10, 14, 14, 8, 24, 10, 17)))


# --- audit entries ---------------------------------------------------------------------------------------------------


def day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Days in Asia/Shanghai, both included, as the instants that bound them."""
    start = day_start(since) if since else None
    end = day_start(until + timedelta(days=1)) if until else None
    return start, end


def audit_xlsx(session: Session, user: Principal, *, since: date | None = None, until: date | None = None,
               action: str | None = None) -> bytes:
    if since and until and since > until:
        raise ValidationFailed.one("to", "must not be before from")
    start, end = day_bounds(since, until)
    rows = audit_service.list_entries(session, user, since=start, until=end, action=action or None)
    names = user_names(session, [r.actor for r in rows] + [r.subject for r in rows if r.subject.startswith("usr_")])
    return workbook(Sheet("审计日志", ["序号", "时间（北京时间）", "经办人", "角色", "事项", "对象", "县（区）"], [
        [r.idx, r.time, names.get(r.actor, r.actor), labels.ROLE_LABELS.get(r.role, r.role),
         labels.action_label(r.action), names.get(r.subject, r.subject), r.county_code or ""] for r in rows],
        (8, 17, 12, 12, 28, 22, 10)))


def audit_actions() -> list[tuple[str, str]]:
    return sorted(labels.ACTIONS.items(), key=lambda kv: kv[0])


# --- responses -------------------------------------------------------------------------------------------------------


def xlsx_response(content: bytes, ascii_name: str, chinese_name: str) -> Response[bytes]:
    return Response(content, media_type=XLSX, headers=attachment(ascii_name, chinese_name))


def _logged(ctx: Any, user: Principal, what: str, filters: dict[str, Any], content: bytes,
            county_code: str | None) -> None:
    """Every spreadsheet taken out is in the audit log (who, which list, the filters, the file's hash)."""
    audit_service.record_export(ctx.db, user, what=what, filters=filters, content=content,
                                county_code=county_code, clock=ctx.clock)


def notices_response(ctx: Any, user: Principal, status: str, county_code: str) -> Response[bytes]:
    with ctx.db.read() as session:
        content = notices_xlsx(session, user, status=status, county_code=county_code)
    _logged(ctx, user, "notices", {"status": status, "county_code": county_code}, content, county_code)
    return xlsx_response(content, "notices.xlsx", "公示.xlsx")


def batches_response(ctx: Any, user: Principal, status: str, county_code: str) -> Response[bytes]:
    with ctx.db.read() as session:
        content = batches_xlsx(session, user, ctx.vault, status=status, county_code=county_code)
    _logged(ctx, user, "payment_batches", {"status": status, "county_code": county_code}, content, county_code)
    return xlsx_response(content, "payment-batches.xlsx", "支付批次.xlsx")


def batch_items_response(ctx: Any, user: Principal, batch_id: str) -> Response[bytes]:
    with ctx.db.read() as session:
        content = batch_items_xlsx(session, user, ctx.vault, batch_id)
    _logged(ctx, user, "payment_items", {"batch_id": batch_id}, content, None)
    return xlsx_response(content, f"payment-items-{batch_id}.xlsx", f"支付明细-{batch_id}.xlsx")


def samples_response(ctx: Any, user: Principal, round_id: str) -> Response[bytes]:
    with ctx.db.read() as session:
        content = samples_xlsx(session, user, round_id)
    _logged(ctx, user, "samples", {"round_id": round_id}, content, None)
    return xlsx_response(content, f"samples-{round_id}.xlsx", f"抽样复核样本-{round_id}.xlsx")


def audit_response(ctx: Any, user: Principal, since: date | None, until: date | None,
                   action: str) -> Response[bytes]:
    with ctx.db.read() as session:
        content = audit_xlsx(session, user, since=since, until=until, action=action)
    _logged(ctx, user, "audit_entries", {"from": since.isoformat() if since else None,
                                         "to": until.isoformat() if until else None, "action": action}, content, None)
    return xlsx_response(content, "audit-entries.xlsx", "审计日志.xlsx")


County = Annotated[str, Parameter(pattern=r"^(\d{6})?$")]
Action = Annotated[str, Parameter(max_length=100, pattern=r"^[a-z_.]*$")]
AnyRequest = Request[Principal, Any, Any]


class ExportController(Controller):
    """The same workbooks as the pages' download links, for a bearer token."""

    path = "/api"
    tags = ["exports"]

    @get("/notices/export.xlsx", opt={"roles": "any"}, media_type=XLSX)
    def notices(self, ctx: Ctx, request: AnyRequest, status: FromQuery[NOTICE_STATUS] = "",
                county_code: County = "") -> Response[bytes]:
        return notices_response(ctx, request.user, status, county_code)

    @get("/payment-batches/export.xlsx", opt={"roles": PAYMENT_READERS}, media_type=XLSX)
    def batches(self, ctx: Ctx, request: AnyRequest, status: FromQuery[BATCH_STATUS] = "",
                county_code: County = "") -> Response[bytes]:
        return batches_response(ctx, request.user, status, county_code)

    @get("/payment-batches/{batch_id:str}/items.xlsx", opt={"roles": PAYMENT_READERS}, media_type=XLSX)
    def batch_items(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> Response[bytes]:
        return batch_items_response(ctx, request.user, batch_id)

    @get("/sampling-rounds/{round_id:str}/samples.xlsx", opt={"roles": SAMPLING_READERS}, media_type=XLSX)
    def samples(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> Response[bytes]:
        return samples_response(ctx, request.user, round_id)

    @get("/audit/entries.xlsx", opt={"roles": audit_service.READERS}, media_type=XLSX)
    def audit(self, ctx: Ctx, request: AnyRequest, from_: Annotated[date | None, QueryParameter(name="from")] = None,
              to: FromQuery[date | None] = None, action: Action = "") -> Response[bytes]:
        return audit_response(ctx, request.user, from_, to, action)


ROUTES: list[Any] = [ExportController]
