"""The list of looks at households' personal data (查阅记录, /personal-views) for auditors and county reviewers of their
counties: who opened an evidence file, a household file (or exported it) or asked for a phone in full, when, how many
times that day; newest first, searched by the looker's name, a head's name or a case number, within a date range.
Read through the looks' service (verifier.peeks.listing); nothing here edits or deletes a look."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import QueryParameter
from litestar.response import Template

from ..domain.errors import FieldError
from ..http import Ctx, get
from ..peeks import listing
from ..store.paged import fold_search
from . import paging
from .common import Req, page, parse_day
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": listing.READERS}
BAD_DAY = "请按 年-月-日 填写日期；下面是不限日期的查阅记录。"


class PersonalViewPages(Controller):
    path = "/personal-views"

    @get("/", opt=READERS)
    def list_views(self, ctx: Ctx, request: Req, q: Annotated[str, QueryParameter(max_length=100)] = "",
                   date_from: Annotated[str, QueryParameter(name="from", max_length=20)] = "",
                   date_to: Annotated[str, QueryParameter(name="to", max_length=20)] = "",
                   page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """The looks in the user's counties, newest first."""
        q = fold_search(q)
        problems: list[FieldError] = []
        start = parse_day(date_from, "from", problems, required=False)
        end = parse_day(date_to, "to", problems, required=False)
        if problems:
            start = end = None
        with ctx.db.read() as session:
            found = listing.find(session, request.user, q=q, date_from=start, date_to=end,
                                 page=page_param(page_no), page_size=paging.PAGE_SIZE)
        kept = {"q": q, "from": start.isoformat() if start else "", "to": end.isoformat() if end else ""}
        return page(request, "personal_views.html", status_code=422 if problems else 200, rows=found.items,
                    p=Pager.over("/personal-views", kept, found), q=q, date_from=kept["from"], date_to=kept["to"],
                    message=BAD_DAY if problems else None)
