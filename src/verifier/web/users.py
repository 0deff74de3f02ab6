"""The admin's user pages: the list with a search, disabling and enabling (each confirmed first), a new password.

Disabling and a new password end every session of the user at once (see accounts/service.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..accounts import grants
from ..accounts.passwords import generate_password
from ..accounts.service import ROLES, disable_user, enable_user, find_users, manageable_user, set_password
from ..accounts.sessions import open_session_counts
from ..domain.errors import InvalidState
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import labels
from .common import FormState, Req, page
from .paging import PAGE_SIZE, Pager, page_param
from .role_grants import guarded_roles_text
from .user_list import ListBack

ADMIN: dict[str, Any] = {"roles": ("admin",)}
Id = Annotated[str, Parameter(max_length=40)]

USERS_PAGE = PAGE_SIZE


class UserPages(Controller):
    path = "/users"

    @get("/", opt=ADMIN)
    def users(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=64)] = "",
              role: Annotated[str, Parameter(max_length=32)] = "",
              account_state: Annotated[str, QueryParameter(name="state", max_length=16)] = "",
              page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """The users of the admin's counties, searched by name, filtered by role and by 在用/已停用; the filters stay
        in the form and in every page's link."""
        q = fold_search(q)  # ｗａｎｇ typed in an input method's full-width mode is wang
        role = role if role in ROLES else ""  # an unknown role (an old link) is no filter
        state = account_state if account_state in labels.ACCOUNT_STATES else ""
        active = None if not state else state == "active"
        with ctx.db.read() as session:
            found = find_users(session, request.user, search=q, role=role, active=active, page=page_param(page_no),
                               page_size=USERS_PAGE)
            sessions = open_session_counts(session)
            pending = grants.pending_roles(session, [u.id for u in found.items])
        pager = Pager.over("/users", {"q": q, "role": role, "state": state}, found)
        back = ListBack.of({"role": role, "state": state, "q": q, "page": str(found.page)})
        return page(request, "users.html", people=found.items, sessions=sessions, pending=pending, q=q,
                    pager=pager, kept=back.query, role=role, state=state,
                    roles=[(r, labels.ROLE_LABELS.get(r, r)) for r in ROLES],
                    states=list(labels.ACCOUNT_STATES.items()), state_labels=labels.ACCOUNT_STATES,
                    guarded_text=guarded_roles_text())

    @get("/{user_id:str}/disable", opt=ADMIN)
    def confirm_disable(self, user_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._confirm(ctx, request, user_id, "disable")

    @get("/{user_id:str}/enable", opt=ADMIN)
    def confirm_enable(self, user_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._confirm(ctx, request, user_id, "enable")

    def _confirm(self, ctx: Ctx, request: Req, user_id: str, action: str) -> Template:
        with ctx.db.read() as session:
            person = manageable_user(session, request.user, user_id)
        return page(request, "user_action.html", person=person, action=action, texts=labels.ACCOUNT_ACTIONS[action],
                    refusal=None, back=ListBack.of(request.query_params))

    @get("/{user_id:str}/password", opt=ADMIN)
    def password_form(self, user_id: Id, ctx: Ctx, request: Req) -> Template:
        with ctx.db.read() as session:
            person = manageable_user(session, request.user, user_id)
        return page(request, "user_password.html", person=person, form=FormState(), password=None,
                    back=ListBack.of(request.query_params))

    @post("/{user_id:str}/disable", opt=ADMIN, status_code=303)
    def disable(self, user_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._change(ctx, request, user_id, "disable", ListBack.of(data))

    @post("/{user_id:str}/enable", opt=ADMIN, status_code=303)
    def enable(self, user_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._change(ctx, request, user_id, "enable", ListBack.of(data))

    def _change(self, ctx: Ctx, request: Req, user_id: str, action: str, back: ListBack) -> Any:
        change = disable_user if action == "disable" else enable_user
        try:
            with ctx.db.begin() as session:
                manageable_user(session, request.user, user_id)  # another county's user does not exist for this admin
                change(session, user_id, actor=request.user.id, actor_role="admin", clock=ctx.clock)
        except InvalidState as exc:
            with ctx.db.read() as session:
                person = manageable_user(session, request.user, user_id)
            return page(request, "user_action.html", status_code=409, person=person, action=action,
                        texts=labels.ACCOUNT_ACTIONS[action],
                        refusal=exc.detail, back=back)
        return back.redirect(f"user_{action}d")

    @post("/{user_id:str}/password", opt=ADMIN, status_code=200)
    def password(self, user_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Template:
        typed = str(data.get("password") or "")
        again = str(data.get("password_again") or "")
        form = FormState()
        back = ListBack.of(data)
        if typed != again:  # both told at once: the passwords are typed again anyway
            form.add("password_again", "两次输入的密码不一致。")
        if typed and len(typed) < 8:
            form.add("password", "密码至少 8 个字符。")
        elif len(typed) > 256:
            form.add("password", "密码最多 256 个字符。")
        with ctx.db.read() as session:
            person = manageable_user(session, request.user, user_id)
        if form.failed:
            return page(request, "user_password.html", status_code=422, person=person, form=form, password=None,
                        back=back)
        new = typed or generate_password()
        with ctx.db.begin() as session:
            ended = set_password(session, user_id, new, actor=request.user.id, actor_role="admin", clock=ctx.clock)
        # Set by an administrator, the account's money and admin roles wait for a second person again.
        suspended = [] if person.id == request.user.id else grants.guarded(list(person.roles or ()))
        shown = page(request, "user_password.html", person=person, form=FormState(), ended=ended,
                     password=None if typed else new, changed=True, suspended=suspended, back=back,
                     # shown this once: in the history as the form's own address (app.js), so Back and Forward load
                     # the empty form by GET, never the browser's 确认重新提交表单 page nor the password again
                     form_page=f"/users/{user_id}/password{back.query}")
        shown.headers["Cache-Control"] = "no-store"  # a generated password is shown this once
        return shown
