"""回避拦截记录: for the county reviewers and auditors, the people refused for 与本户成员存在回避关系, with how many
times, on how many cases or households, at which steps (`recusal/refusals.py`). Many refusals by one person are a
probe of whose kin the households are, or a person who keeps trying; searched by name or username, paged, and
filtered to one person (`person`, a username: the home page's 回避拦截预警 links there) with each refusal."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, QueryParameter

from ..http import Ctx, get
from ..recusal import refusals
from ..store.paged import fold_search
from . import paging
from .common import Req, page
from .paging import Pager, page_param

READERS = {"roles": refusals.READERS}


class RecusalRefusalPages(Controller):
    path = "/recusal-refusals"

    @get("/", opt=READERS)
    def list_refusals(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=100)] = "",
                      person: Annotated[str, Parameter(max_length=100)] = "",
                      page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Any:
        text, person = fold_search(q), person.strip()
        with ctx.db.read() as session:
            found = refusals.refusal_page(session, request.user, q=text, person=person, page=page_param(page_no),
                                          page_size=paging.PAGE_SIZE, now=ctx.clock.now())
        pager = Pager.over("/recusal-refusals", {"person": person} if person else {"q": text}, found.people)
        return page(request, "recusal_refusals.html", active="/recusal-refusals", people=found.people.items,
                    pager=pager, q=text, person=person, chosen=found.person, refusals=found.refusals,
                    window_days=refusals.PROBE_WINDOW.days, probe_refusals=refusals.PROBE_REFUSALS,
                    probe_households=refusals.PROBE_HOUSEHOLDS)
