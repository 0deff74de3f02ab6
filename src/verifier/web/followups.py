"""The follow-up pages (回访): the list of follow-ups due (an officer's own, or the county's for a supervisor or a
county reviewer) and the officer's phone form to record one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..followups import listing as followup_listing
from ..followups import service as followup_service
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import labels, paging, typed
from .common import FormState, Req, add_error, clean, page, parse_day, see_other, user_names
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": followup_service.READERS}
RECORDERS: dict[str, Any] = {"roles": followup_service.RECORDERS}
Id = Annotated[str, Parameter(max_length=40)]
RECENT = 10  # the latest follow-ups recorded, under the list of those due
FIELDS = ("done_on", "method", "income_change", "risk_remains", "satisfaction", "new_needs", "note", "received",
          "received_amount")


def _form(request: Req, ctx: Any, item_id: str, state: FormState, *, status_code: int = 200,
          message: str = "", ask_first: bool = False) -> Template:
    """The form, or (`ask_first`, an opened page) instead of it why the reader will be refused recording it (回避, or
    a part in paying it: `followup_service.refusal_before`, the rule the form sent is refused by; a 回避 refusal shown
    is kept on 回避拦截记录 by the read, as a form sent is); a refused send shows the form again with `message` and
    what was typed."""
    with ctx.db.read() as session:
        due = followup_service.due_item(session, request.user, item_id)
    refusal, alone = None, False
    if ask_first:
        try:
            with ctx.db.read() as session:
                refusal = followup_service.refusal_before(session, request.user, item_id, clock=ctx.clock)
        except ValidationFailed as exc:
            refusal = "；".join(e.message for e in exc.errors)
    if refusal is None:
        with ctx.db.read() as session:
            alone = followup_service.recorded_alone(session, request.user, item_id)
    return page(request, "followup_new.html", status_code=status_code, due=due, form=state, today=ctx.clock.today(),
                message=message, refusal=refusal, alone=alone, methods=list(labels.FOLLOWUP_METHODS.items()),
                income_changes=list(labels.INCOME_CHANGES.items()), satisfaction=list(labels.SATISFACTION.items()),
                needs=list(labels.NEEDS.items()),
                received=[(k, v) for k, v in labels.RECEIVED.items() if k != "unknown"])


class FollowupPages(Controller):
    path = "/followups"

    @get("/", opt=READERS)
    def list_followups(self, ctx: Ctx, request: Req, all: FromQuery[str | None] = None,
                       show: FromQuery[Literal["due", "done", ""]] = "",
                       q: Annotated[str, Parameter(max_length=200)] = "",
                       page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """An officer sees the follow-ups they may record (`own_due`, with how many others are due in their
        counties, 须由其他核查员回访; with `all=1`, the county's, those they will be refused marked); others the
        county's. The follow-ups due are paged; `show=done` pages the follow-ups recorded instead."""
        user = request.user
        today = ctx.clock.today()
        officer_only = user.has("field_officer") and not user.has("insurer_supervisor", "county_reviewer", "auditor")
        mine = officer_only and all != "1"
        q = fold_search(q)
        at = page_param(page_no)
        with ctx.db.read() as session:
            if show == "done":
                due, overdue_total, others = None, 0, 0
                done = followup_listing.find_recorded(session, user, q=q, page=at, page_size=paging.PAGE_SIZE)
            else:
                due, overdue_total, others = followup_listing.find_due(session, user, today=today, mine=mine, q=q, page=at,
                                                               page_size=paging.PAGE_SIZE)
                done = followup_listing.find_recorded(session, user, q=q, page=1, page_size=RECENT)
            names = user_names(session, [f.recorded_by for f, _, _ in done.items])
        params = {"all": "1" if all == "1" else "", "show": show, "q": q}
        pager = Pager.over("/followups", params, done if due is None else due)
        overdue = [d for d in due.items if d.due_on < today] if due else []
        coming = [d for d in due.items if d.due_on >= today] if due else []
        return page(request, "followups.html", overdue=overdue, coming=coming, recorded=done.items, names=names,
                    today=today, mine=mine, officer_only=officer_only, recorder=user.has(*followup_service.RECORDERS),
                    referrer=user.has("field_officer", "insurer_supervisor"), show=show or "due", q=q, pager=pager,
                    overdue_total=overdue_total, coming_total=(due.total - overdue_total) if due else 0,
                    done_total=done.total, keep=params, others=others)

    @get("/new", opt=RECORDERS)
    def new(self, ctx: Ctx, request: Req, item: Annotated[str, Parameter(max_length=40)] = "") -> Any:
        if not item:  # a bookmark of the form without its payment: the list, where each has its link
            return see_other("/followups")
        try:
            return _form(request, ctx, item, FormState(values={"done_on": ctx.clock.today().isoformat()}),
                         ask_first=True)
        except InvalidState:
            return see_other("/followups", done="followup_already")
        except ValidationFailed:
            raise NotFound("这笔支付不存在，或不在您的权限范围内") from None

    @post("/", opt=RECORDERS, status_code=303)
    def record(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        item_id = clean(data.get("payment_item_id"))[:40]
        values = {k: v for k, v in data.items() if isinstance(v, str) and k != "new_needs"}
        needs = data.get("new_needs") or []
        needs = [needs] if isinstance(needs, str) else [n for n in needs if isinstance(n, str)]
        state = FormState(values={**values, "new_needs": needs})
        problems: list[FieldError] = []
        done_on = parse_day(data.get("done_on"), "done_on", problems)
        risk = clean(data.get("risk_remains"))
        if risk not in ("yes", "no"):
            problems.append(FieldError("risk_remains", "请选择致贫风险是否仍在"))
        for name, table in (("method", labels.FOLLOWUP_METHODS), ("income_change", labels.INCOME_CHANGES),
                            ("satisfaction", labels.SATISFACTION), ("received", labels.RECEIVED)):
            if clean(data.get(name)) not in table:
                problems.append(FieldError(name, f"请选择{labels.field_label(name)}"))
        try:
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.read() as session:
                due = followup_service.due_item(session, request.user, item_id)
            with ctx.db.begin() as session:
                row = followup_service.record_followup(session, followup_service.FollowupInput(
                    case_id=due.case_id, payment_item_id=item_id, done_on=done_on,  # type: ignore[arg-type]
                    method=clean(data.get("method")), income_change=clean(data.get("income_change")),
                    risk_remains=risk == "yes", satisfaction=clean(data.get("satisfaction")), new_needs=needs,
                    note=clean(data.get("note")), received=clean(data.get("received")),
                    received_amount=typed.typed_yuan(data.get("received_amount")) or None),
                    principal=request.user, clock=ctx.clock)
        except Forbidden as exc:
            # Someone who took part in paying it: told why, what was typed kept for a colleague to see.
            return _form(request, ctx, item_id, state, status_code=403, message=exc.detail)
        except ValidationFailed as exc:
            if any(e.field == "payment_item_id" for e in exc.errors):
                raise NotFound("这笔支付不存在，或不在您的权限范围内") from None
            for e in exc.errors:
                add_error(state, e, set(FIELDS), {})
            return _form(request, ctx, item_id, state, status_code=422)
        except InvalidState:
            # Sent twice (the first answer lost on a poor connection): the first one counted.
            return see_other("/followups", done="followup_already")
        # recorded by a setter alone: told it waits for the county's second look, not that it is done
        alone = "_alone" if row.setter_alone else ""
        return see_other("/followups", done=("followup_needs" if needs else "followup") + alone)
