"""The pages of needs passed to departments (发点球): the list of open, overdue and answered referrals, the form
that passes a need found at a check or a follow-up, and the county reviewer's form for a department's answer."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..cases.workflow import load_case
from ..http import Ctx, get, post
from ..needs import figures as need_figures
from ..needs import service as need_service
from ..store.paged import fold_search
from . import labels, paging
from .common import FormState, Req, clean, folded, form_state, page, parse_day, see_other, user_names
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": need_service.READERS}
REFERRERS: dict[str, Any] = {"roles": need_service.REFERRERS}
ANSWERERS: dict[str, Any] = {"roles": need_service.ANSWERERS}
Id = Annotated[str, Parameter(max_length=40)]
Text = Annotated[str, Parameter(max_length=40)]
NEW_FIELDS = ("need", "department", "due_on", "note", "source", "followup_id")
ANSWER_FIELDS = ("outcome", "answer", "answered_on")
State = Annotated[str, QueryParameter(name="state", pattern=r"^(open|overdue|answered)?$")]


def _new_form(request: Req, ctx: Any, case_id: str, followup_id: str, state: FormState,
              status_code: int = 200) -> Template:
    with ctx.db.read() as session:
        case = load_case(session, case_id, request.user)
        head = case.household.head_name
        followup = need_service.followup_of_case(session, case.id, followup_id)
        open_needs = {r.referral.need for r in need_service.list_referrals(
            session, request.user, today=ctx.clock.today(), state="open", case_id=case.id)}
    if need_service.refused_followup(followup):
        state.general.append(need_service.FROM_REFUSED)
    return page(request, "need_new.html", status_code=status_code, case=case, head=head, followup=followup,
                refused=need_service.refused_followup(followup),
                form=state, needs=[(k, v) for k, v in labels.NEEDS.items()], open_needs=open_needs,
                departments=need_service.DEPARTMENTS, today=ctx.clock.today())


def _detail(request: Req, ctx: Any, referral_id: str, state: FormState, status_code: int = 200,
            message: str = "") -> Template:
    user = request.user
    with ctx.db.read() as session:
        row = need_service.get_referral(session, referral_id, user)
        case = load_case(session, row.case_id, user)
        head = case.household.head_name
        names = user_names(session, [row.referred_by, row.answered_by or ""])
        answering = user.has(*need_service.ANSWERERS) and row.status == "open" and row.referred_by != user.id
        # an account linked by a password to the referrer's: the rule answer_referral refuses by, said instead
        linked = need_service.linked_answerer(session, row, user) if answering else None
    may_answer = answering and not linked
    state.values.setdefault("answered_on", ctx.clock.today().isoformat())
    return page(request, "need.html", status_code=status_code, r=row, case=case, head=head, names=names, form=state,
                may_answer=may_answer, linked=linked, message=message, today=ctx.clock.today(),
                outcomes=list(labels.NEED_OUTCOMES.items()))


def _list(request: Req, ctx: Any, which: str, q: str, page_no: str | None, *, case_form: FormState | None = None,
          status_code: int = 200) -> Template:
    today = ctx.clock.today()
    q = fold_search(q)
    with ctx.db.read() as session:
        found = need_service.find_referrals(session, request.user, today=today, state=which, q=q,
                                            page=page_param(page_no), page_size=paging.PAGE_SIZE)
        counts = need_figures.count_open(session, request.user, today)
    pager = Pager.over("/need-referrals", {"state": which, "q": q}, found)
    return page(request, "needs.html", status_code=status_code, rows=found.items, state=which,
                states=labels.NEED_STATES, counts=counts, today=today, q=q, pager=pager,
                referrer=request.user.has(*need_service.REFERRERS), case_form=case_form or FormState())


class NeedPages(Controller):
    path = "/need-referrals"

    @get("/", opt=READERS)
    def list_referrals(self, ctx: Ctx, request: Req, which: State = "open",
                       q: Annotated[str, Parameter(max_length=200)] = "",
                       page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return _list(request, ctx, which or "open", q, page_no)

    @get("/new", opt=REFERRERS)
    def new(self, ctx: Ctx, request: Req, case: Annotated[str, Parameter(max_length=80)] = "",
            followup: Id = "") -> Any:
        typed = "".join(folded(case).split())  # as a phone's input method types it: full-width, with spaces
        try:
            with ctx.db.read() as session:
                case_id = need_service.find_case_id(session, request.user, typed[:40])
        except NotFound:  # a mistyped number: the list again, the number as typed, what is wrong beside it
            state = FormState(values={"case": case})
            state.add("case", "没有这个案件编号（或不在您负责的地区），请核对，如 340223-2020-000012"
                      if typed else "请填写案件编号")
            return _list(request, ctx, "open", "", None, case_form=state, status_code=404 if typed else 422)
        values = {"source": "followup" if followup else "check", "followup_id": followup}
        return _new_form(request, ctx, case_id, followup, FormState(values=values))

    @post("/new", opt=REFERRERS, status_code=303)
    def refer(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        case_id = clean(data.get("case_id"))[:40]
        followup_id = clean(data.get("followup_id"))[:40]
        problems: list[FieldError] = []
        due_on = parse_day(data.get("due_on"), "due_on", problems, required=False)
        if problems and clean(data.get("need")) not in labels.NEEDS:  # every problem at once, the service's too
            problems.append(FieldError("need", "请选择需求"))
        try:
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                need_service.refer_need(session, need_service.ReferralInput(
                    case_id=case_id, need=clean(data.get("need")), source="followup" if followup_id else "check",
                    followup_id=followup_id or None, department=clean(data.get("department")), due_on=due_on,
                    note=clean(data.get("note"))), principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return _new_form(request, ctx, case_id, followup_id, form_state(data, exc, NEW_FIELDS), status_code=422)
        except InvalidState as exc:
            if str(exc) == need_service.FROM_REFUSED:  # the follow-up refused meanwhile: why, not "already sent"
                return _new_form(request, ctx, case_id, followup_id, FormState(values=dict(data)), status_code=409)
            return see_other("/need-referrals", done="need_already")
        return see_other("/need-referrals", done="need_referred")

    @get("/{referral_id:str}", opt=READERS)
    def show(self, referral_id: Id, ctx: Ctx, request: Req) -> Template:
        return _detail(request, ctx, referral_id, FormState())

    @post("/{referral_id:str}/answer", opt=ANSWERERS, status_code=303)
    def answer(self, referral_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        problems: list[FieldError] = []
        answered_on = parse_day(data.get("answered_on"), "answered_on", problems)
        try:
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                need_service.answer_referral(session, referral_id, need_service.AnswerInput(
                    outcome=clean(data.get("outcome")), answer=clean(data.get("answer")), answered_on=answered_on),
                    principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return _detail(request, ctx, referral_id, form_state(data, exc, ANSWER_FIELDS), status_code=422)
        except Forbidden as exc:
            return _detail(request, ctx, referral_id, FormState(values=dict(data)), status_code=403,
                           message=exc.detail)
        except InvalidState:
            return see_other(f"/need-referrals/{referral_id}", done="need_answer_already")
        return see_other(f"/need-referrals/{referral_id}", done="need_answered")
