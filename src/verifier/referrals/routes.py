"""HTTP routes: referral files from bureaus and single applications entered by town clerks."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from sqlalchemy.orm import Session

from ..accounts.probes import Limit
from ..accounts.auth import Principal
from ..domain.errors import ValidationFailed
from ..http import Ctx, JSONBody, MultipartBody, post
from ..idempotency import idempotent
from ..uploads import check_size, size_of
from . import service


class ImportOut(msgspec.Struct):
    batch_id: str
    rows: int
    new_cases: int
    merged: int
    repeated: bool = False
    left_out: int = 0  # rows left for another staff member to import (回避), not named


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    county_code: Annotated[str, msgspec.Meta(max_length=6)]
    id_number: Annotated[str, msgspec.Meta(max_length=20)]
    name: Annotated[str, msgspec.Meta(max_length=100)]
    town: Annotated[str, msgspec.Meta(max_length=100)]
    village: Annotated[str, msgspec.Meta(max_length=100)]
    household_group: Annotated[str, msgspec.Meta(max_length=40)]
    cause: Annotated[str, msgspec.Meta(max_length=20)]
    amount: Annotated[str, msgspec.Meta(max_length=20)]
    referred_on: date | None = None
    household_size: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ApplicationOut(msgspec.Struct):
    case_id: str
    merged: bool


class ReferralController(Controller):
    path = "/api/referrals"
    tags = ["referrals"]

    @post("/imports", opt={"roles": ("county_reviewer", "insurer_supervisor")}, status_code=201)
    def import_file(
        self, ctx: Ctx, request: Request[Principal, Any, Any],
        data: MultipartBody[dict[str, Any]],
    ) -> Response[ImportOut]:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传转介文件")
        channel = str(data.get("channel") or "")
        county_code = str(data.get("county_code") or "")
        check_size(size_of(upload.file), ctx.settings.imports)  # before reading it even once
        file_sha256 = service.sha256_of(upload.file)
        body = {"channel": channel, "county_code": county_code, "file_sha256": file_sha256}

        def write(run: Any) -> Response[bytes]:
            def answer(session: Session) -> ImportOut:
                result = run(session)
                return ImportOut(batch_id=result.batch_id, rows=result.rows, new_cases=result.new_cases,
                                 merged=result.merged, repeated=result.repeated,
                                 left_out=result.left_out)

            return idempotent(ctx.db, request, answer, status_code=201, clock=ctx.clock, body=body)

        # The file is read and checked as a whole before the write transaction opens (see import_referral_file).
        return service.import_referral_file(
            ctx.db, vault=ctx.vault, source=upload.file, filename=upload.filename or "upload", channel=channel,
            county_code=county_code, principal=request.user,
            role=request.user.acting_role(("insurer_supervisor", "county_reviewer")), clock=ctx.clock,
            limits=ctx.settings.imports, write=write, lookups=Limit.of(ctx.settings),
        )

    @post("/", opt={"roles": ("town_clerk",)}, status_code=201)
    def application(self, data: JSONBody[ApplicationIn], ctx: Ctx,
                    request: Request[Principal, Any, Any]) -> Response[ApplicationOut]:
        payload = msgspec.structs.asdict(data)
        payload = {k: v.isoformat() if isinstance(v, date) else v for k, v in payload.items() if v is not None}

        def run(session: Session) -> ApplicationOut:
            result = service.enter_application(session, vault=ctx.vault, payload=payload, principal=request.user,
                                               clock=ctx.clock,
                                               lookups=Limit.of(ctx.settings))
            return ApplicationOut(case_id=result.batch_id, merged=bool(result.merged))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)
