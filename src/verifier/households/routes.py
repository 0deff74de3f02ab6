"""HTTP routes: a household's file (一户一档) and the county's risk-removed mark (风险消除)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import risk
from .file import household_file
from .models import HouseholdRiskEvent
from .schemas import HouseholdFile, RiskEventOut, RiskStatusIn

Id = Annotated[str, Parameter(max_length=40)]


def risk_event_out(e: HouseholdRiskEvent) -> RiskEventOut:
    return RiskEventOut(id=e.id, household_id=e.household_id, seq=e.seq, status=e.status,
                        evidence_kind=e.evidence_kind, months=e.months, on=e.evidence_on, recorded_by=e.recorded_by,
                        recorded_at=e.recorded_at)


def change_risk(session: Session, household_id: str, data: RiskStatusIn, *, principal: Principal,
                clock: Any) -> HouseholdRiskEvent:
    if data.action == "remove":
        return risk.mark_removed(session, household_id, risk.Removal(
            evidence_kind=data.evidence_kind or "", evidence_on=data.on, note=data.note, months=data.months),
            principal=principal, clock=clock)
    return risk.revoke(session, household_id, on=data.on, reason=data.note, principal=principal, clock=clock)


class HouseholdController(Controller):
    path = "/api/households"
    tags = ["households"]

    @get("/{household_id:str}/file", opt={"roles": "any"})
    def file(self, household_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> HouseholdFile:
        """The household file: header, sections (tables of codes and "0.00" amounts) and the audit timeline; ID
        numbers masked as for the caller. Outside the caller's counties: 404."""
        with ctx.db.read() as session:
            return household_file(session, household_id, request.user, ctx.vault)

    @post("/{household_id:str}/risk-status", opt={"roles": risk.MARKERS}, status_code=201)
    def risk_status(self, household_id: Id, data: JSONBody[RiskStatusIn], ctx: Ctx,
                    request: Request[Principal, Any, Any]) -> Response[RiskEventOut]:
        """`{"action":"remove","on","evidence_kind","months"?,"note"}` marks the risk removed; `{"action":"revoke",
        "on","note"}` revokes the mark (the risk returns). County reviewer only; 409 when already in that state."""
        def run(session: Session) -> RiskEventOut:
            return risk_event_out(change_risk(session, household_id, data, principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)
