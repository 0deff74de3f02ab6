"""The second person's pages for merging households and moving members: the pending proposals of the county
(/household-proposals), and one proposal (/household-proposals/{id}): the households, their members, the cases
joined or moved, each household's size before and after; confirmed or declined (with a reason) by another insurer
supervisor or a county reviewer, withdrawn by its proposer. The rules are the households service's."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..households import service as households
from ..households.service import proposal_list, proposals
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import paging
from .common import IMPORTERS, SUPERVISOR, FormState, Req, clean, form_state, page, see_other
from .labels import RELATIONS, message_zh
from .paging import Pager, page_param

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")]
CASE_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def _case_of(data: dict[str, Any]) -> str:
    """The case the proposal's page was reached from (a hidden field of each form), kept through the answer so the
    page keeps its link back to that case; anything else is dropped."""
    case = clean(data.get("case"))
    return case if CASE_ID.fullmatch(case) else ""


def _show(request: Req, ctx: Any, proposal_id: str, *, form: FormState | None = None, status_code: int = 200,
          message: str = "", case: str = "") -> Template:
    with ctx.db.read() as session:
        seen = proposals.view(session, proposal_id, request.user, ctx.clock)
    return page(request, "household_proposal.html", status_code=status_code, seen=seen, form=form or FormState(),
                message=message, relations=RELATIONS, case=case)


class HouseholdProposalPages(Controller):
    path = "/household-proposals"

    @get("/", opt=IMPORTERS)
    def pending(self, ctx: Ctx, request: Req, status: Annotated[str, QueryParameter(max_length=8)] = "",
                q: Annotated[str, QueryParameter(max_length=200)] = "",
                page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
                to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Template:
        """The county's merges and moves waiting for a second person, oldest first, or those answered or withdrawn
        (已处理, newest first); searched by head, village or case number; `to_decide=1`: only the pending ones the
        user may confirm or decline (the home card's count)."""
        view = status if status in proposal_list.VIEWS else ""
        deciding = to_decide == "1" and not view
        q = fold_search(q)
        with ctx.db.read() as session:
            # the card's count (`proposal_list.waiting`); none for this user: the empty list says how many wait for
            # someone else, not that none wait
            waiting = proposal_list.waiting(session, request.user) if deciding else None
            found = proposal_list.find(session, request.user, view=view, q=q, page=page_param(page_no),
                                       page_size=paging.PAGE_SIZE, to_decide=deciding,
                                       only=waiting.mine if waiting is not None else None)
            others = waiting.others if waiting is not None else 0
        pager = Pager.over("/household-proposals", {"status": view, "q": q, "to_decide": "1" if deciding else ""},
                           found)
        return page(request, "household_proposals.html", rows=found.items, p=pager, view=view, q=q,
                    to_decide=deciding, others=others)

    @get("/{proposal_id:str}", opt=IMPORTERS)
    def show(self, proposal_id: Id, ctx: Ctx, request: Req, case: Id = "") -> Template:
        return _show(request, ctx, proposal_id, case=case)

    @post("/{proposal_id:str}/confirm", opt=IMPORTERS, status_code=303)
    def confirm(self, proposal_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Confirms what the page showed (its `seen`): 409 when what the proposal would change differs now."""
        case = _case_of(data)
        try:
            with ctx.db.begin() as session:
                households.confirm(session, proposal_id, principal=request.user, clock=ctx.clock,
                                   seen=clean(data.get("seen")))
        except (Forbidden, InvalidState, ValidationFailed) as exc:
            message = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.detail
            return _show(request, ctx, proposal_id, status_code=exc.status, message=message_zh(message), case=case)
        except NotFound as exc:
            return _show(request, ctx, proposal_id, status_code=exc.status, message=message_zh(exc.detail), case=case)
        return see_other(f"/household-proposals/{proposal_id}", done="household_change_confirmed", case=case or None)

    @post("/{proposal_id:str}/decline", opt=IMPORTERS, status_code=303)
    def decline(self, proposal_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason, case = clean(data.get("reason")), _case_of(data)
        try:
            with ctx.db.begin() as session:
                households.decline(session, proposal_id, principal=request.user, reason=reason, clock=ctx.clock)
        except ValidationFailed as exc:
            return _show(request, ctx, proposal_id, form=form_state({"reason": reason}, exc, ("reason",)),
                         status_code=422, case=case)
        except (Forbidden, InvalidState) as exc:
            return _show(request, ctx, proposal_id, form=FormState(values={"reason": reason}),
                         status_code=exc.status, message=message_zh(exc.detail), case=case)
        return see_other(f"/household-proposals/{proposal_id}", done="household_change_declined", case=case or None)

    @post("/{proposal_id:str}/withdraw", opt=SUPERVISOR, status_code=303)
    def withdraw(self, proposal_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        case = _case_of(data)
        try:
            with ctx.db.begin() as session:
                households.withdraw(session, proposal_id, principal=request.user, clock=ctx.clock)
        except (Forbidden, InvalidState) as exc:
            return _show(request, ctx, proposal_id, status_code=exc.status, message=message_zh(exc.detail), case=case)
        return see_other(f"/household-proposals/{proposal_id}", done="household_change_withdrawn", case=case or None)
