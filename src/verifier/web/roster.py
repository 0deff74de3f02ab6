"""Pages of the county's roster (/roster): the imports with their status, and an import against the county's roster
(counts only, no person named) where a second county reviewer confirms it or either reviewer rejects it. A county
reviewer uploads a roster file on /roster (as on the API; the command line only for a county without one); a refused
file is said beside the file field, row by row, in Chinese. See roster/service.py for who may confirm."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller
from litestar.params import MultipartBody, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.roster import CATEGORY_NAMES
from ..http import Ctx, get, post
from ..roster import comparison, service
from ..store.paged import fold_search
from ..uploads import check_size, size_of
from .common import FormState, Req, clean, counties_of, folded, form_state, import_file, page, see_other
from .labels import GROUPS, ROSTER, ROSTER_STATUS, field_label, message_zh
from .paging import Pager, page_param

READERS: dict[str, Any] = {"roles": service.READERS}
DECIDERS: dict[str, Any] = {"roles": service.CONFIRM_ROLES}
IMPORTERS: dict[str, Any] = {"roles": service.IMPORT_ROLES}
SHOWN_ROWS = 30  # a refused file's problems said beside its field; the rest counted
# The stored id of the import already waiting, in the service's refusal: the page links to it instead.
_WAITING_ID = re.compile(r"（ros_[0-9a-f]+）")
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


def file_problems(errors: list[FieldError]) -> list[str]:
    """A refused roster file's problems as said beside its field: 第 3 行「身份证号」：…, then how many more."""
    said = []
    for e in errors[:SHOWN_ROWS]:
        where = f"第 {e.row} 行「{field_label(e.field)}」：" if e.row is not None else ""
        said.append(where + message_zh(e.message))
    if len(errors) > SHOWN_ROWS:
        said.append(f"另有 {len(errors) - SHOWN_ROWS} 处问题未列出，请一并检查")
    return said


class RosterPages(Controller):
    path = "/roster"

    @get("/", opt=READERS)
    def imports(self, ctx: Ctx, request: Req,
                page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None,
                q: Annotated[str, QueryParameter(max_length=100)] = "",
                status: Annotated[str, QueryParameter(max_length=12)] = "",
                to_decide: Annotated[str, QueryParameter(max_length=1)] = "") -> Template:
        """The imports, newest first, searched and by status; `to_decide=1`: the pending ones the user may confirm
        (the home card's count, `comparison.waiting`)."""
        return self._imports(ctx, request, FormState(), at=page_param(page_no), q=q, status=status,
                             deciding=to_decide == "1")

    def _imports(self, ctx: Ctx, request: Req, form: FormState, *, status_code: int = 200,
                 problems: list[str] | None = None, at: int = 1, q: str = "", status: str = "",
                 deciding: bool = False) -> Template:
        q, status = fold_search(q), status if status in ROSTER_STATUS else ""  # an unknown status: all
        if deciding:
            status = "pending"
        with ctx.db.read() as session:
            waiting = comparison.waiting(session, request.user) if deciding else None
            found = comparison.listing_page(session, request.user, at, q=q, status=status,
                                            only=waiting.mine if waiting is not None else None)
            counties = counties_of(session, request.user) if request.user.has(*service.IMPORT_ROLES) else []
            # the import each of the reviewer's counties already has waiting (one at a time): linked above the form,
            # on the page itself as after an upload it refused
            pending = [(c, w.id) for c in counties if (w := service.pending_import(session, c)) is not None]
        if len(counties) == 1:
            form.values.setdefault("county_code", counties[0])
        pager = Pager.over("/roster", {"q": q, "status": status, "to_decide": "1" if deciding else ""}, found)
        return page(request, "roster.html", status_code=status_code, rows=found.items, statuses=ROSTER_STATUS,
                    form=form, pager=pager, q=q, status=status, counties=counties, waiting=pending,
                    problems=problems or [], to_decide=deciding,
                    others=waiting.others if waiting is not None else 0)

    @post("/", opt=IMPORTERS, status_code=303)
    def upload(self, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        """A county's roster file, pending until another county reviewer confirms it; the same file again changes
        nothing (a double click, a Back and send again)."""
        upload, form = import_file(data)
        county = folded(data.get("county_code"))
        form.values["county_code"] = county
        if upload is None:
            return self._imports(ctx, request, form, status_code=422)
        try:
            check_size(size_of(upload.file), ctx.settings.imports)
            upload.file.seek(0)
            result = service.import_roster(ctx.db, vault=ctx.vault, data=upload.file.read(),
                                           filename=upload.filename or "roster", county_code=county,
                                           principal=request.user, clock=ctx.clock, limits=ctx.settings.imports)
        except ValidationFailed as exc:
            for e in exc.errors:
                if e.field == "county_code":
                    form.add("county_code", message_zh(e.message))
            in_file = [e for e in exc.errors if e.field != "county_code"]
            if in_file:
                form.add("file", f"文件有误，未导入任何数据（共 {len(in_file)} 处问题），请修改后重新上传：")
            return self._imports(ctx, request, form, status_code=exc.status, problems=file_problems(in_file))
        except NotFound:  # a county the reviewer is not of: as one that does not exist
            form.add("county_code", "请选择您负责的县（区）")
            return self._imports(ctx, request, form, status_code=422)
        except InvalidState as exc:  # the import already waiting is linked above the form
            form.general.append(_WAITING_ID.sub("", message_zh(exc.detail)))
            return self._imports(ctx, request, form, status_code=exc.status)
        return see_other(f"/roster/{result.import_id}", done="roster_repeated" if result.repeated else "roster_imported")

    @get("/{import_id:str}", opt=READERS)
    def review(self, import_id: Id, ctx: Ctx, request: Req) -> Template:
        return self._review(ctx, request, import_id, FormState())

    @post("/{import_id:str}/confirm", opt=DECIDERS, status_code=303)
    def confirm(self, import_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            service.confirm_import(ctx.db, import_id, principal=request.user, clock=ctx.clock)
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
