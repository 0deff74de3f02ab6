"""HTTP routes: follow-ups due and done, recording one, and a county's monthly figures."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from ..reports.service import parse_month
from . import alone_look, assignment, receipt, receipt_second, receipt_withdraw, service, summary
from .schemas import (AloneListOut, AloneRefuseIn, FollowupListOut, FollowupOut, ReceiptAlertListOut,
                      ReceiptReturnIn, ReceiptReviewIn, ReceiptWithdrawConfirmIn, ReceiptWithdrawEndIn,
                      ReceiptWithdrawIn, alert_out, alone_out, due_out, ended_out, followup_out)

County = Annotated[str, Parameter(pattern=r"^(\d{6})?$")]
FollowupId = Annotated[str, Parameter(max_length=40)]
AlertStatus = Annotated[str, Parameter(pattern=r"^(open|resolved|all)$")]
Month = Annotated[str, Parameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


class FollowupController(Controller):
    path = "/api/followups"
    tags = ["followups"]

    @get("/", opt={"roles": service.READERS})
    def list_followups(self, ctx: Ctx, request: Request[Principal, Any, Any], county_code: County = "",
                       mine: FromQuery[bool] = False) -> FollowupListOut:
        """Settled payments waiting for their follow-up (earliest due first, with days overdue) and the latest
        recorded ones, within the caller's counties. Each due one the caller will be refused says why (`refused`,
        须由其他人员回访). `mine=true` (an officer's own list): only those the caller may record (`service.own_due`),
        `others` counting those left to other officers, and the follow-ups the caller recorded."""
        user = request.user
        if county_code:
            user.require_county(county_code, "county")
        today = ctx.clock.today()
        others = 0
        with ctx.db.read() as session:
            if mine:
                own = service.own_due(session, user, county_code=county_code or None)
                due, others = own.items, own.others
            else:
                due = service.marked(session, user, service.due_followups(session, user, county_code=county_code or None))
            done = service.recorded(session, user, county_code=county_code or None)
        if mine:
            done = [d for d in done if d[0].recorded_by == user.id]
        return FollowupListOut([due_out(d, today) for d in due], [followup_out(f) for f, _, _ in done], others)

    @post("/", opt={"roles": service.RECORDERS}, status_code=201)
    def record(self, data: JSONBody[service.FollowupInput], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Response[FollowupOut]:
        """Record the follow-up of a case's settled payment (a field officer of the case's county; once per payment:
        a second time 409)."""
        def run(session: Session) -> FollowupOut:
            return followup_out(service.record_followup(session, data, principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/summary", opt={"roles": service.SUMMARY_READERS})
    def summary(self, ctx: Ctx, request: Request[Principal, Any, Any],
                county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")], month: Month) -> summary.FollowupSummary:
        """The county's follow-up figures for a month (as the monthly report shows them)."""
        request.user.require_county(county_code, "county")
        first, last = parse_month(month)
        with ctx.db.read() as session:
            return summary.followup_summary(session, county_code, first, last, today=ctx.clock.today())

    @get("/receipt-alerts", opt={"roles": receipt.ALERT_READERS})
    def receipt_alerts(self, ctx: Ctx, request: Request[Principal, Any, Any], status: AlertStatus = "open",
                       county_code: County = "", q: Annotated[str, Parameter(max_length=100)] = "",
                       limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
                       offset: Annotated[int, Parameter(ge=0)] = 0) -> ReceiptAlertListOut:
        """Follow-ups whose household said it did not receive the relief (or only part), within the caller's
        counties, newest first: `open` (未收到救助金待核实), `resolved` or `all`; `q`: a case number, a household
        head's name or a village containing it; `limit` from `offset`, with the `total`. Each with its payee's
        account masked, the batch and who changed the payee."""
        if county_code:
            request.user.require_county(county_code, "county")
        with ctx.db.read() as session:
            found, total = receipt.alerts(session, request.user, ctx.vault, status=status,
                                          county_code=county_code or None, q=q, limit=limit, offset=offset)
        return ReceiptAlertListOut([alert_out(a) for a in found], total, limit, offset)

    @get("/setter-alone", opt={"roles": alone_look.READERS})
    def setter_alone(self, ctx: Ctx, request: Request[Principal, Any, Any],
                     status: Annotated[str, Parameter(pattern=r"^(waiting|done)$")] = "waiting",
                     to_decide: Annotated[str, Parameter(pattern=r"^1?$")] = "",
                     q: Annotated[str, Parameter(max_length=100)] = "",
                     page: Annotated[int, Parameter(ge=1)] = 1) -> AloneListOut:
        """Follow-ups recorded by a setter of the payee account alone (回访待县级复核) in the caller's counties: waiting
        (oldest first) or `done` (confirmed or refused, newest first); `to_decide=1`: only those the caller may
        confirm or refuse (the home card's count), `others` counting the waiting ones left to other county reviewers;
        each waiting one the caller may not decide says why (`refused`); `q`: a head's name, case number, town or
        village containing it."""
        with ctx.db.read() as session:
            waiting = alone_look.waiting(session, request.user) if to_decide == "1" and status == "waiting" else None
            found = alone_look.find(session, request.user, view="done" if status == "done" else "", q=q, page=page,
                                    only=waiting.mine if waiting is not None else None)
        return AloneListOut([alone_out(r) for r in found.items], found.total,
                            waiting.others if waiting is not None else 0)

    @post("/assignments", opt={"roles": assignment.ASSIGNERS}, status_code=201)
    def assign(self, data: JSONBody[assignment.AssignInput], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """An insurer supervisor assigns a payment's follow-up to a setter of its account with a reason (指派回访),
        while the county has no other field officer (after a setter's follow-up was refused, say): the officer may
        then record it, and it waits for the county's second look. Refused (403) to a supervisor who took part or is
        linked by a password, and for an officer who took any other part; 409 when another may record it or it was
        followed up; 422 naming `reason` or `officer_id`."""
        with ctx.db.begin() as session:
            row = assignment.assign(session, data, principal=request.user, clock=ctx.clock)
            return {"id": row.id, "payment_item_id": row.payment_item_id, "case_id": row.case_id,
                    "officer_id": row.officer_id, "assigned_by": row.assigned_by, "assigned_at": row.assigned_at}

    @post("/{followup_id:str}/setter-alone/confirm", opt={"roles": alone_look.LOOKERS}, status_code=200)
    def confirm_alone(self, followup_id: FollowupId, ctx: Ctx,
                      request: Request[Principal, Any, Any]) -> FollowupOut:
        """A county reviewer who took no part in paying the item (nor its recorder, nor an account linked to either
        by a password: 403, kept on 回避拦截记录) confirms a follow-up a setter recorded alone (确认); once: 409."""
        with ctx.db.begin() as session:
            return followup_out(alone_look.confirm(session, followup_id, principal=request.user, clock=ctx.clock))

    @post("/{followup_id:str}/setter-alone/refuse", opt={"roles": alone_look.LOOKERS}, status_code=200)
    def refuse_alone(self, followup_id: FollowupId, data: JSONBody[AloneRefuseIn], ctx: Ctx,
                     request: Request[Principal, Any, Any]) -> FollowupOut:
        """The same county reviewer refuses it with a reason (退回; blank: 422): the follow-up is kept, answers
        nothing, and the payment is due again for another officer; the same refusals as the confirmation."""
        with ctx.db.begin() as session:
            return followup_out(alone_look.refuse(session, followup_id, data.reason, principal=request.user,
                                                  clock=ctx.clock))

    @post("/{followup_id:str}/receipt-review", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def review_receipt(self, followup_id: FollowupId, data: JSONBody[ReceiptReviewIn], ctx: Ctx,
                       request: Request[Principal, Any, Any]) -> dict[str, str | None]:
        """A county reviewer closes the alert with an outcome and a note (not one who took part in paying it or
        recorded the follow-up: 403; once: 409): `received`, or `misdirected`, which opens the recovery and the
        supplementary payment of what the household did not get."""
        with ctx.db.begin() as session:
            row = receipt.resolve(session, followup_id, data.note, principal=request.user, clock=ctx.clock,
                                  outcome=data.outcome)
            return {"id": row.id, "followup_id": row.followup_id, "resolved_by": row.resolved_by,
                    "outcome": row.outcome, "recovery_id": row.recovery_id, "supplement_id": row.supplement_id,
                    "second_needed": row.second_needed}

    @post("/{followup_id:str}/receipt-review/confirm", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def confirm_receipt_review(self, followup_id: FollowupId, ctx: Ctx,
                               request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """Another county reviewer confirms a 核实已收到 closing of an alert whose account was changed after the check
        (`second_needed`; until then the alert is open, 待复核): never its closer, the follow-up's recorder, who took
        part in paying it, nor an account linked to one of them by a password (403, kept on 回避拦截记录); a closing
        that needs no second look, or has had it: 409."""
        with ctx.db.begin() as session:
            row = receipt_second.confirm_closing(session, followup_id, principal=request.user, clock=ctx.clock)
            return {"id": row.id, "followup_id": row.followup_id, "resolved_by": row.resolved_by,
                    "outcome": row.outcome, "second_needed": row.second_needed, "confirmed_by": row.confirmed_by,
                    "confirmed_at": row.confirmed_at}

    @post("/{followup_id:str}/receipt-review/return", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def return_receipt_review(self, followup_id: FollowupId, data: JSONBody[ReceiptReturnIn], ctx: Ctx,
                              request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """The second county reviewer returns a 核实已收到 closing waiting for them (退回重新核实) with a note: the same
        people the confirmation refuses are refused (403, kept on 回避拦截记录); a blank note: 422; once (409 after a
        confirmation or a return). The closing is kept, marked returned, and the alert is open again for another
        county reviewer to close (never its closer)."""
        with ctx.db.begin() as session:
            row = receipt_second.return_closing(session, followup_id, data.note, principal=request.user,
                                                clock=ctx.clock)
            return {"id": row.id, "followup_id": row.followup_id, "resolved_by": row.resolved_by,
                    "outcome": row.outcome, "returned_by": row.returned_by, "returned_at": row.returned_at,
                    "return_note": row.return_note}

    @post("/{followup_id:str}/receipt-review/withdraw", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def propose_withdrawal(self, followup_id: FollowupId, data: JSONBody[ReceiptWithdrawIn], ctx: Ctx,
                           request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """A county reviewer proposes withdrawing a 核实未收到 closing (撤回核实未收到) with a reason: nothing is
        withdrawn until another county reviewer confirms it (not one who took part in paying it or recorded the
        follow-up: 403, kept on 回避拦截记录; a blank reason: 422; once: 409; the supplement in a batch or the recovery
        with money recorded: 409 naming why)."""
        with ctx.db.begin() as session:
            row = receipt_withdraw.propose(session, followup_id, data.reason, principal=request.user,
                                           clock=ctx.clock)
            return _withdrawal_out(row, session)

    @post("/{followup_id:str}/receipt-review/withdraw/confirm", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def confirm_withdrawal(self, followup_id: FollowupId, ctx: Ctx, request: Request[Principal, Any, Any],
                           data: JSONBody[ReceiptWithdrawConfirmIn | None] = None) -> dict[str, Any]:
        """Another county reviewer confirms the proposed withdrawal (never its proposer, the closer, who took part in
        paying the item, the follow-up's recorder, nor an account linked to one of them by a password: 403, kept on
        回避拦截记录): the recovery and the supplement withdrawn and the alert open again, in one transaction; the
        supplement in a batch or paid, or the recovery with money recorded: 409 naming why. `proposal` (optional):
        the number of the proposal confirmed; another one waits since: 409."""
        with ctx.db.begin() as session:
            row = receipt_withdraw.confirm(session, followup_id, principal=request.user, clock=ctx.clock,
                                           proposal=data.proposal if data is not None else None)
            return _withdrawal_out(row, session)

    @post("/{followup_id:str}/receipt-review/withdraw/drop", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def drop_withdrawal(self, followup_id: FollowupId, data: JSONBody[ReceiptWithdrawEndIn], ctx: Ctx,
                        request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """The proposer drops their own proposal to withdraw a 核实未收到 (撤销提议) with a reason: anyone else 403
        (another reviewer who disagrees declines it); a blank reason: 422; none waits, or `proposal` is not the one
        that waits: 409. The proposal is kept as ended, and a new one may be made."""
        with ctx.db.begin() as session:
            row = receipt_withdraw.drop(session, followup_id, data.reason, principal=request.user, clock=ctx.clock,
                                        proposal=data.proposal)
            return _withdrawal_out(row, session)

    @post("/{followup_id:str}/receipt-review/withdraw/decline", opt={"roles": receipt.RESOLVERS}, status_code=200)
    def decline_withdrawal(self, followup_id: FollowupId, data: JSONBody[ReceiptWithdrawEndIn], ctx: Ctx,
                           request: Request[Principal, Any, Any]) -> dict[str, Any]:
        """Another county reviewer declines the proposal (驳回撤回) with a reason: the people the confirmation refuses
        are refused, and whoever declined an earlier proposal of the closing (403, kept on 回避拦截记录); a blank
        reason: 422; none waits, or `proposal` is not the one that waits: 409. The 核实未收到 stands, its recovery and
        supplement go on; the proposal is kept as ended, and a new one may be made."""
        with ctx.db.begin() as session:
            row = receipt_withdraw.decline(session, followup_id, data.reason, principal=request.user,
                                           clock=ctx.clock, proposal=data.proposal)
            return _withdrawal_out(row, session)


def _withdrawal_out(row: Any, session: Session) -> dict[str, Any]:
    """The closing after a proposal, a confirmation, a drop or a decline: the number of its proposal that waits (or
    was confirmed; null: none), and its proposals ended (dropped or declined), oldest first."""
    of_followup = receipt_withdraw.ended_proposals(session, [row.followup_id]).get(row.followup_id, ())
    ended = [msgspec.to_builtins(ended_out(e)) for e in of_followup if e.review_id == row.id]
    return {"withdraw_proposal": receipt_withdraw.waiting_proposal(row, of_followup), "withdraw_ended": ended,
            "id": row.id, "followup_id": row.followup_id, "resolved_by": row.resolved_by, "outcome": row.outcome,
            "recovery_id": row.recovery_id, "supplement_id": row.supplement_id,
            "withdraw_proposed_by": row.withdraw_proposed_by, "withdraw_proposed_at": row.withdraw_proposed_at,
            "withdraw_reason": row.withdraw_reason, "withdrawn_by": row.withdrawn_by, "withdrawn_at": row.withdrawn_at}
