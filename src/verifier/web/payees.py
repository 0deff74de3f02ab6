"""Payee change pages: a case's "request a change of payee" form, and the list of changes waiting for a second
person's approval, with approve and reject buttons.

The rules are the payments service's (verifier.payments.payees): the pages offer the buttons, the service decides.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, Literal

from litestar import Controller
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..store.reader import session_reader
from ..cases.workflow import load_case
from ..domain.errors import Forbidden, InvalidState, ValidationFailed
from ..http import Ctx, get, post
from ..payments import payees
from ..payments.one_account import STAFF_HOLD_REASON as OWN_ACCOUNT
from ..payments import service as pay
from ..payments.schemas import PayeeChangeOut
from ..store.paged import fold_search
from . import paging
from . import stagelabels as sl
from .labels import labelled
from .common import (FormState, Req, clean, confirmed, counties_of, folded, form_state, numbered, page,
                     see_other, user_names)
from .paging import Pager, page_param

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
REQUESTERS: dict[str, Any] = {"roles": payees.REQUESTERS}
APPROVERS: dict[str, Any] = {"roles": payees.APPROVERS}
PAYEE_FIELDS = ("account_name", "bank", "account_number", "reason")


def render_request(request: Req, ctx: Any, case_id: str, state: FormState, *, status_code: int = 200,
                   message: str | None = None) -> Template:
    with ctx.db.read() as session:
        case = load_case(session, case_id, request.user)
        head = case.household.head_name
        payee = pay.current_payee(session, case.id, ctx.vault)
        payments = pay.payments_for_case(session_reader(session), case.id, ctx.vault)
        changes, _ = payees.list_changes(session, request.user, ctx.vault, case_id=case.id, limit=20)
        names = user_names(session, [c.requested_by for c in changes] + [c.decided_by or "" for c in changes])
        warnings = payees.warnings_for(session, changes, request.user, ctx.vault, ctx.clock.today())
        staff_own = payees.staff_warnings_for(session, changes)
        changeable = payees.may_change(session, case)
        pending = next((c for c in changes if c.status == "pending"), None)
        barred = payees.change_bar(session, case, request.user, failed_item=payees.failed_item_of(session, case),
                                   step="payee_request") if changeable and pending is None else None
    allowed = changeable and pending is None and barred is None
    if not changeable and message is None:
        status_code = 409
        message = payees.not_changeable(case)
    return page(request, "payee.html", status_code=status_code, case=case, head=head, payee=payee,
                payments=payments, allowed=allowed, form=state, message=sl.zh(message) if message else None, sl=sl,
                failed=case.status == "payment_failed", changes=changes, pending=pending, barred=barred, names=names,
                warnings=warnings, staff_own=staff_own, staff_words=OWN_ACCOUNT)


def _raw(value: Any) -> str:
    """A typed name as typed (composed like `clean`, but not trimmed: a leading tab is refused, not dropped)."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else ""


class PayeePages(Controller):
    path = "/cases/{case_id:str}/payee"

    @get("/", opt=REQUESTERS)
    def form(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        return render_request(request, ctx, case_id, FormState())

    @post("/", opt=REQUESTERS, status_code=303)
    def ask(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        try:
            with ctx.db.begin() as session:
                payees.request_change(session, case_id, account_name=_raw(data.get("account_name")),
                                      bank=_raw(data.get("bank")),
                                      account_number=folded(data.get("account_number")),
                                      reason=clean(data.get("reason")), principal=request.user, vault=ctx.vault,
                                      clock=ctx.clock)
        except ValidationFailed as exc:
            state = form_state(data, None, PAYEE_FIELDS)
            for e in exc.errors:
                if e.field in PAYEE_FIELDS:
                    state.add(e.field, sl.zh(e.message))
                else:
                    state.general.append(labelled(sl.field_zh(e.field), sl.zh(e.message)))
            return render_request(request, ctx, case_id, state, status_code=422)
        except InvalidState as exc:
            return render_request(request, ctx, case_id, form_state(data, None, PAYEE_FIELDS), status_code=409,
                                  message=exc.detail)
        return see_other(f"/cases/{case_id}/payee", done="payee_requested")


def render_changes(request: Req, ctx: Any, *, status: str = "pending", county_code: str = "", q: str = "",
                   page_no: str | None = None, status_code: int = 200, message: str | None = None,
                   todo: str = "") -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        found = payees.find_changes(session, user, ctx.vault, status=status or None, county_code=county_code or None,
                                    q=q, page=page_param(page_no), page_size=paging.PAGE_SIZE,
                                    to_decide=todo == "decide")
        changes = found.items
        names = user_names(session, [c.requested_by for c in changes] + [c.decided_by or "" for c in changes])
        warnings = payees.warnings_for(session, changes, user, ctx.vault, ctx.clock.today())
        staff_own = payees.staff_warnings_for(session, changes)
        bars = payees.decide_bars(session, changes, user)
        counties = counties_of(session, user)
        said = numbered(session, sl.zh(message) if message else None)
    pager = Pager.over("/payee-changes", {"status": status or "all", "county_code": county_code, "q": q,
                                          "todo": todo}, found)
    return page(request, "payee_changes.html", status_code=status_code, changes=changes, names=names,
                counties=counties, status=status, county_code=county_code, q=q, pager=pager, sl=sl, warnings=warnings,
                staff_own=staff_own, staff_words=OWN_ACCOUNT, todo=todo,
                message=said, may=lambda c: _may_decide(c, user, bars))


def _may_decide(change: PayeeChangeOut, user: Any, bars: dict[str, str]) -> dict[str, Any]:
    """Which buttons the user gets for a pending change, and why not when none (`bars`: the steps' own refusals)."""
    if change.status != "pending":
        return {"approve": False, "reject": False, "why": ""}
    if user.id == change.requested_by:
        return {"approve": False, "reject": False, "why": "这是您本人提出的申请，须由其他人员审批。"}
    if not user.has(*payees.APPROVERS):
        return {"approve": False, "reject": False, "why": ""}
    if change.id in bars:
        return {"approve": False, "reject": False, "why": bars[change.id]}
    if not change.name_in_household and not user.has("county_reviewer"):
        return {"approve": False, "reject": True,
                "why": "新收款人不是本户家庭成员，只能由县级审核人员批准。"}
    return {"approve": True, "reject": True, "why": ""}


# An approval sent without its box: the money would go to another account from now on, so a stray click or a double
# click never does it.
APPROVE_UNCONFIRMED = ("批准收款人变更后，保障金将付给新收款人的账号，不能撤回：请核对新收款人和账号，"
                       "勾选“已核对，确认批准”后再点“批准”")


class PayeeChangePages(Controller):
    path = "/payee-changes"

    @get("/", opt=APPROVERS)
    def list_changes(
        self, ctx: Ctx, request: Req,
        status: FromQuery[Literal["pending", "approved", "rejected", "all", ""]] = "pending",
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        q: Annotated[str, Parameter(max_length=200)] = "",
        page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
        todo: FromQuery[Literal["decide", ""]] = "",
    ) -> Template:
        """`todo=decide`: only the pending changes the user may answer (not their own), the home page card's."""
        return render_changes(request, ctx, status="" if status == "all" else status, county_code=county_code, q=q,
                              page_no=page_no, todo=todo)

    def _decide(self, ctx: Any, request: Req, change_id: str, approve: bool, note: str, *, confirm: bool = True) -> Any:
        decide = payees.approve_change if approve else payees.reject_change
        try:
            if not confirm:  # who may not approve, or comes too late, is told so before the box
                with ctx.db.read() as session:
                    payees.may_decide(session, change_id, approve=approve, note=note, principal=request.user,
                                      vault=ctx.vault, clock=ctx.clock)
            else:
                with ctx.db.begin() as session:
                    decide(session, change_id, note=note, principal=request.user, vault=ctx.vault, clock=ctx.clock)
        except (InvalidState, Forbidden) as exc:
            return render_changes(request, ctx, status_code=exc.status, message=exc.detail)
        except ValidationFailed as exc:
            return render_changes(request, ctx, status_code=422,
                                  message="；".join(labelled(sl.field_zh(e.field), sl.zh(e.message)) for e in exc.errors))
        if not confirm:
            return render_changes(request, ctx, status_code=422, message=APPROVE_UNCONFIRMED)
        return see_other("/payee-changes", done="payee_approved" if approve else "payee_rejected")

    @post("/{change_id:str}/approve", opt=APPROVERS, status_code=303)
    def approve(self, change_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._decide(ctx, request, change_id, True, clean(data.get("note")), confirm=confirmed(data))

    @post("/{change_id:str}/reject", opt=APPROVERS, status_code=303)
    def reject(self, change_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._decide(ctx, request, change_id, False, clean(data.get("note")))
