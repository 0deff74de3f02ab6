"""The household file page (一户一档, `/households/{id}`), its two downloads (.docx to print, xlsx for data; each
logged as an export) and the county reviewer's risk-removed form (风险消除)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from litestar import Controller, Response
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template

from ..audit import service as audit_service
from ..documents.sheets import XLSX, attachment
from ..domain import risk as risk_rules
from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..households import risk
from ..households.file import household_file, record_export
from ..http import DOCX, Ctx, get, post
from ..peeks import listing as look_list
from ..peeks import record as peeks
from . import household_file as present
from .common import ANY, FormState, Req, clean, folded, form_state, page, parse_day, see_other

Id = Annotated[str, Parameter(max_length=40)]
MARKERS = {"roles": risk.MARKERS}
ASKERS = {"roles": peeks.PHONE_ASKERS}  # the officers at the door see it without asking
REMOVE_FIELDS = ("evidence_kind", "months", "evidence_on", "note")
REVOKE_FIELDS = ("revoked_on", "reason")


def render(request: Req, ctx: Any, household_id: str, *, status_code: int = 200,
           forms: dict[str, FormState] | None = None, message: str | None = None, phone: bool = False,
           stands_as: str | None = None) -> Template:
    """The file, its look recorded (查阅留痕) in a short write after the read (when it cannot be, nothing is served);
    `phone`: an insurer supervisor asked for the phone in full (显示完整号码), recorded too when the household has one.
    The looks at the household for its auditors and county reviewers, read after the record (the newest one shown)."""
    user = request.user
    asked = phone and user.has(*peeks.PHONE_ASKERS)
    with ctx.db.read() as session:
        file = household_file(session, household_id, user, ctx.vault, phone_asked=asked)
        h = file.household
        at_door = peeks.at_the_door_of(session, user, h.id)
    if not at_door:
        with ctx.db.begin() as session:
            if asked:
                peeks.phone_asked(session, user, household_id=h.id, county_code=h.county_code, at_door=at_door,
                                  route="page", clock=ctx.clock, shown=bool(h.phone))
            peeks.record(session, user, kind="household_file", route="page", household_id=h.id,
                         county_code=h.county_code, clock=ctx.clock)
    looks = None
    if user.has(*look_list.READERS):
        with ctx.db.read() as session:
            looks = look_list.of_household(session, user, h.id)
    sections = [(s, present.cells(s, file.names)) for s in file.sections]
    return page(request, "household.html", status_code=status_code, file=file, sections=sections,
                facts=present.facts(file), title=present.title(file), timeline=present.timeline_rows(file),
                audit_links=user.has(*audit_service.READERS), marks=user.has(*risk.MARKERS),
                evidence_kinds=list(risk_rules.EVIDENCE_KINDS.items()), forms=forms or {}, message=message,
                today=ctx.clock.today(), looks=looks, may_ask_phone=user.has(*peeks.PHONE_ASKERS),
                **({"form_page": stands_as} if stands_as else {}))


def _export(ctx: Any, request: Req, household_id: str, fmt: str) -> Response[bytes]:
    user = request.user
    with ctx.db.read() as session:
        file = household_file(session, household_id, user, ctx.vault, masked=True)
    if fmt == "docx":
        content, media = present.docx(file, printed_by=user.display_name, today=ctx.clock.today()), DOCX
    else:
        content, media = present.xlsx(file), XLSX
    with ctx.db.begin() as session:
        record_export(session, household_id, fmt=fmt, sha256=hashlib.sha256(content).hexdigest(), principal=user,
                      clock=ctx.clock)
        peeks.household_file(session, user, file.household.id, file.household.county_code, route="page",
                             clock=ctx.clock, export=True)
    name = f"一户一档-{file.household.head_name}.{fmt}"
    return Response(content=content, media_type=media,
                    headers={**attachment(f"household.{fmt}", name), "Cache-Control": "no-store"})


class HouseholdPages(Controller):
    path = "/households"

    @get("/{household_id:str}", opt=ANY)
    def show(self, household_id: Id, ctx: Ctx, request: Req) -> Template:
        return render(request, ctx, household_id)

    @post("/{household_id:str}/phone", opt=ASKERS, status_code=200)
    def phone(self, household_id: Id, ctx: Ctx, request: Req) -> Template:
        """An insurer supervisor's ask for the phone in full (显示完整号码, recorded): a POST, so that no link, prefetch
        or shared address shows it, and nobody can say it was shown without asking. The page stands in the history
        as the household file's own address (a reload shows it masked again)."""
        return render(request, ctx, household_id, phone=True, stands_as=f"/households/{household_id}")

    @get("/{household_id:str}/file.docx", opt=ANY)
    def docx(self, household_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        return _export(ctx, request, household_id, "docx")

    @get("/{household_id:str}/file.xlsx", opt=ANY)
    def xlsx(self, household_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        return _export(ctx, request, household_id, "xlsx")

    @post("/{household_id:str}/risk-status", opt=MARKERS, status_code=303)
    def risk_status(self, household_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        action = clean(data.get("action"))
        form, fields = ("remove", REMOVE_FIELDS) if action == "remove" else ("revoke", REVOKE_FIELDS)
        problems: list[FieldError] = []
        try:
            with ctx.db.begin() as session:
                if action == "remove":
                    on = parse_day(data.get("evidence_on"), "evidence_on", problems)
                    months_text = folded(data.get("months"))  # １２ from a full-width input method
                    months = None
                    if months_text:
                        if months_text.isdigit() and len(months_text) <= 3:
                            months = int(months_text)
                        else:
                            problems.append(FieldError("months", "连续月数应为整数"))
                    if problems:
                        raise ValidationFailed(problems)
                    risk.mark_removed(session, household_id, risk.Removal(
                        evidence_kind=clean(data.get("evidence_kind")), evidence_on=on,
                        note=str(data.get("note") or ""), months=months), principal=request.user, clock=ctx.clock)
                elif action == "revoke":
                    on = parse_day(data.get("revoked_on"), "revoked_on", problems)
                    if problems:
                        raise ValidationFailed(problems)
                    risk.revoke(session, household_id, on=on, reason=str(data.get("reason") or ""),
                                principal=request.user, clock=ctx.clock)
                else:
                    raise ValidationFailed.one("action", "请选择标记风险消除或撤销标记")
        except ValidationFailed as exc:
            renamed = ValidationFailed([FieldError("reason", e.message) if form == "revoke" and e.field == "note"
                                        else e for e in exc.errors])
            return render(request, ctx, household_id, status_code=422,
                          forms={form: form_state(data, renamed, fields)})
        except InvalidState as exc:
            return render(request, ctx, household_id, status_code=409, message=exc.detail)
        return see_other(f"/households/{household_id}", done="risk_removed" if action == "remove" else "risk_restored")
