"""HTTP routes: the cross-county conflicts a county reviewer (or auditor) sees for their counties."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request
from litestar.params import QueryParameter

from ..accounts.auth import Principal
from ..http import Ctx, get
from . import service


class ConflictController(Controller):
    path = "/api/conflicts"
    tags = ["conflicts"]

    @get("/", opt={"roles": service.READERS})
    def list_conflicts(self, ctx: Ctx, request: Request[Principal, Any, Any],
                       limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200) -> list[service.ConflictOut]:
        """People named in one county whose household belongs to another: those concerning the caller's counties
        (where the person was named, or where their household is), newest first."""
        with ctx.db.read() as session:
            return service.list_conflicts(session, request.user, ctx.vault, limit=limit)
