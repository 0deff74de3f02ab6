"""Payment pages: the batches of the user's counties, a batch with its items (and those whose payee was changed),
its steps and the actions the user may take now (and, when an expected one is missing, why), the bank file and
the bank's return, and the fund of each contract. The payee change pages are in payees.py.

Who may do what is the payments service's: the pages offer only the actions it would accept, and say why another
is not offered (the four-eyes rules apply to every person whatever roles they hold).
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from litestar import Controller, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, MultipartBody, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases import numbers as case_numbers
from ..cases import service as case_service
from ..domain.money import parse_yuan
from ..domain.errors import (
    FieldError,
    Forbidden,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from ..http import Ctx, get, post
from ..payments import bankfiles, ledger, payees
from ..payments import batch_list
from ..payments import service as pay
from ..payments.schemas import BatchOut, ChangedPayeeOut
from ..store import contracts as contract_store
from ..store.paged import fold_search
from ..uploads import check_size, size_of
from . import paging
from . import stagelabels as sl
from .paging import Pager, page_param
from .common import (
    Req,
    clean,
    confirmed,
    folded,
    counties_of,
    page,
    see_other,
    user_names,
)
from .templating import yuan

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
READER_ROLES = ("insurer_claims", "finance", "county_reviewer", "insurer_supervisor", "auditor", "admin")
READERS: dict[str, Any] = {"roles": READER_ROLES}
CLAIMS: dict[str, Any] = {"roles": ("insurer_claims",)}
FINANCE: dict[str, Any] = {"roles": ("finance",)}
REVIEWER: dict[str, Any] = {"roles": ("county_reviewer",)}
CANCELLERS: dict[str, Any] = {"roles": ("insurer_claims", "finance")}
PAYEE_EDITORS: dict[str, Any] = {"roles": payees.REQUESTERS}
CHOOSE_AT_MOST = 500  # a county with more cases ready to pay gets a batch of all of them (no list to tick)


# --- The list of batches ---------------------------------------------------------------------------------------


def _list_page(request: Req, ctx: Any, *, status: str | None = None, todo: str | None = None,
               county_code: str | None = None, q: str = "", page_no: str | None = None, status_code: int = 200,
               create_errors: list[str] | None = None, create_skipped: list[tuple[str, str]] | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        found = batch_list.find_batches(session, user, status=status or None, todo=todo or None,
                                        county_code=county_code or None, q=q, page=page_param(page_no),
                                        page_size=paging.PAGE_SIZE)
        batches = found.items
        ready = batch_list.ready_by_county(session, user) if user.has("insurer_claims") else []
        unposted = batch_list.waiting_for_the_wall(session, user) if user.has("insurer_claims") else 0
        choices = {county: pay.ready_to_pay(session, county, user) for county in {c for c, _, n in ready}
                   if sum(n for cc, _, n in ready if cc == county) <= CHOOSE_AT_MOST}
        failed = [(c, c.household.head_name) for c in batch_list.failed_cases(session, user)]
        asked = payees.cases_waiting_for_approval(session, [c.id for c, _ in failed])
        numbers = case_numbers.numbers_of(session, [c["case_id"] for listed in choices.values() for c in listed]
                                          + [case_id for case_id, _ in create_skipped or []])
        names = user_names(session, [b.prepared_by for b in batches])
        counties = counties_of(session, user)
    pager = Pager.over("/payments", {"status": "" if todo else status or "", "todo": todo or "",
                                     "county_code": county_code or "", "q": q}, found)
    return page(request, "payments.html", status_code=status_code, batches=batches, pager=pager, q=q,
                status=status or "", todo=todo or "", county_code=county_code or "", names=names,
                ready=ready, failed=failed, asked=asked, counties=counties, sl=sl, todos=sl.BATCH_TODO,
                create_errors=create_errors or [], create_skipped=create_skipped or [], choices=choices,
                numbers=numbers, unposted=unposted,
                choose_at_most=CHOOSE_AT_MOST,
                can_create=user.has("insurer_claims"), can_correct=user.has(*PAYEE_EDITORS["roles"]))


# --- One batch ---------------------------------------------------------------------------------------------------


def _steps(b: BatchOut) -> list[dict[str, Any]]:
    steps = [{"label": "制单", "by": b.prepared_by, "at": b.prepared_at, "done": True}]
    steps.append({"label": "财务审批", "by": b.approved_by, "at": b.approved_at, "done": b.approved_at is not None})
    if b.signoff_required or b.signed_off_at is not None:
        steps.append({"label": "县级签批", "by": b.signed_off_by, "at": b.signed_off_at,
                      "done": b.signed_off_at is not None})
    steps.append({"label": "发放（生成银行文件）", "by": b.released_by, "at": b.released_at,
                  "done": b.released_at is not None})
    steps.append({"label": "对账完成", "by": None, "at": b.reconciled_at, "done": b.reconciled_at is not None})
    if b.cancelled_at is not None:
        steps.append({"label": "撤销", "by": b.cancelled_by, "at": b.cancelled_at, "done": True})
    return steps


def _actions(b: BatchOut, user: Principal, changed: list[ChangedPayeeOut]) -> tuple[dict[str, bool], list[str]]:
    """What the user may do with the batch now, and notes on what they may not (and what the batch waits for)."""
    st = b.status
    acts = dict.fromkeys(("approve", "signoff", "release", "cancel", "bank_file", "bank_return", "remove"), False)
    acts["remove"] = st == "prepared" and user.has("insurer_claims") and b.item_count > 1
    notes: list[str] = []
    mine = next((c for c in changed if user.id in (c.requested_by, c.approved_by)), None)
    if mine is not None and st in ("prepared", "approved", "signed_off") and user.has("finance"):
        if mine.source == "check":
            did = "登记" if user.id == mine.requested_by else "确认"
            what = "重新核查（其登记的收款人与首次记录的不同）"
        else:
            did, what = ("申请" if user.id == mine.requested_by else "批准"), "收款人变更"
        notes.append(f"您{did}了本批次中案件 {mine.case_id} 的{what}：按职责分离规定，不能审批或发放本批次，"
                     "须由其他财务人员办理。")
    if st == "prepared":
        if user.has("finance") and user.id == b.prepared_by:
            notes.append("您是本批次的制单人：按“四眼原则”，不能审批自己制作的批次，须由另一名财务人员审批。")
        elif user.has("finance") and mine is None:
            acts["approve"] = True
        else:
            notes.append("下一步：财务人员审批（制单人以外的财务人员）。")
    if st == "approved" and b.signoff_required:
        threshold = (f"本批次金额 {yuan(b.total)} 元，达到合同规定的县级签批金额 {yuan(b.signoff_threshold)} 元"
                     if not _split(b) else f"本批次与当日其他未经县级签批的批次合计达到合同规定的县级签批金额 "
                                           f"{yuan(b.signoff_threshold)} 元")
        if user.has("county_reviewer") and user.id in (b.prepared_by, b.approved_by):
            notes.append("您参与了本批次的制单或审批：按“四眼原则”，县级签批须由其他县级审核人员办理。")
        elif user.has("county_reviewer"):
            acts["signoff"] = True
        else:
            notes.append(f"{threshold}：须经县级审核人员签批后方可发放。")
    if st == "signed_off" or (st == "approved" and not b.signoff_required):
        if user.has("finance") and mine is None:
            acts["release"] = True
        elif user.has("finance"):
            pass  # said above
        else:
            notes.append("下一步：财务人员发放，生成银行文件。")
    if st in ("prepared", "approved", "signed_off"):
        acts["cancel"] = user.has("insurer_claims", "finance")
        if user.has("finance"):
            notes.append("批次发放后方可下载银行文件、导入银行回单。")
    if st in ("released", "reconciled"):
        if user.has("finance"):
            acts["bank_file"] = True
            acts["bank_return"] = st == "released" and user.id != b.released_by
            if st == "released" and user.id == b.released_by:
                notes.append("您发放了本批次：按“四眼原则”，银行回单须由另一名财务人员导入。")
        elif st == "released":
            notes.append("下一步：财务人员把银行文件交银行，并导入银行回单。")
    return acts, notes


def render_batch(request: Req, ctx: Any, batch_id: str, *, status_code: int = 200, message: str | None = None,
                 return_errors: list[FieldError] | None = None, q: str = "", page_no: str | None = None,
                 typed: dict[str, str] | None = None) -> Template:
    """The batch page; after a refused action, `typed` gives back what its form held (an opinion, a reason) by the
    form's id (signoff, signoff-refuse, remove-<item id>)."""
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        batch = pay.get_batch(session, batch_id, user)
        b = pay.batch_out(session, batch)
        items = batch_list.find_batch_items(session, batch.id, user, ctx.vault, q=q, page=page_param(page_no),
                                            page_size=paging.PAGE_SIZE)
        changed = payees.changed_items(session, batch.id, ctx.vault)
        shared = pay.shared_accounts(session, batch, ctx.vault)
        statuses = case_service.statuses_of(session, [i.case_id for i in items.items])
        returns = batch_list.bank_returns_of(session, batch.id)
        created = batch_list.creation_payload(session, batch.id)
        contract = contract_store.get_contract(session, batch.contract_id)
        steps = _steps(b)
        names = user_names(session, [s["by"] for s in steps] + [r.imported_by for r in returns]
                           + [b.signoff_refused_by or ""] + [i.removed_by or "" for i in items.items]
                           + [c.requested_by for c in changed] + [c.approved_by for c in changed])
        shared_cases = case_service.cases_by_id(session, [c for a in shared for c in a.case_ids])
        heads = {cid: c.household.head_name for cid, c in shared_cases.items()}
        numbers = case_numbers.numbers_of(session, [i.case_id for i in items.items] + [c.case_id for c in changed]
                                          + [c for a in shared for c in a.case_ids]
                                          + [s["case_id"] for s in created.get("skipped", [])])
    skipped = [(s["case_id"], sl.skip_reason_zh(s["reason"])) for s in created.get("skipped", [])]
    acts, notes = _actions(b, user, changed)
    bad_lines = [{"row": e.row, "field": sl.field_zh(e.field), "message": sl.zh(e.message)}
                 for e in (return_errors or [])]
    return page(request, "payment_batch.html", status_code=status_code, b=b, items=items.items, q=q,
                pager=Pager.over(f"/payments/{b.id}", {"q": q}, items), statuses=statuses, returns=returns, skipped=skipped,
                steps=steps, names=names, acts=acts, notes=notes, message=sl.zh(message) if message else None,
                bad_lines=bad_lines, contract=contract, sl=sl, can_correct=user.has(*PAYEE_EDITORS["roles"]),
                changed=changed, shared=shared, heads=heads, numbers=numbers, split=_split(b), typed=typed or {})


def _split(b: BatchOut) -> bool:
    """Whether the batch needs the county's sign-off only with the day's other batches (it is under the threshold)."""
    return b.signoff_required and parse_yuan(b.total) < parse_yuan(b.signoff_threshold)


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
    ) -> Template:
        return _list_page(request, ctx, status=status, todo=todo, county_code=county_code, q=q, page_no=page_no)

    @get("/export.xlsx", opt=READERS)
    def export(
        self, ctx: Ctx, request: Req,
        status: FromQuery[Literal["prepared", "approved", "signed_off", "released", "reconciled", "cancelled", ""]] = "",
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
    ) -> Response[bytes]:
        from . import exports

        return exports.batches_response(ctx, request.user, status, county_code)

    @get("/{batch_id:str}/items.xlsx", opt=READERS)
    def items_xlsx(self, batch_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        from . import exports

        return exports.batch_items_response(ctx, request.user, batch_id)

    @post("/", opt=CLAIMS, status_code=303)
    def create(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        county = folded(data.get("county_code"))
        contract_id = folded(data.get("contract_id")) or None
        try:
            if not county.isdigit() or len(county) != 6:
                raise ValidationFailed.one("county_code", "a county code is six digits, got " + repr(county))
            case_ids = None
            if clean(data.get("choose")) == "1":  # the form listed the cases to tick
                raw = data.get("case_ids")
                case_ids = [folded(v)[:40] for v in (raw if isinstance(raw, list) else [raw] if raw else [])]
                if not case_ids:
                    raise ValidationFailed.one("case_ids", "choose at least one case ready to pay")
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
             confirm: str | None = None, data: Any = None, typed: dict[str, str] | None = None) -> Any:
        """Run a batch action; one that cannot be undone (`confirm` names it) only with its confirmation box ticked.
        Refused, the page shows its form again with what was `typed` in it."""
        if confirm is not None and not confirmed(data):
            return render_batch(request, ctx, batch_id, status_code=422, typed=typed,
                                message=f"{confirm}不能撤回：请先勾选确认框，再点击按钮。本次未做任何更改。")
        try:
            with ctx.db.begin() as session:
                run(session)
        except (InvalidState, Forbidden) as exc:
            return render_batch(request, ctx, batch_id, status_code=exc.status, message=exc.detail, typed=typed)
        return see_other(f"/payments/{batch_id}", done=done)

    @post("/{batch_id:str}/approve", opt=FINANCE, status_code=303)
    def approve(self, batch_id: Id, ctx: Ctx, request: Req) -> Any:
        return self._act(ctx, request, batch_id, lambda s: pay.approve(s, batch_id, principal=request.user,
                                                                       vault=ctx.vault, clock=ctx.clock),
                         "batch_approved")

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
            return render_batch(request, ctx, batch_id, status_code=422,
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
            return render_batch(request, ctx, batch_id, status_code=422,
                                message="请填写移出原因。本次未做任何更改。")
        try:
            return self._act(ctx, request, batch_id, lambda s: pay.remove_item(
                s, batch_id, item_id, reason=reason, principal=request.user, clock=ctx.clock), "item_removed",
                confirm="移出批次", data=data, typed={f"remove-{item_id}": reason})
        except NotFound as exc:
            return render_batch(request, ctx, batch_id, status_code=404, message=exc.detail)

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
        with ctx.db.read() as session:
            file = pay.bank_file(session, batch_id, principal=request.user, vault=ctx.vault, fmt=fmt)
        with ctx.db.begin() as session:
            pay.record_bank_file(session, batch_id, file, fmt=fmt, principal=request.user, clock=ctx.clock)
        return Response(content=file.content, media_type=file.media_type, headers={
            "Content-Disposition": f'attachment; filename="{file.filename}"', "Cache-Control": "no-store",
            "X-Content-SHA256": file.sha256})

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
                                                line_problems=line_problems)
        except ValidationFailed as exc:
            return render_batch(request, ctx, batch_id, status_code=exc.status, return_errors=exc.errors)
        except InvalidState as exc:
            return render_batch(request, ctx, batch_id, status_code=409, message=exc.detail)
        return see_other(f"/payments/{batch_id}", done="return_repeated" if repeated else "return")


# --- The fund ----------------------------------------------------------------------------------------------------


class FundPages(Controller):
    path = "/fund"

    @get("/", opt=READERS)
    def fund(self, ctx: Ctx, request: Req,
             contract_id: Annotated[str | None, Parameter(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = None) -> Template:
        user = request.user
        with ctx.db.read() as session:
            contracts = [c for c in contract_store.all_contracts(session)
                         if not user.counties or set(c.county_codes) & set(user.counties)]
            if contract_id:
                chosen = [c for c in contracts if c.id == contract_id]
                if not chosen:
                    raise NotFound(f"no contract {contract_id!r}")
            else:
                chosen = contracts
            funds = []
            for c in chosen:
                summary = pay.fund_summary(session, c.id, user)
                # The latest movements first (the service pages them oldest first).
                moves = ledger.latest_movements(session, c.id, limit=30)
                codes = batch_list.batch_codes(session, {m.batch_id for m in moves if m.batch_id})
                funds.append({"contract": c, "summary": summary, "moves": moves, "codes": codes})
            names = user_names(session, [m.created_by for f in funds for m in f["moves"]])
        return page(request, "fund.html", funds=funds, contracts=contracts, contract_id=contract_id or "",
                    names=names, sl=sl, pairs=ledger.MOVEMENTS)


# --- Home page cards ---------------------------------------------------------------------------------------------


def home_cards(session: Session, user: Principal, counts: dict[str, int]) -> list[dict[str, Any]]:
    """The home page's payment cards for the user's roles."""
    cards: list[dict[str, Any]] = []

    def card(title: str, href: str | None, count: int | None = None, note: str = "") -> None:
        cards.append({"title": title, "href": href, "count": count, "note": note})

    if user.has("insurer_claims"):
        card("待支付", "/payments", counts.get("ready_to_pay", 0), "公示期满、可生成支付批次的案件")
    if user.has("insurer_claims", "finance"):
        card("支付中", "/cases?status=in_batch", counts.get("in_batch", 0))
    if user.has("finance"):
        card("待审批批次", "/payments?todo=approve",
             batch_list.count_waiting(session, user, "approve"),
             "制单人以外的财务人员审批")
        card("待发放批次", "/payments?todo=release", batch_list.count_waiting(session, user, "release"))
        card("待导入银行回单", "/payments?todo=return", batch_list.count_waiting(session, user, "return"))
    if user.has("finance", "insurer_supervisor"):
        card("支付失败待更正", "/payments#failed", counts.get("payment_failed", 0), "更正收款信息后重新支付")
    if user.has(*payees.APPROVERS):
        card("待审批的收款人变更", "/payee-changes", payees.pending_for(session, user),
             "收款人变更须由申请人以外的人员批准")
    if user.has("county_reviewer"):
        card("待县级签批批次", "/payments?todo=signoff", batch_list.count_waiting(session, user, "signoff"),
             "金额达到合同规定的县级签批金额")
    if user.has("finance", "county_reviewer", "auditor"):
        card("资金情况", "/fund", None, "预算、已占用、已支付、服务费和余额")
    return cards
