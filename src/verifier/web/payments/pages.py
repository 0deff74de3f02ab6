"""The payment pages' routes: the list of batches (and a new batch), a batch and its actions, the bank file and the
bank's return."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from litestar import Controller, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, MultipartBody, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ...cases import numbers as case_numbers
from ...domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ...http import Ctx, get, post
from ...payments import bankfiles, batch_list, one_account, payees
from ...payments import service as pay
from ...payments.routes import bank_file_response
from ...store.paged import fold_search
from ...uploads import check_size, size_of
from .. import paging
from .. import stagelabels as sl
from ..common import Req, clean, confirmed, counties_of, folded, page, see_other, user_names
from ..paging import Pager, page_param
from .batch_page import render_batch
from .cards import stopped_said
from .roles import CANCELLERS, CLAIMS, FINANCE, PAYEE_EDITORS, READERS, REVIEWER, Id


class _NotConfirmed(Exception):
    """An action taken without its box: what it wrote is rolled back."""


def _list_page(request: Req, ctx: Any, *, status: str | None = None, todo: str | None = None,
               county_code: str | None = None, q: str = "", page_no: str | None = None, status_code: int = 200,
               create_errors: list[str] | None = None, create_skipped: list[tuple[str, str]] | None = None,
               deciding: bool = False) -> Template:
    """`deciding` (with a `todo` of `batch_list.DECIDED`): only the batches the user may approve, sign off or release
    there now (the home card's count, `batch_list.waiting`); the page says how many nobody can take now, and why,
    and, empty, how many wait for someone else."""
    user = request.user
    q = fold_search(q)
    deciding = deciding and todo in batch_list.DECIDED
    with ctx.db.read() as session:
        waiting = batch_list.waiting(session, user, todo or "", ctx.vault, ctx.clock.today()) if deciding else None
        found = batch_list.find_batches(session, user, status=status or None, todo=todo or None,
                                        county_code=county_code or None, q=q, page=page_param(page_no),
                                        page_size=paging.PAGE_SIZE,
                                        only=waiting.mine if waiting is not None else None)
        batches = found.items
        ready = batch_list.ready_by_county(session, user) if user.has("insurer_claims") else []
        unposted = batch_list.waiting_for_the_wall(session, user) if user.has("insurer_claims") else 0
        objected = batch_list.waiting_for_objections(session, user) if user.has("insurer_claims") else 0
        shared_held = one_account.held_ready(session, user, ctx.clock.today()) if user.has("insurer_claims") else 0
        failed = [(c, c.household.head_name) for c in batch_list.failed_cases(session, user)]
        failed_total = batch_list.count_failed(session, user) if len(failed) == batch_list.FAILED_SHOWN else len(failed)
        asked = payees.cases_waiting_for_approval(session, [c.id for c, _ in failed])
        numbers = case_numbers.numbers_of(session, [case_id for case_id, _ in create_skipped or []])
        names = user_names(session, [b.prepared_by for b in batches])
        counties = counties_of(session, user)
    filters = {"status": "" if todo else status or "", "todo": todo or "", "county_code": county_code or "", "q": q,
               "to_decide": "1" if deciding else ""}
    pager = Pager.over("/payments", filters, found)
    export = Pager.of("/payments/export.xlsx", filters, page=1, pages=1, total=0)  # as the case list's ledger
    return page(request, "payments.html", status_code=status_code, batches=batches, pager=pager, q=q,
                export_url=export.url(),
                status=status or "", todo=todo or "", county_code=county_code or "", names=names,
                ready=ready, failed=failed, failed_total=failed_total, asked=asked, counties=counties, sl=sl, todos=sl.BATCH_TODO, acts=sl.BATCH_TODO_ACT, others_who=sl.BATCH_TODO_OTHERS,
                create_errors=create_errors or [], create_skipped=create_skipped or [],
                numbers=numbers, unposted=unposted, objected=objected, shared_held=shared_held,
                can_create=user.has("insurer_claims"), can_correct=user.has(*PAYEE_EDITORS["roles"]),
                can_see_changes=user.has(*payees.APPROVERS), to_decide=deciding,
                others=waiting.others if waiting is not None else 0,
                stopped=stopped_said(waiting, todo or "") if waiting is not None else "")


def _items(data: Any) -> dict[str, Any]:
    """The item search and page a batch action's form carried (the page's `listed()`), for the page it comes back to:
    approving or cancelling a batch searched for one payee kept that search."""
    form = data if isinstance(data, dict) else {}
    number = folded(form.get("page"))
    return {"q": clean(form.get("q"))[:200], "page_no": number if number.isdigit() and number != "1" else None}


class PaymentPages(Controller):
    path = "/payments"

    @get("/", opt=READERS)
    def list_batches(
        self, ctx: Ctx, request: Req,
        status: FromQuery[Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled", ""]] = "",
        todo: FromQuery[Literal["approve", "signoff", "release", "return", ""]] = "",
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        q: Annotated[str, Parameter(max_length=200)] = "",
        page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
        to_decide: Annotated[str, QueryParameter(max_length=1)] = "",
    ) -> Template:
        """The batches, by status or 待办, county and search; `to_decide=1` with 待审批, 待县级签批 or 待发放: those the
        user may approve, sign off or release now (the home card's count)."""
        return _list_page(request, ctx, status=status, todo=todo, county_code=county_code, q=q, page_no=page_no,
                          deciding=to_decide == "1")

    @get("/export.xlsx", opt=READERS)
    def export(
        self, ctx: Ctx, request: Req,
        status: FromQuery[Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled", ""]] = "",
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        todo: FromQuery[Literal["approve", "signoff", "release", "return", ""]] = "",
        q: Annotated[str, Parameter(max_length=200)] = "",
        to_decide: Annotated[str, QueryParameter(max_length=1)] = "",
    ) -> Response[bytes]:
        """The list's batches, all its pages: status or 待办, county, search and 待我审批/签批 (the link carries them)."""
        from .. import exports

        return exports.batches_response(ctx, request.user, "" if todo else status, county_code, todo, fold_search(q),
                                        to_decide=to_decide == "1")

    @get("/{batch_id:str}/items.xlsx", opt=READERS)
    def items_xlsx(self, batch_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        from .. import exports

        return exports.batch_items_response(ctx, request.user, batch_id)

    @post("/", opt=CLAIMS, status_code=303)
    def create(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        county = folded(data.get("county_code"))
        contract_id = folded(data.get("contract_id")) or None
        try:
            if not county.isdigit() or len(county) != 6:
                raise ValidationFailed.one("county_code", f"县（区）代码为 6 位数字，填写的是“{county}”")
            case_ids = None
            if clean(data.get("choose")) == "1":  # the form listed the cases to tick
                raw = data.get("case_ids")
                case_ids = [folded(v)[:40] for v in (raw if isinstance(raw, list) else [raw] if raw else [])]
                if not case_ids:
                    raise ValidationFailed.one("case_ids", "请至少选择一户待支付案件")
            with ctx.db.begin() as session:
                created = pay.create_batch(session, county_code=county, contract_id=contract_id,
                                           principal=request.user, clock=ctx.clock, case_ids=case_ids)
        except ValidationFailed as exc:
            skipped = [(e.field[5:], sl.skip_reason_zh(e.message)) for e in exc.errors if e.field.startswith("case ")]
            errors = [sl.zh(e.message) for e in exc.errors if not e.field.startswith("case ")]
            return _list_page(request, ctx, status_code=422, create_errors=errors, create_skipped=skipped)
        except InvalidState as exc:
            return _list_page(request, ctx, status_code=409, create_errors=[sl.zh(exc.detail)])
        return see_other(f"/payments/{created.id}", done="batch")

    @get("/{batch_id:str}", opt=READERS)
    def show(self, batch_id: Id, ctx: Ctx, request: Req,
             q: Annotated[str, Parameter(max_length=200)] = "",
             page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return render_batch(request, ctx, batch_id, q=q, page_no=page_no)

    def _act(self, ctx: Any, request: Req, batch_id: str, run: Any, done: str,
             confirm: str | None = None, data: Any = None, typed: dict[str, str] | None = None,
             undone_by: str = "") -> Any:
        """Run a batch action; one that cannot be undone (`confirm` names it) only with its confirmation box ticked
        (one undone only by another step, `undone_by`, asks too, money being committed meanwhile; who may not take it
        at all is told so first, as without the box).
        Refused, the page shows its form again with what was `typed` in it. Done or refused, the batch comes back
        with the item search and page its form carried (`_items`)."""
        unconfirmed = confirm is not None and not confirmed(data)
        items = _items(data)
        if unconfirmed and not undone_by:
            return render_batch(request, ctx, batch_id, status_code=422, typed=typed, **items,
                                message=f"{confirm}不能撤回：请先勾选确认框，再点击按钮。本次未做任何更改。")
        try:
            with ctx.db.begin() as session:
                run(session)
                if unconfirmed:  # who may not act is told why before the box: the action tried, and rolled back
                    raise _NotConfirmed
        except _NotConfirmed:
            return render_batch(request, ctx, batch_id, status_code=422, typed=typed, **items,
                                message=f"{confirm}后只能{undone_by}：请先勾选确认框，再点击按钮。本次未做任何更改。")
        except (InvalidState, Forbidden) as exc:
            return render_batch(request, ctx, batch_id, status_code=exc.status, message=exc.detail, typed=typed,
                                **items)
        except ValidationFailed as exc:  # 回避 (the batch holds a household of the caller's family)
            return render_batch(request, ctx, batch_id, status_code=422, typed=typed, **items,
                                message="；".join(e.message for e in exc.errors))
        return see_other(f"/payments/{batch_id}", q=items["q"] or None, page=items["page_no"], done=done)

    @post("/{batch_id:str}/approve", opt=FINANCE, status_code=303)
    def approve(self, batch_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._act(ctx, request, batch_id, lambda s: pay.approve(s, batch_id, principal=request.user,
                                                                       vault=ctx.vault, clock=ctx.clock),
                         "batch_approved", confirm="审批通过", data=data, undone_by="撤销整个批次")

    @post("/{batch_id:str}/signoff", opt=REVIEWER, status_code=303)
    def signoff(self, batch_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        opinion = clean(data.get("opinion"))[:2000]
        return self._act(ctx, request, batch_id, lambda s: pay.county_signoff(
            s, batch_id, principal=request.user, vault=ctx.vault, clock=ctx.clock, opinion=opinion), "batch_signed_off",
            confirm="县级签批", data=data, typed={"signoff": opinion})

    @post("/{batch_id:str}/signoff-refuse", opt=REVIEWER, status_code=303)
    def refuse_signoff(self, batch_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Refuse the sign-off with an opinion: the batch goes back to prepared (its commitment released)."""
        opinion = clean(data.get("opinion"))[:2000]
        if not opinion:
            return render_batch(request, ctx, batch_id, status_code=422, **_items(data),
                                message="请填写审核意见，说明不同意签批的理由。本次未做任何更改。")
        return self._act(ctx, request, batch_id, lambda s: pay.refuse_signoff(
            s, batch_id, opinion=opinion, principal=request.user, vault=ctx.vault, clock=ctx.clock), "signoff_refused",
            confirm="不同意签批、退回批次", data=data, typed={"signoff-refuse": opinion})

    @post("/{batch_id:str}/items/{item_id:str}/remove", opt=CLAIMS, status_code=303)
    def remove_item(self, batch_id: Id, item_id: Id, ctx: Ctx, request: Req,
                    data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Take a case out of the batch before approval, with a reason: the case is ready to pay again."""
        reason = clean(data.get("reason"))[:500]
        if not reason:
            return render_batch(request, ctx, batch_id, status_code=422, **_items(data),
                                message="请填写移出原因。本次未做任何更改。")
        try:
            return self._act(ctx, request, batch_id, lambda s: pay.remove_item(
                s, batch_id, item_id, reason=reason, principal=request.user, clock=ctx.clock), "item_removed",
                confirm="移出批次", data=data, typed={f"remove-{item_id}": reason})
        except NotFound as exc:
            return render_batch(request, ctx, batch_id, status_code=404, message=exc.detail, **_items(data))

    @post("/{batch_id:str}/release", opt=FINANCE, status_code=303)
    def release(self, batch_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._act(ctx, request, batch_id, lambda s: pay.release(s, batch_id, principal=request.user,
                                                                       vault=ctx.vault, clock=ctx.clock),
                         "batch_released", confirm="发放", data=data)

    @post("/{batch_id:str}/cancel", opt=CANCELLERS, status_code=303)
    def cancel(self, batch_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._act(ctx, request, batch_id, lambda s: pay.cancel(s, batch_id, principal=request.user,
                                                                      clock=ctx.clock), "batch_cancelled",
                         confirm="撤销批次", data=data)

    @get("/{batch_id:str}/bank-file", opt=FINANCE)
    def bank_file(self, batch_id: Id, ctx: Ctx, request: Req,
                  fmt: Annotated[Literal["csv", "csv-excel", "csv-gbk", "xlsx"], QueryParameter(name="format")] = "csv",
                  ) -> Response[bytes]:
        return bank_file_response(ctx, batch_id, request.user, fmt)

    @post("/{batch_id:str}/bank-return", opt=FINANCE, status_code=303)
    def bank_return(self, batch_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        upload = data.get("file") if isinstance(data, dict) else None
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render_batch(request, ctx, batch_id, status_code=422,
                                return_errors=[FieldError("file", "请选择银行回单文件（CSV）")])
        upload.file.seek(0)
        limits = ctx.settings.imports
        try:
            check_size(size_of(upload.file), limits)
            content = upload.file.read(limits.max_bytes + 1)
            lines, line_problems = bankfiles.read_return(content, limits)
            filename = "".join(ch for ch in upload.filename if ch.isprintable())[:255] or "return.csv"
            with ctx.db.begin() as session:
                _, repeated = pay.import_return(session, batch_id, lines, file_sha256=hashlib.sha256(content).hexdigest(),
                                                filename=filename, principal=request.user, clock=ctx.clock,
                                                line_problems=line_problems, vault=ctx.vault)
        except ValidationFailed as exc:
            return render_batch(request, ctx, batch_id, status_code=exc.status, return_errors=exc.errors)
        except InvalidState as exc:
            return render_batch(request, ctx, batch_id, status_code=409, message=exc.detail)
        return see_other(f"/payments/{batch_id}", done="return_repeated" if repeated else "return")
