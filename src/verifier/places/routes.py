"""HTTP route: a county's list of towns and villages, for forms outside the pages (the phone form)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request
from litestar.params import QueryParameter

from ..accounts.auth import Principal
from ..http import Ctx, get
from . import service


class TownOut(msgspec.Struct):
    town: str
    villages: list[str]


class PlacesOut(msgspec.Struct):
    county_code: str
    has_list: bool  # false: the county keeps free-text towns and villages
    towns: list[TownOut]


class PlaceController(Controller):
    path = "/api/places"
    tags = ["places"]

    @get("/", opt={"roles": "any"})
    def list_places(self, ctx: Ctx, request: Request[Principal, Any, Any],
                    county: Annotated[str, QueryParameter(min_length=6, max_length=6)]) -> PlacesOut:
        """The county's towns, each with its villages (empty when the county has no list yet). Outside the
        caller's counties: 404."""
        request.user.require_county(county, "county")
        with ctx.db.read() as session:
            found = service.place_list(session, county)
        return PlacesOut(county, found.exists, [TownOut(t, vs) for t, vs in found.towns.items()])
