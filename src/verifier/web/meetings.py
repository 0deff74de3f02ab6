"""The town clerk's village review meeting: one form for every household of a village awaiting its review."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, MultipartBody, Parameter, QueryParameter
from litestar.response import Template

from ..domain.errors import FieldError, ValidationFailed
from ..domain.village_meeting import MIN_ATTENDANCE
from ..http import Ctx, get, post
from ..notices import meetings as meeting_service
from ..notices import posting
from ..store.paged import fold_search
from .common import ANY, CLERK, FormState, Req, clean, form_state, page, parse_day, see_other, user_names
from .paging import Pager, page_param
from .typed import typed_count

Id = Annotated[str, Parameter(max_length=40)]
# The clerk's tab (村级评议会) stays marked on the meetings held and on each meeting's page.
CLERKS_TAB = "/meetings/new"
MEETING_FIELDS = ("held_on", "venue", "members_expected", "attendees", "minutes", "minutes_scan")


def _form(request: Req, ctx: Any, county: str, town: str, village: str, state: FormState,
          status_code: int = 200, held: dict[str, str] | None = None, q: str = "") -> Template:
    user = request.user
    with ctx.db.read() as session:
        villages = meeting_service.villages_awaiting(session, user, q=q)
        households = meeting_service.households_awaiting(session, user, county, town, village) if village else []
    return page(request, "meeting_new.html", status_code=status_code, villages=villages, households=households,
                county=county, town=town, village=village, q=q, form=state, today=ctx.clock.today(),
                min_attendance=MIN_ATTENDANCE, held=held)


def _entries(data: dict[str, Any]) -> list[meeting_service.MeetingEntry]:
    entries = []
    for n in range(1, meeting_service.MAX_HOUSEHOLDS + 2):
        case_id = clean(data.get(f"case_{n}"))
        if not case_id:
            break
        entries.append(meeting_service.MeetingEntry(case_id[:40], clean(data.get(f"result_{n}")),
                                                     clean(data.get(f"note_{n}"))))
    return entries


class MeetingPages(Controller):
    path = "/meetings"

    @get("/", opt=ANY)
    def held(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=200)] = "",
             page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        """The meetings held (已召开的评议会), the latest first, searched by town, village or venue."""
        q = fold_search(q)
        with ctx.db.read() as session:
            found = meeting_service.find_meetings(session, request.user, q=q, page=page_param(page_no))
            names = user_names(session, [m.recorded_by for m in found.items])
        return page(request, "meetings.html", active=CLERKS_TAB, meetings=found.items, names=names, q=q,
                    pager=Pager.over("/meetings", {"q": q}, found), clerk=request.user.has("town_clerk"))

    @get("/new", opt=CLERK)
    def new(self, ctx: Ctx, request: Req, county_code: FromQuery[str | None] = None,
            town: FromQuery[str | None] = None, village: FromQuery[str | None] = None,
            q: Annotated[str, Parameter(max_length=200)] = "") -> Template:
        """The villages awaiting their meeting (searched by town, village, a household's head or case number) and the
        chosen village's form."""
        counties = request.user.counties
        county = clean(county_code) or (counties[0] if len(counties) == 1 else "")
        state = FormState(values={"held_on": ctx.clock.today().isoformat()})
        return _form(request, ctx, county, clean(town), clean(village), state, q=fold_search(q))

    @post("/new", opt=CLERK, status_code=303)
    def create(self, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        scan = data.pop("minutes_scan", None)
        data = {k: v for k, v in data.items() if not isinstance(v, (UploadFile, list))}
        county, town, village = (clean(data.get(k)) for k in ("county_code", "town", "village"))
        problems: list[FieldError] = []
        held_on = parse_day(data.get("held_on"), "held_on", problems)
        members = _count(data.get("members_expected"), problems)
        sealed, name = _scan(ctx, request, data, scan, (county, town, village), problems)
        entries = _entries(data)
        fields = MEETING_FIELDS + tuple(f"{k}_{n}" for n in range(1, len(entries) + 1) for k in ("result", "note"))
        try:
            if problems or held_on is None:
                typed = [p for p in meeting_service.typed_problems(
                    clean(data.get("venue")), clean(data.get("attendees")), clean(data.get("minutes")), members,
                    sealed is not None) if p.field not in {q.field for q in problems}]
                raise ValidationFailed(problems + typed)
            request_ = meeting_service.MeetingRequest(
                county_code=county, town=town, village=village, held_on=held_on, venue=clean(data.get("venue")),
                attendees=clean(data.get("attendees")), minutes=clean(data.get("minutes")), entries=entries,
                members_expected=members, minutes_scan=sealed)
            meeting_id, before = meeting_service.record_or_open(ctx.db, request_, principal=request.user,
                                                                clock=ctx.clock)
        except ValidationFailed as exc:
            held = None
            if sealed is not None and not any(e.field == "minutes_scan" for e in exc.errors):
                # kept sealed with no row, offered back as a hidden hash: the clerk does not choose it again
                posting.hold(sealed)
                held = {"sha256": sealed.sha256, "name": name, "token": posting.held_token(
                    ctx.vault, request.user, (county, town, village), sealed.sha256)}
            return _form(request, ctx, county, town, village, form_state(data, exc, fields), status_code=422,
                         held=held, q=fold_search(clean(data.get("q"))))
        return see_other(f"/meetings/{meeting_id}", done="meeting_already" if before else "meeting")

    @get("/{meeting_id:str}", opt=ANY)
    def show(self, meeting_id: Id, ctx: Ctx, request: Req) -> Template:
        with ctx.db.read() as session:
            meeting = meeting_service.load_meeting(session, meeting_id, request.user)
            reviews = meeting_service.meeting_reviews(session, meeting.id)
            heads = {case.id: case.household.head_name for _, case in reviews}
            names = user_names(session, [meeting.recorded_by])
            scan = meeting_service.minutes_of(session, meeting)
        return page(request, "meeting.html", active=CLERKS_TAB, meeting=meeting, reviews=reviews, heads=heads, names=names, scan=scan)

    @get("/{meeting_id:str}/minutes/{sha256:str}", opt=ANY)
    def minutes_scan(self, meeting_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")], ctx: Ctx,
                     request: Req) -> Any:
        return posting.file_response(ctx, request.user, sha256, meeting_id=meeting_id)


def _count(value: Any, problems: list[FieldError]) -> int | None:
    """The body's size as typed, full-width digits read (empty is left to the service, which names it missing)."""
    text = typed_count(value)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        problems.append(FieldError("members_expected", "应到人数须为整数"))
        return None
    return int(text)


def _scan(ctx: Any, request: Req, data: dict[str, Any], scan: Any, place: tuple[str, str, str],
          problems: list[FieldError]) -> tuple[posting.Upload | None, str]:
    """The signed minutes sent with the form, else the one kept from a refused send (its hidden hash and token);
    accepted here, written with the meeting's row only once it is recorded (posting.Upload). With its file name."""
    limits = {"evidence_dir": ctx.settings.evidence_dir, "vault": ctx.vault,
              "max_bytes": ctx.settings.max_upload_bytes}
    try:
        if isinstance(scan, UploadFile) and scan.filename:
            content = scan.file.read(ctx.settings.max_upload_bytes + 1)
            return (posting.accept(content, scan.content_type, field="minutes_scan", **limits),
                    clean(scan.filename)[:100])
        held = clean(data.get("minutes_scan_sha256"))
        if held:
            return (posting.reopen_held(held, clean(data.get("minutes_scan_token")), principal=request.user,
                                        place=place, **limits), clean(data.get("minutes_scan_name"))[:100])
    except ValidationFailed as exc:
        problems += exc.errors
    return None, ""
