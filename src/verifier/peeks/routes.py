"""HTTP routes of the looks at personal data: a household's phone asked for in full (显示完整号码, recorded) and the
list of the looks (查阅记录) for auditors and county reviewers of their counties. No route edits or deletes a look."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request
from litestar.params import Parameter, QueryParameter

from ..accounts.auth import Principal
from ..cases import personal
from ..cases import service as case_service
from ..cases.route_sheet import phone_of
from ..cases.workflow import load_case
from ..http import Ctx, get, post
from ..store.paged import PAGE_SIZE
from . import listing, record

Id = Annotated[str, Parameter(max_length=40)]
AnyRequest = Request[Principal, Any, Any]
PHONE_ROUTE_ROLES = (*record.PHONE_ASKERS, "field_officer")
"""Who reaches the API's phone route: the askers, and the field officers (answered only at the door, unrecorded)."""


class PhoneOut(msgspec.Struct):
    case_id: str
    household_id: str
    phone: str | None  # in full; None when the household gave none
    recorded: bool  # the ask is on record (false for an officer at the door, who sees it anyway, and with no phone)


class LookOut(msgspec.Struct):
    id: int
    day: date
    first_at: str
    last_at: str
    user_id: str
    user_name: str
    username: str  # the login name (display names need not be unique)
    role: str
    county_code: str
    household_id: str
    head_name: str
    case_id: str | None
    case_number: str | None
    kind: str  # evidence, household_file, household_export, phone
    route: str  # page, api
    looks: int  # how many looks that day


class LookPage(msgspec.Struct):
    items: list[LookOut]
    total: int
    page: int
    pages: int
    page_size: int


def look_out(look: listing.Look) -> LookOut:
    return LookOut(id=look.id, day=look.day, first_at=look.first_at.isoformat(), last_at=look.last_at.isoformat(),
                   user_id=look.user_id, user_name=look.user_name, username=look.username, role=look.role, county_code=look.county_code,
                   household_id=look.household_id, head_name=look.head_name, case_id=look.case_id,
                   case_number=look.case_number, kind=look.kind, route=look.route, looks=look.looks)


class PhoneController(Controller):
    path = "/api/cases"
    tags = ["personal views"]

    @post("/{case_id:str}/phone", opt={"roles": PHONE_ROUTE_ROLES}, status_code=200)
    def phone(self, case_id: Id, ctx: Ctx, request: AnyRequest) -> PhoneOut:
        """The household's phone in full (its own, else the latest referral's; None when neither): an insurer
        supervisor's ask is recorded when a number is shown (查阅留痕, refused when it cannot be); the officers at the
        door see it without a record; others 403."""
        user = request.user
        with ctx.db.read() as session:
            case = load_case(session, case_id, user)
            at_door = personal.at_the_door(user, case, case_service.active_visit(session, case.id))
            record.may_ask(user, at_door=at_door)
            phone = phone_of(session, ctx.vault, case) or None
        # the ask recorded in a short write of its own (查阅留痕: when it cannot be, nothing is served); only when a
        # number is shown
        recorded = not at_door and phone is not None
        if recorded:
            with ctx.db.begin() as session:
                record.phone_asked(session, user, household_id=case.household_id, county_code=case.county_code,
                                   at_door=at_door, route="api", clock=ctx.clock, case_id=case.id)
        return PhoneOut(case_id=case.id, household_id=case.household_id, phone=phone, recorded=recorded)


class PersonalViewController(Controller):
    path = "/api/personal-views"
    tags = ["personal views"]

    @get("/", opt={"roles": listing.READERS})
    def list_views(self, ctx: Ctx, request: AnyRequest, q: Annotated[str, QueryParameter(max_length=100)] = "",
                   date_from: Annotated[date | None, QueryParameter(name="from")] = None,
                   date_to: Annotated[date | None, QueryParameter(name="to")] = None,
                   page_no: Annotated[int, QueryParameter(name="page", ge=1, le=100000)] = 1) -> LookPage:
        """The looks at households' personal data in the caller's counties, newest first (`q`: a looker's name, a
        head's name or a case number; `from`, `to`: days)."""
        with ctx.db.read() as session:
            found = listing.find(session, request.user, q=q, date_from=date_from, date_to=date_to, page=page_no,
                                 page_size=PAGE_SIZE)
        return LookPage(items=[look_out(v) for v in found.items], total=found.total, page=found.page,
                        pages=found.pages, page_size=found.page_size)
