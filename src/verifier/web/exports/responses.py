"""The workbooks as answers: each one taken out is in the audit log; the API serves them to a bearer token."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter, QueryParameter

from ...accounts.auth import Principal
from ...audit import service as audit_service
from ...documents.sheets import XLSX, attachment
from ...http import Ctx, get
from ...notices.posting import waiting
from ..payments import READER_ROLES as PAYMENT_READERS
from ..sampling import READERS as SAMPLING_READER_ROLES
from .audit import audit_xlsx
from .batches import batch_items_xlsx, batches_xlsx
from .notices import notices_xlsx
from .samples import samples_xlsx

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
NOTICE_STATUS = Literal["open", "closed", ""]
NOTICE_POSTING = Literal["unconfirmed", "to_decide", ""]
Search = Annotated[str, Parameter(max_length=200)]
BATCH_STATUS = Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled", ""]
BATCH_TODO = Literal["approve", "signoff", "release", "return", ""]
SAMPLING_READERS = SAMPLING_READER_ROLES["roles"]


def xlsx_response(content: bytes, ascii_name: str, chinese_name: str) -> Response[bytes]:
    return Response(content, media_type=XLSX, headers=attachment(ascii_name, chinese_name))


def _logged(ctx: Any, user: Principal, what: str, filters: dict[str, Any], content: bytes,
            county_code: str | None) -> None:
    """Every spreadsheet taken out is in the audit log (who, which list, the filters, the file's hash)."""
    audit_service.record_export(ctx.db, user, what=what, filters=filters, content=content,
                                county_code=county_code, clock=ctx.clock)


def notices_response(ctx: Any, user: Principal, status: str, county_code: str, q: str = "",
                     posting: str = "") -> Response[bytes]:
    with ctx.db.read() as session:
        content = notices_xlsx(session, user, status=status, county_code=county_code, q=q,
                               unconfirmed=bool(posting), only=waiting(session, user).mine
                               if posting == "to_decide" else None)
    _logged(ctx, user, "notices", {"status": status, "county_code": county_code, "q": q or None,
                                   "posting": posting or None}, content, county_code)
    return xlsx_response(content, "notices.xlsx", "公示.xlsx")


def batches_response(ctx: Any, user: Principal, status: str, county_code: str, todo: str = "",
                     q: str = "", to_decide: bool = False) -> Response[bytes]:
    with ctx.db.read() as session:
        content = batches_xlsx(session, user, ctx.vault, status=status, county_code=county_code, todo=todo, q=q,
                               to_decide=to_decide, today=ctx.clock.today())
    _logged(ctx, user, "payment_batches", {"status": status, "county_code": county_code, "todo": todo or None,
                                           "q": q or None, **({"to_decide": True} if to_decide else {})},
            content, county_code)
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
                   action: str, q: str = "") -> Response[bytes]:
    with ctx.db.read() as session:
        content = audit_xlsx(session, user, since=since, until=until, action=action, q=q)
    _logged(ctx, user, "audit_entries", {"from": since.isoformat() if since else None,
                                         "to": until.isoformat() if until else None, "action": action,
                                         "q": q or None}, content, None)
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
                county_code: County = "", q: Search = "",
                posting_filter: Annotated[NOTICE_POSTING, QueryParameter(name="posting")] = "") -> Response[bytes]:
        return notices_response(ctx, request.user, status, county_code, q, posting_filter)

    @get("/payment-batches/export.xlsx", opt={"roles": PAYMENT_READERS}, media_type=XLSX)
    def batches(self, ctx: Ctx, request: AnyRequest, status: FromQuery[BATCH_STATUS] = "",
                county_code: County = "", todo: FromQuery[BATCH_TODO] = "", q: Search = "",
                to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Response[bytes]:
        """`to_decide=1` with `todo` approve or signoff: the batches the user may approve or sign off there."""
        return batches_response(ctx, request.user, status, county_code, todo, q, to_decide=to_decide == "1")

    @get("/payment-batches/{batch_id:str}/items.xlsx", opt={"roles": PAYMENT_READERS}, media_type=XLSX)
    def batch_items(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> Response[bytes]:
        return batch_items_response(ctx, request.user, batch_id)

    @get("/sampling-rounds/{round_id:str}/samples.xlsx", opt={"roles": SAMPLING_READERS}, media_type=XLSX)
    def samples(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> Response[bytes]:
        return samples_response(ctx, request.user, round_id)

    @get("/audit/entries.xlsx", opt={"roles": audit_service.READERS}, media_type=XLSX)
    def audit(self, ctx: Ctx, request: AnyRequest, from_: Annotated[date | None, QueryParameter(name="from")] = None,
              to: FromQuery[date | None] = None, action: Action = "", q: Search = "") -> Response[bytes]:
        return audit_response(ctx, request.user, from_, to, action, q)


ROUTES: list[Any] = [ExportController]
