"""HTTP routes of the sampling stage: rounds, their draw, re-check results, report and expansion.

Writes accept an `Idempotency-Key` header: a repeat gets the first answer and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

import msgspec
from litestar import Controller, Request, Response
from litestar.params import FromQuery, Parameter

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import service
from .schemas import (
    DrawIn,
    DrawOut,
    ExpandOut,
    PopulationOut,
    ReportOut,
    ResultIn,
    ResultOut,
    RoundCreated,
    RoundIn,
    RoundOut,
    RoundPage,
)

Id = Annotated[str, Parameter(max_length=40)]
AnyRequest = Request[Principal, Any, Any]
WRITERS = ("county_reviewer",)
READERS = ("county_reviewer", "auditor")


class SamplingController(Controller):
    path = "/api/sampling-rounds"
    tags: ClassVar[list[str]] = ["sampling"]

    @post("/", opt={"roles": WRITERS}, status_code=201)
    def create(self, data: JSONBody[RoundIn], ctx: Ctx, request: AnyRequest) -> RoundCreated:
        """Freeze the population and commit it to a signed checkpoint, before any randomness exists."""
        req = service.RoundRequest(
            county_code=data.county_code, checked_from=data.checked_from, checked_to=data.checked_to,
            confidence=data.confidence, tolerable_rate=data.tolerable_rate, expected_rate=data.expected_rate,
            min_rate=data.min_rate, kind=data.kind, stratify_by_town=data.stratify_by_town,
        )
        # The freezing transaction is the keyed write; the checkpoint follows its commit, and the answer is
        # rebuilt from the stored round, so a repeat with the same key answers the same round.
        frozen = idempotent(ctx.db, request, lambda s: {"id": service.freeze_round(
            s, req, principal=request.user, clock=ctx.clock).id}, body=data, status_code=201, clock=ctx.clock)
        round_id = msgspec.json.decode(frozen.content)["id"]
        return service.committed_view(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)

    @get("/", opt={"roles": READERS})
    def list_rounds(self, ctx: Ctx, request: AnyRequest, county_code: FromQuery[str | None] = None,
                    limit: Annotated[int, Parameter(ge=1, le=500)] = 50) -> RoundPage:
        with ctx.db.read() as session:
            return service.list_rounds(session, request.user, county_code=county_code, limit=limit)

    @get("/{round_id:str}", opt={"roles": READERS})
    def get_round(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> RoundOut:
        with ctx.db.read() as session:
            return service.round_view(session, round_id, request.user)

    @get("/{round_id:str}/population", opt={"roles": READERS})
    def population(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> PopulationOut:
        """The frozen population's sorted case ids: SHA-256 of them joined by newlines is the digest."""
        with ctx.db.read() as session:
            return service.population_view(session, round_id, request.user)

    @post("/{round_id:str}/draw", opt={"roles": WRITERS}, status_code=200)
    def draw(self, round_id: Id, data: JSONBody[DrawIn], ctx: Ctx, request: AnyRequest) -> Response[DrawOut]:
        """Draw the sample from the county's randomness (hex, at least 16 bytes). A round is drawn once."""
        service.commit_round(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
        return idempotent(ctx.db, request, lambda s: service.draw(
            s, round_id, data.randomness, principal=request.user, clock=ctx.clock), body=data, clock=ctx.clock)

    @post("/{round_id:str}/results", opt={"roles": WRITERS}, status_code=201)
    def results(self, round_id: Id, data: JSONBody[ResultIn], ctx: Ctx, request: AnyRequest) -> Response[ResultOut]:
        """Record the county's re-check of a sampled case; the system decides whether it deviates."""
        payload = service.ResultInput(case_id=data.case_id, per_capita_income=data.per_capita_income,
                                      eligible=data.eligible, relief_amount=data.relief_amount, note=data.note)
        return idempotent(ctx.db, request, lambda s: service.record_result(
            s, round_id, payload, principal=request.user, clock=ctx.clock), body=data, status_code=201, clock=ctx.clock)

    @get("/{round_id:str}/report", opt={"roles": READERS})
    def report(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> ReportOut:
        with ctx.db.read() as session:
            return service.report(session, round_id, request.user)

    @post("/{round_id:str}/expand", opt={"roles": WRITERS}, status_code=200)
    def expand(self, round_id: Id, ctx: Ctx, request: AnyRequest) -> Response[ExpandOut]:
        """Widen a round whose verdict is expand: a next stage from the same frozen population and seed."""
        return idempotent(ctx.db, request, lambda s: service.expand(
            s, round_id, principal=request.user, clock=ctx.clock), clock=ctx.clock)


ROUTES: list[Any] = [SamplingController]
