"""HTTP routes: a county's roster of registered households (import, the list of imports, what an import changes, and
its confirmation by a second county reviewer or its rejection)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..http import Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent, replayed
from ..uploads import check_size, size_of
from . import comparison, service

READERS = service.READERS
DECIDERS = {"roles": service.CONFIRM_ROLES}
Id = Annotated[str, Parameter(max_length=40)]


class RosterImportOut(msgspec.Struct):
    import_id: str
    rows: int
    categories: dict[str, int]
    repeated: bool = False
    status: str = "pending"  # in force only once another county reviewer confirms it


class RosterImportRow(msgspec.Struct):
    import_id: str
    county_code: str
    filename: str
    file_sha256: str
    rows: int
    imported_by: str
    imported_at: datetime
    status: str  # pending, confirmed (the newest confirmed is the county's roster) or rejected
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None


class Rejection(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class EarlierRejection(msgspec.Struct):
    import_id: str
    rejected_by: str | None
    rejected_at: datetime | None
    reason: str | None  # as the rejecting reviewer wrote it


class RosterChange(msgspec.Struct):
    import_id: str
    status: str
    compared_with: str | None  # the county's roster (pending), or the import it replaced
    before: dict[str, int]
    after: dict[str, int]
    added: int
    removed: int
    changed: int
    changed_by_category: list[dict[str, Any]]  # {"from", "to", "people"}
    group_moves: dict[str, int]  # people whose household group changes, by the group they move to
    imported_at_command_line: bool = False  # by the server's operator: no reviewer's login vouches for it
    earlier_rejections: list[EarlierRejection] = []  # the county's rejected imports of the same file
    # the county's rejected imports of other files since the roster compared with was confirmed (not the same file)
    rejections_since_roster: list[EarlierRejection] = []


def row_out(r: comparison.ImportRow) -> RosterImportRow:
    return RosterImportRow(r.id, r.county_code, r.filename, r.file_sha256, r.rows, r.imported_by, r.imported_at,
                           r.status, r.confirmed_by, r.confirmed_at, r.rejected_by, r.rejected_at)


class RosterController(Controller):
    path = "/api/roster"
    tags = ["roster"]

    @post("/imports", opt={"roles": service.IMPORT_ROLES}, status_code=201)
    def import_file(self, ctx: Ctx, request: Request[Principal, Any, Any],
                    data: MultipartBody[dict[str, Any]]) -> RosterImportOut:
        """The county's whole roster (csv or xlsx: ID number and category per person), all or nothing, stored
        pending: no lookup changes until another county reviewer confirms it. The same file again changes nothing
        (`repeated`); 409 while another import of the county is pending."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传名册文件")
        check_size(size_of(upload.file), ctx.settings.imports)
        content = upload.file.read()
        result = service.import_roster(ctx.db, vault=ctx.vault, data=content, filename=upload.filename or "roster",
                                       county_code=str(data.get("county_code") or ""), principal=request.user,
                                       clock=ctx.clock, limits=ctx.settings.imports)
        return RosterImportOut(result.import_id, result.rows, result.categories, result.repeated, result.status)

    @get("/imports", opt={"roles": READERS})
    def list_imports(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[RosterImportRow]:
        """The roster imports of the caller's counties, newest first (the newest confirmed of a county is its
        roster)."""
        with ctx.db.read() as session:
            return [row_out(r) for r in comparison.listing(session, request.user)]

    @get("/imports/{import_id:str}/change", opt={"roles": READERS})
    def change(self, import_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> RosterChange:
        """What the import changes against the county's roster (counts only, no person named)."""
        with ctx.db.read() as session:
            seen = comparison.review(session, import_id, request.user)
        f = seen.figures
        return RosterChange(
            import_id=seen.subject.id, status=seen.subject.status,
            compared_with=seen.base.id if seen.base is not None else None, before=f.before, after=f.after,
            added=f.added_total, removed=f.removed_total, changed=f.changed_total,
            changed_by_category=[{"from": a, "to": b, "people": n} for (a, b), n in sorted(f.changed.items())],
            group_moves=f.group_moves(), imported_at_command_line=seen.subject.from_command_line,
            earlier_rejections=[EarlierRejection(r.id, r.rejected_by, r.rejected_at, r.rejection_reason)
                                for r in seen.rejections],
            rejections_since_roster=[EarlierRejection(r.id, r.rejected_by, r.rejected_at, r.rejection_reason)
                                     for r in seen.other_rejections])

    @post("/imports/{import_id:str}/confirm", opt=DECIDERS, status_code=200)
    def confirm(self, import_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[RosterImportRow]:
        """The import becomes the county's roster: 403 for its importer (and an account linked to theirs), 404
        outside the caller's counties; confirming it again changes nothing."""
        replay = replayed(ctx.db, request)  # a repeat of an answered confirm: its answer, without counting again
        if replay is not None:
            return replay
        compared = service.compare(ctx.db, import_id, request.user)  # before the write transaction, not in it

        def run(session: Session) -> RosterImportRow:
            return row_out(comparison.import_row(service.confirm(session, import_id, principal=request.user,
                                                                 clock=ctx.clock, compared=compared)))

        return idempotent(ctx.db, request, run, clock=ctx.clock)

    @post("/imports/{import_id:str}/reject", opt=DECIDERS, status_code=200)
    def reject(self, import_id: Id, data: JSONBody[Rejection], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Response[RosterImportRow]:
        """A pending import is set aside, never in force (its importer withdraws it the same way)."""
        def run(session: Session) -> RosterImportRow:
            return row_out(comparison.import_row(service.reject(session, import_id, principal=request.user,
                                                                reason=data.reason, clock=ctx.clock)))

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)
