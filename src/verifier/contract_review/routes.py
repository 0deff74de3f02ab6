"""HTTP routes: the contracts of the caller's counties, and a county reviewer's acceptance or refusal of one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..contract_terms_zh import ReliefTerms
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import service

Id = Annotated[str, Parameter(max_length=64)]
REVIEWERS: dict[str, Any] = {"roles": (service.REVIEWER,)}
ANYONE: dict[str, Any] = {"roles": "any"}  # within their counties


class CountyAnswerOut(msgspec.Struct):
    county_code: str
    county_name: str
    decision: str | None
    decision_zh: str
    decided_by: str
    decided_at: datetime | None
    reason: str


class ContractOut(msgspec.Struct):
    id: str
    title: str
    start: str
    end: str
    content_hash: str
    status: str  # pending | accepted | refused
    status_zh: str
    loaded_at: datetime
    counties: list[CountyAnswerOut]
    terms: list[list[str]]  # [label, value] in Chinese
    relief: list[ReliefTerms]  # encoded as the dataclass is: cause, group, basis, deductible, mode, bands, caps
    answerable: list[str]
    answer_note: str  # why the caller answers for none or not all of the counties still open ("" when nothing)
    unreviewed: list[str]  # counties still open with no active county reviewer limited to them


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    # Optional: the SHA-256 the reviewer read on the signed paper contract; refused (422) when it is not this one's.
    content_hash: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    # Optional: the counties answered for (some of the caller's, still open); none: every one of them. A contract of
    # several counties needs the acceptances of two persons at least, so one reviewer of all of them names a part.
    county_codes: Annotated[list[Annotated[str, msgspec.Meta(max_length=6)]], msgspec.Meta(max_length=100)] | None = None


class RefuseIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=service.REASON_MAX)]


def contract_out(r: service.ContractReview) -> ContractOut:
    return ContractOut(
        id=r.id, title=r.title, start=r.start, end=r.end, content_hash=r.content_hash, status=r.status,
        status_zh=r.status_zh, loaded_at=r.loaded_at,
        counties=[CountyAnswerOut(c.county_code, c.county_name, c.decision, c.decision_zh, c.decided_by, c.decided_at,
                                  c.reason) for c in r.counties],
        terms=[[label, value] for label, value in r.terms.lines],
        relief=r.terms.relief,
        answerable=r.answerable, answer_note=r.answer_note, unreviewed=list(r.unreviewed))


class ContractController(Controller):
    path = "/api/contracts"
    tags = ["contracts"]

    @get("/", opt=ANYONE)
    def list_contracts(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[ContractOut]:
        """The contracts of the caller's counties with their status (pending: 待县审核确认, prices nothing)."""
        with ctx.db.read() as session:
            return [contract_out(r) for r in service.list_contracts(session, request.user)]

    @get("/{contract_id:str}", opt=ANYONE)
    def one(self, contract_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> ContractOut:
        with ctx.db.read() as session:
            return contract_out(service.get_review(session, contract_id, request.user))

    @post("/{contract_id:str}/accept", opt=REVIEWERS, status_code=200)
    def accept(self, contract_id: Id, ctx: Ctx, request: Request[Principal, Any, Any],
               data: JSONBody[AcceptIn | None] = None) -> Response[bytes]:
        """A county reviewer accepts the contract for their counties; in force once every county it covers has."""
        def run(session: Session) -> ContractOut:
            return contract_out(service.accept(session, contract_id, principal=request.user, clock=ctx.clock,
                                               content_hash=data.content_hash if data else None,
                                               county_codes=data.county_codes if data else None))

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)

    @post("/{contract_id:str}/reject", opt=REVIEWERS, status_code=200)
    def reject(self, contract_id: Id, data: JSONBody[RefuseIn], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Response[bytes]:
        """A county reviewer refuses the contract, with a reason: it never comes into force."""
        def run(session: Session) -> ContractOut:
            return contract_out(service.refuse(session, contract_id, principal=request.user, reason=data.reason,
                                               clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)


ROUTES = [ContractController]
