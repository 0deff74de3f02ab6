"""The pages of 回避申报: a person's own declaration (/account/recusal), and the admins' view (/recusal): every
account's entries (masked), adding for an account, and the removals waiting for a second admin."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain import recusal as rules
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..http import Ctx, get, post
from ..recusal import accounts as staff_accounts
from ..recusal import removal, service
from . import paging
from . import stagelabels as sl
from .common import FormState, Req, form_state, page, see_other
from .paging import Pager, page_param

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


class FormPages(Controller):
    """What the 回避申报 pages' forms share (here and in staff_accounts.py): a form is one write in its own
    transaction, `write(session, principal=, vault=, clock=)`; done, back to `back` with `done`'s message (and the
    admins' search and page the form was sent from, `q` and `at` in `shown`); refused with one of `errors` (nothing
    written), the page again as `_refused` draws it, on that search and page."""

    back = ""

    def _refused(self, ctx: Ctx, request: Req, values: dict[str, Any], exc: Exception, **shown: Any) -> Template:
        raise NotImplementedError

    def _write(self, ctx: Ctx, request: Req, write: Callable[..., object], done: str,
               values: dict[str, Any] | None = None, errors: tuple[type[Exception], ...] = (ValidationFailed,),
               **shown: Any) -> Any:
        try:
            with ctx.db.begin() as session:
                write(session, principal=request.user, vault=ctx.vault, clock=ctx.clock)
        except errors as exc:
            return self._refused(ctx, request, values or {}, exc, **shown)
        at = shown.get("at") or 1
        return see_other(self.back, q=shown.get("q") or None, page=at if at > 1 else None, done=done)


REFUSALS = (ValidationFailed, InvalidState, Forbidden, NotFound)
"""What an admin's form on 回避申报管理 may be refused with, said on the page (a removal another admin asked for or
decided a moment before, a double click's second send), never an error page."""


def refused_state(values: dict[str, Any], exc: Exception, fields: tuple[str, ...],
                  rename: dict[str, str]) -> FormState:
    """What was typed, with why it was refused: beside its field (a 422), or at the top in Chinese (the rest)."""
    if isinstance(exc, ValidationFailed):
        return form_state(values, exc, fields=fields, rename=rename)
    state = form_state(values, None, fields=fields)
    state.general.append(sl.zh(getattr(exc, "detail", str(exc))))
    return state


def asking(kind: removal.Kind, entry_id: str, data: dict[str, Any]) -> Callable[..., object]:
    """A removal asked for from a page (a tie or an own account: `kind`), as a `FormPages._write`."""
    return partial(removal.request_removal, kind=kind, entry_id=entry_id, reason=str(data.get("reason") or ""))


def deciding(kind: removal.Kind, removal_id: str, confirm: bool) -> Callable[..., object]:
    return partial(removal.decide_removal, kind=kind, removal_id=removal_id, confirm=confirm)


def _declaring(user_id: str, entries: list[service.Entry]) -> Callable[..., object]:
    return partial(service.declare, user_id=user_id, entries=entries)


class OwnRecusalPages(FormPages):
    path = "/account/recusal"
    back = "/account/recusal"

    @get("/", opt=ANY)
    def mine(self, ctx: Ctx, request: Req) -> Template:
        return render_mine(ctx, request, FormState())

    @post("/", opt=ANY, status_code=303)
    def declare(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        entries, values = _entry(data)
        return self._write(ctx, request, _declaring(request.user.id, entries), "recusal_declared", values)

    @post("/{tie_id:str}/removal", opt=ANY, status_code=303)
    def ask_removal(self, tie_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, asking(service.TIE, tie_id, data), "recusal_removal_asked",
                           {"reason": str(data.get("reason") or "")}, errors=(ValidationFailed, InvalidState, NotFound),
                           removing=tie_id)

    def _refused(self, ctx: Ctx, request: Req, values: dict[str, Any], exc: Exception, **shown: Any) -> Template:
        return render_mine(ctx, request, refused_state(values, exc, _FIELDS, _RENAME), getattr(exc, "status", 422),
                           **shown)


class RecusalAdminPages(FormPages):
    path = "/recusal"
    back = "/recusal"

    @get("/", opt=ADMIN)
    def overview(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=100)] = "",
                 page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return render_admin(ctx, request, FormState(), q=q.strip(), at=page_param(page_no))

    @post("/add", opt=ADMIN, status_code=303)
    def add_for(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        entries, values = _entry(data)
        values["user_id"] = user_id = str(data.get("user_id") or "")
        return self._write(ctx, request, _declaring(user_id, entries), "recusal_declared", values, **listed(data))

    @post("/entries/{tie_id:str}/removal", opt=ADMIN, status_code=303)
    def ask_removal(self, tie_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, asking(service.TIE, tie_id, data), "recusal_removal_asked",
                           {"reason": str(data.get("reason") or "")}, errors=REFUSALS, removing=tie_id,
                           **listed(data))

    @post("/removals/{removal_id:str}/confirm", opt=ADMIN, status_code=303)
    def confirm(self, removal_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, deciding(service.TIE, removal_id, True), "recusal_removal_confirmed",
                           errors=REFUSALS, **listed(data))

    @post("/removals/{removal_id:str}/refuse", opt=ADMIN, status_code=303)
    def refuse(self, removal_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._write(ctx, request, deciding(service.TIE, removal_id, False), "recusal_removal_refused",
                           errors=REFUSALS, **listed(data))

    def _refused(self, ctx: Ctx, request: Req, values: dict[str, Any], exc: Exception, **shown: Any) -> Template:
        return render_admin(ctx, request, refused_state(values, exc, _FIELDS, _RENAME),
                            getattr(exc, "status", 422), **shown)


def listed(data: dict[str, Any]) -> dict[str, Any]:
    """The search and page an admin's form was sent from (its hidden fields): a refused form is drawn on that page
    again (the account chosen still among the choices, the entry whose removal was asked for still in view), and a
    form done goes back to it."""
    return {"q": str(data.get("q") or "").strip()[:100], "at": page_param(data.get("page"))}


def render_mine(ctx: Any, request: Req, form: FormState, status_code: int = 200, removing: str = "",
                account_form: FormState | None = None) -> Template:
    with ctx.db.read() as session:
        mine = service.own_declaration(session, request.user, ctx.vault)
        own = staff_accounts.accounts_of(session, ctx.vault, [request.user.id])[request.user.id]
    return page(request, "recusal_mine.html", status_code=status_code, mine=mine, form=form,
                relations=RELATIONS, relation_names=rules.RELATIONS, removing=removing, own_accounts=own,
                account_form=account_form or FormState())


def render_admin(ctx: Any, request: Req, form: FormState, status_code: int = 200,
                 account_form: FormState | None = None, q: str = "", at: int = 1, removing: str = "") -> Template:
    with ctx.db.read() as session:
        found = service.find_declarations(session, request.user, ctx.vault, q=q, page=at, page_size=paging.PAGE_SIZE)
        pending = service.pending_removals(session, request.user, ctx.vault)
        own = staff_accounts.accounts_of(session, ctx.vault, [d.user_id for d in found.items])
        pending_accounts = staff_accounts.pending_removals(session, request.user, ctx.vault)
        # why this admin may not decide a removal through an account linked to the owner's or the requester's
        linked = {r.id: said for r in [*pending, *pending_accounts]
                  if request.user.id not in (r.user_id, r.requested_by)
                  for said in [removal.linked_decider(session, r.user_id, r.requested_by, request.user)] if said}
    # what the home page's card counts: the removals of either list this admin may decide
    to_decide = sum(1 for r in [*pending, *pending_accounts]
                    if request.user.id not in (r.user_id, r.requested_by) and r.id not in linked)
    return page(request, "recusal_admin.html", status_code=status_code, everyone=found.items, pending=pending,
                form=form, q=q, pager=Pager.over("/recusal", {"q": q}, found), relations=RELATIONS,
                relation_names=rules.RELATIONS, own_accounts=own, pending_accounts=pending_accounts,
                account_form=account_form or FormState(), removing=removing, to_decide=to_decide,
                linked=linked)
