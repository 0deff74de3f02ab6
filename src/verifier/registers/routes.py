"""HTTP routes: other agencies' registers (import, list), a case's findings and their answers, the feed calendar
and the counts."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, Parameter, QueryParameter

from ..accounts.auth import Principal
from ..cases.workflow import load_case
from ..domain.errors import FieldError, ValidationFailed
from ..domain.money import format_yuan
from ..http import Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent
from ..uploads import check_size, size_of
from . import feeds, service
from .models import RegisterFinding

Id = Annotated[str, Parameter(max_length=40)]
FINDING_READERS = service.FINDING_READERS


class RegisterImportOut(msgspec.Struct):
    import_id: str
    kind: str
    rows: int
    repeated: bool = False


class RegisterImportRow(msgspec.Struct):
    import_id: str
    county_code: str
    kind: str
    bureau: str
    as_of: date
    valid_until: date
    filename: str
    file_sha256: str
    rows: int
    imported_by: str
    imported_at: datetime


class FindingOut(msgspec.Struct):
    id: str
    case_id: str
    check_id: str
    member_name: str
    kind: str
    source: str
    effect: str
    import_id: str | None
    fact: dict[str, Any]
    status: str
    found_at: datetime
    note: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None


class AnswerIn(msgspec.Struct):
    outcome: str
    note: str = ""


def finding_out(f: RegisterFinding) -> FindingOut:
    fact = {k: (format_yuan(v) if k in ("amount", "settled", "recorded") and isinstance(v, int) else v)
            for k, v in f.fact.items()}
    return FindingOut(f.id, f.case_id, f.check_id, f.member_name, f.kind, f.source, f.effect, f.import_id, fact,
                      f.status, f.found_at, f.note, f.answered_by, f.answered_at)


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ValidationFailed([FieldError(field, f"日期格式为 YYYY-MM-DD，收到 {text!r}")]) from None


class RegisterController(Controller):
    path = "/api/registers"
    tags = ["registers"]

    @post("/imports", opt={"roles": service.IMPORT_ROLES}, status_code=201)
    def import_file(self, ctx: Ctx, request: Request[Principal, Any, Any],
                    data: MultipartBody[dict[str, Any]]) -> RegisterImportOut:
        """A bureau's register (csv or xlsx, a row per person and fact), all or nothing; the same file again changes
        nothing (`repeated`). Fields: file, kind, county_code, and optionally bureau, as_of, valid_until."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 字段 file 上传名单文件")
        check_size(size_of(upload.file), ctx.settings.imports)
        content = upload.file.read()
        result = service.import_register(
            ctx.db, vault=ctx.vault, data=content, filename=upload.filename or "register",
            kind=str(data.get("kind") or ""), county_code=str(data.get("county_code") or ""),
            bureau=str(data.get("bureau") or ""), as_of=_day(data.get("as_of"), "as_of"),
            valid_until=_day(data.get("valid_until"), "valid_until"), principal=request.user, clock=ctx.clock,
            limits=ctx.settings.imports)
        return RegisterImportOut(result.import_id, result.kind, result.rows, result.repeated)

    @get("/imports", opt={"roles": service.READ_ROLES})
    def list_imports(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[RegisterImportRow]:
        """The register imports of the caller's counties, newest first."""
        with ctx.db.read() as session:
            return [RegisterImportRow(r.id, r.county_code, r.kind, r.bureau, r.as_of, r.valid_until, r.filename,
                                      r.file_sha256, r.rows, r.imported_by, r.imported_at)
                    for r in service.imports(session, request.user)]

    @get("/feeds", opt={"roles": service.READ_ROLES})
    def feed_calendar(self, ctx: Ctx, request: Request[Principal, Any, Any],
                      county_code: Annotated[str, QueryParameter(pattern=r"^\d{6}$")],
                      month: Annotated[str | None, QueryParameter(pattern=r"^\d{4}-\d{2}$")] = None) -> list[dict[str, Any]]:
        """The lists due to the county in a month (YYYY-MM, default this month): arrived, late, overdue or due."""
        request.user.require_county(county_code, "county")
        on = _day(f"{month}-01", "month") if month else ctx.clock.today()
        assert on is not None
        with ctx.db.read() as session:
            return [{"source": f.source, "kind": f.kind, "due_on": f.due_on.isoformat(),
                     "arrived_on": f.arrived_on.isoformat() if f.arrived_on else None, "imports": f.imports,
                     "status": f.status} for f in feeds.feed_calendar(session, county_code, on, ctx.clock.today())]

    @get("/counts", opt={"roles": service.READ_ROLES})
    def counts(self, ctx: Ctx, request: Request[Principal, Any, Any],
               county_code: Annotated[str, QueryParameter(pattern=r"^\d{6}$")],
               from_: Annotated[str, QueryParameter(name="from")], to: FromQuery[str]) -> dict[str, int]:
        """Comparisons made, hits, exclusions and explanations between two days."""
        request.user.require_county(county_code, "county")
        start, end = _day(from_, "from"), _day(to, "to")
        assert start is not None and end is not None
        with ctx.db.read() as session:
            return dataclasses.asdict(service.register_counts(session, county_code, start, end))


class FindingController(Controller):
    path = "/api"
    tags = ["registers"]

    @get("/cases/{case_id:str}/findings", opt={"roles": FINDING_READERS})
    def case_findings(self, case_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[FindingOut]:
        """Every register finding of the case (and the officer's inconsistent cross-checks), newest check first."""
        with ctx.db.read() as session:
            load_case(session, case_id, request.user)
            return [finding_out(f) for f in service.case_findings(session, case_id)]

    @post("/findings/{finding_id:str}/answer", opt={"roles": service.ANSWER_ROLES}, status_code=200)
    def answer(self, finding_id: Id, data: JSONBody[AnswerIn], ctx: Ctx,
               request: Request[Principal, Any, Any]) -> Any:
        """`{"outcome": "explained"|"upheld", "note"}`: by a supervisor who did not make or record the check."""
        def run(session: Any) -> FindingOut:
            return finding_out(service.answer_finding(session, finding_id, outcome=data.outcome, note=data.note,
                                                      principal=request.user, clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)
