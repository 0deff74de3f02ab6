"""The pages of 回避申报: a person's own declaration (/account/recusal), and the admins' view (/recusal): every
account's entries (masked), adding for an account, and the removals waiting for a second admin."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..domain import recusal as rules
from ..domain.errors import ValidationFailed
from ..http import Ctx, get, post
from ..recusal import accounts as staff_accounts
from ..recusal import removal, service
from .common import FormState, Req, form_state, page, see_other

ANY: dict[str, Any] = {"roles": "any"}
ADMIN: dict[str, Any] = {"roles": ("admin",)}
Id = Annotated[str, Parameter(max_length=40)]
RELATIONS = list(rules.RELATIONS.items())
_FIELDS = ("relation", "id_number", "reason", "user_id")
_RENAME = {"entries[0].relation": "relation", "entries[0].id_number": "id_number", "entries": "id_number"}


def _entry(data: dict[str, Any]) -> tuple[list[service.Entry], dict[str, str]]:
    relation, id_number = str(data.get("relation") or ""), str(data.get("id_number") or "")
    # a refused form shows the number again as typed (one digit wrong is not eighteen to type again; the page is the
    # person's own and is not kept by the browser), as the application form does
    return [service.Entry(relation=relation, id_number=id_number)], {"relation": relation, "id_number": id_number}


class OwnRecusalPages(Controller):
    path = "/account/recusal"

    @get("/", opt=ANY)
    def mine(self, ctx: Ctx, request: Req) -> Template:
        return self._page(ctx, request, FormState())

    @post("/", opt=ANY, status_code=303)
    def declare(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        entries, values = _entry(data)
        try:
            with ctx.db.begin() as session:
                service.declare(session, request.user.id, entries, principal=request.user, vault=ctx.vault,
                                clock=ctx.clock)
        except ValidationFailed as exc:
            return self._page(ctx, request, form_state(values, exc, fields=_FIELDS, rename=_RENAME), status_code=422)
        return see_other("/account/recusal", done="recusal_declared")

    @post("/{tie_id:str}/removal", opt=ANY, status_code=303)
    def ask_removal(self, tie_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        try:
            ask_removal(ctx, request, service.TIE, tie_id, data)
        except ValidationFailed as exc:
            return self._page(ctx, request, form_state({}, exc, fields=_FIELDS), status_code=422, removing=tie_id)
        return see_other("/account/recusal", done="recusal_removal_asked")

    def _page(self, ctx: Ctx, request: Req, form: FormState, status_code: int = 200, removing: str = "") -> Template:
        return render_mine(ctx, request, form, status_code, removing)


class RecusalAdminPages(Controller):
    path = "/recusal"

    @get("/", opt=ADMIN)
    def overview(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=100)] = "") -> Template:
        return self._page(ctx, request, FormState(), q=q.strip())

    @post("/add", opt=ADMIN, status_code=303)
    def add_for(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        entries, values = _entry(data)
        user_id = str(data.get("user_id") or "")
        values["user_id"] = user_id
        try:
            with ctx.db.begin() as session:
                service.declare(session, user_id, entries, principal=request.user, vault=ctx.vault, clock=ctx.clock)
        except ValidationFailed as exc:
            return self._page(ctx, request, form_state(values, exc, fields=_FIELDS, rename=_RENAME), status_code=422)
        return see_other("/recusal", done="recusal_declared")

    @post("/entries/{tie_id:str}/removal", opt=ADMIN, status_code=303)
    def ask_removal(self, tie_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        try:
            ask_removal(ctx, request, service.TIE, tie_id, data)
        except ValidationFailed as exc:
            return self._page(ctx, request, form_state({}, exc, fields=_FIELDS), status_code=422)
        return see_other("/recusal", done="recusal_removal_asked")

    @post("/removals/{removal_id:str}/confirm", opt=ADMIN, status_code=303)
    def confirm(self, removal_id: Id, ctx: Ctx, request: Req) -> Any:
        decide_removal(ctx, request, service.TIE, removal_id, confirm=True)
        return see_other("/recusal", done="recusal_removal_confirmed")

    @post("/removals/{removal_id:str}/refuse", opt=ADMIN, status_code=303)
    def refuse(self, removal_id: Id, ctx: Ctx, request: Req) -> Any:
        decide_removal(ctx, request, service.TIE, removal_id, confirm=False)
        return see_other("/recusal", done="recusal_removal_refused")

    def _page(self, ctx: Ctx, request: Req, form: FormState, status_code: int = 200, q: str = "") -> Template:
        return render_admin(ctx, request, form, status_code, q=q)


def ask_removal(ctx: Any, request: Req, kind: removal.Kind, entry_id: str, data: dict[str, Any]) -> None:
    """A removal asked for from a page (a tie or an own account: `kind`)."""
    with ctx.db.begin() as session:
        removal.request_removal(session, kind, entry_id, reason=str(data.get("reason") or ""),
                                principal=request.user, vault=ctx.vault, clock=ctx.clock)


def decide_removal(ctx: Any, request: Req, kind: removal.Kind, removal_id: str, *, confirm: bool) -> None:
    with ctx.db.begin() as session:
        removal.decide_removal(session, kind, removal_id, confirm=confirm, principal=request.user, vault=ctx.vault,
                               clock=ctx.clock)


def render_mine(ctx: Any, request: Req, form: FormState, status_code: int = 200, removing: str = "",
                account_form: FormState | None = None) -> Template:
    with ctx.db.read() as session:
        mine = service.own_declaration(session, request.user, ctx.vault)
        own = staff_accounts.accounts_of(session, ctx.vault, [request.user.id])[request.user.id]
    return page(request, "recusal_mine.html", status_code=status_code, mine=mine, form=form,
                relations=RELATIONS, relation_names=rules.RELATIONS, removing=removing, own_accounts=own,
                account_form=account_form or FormState())


def render_admin(ctx: Any, request: Req, form: FormState, status_code: int = 200,
                 account_form: FormState | None = None, q: str = "") -> Template:
    with ctx.db.read() as session:
        everyone = service.all_declarations(session, request.user, ctx.vault, q=q)
        pending = service.pending_removals(session, request.user, ctx.vault)
        own = staff_accounts.accounts_of(session, ctx.vault, [d.user_id for d in everyone])
        pending_accounts = staff_accounts.pending_removals(session, request.user, ctx.vault)
    return page(request, "recusal_admin.html", status_code=status_code, everyone=everyone, pending=pending,
                form=form, q=q, relations=RELATIONS, relation_names=rules.RELATIONS, own_accounts=own,
                pending_accounts=pending_accounts, account_form=account_form or FormState())
