"""HTTP routes: a household in brief and its history, finding households, merging two, moving a member."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..http import Ctx, JSONBody, get, post
from ..idempotency import idempotent
from . import service
from .schemas import MergedCaseOut, MergeIn, MergeOut, MoveIn, MoveOut

Id = Annotated[str, Parameter(max_length=40)]
WRITERS: dict[str, Any] = {"roles": (service.ROLE,)}


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
              request: Request[Principal, Any, Any]) -> Response[MergeOut]:
        """Merge another household into this one (insurer supervisor, with a reason)."""
        def run(session: Session) -> MergeOut:
            r = service.merge_households(session, household_id, data.from_household_id, reason=data.reason,
                                         head_relation=data.head_relation, principal=request.user, clock=ctx.clock)
            return MergeOut(change_id=r.change_id, household_id=r.household_id, from_household_id=r.from_household_id,
                            members=r.members, moved_cases=r.moved_cases,
                            merged_cases=[MergedCaseOut(case_id=m.case_id, number=m.number,
                                                        into_case_id=m.into_case_id, into_number=m.into_number)
                                          for m in r.merged_cases])

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/{household_id:str}/members/{member_id:str}/move", opt=WRITERS, status_code=200)
    def move(self, household_id: Id, member_id: Id, data: JSONBody[MoveIn], ctx: Ctx,
             request: Request[Principal, Any, Any]) -> Response[MoveOut]:
        """Move a member to another household, or to a new one (insurer supervisor, with a reason)."""
        def run(session: Session) -> MoveOut:
            r = service.move_member(session, household_id, member_id, to_household_id=data.to_household_id,
                                    new_household=data.new_household, reason=data.reason, relation=data.relation,
                                    new_head_member_id=data.new_head_member_id, principal=request.user,
                                    clock=ctx.clock)
            return MoveOut(change_id=r.change_id, member_id=r.member_id, from_household_id=r.from_household_id,
                           household_id=r.household_id, new_household=r.new_household)

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)
