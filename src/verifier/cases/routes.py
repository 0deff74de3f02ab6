"""HTTP routes: reading cases, screening, scheduling and planning visits."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import service
from .present import case_detail, case_out, visit_out
from .schemas import ApplicationEditIn, CaseDetail, CasePage, PlanIn, ScheduleIn, ScreeningIn, VisitOut
from .workflow import load_case

Id = Annotated[str, Parameter(max_length=40)]


class CaseController(Controller):
    path = "/api/cases"
    tags = ["cases"]

    @get("/", opt={"roles": "any"})
    def list_cases(
        self, ctx: Ctx, request: Request[Principal, Any, Any],
        status: FromQuery[str | None] = None, county_code: FromQuery[str | None] = None, town: FromQuery[str | None] = None,
        village: FromQuery[str | None] = None, cause: FromQuery[str | None] = None, officer: FromQuery[str | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50, cursor: FromQuery[str | None] = None,
    ) -> CasePage:
        f = service.CaseFilter(status=status, county_code=county_code, town=town, village=village, cause=cause,
                               officer=officer, limit=limit, cursor=cursor)
        with ctx.db.read() as session:
            rows, next_cursor = service.list_cases(session, request.user, f)
            return CasePage(items=[case_out(c) for c in rows], next_cursor=next_cursor)

    @get("/{case_id:str}", opt={"roles": "any"})
    def get_case(self, case_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> CaseDetail:
        with ctx.db.read() as session:
            case = load_case(session, case_id, request.user)
            return case_detail(session, case, request.user, ctx.vault)

    @post("/{case_id:str}/screening", opt={"roles": ("town_clerk",)}, status_code=200)
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
                                 vehicle=data.vehicle, principal=request.user, clock=ctx.clock)
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
