"""The county's list of towns and villages: the page that shows it (and lets an admin or a supervisor add a
village, on purpose), and the application form's town and village fields (re-rendered by htmx as the town changes)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import FromQuery, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import FieldError, Forbidden, ValidationFailed
from ..http import Ctx, get, post
from ..places import listing as place_listing
from ..places import service as place_service
from ..store.paged import fold_search
from . import paging
from .common import ANY, FormState, Req, clean, confirmed, counties_of, form_state, page, see_other, user_names
from .paging import Pager, page_param

EDITORS: dict[str, Any] = {"roles": place_service.EDITORS}
ADD_FIELDS = ("county_code", "town", "village", "confirm")


def places_for_form(session: Any, user: Any, county_code: str) -> place_service.PlaceList | None:
    """The list the application form offers for `county_code` (None: no county chosen yet, or not the user's)."""
    if not county_code or not user.may_see_county(county_code):
        return None
    return place_service.place_list(session, county_code)


def _page(request: Req, ctx: Any, county_code: str | None, state: FormState, status_code: int = 200, q: str = "",
          page_no: str | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        counties = counties_of(session, user)
        county = county_code if county_code in counties else (counties[0] if counties else "")
        places = place_service.place_list(session, county) if county else None
        towns = place_listing.find_towns(session, county, q=q, page=page_param(page_no),
                                         page_size=paging.PAGE_SIZE) if county else None
        sizes = place_service.counts(session, counties)
        added = place_service.added_by_page(session, county) if county else []
        names = user_names(session, [p.added_by for p in added])
    state.values.setdefault("county_code", county)
    pager = Pager.over("/places", {"county_code": county_code or "", "q": q}, towns) if towns else None
    return page(request, "places.html", status_code=status_code, counties=counties, county=county, places=places,
                towns=towns.items if towns else [], pager=pager, q=q,
                sizes=sizes, added=added, names=names, form=state, editor=user.has(*place_service.EDITORS))


class PlacePages(Controller):
    path = "/places"

    @get("/", opt=ANY)
    def show(self, ctx: Ctx, request: Req, county_code: FromQuery[str | None] = None,
             q: Annotated[str, Parameter(max_length=200)] = "",
             page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        return _page(request, ctx, county_code, FormState(), q=q, page_no=page_no)

    @post("/", opt=EDITORS, status_code=303)
    def add(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        county = clean(data.get("county_code"))
        try:
            if not confirmed(data):
                raise ValidationFailed([FieldError("confirm", "请勾选确认：该村确属本县、名称已核对无误")])
            with ctx.db.begin() as session:
                place_service.add_place(session, county, clean(data.get("town")), clean(data.get("village")),
                                        principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return _page(request, ctx, county, form_state(data, exc, ADD_FIELDS), status_code=422)
        except Forbidden as exc:
            return _page(request, ctx, county, FormState(values=dict(data), general=[exc.detail]), status_code=403)
        return see_other("/places", county_code=county, done="place_added")

    @get("/fields", opt=ANY)
    def fields(self, ctx: Ctx, request: Req, county_code: FromQuery[str | None] = None,
               town: FromQuery[str | None] = None, village: FromQuery[str | None] = None) -> Template:
        """The application form's town and village fields for a county (and, once chosen, a town)."""
        county = clean(county_code)
        with ctx.db.read() as session:
            places = places_for_form(session, request.user, county)
        state = FormState(values={"county_code": county, "town": clean(town), "village": clean(village)})
        return page(request, "_place_fields.html", form=state, places=places)
