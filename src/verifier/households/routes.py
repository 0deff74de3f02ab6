"""HTTP routes: a household in brief, its history and its file (一户一档); finding households, proposing to merge two
or move a member, and confirming, declining or withdrawing the proposal; the county's risk-removed mark (风险消除)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import risk, service
from .service import proposals
from ..peeks import record as peeks
from .file import household_file
from .models import HouseholdRiskEvent
from .models import HouseholdChangeProposal
from .schemas import (
    ConfirmIn,
    DeclineIn,
    HouseholdFile,
    MergedCaseOut,
    MergeIn,
    MergeOut,
    MoveIn,
    MoveOut,
    ProposalOut,
    RiskEventOut,
    RiskStatusIn,
)

Id = Annotated[str, Parameter(max_length=40)]
WRITERS: dict[str, Any] = {"roles": (service.ROLE,)}
DECIDERS: dict[str, Any] = {"roles": service.CONFIRMERS}


def proposal_out(p: HouseholdChangeProposal, done: service.Confirmed | None = None,
                 seen: str | None = None) -> ProposalOut:
    merge = move = None
    if done is not None and done.merge is not None:
        r = done.merge
        merge = MergeOut(change_id=r.change_id, household_id=r.household_id, from_household_id=r.from_household_id,
                         members=r.members, moved_cases=r.moved_cases,
                         merged_cases=[MergedCaseOut(case_id=m.case_id, number=m.number, into_case_id=m.into_case_id,
                                                     into_number=m.into_number) for m in r.merged_cases])
    if done is not None and done.move is not None:
        m = done.move
        move = MoveOut(change_id=m.change_id, member_id=m.member_id, from_household_id=m.from_household_id,
                       household_id=m.household_id, new_household=m.new_household)
    return ProposalOut(id=p.id, kind=p.kind, status=p.status, county_code=p.county_code, household_id=p.household_id,
                       other_household_id=p.other_household_id, member_id=p.member_id, new_household=p.new_household,
                       relation=p.relation, new_head_member_id=p.new_head_member_id, members=p.members,
                       proposed_by=p.proposed_by, proposed_at=p.proposed_at, decided_by=p.decided_by,
                       decided_at=p.decided_at, decline_reason=p.decline_reason, change_id=p.change_id, merge=merge,
                       move=move, seen=seen)


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

    @get("/", opt={"roles": "any"})
    def find(self, ctx: Ctx, request: Request[Principal, Any, Any],
             county_code: Annotated[str, Parameter(pattern=r"^\d{6}$")],
             q: Annotated[str, Parameter(max_length=50)] = "") -> list[service.HouseholdBrief]:
        """Households of a county found by a case number (or its trailing digits) or part of a name."""
        with ctx.db.read() as session:
            return service.find_households(session, ctx.vault, request.user, q, county_code=county_code)

    @get("/{household_id:str}", opt={"roles": "any"})
    def show(self, household_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> service.HouseholdBrief:
        with ctx.db.read() as session:
            return service.household_brief(session, ctx.vault, household_id, request.user)

    @get("/{household_id:str}/changes", opt={"roles": "any"})
    def changes(self, household_id: Id, ctx: Ctx,
                request: Request[Principal, Any, Any]) -> list[service.HouseholdChangeOut]:
        """The household's merges and moves, oldest first."""
        with ctx.db.read() as session:
            return service.household_changes(session, household_id, principal=request.user)

    @post("/{household_id:str}/merge", opt=WRITERS, status_code=200)
    def merge(self, household_id: Id, data: JSONBody[MergeIn], ctx: Ctx,
              request: Request[Principal, Any, Any]) -> Response[ProposalOut]:
        """Propose merging another household into this one (insurer supervisor, with a reason): a proposal, status
        `pending`, made when another person confirms it (`POST /api/household-proposals/{id}/confirm`)."""
        def run(session: Session) -> ProposalOut:
            return proposal_out(service.propose_merge(session, household_id, data.from_household_id,
                                                      reason=data.reason, head_relation=data.head_relation,
                                                      principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/{household_id:str}/members/{member_id:str}/move", opt=WRITERS, status_code=200)
    def move(self, household_id: Id, member_id: Id, data: JSONBody[MoveIn], ctx: Ctx,
             request: Request[Principal, Any, Any]) -> Response[ProposalOut]:
        """Propose moving a member to another household, or to a new one (insurer supervisor, with a reason): a
        proposal, status `pending`, made when another person confirms it."""
        def run(session: Session) -> ProposalOut:
            return proposal_out(service.propose_move(
                session, household_id, member_id, to_household_id=data.to_household_id,
                new_household=data.new_household, reason=data.reason, relation=data.relation,
                new_head_member_id=data.new_head_member_id, principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @get("/{household_id:str}/file", opt={"roles": "any"})
    def file(self, household_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> HouseholdFile:
        """The household file: header, sections (tables of codes and "0.00" amounts) and the audit timeline; ID
        numbers masked as for the caller, the phone too (an insurer supervisor asks for it: `POST
        /api/cases/{id}/phone`). Outside the caller's counties: 404. The look is recorded (查阅留痕, peeks/record.py)."""
        with ctx.db.read() as session:
            file = household_file(session, household_id, request.user, ctx.vault)
        with ctx.db.begin() as session:  # the look recorded in a short write of its own: when it cannot be, no file
            peeks.household_file(session, request.user, file.household.id, file.household.county_code, route="api",
                                 clock=ctx.clock)
        return file

    @post("/{household_id:str}/risk-status", opt={"roles": risk.MARKERS}, status_code=201)
    def risk_status(self, household_id: Id, data: JSONBody[RiskStatusIn], ctx: Ctx,
                    request: Request[Principal, Any, Any]) -> Response[RiskEventOut]:
        """`{"action":"remove","on","evidence_kind","months"?,"note"}` marks the risk removed; `{"action":"revoke",
        "on","note"}` revokes the mark (the risk returns). County reviewer only; 409 when already in that state."""
        def run(session: Session) -> RiskEventOut:
            return risk_event_out(change_risk(session, household_id, data, principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)


class HouseholdProposalController(Controller):
    """A merge or move proposal: read, confirmed or declined by another person, withdrawn by its proposer."""

    path = "/api/household-proposals"
    tags = ["households"]

    @get("/{proposal_id:str}", opt=DECIDERS)
    def show(self, proposal_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> ProposalOut:
        with ctx.db.read() as session:
            row = proposals.load_proposal(session, proposal_id, request.user)
            return proposal_out(row, seen=proposals.seen_of(session, row, request.user, ctx.clock))

    @post("/{proposal_id:str}/confirm", opt=DECIDERS, status_code=200)
    def confirm(self, proposal_id: Id, data: JSONBody[ConfirmIn], ctx: Ctx,
                request: Request[Principal, Any, Any]) -> ProposalOut:
        """Another insurer supervisor or a county reviewer of the county makes the change it read (`{"seen"}`, the
        GET's): 409 once decided, when a rule no longer holds, the households' members changed since, or what it
        would change is no longer what was read."""
        with ctx.db.begin() as session:
            done = service.confirm(session, proposal_id, principal=request.user, clock=ctx.clock, seen=data.seen)
            return proposal_out(done.proposal, done)

    @post("/{proposal_id:str}/decline", opt=DECIDERS, status_code=200)
    def decline(self, proposal_id: Id, data: JSONBody[DeclineIn], ctx: Ctx,
                request: Request[Principal, Any, Any]) -> ProposalOut:
        """Declined by another who may confirm it, with a reason (409 once decided)."""
        with ctx.db.begin() as session:
            return proposal_out(service.decline(session, proposal_id, principal=request.user, reason=data.reason,
                                                clock=ctx.clock))

    @post("/{proposal_id:str}/withdraw", opt=WRITERS, status_code=200)
    def withdraw(self, proposal_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> ProposalOut:
        """Withdrawn by its proposer (409 once decided)."""
        with ctx.db.begin() as session:
            return proposal_out(service.withdraw(session, proposal_id, principal=request.user, clock=ctx.clock))
