"""HTTP routes: needs passed to departments (发点球), the departments' answers, and a county's monthly figures."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.params import Parameter, QueryParameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from ..reports.service import parse_month
from . import figures, service
from .schemas import ReferralOut, referral_out

Id = Annotated[str, Parameter(max_length=40)]


class NeedReferralController(Controller):
    path = "/api/need-referrals"
    tags = ["need referrals"]

    @get("/", opt={"roles": service.READERS})
    def list_referrals(self, ctx: Ctx, request: Request[Principal, Any, Any],
                       which: Annotated[str, QueryParameter(name="state", pattern=r"^(open|overdue|answered)?$")] = "",
                       county_code: Annotated[str, Parameter(pattern=r"^(\d{6})?$")] = "",
                       case_id: Annotated[str, Parameter(max_length=40)] = "") -> list[ReferralOut]:
        """Referrals within the caller's counties: `state=open` (earliest due first, with days overdue),
        `overdue`, `answered`, or all."""
        if county_code:
            request.user.require_county(county_code, "county")
        today = ctx.clock.today()
        with ctx.db.read() as session:
            rows = service.list_referrals(session, request.user, today=today, state=which,
                                          county_code=county_code or None, case_id=case_id or None)
        return [referral_out(r.referral, today) for r in rows]

    @post("/", opt={"roles": service.REFERRERS}, status_code=201)
    def refer(self, data: JSONBody[service.ReferralInput], ctx: Ctx,
              request: Request[Principal, Any, Any]) -> Response[ReferralOut]:
        """Pass a need of a case to the department responsible (one open referral per case and need: 409)."""
        def run(session: Session) -> ReferralOut:
            return referral_out(service.refer_need(session, data, principal=request.user, clock=ctx.clock),
                                ctx.clock.today())

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @post("/{referral_id:str}/answer", opt={"roles": service.ANSWERERS}, status_code=200)
    def answer(self, referral_id: Id, data: JSONBody[service.AnswerInput], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Response[ReferralOut]:
        """Record the department's answer (a county reviewer; not the person who passed it; once: again 409)."""
        def run(session: Session) -> ReferralOut:
            return referral_out(service.answer_referral(session, referral_id, data, principal=request.user,
                                                        clock=ctx.clock), ctx.clock.today())

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @get("/summary", opt={"roles": ("insurer_supervisor", "county_reviewer", "auditor")})
    def summary(self, ctx: Ctx, request: Request[Principal, Any, Any],
                county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")],
                month: Annotated[str, Parameter(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]) -> figures.ReferralSummary:
        """The county's referral figures for a month."""
        request.user.require_county(county_code, "county")
        first, last = parse_month(month)
        with ctx.db.read() as session:
            return figures.referral_summary(session, county_code, first, last, today=ctx.clock.today())
