"""The town clerk's pages: entering an application, and public notices (posting, objections, closing, the .docx)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Response
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from ..cases import numbers as case_numbers
from ..cases import service as case_service
from ..documents.notice_preview import render_notice_html
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..http import DOCX, Ctx, get, post
from ..notices import posting
from ..notices import service as notice_service
from ..accounts.probes import Limit, TooManyLookups
from ..referrals import edit as application_edit
from ..referrals import service as referral_service
from ..referrals.parsing import parse_application
from ..contract_review import reads as contract_reads
from ..store.paged import fold_search
from .common import (
    ANY,
    CLERK,
    FormState,
    Req,
    clean,
    confirmed,
    folded,
    counties_of,
    form_state,
    page,
    parse_day,
    see_other,
    user_names,
)
from . import exports, labels
from . import paging
from .paging import Pager, page_param
from .places import places_for_form
from .typed import typed_yuan

Id = Annotated[str, Parameter(max_length=40)]
APPLICATION_FIELDS = ("county_code", "id_number", "name", "town", "village", "household_group", "cause", "amount",
                      "referred_on", "household_size", "phone", "note")
TEXT_FIELDS = ("name", "town", "village", "note")  # kept as typed; the other fields are numbers, dates and codes
NOTICE_FIELDS = ("county_code", "town", "village", "posted_on", "issuing_body", "objection_place", "objection_phone",
                 "number")


def _application_form(request: Req, ctx: Any, state: FormState, status_code: int = 200) -> Template:
    with ctx.db.read() as session:
        counties = counties_of(session, request.user)
        county = state.value("county_code") or (counties[0] if len(counties) == 1 else "")
        places = places_for_form(session, request.user, county)
        table = referral_service.county_vocabulary(session, [county] if county else counties, ctx.clock.today())
    return page(request, "application.html", status_code=status_code, form=state, counties=counties,
                places=places, groups=list(table.group_names().items()), causes=list(table.cause_names().items()))


def _application_fields(data: Mapping[str, Any], names: Iterable[str], problems: list[FieldError]) -> dict[str, Any]:
    """The application form's fields as typed (text kept, the rest folded; an ID number without spaces, upper
    case), those left empty out; a household size that is not a whole number is a problem instead."""
    payload: dict[str, Any] = {}
    for name in names:
        value = (clean if name in TEXT_FIELDS else folded)(data.get(name))
        if not value:
            continue
        if name == "id_number":
            value = "".join(value.split()).upper()
        if name == "amount":
            value = typed_yuan(value)
        if name == "referred_on":  # a day the calendar has not (2026/2/30, 2026/5/32) said so, as on every form
            day = parse_day(value, name, problems)
            if day is None:
                continue
            value = day.isoformat()
        if name == "household_size":
            if not (value.isascii() and value.isdigit() and len(value) <= 3):
                problems.append(FieldError(name, "应为整数"))
                continue
            payload[name] = int(value)
            continue
        payload[name] = value
    return payload


class ApplicationPages(Controller):
    path = "/applications"

    @get("/new", opt=CLERK)
    def new(self, ctx: Ctx, request: Req) -> Template:
        counties = request.user.counties
        with ctx.db.read() as session:
            day = contract_reads.form_day(session, counties, ctx.clock.today())
        state = FormState(values={"referred_on": day.isoformat(),
                                  "county_code": counties[0] if len(counties) == 1 else ""})
        return _application_form(request, ctx, state)

    @post("/new", opt=CLERK, status_code=303)
    def create(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        problems: list[FieldError] = []
        payload = _application_fields(data, APPLICATION_FIELDS, problems)
        try:
            # The form's own problems and the row's (a pure check) are shown together, before anything is stored.
            try:
                with ctx.db.read() as session:
                    table = referral_service.county_vocabulary(session, [str(payload.get("county_code") or "")],
                                                               ctx.clock.today())
                parse_application({k: v for k, v in payload.items() if k != "county_code"}, today=ctx.clock.today(),
                                  table=table)
            except ValidationFailed as exc:  # a field the form already found wrong is said once
                problems += [e for e in exc.errors if e.field not in {p.field for p in problems}]
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                result = referral_service.enter_application(
                    session, vault=ctx.vault, payload=payload, principal=request.user, clock=ctx.clock,
                    lookups=Limit.of(ctx.settings))
        except ValidationFailed as exc:
            return _application_form(request, ctx, form_state(data, exc, APPLICATION_FIELDS), status_code=422)
        except TooManyLookups as exc:  # the roster not read (referrals/roster_probes.py): the form kept as typed
            state = form_state(data, None, APPLICATION_FIELDS)
            state.general.append(exc.detail)
            return _application_form(request, ctx, state, status_code=429)
        return see_other(f"/cases/{result.case_ids[0]}", done="merged" if result.merged else "application")

    def _edit_form(self, request: Req, ctx: Any, case_id: str, state: FormState | None = None,
                   status_code: int = 200) -> Template:
        with ctx.db.read() as session:
            app = application_edit.application_view(session, case_id, vault=ctx.vault, principal=request.user)
            table = referral_service.county_vocabulary(session, [app.county_code], ctx.clock.today())
        if state is None:
            state = FormState(values=dict(app.values))
        return page(request, "application_edit.html", status_code=status_code, app=app, form=state,
                    groups=list(table.group_names().items()), causes=list(table.cause_names().items()))

    @get("/{case_id:str}/edit", opt=CLERK)
    def edit_form(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._edit_form(request, ctx, case_id)

    @post("/{case_id:str}/edit", opt=CLERK, status_code=303)
    def edit(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Correct the application until the case is screened; a refusal shows the form again as typed."""
        problems: list[FieldError] = []
        payload = _application_fields(data, application_edit.EDITABLE, problems)
        try:
            with ctx.db.begin() as session:  # the form's problems and the application's are shown together
                application_edit.edit_application(session, case_id, payload, vault=ctx.vault,
                                                  principal=request.user, clock=ctx.clock, form_problems=problems)
                kept = application_edit.household_kept(session, case_id, request.user)
        except ValidationFailed as exc:
            state = form_state(data, exc, application_edit.EDITABLE)
            return self._edit_form(request, ctx, case_id, state, status_code=422)
        except InvalidState as exc:
            state = form_state(data, None, application_edit.EDITABLE)
            state.general.append(labels.message_zh(exc.detail))
            return self._edit_form(request, ctx, case_id, state, status_code=409)
        return see_other(f"/cases/{case_id}", done="application_edited_only" if kept else "application_edited")


def _notice_form(request: Req, ctx: Any, state: FormState, status_code: int = 200) -> Template:
    with ctx.db.read() as session:
        counties = counties_of(session, request.user)
        awaiting = notice_service.villages_awaiting_notice(session, request.user)
    today = ctx.clock.today()  # a notice is entered the day it goes up or the next (notices.service.post_notice)
    return page(request, "notice_new.html", status_code=status_code, form=state, counties=counties,
                awaiting=awaiting, today=today, earliest=today - timedelta(days=notice_service.LATE_ENTRY_DAYS),
                default_phone=notice_service.DEFAULT_OBJECTION_PHONE)


def render_notice(request: Req, ctx: Any, notice_id: str, *, status_code: int = 200,
                  forms: dict[str, FormState] | None = None, message: str | None = None) -> Template:
    today = ctx.clock.today()
    with ctx.db.read() as session:
        notice = notice_service.load_notice(session, notice_id, request.user)
        items = list(notice.items)
        objections = notice_service.objections_of(session, notice.id)
        standing = notice_service.standing_of(session, notice)
        statuses = case_service.statuses_of(session, [i.case_id for i in items])
        numbers = case_numbers.numbers_of(session, [i.case_id for i in items])
        preview = render_notice_html(notice_service.notice_document(notice))
        wall = posting.posting_state(session, notice)
        basis = posting.review_basis(session, notice.id)
        bare = posting.bare_reviews(session, notice.id)
        # Why this user may not confirm (shown instead of the button): the rule confirm_posting refuses by and the
        # home card counts by (the poster, a recorder of its reviews, a decider of its cases, an account linked to
        # one of theirs by a password, anyone but the county reviewer while a review was recorded on its own)
        may_attest = request.user.has(*posting.CONFIRMERS) and wall["awaiting_second_person"]
        refusal = posting.confirms_refused(session, [notice], request.user)[notice.id] if may_attest else None
        names = user_names(session, [notice.posted_by, *(o.recorded_by for o in objections),
                                     *(o.resolved_by for o in objections if o.resolved_by),
                                     *(p["uploaded_by"] for p in wall["photos"]),
                                     *([notice.posting_confirmed_by] if notice.posting_confirmed_by else [])])
    open_objections = sum(o.status == "open" for o in objections)
    user = request.user
    not_you = refusal.text if refusal is not None else ""
    # the county reviewer may confirm a wall nobody photographed in its period, saying how they verified it
    may_confirm_undated = user.has("county_reviewer") and not any(p["in_period"] for p in wall["photos"])
    can_close = notice.status == "open" and today >= notice.ends_on and not open_objections
    # closed at 00:00 on ends_on: a paper objection of the period's last day is still typed that day (its case held)
    late = notice_service.takes_late_objections(notice, today)
    return page(request, "notice.html", status_code=status_code, notice=notice, items=items, objections=objections,
                statuses=statuses, numbers=numbers, preview=preview, names=names, forms=forms or {}, message=message,
                today=today, standing=standing,
                open_objections=open_objections, can_close=can_close, may_confirm_undated=may_confirm_undated,
                received_default=min(today, notice_service.last_day(notice.ends_on)),
                late=late, late_until=notice_service.late_objections_until(notice),
                clerk=request.user.has("town_clerk"),
                resolver=any(request.user.has(r) for r in notice_service.RESOLVE_ROLES),
                wall=wall, basis=basis, bare=bare, may_attest=may_attest, not_you=not_you,
                raisers=list(labels.OBJECTION_RAISERS.items()),
                vias=list(labels.OBJECTION_VIA.items()))


class NoticePages(Controller):
    path = "/notices"

    @get("/", opt=ANY)
    def list_notices(self, ctx: Ctx, request: Req, status: FromQuery[Literal["open", "closed"] | None] = None,
                     q: Annotated[str, Parameter(max_length=200)] = "",
                     posting_filter: Annotated[Literal["unconfirmed", "to_decide", ""],
                                               QueryParameter(name="posting")] = "",
                     page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """The notices, newest first, by status and searched; `posting=unconfirmed`: those whose posting waits for a
        second person, `posting=to_decide`: of those, the ones the user may confirm (`posting.waiting`, the home
        card's count)."""
        q = fold_search(q)
        with ctx.db.read() as session:
            waiting = posting.waiting(session, request.user) if posting_filter == "to_decide" else None
            found = notice_service.find_notices(session, request.user, status=status, q=q, page=page_param(page_no),
                                                 page_size=paging.PAGE_SIZE, unconfirmed=bool(posting_filter),
                                                 only=waiting.mine if waiting is not None else None)
            clerk = request.user.has("town_clerk")
            awaiting = notice_service.villages_awaiting_notice(session, request.user) if clerk else []
            objections = notice_service.open_objections_of(session, [n.id for n in found.items])
            standings = notice_service.standings_of(session, list(found.items))
        filters = {"status": status or "", "q": q, "posting": posting_filter}
        pager = Pager.over("/notices", filters, found)
        export = Pager.of("/notices/export.xlsx", filters, page=1, pages=1, total=0)  # as the case list's ledger
        return page(request, "notices.html", notices=found.items, awaiting=awaiting, status=status or "", q=q,
                    objections=objections, standings=standings,
                    posting=posting_filter, export_url=export.url(),
                    others=waiting.others if waiting is not None else 0,
                    confirmer=request.user.has(*posting.CONFIRMERS),
                    pager=pager, today=ctx.clock.today())

    @get("/export.xlsx", opt=ANY)
    def export(self, ctx: Ctx, request: Req, status: FromQuery[Literal["open", "closed", ""]] = "",
               q: Annotated[str, Parameter(max_length=200)] = "",
               posting_filter: Annotated[Literal["unconfirmed", "to_decide", ""],
                                         QueryParameter(name="posting")] = "",
               ) -> Response[bytes]:
        """The list's notices, all its pages: its status, search and 张贴待第二人确认 (the link carries them)."""
        return exports.notices_response(ctx, request.user, status, "", fold_search(q), posting_filter)

    @get("/new", opt=CLERK)
    def new(self, ctx: Ctx, request: Req, county_code: FromQuery[str | None] = None, town: FromQuery[str | None] = None,
            village: FromQuery[str | None] = None) -> Template:
        counties = request.user.counties
        with ctx.db.read() as session:
            day = contract_reads.form_day(session, [county_code] if county_code else counties, ctx.clock.today())
        values = {"county_code": county_code or (counties[0] if len(counties) == 1 else ""), "town": town or "",
                  "village": village or "", "posted_on": day.isoformat()}
        return _notice_form(request, ctx, FormState(values=values))

    @post("/new", opt=CLERK, status_code=303)
    def create(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        problems: list[FieldError] = []
        posted_on = parse_day(data.get("posted_on"), "posted_on", problems)
        county = folded(data.get("county_code"))
        if not county:
            problems.append(FieldError("county_code", "必填"))
        if not clean(data.get("town")):
            problems.append(FieldError("town", "必填"))
        try:
            if problems or posted_on is None:
                raise ValidationFailed(problems)
            req = notice_service.NoticeRequest(
                county_code=county, town=clean(data.get("town")), village=clean(data.get("village")) or None,
                posted_on=posted_on, issuing_body=clean(data.get("issuing_body")) or None,
                objection_place=clean(data.get("objection_place")) or None,
                objection_phone=folded(data.get("objection_phone")) or None, number=clean(data.get("number")) or None)
            with ctx.db.begin() as session:
                posted = notice_service.posted_notice(session, req, principal=request.user, clock=ctx.clock)
                notice_id = posted.notice.id
        except ValidationFailed as exc:
            return _notice_form(request, ctx, form_state(data, exc, NOTICE_FIELDS), status_code=422)
        except InvalidState as exc:
            state = form_state(data, None, NOTICE_FIELDS)
            state.general.append(exc.detail)
            return _notice_form(request, ctx, state, status_code=409)
        return see_other(f"/notices/{notice_id}", done="notice_left_out" if posted.left_out else "notice")

    @get("/{notice_id:str}", opt=ANY)
    def show(self, notice_id: Id, ctx: Ctx, request: Req) -> Template:
        return render_notice(request, ctx, notice_id)

    @get("/{notice_id:str}/document", opt=ANY)
    def document(self, notice_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        """The .docx exactly as it was rendered when the notice was posted."""
        with ctx.db.read() as session:
            notice = notice_service.load_notice(session, notice_id, request.user)
            content, title, sha = notice.document, notice.title, notice.document_sha256
        disposition = f"attachment; filename=\"notice-{notice_id}.docx\"; filename*=UTF-8''{quote(title + '.docx')}"
        return Response(content=content, media_type=DOCX, headers={"Content-Disposition": disposition,
                                                                   "ETag": f'"{sha}"'})

    @post("/{notice_id:str}/objections", opt=CLERK, status_code=303)
    def record_objection(self, notice_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        fields = ("case_id", "received_on", "summary", "raised_by", "received_via")
        problems: list[FieldError] = []
        received_on = parse_day(data.get("received_on"), "received_on", problems)
        if problems:  # told with the day's problem, not after it is put right (the service says the same)
            if not folded(data.get("case_id")):
                problems.append(FieldError("case_id", "必填"))
            if not clean(data.get("summary")):
                problems.append(FieldError("summary", "请填写异议内容"))
        try:
            if problems or received_on is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                notice_service.record_objection(session, notice_id, case_id=folded(data.get("case_id")),
                                                received_on=received_on, summary=clean(data.get("summary")),
                                                principal=request.user, clock=ctx.clock,
                                                raised_by=clean(data.get("raised_by")) or None,
                                                received_via=clean(data.get("received_via")) or None)
        except ValidationFailed as exc:
            return render_notice(request, ctx, notice_id, status_code=422,
                                 forms={"objection": form_state(data, exc, fields)})
        except notice_service.RepeatedObjection:
            return see_other(f"/notices/{notice_id}", done="objection_already")
        except InvalidState as exc:
            return render_notice(request, ctx, notice_id, status_code=409, message=exc.detail)
        return see_other(f"/notices/{notice_id}", done="objection")

    @post("/{notice_id:str}/close", opt=CLERK, status_code=303)
    def close(self, notice_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        if not confirmed(data):
            return render_notice(request, ctx, notice_id, status_code=422,
                                 message="结束公示不能撤回：请先勾选确认框，再点击“结束公示”。本次未做任何更改。")
        try:
            with ctx.db.begin() as session:
                notice_service.close_notice(session, notice_id, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:  # 回避: said on the notice, in place
            return render_notice(request, ctx, notice_id, status_code=422,
                                 message="；".join(labels.message_zh(e.message) for e in exc.errors))
        except InvalidState as exc:
            return render_notice(request, ctx, notice_id, status_code=409, message=exc.detail)
        return see_other(f"/notices/{notice_id}", done="closed")


class ObjectionPages(Controller):
    path = "/objections"

    @get("/{objection_id:str}", opt=ANY)
    def show(self, objection_id: Id, ctx: Ctx, request: Req) -> Any:
        """An objection is shown on its notice's page."""
        with ctx.db.read() as session:
            _, notice = notice_service.load_objection(session, objection_id, request.user)
            return Redirect(path=f"/notices/{notice.id}#objection", status_code=303)

    @post("/{objection_id:str}/resolution", opt={"roles": notice_service.RESOLVE_ROLES}, status_code=303)
    def resolve(self, objection_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        with ctx.db.read() as session:
            _, notice = notice_service.load_objection(session, objection_id, request.user)
            notice_id = notice.id
        outcome = clean(data.get("outcome"))
        problems: list[FieldError] = []
        resolved_on = parse_day(data.get("resolved_on"), "resolved_on", problems, required=False)
        try:
            if outcome not in ("upheld", "dismissed"):
                problems.append(FieldError("outcome", "请选择异议成立或不成立"))
            if outcome == "upheld" and not confirmed(data):
                problems.append(FieldError("confirm", "异议成立将把该户撤出名单并退回重新核查，不能撤回：请勾选确认框"))
            if problems:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                notice_service.resolve_objection(session, objection_id, outcome=outcome, note=clean(data.get("note")),
                                                 principal=request.user, clock=ctx.clock, resolved_on=resolved_on)
        except ValidationFailed as exc:
            state = form_state(data, exc, ("outcome", "note", "confirm", "resolved_on"))
            return render_notice(request, ctx, notice_id, status_code=422, forms={f"resolve-{objection_id}": state})
        except (Forbidden, InvalidState) as exc:
            return render_notice(request, ctx, notice_id, status_code=exc.status, message=labels.message_zh(exc.detail))
        return see_other(f"/notices/{notice_id}", done="objection_upheld" if outcome == "upheld" else "resolved")
