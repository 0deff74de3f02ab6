"""Pages of a sampled deviation's consequences: the recoveries list (追回) for finance and the county, a recovery
with its repayments (record, confirm or reject, waive), the re-determination of a held case from its page, and
the read models the case page and the round page show.

The rules are the services' (payments/recoveries.py, cases/holds.py): the pages offer the buttons, the services
decide, and a refusal is shown in Chinese with what was typed kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases import hold_proposal_list, hold_proposals, holds
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..http import Ctx, get, post
from ..payments import recoveries, recovery_reading
from ..payments.routes import RECOVERY_READERS
from ..sampling import service as smp
from ..store.paged import fold_search
from . import paging
from . import stagelabels as sl
from .labels import labelled
from . import labels
from .common import FormState, Req, clean, confirmed, counties_of, page, parse_day, see_other, user_names
from .typed import typed_yuan
from .paging import Pager, page_param

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
READERS: dict[str, Any] = {"roles": RECOVERY_READERS}
RECORDERS: dict[str, Any] = {"roles": (recoveries.RECORDER,)}
CONFIRMERS: dict[str, Any] = {"roles": recoveries.CONFIRMERS}
WAIVERS: dict[str, Any] = {"roles": (recoveries.WAIVER,)}
SUPERVISORS: dict[str, Any] = {"roles": (holds.ROLE,)}
ANSWERERS: dict[str, Any] = {"roles": (hold_proposals.ROLE,)}
REPAYMENT_FIELDS = ("amount", "paid_on", "reference")


def _errors(state: FormState, exc: ValidationFailed, known: tuple[str, ...]) -> FormState:
    for e in exc.errors:
        if e.field in known:
            state.add(e.field, sl.zh(e.message))
        else:
            state.general.append(labelled(sl.recovery_field_zh(e.field), sl.zh(e.message)))
    return state


def case_deviations(session: Session, case_id: str, user: Principal) -> dict[str, Any]:
    """What the case page shows of sampled deviations: its holds and recoveries, and whether the user may
    re-determine it (the case is read, and its county checked, by the case page itself)."""
    held = holds.holds_for_case(session, case_id)
    recs = recovery_reading.recoveries_for_case(session, case_id)
    names = user_names(session, [h["opened_by"] for h in held] + [h["decided_by"] or "" for h in held]
                       + [who or "" for h in held for p in h["proposals"] for who in (p["proposed_by"],
                                                                                     p["answered_by"])])
    open_hold = next((h for h in held if h["status"] == "open"), None)
    waiting = open_hold["waiting"] if open_hold else None
    may_answer = waiting is not None and user.has(hold_proposals.ROLE)
    rechecks = smp.visits_of_case(session, case_id) if user.has(*smp.RECHECK_READERS) else []
    names |= user_names(session, [r["result"].recorded_by for r in rechecks])
    rounds = smp.round_titles(session, (list(open_hold["rounds"]) + [open_hold["round_id"]] if open_hold else [])
                              + [r["round_id"] for r in rechecks])
    may_redetermine = open_hold is not None and user.has(holds.ROLE)
    return {"holds": held, "recoveries": recs, "open_hold": open_hold, "names": names, "rounds": rounds,
            "rechecks": rechecks,
            "may_redetermine": may_redetermine,
            # why not, said instead of the form: a first person of the case, or an account linked by a password to
            # one whose part it checks (the rule `redetermine` refuses by)
            "redetermine_refused": holds.redeterminer_refused(session, case_id, user) if may_redetermine else None,
            # a re-determination against the county's finding, waiting for a county reviewer of the county
            "waiting": waiting, "may_answer": may_answer,
            # an insurer supervisor may withdraw it (撤回): nothing changes, the hold stays open
            "may_withdraw": waiting is not None and user.has(holds.ROLE),
            "answer_refused": hold_proposals.answer_refused(session, case_id, user) if may_answer else None,
            "sees_recoveries": user.has(*RECOVERY_READERS), "sl": sl}


def _list(request: Req, ctx: Any, *, status: str, county_code: str, q: str, page_no: int, status_code: int = 200,
          message: str | None = None) -> Template:
    q = fold_search(q)
    with ctx.db.read() as session:
        found = recovery_reading.find_recoveries(session, request.user, county_code=county_code or None,
                                           status=status or None, q=q, page=page_no, page_size=paging.PAGE_SIZE)
        counties = counties_of(session, request.user)
    pager = Pager.over("/recoveries", {"status": status, "county_code": county_code, "q": q}, found)
    return page(request, "recoveries.html", status_code=status_code, items=found.items, p=pager, status=status,
                county_code=county_code, counties=counties, q=q, sl=sl, message=sl.zh(message) if message else None)


def _detail(request: Req, ctx: Any, recovery_id: str, *, status_code: int = 200, message: str | None = None,
            form: FormState | None = None, waive_form: FormState | None = None,
            decline_form: FormState | None = None) -> Template:
    user = request.user
    with ctx.db.read() as session:
        rec = recovery_reading.get_recovery(session, recovery_id, user)
        names = user_names(session, [rec["opened_by"], rec["closed_by"] or "", rec["waiver_requested_by"] or ""]
                           + [r["recorded_by"] for r in rec["repayments"]]
                           + [r["decided_by"] or "" for r in rec["repayments"]]
                           + [who for w in rec["waiver_requests"] for who in (w["asked_by"], w["ended_by"] or "")])
        round_title = smp.round_titles(session, [rec["round_id"]]).get(rec["round_id"])
    return page(request, "recovery.html", status_code=status_code, rec=rec, names=names, sl=sl, round_title=round_title,
                may_record=user.has(recoveries.RECORDER) and rec["status"] == "open",
                may_confirm=user.has(*recoveries.CONFIRMERS),
                may_waive=(user.has(recoveries.WAIVER) and rec["status"] == "open"
                           and rec["waiver_requested_by"] != user.id),  # who asked for a waiver does not confirm it
                form=form or FormState(), waive_form=waive_form or FormState(),
                decline_form=decline_form or FormState(),
                message=sl.zh(message) if message else None, today=ctx.clock.today())


WAIVE_UNCONFIRMED = "核销后尚未追回的金额不再追回，不能撤回：请勾选确认框"


class RecoveryPages(Controller):
    path = "/recoveries"

    @get("/", opt=READERS)
    def list_recoveries(
        self, ctx: Ctx, request: Req,
        status: FromQuery[Literal["open", "repaid", "waived", "withdrawn", "all", ""]] = "open",
        county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
        q: Annotated[str, Parameter(max_length=200)] = "",
        page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
    ) -> Template:
        return _list(request, ctx, status="" if status == "all" else status, county_code=county_code, q=q,
                     page_no=page_param(page_no))

    @get("/{recovery_id:str}", opt=READERS)
    def show(self, recovery_id: Id, ctx: Ctx, request: Req) -> Template:
        return _detail(request, ctx, recovery_id)

    @post("/{recovery_id:str}/repayments", opt=RECORDERS, status_code=303)
    def record(self, recovery_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        values = {k: clean(data.get(k)) for k in REPAYMENT_FIELDS}
        state = FormState(values=values)
        problems: list[FieldError] = []
        # a day and an amount as offices write them (2026/12/5, ￥１２，３４５．６元); a day the form cannot read
        # goes to the service as none
        paid_on = parse_day(values["paid_on"], "paid_on", problems, required=False)
        for problem in problems:
            state.add(problem.field, labels.message_zh(problem.message))
        try:
            # A day the form could not read goes to the service as none: it refuses it with the amount's and the
            # reference's problems, all told at once (nothing is kept without a day).
            with ctx.db.begin() as session:
                recoveries.record_repayment(session, recovery_id, amount=typed_yuan(values["amount"]), paid_on=paid_on,
                                            reference=values["reference"], principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            told = [e for e in exc.errors if e.field not in state.errors]
            return _detail(request, ctx, recovery_id, status_code=422,
                           form=_errors(state, ValidationFailed(told), REPAYMENT_FIELDS))
        except (InvalidState, Forbidden) as exc:
            return _detail(request, ctx, recovery_id, status_code=exc.status, message=exc.detail, form=state)
        return see_other(f"/recoveries/{recovery_id}", done="repayment_recorded")

    @post("/{recovery_id:str}/waive", opt=WAIVERS, status_code=303)
    def waive(self, recovery_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        state = FormState(values={"reason": clean(data.get("reason"))})
        # The second reviewer's click writes the money off for good: it asks for its box (told with the reason's).
        unconfirmed = data.get("step") == "confirm" and not confirmed(data)
        # the confirmation answers the request the page showed (`asked_at`): answered or asked again since, 409
        answer = {"answering": data.get("step") == "confirm", "asked_at": clean(data.get("asked_at")) or None}
        done = None
        try:
            with ctx.db.begin() as session:
                # Who may not waive, or comes too late, is told so before the box; a write-off waits for the box.
                if confirmed(data) or not recoveries.waive_writes_off(
                        session, recovery_id, reason=state.values["reason"], principal=request.user,
                        clock=ctx.clock, **answer):
                    done = recoveries.waive(session, recovery_id, reason=state.values["reason"],
                                            principal=request.user, clock=ctx.clock, **answer)
        except ValidationFailed as exc:
            state = _errors(state, exc, ("reason",))
            if unconfirmed:
                state.add("confirm", WAIVE_UNCONFIRMED)
            return _detail(request, ctx, recovery_id, status_code=422, waive_form=state)
        except (InvalidState, Forbidden) as exc:
            return _detail(request, ctx, recovery_id, status_code=exc.status, message=exc.detail, waive_form=state)
        if done is None:
            state.add("confirm", WAIVE_UNCONFIRMED)
            return _detail(request, ctx, recovery_id, status_code=422, waive_form=state)
        return see_other(f"/recoveries/{recovery_id}",
                         done="recovery_waived" if done["status"] == "waived" else "recovery_waiver_requested")

    @post("/{recovery_id:str}/waiver/decline", opt=WAIVERS, status_code=303)
    def decline_waiver(self, recovery_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Another county reviewer declines the request to waive, with a reason; the recovery stays open."""
        state = FormState(values={"reason": clean(data.get("decline_reason"))})
        try:
            with ctx.db.begin() as session:
                recoveries.decline_waiver(session, recovery_id, reason=state.values["reason"], principal=request.user,
                                          clock=ctx.clock, asked_at=clean(data.get("asked_at")) or None)
        except ValidationFailed as exc:
            for e in exc.errors:
                state.add("decline_reason", sl.zh(e.message))
            return _detail(request, ctx, recovery_id, status_code=422, decline_form=state)
        except (InvalidState, Forbidden) as exc:
            return _detail(request, ctx, recovery_id, status_code=exc.status, message=exc.detail,
                           decline_form=state)
        return see_other(f"/recoveries/{recovery_id}", done="recovery_waiver_declined")

    def _decide(self, ctx: Any, request: Req, recovery_id: str, repayment_id: str, confirm: bool,
                reason: str) -> Any:
        try:
            with ctx.db.begin() as session:
                rec = recovery_reading.load_recovery(session, recovery_id, request.user)
                if confirm:
                    out = recoveries.confirm_repayment(session, repayment_id, principal=request.user, clock=ctx.clock)
                else:
                    out = recoveries.reject_repayment(session, repayment_id, reason=reason, principal=request.user,
                                                      clock=ctx.clock)
                if out["recovery_id"] != rec.id:
                    raise NotFound("还款记录不存在")
        except (InvalidState, Forbidden) as exc:
            return _detail(request, ctx, recovery_id, status_code=exc.status, message=exc.detail)
        except ValidationFailed as exc:
            return _detail(request, ctx, recovery_id, status_code=422, message="；".join(
                labelled(sl.recovery_field_zh(e.field), sl.zh(e.message)) for e in exc.errors))
        return see_other(f"/recoveries/{recovery_id}", done="repayment_confirmed" if confirm else "repayment_rejected")

    @post("/{recovery_id:str}/repayments/{repayment_id:str}/confirm", opt=CONFIRMERS, status_code=303)
    def confirm(self, recovery_id: Id, repayment_id: Id, ctx: Ctx, request: Req) -> Any:
        return self._decide(ctx, request, recovery_id, repayment_id, True, "")

    @post("/{recovery_id:str}/repayments/{repayment_id:str}/reject", opt=CONFIRMERS, status_code=303)
    def reject(self, recovery_id: Id, repayment_id: Id, ctx: Ctx, request: Req,
               data: URLEncodedBody[dict[str, Any]]) -> Any:
        return self._decide(ctx, request, recovery_id, repayment_id, False, clean(data.get("reason")))


class HoldProposalPages(Controller):
    """The re-determinations against the county's finding waiting for a county reviewer of the user's counties (the
    home page's card counts them); each is answered on its case's page."""

    path = "/hold-proposals"

    @get("/", opt=ANSWERERS)
    def waiting(self, ctx: Ctx, request: Req, status: Annotated[str, QueryParameter(max_length=8)] = "",
                q: Annotated[str, QueryParameter(max_length=200)] = "",
                page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
                to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Template:
        """Waiting (oldest first; `to_decide=1`: those the user may answer, the card's count) or answered (已处理,
        newest first), searched; a waiting row says
        why the user may not answer it (what the case page shows instead of the forms), read for the whole page at
        once (`hold_proposals.answers_refused`)."""
        view = status if status in hold_proposal_list.VIEWS else ""
        deciding = to_decide == "1" and not view
        q = fold_search(q)
        with ctx.db.read() as session:
            found = hold_proposal_list.find(session, request.user, view=view, q=q, page=page_param(page_no),
                                            page_size=paging.PAGE_SIZE, deciding=deciding)
            # none for this user: how many wait for another county reviewer (the empty list says so)
            others = (hold_proposal_list.find(session, request.user, page_size=1).total
                      if deciding and not q and not found.total else 0)
            waiting = [p for p in found.items if p["status"] == "waiting"]
            why = hold_proposals.answers_refused(session, [p["case_id"] for p in waiting], request.user)
            refused = {p["id"]: why.get(p["case_id"]) for p in waiting}
            names = user_names(session, [p["proposed_by"] for p in found.items]
                               + [p["answered_by"] or "" for p in found.items])
        pager = Pager.over("/hold-proposals", {"status": view, "q": q, "to_decide": "1" if deciding else ""}, found)
        return page(request, "hold_proposals.html", items=found.items, names=names, refused=refused, p=pager,
                    view=view, q=q, sl=sl, limited=bool(request.user.counties), to_decide=deciding, others=others)


class RedeterminationPages(Controller):
    path = "/cases/{case_id:str}/redetermination"

    @post("/", opt=SUPERVISORS, status_code=303)
    def redetermine(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        from .cases import render_case

        fields = ("outcome", "reason", "relief_amount")
        state = FormState(values={k: clean(data.get(k)) for k in fields})
        try:
            with ctx.db.begin() as session:
                done = holds.redetermine(session, case_id, outcome=state.values["outcome"],
                                         reason=state.values["reason"],
                                         relief_amount=typed_yuan(state.values["relief_amount"]) or None,
                                         principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422,
                               forms={"redetermination": _errors(state, exc, fields)})
        except (InvalidState, Forbidden) as exc:
            return render_case(request, ctx, case_id, status_code=exc.status, message=sl.zh(exc.detail),
                               forms={"redetermination": state})
        waiting = done["waiting"] or {}
        return see_other(f"/cases/{case_id}", done="redetermined" if done["status"] != "open"
                         else "redetermination_proposed" if waiting.get("against_county", True)
                         else "redetermination_raised")

    @post("/proposal/withdraw", opt=SUPERVISORS, status_code=303)
    def withdraw_proposal(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """An insurer supervisor withdraws the waiting proposal (撤回): nothing changes, the hold stays open."""
        from .cases import render_case

        state = FormState(values={"reason": clean(data.get("reason"))})
        try:
            with ctx.db.begin() as session:
                hold_proposals.withdraw(session, case_id, clean(data.get("proposal_id")),
                                        reason=state.values["reason"], principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422,
                               forms={"proposal_withdraw": _errors(state, exc, ("reason",))})
        except (InvalidState, Forbidden, NotFound) as exc:
            return render_case(request, ctx, case_id, status_code=exc.status, message=sl.zh(exc.detail),
                               forms={"proposal_withdraw": state})
        return see_other(f"/cases/{case_id}", done="redetermination_withdrawn")

    def _decide_proposal(self, ctx: Any, request: Req, case_id: str, data: dict[str, Any], confirm: bool) -> Any:
        from .cases import render_case

        key = "proposal_confirm" if confirm else "proposal_decline"
        state = FormState(values={"reason": clean(data.get("reason"))})
        answer = hold_proposals.confirm if confirm else hold_proposals.decline
        try:
            with ctx.db.begin() as session:
                answer(session, case_id, clean(data.get("proposal_id")), reason=state.values["reason"],
                       principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422, forms={key: _errors(state, exc, ("reason",))})
        except (InvalidState, Forbidden, NotFound) as exc:
            return render_case(request, ctx, case_id, status_code=exc.status, message=sl.zh(exc.detail),
                               forms={key: state})
        return see_other(f"/cases/{case_id}",
                         done="redetermination_confirmed" if confirm else "redetermination_declined")

    @post("/proposal/confirm", opt=ANSWERERS, status_code=303)
    def confirm_proposal(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """A county reviewer of the county confirms a re-determination against the county's finding."""
        return self._decide_proposal(ctx, request, case_id, data, True)

    @post("/proposal/decline", opt=ANSWERERS, status_code=303)
    def decline_proposal(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Or declines it: the hold stays open."""
        return self._decide_proposal(ctx, request, case_id, data, False)


def round_assessment(session: Session, round_id: str, user: Principal) -> dict[str, Any]:
    """The round page's assessment section (考核记录)."""
    from ..sampling.assessment import round_assessment as read

    return read(session, round_id, user)

