"""The cross-county conflicts page for county reviewers and auditors: people named in one county whose household
belongs to another, for the reviewers of both counties to settle (the person who named them was told only to
ask the county reviewer)."""

from __future__ import annotations

from litestar import Controller
from litestar.response import Template

from ..cases import numbers as case_numbers
from ..conflicts import service
from ..http import Ctx, get
from .common import Req, page

READERS = {"roles": service.READERS}


class ConflictPages(Controller):
    path = "/conflicts"

    @get("/", opt=READERS)
    def list_conflicts(self, ctx: Ctx, request: Req) -> Template:
        with ctx.db.read() as session:
            conflicts = service.list_conflicts(session, request.user, ctx.vault)
            cases = [c.reference for c in conflicts if c.source == "home_check" and c.reference]
            numbers = {k: v for k, v in case_numbers.numbers_of(session, cases).items()
                       if request.user.may_see_county(v[:6])}  # a case of a county the reader may see
        return page(request, "conflicts.html", conflicts=conflicts, numbers=numbers)
