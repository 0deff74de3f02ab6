"""The pages of 工作人员本人账户 (recusal/accounts.py): on one's own 回避申报 page, adding one's own bank accounts and
asking for a removal; on the admins' 回避申报管理 page, adding for an account (from HR's list) and confirming or
refusing removals (by an admin who is neither the owner nor who asked). Numbers are shown masked (last 4)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody

from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..http import Ctx, post
from ..recusal import accounts as staff_accounts
from . import stagelabels as sl
from .common import FormState, Req, form_state, see_other
from .recusal import ask_removal, decide_removal, render_admin, render_mine

ANY: dict[str, Any] = {"roles": "any"}
ADMIN: dict[str, Any] = {"roles": ("admin",)}
Id = Annotated[str, Parameter(max_length=40)]
_FIELDS = ("account_number", "reason", "user_id")
_RENAME = {"accounts[0]": "account_number", "accounts": "account_number"}


def _refused(values: dict[str, Any], exc: Exception) -> FormState:
    if isinstance(exc, ValidationFailed):
        return form_state(values, exc, fields=_FIELDS, rename=_RENAME)
    state = form_state(values, None, fields=_FIELDS)
    state.general.append(sl.zh(getattr(exc, "detail", str(exc))))
    return state


class OwnAccountPages(Controller):
    path = "/account/recusal/accounts"

    @post("/", opt=ANY, status_code=303)
    def declare(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        number = str(data.get("account_number") or "")
        try:
            with ctx.db.begin() as session:
                staff_accounts.declare(session, request.user.id, [number], principal=request.user, vault=ctx.vault,
                                       clock=ctx.clock)
        except ValidationFailed as exc:
            # the number typed is shown again in its box (one digit wrong is not nineteen to type again), as the
            # ID number's form does; the lists show accounts masked only
            return render_mine(ctx, request, FormState(), status_code=422,
                               account_form=_refused({"account_number": number}, exc))
        return see_other("/account/recusal", done="staff_account_declared")

    @post("/{account_id:str}/removal", opt=ANY, status_code=303)
    def ask_removal(self, account_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        try:
            ask_removal(ctx, request, staff_accounts.ACCOUNT, account_id, data)
        except (ValidationFailed, InvalidState) as exc:
            return render_mine(ctx, request, FormState(), status_code=getattr(exc, "status", 422),
                               account_form=_refused({}, exc))
        return see_other("/account/recusal", done="recusal_removal_asked")


class AdminAccountPages(Controller):
    path = "/recusal/accounts"

    @post("/add", opt=ADMIN, status_code=303)
    def add_for(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        user_id, number = str(data.get("user_id") or ""), str(data.get("account_number") or "")
        try:
            with ctx.db.begin() as session:
                staff_accounts.declare(session, user_id, [number], principal=request.user, vault=ctx.vault,
                                       clock=ctx.clock)
        except ValidationFailed as exc:
            return render_admin(ctx, request, FormState(), status_code=422,
                                account_form=_refused({"user_id": user_id, "account_number": number}, exc))
        return see_other("/recusal", done="staff_account_declared")

    @post("/{account_id:str}/removal", opt=ADMIN, status_code=303)
    def ask_removal(self, account_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        try:
            ask_removal(ctx, request, staff_accounts.ACCOUNT, account_id, data)
        except (ValidationFailed, InvalidState) as exc:
            return render_admin(ctx, request, FormState(), status_code=getattr(exc, "status", 422),
                                account_form=_refused({}, exc))
        return see_other("/recusal", done="recusal_removal_asked")

    @post("/removals/{removal_id:str}/{verb:str}", opt=ADMIN, status_code=303)
    def decide(self, removal_id: Id, verb: Annotated[str, Parameter(pattern=r"^(confirm|refuse)$")], ctx: Ctx,
               request: Req) -> Any:
        try:
            decide_removal(ctx, request, staff_accounts.ACCOUNT, removal_id, confirm=verb == "confirm")
        except (Forbidden, InvalidState, NotFound) as exc:
            return render_admin(ctx, request, FormState(), status_code=exc.status, account_form=_refused({}, exc))
        return see_other("/recusal", done="recusal_removal_confirmed" if verb == "confirm"
                         else "recusal_removal_refused")
