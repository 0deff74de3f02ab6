"""The insurer supervisor's pages: scheduling a case by hand, the planner (preview, then apply), confirming a
determination after seeing it computed, and importing a bureau's referral file (shared with the county reviewer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from urllib.parse import quote

from litestar import Controller, Response
from litestar.params import MultipartBody, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Template

from ..accounts.probes import Limit
from ..cases import service as case_service
from ..cases.present import recorded_days_after
from ..cases.workflow import load_case
from ..checks import attempts, on_record
from ..checks import bills as check_bills
from ..checks import service as check_service
from ..domain import late_entry, objection_recheck, photo_times
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..payments import one_account
from ..registers import service as register_service
from ..store.paged import fold_search
from ..http import Ctx, get, post
from ..payments import payees
from ..referrals import service as referral_service
from ..referrals import template as import_template
from ..referrals import waiting as referral_waiting
from .common import (
    IMPORTERS,
    SUPERVISOR,
    FormState,
    Req,
    clean,
    confirmed,
    folded,
    counties_of,
    form_state,
    import_file,
    import_outcome,
    import_refused,
    page,
    parse_day,
    see_other,
    user_names,
)
from . import paging
from .labels import CHANNELS, REASSIGN_NOTES, REASSIGNS, RECHECK_BARS, RECHECK_HEADLINES, message_zh
from .paging import Pager, page_param

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Id = Annotated[str, Parameter(max_length=40)]
SCHEDULE_FIELDS = ("officer_1", "officer_2", "vehicle", "visit_on", "officers", "reason")
IMPORT_DONE = ("referrals_imported", "referrals_repeated")  # what the import page's address says after a file
PLAN_FIELDS = ("county_code", "from", "days", "vehicles")


def _schedule_page(request: Req, ctx: Any, case_id: str, state: FormState, status_code: int = 200) -> Template:
    with ctx.db.read() as session:
        case = load_case(session, case_id, request.user)
        # a supervisor who is also a field officer does not choose himself by hand, nor his second account
        # (cases/service.schedule)
        officers = [(u.id, f"{u.display_name}（{u.username}）")
                    for u in case_service.pickable_officers(session, case.county_code, request.user)]
        visit = case_service.active_visit(session, case.id)
        # a stale visit (its officers stand aside: `stale_visits`): said, and its officers not offered again
        stale = case_service.stale_whys(session, [visit]).get(visit.id) if visit is not None else None
        due = case_service.due_date(session, case)
        head = case.household.head_name
        vehicles = sorted(case_service.vehicles_in_use(session) | set(case_service.default_vehicles(len(officers))))
        if visit is not None and not state.values:
            ids = ["", ""] if stale else list(visit.officer_ids) + ["", ""]
            state.values = {"officer_1": ids[0], "officer_2": ids[1], "vehicle": visit.vehicle or "",
                            "visit_on": visit.visit_on.isoformat()}
        last_time = case_service.last_household_officers(session, [case.id]).get(case.id, frozenset())
        open_ones = case_service.open_household_visits(session, [case.id]).get(case.id, frozenset()) - last_time
        # and the accounts linked to theirs by a password: the same persons, barred alike
        linked_ids = case_service.rotation_links(session, {"": last_time | open_ones},
                                                 {"": [o for o, _ in officers]}).get("", frozenset())
        known = user_names(session, list(last_time | open_ones | linked_ids))
        barred = sorted(known.get(o, o) for o in last_time)
        holding = sorted(known.get(o, o) for o in open_ones)
        rotation_linked = sorted(known.get(o, o) for o in linked_ids)
        # checked again (an upheld objection, a check sent back, a review request): who may not go, and why, said
        # before the supervisor picks (not only once refused); their second accounts too
        objected = case_service.recheck_bars(session, case.id, [o for o, _ in officers])
    shown = [(dict(officers)[o], RECHECK_BARS[why]) for o, why in objected.items()]
    officers = [(o, f"{name}（不能安排：{RECHECK_BARS[objected[o]]}）" if o in objected else name)
                for o, name in officers]
    whys = {why.removeprefix("linked_") for why in objected.values()}
    headline = next((RECHECK_HEADLINES[w] for w in objection_recheck.ORDER if w in whys), "")
    return page(request, "schedule_case.html", status_code=status_code, case=case, head=head, officers=officers,
                visit=visit, due=due, vehicles=vehicles, form=state, today=ctx.clock.today(), barred=barred,
                holding=holding, rotation_linked=rotation_linked, objected=shown, recheck_headline=headline,
                stale_note=REASSIGN_NOTES[stale] if stale else "")


def _plan_page(request: Req, ctx: Any, state: FormState, *, proposal: dict[str, Any] | None = None,
               status_code: int = 200, q: str = "", page_no: int = 1, stands_as: str | None = None) -> Template:
    user = request.user
    q = fold_search(q)
    with ctx.db.read() as session:
        counties = counties_of(session, user)
        listed = case_service.find_waiting(session, user, q=q, page=page_no, page_size=paging.PAGE_SIZE)
        found = listed.found
        due = case_service.due_dates(session, found.items)
        tried = attempts.last_attempts(session, [c.id for c in found.items])
        overdue = case_service.late_visits(session, user, ctx.clock.today())
        who = user_names(session, [o for v, _ in overdue for o in v.officer_ids])
        # a visit held by an officer of the checks in doubt (an old case's, `stale_visits`): to schedule anew
        stale = case_service.stale_visits(session, [v for v, _ in overdue])
        late = [{"visit": v, "case": c, "head": c.household.head_name, "officers": [who.get(o, o) for o in v.officer_ids],
                 "stale": v.id in stale} for v, c in overdue]
        waiting = [(c, c.household.head_name, due[c.id], tried.get(c.id)) for c in found.items]
        # scheduled on a stale visit, or screened with one still active: others are to be sent (原走访人员须回避)
        reassign = listed.reassign
        # cases back after an upheld objection: the row says so (other officers go; the case's page names who not)
        objected = set(case_service.objected_officers(session, [c.id for c in found.items]))
        rows: list[dict[str, Any]] = []
        unplaced: list[dict[str, Any]] = []
        if proposal is not None:
            ids = [a["case_id"] for a in proposal["assignments"]] + [u["case_id"] for u in proposal["unplaced"]]
            cases = case_service.cases_by_id(session, ids)
            names = user_names(session, [o for a in proposal["assignments"] for o in a["officers"]])
            for a in proposal["assignments"]:
                c = cases[a["case_id"]]
                rows.append({**a, "case": c, "head": c.household.head_name,
                             "officer_names": [names.get(o, o) for o in a["officers"]]})
            for u in proposal["unplaced"]:
                c = cases[u["case_id"]]
                unplaced.append({**u, "case": c, "head": c.household.head_name})
        since = ctx.clock.today() - timedelta(days=case_service.HAND_PICKED_DAYS)
        shares = case_service.hand_picked_shares(session, user, since=since)
        share_names = user_names(session, [s["user_id"] for s in shares])
    return page(request, "schedule.html", status_code=status_code, form=state, counties=counties, waiting=waiting,
                shares=shares, share_names=share_names, share_days=case_service.HAND_PICKED_DAYS,
                proposal=proposal, rows=rows, unplaced=unplaced, today=ctx.clock.today(), q=q, late=late,
                objected=objected, reassign=reassign, reassign_labels=REASSIGNS,
                pager=Pager.over("/schedule", {"q": q}, found),
                **({"form_page": stands_as} if stands_as else {}))


class SchedulePages(Controller):
    path = "/"

    @get("/schedule", opt=SUPERVISOR)
    def planner(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=200)] = "",
                page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        counties = request.user.counties
        state = FormState(values={"county_code": counties[0] if len(counties) == 1 else "",
                                  "from": ctx.clock.today().isoformat(), "days": "10"})
        return _plan_page(request, ctx, state, q=q, page_no=page_param(page_no))

    @post("/schedule/plan", opt=SUPERVISOR, status_code=200)
    def plan(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        problems: list[FieldError] = []
        start = parse_day(data.get("from"), "from", problems)
        days_text = folded(data.get("days")) or "10"
        if not days_text.isdigit():
            problems.append(FieldError("days", f"应为整数（填写的是「{days_text}」）"))
        elif not 1 <= int(days_text) <= 60:  # what the planner says too, told with the day's problem
            problems.append(FieldError("days", "排期天数应在 1 至 60 天之间"))
        county = folded(data.get("county_code"))
        if not county:
            problems.append(FieldError("county_code", "必填"))
        vehicles = [v.strip() for v in folded(data.get("vehicles")).split(",") if v.strip()] or None
        apply = clean(data.get("apply")) == "1"
        try:
            if problems or start is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                result = case_service.plan(session, county_code=county, start=start, days=int(days_text),
                                           vehicles=vehicles, apply=apply, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return _plan_page(request, ctx, form_state(data, exc, PLAN_FIELDS), status_code=422)
        if apply:
            return see_other("/schedule", done="plan")
        # a proposal, nothing saved: in the history as the planner's address (app.js), so Back and Forward load it by
        # GET instead of the browser's 确认重新提交表单 page
        return _plan_page(request, ctx, FormState(values={k: v for k, v in data.items() if isinstance(v, str)}),
                          proposal=result, stands_as="/schedule")

    @get("/cases/{case_id:str}/schedule", opt=SUPERVISOR)
    def schedule_form(self, case_id: Id, ctx: Ctx, request: Req) -> Template:
        return _schedule_page(request, ctx, case_id, FormState())

    @post("/cases/{case_id:str}/schedule", opt=SUPERVISOR, status_code=303)
    def schedule(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        problems: list[FieldError] = []
        visit_on = parse_day(data.get("visit_on"), "visit_on", problems)
        officers = [clean(data.get("officer_1")), clean(data.get("officer_2"))]
        for i, o in enumerate(officers):
            if not o:
                problems.append(FieldError(f"officer_{i + 1}", "必填"))
        vehicle = folded(data.get("vehicle"))
        if not vehicle:
            problems.append(FieldError("vehicle", "请填写车辆"))
        reason = clean(data.get("reason"))
        if problems and not reason:  # told with the form's own gaps (the service says it with its own problems)
            problems.append(FieldError("reason", case_service.REASON_REQUIRED))
        rename = {"officers[0]": "officer_1", "officers[1]": "officer_2"}
        try:
            if problems or visit_on is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                visit = case_service.schedule(session, case_id, officers=officers, visit_on=visit_on, vehicle=vehicle,
                                              principal=request.user, clock=ctx.clock, reason=reason,
                                              reason_required=True)  # the page always asks why
                late = visit.visit_on > visit.due_on
        except ValidationFailed as exc:
            return _schedule_page(request, ctx, case_id, form_state(data, exc, SCHEDULE_FIELDS, rename),
                                  status_code=422)
        except InvalidState as exc:
            state = form_state(data, None, SCHEDULE_FIELDS)
            state.general.append(exc.detail)
            return _schedule_page(request, ctx, case_id, state, status_code=409)
        return see_other(f"/cases/{case_id}", done="scheduled_late" if late else "scheduled")


def _determination_page(request: Req, ctx: Any, case_id: str, *, status_code: int = 200,
                        send_back: FormState | None = None, message: str | None = None) -> Template:
    with ctx.db.begin() as session:  # registers imported since the check are consulted before the preview
        register_service.rematch_case(session, case_id, principal=request.user, clock=ctx.clock)
    with ctx.db.read() as session:
        a = check_service.determine(session, case_id, confirm=False, principal=request.user, clock=ctx.clock)
        check, case = a.check, a.case
        head = case.household.head_name
        view = {
            "eligible": a.eligibility.eligible, "rule": a.eligibility.rule, "reason": a.eligibility.reason,
            "per_capita_income": a.eligibility.per_capita_income, "income_line": a.contract.income_line,
            "basis": a.basis, "members": check.member_count,
            # the members this check added or renamed: confirming puts them on record (checks/on_record.py)
            "typed_members": on_record.typed_by(session, check.id),
            "net_income": check.wages + check.business_net + check.property_net + check.transfer_net
            - check.productive_costs,
            "rigid_total": check.medical_self_paid + check.schooling + check.disaster_loss + (check.other_rigid or 0),
            "rigid_billed": check.medical_self_paid + check.schooling + check.disaster_loss + (check.other_rigid or 0)
            - sum(s.missing for s in a.shortfalls),
            "stable_income": check.stable_income,
            "amount": a.quote.amount if a.quote else 0, "gross": a.quote.gross if a.quote else 0,
            "cap": a.quote.cap if a.quote else None, "capped": bool(a.quote and a.quote.capped),
            "already_paid": a.quote.already_paid if a.quote else 0,
            "breakdown": list(a.quote.breakdown) if a.quote else [],
            "contract_id": a.contract.id,
            "open_findings": sum(f.status == "open" for f in a.findings),
            "answered_findings": sum(f.status != "open" for f in a.findings),
            "bills": check_bills.shown(session, case, check),
            "evidence_elsewhere": check_bills.evidence_elsewhere(session, case, check),
            "unbilled": [s.in_chinese() for s in a.shortfalls], "rests_on_unbilled": a.rests_on_unbilled,
            # recorded long after its visit day: the supervisor sees the gap and the reason before confirming
            "recorded_days_after": recorded_days_after(check),
            "late_entry": late_entry.needs_reason(recorded_days_after(check)),
            "late_entry_days": late_entry.LATE_ENTRY_DAYS,
            # the photos' capture times against the visit day (a warning: a phone's clock can be wrong)
            "photo_findings": [f.in_chinese(check.visited_on, check.recorded_at)
                               for f in check_service.photo_findings(session, check)],
            "photo_caveat": photo_times.CAVEAT,
            # 收款账户为工作人员本人账户 (whose is not said): the batch will hold it until a county reviewer clears it
            "staff_account": payees.staff_warning(session, check.payee_account_index),
            # 收款账户与其他家庭相同: the supervisor asks about a shared payee account before confirming
            "shared_account": one_account.case_warning(session, case.id, request.user, ctx.vault, ctx.clock.today()),
            # why this supervisor may not confirm (said instead of the button): who sent a check back, the check's
            # recorder or an officer of it, or an account linked to theirs by a password (the rule `determine`
            # refuses by)
            "refused": check_service.determiner_refused(session, case, check, request.user),
            # drawn in a county sample whose result is not recorded yet: said instead of the send-back form
            "sampled": check_service.sample_waiting(session, case.id),
        }
    return page(request, "determination.html", status_code=status_code, case=case, head=head, check=check, d=view,
                send_back=send_back or FormState(), message=message)


def _determined_already(ctx: Any, case_id: str, request: Req) -> bool:
    with ctx.db.read() as session:
        return check_service.determined_already(session, case_id, request.user)


class DeterminationPages(Controller):
    path = "/cases/{case_id:str}/determination"

    @get("/", opt=SUPERVISOR)
    def preview(self, case_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            return _determination_page(request, ctx, case_id)
        except InvalidState:
            if _determined_already(ctx, case_id, request):  # Back after confirming: the case, not a refusal
                return see_other(f"/cases/{case_id}", done="determined_already")
            raise

    @post("/", opt=SUPERVISOR, status_code=303)
    def confirm(self, case_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            with ctx.db.begin() as session:
                check_service.determine(session, case_id, confirm=True, principal=request.user, clock=ctx.clock)
        except (Forbidden, InvalidState) as exc:
            if isinstance(exc, InvalidState) and _determined_already(ctx, case_id, request):  # a stale tab's second
                return see_other(f"/cases/{case_id}", done="determined_already")
            return _determination_page(request, ctx, case_id, status_code=exc.status, message=message_zh(exc.detail))
        except ValidationFailed as exc:  # 回避: said on the page, as the four-eyes refusals are
            return _determination_page(request, ctx, case_id, status_code=422,
                                       message="；".join(message_zh(e.message) for e in exc.errors))
        return see_other(f"/cases/{case_id}", done="determined")

    @post("/send-back", opt=SUPERVISOR, status_code=303)
    def send_back(self, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Send the check back for another visit, with a reason (asks for confirmation): the case is scheduled again."""
        reason = clean(data.get("reason"))[:2000]
        state = FormState(values={"reason": reason})
        if not reason:
            state.add("reason", "必填：请说明退回原因和重新核查的内容")
            return _determination_page(request, ctx, case_id, status_code=422, send_back=state)
        if not confirmed(data):
            state.general.append("退回后须重新安排入户核查：请先勾选确认框，再点击按钮。本次未做任何更改。")
            return _determination_page(request, ctx, case_id, status_code=422, send_back=state)
        try:
            with ctx.db.begin() as session:
                check_service.send_back(session, case_id, reason=reason, principal=request.user, clock=ctx.clock)
        except (Forbidden, InvalidState) as exc:
            state.general.append(message_zh(exc.detail))
            return _determination_page(request, ctx, case_id, status_code=exc.status, send_back=state)
        except ValidationFailed as exc:  # 回避: said in place, as the determination's refusal is
            state.general.extend(message_zh(e.message) for e in exc.errors)
            return _determination_page(request, ctx, case_id, status_code=exc.status, send_back=state)
        return see_other(f"/cases/{case_id}", done="sent_back")


class ImportPages(Controller):
    path = "/referrals/import"

    def _form(self, request: Req, ctx: Any, state: FormState, *, status_code: int = 200,
              rows: list[FieldError] | None = None, done: tuple[str, bool] | None = None) -> Template:
        with ctx.db.read() as session:
            counties = counties_of(session, request.user)
            table = referral_service.county_vocabulary(session, counties, ctx.clock.today())
            waiting = referral_waiting.waiting_imports(session, request.user)
            # after a file: what the viewer's run of the import brought in (a colleague who brought in rows an
            # earlier import left out is told whose import she continued), from the store, never from the address
            result = referral_waiting.import_run(session, request.user, done[0], repeated=done[1]) if done else None
        if result is not None:  # the form as it was sent: the next file is often of the same bureau and county
            state.values.update({"channel": result.channel, "county_code": result.county_code})
        channels = [(k, v) for k, v in CHANNELS.items() if k != "application"]
        return page(request, "import.html", status_code=status_code, form=state, counties=counties,
                    channels=channels, bad_rows=rows or [], result=result, columns=import_template.columns(table),
                    waiting=waiting, channel_names=CHANNELS)

    @get("/", opt=IMPORTERS)
    def form(self, ctx: Ctx, request: Req) -> Template:
        counties = request.user.counties
        values = {"county_code": counties[0] if len(counties) == 1 else ""}
        return self._form(request, ctx, FormState(values=values), done=import_outcome(request, IMPORT_DONE))

    @get("/template.xlsx", opt=IMPORTERS)
    def template(self, ctx: Ctx, request: Req) -> Response[bytes]:
        """An empty file with the Chinese headers the importer accepts, and a sheet explaining each column."""
        name = quote("监测信息导入模板.xlsx")
        with ctx.db.read() as session:
            table = referral_service.county_vocabulary(session, counties_of(session, request.user), ctx.clock.today())
        return Response(content=import_template.template_xlsx(table), media_type=XLSX, headers={
            "Content-Disposition": f"attachment; filename=\"import-template.xlsx\"; filename*=UTF-8''{name}"})

    @post("/", opt=IMPORTERS, status_code=303)
    def upload(self, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        upload, state = import_file(data)
        if not clean(data.get("channel")):  # said in words with a missing file, not as the service's list of codes
            state.add("channel", "请选择来源渠道")
        if upload is None or state.errors:
            return self._form(request, ctx, state, status_code=422)
        values = state.values
        upload.file.seek(0)
        try:
            result = referral_service.import_referral_file(
                ctx.db, vault=ctx.vault, source=upload.file, filename=upload.filename,
                channel=clean(data.get("channel")), county_code=folded(data.get("county_code")),
                principal=request.user, role=request.user.acting_role(("insurer_supervisor", "county_reviewer")),
                clock=ctx.clock, limits=ctx.settings.imports, lookups=Limit.of(ctx.settings))
        except ValidationFailed as exc:
            state, in_rows = import_refused(values, exc, ("channel", "county_code", "file"))
            return self._form(request, ctx, state, status_code=exc.status, rows=in_rows)
        # the import's id alone: the page reads what this run brought in back from the store (`import_run`)
        return see_other("/referrals/import", done=IMPORT_DONE[1] if result.repeated else IMPORT_DONE[0],
                         **{"import": result.batch_id})
