"""回避拦截记录: for the county reviewers and auditors, the people refused for 与本户成员存在回避关系, with how many
times, on how many cases or households, at which steps (`recusal/refusals.py`). Many refusals by one person are a
probe of whose kin the households are, or a person who keeps trying; searched by name or username."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter

from ..http import Ctx, get
from ..recusal import refusals
from ..store.paged import fold_search
from .common import Req, page

READERS = {"roles": refusals.READERS}


class RecusalRefusalPages(Controller):
    path = "/recusal-refusals"

    @get("/", opt=READERS)
    def list_refusals(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=100)] = "") -> Any:
        text = fold_search(q)
        with ctx.db.read() as session:
            people = refusals.by_person(session, request.user, q=text)
        return page(request, "recusal_refusals.html", active="/recusal-refusals", people=people, q=text)
