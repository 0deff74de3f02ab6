"""HTTP routes: a county's roster of registered households (import, and the list of imports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request
from litestar.datastructures import UploadFile

from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..http import Ctx, MultipartBody, get, post
from ..uploads import check_size, size_of
from . import service

READERS = ("county_reviewer", "insurer_supervisor", "auditor")


class RosterImportOut(msgspec.Struct):
    import_id: str
    rows: int
    categories: dict[str, int]
    repeated: bool = False


class RosterImportRow(msgspec.Struct):
    import_id: str
    county_code: str
    filename: str
    file_sha256: str
    rows: int
    imported_by: str
    imported_at: datetime


class RosterController(Controller):
    path = "/api/roster"
    tags = ["roster"]

    @post("/imports", opt={"roles": service.IMPORT_ROLES}, status_code=201)
    def import_file(self, ctx: Ctx, request: Request[Principal, Any, Any],
                    data: MultipartBody[dict[str, Any]]) -> RosterImportOut:
        """The county's whole roster (csv or xlsx: ID number and category per person), all or nothing; the same
        file again changes nothing (`repeated`)."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "send the roster as a multipart field named file")
        check_size(size_of(upload.file), ctx.settings.imports)
        content = upload.file.read()
        result = service.import_roster(ctx.db, vault=ctx.vault, data=content, filename=upload.filename or "roster",
                                       county_code=str(data.get("county_code") or ""), principal=request.user,
                                       clock=ctx.clock, limits=ctx.settings.imports)
        return RosterImportOut(result.import_id, result.rows, result.categories, result.repeated)

    @get("/imports", opt={"roles": READERS})
    def list_imports(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[RosterImportRow]:
        """The roster imports of the caller's counties, newest first (the newest of a county is its roster)."""
        with ctx.db.read() as session:
            return [RosterImportRow(r.id, r.county_code, r.filename, r.file_sha256, r.rows, r.imported_by,
                                    r.imported_at) for r in service.imports(session, request.user)]
