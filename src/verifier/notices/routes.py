"""HTTP routes: village reviews, public notices (JSON, the posted .docx, an HTML preview), objections, closing."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

import hashlib

from litestar import Controller, Request, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, MultipartBody, Parameter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..documents.notice import CAUSE_LABELS
from ..documents.notice_preview import render_notice_html
from ..domain.errors import ValidationFailed
from ..domain.money import format_yuan
from ..http import DOCX, Ctx, JSONBody, get, post
from ..idempotency import idempotent
from ..store import contracts as contract_store
from ..store.tables import Case
from . import posting, service
from .models import Notice, Objection
from .schemas import (
    LeftOutOut,
    NoticeBrief,
    NoticeIn,
    NoticeItemOut,
    NoticeOut,
    NoticePage,
    ObjectionIn,
    ObjectionOut,
    PostingConfirmationIn,
    PostingOut,
    ResolutionIn,
    ReviewIn,
    ReviewOut,
    WallPhotoOut,
)

Id = Annotated[str, Parameter(max_length=40)]
CLERK = {"roles": ("town_clerk",)}
ANY = {"roles": "any"}


def _brief_fields(notice: Notice, open_objections: int, today: date) -> dict[str, Any]:
    return {
        "id": notice.id, "county_code": notice.county_code, "town": notice.town, "village": notice.village,
        "scope": notice.scope, "contract_id": notice.contract_id, "title": notice.title, "posted_on": notice.posted_on,
        "ends_on": notice.ends_on, "status": notice.status, "period_over": today >= notice.ends_on,
        "households": notice.households, "persons": notice.persons, "total": format_yuan(notice.total),
        "document_sha256": notice.document_sha256, "posted_by": notice.posted_by, "posted_at": notice.posted_at,
        "closed_on": notice.closed_on, "open_objections": open_objections,
    }


def objection_out(o: Objection, case_status: str | None = None) -> ObjectionOut:
    return ObjectionOut(id=o.id, notice_id=o.notice_id, case_id=o.case_id, received_on=o.received_on, summary=o.summary,
                        status=o.status, recorded_by=o.recorded_by, recorded_at=o.recorded_at,
                        resolution_note=o.resolution_note, resolved_by=o.resolved_by, resolved_at=o.resolved_at,
                        case_status=case_status, raised_by=o.raised_by, received_via=o.received_via,
                        resolved_on=o.resolved_on)


def notice_out(session: Session, notice: Notice, today: date) -> NoticeOut:
    objections = service.objections_of(session, notice.id)
    case_ids = {i.case_id for i in notice.items}
    cause_names = contract_store.get_contract(session, notice.contract_id).cause_table.cause_names()
    statuses = dict(session.execute(select(Case.id, Case.status).where(Case.id.in_(case_ids))).tuples().all())
    return NoticeOut(
        **_brief_fields(notice, sum(o.status == "open" for o in objections), today),
        issuing_body=notice.issuing_body, objection_place=notice.objection_place,
        objection_phone=notice.objection_phone, number=notice.number, mask_names=notice.mask_names,
        items=[NoticeItemOut(id=i.id, seq=i.seq, case_id=i.case_id, village=i.village, head_name=i.head_name,
                             household_size=i.household_size, cause=i.cause,
                             cause_label=cause_names.get(i.cause) or CAUSE_LABELS.get(i.cause, i.cause),
                             relief_amount=format_yuan(i.relief_amount), status=i.status)
               for i in notice.items],
        objections=[objection_out(o, statuses.get(o.case_id)) for o in objections],
        posting=posting_out(session, notice),
    )


def posting_out(session: Session, notice: Notice) -> PostingOut:
    state = posting.posting_state(session, notice)
    return PostingOut(**{**state, "photos": [WallPhotoOut(**p) for p in state["photos"]]})


def _item_case_status(session: Session, o: Objection) -> str | None:
    return session.scalar(select(Case.status).where(Case.id == o.case_id))


class VillageReviewController(Controller):
    path = "/api/cases/{case_id:str}"
    tags = ("notices",)

    @post("/village-review", opt={"roles": service.REVIEW_FAIL_CONFIRMERS}, status_code=201)
    def village_review(self, case_id: Id, data: JSONBody[ReviewIn], ctx: Ctx,
                       request: Request[Principal, Any, Any]) -> Response[ReviewOut]:
        def run(session: Session) -> ReviewOut:
            review, case = service.record_review(session, case_id, held_on=data.held_on, result=data.result,
                                                 note=data.note, principal=request.user, clock=ctx.clock)
            return ReviewOut(id=review.id, case_id=case.id, held_on=review.held_on, result=review.result,
                             note=review.note, case_status=case.status, closed_reason=case.closed_reason,
                             recorded_by=review.recorded_by, recorded_at=review.recorded_at,
                             awaiting_second_person=case.review_fail_proposed_by is not None)

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)


class NoticeController(Controller):
    path = "/api/notices"
    tags = ("notices",)

    @post("/", opt=CLERK, status_code=201)
    def post_notice(self, data: JSONBody[NoticeIn], ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[NoticeOut]:
        req = service.NoticeRequest(
            county_code=data.county_code, town=data.town, village=data.village, posted_on=data.posted_on,
            contract_id=data.contract_id, issuing_body=data.issuing_body, objection_place=data.objection_place,
            objection_phone=data.objection_phone, number=data.number)
        def run(session: Session) -> NoticeOut:
            posted = service.posted_notice(session, req, principal=request.user, clock=ctx.clock)
            out = notice_out(session, posted.notice, ctx.clock.today())
            out.left_out = [LeftOutOut(case_id=c, reason=service.LEFT_OUT) for c in posted.left_out]
            return out

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @get("/", opt=ANY)
    def list_notices(
        self, ctx: Ctx, request: Request[Principal, Any, Any], county_code: FromQuery[str | None] = None,
        status: FromQuery[Literal["open", "closed"] | None] = None, town: FromQuery[str | None] = None, village: FromQuery[str | None] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> NoticePage:
        with ctx.db.read() as session:
            notices = service.list_notices(session, request.user, county_code=county_code, status=status, town=town,
                                           village=village, limit=limit)
            ids = [n.id for n in notices]
            pending = dict(session.execute(
                select(Objection.notice_id, func.count()).where(Objection.notice_id.in_(ids), Objection.status == "open")
                .group_by(Objection.notice_id)).tuples().all()) if ids else {}
            today = ctx.clock.today()
            return NoticePage(items=[NoticeBrief(**_brief_fields(n, pending.get(n.id, 0), today)) for n in notices])

    @get("/{notice_id:str}", opt=ANY)
    def get_notice(self, notice_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> NoticeOut:
        with ctx.db.read() as session:
            notice = service.load_notice(session, notice_id, request.user)
            return notice_out(session, notice, ctx.clock.today())

    @get("/{notice_id:str}/document", opt=ANY, media_type=DOCX)
    def document(self, notice_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[bytes]:
        """The .docx exactly as rendered when the notice was posted (its SHA-256 is in the notice)."""
        with ctx.db.read() as session:
            notice = service.load_notice(session, notice_id, request.user)
            content, title, sha = notice.document, notice.title, notice.document_sha256
        disposition = f"attachment; filename=\"notice-{notice_id}.docx\"; filename*=UTF-8''{quote(title + '.docx')}"
        return Response(content=content, media_type=DOCX,
                        headers={"Content-Disposition": disposition, "ETag": f'"{sha}"'})

    @get("/{notice_id:str}/preview", opt=ANY, media_type="text/html")
    def preview(self, notice_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[str]:
        with ctx.db.read() as session:
            notice = service.load_notice(session, notice_id, request.user)
            html = render_notice_html(service.notice_document(notice))
        return Response(content=html, media_type="text/html")

    @post("/{notice_id:str}/objections", opt=CLERK, status_code=201)
    def record_objection(self, notice_id: Id, data: JSONBody[ObjectionIn], ctx: Ctx,
                         request: Request[Principal, Any, Any]) -> Response[ObjectionOut]:
        def run(session: Session) -> ObjectionOut:
            o = service.record_objection(session, notice_id, case_id=data.case_id, received_on=data.received_on,
                                         summary=data.summary, principal=request.user, clock=ctx.clock,
                                         raised_by=data.raised_by, received_via=data.received_via)
            return objection_out(o, _item_case_status(session, o))

        return idempotent(ctx.db, request, run, body=data, status_code=201, clock=ctx.clock)

    @post("/{notice_id:str}/photos", opt={"roles": posting.CONFIRMERS}, status_code=201)
    def upload_photo(self, notice_id: Id, ctx: Ctx, request: Request[Principal, Any, Any],
                     data: MultipartBody[dict[str, UploadFile]]) -> Response[WallPhotoOut]:
        """A photo of the notice on the wall (multipart field `file`); its camera capture time is read."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise ValidationFailed.one("file", "请以 multipart 表单字段 file 上传公示照片")
        content = upload.file.read(ctx.settings.max_upload_bytes + 1)

        def run(session: Session) -> WallPhotoOut:
            sealed = posting.accept(content, upload.content_type, evidence_dir=ctx.settings.evidence_dir,
                                    vault=ctx.vault, max_bytes=ctx.settings.max_upload_bytes)
            row = posting.upload_wall_photo(session, notice_id, sealed, principal=request.user, clock=ctx.clock)
            notice = service.load_notice(session, notice_id, request.user)
            return WallPhotoOut(sha256=row.sha256, content_type=row.content_type, captured_at=row.captured_at,
                                taken_on=posting.taken_on(row.captured_at), in_period=posting.in_period(notice, row),
                                standing=posting.standing(notice, row.captured_at, row.uploaded_at),
                                uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at)

        sent = {"file_sha256": hashlib.sha256(content).hexdigest(), "content_type": upload.content_type or ""}
        return idempotent(ctx.db, request, run, body=sent, status_code=201, clock=ctx.clock)

    @get("/{notice_id:str}/photos/{sha256:str}", opt=ANY)
    def photo(self, notice_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")], ctx: Ctx,
              request: Request[Principal, Any, Any]) -> Response[bytes]:
        return posting.file_response(ctx, request.user, sha256, notice_id=notice_id)

    @post("/{notice_id:str}/posting-confirmation", opt={"roles": posting.CONFIRMERS}, status_code=200)
    def confirm_posting(self, notice_id: Id, data: JSONBody[PostingConfirmationIn], ctx: Ctx,
                        request: Request[Principal, Any, Any]) -> Response[NoticeOut]:
        """A second person confirms the notice was posted on the wall: until then its cases are paid by no batch."""
        def run(session: Session) -> NoticeOut:
            notice = posting.confirm_posting(session, notice_id, note=data.note, principal=request.user,
                                             clock=ctx.clock, without_dated_photo=data.without_dated_photo)
            return notice_out(session, notice, ctx.clock.today())

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

    @post("/{notice_id:str}/close", opt=CLERK, status_code=200)
    def close(self, notice_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> Response[NoticeOut]:
        def run(session: Session) -> NoticeOut:
            notice = service.close_notice(session, notice_id, principal=request.user, clock=ctx.clock)
            return notice_out(session, notice, ctx.clock.today())

        return idempotent(ctx.db, request, run, body=None, status_code=200, clock=ctx.clock)


class ObjectionController(Controller):
    path = "/api/objections"
    tags = ("notices",)

    @get("/{objection_id:str}", opt=ANY)
    def get_objection(self, objection_id: Id, ctx: Ctx, request: Request[Principal, Any, Any]) -> ObjectionOut:
        with ctx.db.read() as session:
            o, _ = service.load_objection(session, objection_id, request.user)
            return objection_out(o, _item_case_status(session, o))

    @post("/{objection_id:str}/resolution", opt={"roles": service.RESOLVE_ROLES}, status_code=200)
    def resolve(self, objection_id: Id, data: JSONBody[ResolutionIn], ctx: Ctx,
                request: Request[Principal, Any, Any]) -> Response[ObjectionOut]:
        def run(session: Session) -> ObjectionOut:
            o = service.resolve_objection(session, objection_id, outcome=data.outcome, note=data.note,
                                          principal=request.user, clock=ctx.clock, resolved_on=data.resolved_on)
            return objection_out(o, _item_case_status(session, o))

        return idempotent(ctx.db, request, run, body=data, status_code=200, clock=ctx.clock)

ROUTES: list[Any] = [VillageReviewController, NoticeController, ObjectionController]
