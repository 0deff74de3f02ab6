"""The officer's page for a visit that produced no check: nobody home, refused, moved away.

The case goes back to the supervisor's list to be scheduled again; the visit still counts in the month's figures.
It is recorded with a photo taken at the door that day (`checks.attempts.door_problems`): the form takes the photos
with it (as the check's form does: stored as the case's evidence first, kept as hidden hashes when the form is
refused, not asked for again).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller
from litestar.params import Parameter
from litestar.response import Template

from ..cases.service import active_visit, assigned_visit
from ..cases.workflow import load_case
from ..checks import attempts
from ..checks import service as check_service
from ..domain import late_entry
from ..domain.errors import FieldError, Forbidden, InvalidState, ValidationFailed
from ..http import Ctx, MultipartBody, get, post
from . import labels
from .photo_uploads import kept_photos, store_photos
from .common import OFFICER, FormState, Req, clean, form_state, page, parse_day, see_other, user_names

Id = Annotated[str, Parameter(max_length=40)]
FIELDS = ("visited_on", "outcome", "note", "late_entry_reason", "photos")
RENAME = {"evidence": "photos"}


class VisitAttemptPages(Controller):
    path = "/cases/{case_id:str}/visit-attempt"

    def _render(self, request: Req, ctx: Any, case_id: str, state: FormState, status_code: int = 200,
                evidence: list[str] | None = None) -> Template:
        with ctx.db.read() as session:
            case, visit = assigned_visit(session, case_id, request.user)
            names = user_names(session, visit.officer_ids)
            head = case.household.head_name
            photos = check_service.evidence_of(session, case.id, evidence or [])
        if not state.values:
            state.values = {"visited_on": min(ctx.clock.today(), max(visit.visit_on, case.referred_on)).isoformat()}
        return page(request, "visit_attempt.html", status_code=status_code, active="/visits", case=case, head=head,
                    visit=visit, officer_names=[names.get(o, o) for o in visit.officer_ids], form=state,
                    outcomes=list(labels.VISIT_OUTCOMES.items()), today=ctx.clock.today(),
                    late_entry_days=late_entry.LATE_ENTRY_DAYS, evidence=photos)

    @get("/", opt=OFFICER)
    def form(self, case_id: Id, ctx: Ctx, request: Req) -> Any:
        if _recorded_already(ctx, case_id, request):
            return see_other("/visits", done="attempt_already")
        return self._render(request, ctx, case_id, FormState())

    @post("/", opt=OFFICER, status_code=303)
    def submit(self, case_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        problems: list[FieldError] = []
        visited_on = parse_day(values.get("visited_on"), "visited_on", problems)
        if visited_on is not None and visited_on > ctx.clock.today():  # told with a missing outcome, not after it
            problems.append(FieldError("visited_on", "不能晚于今天"))
        outcome = clean(values.get("outcome"))
        if not outcome:
            problems.append(FieldError("outcome", "请选择未能核查的原因"))
        if problems and outcome == "other" and not clean(values.get("note")):  # with the day's problem, not after it
            problems.append(FieldError("note", "选择“其他原因”时请说明情况"))
        late_reason = late_entry.clean_reason(clean(values.get("late_entry_reason")))
        if problems and visited_on is not None and visited_on <= ctx.clock.today():  # told with the others at once
            problems += attempts.late_problems(visited_on, ctx.clock.today(), late_reason)
        # the photos sent before (hidden, in their order) and those chosen now, stored as the case's evidence
        evidence = kept_photos(values)
        try:
            problems += [FieldError("photos", refused)
                         for refused in store_photos(ctx, case_id, data.get("photos"), request.user, evidence)]
            if problems or visited_on is None:
                raise ValidationFailed(problems)
            with ctx.db.begin() as session:
                visit = active_visit(session, case_id)
                officers = list(visit.officer_ids) if visit is not None else []
                attempts.record_attempt(session, case_id, attempts.AttemptInput(
                    visited_on=visited_on, officers=officers, outcome=outcome, note=str(values.get("note") or ""),
                    late_entry_reason=late_reason, evidence=evidence),
                    principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            errors = [FieldError("photos", e.message) if e.field.startswith("evidence[") else e for e in exc.errors]
            return self._render(request, ctx, case_id, form_state(values, ValidationFailed(errors), FIELDS, RENAME),
                                status_code=422, evidence=evidence)
        except (InvalidState, Forbidden) as exc:
            if _recorded_already(ctx, case_id, request):  # a stale tab, or the back button: the first one counted
                return see_other("/visits", done="attempt_already")
            if isinstance(exc, Forbidden):
                raise
            state = form_state(values, None, FIELDS)
            state.general.append(labels.message_zh(exc.detail))
            return self._render(request, ctx, case_id, state, status_code=409, evidence=evidence)
        return see_other("/visits", done="attempt")


def _recorded_already(ctx: Any, case_id: str, request: Req) -> bool:
    """Whether the user's visit to this case ended with an attempt they recorded (with the other officer), and no
    visit of theirs is planned since: the form was sent already."""
    with ctx.db.read() as session:
        case = load_case(session, case_id, request.user)
        visit = active_visit(session, case.id)
        if visit is not None and request.user.id in visit.officer_ids:
            return False
        made = attempts.attempts_for_case(session, case.id)
        return bool(made) and visit is None and request.user.id in made[-1].officer_ids
