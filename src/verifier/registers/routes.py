"""HTTP routes: other agencies' registers (import, list, what an import changes, its confirmation by a second county
reviewer or its decline), a case's findings and their answers, the feed calendar and the counts."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, Parameter, QueryParameter

from ..accounts.auth import Principal
from ..cases.workflow import load_case
from ..domain.errors import FieldError, ValidationFailed
from ..domain.money import format_yuan
from ..http import Ctx, JSONBody, MultipartBody, get, post
from ..idempotency import idempotent, replayed
from ..uploads import check_size, size_of
from . import confirmation, feeds, service
from .models import RegisterFinding

Id = Annotated[str, Parameter(max_length=40)]
FINDING_READERS = service.FINDING_READERS


class RegisterImportOut(msgspec.Struct):
    import_id: str
    kind: str
    rows: int
    repeated: bool = False
    status: str = "pending"  # consulted only once another county reviewer confirms it


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
    status: str = "confirmed"  # pending (a proposal, consulted by nobody), confirmed or declined
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None
    declined_by: str | None = None
    declined_at: datetime | None = None


def import_row(r: Any) -> RegisterImportRow:
    return RegisterImportRow(r.id, r.county_code, r.kind, r.bureau, r.as_of, r.valid_until, r.filename,
                             r.file_sha256, r.rows, r.imported_by, r.imported_at, r.status, r.confirmed_by,
                             r.confirmed_at, r.declined_by, r.declined_at)


class RegisterChange(msgspec.Struct):
    """A pending import against the version in force of its kind and bureau (`replaces`; null: none): what the
    confirmer sees first, and sends back as `replaces` to confirm."""

    import_id: str
    status: str
    replaces: str | None
    rows_added: int
    rows_removed: int
    people_removed: int
    households_clearing: int  # the county's households a member of which a removed row named
    households: list[str]
    may_confirm: bool
    refusal: str | None = None
    # whether the caller may decline it, and why not (`confirmation.may_decline`, the rule `decline` refuses by: the
    # importer of the version in force it would replace, and accounts linked to theirs by a password, may not)
    may_decline: bool = False
    decline_refusal: str | None = None


class ConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    replaces: str | None  # the version in force the change was seen against (required: null when there was none)


class DeclineIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


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
        return RegisterImportOut(result.import_id, result.kind, result.rows, result.repeated, result.status)

    @get("/imports", opt={"roles": service.READ_ROLES})
    def list_imports(self, ctx: Ctx, request: Request[Principal, Any, Any]) -> list[RegisterImportRow]:
        """The register imports of the caller's counties, newest first, with their status."""
        with ctx.db.read() as session:
            return [import_row(r) for r in service.imports(session, request.user)]

    @get("/imports/{import_id:str}/change", opt={"roles": service.IMPORT_ROLES})
    def change(self, import_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> RegisterChange:
        """What confirming a pending import changes against the version in force; and whether the caller may confirm
        it, or decline it (each with why not, in Chinese)."""
        with ctx.db.read() as session:
            seen = confirmation.review(session, import_id, request.user, ctx.clock.today())
        c, row = seen.change, seen.subject
        return RegisterChange(row.id, row.status, seen.base.id if seen.base is not None else None,
                              c.rows_added if c else 0, c.rows_removed if c else 0, c.people_removed if c else 0,
                              c.households_clearing if c else 0, list(c.households) if c else [],
                              seen.may_decide and seen.refusal is None and not seen.older,
                              seen.refusal or (confirmation.OLDER_THAN_CURRENT.format(id=seen.base.id)
                                               if seen.older and seen.base is not None else None),
                              seen.may_decide and seen.decline_refusal is None, seen.decline_refusal)

    @post("/imports/{import_id:str}/confirm", opt={"roles": service.CONFIRM_ROLES}, status_code=200)
    def confirm(self, import_id: Id, data: JSONBody[ConfirmIn], ctx: Ctx,
                request: Request[Principal, Any, Any]) -> Response[Any]:
        """`{"replaces": <the version in force seen, or null>}`: the proposal comes in force. 403 for its importer and
        an account linked to theirs by a password; 409 when already decided or the version in force changed."""
        replay = replayed(ctx.db, request, body=data)  # a repeat of an answered confirm: its answer, not counted again
        if replay is not None:
            return replay
        change = confirmation.compare(ctx.db, import_id, request.user, ctx.clock)  # before the write transaction

        def run(session: Any) -> RegisterImportRow:
            return import_row(confirmation.confirm(session, import_id, principal=request.user, clock=ctx.clock,
                                              change=change, replaces=data.replaces))

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)

    @post("/imports/{import_id:str}/decline", opt={"roles": service.CONFIRM_ROLES}, status_code=200)
    def decline(self, import_id: Id, data: JSONBody[DeclineIn], ctx: Ctx,
                request: Request[Principal, Any, Any]) -> Response[Any]:
        """`{"reason"}`: a pending import is set aside, never in force (by its importer: withdrawn)."""
        def run(session: Any) -> RegisterImportRow:
            return import_row(confirmation.decline(session, import_id, principal=request.user, reason=data.reason,
                                              clock=ctx.clock))

        return idempotent(ctx.db, request, run, body=data, clock=ctx.clock)

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
