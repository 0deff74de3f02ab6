"""Pages of the county's roster (/roster): the imports with their status, and an import against the county's roster
(counts only, no person named) where a second county reviewer confirms it or either reviewer rejects it. Importing
stays on the API and the command line; see roster/service.py for who may confirm."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import Forbidden, InvalidState, ValidationFailed
from ..domain.roster import CATEGORY_NAMES
from ..http import Ctx, get, post
from ..roster import comparison, service
from .common import FormState, Req, clean, form_state, page, see_other
from .labels import GROUPS, ROSTER, ROSTER_STATUS, message_zh

READERS: dict[str, Any] = {"roles": service.READERS}
DECIDERS: dict[str, Any] = {"roles": service.CONFIRM_ROLES}
Id = Annotated[str, Parameter(max_length=40)]


def _table(f: comparison.Figures) -> list[dict[str, Any]]:
    """One row per category: before, after, added to it, removed from it, moved into it and out of it."""
    rows = []
    for code in CATEGORY_NAMES:
        moved_in = sum(n for (a, b), n in f.changed.items() if b == code)
        moved_out = sum(n for (a, b), n in f.changed.items() if a == code)
        rows.append({"label": ROSTER[code], "before": f.before.get(code, 0), "after": f.after.get(code, 0),
                     "added": f.added.get(code, 0), "removed": f.removed.get(code, 0), "moved_in": moved_in,
                     "moved_out": moved_out})
    return rows


class RosterPages(Controller):
    path = "/roster"

    @get("/", opt=READERS)
    def imports(self, ctx: Ctx, request: Req) -> Template:
        with ctx.db.read() as session:
            rows = comparison.listing(session, request.user, limit=100)
        return page(request, "roster.html", rows=rows, statuses=ROSTER_STATUS)

    @get("/{import_id:str}", opt=READERS)
    def review(self, import_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._review(ctx, request, import_id, FormState())

    @post("/{import_id:str}/confirm", opt=DECIDERS, status_code=303)
    def confirm(self, import_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            with ctx.db.begin() as session:
                service.confirm(session, import_id, principal=request.user, clock=ctx.clock)
        except (Forbidden, InvalidState) as exc:
            return self._review(ctx, request, import_id, FormState(), status_code=exc.status,
                                message=message_zh(exc.detail))
        return see_other(f"/roster/{import_id}", done="roster_confirmed")

    @post("/{import_id:str}/reject", opt=DECIDERS, status_code=303)
    def reject(self, import_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        reason = clean(data.get("reason"))
        try:
            with ctx.db.begin() as session:
                service.reject(session, import_id, principal=request.user, reason=reason, clock=ctx.clock)
        except ValidationFailed as exc:
            return self._review(ctx, request, import_id, form_state({"reason": reason}, exc, fields=("reason",)),
                                status_code=422)
        except (Forbidden, InvalidState) as exc:
            return self._review(ctx, request, import_id, FormState(values={"reason": reason}),
                                status_code=exc.status, message=message_zh(exc.detail))
        return see_other(f"/roster/{import_id}", done="roster_rejected")

    def _review(self, ctx: Ctx, request: Req, import_id: str, form: FormState, *, status_code: int = 200,
                message: str = "") -> Template:
        with ctx.db.read() as session:
            seen = comparison.review(session, import_id, request.user)
        f = seen.figures
        moves = [(GROUPS.get(g, g), n) for g, n in sorted(f.group_moves().items())]
        changed = [(ROSTER[a], ROSTER[b], n) for (a, b), n in sorted(f.changed.items())]
        return page(request, "roster_review.html", status_code=status_code, seen=seen, table=_table(f),
                    totals={"before": sum(f.before.values()), "after": sum(f.after.values()),
                            "added": f.added_total, "removed": f.removed_total, "changed": f.changed_total},
                    moves=moves, changed=changed, statuses=ROSTER_STATUS, form=form, message=message)
