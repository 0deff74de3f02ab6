"""The county reviewers' list of follow-ups recorded by a setter of the payee account alone (回访待县级复核,
/setter-followups): each with its case and what the household said, and, for a reviewer who took no part in paying
it, the forms to confirm it (确认) or refuse it with a reason (退回重新回访). The rules are the follow-up service's
(verifier.followups.alone_look): the page offers the forms, the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..followups import alone_look, assignment
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import labels, paging
from .common import Req, clean, page, refusal_page, see_other, user_names
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": (*alone_look.READERS, *assignment.ASSIGNERS)}
ASSIGNERS: dict[str, Any] = {"roles": assignment.ASSIGNERS}
ItemId = Annotated[str, Parameter(max_length=40)]
LOOKERS: dict[str, Any] = {"roles": alone_look.LOOKERS}
FollowupId = Annotated[str, Parameter(max_length=40)]
VIEWS = [("done", "已复核")]


def _render(request: Req, ctx: Any, *, view: str = "", q: str = "", at: int = 1, to_decide: bool = False,
            status_code: int = 200, message: str | None = None, refusing: dict[str, str] | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    deciding = to_decide and not view
    with ctx.db.read() as session:
        waiting = alone_look.waiting(session, user) if deciding else None
        found = alone_look.find(session, user, view=view, q=q, page=at, page_size=paging.PAGE_SIZE,
                                only=waiting.mine if waiting is not None else None)
        names = user_names(session, [p for r in found.items for p in (r.recorded_by, r.decided_by) if p])
    pager = Pager.over("/setter-followups", {"status": view, "q": q, "to_decide": "1" if deciding else ""}, found)
    return page(request, "setter_followups.html", status_code=status_code, rows=found.items, p=pager, view=view,
                views=VIEWS, q=q, to_decide=deciding, others=waiting.others if waiting is not None else 0,
                names=names, message=message, refusing=refusing or {}, states=labels.FOLLOWUP_ALONE,
                may_decide=user.has(*alone_look.LOOKERS), may_assign=user.has(*assignment.ASSIGNERS))


def _assign_page(request: Req, ctx: Any, item: str, *, status_code: int = 200, message: str | None = None,
                 values: dict[str, str] | None = None) -> Template:
    with ctx.db.read() as session:
        form = assignment.form_of(session, request.user, item)
    return page(request, "followup_assign.html", status_code=status_code, form=form, message=message,
                values=values or {})


def _view(value: str) -> str:
    return value if value in dict(VIEWS) else ""


class SetterFollowupPages(Controller):
    path = "/setter-followups"

    @get("/", opt=READERS)
    def list_followups(self, ctx: Ctx, request: Req, status: Annotated[str, QueryParameter(max_length=8)] = "",
                       q: Annotated[str, QueryParameter(max_length=100)] = "",
                       page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
                       to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Template:
        """Waiting (oldest first; `to_decide=1`: those the user may confirm or refuse, the home card's count) or
        decided (已复核, newest first), searched by head, case number, town or village."""
        return _render(request, ctx, view=_view(status), q=q, at=page_param(page_no), to_decide=to_decide == "1")

    @get("/assign", opt=ASSIGNERS)
    def assign_form(self, ctx: Ctx, request: Req, item: ItemId = "") -> Template:
        """A supervisor's assignment of a payment's follow-up to a setter of its account, with a reason (指派回访)."""
        return _assign_page(request, ctx, item)

    @post("/assign", opt=ASSIGNERS, status_code=303)
    def assign(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        values = {k: clean(data.get(k)) for k in ("payment_item_id", "officer_id", "reason")}
        try:
            with ctx.db.begin() as session:
                assignment.assign(session, assignment.AssignInput(**values), principal=request.user, clock=ctx.clock)
        except (InvalidState, Forbidden, ValidationFailed) as exc:
            return refusal_page(lambda **kw: _assign_page(request, ctx, values["payment_item_id"], values=values,
                                                          **kw), exc,
                                fields={"reason": "指派理由", "officer_id": "回访的核查员"})
        return see_other("/setter-followups", status="done", done="followup_assigned")

    @post("/{followup_id:str}/confirm", opt=LOOKERS, status_code=303)
    def confirm(self, followup_id: FollowupId, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        return _decide(request, ctx, data, lambda session: alone_look.confirm(
            session, followup_id, principal=request.user, clock=ctx.clock), done="followup_alone_confirmed")

    @post("/{followup_id:str}/refuse", opt=LOOKERS, status_code=303)
    def refuse(self, followup_id: FollowupId, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason = clean(data.get("reason"))
        return _decide(request, ctx, data, lambda session: alone_look.refuse(
            session, followup_id, reason, principal=request.user, clock=ctx.clock), done="followup_alone_refused",
            refusing={followup_id: reason})


def _decide(request: Req, ctx: Any, data: dict[str, Any], act: Any, *, done: str, **keep: Any) -> Any:
    """Confirm or refuse from the list: refused, the list comes back (its search, page and `to_decide`, carried by
    the form) with why and the reason typed; done, back to that list."""
    q, at, deciding = clean(data.get("q"))[:100], page_param(data.get("page")), clean(data.get("to_decide")) == "1"
    try:
        with ctx.db.begin() as session:
            act(session)
    except (InvalidState, Forbidden, NotFound, ValidationFailed) as exc:
        return refusal_page(lambda **kw: _render(request, ctx, q=q, at=at, to_decide=deciding, **kw), exc,
                            fields={"reason": "退回理由"}, **keep)
    return see_other("/setter-followups", q=q or None, page=at if at > 1 else None,
                     to_decide="1" if deciding else None, done=done)
