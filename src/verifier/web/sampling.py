"""Sampling pages (抽样复核): the rounds, starting one, and one round's page, which shows the frozen population,
its digest and the signed checkpoint BEFORE it asks for the county's randomness, then the draw, the re-check form
of each sampled case, the report with its verdict, and widening the sample.

The re-check form does not show the insurer's figures: the county records what it finds on its own, and the
comparison is shown once the result is recorded.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Controller, Response
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Template
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..http import Ctx, get, post
from ..sampling import service as smp
from ..sampling.models import SamplingItem, SamplingResult, SamplingRound
from ..store import contracts as contract_store
from ..store.tables import Case
from . import stagelabels as sl
from .common import (
    FormState,
    Req,
    clean,
    folded,
    counties_of,
    page,
    parse_day,
    see_other,
    user_names,
)

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
READERS: dict[str, Any] = {"roles": ("county_reviewer", "auditor")}
WRITERS: dict[str, Any] = {"roles": ("county_reviewer",)}
ROUND_FIELDS = ("county_code", "checked_from", "checked_to", "kind", "stratify_by_town", *smp.RATE_FIELDS)
RESULT_FIELDS = ("per_capita_income", "eligible", "relief_amount", "note")


def _add(state: FormState, errors: list[FieldError], known: tuple[str, ...]) -> FormState:
    for e in errors:
        if e.field in known:
            state.add(e.field, sl.zh(e.message))
        else:
            state.general.append(f"{sl.field_zh(e.field)}：{sl.zh(e.message)}")
    return state


def _defaults(session: Session, user: Principal, today: date) -> list[dict[str, Any]]:
    """The sampling parameters each contract of the user's counties gives (what a blank field means)."""
    out = []
    for c in contract_store.all_contracts(session):
        if user.counties and not set(c.county_codes) & set(user.counties):
            continue
        s = c.spec.sampling
        out.append({"id": c.id, "counties": c.county_codes, "current": c.start <= today <= c.end,
                    "confidence": s.confidence, "tolerable_rate": s.tolerable_rate, "expected_rate": s.expected_rate,
                    "min_rate": s.min_rate, "income_tolerance": s.income_tolerance})
    return out


def _list_page(request: Req, ctx: Any, state: FormState, *, status_code: int = 200) -> Template:
    user = request.user
    today = ctx.clock.today()
    with ctx.db.read() as session:
        rounds = smp.list_rounds(session, user, limit=50).items
        verdicts = {r.id: smp.report(session, r.id, user).verdict for r in rounds if r.status == "drawn"}
        counties = counties_of(session, user)
        defaults = _defaults(session, user, today)
    current = next((d for d in defaults if d["current"]), defaults[0] if defaults else None)
    return page(request, "sampling.html", status_code=status_code, rounds=rounds, verdicts=verdicts, form=state,
                counties=counties, defaults=defaults, current=current, sl=sl, can_start=user.has("county_reviewer"))


def render_round(request: Req, ctx: Any, round_id: str, *, status_code: int = 200, message: str | None = None,
                 forms: dict[str, FormState] | None = None) -> Template:
    user = request.user
    with ctx.db.read() as session:
        r = smp.round_view(session, round_id, user)
        report = smp.report(session, round_id, user)
        heads = {c.id: c.household.head_name for c in session.scalars(
            select(Case).where(Case.id.in_([i.case_id for i in r.items])))}
        names = user_names(session, [r.created_by, r.drawn_by or ""] + [i.result.recorded_by for i in r.items if i.result])
    pending = [i for i in r.items if i.result is None and (r.kind != "monetary" or i.units > 0)]
    writer = user.has("county_reviewer")
    return page(request, "sampling_round.html", status_code=status_code, r=r, report=report, heads=heads,
                names=names, pending=pending, writer=writer, forms=forms or {}, sl=sl,
                message=sl.zh(message) if message else None)


class SamplingPages(Controller):
    path = "/sampling"

    @get("/", opt=READERS)
    def rounds(self, ctx: Ctx, request: Req) -> Template:
        today = ctx.clock.today()
        first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        counties = request.user.counties
        state = FormState(values={"county_code": counties[0] if len(counties) == 1 else "",
                                  "checked_from": first_of_last_month.isoformat(), "checked_to": today.isoformat(),
                                  "kind": "attribute", "stratify_by_town": "1"})
        return _list_page(request, ctx, state)

    @post("/", opt=WRITERS, status_code=303)
    def start(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        problems: list[FieldError] = []
        start = parse_day(data.get("checked_from"), "checked_from", problems)
        end = parse_day(data.get("checked_to"), "checked_to", problems)
        county = folded(data.get("county_code"))
        if not county:
            problems.append(FieldError("county_code", "required"))
        kind = clean(data.get("kind")) or "attribute"
        rates = {name: folded(data.get(name)) or None for name in smp.RATE_FIELDS}
        stratify = None if kind == "monetary" else clean(data.get("stratify_by_town")) == "1"
        try:
            if problems or start is None or end is None:
                raise ValidationFailed(problems)
            req = smp.RoundRequest(county_code=county, checked_from=start, checked_to=end, kind=kind,
                                   stratify_by_town=stratify, **rates)
            created = smp.create_round(ctx.db, ctx.signer, req, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return _list_page(request, ctx, _add(FormState(values=values), exc.errors, ROUND_FIELDS), status_code=422)
        except InvalidState as exc:
            state = FormState(values=values)
            state.general.append(sl.zh(exc.detail))
            return _list_page(request, ctx, state, status_code=409)
        return see_other(f"/sampling/{created.id}", done="round")

    @get("/{round_id:str}", opt=READERS)
    def show(self, round_id: Id, ctx: Ctx, request: Req) -> Template:
        return render_round(request, ctx, round_id)

    @get("/{round_id:str}/population", opt=READERS)
    def population(self, round_id: Id, ctx: Ctx, request: Req) -> Response[Any]:
        """The frozen population as JSON, the same as the API's (which takes a bearer token only, not the cookie)."""
        with ctx.db.read() as session:
            view = smp.population_view(session, round_id, request.user)
        return Response(view, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="population-{round_id}.json"'})

    @post("/{round_id:str}/draw", opt=WRITERS, status_code=303)
    def draw(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        # Dice rolls are typed with spaces or line breaks between them: only the digits count.
        randomness = "".join(folded(data.get("randomness")).split())
        try:
            if not randomness:
                raise ValidationFailed.one("randomness", "required")
            smp.draw_round(ctx.db, ctx.signer, round_id, randomness, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            state = _add(FormState(values={"randomness": clean(data.get("randomness"))}), exc.errors, ("randomness",))
            return render_round(request, ctx, round_id, status_code=422, forms={"draw": state})
        except InvalidState as exc:
            return render_round(request, ctx, round_id, status_code=409, message=exc.detail)
        return see_other(f"/sampling/{round_id}", done="drawn")

    @post("/{round_id:str}/results", opt=WRITERS, status_code=303)
    def result(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        case_id = folded(data.get("case_id"))[:40]
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        problems: list[FieldError] = []
        income = folded(data.get("per_capita_income"))
        if not income:
            problems.append(FieldError("per_capita_income", "required"))
        eligible = clean(data.get("eligible"))
        if eligible not in ("yes", "no"):
            problems.append(FieldError("eligible", "required"))
        try:
            if problems:
                raise ValidationFailed(problems)
            payload = smp.ResultInput(case_id=case_id, per_capita_income=income, eligible=eligible == "yes",
                                      relief_amount=folded(data.get("relief_amount")) or None,
                                      note=clean(data.get("note"))[:2000])
            with ctx.db.begin() as session:
                smp.record_result(session, round_id, payload, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            state = _add(FormState(values=values), exc.errors, RESULT_FIELDS)
            return render_round(request, ctx, round_id, status_code=422, forms={f"result-{case_id}": state})
        except InvalidState as exc:
            return render_round(request, ctx, round_id, status_code=409, message=exc.detail)
        return see_other(f"/sampling/{round_id}", done="recheck")

    @post("/{round_id:str}/expand", opt=WRITERS, status_code=303)
    def expand(self, round_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            with ctx.db.begin() as session:
                smp.expand(session, round_id, principal=request.user, clock=ctx.clock)
        except InvalidState as exc:
            return render_round(request, ctx, round_id, status_code=409, message=exc.detail)
        return see_other(f"/sampling/{round_id}", done="expanded")


def rounds_in_progress(session: Session, user: Principal) -> int:
    """Rounds not yet drawn, or drawn with a sampled case still to re-check."""
    unrecorded = exists().where(
        SamplingItem.round_id == SamplingRound.id, SamplingItem.units > 0,
        ~exists().where(and_(SamplingResult.round_id == SamplingItem.round_id,
                             SamplingResult.case_id == SamplingItem.case_id)))
    stmt = select(func.count()).select_from(SamplingRound).where(or_(SamplingRound.status == "frozen", unrecorded))
    if user.counties:
        stmt = stmt.where(SamplingRound.county_code.in_(user.counties))
    return session.scalar(stmt) or 0


def home_cards(session: Session, user: Principal) -> list[dict[str, Any]]:
    if not user.has("county_reviewer"):
        return []
    return [{"title": "进行中的抽样复核", "href": "/sampling", "count": rounds_in_progress(session, user),
             "note": "待抽取样本或待录入复核结果的轮次"}]
