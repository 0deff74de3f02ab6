"""The county's list of follow-ups whose household said it did not receive the relief, or only part (未收到救助金待核实):
each with its case, the account paid (masked), the batch and who changed the payee, and a form for a county reviewer
to close it with a note. The rules are the follow-up service's (verifier.followups.receipt): the page offers the
form, the service decides."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..followups import receipt, receipt_second, receipt_withdraw
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import labels, paging, stagelabels
from .common import Req, clean, page, refusal_page, see_other, user_names
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": receipt.ALERT_READERS}
RESOLVERS: dict[str, Any] = {"roles": receipt.RESOLVERS}
FollowupId = Annotated[str, Parameter(max_length=40)]
STATUSES = labels.review_statuses("resolved")
CONFIRM_UNTICKED = "请勾选确认：撤回后追回和补发将撤销，这次回访重新待核实"


def status_of(value: str) -> str:
    """The list's status from the address bar or the form: anything unknown is 待核实 (as a bad page is page 1)."""
    return value if value in dict(STATUSES) else "open"


def render_alerts(request: Req, ctx: Any, *, status: str = "open", q: str = "", at: int = 1,
                  status_code: int = 200, message: str | None = None, typed: dict[str, str] | None = None,
                  chosen: dict[str, str] | None = None, returning: dict[str, str] | None = None,
                  withdrawing: dict[str, str] | None = None, ending: dict[str, str] | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        found = receipt.find_alerts(session, user, ctx.vault, status=status, q=q, page=at, page_size=paging.PAGE_SIZE)
        no_decline = receipt_withdraw.declines_refused(session, found.items, user.id)  # the server's rule, links too
        names = user_names(session, [p for a in found.items
                                     for p in (a.recorded_by, a.resolved_by, a.supplement_confirmed_by, a.confirmed_by,
                                               *a.payee_changed_by,
                                               *(q for r in a.returned for q in (r.resolved_by, r.returned_by)),
                                               a.withdraw_proposed_by,
                                               *(q for e in a.withdraw_ended for q in (e.proposed_by, e.ended_by)),
                                               *(q for w in a.withdrawn
                                                 for q in (w.resolved_by, w.proposed_by, w.withdrawn_by)))
                                     if p])
    pager = Pager.over("/receipt-alerts", {"status": "" if status == "open" else status, "q": q}, found)
    return page(request, "receipt_alerts.html", status_code=status_code, alerts=found.items, names=names,
                status=status, statuses=STATUSES, message=message, typed=typed or {}, chosen=chosen or {},
                returning=returning or {}, withdrawing=withdrawing or {}, ending=ending or {},
                outcomes=labels.RECEIPT_OUTCOMES, ended_how=labels.WITHDRAW_ENDED,
                ended_by_how=labels.WITHDRAW_ENDED_BY, hints=labels.RECEIPT_OUTCOME_HINTS, sl=stagelabels,
                may_resolve=user.has(*receipt.RESOLVERS), me=user.id, q=q, pager=pager, no_decline=no_decline)


class ReceiptAlertPages(Controller):
    path = "/receipt-alerts"

    @get("/", opt=READERS)
    def list_alerts(self, ctx: Ctx, request: Req, status: Annotated[str, Parameter(max_length=12)] = "open",
                    q: Annotated[str, Parameter(max_length=100)] = "",
                    page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return render_alerts(request, ctx, status=status_of(status), q=q, at=page_param(page_no))

    @post("/{followup_id:str}/resolve", opt=RESOLVERS, status_code=303)
    def resolve(self, followup_id: FollowupId, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Close an alert; refused, the list is drawn again where the note was typed (its status, search and page,
        carried by the form), the note kept; done, back to that list."""
        note, outcome = clean(data.get("note")), clean(data.get("outcome"))
        status, q, at = status_of(clean(data.get("status"))), clean(data.get("q"))[:100], page_param(data.get("page"))
        try:
            with ctx.db.begin() as session:
                receipt.resolve(session, followup_id, note, principal=request.user, clock=ctx.clock,
                                outcome=outcome or None)
        except (InvalidState, Forbidden, NotFound, ValidationFailed) as exc:
            return refusal_page(lambda **kw: render_alerts(request, ctx, status=status, q=q, at=at, **kw), exc,
                                fields={"note": "核实情况", "outcome": "核实结果"},
                                typed={followup_id: note}, chosen={followup_id: outcome})
        return see_other("/receipt-alerts", status=None if status == "open" else status, q=q or None,
                         page=at if at > 1 else None, done="receipt_resolved")

    @post("/{followup_id:str}/confirm-closing", opt=RESOLVERS, status_code=303)
    def confirm_closing(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                        data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Another county reviewer confirms a 核实已收到 closing of a changed account (待复核)."""
        return _second_person(request, ctx, data, lambda session: receipt_second.confirm_closing(
            session, followup_id, principal=request.user, clock=ctx.clock), done="receipt_confirmed")

    @post("/{followup_id:str}/return-closing", opt=RESOLVERS, status_code=303)
    def return_closing(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                       data: URLEncodedBody[dict[str, Any]]) -> Any:
        """The second county reviewer returns a 核实已收到 closing of a changed account (待复核) with why (退回重新核实):
        the alert is open again; refused, the list comes back with the reason typed."""
        note = clean(data.get("note"))
        return _second_person(request, ctx, data, lambda session: receipt_second.return_closing(
            session, followup_id, note, principal=request.user, clock=ctx.clock), done="receipt_returned",
            fields={"note": "退回理由"}, returning={followup_id: note})

    @post("/{followup_id:str}/propose-withdrawal", opt=RESOLVERS, status_code=303)
    def propose_withdrawal(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                           data: URLEncodedBody[dict[str, Any]]) -> Any:
        """A county reviewer proposes withdrawing a 核实未收到 closing with why (撤回核实未收到); refused, the list
        comes back with the reason typed."""
        reason = clean(data.get("reason"))
        return _second_person(request, ctx, data, lambda session: receipt_withdraw.propose(
            session, followup_id, reason, principal=request.user, clock=ctx.clock), done="receipt_withdraw_proposed",
            fields={"reason": "撤回理由"}, withdrawing={followup_id: reason})

    @post("/{followup_id:str}/confirm-withdrawal", opt=RESOLVERS, status_code=303)
    def confirm_withdrawal(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                           data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Another county reviewer confirms the proposed withdrawal, ticking that the recovery and the supplement will
        be withdrawn (the confirm step: left unticked, 422 and nothing written)."""
        def confirm(session: Any) -> Any:
            if clean(data.get("confirm")) != "yes":
                raise ValidationFailed.one("confirm", CONFIRM_UNTICKED)
            return receipt_withdraw.confirm(session, followup_id, principal=request.user, clock=ctx.clock,
                                            proposal=_proposal(data))

        return _second_person(request, ctx, data, confirm, done="receipt_withdrawn", fields={"confirm": "确认撤回"})

    @post("/{followup_id:str}/drop-withdrawal", opt=RESOLVERS, status_code=303)
    def drop_withdrawal(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                        data: URLEncodedBody[dict[str, Any]]) -> Any:
        """The proposer drops their own proposal to withdraw a 核实未收到 (撤销提议) with why; refused (another's
        proposal, or one dropped or declined since), the list comes back with the reason typed."""
        return _end_proposal(request, ctx, data, followup_id, receipt_withdraw.drop, done="receipt_withdraw_dropped",
                             named="撤销理由")

    @post("/{followup_id:str}/decline-withdrawal", opt=RESOLVERS, status_code=303)
    def decline_withdrawal(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                           data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Another county reviewer declines the proposal (驳回撤回) with why: the 核实未收到 stands; refused, the list
        comes back with the reason typed."""
        return _end_proposal(request, ctx, data, followup_id, receipt_withdraw.decline,
                             done="receipt_withdraw_declined", named="驳回理由")

    @post("/{followup_id:str}/confirm-supplement", opt=RESOLVERS, status_code=303)
    def confirm_supplement(self, followup_id: FollowupId, ctx: Ctx, request: Req,
                           data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Another county reviewer confirms the supplementary payment a misdirected closing opened (never its
        closer: the service refuses them)."""
        return _second_person(request, ctx, data, lambda session: receipt.confirm_supplement(
            session, followup_id, principal=request.user, clock=ctx.clock), done="supplement_confirmed")


NO_PROPOSAL = "页面没有带上撤回提议的编号，或编号有误：请刷新页面，核对现在待确认的提议后再操作"


def _proposal(data: dict[str, Any]) -> int:
    """The number of the proposal the form was drawn with (a hidden field the page always sends): missing or anything
    but a number, 409 (`NO_PROPOSAL`; the API alone keeps it optional, for its callers from before 0057)."""
    said = clean(data.get("proposal"))
    if not (said.isdigit() and len(said) < 9):
        raise InvalidState(NO_PROPOSAL)
    return int(said)


def _second_person(request: Req, ctx: Any, data: dict[str, Any], confirm: Any, *, done: str,
                   fields: dict[str, str] | None = None, **keep: Any) -> Any:
    """A second reviewer's confirmation (or return) from the list: refused, the list comes back (its status, search
    and page, carried by the form) with why, a field named by `fields`' words and `keep` (what was typed); done, back
    to that list."""
    status, q, at = status_of(clean(data.get("status"))), clean(data.get("q"))[:100], page_param(data.get("page"))
    try:
        with ctx.db.begin() as session:
            confirm(session)
    except (InvalidState, Forbidden, NotFound, ValidationFailed) as exc:
        return refusal_page(lambda **kw: render_alerts(request, ctx, status=status, q=q, at=at, **kw), exc,
                            fields=fields, **keep)
    return see_other("/receipt-alerts", status=None if status == "open" else status, q=q or None,
                     page=at if at > 1 else None, done=done)


def _end_proposal(request: Req, ctx: Any, data: dict[str, Any], followup_id: str, end: Any, *, done: str,
                  named: str) -> Any:
    """Ends the proposal the form was drawn with (`end`: `receipt_withdraw.drop` or `.decline`) with the reason typed
    (the field `named` so where it is refused); refused, the list comes back with the reason kept."""
    reason = clean(data.get("reason"))
    return _second_person(request, ctx, data, lambda session: end(
        session, followup_id, reason, principal=request.user, clock=ctx.clock, proposal=_proposal(data)),
        done=done, fields={"reason": named}, ending={followup_id: reason})
