"""The pages of 工作人员本人账户 (recusal/accounts.py): on one's own 回避申报 page, adding one's own bank accounts and
asking for a removal; on the admins' 回避申报管理 page, adding for an account (from HR's list) and confirming or
refusing removals (by an admin who is neither the owner nor who asked). Numbers are shown masked (last 4)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import InvalidState, ValidationFailed
from ..http import Ctx, post
from ..recusal import accounts as staff_accounts
from .common import FormState, Req
from .recusal import REFUSALS, FormPages, asking, deciding, listed, refused_state, render_admin, render_mine

ANY: dict[str, Any] = {"roles": "any"}
ADMIN: dict[str, Any] = {"roles": ("admin",)}
Id = Annotated[str, Parameter(max_length=40)]
_FIELDS = ("account_number", "reason", "user_id")
_RENAME = {"accounts[0]": "account_number", "accounts": "account_number"}


def _refused(values: dict[str, Any], exc: Exception) -> FormState:
    return refused_state(values, exc, _FIELDS, _RENAME)


def _declaring(user_id: str, number: str) -> Callable[..., object]:
    return partial(staff_accounts.declare, user_id=user_id, numbers=[number])


class OwnAccountPages(FormPages):
    path = "/account/recusal/accounts"
    back = "/account/recusal"

    @post("/", opt=ANY, status_code=303)
    def declare(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        # a refused form shows the number typed again in its box (one digit wrong is not nineteen to type again), as
        # the ID number's form does; the lists show accounts masked only
        number = str(data.get("account_number") or "")
        return self._write(ctx, request, _declaring(request.user.id, number), "staff_account_declared",
                           {"account_number": number})

    @post("/{account_id:str}/removal", opt=ANY, status_code=303)
    def ask_removal(self, account_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, asking(staff_accounts.ACCOUNT, account_id, data), "recusal_removal_asked",
                           {"reason": str(data.get("reason") or "")}, errors=(ValidationFailed, InvalidState),
                           removing=account_id)

    def _refused(self, ctx: Ctx, request: Req, values: dict[str, Any], exc: Exception, **shown: Any) -> Template:
        return render_mine(ctx, request, FormState(), status_code=getattr(exc, "status", 422),
                           account_form=_refused(values, exc), **shown)


class AdminAccountPages(FormPages):
    path = "/recusal/accounts"
    back = "/recusal"

    @post("/add", opt=ADMIN, status_code=303)
    def add_for(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        user_id, number = str(data.get("user_id") or ""), str(data.get("account_number") or "")
        return self._write(ctx, request, _declaring(user_id, number), "staff_account_declared",
                           {"user_id": user_id, "account_number": number}, **listed(data))

    @post("/{account_id:str}/removal", opt=ADMIN, status_code=303)
    def ask_removal(self, account_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, asking(staff_accounts.ACCOUNT, account_id, data), "recusal_removal_asked",
                           {"reason": str(data.get("reason") or "")}, errors=REFUSALS, removing=account_id,
                           **listed(data))

    @post("/removals/{removal_id:str}/{verb:str}", opt=ADMIN, status_code=303)
    def decide(self, removal_id: Id, verb: Annotated[str, Parameter(pattern=r"^(confirm|refuse)$")], ctx: Ctx,
               request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        confirm = verb == "confirm"
        return self._write(ctx, request, deciding(staff_accounts.ACCOUNT, removal_id, confirm),
                           "recusal_removal_confirmed" if confirm else "recusal_removal_refused",
                           errors=REFUSALS, **listed(data))

    def _refused(self, ctx: Ctx, request: Req, values: dict[str, Any], exc: Exception, **shown: Any) -> Template:
        return render_admin(ctx, request, FormState(), status_code=getattr(exc, "status", 422),
                            account_form=_refused(values, exc), **shown)
