"""Pages: the county reviewer imports other agencies' registers (/registers), each a proposal another county reviewer
confirms or declines on its own page (/registers/{id}, what it changes against the version in force shown first); a
supervisor answers a case's register findings on the case page; the feed calendar on the home page."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller
from litestar.params import PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..domain.registers import KINDS, fact_summary
from ..http import Ctx, MultipartBody, get, post
from ..registers import confirmation, feeds, service
from ..registers.parsing import KIND_COLUMNS
from ..store.paged import fold_search
from .common import (FormState, Req, clean, counties_of, folded, form_state, import_file, import_outcome,
                     import_refused, page, parse_day, see_other)
from .labels import FEED_SOURCES, FEED_STATUS, REGISTER_KINDS, REGISTER_STATUS, message_zh
from .paging import Pager, page_param

IMPORTERS = {"roles": service.IMPORT_ROLES}
Id = Annotated[str, PathParameter(max_length=40)]
REGISTER_DONE = ("register_imported", "register_repeated")  # what /registers' address says after a file
FIELDS = ("kind", "county_code", "bureau", "as_of", "valid_until", "file")


def finding_rows(session: Session, case_id: str) -> list[dict[str, Any]]:
    """The case's findings as the case page shows them."""
    return [{"id": f.id, "check_id": f.check_id, "member": f.member_name, "kind": f.kind, "source": f.source,
             "effect": f.effect, "status": f.status, "fact": fact_summary(f.kind, f.source, f.fact), "note": f.note,
             "answered_by": f.answered_by, "answered_at": f.answered_at}
            for f in service.case_findings(session, case_id)]


def feed_rows(session: Session, user: Principal, today: date) -> list[dict[str, Any]]:
    """This month's feed calendar of each of the user's counties (home page)."""
    rows = []
    for county in counties_of(session, user):
        for f in feeds.feed_calendar(session, county, today, today):
            rows.append({"county": county, "source": FEED_SOURCES.get(f.source, f.source), "due_on": f.due_on,
                         "arrived_on": f.arrived_on, "status": f.status, "label": FEED_STATUS[f.status]})
    return rows


class RegisterPages(Controller):
    path = "/registers"

    def _form(self, request: Req, ctx: Any, state: FormState, *, status_code: int = 200,
              rows: list[Any] | None = None, done: tuple[str, bool] | None = None, at: int = 1,
              q: str = "", status: str = "", deciding: bool = False) -> Template:
        q, status = fold_search(q), status if status in REGISTER_STATUS else ""  # an unknown status: all
        if deciding:
            status = "pending"
        with ctx.db.read() as session:
            counties = counties_of(session, request.user)
            # to_decide=1: the pending ones the user may confirm (the home card's count), and how many wait for another
            waiting = confirmation.waiting(session, request.user) if deciding else None
            listed = service.imports_page(session, request.user, at, q=q, status=status,
                                          kinds=[k for k, name in REGISTER_KINDS.items() if q and q in name],
                                          only=waiting.mine if waiting is not None else None)
            # after a file: the import, read back from the store, never from the address
            result = service.import_run(session, request.user, done[0], repeated=done[1]) if done else None
        if result is not None:  # its kind and county, as the form was sent
            state.values.update({"kind": result.kind, "county_code": result.county_code})
        kinds = [(k, REGISTER_KINDS[k]) for k in KINDS]
        columns = {k: [c.headers[0] + ("" if c.required else "（可选）") for c in cols.values()]
                   for k, cols in KIND_COLUMNS.items()}
        columns["medical"] = ["结算日期 或 年度", "个人自付 或 总费用、统筹支付、大病保险、医疗救助"]
        return page(request, "registers.html", status_code=status_code, form=state, counties=counties, kinds=kinds,
                    bad_rows=rows or [], result=result, imports=listed.items, columns=columns,
                    pager=Pager.over("/registers", {"q": q, "status": status, "to_decide": "1" if deciding else ""},
                                     listed), q=q, status=status,
                    bureaus=service.DEFAULT_BUREAUS, statuses=REGISTER_STATUS, to_decide=deciding,
                    others=waiting.others if waiting is not None else 0)

    @get("/", opt=IMPORTERS)
    def form(self, ctx: Ctx, request: Req,
             page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
             q: Annotated[str, QueryParameter(max_length=100)] = "",
             status: Annotated[str, QueryParameter(max_length=12)] = "",
             to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Template:
        """The import form and the imports, newest first, searched and by status; `to_decide=1`: the pending ones the
        user may confirm (`confirmation.waiting`, the home card's count)."""
        counties = request.user.counties
        values = {"county_code": counties[0] if len(counties) == 1 else ""}
        return self._form(request, ctx, FormState(values=values), done=import_outcome(request, REGISTER_DONE),
                          at=page_param(page_no), q=q, status=status, deciding=to_decide == "1")

    @post("/", opt=IMPORTERS, status_code=303)
    def upload(self, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        upload, state = import_file(data)
        if upload is None:
            return self._form(request, ctx, state, status_code=422)
        values = state.values
        try:
            problems: list[FieldError] = []  # both days told at once, as offices write them (2026年12月5日 …)
            days = {name: parse_day(data.get(name), name, problems, required=False) for name in ("as_of", "valid_until")}
            if problems:
                raise ValidationFailed(problems)
            upload.file.seek(0)
            result = service.import_register(
                ctx.db, vault=ctx.vault, data=upload.file.read(), filename=upload.filename,
                kind=clean(data.get("kind")), county_code=folded(data.get("county_code")),
                bureau=clean(data.get("bureau")), principal=request.user, clock=ctx.clock,
                limits=ctx.settings.imports, **days)
        except ValidationFailed as exc:
            state, in_rows = import_refused(values, exc, FIELDS)
            return self._form(request, ctx, state, status_code=exc.status, rows=in_rows)
        return see_other("/registers", done=REGISTER_DONE[1] if result.repeated else REGISTER_DONE[0],
                         **{"import": result.import_id})

    @get("/{import_id:str}", opt=IMPORTERS)
    def review(self, import_id: Id, ctx: Ctx, request: Req) -> Template:
        """One import: what it changes against the version in force, and (pending) its confirmation or decline."""
        return self._review(ctx, request, import_id, FormState())

    @post("/{import_id:str}/confirm", opt=IMPORTERS, status_code=303)
    def confirm(self, import_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        replaces = clean(data.get("replaces")) or None  # the version in force the page showed
        try:
            confirmation.confirm_import(ctx.db, import_id, principal=request.user, clock=ctx.clock, replaces=replaces)
        except (Forbidden, InvalidState, ValidationFailed) as exc:
            message = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.detail
            return self._review(ctx, request, import_id, FormState(), status_code=exc.status,
                                message=message_zh(message))
        return see_other(f"/registers/{import_id}", done="register_confirmed")

    @post("/{import_id:str}/decline", opt=IMPORTERS, status_code=303)
    def decline(self, import_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason = clean(data.get("reason"))
        try:
            with ctx.db.begin() as session:
                confirmation.decline(session, import_id, principal=request.user, reason=reason, clock=ctx.clock)
        except ValidationFailed as exc:
            return self._review(ctx, request, import_id, form_state({"reason": reason}, exc, ("reason",)),
                                status_code=422)
        except (Forbidden, InvalidState) as exc:
            return self._review(ctx, request, import_id, FormState(values={"reason": reason}),
                                status_code=exc.status, message=message_zh(exc.detail))
        return see_other(f"/registers/{import_id}", done="register_declined")

    def _review(self, ctx: Ctx, request: Req, import_id: str, form: FormState, *, status_code: int = 200,
                message: str = "") -> Template:
        with ctx.db.read() as session:
            seen = confirmation.review(session, import_id, request.user, ctx.clock.today())
        return page(request, "register_review.html", status_code=status_code, seen=seen, form=form,
                    message=message, statuses=REGISTER_STATUS)


class FindingPages(Controller):
    path = "/cases/{case_id:str}/findings"

    @post("/{finding_id:str}/answer", opt={"roles": service.ANSWER_ROLES}, status_code=303)
    def answer(self, case_id: Id, finding_id: Id, ctx: Ctx, request: Req,
               data: URLEncodedBody[dict[str, Any]]) -> Any:
        from .cases import render_case

        outcome = clean(data.get("outcome"))
        try:
            if outcome == "upheld" and data.get("confirm") != "yes":
                raise ValidationFailed.one("confirm", "认定比对结果属实前，请勾选确认（该户将认定为不符合条件）")
            with ctx.db.begin() as session:
                service.answer_finding(session, finding_id, outcome=outcome, note=clean(data.get("note")),
                                       principal=request.user, clock=ctx.clock, case_id=case_id)
        except ValidationFailed as exc:
            return render_case(request, ctx, case_id, status_code=422,
                               forms={f"finding-{finding_id}": form_state(data, exc, ("outcome", "note", "confirm"))})
        except (InvalidState, Forbidden) as exc:
            return render_case(request, ctx, case_id, status_code=exc.status, message=message_zh(exc.detail))
        return see_other(f"/cases/{case_id}", done="finding")
