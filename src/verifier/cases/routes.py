"""HTTP routes: reading cases, screening, scheduling and planning visits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Any

import litestar
import msgspec
from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter, QueryParameter
from sqlalchemy.orm import Session

from ..accounts.auth import READ_WITH_SESSION, Principal, read_ahead
from ..http import Ctx, EncodedJSON, JSONBody, get, post
from ..idempotency import idempotent
from ..store.reader import Steps
from . import id_search, ledger, listing, service
from .present import case_detail, case_detail_of, case_detail_steps, case_out, case_rows_steps, visit_out
from .schemas import ApplicationEditIn, CaseDetail, CasePage, PlanIn, ScheduleIn, ScreeningIn, VisitOut

MAX_ID = 40
Id = Annotated[str, Parameter(max_length=MAX_ID)]


def _case_read_with_session(params: Mapping[str, Any], db: Any) -> Steps[list[list[Any]]] | None:
    """`GET /api/cases/{id}`'s reads, their first batch sent with the session lookup (accounts/auth.py,
    `READ_WITH_SESSION`): on SQLite the case probed first (`case_rows_steps`)."""
    case_id = params.get("case_id")
    if not isinstance(case_id, str) or len(case_id) > MAX_ID:
        return None
    return case_rows_steps(case_id, probe=db.is_sqlite)


def _query(status: str | None, county_code: str | None, town: str | None, village: str | None, cause: str | None,
           officer: str | None, q: str | None, sort: str | None, page: int, limit: int) -> listing.CaseQuery:
    return listing.CaseQuery(status=status, county_code=county_code, town=town, village=village, cause=cause,
                             officer=officer, q=q, sort=sort or "number", page=page, page_size=limit)


class CaseController(Controller):
    path = "/api/cases"
    tags = ["cases"]

    @get("/", opt={"roles": "any"})
    def list_cases(
        self, ctx: Ctx, request: Request[Principal, Any, Any],
        status: FromQuery[str | None] = None, county_code: FromQuery[str | None] = None, town: FromQuery[str | None] = None,
        village: FromQuery[str | None] = None, cause: FromQuery[str | None] = None, officer: FromQuery[str | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50, cursor: FromQuery[str | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=listing.MAX_Q)] = None, sort: FromQuery[str | None] = None,
        page: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> CasePage:
        """Without `q`, `sort` or `page`: the cases by id, `limit` at a time after `cursor` (as before). With any
        of them: page `page` (default 1) of `limit` cases matching the search `q`, sorted by `sort` (number, head,
        village, status, received, due; a leading - for descending), with the total and the number of pages."""
        id_search.count_search(ctx.db, request.user, q, ctx.clock.now(),
                               timedelta(minutes=ctx.settings.login_window_minutes))
        with ctx.db.read() as session:
            if q is None and sort is None and page is None:
                f = service.CaseFilter(status=status, county_code=county_code, town=town, village=village,
                                       cause=cause, officer=officer, limit=limit, cursor=cursor)
                rows, next_cursor = service.list_cases(session, request.user, f)
                return CasePage(items=[case_out(c) for c in rows], next_cursor=next_cursor)
            found = listing.find_cases(session, request.user, _query(status, county_code, town, village, cause,
                                                                     officer, q, sort, page or 1, limit), ctx.vault)
            return CasePage(items=[case_out(c) for c in found.cases], next_cursor=None, total=found.total,
                            page=found.page, pages=found.pages)

    @get("/ledger.xlsx", opt={"roles": "any"})
    def ledger(
        self, ctx: Ctx, request: Request[Principal, Any, Any],
        status: FromQuery[str | None] = None, county_code: FromQuery[str | None] = None, town: FromQuery[str | None] = None,
        village: FromQuery[str | None] = None, cause: FromQuery[str | None] = None, officer: FromQuery[str | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=listing.MAX_Q)] = None, sort: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """案件台账 (xlsx): every case the same query would list, in its order."""
        from urllib.parse import quote

        query = _query(status, county_code, town, village, cause, officer, q, sort, 1, listing.PAGE_SIZE).checked()
        id_search.count_search(ctx.db, request.user, query.q, ctx.clock.now(),
                               timedelta(minutes=ctx.settings.login_window_minutes))
        content, filename = ledger.workbook(ctx.db, ctx.vault, request.user, query, today=ctx.clock.today())
        return Response(content=content, media_type=ledger.XLSX, headers={
            "Content-Disposition": f"attachment; filename=\"cases.xlsx\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store"})

    @litestar.get("/{case_id:str}", opt={"roles": "any", READ_WITH_SESSION: _case_read_with_session},
                  response_class=EncodedJSON)
    async def get_case(self, case_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> CaseDetail:
        """The case with everything about it; read with the session (one round trip on PostgreSQL), 404 outside
        the caller's counties."""
        rows = read_ahead(request)
        if rows is not None:
            return case_detail_of(rows, case_id, request.user, ctx.vault)
        return await ctx.db.ask(case_detail_steps(case_id, request.user, ctx.vault))

    @post("/{case_id:str}/screening", opt={"roles": service.SCREEN_OUT_CONFIRMERS}, status_code=200)
    def screening(self, case_id: Id, data: JSONBody[ScreeningIn], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[CaseDetail]:
        def run(session: Session) -> CaseDetail:
            case = service.screen(session, case_id, decision=data.decision, reason=data.reason,
                                  principal=request.user, clock=ctx.clock)
            return case_detail(session, case, request.user, ctx.vault)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/{case_id:str}/application", opt={"roles": ("town_clerk",)}, status_code=200)
    def edit_application(self, case_id: Id, data: JSONBody[ApplicationEditIn], ctx: Ctx,
                         request: Request[Principal, Any, Any]) -> Response[CaseDetail]:
        """Correct the household's application until the case is screened (409 after); audited field by field."""
        from ..referrals.edit import edit_application

        payload = {k: v.isoformat() if isinstance(v, date) else v
                   for k, v in msgspec.structs.asdict(data).items() if v is not None}

        def run(session: Session) -> CaseDetail:
            case = edit_application(session, case_id, payload, vault=ctx.vault, principal=request.user,
                                    clock=ctx.clock)
            return case_detail(session, case, request.user, ctx.vault)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/{case_id:str}/schedule", opt={"roles": ("insurer_supervisor",)}, status_code=200)
    def schedule(self, case_id: Id, data: JSONBody[ScheduleIn], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[VisitOut]:
        def run(session: Session) -> VisitOut:
            v = service.schedule(session, case_id, officers=list(data.officers), visit_on=data.visit_on,
                                 vehicle=data.vehicle, principal=request.user, clock=ctx.clock, reason=data.reason)
            return visit_out(v)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)


class ScheduleController(Controller):
    path = "/api/schedule"
    tags = ["cases"]

    @post("/plan", opt={"roles": ("insurer_supervisor",)}, status_code=200)
    def plan(self, data: JSONBody[PlanIn], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[dict[str, Any]]:
        def run(session: Session) -> dict[str, Any]:
            return service.plan(session, county_code=data.county_code, start=data.from_, days=data.days,
                                vehicles=data.vehicles, apply=data.apply, principal=request.user, clock=ctx.clock)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)
