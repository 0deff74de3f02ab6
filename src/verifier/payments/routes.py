"""HTTP routes of the payments stage: batches, the bank file and return, payee changes, the fund.

Every write accepts an `Idempotency-Key` header (see verifier.idempotency): a repeat returns the first answer.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, QueryParameter, Parameter

from ..store.reader import session_reader
from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..http import Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent
from ..uploads import check_size, size_of
from . import bankfiles, batch_recheck, one_account, payees, recoveries, recovery_reading, service
from .schemas import (
    ReasonIn,
    RepaymentIn,
    BatchIn,
    BatchOut,
    BatchPage,
    DecisionIn,
    FundOut,
    ItemPage,
    ItemRemovalIn,
    MovementPage,
    PayeeChangeOut,
    PayeeChangePage,
    PayeeIn,
    ReturnOut,
    SignoffIn,
)

ID_PATTERN = r"^[A-Za-z0-9_.-]+$"  # ids and contract ids; nothing a database could choke on (NUL bytes)
Id = Annotated[str, Parameter(max_length=40, pattern=ID_PATTERN)]
READERS = ("insurer_claims", "finance", "county_reviewer", "insurer_supervisor", "auditor", "admin")
CHANGE_READERS = (*payees.APPROVERS, "auditor")
MAX_ITEMS = service.MAX_ITEMS

AnyRequest = Request[Principal, Any, Any]


def bank_file_response(ctx: Any, batch_id: str, principal: Principal, fmt: str) -> Response[bytes]:
    """A released batch's bank file, its download recorded (the API's and the batch page's)."""
    with ctx.db.read() as session:
        # 回避 first (before the file is opened): a refusal's trace is written once this read ends
        file = service.bank_file(session, batch_id, principal=principal, vault=ctx.vault, fmt=fmt, clock=ctx.clock)
        # a payee account shared or declared a staff member's own since release: not handed to the bank uncleared
        batch_recheck.refuse_held_accounts(session, service.get_batch(session, batch_id, principal), "bank file",
                                           ctx.clock.today())
    with ctx.db.begin() as session:
        service.record_bank_file(session, batch_id, file, fmt=fmt, principal=principal, clock=ctx.clock)
    return Response(content=file.content, media_type=file.media_type, headers={
        "Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store",
        "X-Content-SHA256": file.sha256})


class PaymentBatchController(Controller):
    path = "/api/payment-batches"
    tags = ["payments"]

    @post("/", opt={"roles": ("insurer_claims",)}, status_code=201)
    def create(self, data: JSONBody[BatchIn], ctx: Ctx, request: AnyRequest) -> Response[BatchOut]:
        return idempotent(ctx.db, request, lambda s: service.create_batch(
            s, county_code=data.county_code, contract_id=data.contract_id, principal=request.user, clock=ctx.clock,
            case_ids=data.case_ids), body=data, status_code=201, clock=ctx.clock)

    @get("/", opt={"roles": READERS})
    def list_batches(
        self, ctx: Ctx, request: AnyRequest,
        county_code: Annotated[str | None, Parameter(pattern=r"^\d{6}$")] = None,
        status: FromQuery[Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled"] | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=40, pattern=ID_PATTERN)] = None,
    ) -> BatchPage:
        with ctx.db.read() as session:
            items, next_cursor = service.list_batches(session, request.user, county_code=county_code, status=status,
                                                      limit=limit, cursor=cursor)
            return BatchPage(items=items, next_cursor=next_cursor)

    @get("/{batch_id:str}", opt={"roles": READERS})
    def read(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> BatchOut:
        with ctx.db.read() as session:
            batch = service.get_batch(session, batch_id, request.user)
            out = service.batch_out(session, batch)
            out.payee_changes = payees.changed_items(session, batch.id, ctx.vault)
            out.shared_accounts = service.shared_accounts(session, batch, ctx.vault)
            out.signoffs = service.signoffs_of(session, batch.id)
            out.signoff_refused_cases = (service.refused_in_batch(session, batch)
                                         if batch.status in ("prepared", "approved") else [])
            return out

    @get("/{batch_id:str}/items", opt={"roles": READERS})
    def items(
        self, batch_id: Id, ctx: Ctx, request: AnyRequest,
        status: FromQuery[Literal["pending", "sent", "succeeded", "failed", "cancelled"] | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
        cursor: Annotated[int | None, Parameter(ge=0, le=MAX_ITEMS)] = None,
    ) -> ItemPage:
        with ctx.db.read() as session:
            return service.batch_items(session, batch_id, request.user, ctx.vault, status=status, limit=limit,
                                       cursor=cursor)

    @post("/{batch_id:str}/approve", opt={"roles": ("finance",)}, status_code=200)
    def approve(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> Response[BatchOut]:
        return idempotent(ctx.db, request, lambda s: service.approve(s, batch_id, principal=request.user,
                                                                     vault=ctx.vault, clock=ctx.clock), clock=ctx.clock)

    @post("/{batch_id:str}/county-signoff", opt={"roles": ("county_reviewer",)}, status_code=200)
    def county_signoff(self, batch_id: Id, ctx: Ctx, request: AnyRequest,
                       data: JSONBody[SignoffIn | None] = None) -> Response[BatchOut]:
        """Sign the batch off, optionally with an opinion (a body {"opinion": ...} or none)."""
        opinion = data.opinion if data is not None else ""
        return idempotent(ctx.db, request, lambda s: service.county_signoff(
            s, batch_id, principal=request.user, vault=ctx.vault, clock=ctx.clock, opinion=opinion), clock=ctx.clock)

    @post("/{batch_id:str}/county-signoff/refuse", opt={"roles": ("county_reviewer",)}, status_code=200)
    def refuse_signoff(self, batch_id: Id, data: JSONBody[SignoffIn], ctx: Ctx,
                       request: AnyRequest) -> Response[BatchOut]:
        """Refuse the sign-off with an opinion (required): the batch goes back to prepared, its commitment released."""
        return idempotent(ctx.db, request, lambda s: service.refuse_signoff(
            s, batch_id, opinion=data.opinion, principal=request.user, vault=ctx.vault, clock=ctx.clock), body=data,
            clock=ctx.clock)

    @post("/{batch_id:str}/items/{item_id:str}/remove", opt={"roles": ("insurer_claims",)}, status_code=200)
    def remove_item(self, batch_id: Id, item_id: Id, data: JSONBody[ItemRemovalIn], ctx: Ctx,
                    request: AnyRequest) -> Response[BatchOut]:
        """Take a case out of a batch before approval, with a reason: the case is ready to pay again."""
        return idempotent(ctx.db, request, lambda s: service.remove_item(
            s, batch_id, item_id, reason=data.reason, principal=request.user, clock=ctx.clock), body=data,
            clock=ctx.clock)

    @post("/{batch_id:str}/release", opt={"roles": ("finance",)}, status_code=200)
    def release(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> Response[BatchOut]:
        return idempotent(ctx.db, request, lambda s: service.release(s, batch_id, principal=request.user,
                                                                     vault=ctx.vault, clock=ctx.clock), clock=ctx.clock)

    @post("/{batch_id:str}/cancel", opt={"roles": ("insurer_claims", "finance")}, status_code=200)
    def cancel(self, batch_id: Id, ctx: Ctx, request: AnyRequest) -> Response[BatchOut]:
        return idempotent(ctx.db, request, lambda s: service.cancel(s, batch_id, principal=request.user,
                                                                    clock=ctx.clock), clock=ctx.clock)

    @get("/{batch_id:str}/bank-file", opt={"roles": ("finance",)})
    def bank_file(
        self, batch_id: Id, ctx: Ctx, request: AnyRequest,
        fmt: Annotated[Literal["csv", "csv-excel", "csv-gbk", "xlsx"], QueryParameter(name="format")] = "csv",
    ) -> Response[bytes]:
        return bank_file_response(ctx, batch_id, request.user, fmt)

    @post("/{batch_id:str}/bank-return", opt={"roles": ("finance",)}, status_code=200)
    def bank_return(self, batch_id: Id, ctx: Ctx, request: AnyRequest,
                    data: MultipartBody[dict[str, Any]]) -> Response[ReturnOut]:
        upload = data.get("file") if isinstance(data, dict) else None
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传银行回单")
        limits = ctx.settings.imports
        check_size(size_of(upload.file), limits)
        content = upload.file.read(limits.max_bytes + 1)
        lines, line_problems = bankfiles.read_return(content, limits)  # read before the write transaction opens
        digest = hashlib.sha256(content).hexdigest()

        def run(session: Any) -> ReturnOut:
            out, _repeated = service.import_return(session, batch_id, lines, file_sha256=digest,
                                                   filename=_clean(upload.filename) or "return.csv", principal=request.user,
                                                   clock=ctx.clock, line_problems=line_problems, vault=ctx.vault)
            return out

        return idempotent(ctx.db, request, run, body=content, clock=ctx.clock)


def _clean(name: str | None) -> str:
    return "".join(ch for ch in (name or "") if ch.isprintable())[:255]


class CasePaymentController(Controller):
    path = "/api/cases/{case_id:str}"
    tags = ["payments"]

    @post("/payee", opt={"roles": payees.REQUESTERS}, status_code=201)
    def request_payee_change(self, case_id: Id, data: JSONBody[PayeeIn], ctx: Ctx,
                             request: AnyRequest) -> Response[PayeeChangeOut]:
        """Ask for a change of the case's payee: pending until another person approves it."""
        return idempotent(ctx.db, request, lambda s: payees.request_change(
            s, case_id, account_name=data.account_name, bank=data.bank, account_number=data.account_number,
            reason=data.reason, principal=request.user, vault=ctx.vault, clock=ctx.clock),
            body=data, status_code=201, clock=ctx.clock)

    @get("/payments", opt={"roles": "any"})
    def payments(self, case_id: Id, ctx: Ctx, request: AnyRequest) -> list[dict[str, Any]]:
        from ..cases.workflow import load_case

        with ctx.db.read() as session:
            load_case(session, case_id, request.user)
            return service.payments_for_case(session_reader(session), case_id, ctx.vault)


class FundController(Controller):
    path = "/api/fund"
    tags = ["payments"]

    @get("/", opt={"roles": READERS})
    def fund(self, ctx: Ctx, request: AnyRequest,
             contract_id: Annotated[str | None, Parameter(max_length=64, pattern=ID_PATTERN)] = None) -> FundOut:
        with ctx.db.read() as session:
            return FundOut(**service.fund_summary(session, contract_id, request.user))

    @get("/movements", opt={"roles": READERS})
    def movements(self, ctx: Ctx, request: AnyRequest,
                  contract_id: Annotated[str | None, Parameter(max_length=64, pattern=ID_PATTERN)] = None,
                  limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
                  cursor: Annotated[int | None, Parameter(ge=0, le=2**53)] = None) -> MovementPage:
        with ctx.db.read() as session:
            return service.fund_movements(session, contract_id, request.user, limit=limit, cursor=cursor)


class PayeeChangeController(Controller):
    path = "/api/payee-changes"
    tags = ["payments"]

    @get("/", opt={"roles": CHANGE_READERS})
    def list_changes(
        self, ctx: Ctx, request: AnyRequest,
        status: FromQuery[Literal["pending", "approved", "rejected"] | None] = None,
        county_code: Annotated[str | None, Parameter(pattern=r"^\d{6}$")] = None,
        case_id: Annotated[str | None, Parameter(max_length=40, pattern=ID_PATTERN)] = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=40, pattern=ID_PATTERN)] = None,
    ) -> PayeeChangePage:
        with ctx.db.read() as session:
            items, next_cursor = payees.list_changes(session, request.user, ctx.vault, status=status,
                                                     county_code=county_code, case_id=case_id, limit=limit,
                                                     cursor=cursor)
            return PayeeChangePage(items=items, next_cursor=next_cursor)

    @get("/{change_id:str}", opt={"roles": CHANGE_READERS})
    def read(self, change_id: Id, ctx: Ctx, request: AnyRequest) -> PayeeChangeOut:
        with ctx.db.read() as session:
            return payees.get_change(session, change_id, request.user, ctx.vault)

    @post("/{change_id:str}/approve", opt={"roles": payees.APPROVERS}, status_code=200)
    def approve(self, change_id: Id, ctx: Ctx, request: AnyRequest,
                data: JSONBody[DecisionIn | None] = None) -> Response[PayeeChangeOut]:
        note = data.note if data else ""
        return idempotent(ctx.db, request, lambda s: payees.approve_change(
            s, change_id, note=note, principal=request.user, vault=ctx.vault, clock=ctx.clock),
            body=data, clock=ctx.clock)

    @post("/{change_id:str}/reject", opt={"roles": payees.APPROVERS}, status_code=200)
    def reject(self, change_id: Id, ctx: Ctx, request: AnyRequest,
               data: JSONBody[DecisionIn | None] = None) -> Response[PayeeChangeOut]:
        note = data.note if data else ""
        return idempotent(ctx.db, request, lambda s: payees.reject_change(
            s, change_id, note=note, principal=request.user, vault=ctx.vault, clock=ctx.clock),
            body=data, clock=ctx.clock)


SHARED_READERS = ("county_reviewer", "finance", "insurer_claims", "insurer_supervisor", "auditor")
AccountIndex = Annotated[str, Parameter(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]


class SharedAccountController(Controller):
    """收款账户与其他家庭相同: accounts paying several households, held until a county reviewer clears them."""

    path = "/api/shared-accounts"
    tags = ["payments"]

    @get("/", opt={"roles": SHARED_READERS})
    def list_shared(self, ctx: Ctx, request: AnyRequest,
                    status: FromQuery[Literal["open", "cleared", "all"]] = "open",
                    q: Annotated[str, Parameter(max_length=100)] = "") -> dict[str, Any]:
        with ctx.db.read() as session:
            found = one_account.groups(session, request.user, ctx.vault, ctx.clock.today(), q=q, status=status)
            return {"items": [one_account.group_out(g) for g in found]}

    @post("/{account:str}/clear", opt={"roles": (one_account.CLEARER,)}, status_code=200)
    def clear(self, account: AccountIndex, data: JSONBody[DecisionIn], ctx: Ctx,
              request: AnyRequest) -> Response[Any]:
        """A county reviewer clears the account for the households it pays now, with a note."""
        return idempotent(ctx.db, request, lambda s: one_account.group_out(one_account.clear(
            s, account, note=data.note, principal=request.user, vault=ctx.vault, clock=ctx.clock)),
            body=data, clock=ctx.clock)


RECOVERY_READERS = ("finance", "county_reviewer", "insurer_supervisor", "insurer_claims", "auditor")


class RecoveryController(Controller):
    """Recoveries (追回) of overpaid relief, opened by sampling rounds; within the caller's counties."""

    path = "/api/recoveries"
    tags = ["payments"]

    @get("/", opt={"roles": RECOVERY_READERS})
    def list_recoveries(self, ctx: Ctx, request: AnyRequest, county_code: FromQuery[str | None] = None,
                        status: FromQuery[str | None] = None, limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
                        offset: Annotated[int, Parameter(ge=0)] = 0) -> dict[str, Any]:
        with ctx.db.read() as session:
            return recovery_reading.list_recoveries(session, request.user, county_code=county_code, status=status,
                                              limit=limit, offset=offset)

    @get("/{recovery_id:str}", opt={"roles": RECOVERY_READERS})
    def get_recovery(self, recovery_id: Id, ctx: Ctx, request: AnyRequest) -> dict[str, Any]:
        with ctx.db.read() as session:
            return recovery_reading.get_recovery(session, recovery_id, request.user)

    @post("/{recovery_id:str}/repayments", opt={"roles": (recoveries.RECORDER,)}, status_code=201)
    def record_repayment(self, recovery_id: Id, data: JSONBody[RepaymentIn], ctx: Ctx,
                         request: AnyRequest) -> Response[Any]:
        """Finance records a repayment; it counts once another person confirms it."""
        return idempotent(ctx.db, request, lambda s: recoveries.record_repayment(
            s, recovery_id, amount=data.amount, paid_on=data.paid_on, reference=data.reference,
            principal=request.user, clock=ctx.clock), body=data, status_code=201, clock=ctx.clock)

    @post("/{recovery_id:str}/waive", opt={"roles": (recoveries.WAIVER,)}, status_code=200)
    def waive(self, recovery_id: Id, data: JSONBody[ReasonIn], ctx: Ctx, request: AnyRequest) -> Response[Any]:
        """The county reviewer waives what is outstanding, with a reason."""
        return idempotent(ctx.db, request, lambda s: recoveries.waive(
            s, recovery_id, reason=data.reason, principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)

    @post("/{recovery_id:str}/waiver/decline", opt={"roles": (recoveries.WAIVER,)}, status_code=200)
    def decline_waiver(self, recovery_id: Id, data: JSONBody[ReasonIn], ctx: Ctx,
                       request: AnyRequest) -> Response[Any]:
        """Another county reviewer declines the request to waive, with a reason: the recovery stays open (409 when
        no request waits)."""
        return idempotent(ctx.db, request, lambda s: recoveries.decline_waiver(
            s, recovery_id, reason=data.reason, principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)


class RepaymentController(Controller):
    path = "/api/recovery-repayments"
    tags = ["payments"]

    @post("/{repayment_id:str}/confirm", opt={"roles": recoveries.CONFIRMERS}, status_code=200)
    def confirm(self, repayment_id: Id, ctx: Ctx, request: AnyRequest) -> Response[Any]:
        """A second person confirms a repayment: it counts and comes back to the fund, once."""
        return idempotent(ctx.db, request, lambda s: recoveries.confirm_repayment(
            s, repayment_id, principal=request.user, clock=ctx.clock), clock=ctx.clock)

    @post("/{repayment_id:str}/reject", opt={"roles": recoveries.CONFIRMERS}, status_code=200)
    def reject(self, repayment_id: Id, data: JSONBody[ReasonIn], ctx: Ctx, request: AnyRequest) -> Response[Any]:
        return idempotent(ctx.db, request, lambda s: recoveries.reject_repayment(
            s, repayment_id, reason=data.reason, principal=request.user, clock=ctx.clock), body=data,
            clock=ctx.clock)


ROUTES: list[Any] = [PaymentBatchController, CasePaymentController, PayeeChangeController, FundController,
                     SharedAccountController,
                     RecoveryController, RepaymentController]
