"""A notice's posting on the wall (公示张贴): its photos uploaded, and its confirmation by a second person.

The notice's page (web/clerk.py `render_notice`) shows the section; these routes take what it sends. A photo is
uploaded by a clerk, the county reviewer or the insurer's field staff; the confirmation by someone who neither
posted the notice, nor recorded a village review of its households, nor decided them for the insurer (checked,
scheduled, sent back or confirmed the determination); without a photo of the period, by the county reviewer only,
saying how (notices/posting.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.datastructures import UploadFile
from litestar.params import MultipartBody, Parameter, URLEncodedBody

from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..http import Ctx, get, post
from ..notices import posting
from .clerk import render_notice
from .common import ANY, Req, clean, confirmed, form_state, see_other

Id = Annotated[str, Parameter(max_length=40)]
WHO = {"roles": posting.CONFIRMERS}


class NoticePostingPages(Controller):
    path = "/notices/{notice_id:str}/posting"

    @post("/photos", opt=WHO, status_code=303)
    def upload(self, notice_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        sent = data.get("photo")
        uploads = [u for u in (sent if isinstance(sent, list) else [sent]) if isinstance(u, UploadFile) and u.filename]
        try:
            if not uploads:
                raise ValidationFailed.one("photo", "请选择公示张贴的照片")
            accepted = [posting.accept(u.file.read(ctx.settings.max_upload_bytes + 1), u.content_type,
                                       evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                       max_bytes=ctx.settings.max_upload_bytes, field="photo")
                        for u in uploads]  # every photo checked before any is written
            with ctx.db.begin() as session:
                for upload in accepted:
                    posting.upload_wall_photo(session, notice_id, upload, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            errors = [FieldError("photo", e.message) for e in exc.errors]
            return render_notice(request, ctx, notice_id, status_code=422,
                                 forms={"posting": form_state({}, ValidationFailed(errors), ("photo", "note"))})
        except (InvalidState, Forbidden) as exc:
            return render_notice(request, ctx, notice_id, status_code=exc.status, message=exc.detail)
        return see_other(f"/notices/{notice_id}#posting", done="wall_photo")

    @post("/confirm", opt=WHO, status_code=303)
    def confirm(self, notice_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        fields = ("photo", "note", "confirm")
        try:
            if not confirmed(data):
                raise ValidationFailed.one("confirm", "确认张贴不能撤回：请先勾选确认框，确认您本人看到公示已张贴")
            with ctx.db.begin() as session:
                posting.confirm_posting(session, notice_id, note=clean(data.get("note")), principal=request.user,
                                        clock=ctx.clock, without_dated_photo=data.get("without_dated_photo") == "yes")
        except ValidationFailed as exc:
            errors = [FieldError("photo" if e.field == "photos" else e.field, e.message) for e in exc.errors]
            return render_notice(request, ctx, notice_id, status_code=422,
                                 forms={"posting": form_state(data, ValidationFailed(errors), fields)})
        except (InvalidState, Forbidden) as exc:
            return render_notice(request, ctx, notice_id, status_code=exc.status, message=exc.detail)
        return see_other(f"/notices/{notice_id}#posting", done="posting_confirmed")

    @get("/photos/{sha256:str}", opt=ANY)
    def photo(self, notice_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")], ctx: Ctx,
              request: Req) -> Any:
        return posting.file_response(ctx, request.user, sha256, notice_id=notice_id)
