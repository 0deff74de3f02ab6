"""The pages of role grants: the pending list (search, pages), confirming or refusing one, and proposing more roles
for an account. A guarded role (money, admin, a second person's, the auditor's) takes two people: see accounts/grants.py."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..accounts import grants
from ..accounts.service import ROLES, add_roles, manageable_user
from ..domain.errors import NotFound, ValidationFailed
from ..http import Ctx, get, post
from . import labels
from .common import FormState, Req, form_state, page, see_other
from .paging import PAGE_SIZE, Pager, page_param
from .user_list import ListBack

DECIDERS: dict[str, Any] = {"roles": grants.CONFIRMER_ROLES}
ADMIN: dict[str, Any] = {"roles": ("admin",)}
Id = Annotated[str, Parameter(max_length=40)]


def guarded_roles_text() -> str:
    """The roles that take two people, named as the pages name them (核查员、…和管理员), from grants.GUARDED_ROLES:
    the pages' explanations follow the rule when a role joins it (the auditor's did, the text had not)."""
    names = [labels.ROLE_LABELS.get(r, r) for r in ROLES if r in grants.GUARDED_ROLES]
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "和" + names[-1]


class RoleGrantPages(Controller):
    path = "/role-grants"

    @get("/", opt=DECIDERS)
    def pending(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=64)] = "",
                page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        with ctx.db.read() as session:
            found = grants.find_grants(session, request.user, search=q, page=page_param(page_no), page_size=PAGE_SIZE)
        pager = Pager.over("/role-grants", {"q": q.strip()}, found)
        return page(request, "role_grants.html", rows=found.items, q=q.strip(), pager=pager,
                    statuses=labels.GRANT_STATUS, guarded_text=guarded_roles_text())

    @post("/{grant_id:str}/confirm", opt=DECIDERS, status_code=303)
    def confirm(self, grant_id: Id, ctx: Ctx, request: Req) -> Any:
        with ctx.db.begin() as session:
            grants.confirm(session, grant_id, confirmer=request.user, clock=ctx.clock)
        return see_other("/role-grants", done="grant_confirmed")

    @get("/{grant_id:str}/refuse", opt=DECIDERS)
    def refuse_form(self, grant_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._refusal(ctx, request, grant_id, FormState())

    @post("/{grant_id:str}/refuse", opt=DECIDERS, status_code=303)
    def refuse(self, grant_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason = str(data.get("reason") or "").strip()
        try:
            with ctx.db.begin() as session:
                grants.refuse(session, grant_id, refuser=request.user, reason=reason, clock=ctx.clock)
        except ValidationFailed as exc:
            form = form_state({"reason": reason}, exc, fields=("reason",))
            return self._refusal(ctx, request, grant_id, form, status_code=422)
        return see_other("/role-grants", done="grant_refused")

    def _refusal(self, ctx: Ctx, request: Req, grant_id: str, form: FormState, status_code: int = 200) -> Template:
        with ctx.db.read() as session:
            row = next((r for r in grants.find_grants(session, request.user, page_size=100_000).items
                        if r.grant.id == grant_id), None)
        if row is None:
            raise NotFound(grants.NO_GRANT)  # gone, decided or out of reach: in Chinese
        return page(request, "role_grant_refuse.html", status_code=status_code, row=row, form=form)


class UserRolePages(Controller):
    """An admin proposes more roles for an account (never their own)."""

    path = "/users/{user_id:str}/roles"

    @get("/", opt=ADMIN)
    def form(self, user_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._form(ctx, request, user_id, FormState(), ListBack.of(request.query_params))

    @post("/", opt=ADMIN, status_code=303)
    def propose(self, user_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        chosen = data.get("roles") or []
        chosen = [chosen] if isinstance(chosen, str) else [str(r) for r in chosen]
        form = FormState(values={"roles": chosen})
        back = ListBack.of(data)
        if not chosen:
            form.add("roles", "请至少选择一个角色。")
            return self._form(ctx, request, user_id, form, back, status_code=422)
        with ctx.db.begin() as session:
            add_roles(session, request.user, user_id, chosen, clock=ctx.clock)
        return back.redirect("roles_proposed")

    def _form(self, ctx: Ctx, request: Req, user_id: str, form: FormState, back: ListBack,
              status_code: int = 200) -> Template:
        with ctx.db.read() as session:
            person = manageable_user(session, request.user, user_id)
            pending = grants.pending_roles(session, [person.id]).get(person.id, [])
        return page(request, "user_roles.html", status_code=status_code, person=person, pending=pending, form=form,
                    roles=ROLES, guarded=grants.GUARDED_ROLES, own=person.id == request.user.id, back=back)
