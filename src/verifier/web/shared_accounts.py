"""The county reviewer's list of payee accounts paying several households (一账多户, 收款账户与其他家庭相同): each
account masked, with its cases within the reviewer's counties, searched by case number, household head or the
account's last digits; a clearance form with its note. The rules are the payments service's
(verifier.payments.one_account): the page offers the form, the service decides."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller
from litestar.params import FromQuery, Parameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..http import Ctx, get, post
from ..payments import one_account
from ..store.paged import fold_search
from . import labels, stagelabels as sl
from .common import Req, clean, page, refusal_page, see_other, user_names

READERS: dict[str, Any] = {"roles": ("county_reviewer", "finance", "insurer_claims", "insurer_supervisor", "auditor")}
CLEARERS: dict[str, Any] = {"roles": (one_account.CLEARER,)}
Account = Annotated[str, Parameter(min_length=64, max_length=64, pattern=r"^[0-9a-f]{64}$")]
STATUSES = labels.review_statuses("cleared")


def render_shared(request: Req, ctx: Any, *, status: str = "open", q: str = "", status_code: int = 200,
                  message: str | None = None, typed: dict[str, str] | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        found = one_account.groups(session, user, ctx.vault, ctx.clock.today(), q=q, status=status)
        names = user_names(session, [g.cleared.cleared_by for g in found if g.cleared is not None])
        # an account linked by a password to one who recorded, asked for, approved or owns it: the rule `clear`
        # refuses by, said instead of the form
        linked = {g.index: said for g in found if g.cleared is None and user.has(one_account.CLEARER)
                  and user.id not in g.staff | g.people
                  for said in [one_account.linked_clearer(session, g, user)] if said}
    return page(request, "shared_accounts.html", status_code=status_code, groups=found, names=names, q=q,
                status=status, statuses=STATUSES, message=message, typed=typed or {}, sl=sl,
                may_clear=user.has(one_account.CLEARER), me=user.id, years=one_account.YEARS,
                staff_words=one_account.STAFF_HOLD_REASON, linked=linked)


class SharedAccountPages(Controller):
    path = "/shared-accounts"

    @get("/", opt=READERS)
    def list_shared(self, ctx: Ctx, request: Req, status: FromQuery[Literal["open", "cleared", "all", ""]] = "open",
                    q: Annotated[str, Parameter(max_length=100)] = "") -> Template:
        return render_shared(request, ctx, status=status or "open", q=q)

    @post("/{account:str}/clear", opt=CLEARERS, status_code=303)
    def clear(self, account: Account, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        note = clean(data.get("note"))
        try:
            with ctx.db.begin() as session:
                one_account.clear(session, account, note=note, principal=request.user, vault=ctx.vault,
                                  clock=ctx.clock)
        except (InvalidState, Forbidden, NotFound, ValidationFailed) as exc:
            return refusal_page(lambda **kw: render_shared(request, ctx, **kw), exc, fields={"note": "核实说明"},
                                typed={account: note})
        return see_other("/shared-accounts", done="account_cleared")
