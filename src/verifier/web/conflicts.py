"""The cross-county conflicts page for county reviewers and auditors: people named in one county whose household
belongs to another, for the reviewers of both counties to settle (the person who named them was told only to
ask the county reviewer)."""

from __future__ import annotations

from litestar import Controller
from litestar.response import Template

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
        return page(request, "conflicts.html", conflicts=conflicts)
