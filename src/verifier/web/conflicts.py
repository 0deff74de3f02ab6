"""The cross-county conflicts page for county reviewers and auditors: people named in one county whose household
belongs to another, for the reviewers of both counties to settle (the person who named them was told only to
ask the county reviewer).

The list is paged and searched. A search may be a whole ID number: the form is POSTed, and the number comes back
in the address only as a sealed search token of the reader's own (cases/search_token.py), counted by the same limit
as the case search (cases/id_search.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller
from litestar.params import Parameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect

from ..cases import id_search, search_token
from ..cases import numbers as case_numbers
from ..cases.listing import is_whole_id_number
from ..conflicts import service
from ..domain.masking import mask_id
from ..http import Ctx, get, post
from ..store.paged import Paged, fold_search
from . import paging
from .common import Req, clean, page
from .paging import Pager, page_param

READERS = {"roles": service.READERS}


class ConflictPages(Controller):
    path = "/conflicts"

    @get("/", opt=READERS)
    def list_conflicts(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=200)] = "",
                       qt: Annotated[str, Parameter(max_length=search_token.MAX_TOKEN)] = "",
                       page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Any:
        user = request.user
        text, message, status_code = fold_search(q), "", 200
        if is_whole_id_number(text):  # typed into the address by hand: the number leaves it at once
            return Redirect(path=_target(ctx, user, {"q": text}), status_code=303)
        if qt:
            text = search_token.open_token(ctx.vault, user.id, qt, ctx.clock.now()) or ""
            if not text:
                message = "按身份证号查找的结果已失效（超过 30 分钟，或不是本人的查找），请重新输入身份证号查找。"
        try:
            id_search.count_search(ctx.db, user, text, ctx.clock.now(),
                                   timedelta(minutes=ctx.settings.login_window_minutes))
        except id_search.TooManyIdSearches as exc:
            message, status_code = f"按身份证号查找过于频繁，请 {max(1, exc.retry_after // 60)} 分钟后再试。", 429
        with ctx.db.read() as session:
            found = (service.find_conflicts(session, user, ctx.vault, q=text, page=page_param(page_no),
                                            page_size=paging.PAGE_SIZE)
                     if not message else Paged(items=[], total=0, page=1, pages=1, page_size=paging.PAGE_SIZE))
            conflicts = found.items
            cases = [c.reference for c in conflicts if c.source == "home_check" and c.reference]
            numbers = {k: v for k, v in case_numbers.numbers_of(session, cases).items()
                       if user.may_see_county(v[:6])}  # a case of a county the reader may see
        pager = Pager.over("/conflicts", {"qt": qt} if qt else {"q": text}, found)
        return page(request, "conflicts.html", status_code=status_code, conflicts=conflicts, numbers=numbers,
                    pager=pager, q="" if qt else text, qt=qt, searched_id=mask_id(text) if qt and text else "",
                    message=message)

    @post("/search", opt={**READERS, "changes_nothing": True}, status_code=303)
    def search(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Redirect:
        """The search form: stores and changes nothing (posted only to keep its text out of the address; an
        auditor may use it); a whole ID number goes on as a search token, never as itself."""
        return Redirect(path=_target(ctx, request.user, data), status_code=303)


def _target(ctx: Any, user: Any, data: dict[str, Any]) -> str:
    text = fold_search(clean(data.get("q")))
    if is_whole_id_number(text):
        return "/conflicts?" + urlencode({"qt": search_token.make(ctx.vault, user.id, text, ctx.clock.now())})
    return "/conflicts" + (("?" + urlencode({"q": text})) if text else "")
