"""The user's own account: choosing their own password (required after an administrator set one)."""

from __future__ import annotations

from typing import Any

from litestar import Controller
from litestar.params import URLEncodedBody
from litestar.response import Template

from ..accounts.limits import TooManyAttempts
from ..accounts.login import change_own_password, limiter_for, request_client
from ..domain.errors import ValidationFailed
from ..http import Ctx, get, post
from .common import OPEN_BEFORE_CHANGE, FormState, Req, form_state, page, see_other

_FIELDS = ("current_password", "new_password", "new_password_again")


class AccountPages(Controller):
    path = "/account"

    @get("/password", opt=OPEN_BEFORE_CHANGE)
    def password_form(self, request: Req) -> Template:
        return page(request, "account_password.html", form=FormState())

    @post("/password", opt=OPEN_BEFORE_CHANGE, status_code=303)
    def change_password(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        current = str(data.get("current_password") or "")
        new = str(data.get("new_password") or "")
        form = FormState()
        if new != str(data.get("new_password_again") or ""):
            form.add("new_password_again", "两次输入的新密码不一致。")
        if len(new) < 8:  # said with the other mistakes: the three passwords are typed again after each refusal
            form.add("new_password", "至少 8 个字符")
        if not current:
            form.add("current_password", "请输入当前密码。")
        if form.failed:
            return page(request, "account_password.html", status_code=422, form=form)
        try:
            change_own_password(ctx.db, limiter_for(ctx), request.user, session_id=request.auth.session_id,
                                current=current, new=new, client=request_client(ctx, request), clock=ctx.clock)
        except ValidationFailed as exc:
            return page(request, "account_password.html", status_code=422, form=form_state(exc=exc, fields=_FIELDS))
        except TooManyAttempts:
            form.add("current_password", "当前密码输错次数过多，请稍后再试。")
            return page(request, "account_password.html", status_code=429, form=form)
        return see_other("/", done="password_own")
