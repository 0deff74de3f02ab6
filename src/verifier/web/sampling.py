"""Sampling pages (抽样复核): the rounds, starting one, and one round's page through its stages: open (each party
commits to a secret, by its own role), frozen (the population, its digest and the signed checkpoint; the public
value when one was named; each party reveals; a party late past its deadline may be passed over by the other),
drawn (the seed, the re-check form of each sampled case, the report with its verdict, and widening the sample).

The re-check form does not show the insurer's figures: the county records what it finds on its own, and the
comparison is shown once the result is recorded. It asks for the county's visit (the day, the household member
met, the record they signed and the photos, `sampling/visits.py`), shown under each recorded result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Controller, Response
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, MultipartBody, Parameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..cases import service as case_service
from ..cases import hold_proposal_list, hold_proposals
from ..domain.errors import FieldError, Forbidden, InvalidState, NotFound, ValidationFailed
from ..http import Ctx, get, post
from ..sampling import consequences, flow, visits
from ..sampling.routes import visit_file_response
from ..sampling import service as smp
from ..contract_review import reads as contract_reads
from ..store.paged import fold_search
from . import paging
from . import stagelabels as sl
from .labels import labelled
from .paging import Pager, page_param
from .templating import round_name
from .deviations import round_assessment
from .typed import typed_yuan
from .common import (
    AUDIT_READERS,
    FormState,
    Req,
    clean,
    confirmed,
    folded,
    counties_of,
    page,
    parse_day,
    see_other,
    user_names,
)

Id = Annotated[str, Parameter(max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
READERS: dict[str, Any] = {"roles": ("county_reviewer", "insurer_supervisor", "auditor")}
WRITERS: dict[str, Any] = {"roles": ("county_reviewer",)}
PARTIES: dict[str, Any] = {"roles": ("county_reviewer", "insurer_supervisor")}
ROUND_FIELDS = ("county_code", "checked_from", "checked_to", "kind", "stratify_by_town", *smp.RATE_FIELDS,
                "public_value_description", "public_value_available_on")
RESULT_FIELDS = ("per_capita_income", "eligible", "relief_amount", "note", "visited_on", "met_member", "signed_form",
                 "evidence")
# Freezing (the population and its signed checkpoint) and passing a late party over (the draw without its secret)
# cannot be undone: the page asks for the confirmation box, so a stray click or a double click never does it.
FREEZE_UNCONFIRMED = "冻结后总体名单和检查点不能更改：请勾选确认框"
PASS_OVER_UNCONFIRMED = "略过后将不含该方秘密值抽取样本，不能撤回：请勾选确认框"


def _add(state: FormState, errors: list[FieldError], known: tuple[str, ...]) -> FormState:
    for e in errors:
        if e.field in known:
            state.add(e.field, sl.zh(e.message))
        else:
            state.general.append(labelled(sl.field_zh(e.field), sl.zh(e.message)))
    return state


def _list_page(request: Req, ctx: Any, state: FormState, *, status_code: int = 200, status: str = "", q: str = "",
               page_no: str | None = None) -> Template:
    user = request.user
    today = ctx.clock.today()
    q = fold_search(q)
    with ctx.db.read() as session:
        found = smp.find_rounds(session, user, status=status or None, q=q, page=page_param(page_no),
                                page_size=paging.PAGE_SIZE, named=round_name)
        rounds = found.items
        verdicts = {r.id: smp.report(session, r.id, user).verdict for r in rounds if r.status == "drawn"}
        counties = counties_of(session, user)
        defaults = smp.contract_rates(session, user, today)
    current = next((d for d in defaults if d.current), defaults[0] if defaults else None)
    pager = Pager.over("/sampling", {"status": status, "q": q}, found)
    return page(request, "sampling.html", status_code=status_code, rounds=rounds, verdicts=verdicts, form=state,
                pager=pager, status=status, q=q,
                counties=counties, defaults=defaults, current=current, sl=sl, can_start=user.has("county_reviewer"))


def _listed(data: Any) -> dict[str, Any]:
    """The rounds list as it was when the start form was sent (its status, search and page, carried by the form): a
    refused form comes back over that same list, as its address says (common.form_page)."""
    status = clean(data.get("status"))
    return {"status": status if status in ROUND_LIST_STATUSES else "", "q": clean(data.get("q"))[:200],
            "page_no": clean(data.get("page")) or None}


ROUND_LIST_STATUSES = ("open", "frozen", "drawn")
NO_TOWN = "-"  # the town filter's value for the sampled households with no town (an empty value is no filter)


def _sample_view(items: list[Any], heads: dict[str, str], numbers: dict[str, str], q: str, town: str,
                 kind: str) -> dict[str, Any]:
    """The drawn sample as a phone reads it: each town's counts (sampled, to re-check, deviations) first, then the rows
    a search (户主姓名、案件编号或末几位、乡镇) and a town leave."""
    towns: dict[str, dict[str, int]] = {}
    for i in items:
        t = towns.setdefault(i.town or "", {"sampled": 0, "pending": 0, "deviations": 0})
        t["sampled"] += 1
        t["pending"] += i.result is None and (kind != "monetary" or i.units > 0)
        t["deviations"] += bool(i.result and i.result.deviation)
    folded = fold_search(q)
    # the town asked for, as the sample names it ("": no town); None: no filter (none asked, or not in the sample)
    picked = {(name or NO_TOWN): name for name in towns}.get(town) if town else None

    def matches(i: Any) -> bool:
        number = numbers.get(i.case_id, "")
        return (picked is None or (i.town or "") == picked) and (not folded or folded in heads.get(i.case_id, "")
                                                                 or folded in (i.town or "")
                                                                 or number.endswith(folded) or folded in number)
    return {"towns": towns, "q": folded, "town": "" if picked is None else picked or NO_TOWN, "no_town": NO_TOWN,
            "shown": {i.case_id for i in items if matches(i)}}


def render_round(request: Req, ctx: Any, round_id: str, *, status_code: int = 200, message: str | None = None,
                 forms: dict[str, FormState] | None = None,
                 uploaded: dict[str, tuple[list[str], str]] | None = None, q: str = "", town: str = "") -> Template:
    user = request.user
    with ctx.db.read() as session:
        r = smp.round_view(session, round_id, user)
        report = smp.report(session, round_id, user)
        sampled = case_service.cases_by_id(session, [i.case_id for i in r.items] + [m.case_id for m in r.missed + r.redone]
                                           + r.carried_in + r.awaiting_determination).values()
        heads = {c.id: c.household.head_name for c in sampled}
        numbers = {c.id: c.number for c in sampled}
        people = [r.created_by, r.frozen_by or "", r.drawn_by or "", r.public_value.entered_by or "" if r.public_value
                  else ""]
        for p in r.parties:
            people += [p.committed_by, p.revealed_by or "", p.passed_over_by or ""]
        names = user_names(session, people + [i.result.recorded_by for i in r.items if i.result]
                           + [i.result.corrected_by or "" for i in r.items if i.result])
        loaded = smp.load_round(session, round_id, user)
        fixable = smp.correctable(session, loaded, by=user)
        visitable = smp.visit_adders(session, loaded, user)  # the visit is added by the result's recorder alone
        shown_visits = smp.visits_of_round(session, round_id)
        members = {c.id: [m.name for m in sorted(c.household.members, key=lambda m: (m.relation != "head", m.id))]
                   for c in sampled}
        kept = {case_id: smp.recheck_files(session, round_id, case_id, hashes + ([form] if form else []))
                for case_id, (hashes, form) in (uploaded or {}).items()}
        assessment = round_assessment(session, round_id, user) if r.status == "drawn" else None
        if assessment:
            names |= user_names(session, {c["supplement_opened_by"] or "" for c in assessment.get("cases", [])})
        # a supplement back after a bank return marked it failed: why the caller may not confirm it again (the
        # return's importer, or an account linked to theirs), as `confirm_supplement` refuses them
        again = [c for c in (assessment or {}).get("cases", []) if c["supplement_failed_by"]]
        supplement_refused = {c["supplement_id"]: consequences.importer_refused(
            session, c["supplement_failed_by"], c["case_id"], user) for c in again} if user.has("county_reviewer") else {}
    pending = [i for i in r.items if i.result is None and (r.kind != "monetary" or i.units > 0)]
    writer = user.has("county_reviewer")
    mine = [party for party, role in smp.PARTY_ROLES.items() if user.has(role)]
    by_party = {p.party: p for p in r.parties}
    today = ctx.clock.today()
    late = [p.party for p in r.parties if not p.revealed and p.passed_over_at is None and r.reveal_by is not None
            and today > r.reveal_by]
    return page(request, "sampling_round.html", status_code=status_code, r=r, report=report, heads=heads, numbers=numbers,
                names=names, pending=pending, writer=writer, forms=forms or {}, sl=sl, mine=mine, by_party=by_party,
                late=late, today=today, message=sl.zh(message) if message else None,
                fixable=fixable if writer else set(), visitable=visitable if writer else set(), assessment=assessment, visits=shown_visits, members=members,
                supplement_refused=supplement_refused,
                kept=kept, uploaded=uploaded or {}, view=_sample_view(r.items, heads, numbers, q, town, r.kind),
                audit_links=user.has(*AUDIT_READERS["roles"]))


class SamplingPages(Controller):
    path = "/sampling"

    @get("/", opt=READERS)
    def rounds(self, ctx: Ctx, request: Req, status: FromQuery[Literal["open", "frozen", "drawn", ""]] = "",
               q: Annotated[str, Parameter(max_length=200)] = "",
               page_no: Annotated[str | None, QueryParameter(name="page", max_length=12)] = None) -> Template:
        counties = request.user.counties
        with ctx.db.read() as session:  # inside a contract in force, or the last one that ended
            today = contract_reads.form_day(session, counties, ctx.clock.today())
        first_of_last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        state = FormState(values={"county_code": counties[0] if len(counties) == 1 else "",
                                  "checked_from": first_of_last_month.isoformat(), "checked_to": today.isoformat(),
                                  "kind": "attribute", "stratify_by_town": "1"})
        return _list_page(request, ctx, state, status=status, q=q, page_no=page_no)

    @post("/", opt=WRITERS, status_code=303)
    def start(self, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        problems: list[FieldError] = []
        start = parse_day(data.get("checked_from"), "checked_from", problems)
        end = parse_day(data.get("checked_to"), "checked_to", problems)
        county = folded(data.get("county_code"))
        if not county:
            problems.append(FieldError("county_code", "必填"))
        kind = clean(data.get("kind")) or "attribute"
        rates = {name: _rate(data.get(name)) for name in smp.RATE_FIELDS}
        stratify = None if kind == "monetary" else clean(data.get("stratify_by_town")) == "1"
        description = clean(data.get("public_value_description"))[:500] or None
        available_on = None
        if description or clean(data.get("public_value_available_on")):
            available_on = parse_day(data.get("public_value_available_on"), "public_value_available_on", problems)
        try:
            if problems or start is None or end is None:  # the rates typed are told with the days, at once
                raise ValidationFailed(problems + flow.given_rate_problems(rates))
            req = flow.RoundRequest(county_code=county, checked_from=start, checked_to=end, kind=kind,
                                    stratify_by_town=stratify, public_value_description=description,
                                    public_value_available_on=available_on, **rates)
            round_id, twin = flow.start_round(ctx.db, req, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            errors = [FieldError(e.field.replace("public_value.description", "public_value_description")
                                 .replace("public_value.available_on", "public_value_available_on"), e.message)
                      for e in exc.errors]
            return _list_page(request, ctx, _add(FormState(values=values), errors, ROUND_FIELDS), status_code=422,
                              **_listed(data))
        except InvalidState as exc:
            state = FormState(values=values)
            state.general.append(sl.zh(exc.detail))
            return _list_page(request, ctx, state, status_code=409, **_listed(data))
        return see_other(f"/sampling/{round_id}", done="round_already" if twin else "round")

    @get("/{round_id:str}", opt=READERS)
    def show(self, round_id: Id, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=64)] = "",
             town: Annotated[str, Parameter(max_length=64)] = "") -> Template:
        return render_round(request, ctx, round_id, q=q, town=clean(town))

    @get("/{round_id:str}/samples.xlsx", opt=READERS)
    def samples_xlsx(self, round_id: Id, ctx: Ctx, request: Req) -> Response[bytes]:
        from . import exports

        return exports.samples_response(ctx, request.user, round_id)

    @get("/{round_id:str}/population", opt=READERS)
    def population(self, round_id: Id, ctx: Ctx, request: Req) -> Response[Any]:
        """The frozen population as JSON, the same as the API's (which takes a bearer token only, not the cookie)."""
        with ctx.db.read() as session:
            view = smp.population_view(session, round_id, request.user)
        return Response(view, media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="population-{round_id}.json"'})

    def _act(self, request: Req, ctx: Any, round_id: str, form: str, fields: tuple[str, ...],
             values: dict[str, str], action: Any, done: str) -> Any:
        """Run one step of the round; a refusal shows the round again with the message by its form."""
        try:
            action()
        except ValidationFailed as exc:
            state = _add(FormState(values=values), exc.errors, fields)
            return render_round(request, ctx, round_id, status_code=422, forms={form: state})
        except Forbidden as exc:
            return render_round(request, ctx, round_id, status_code=403, message=exc.detail)
        except InvalidState as exc:
            return render_round(request, ctx, round_id, status_code=409, message=exc.detail)
        return see_other(f"/sampling/{round_id}", done=done)

    @post("/{round_id:str}/supplements/{supplement_id:str}/confirm", opt=WRITERS, status_code=303)
    def confirm_supplement(self, round_id: Id, supplement_id: Id, ctx: Ctx, request: Req) -> Any:
        """A second county reviewer confirms a supplementary payment a re-check opened (never its re-checker)."""
        def act() -> None:
            with ctx.db.begin() as session:
                consequences.confirm_supplement(session, supplement_id, principal=request.user, clock=ctx.clock)
        return self._act(request, ctx, round_id, "supplement", (), {}, act, "supplement_confirmed")

    @post("/{round_id:str}/commit", opt=PARTIES, status_code=303)
    def commit(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        party = clean(data.get("party"))
        value = "".join(folded(data.get("commitment")).split())

        def act() -> None:
            if not value:
                raise ValidationFailed.one("commitment", "必填")
            with ctx.db.begin() as session:
                flow.commit(session, round_id, party, value, principal=request.user, clock=ctx.clock)
        return self._act(request, ctx, round_id, f"commit-{party}", ("commitment",), {"commitment": value}, act,
                         "committed")

    @post("/{round_id:str}/freeze", opt=WRITERS, status_code=303)
    def freeze(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        def act() -> None:
            if not confirmed(data):  # the population and its signed checkpoint cannot be taken back
                raise ValidationFailed.one("confirm", FREEZE_UNCONFIRMED)
            flow.freeze_round(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
        return self._act(request, ctx, round_id, "freeze", ("confirm",), {}, act, "frozen")

    @post("/{round_id:str}/public-value", opt=PARTIES, status_code=303)
    def public_value(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        value = clean(data.get("value"))[:2000]

        def act() -> None:
            flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
            with ctx.db.begin() as session:
                flow.enter_public_value(session, round_id, value, principal=request.user, clock=ctx.clock)
        return self._act(request, ctx, round_id, "public-value", ("value",), {"value": value}, act, "public_value")

    @post("/{round_id:str}/reveal", opt=PARTIES, status_code=303)
    def reveal(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        party = clean(data.get("party"))
        value = "".join(folded(data.get("secret")).split())
        drawn: list[bool] = []

        def act() -> None:
            if not value:
                raise ValidationFailed.one("secret", "必填")
            flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
            with ctx.db.begin() as session:
                drawn.append(flow.reveal(session, round_id, party, value, principal=request.user,
                                         clock=ctx.clock, vault=ctx.vault).status == "drawn")
        answer = self._act(request, ctx, round_id, f"reveal-{party}", ("secret",), {"secret": value}, act, "revealed")
        return see_other(f"/sampling/{round_id}", done="drawn") if drawn and drawn[0] else answer

    @post("/{round_id:str}/pass-over", opt=PARTIES, status_code=303)
    def pass_over(self, round_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        party = clean(data.get("party"))

        def act() -> None:
            if not confirmed(data):  # the sample is drawn without that party's secret: no way back
                raise ValidationFailed.one("confirm", PASS_OVER_UNCONFIRMED)
            flow.ready_for_inputs(ctx.db, ctx.signer, round_id, principal=request.user, clock=ctx.clock)
            with ctx.db.begin() as session:
                flow.pass_over(session, round_id, party, principal=request.user, clock=ctx.clock, vault=ctx.vault)
        return self._act(request, ctx, round_id, f"pass-over-{party}", ("confirm",), {}, act, "passed_over")

    @post("/{round_id:str}/results", opt=WRITERS, status_code=303)
    def result(self, round_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        """The re-check with its visit: the photos and the signed record are uploaded with the form (each kept for
        this re-check at once, so a refusal asks for none of them again: they come back as hidden hashes)."""
        case_id = folded(data.get("case_id"))[:40]
        form = _VisitForm.read(data)
        try:
            payload = _result_input(case_id, data, visit=form.visit(ctx, request, data, round_id, case_id))
            if form.state.failed:
                raise ValidationFailed([])
            with ctx.db.begin() as session:
                smp.record_result(session, round_id, payload, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return form.refused(request, ctx, round_id, f"result-{case_id}", case_id, exc, RESULT_FIELDS)
        except (Forbidden, InvalidState) as exc:
            return render_round(request, ctx, round_id, status_code=exc.status, message=exc.detail)
        return _to_row(round_id, case_id, "recheck")

    @post("/{round_id:str}/results/{case_id:str}/visit", opt=WRITERS, status_code=303)
    def add_visit(self, round_id: Id, case_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        """The county's visit added to a result taken without it (补录走访证据): only then does it count in the
        round's verdict. Files sent with a refused form are kept, as for a new result."""
        form = _VisitForm.read(data)
        try:
            visit = form.visit(ctx, request, data, round_id, case_id)
            if form.state.failed:
                raise ValidationFailed([])
            with ctx.db.begin() as session:
                smp.add_visit(session, round_id, case_id, visit, principal=request.user, clock=ctx.clock)
        except ValidationFailed as exc:
            return form.refused(request, ctx, round_id, f"visit-{case_id}", case_id, exc, VISIT_FIELDS)
        except (Forbidden, InvalidState, NotFound) as exc:
            return render_round(request, ctx, round_id, status_code=exc.status, message=exc.detail)
        return _to_row(round_id, case_id, "visit_added")

    @get("/{round_id:str}/results/{case_id:str}/evidence/{sha256:str}", opt=READERS)
    def evidence_file(self, round_id: Id, case_id: Id, sha256: Annotated[str, Parameter(pattern=r"^[0-9a-f]{64}$")],
                      ctx: Ctx, request: Req) -> Response[bytes]:
        """A photo or the signed record of a re-check's visit (the API's, with the page's cookie)."""
        return visit_file_response(ctx, request.user, round_id, case_id, sha256, route="page")

    @post("/{round_id:str}/results/{case_id:str}/correct", opt=WRITERS, status_code=303)
    def correct(self, round_id: Id, case_id: Id, ctx: Ctx, request: Req, data: URLEncodedBody[dict[str, Any]]) -> Any:
        """Correct a saved re-check result with a reason (while the verdict is pending); back at the same row."""
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        reason = clean(data.get("reason"))[:2000]
        try:
            payload = _result_input(case_id, data, [] if reason else [FieldError("reason", "必填")])
            with ctx.db.begin() as session:
                smp.correct_result(session, round_id, payload, reason=reason, principal=request.user,
                                   clock=ctx.clock)
        except ValidationFailed as exc:
            state = _add(FormState(values=values), exc.errors, (*RESULT_FIELDS, "reason"))
            return render_round(request, ctx, round_id, status_code=422, forms={f"correct-{case_id}": state})
        except (Forbidden, InvalidState) as exc:
            return render_round(request, ctx, round_id, status_code=exc.status, message=exc.detail)
        return _to_row(round_id, case_id, "corrected")

    @post("/{round_id:str}/expand", opt=WRITERS, status_code=303)
    def expand(self, round_id: Id, ctx: Ctx, request: Req) -> Any:
        try:
            with ctx.db.begin() as session:
                smp.expand(session, round_id, principal=request.user, clock=ctx.clock)
        except InvalidState as exc:
            return render_round(request, ctx, round_id, status_code=409, message=exc.detail)
        return see_other(f"/sampling/{round_id}", done="expanded")


_SHA = re.compile(r"[0-9a-f]{64}")
VISIT_FIELDS = ("visited_on", "met_member", "signed_form", "evidence")


@dataclass
class _VisitForm:
    """The visit's part of a re-check form (a new result's or a visit added later): what was typed, the photos'
    and the signed record's hashes kept from an earlier refused send, and the files sent with this one."""

    state: FormState
    photos: list[str]
    form_sha: str

    @classmethod
    def read(cls, data: dict[str, Any]) -> _VisitForm:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        photos = [h for k, h in sorted(values.items()) if k.startswith("evidence.") and _SHA.fullmatch(h)]
        form_sha = values.get("signed_form", "") if _SHA.fullmatch(values.get("signed_form", "")) else ""
        return cls(FormState(values=values), photos, form_sha)

    def visit(self, ctx: Any, request: Req, data: dict[str, Any], round_id: str, case_id: str) -> visits.VisitInput:
        """The files sent kept at once (each in its own transaction), then the visit as the form gives it; a file's
        or the day's problem is put on `state`."""
        self.form_sha = _store_uploads(ctx, request, data, round_id, case_id, self.state, self.photos, self.form_sha)
        return visits.VisitInput(visited_on=_day_or_none(data.get("visited_on"), self.state),
                                 met_member=clean(data.get("met_member")), signed_form=self.form_sha or None,
                                 evidence=tuple(self.photos))

    def refused(self, request: Req, ctx: Any, round_id: str, form_key: str, case_id: str, exc: ValidationFailed,
                known: tuple[str, ...]) -> Template:
        """The round's page again with this form's errors, the files already kept offered back as hidden hashes."""
        errors = [FieldError("evidence" if e.field.startswith("evidence[") else e.field, e.message)
                  for e in exc.errors]
        return render_round(request, ctx, round_id, status_code=422, forms={form_key: _add(self.state, errors, known)},
                            uploaded={case_id: (self.photos, self.form_sha)})


def _store_uploads(ctx: Any, request: Req, data: dict[str, Any], round_id: str, case_id: str, state: FormState,
                   photos: list[str], form_sha: str) -> str:
    """The form's photos and signed record kept for the re-check, each in its own transaction (a refusal asks for
    none again); `photos` is extended, the signed record's hash returned; each file's problem is put on `state`."""
    for field, upload in _uploads(data, "photos") + _uploads(data, "signed_form_file"):
        content = upload.file.read(ctx.settings.max_upload_bytes + 1)
        if not content:
            continue  # the file input was left empty
        try:
            with ctx.db.begin() as session:
                rnd = smp.load_round(session, round_id, request.user, for_update=True)
                sha = visits.store(session, rnd, case_id, data=content, declared_type=upload.content_type,
                                   evidence_dir=ctx.settings.evidence_dir, vault=ctx.vault,
                                   max_bytes=ctx.settings.max_upload_bytes, principal=request.user,
                                   clock=ctx.clock).sha256
        except ValidationFailed as exc:
            for e in exc.errors:
                state.add(field, f"{upload.filename}：{sl.zh(e.message)}")
            continue
        if field == "signed_form":
            form_sha = sha
        elif sha not in photos:
            photos.append(sha)
    return form_sha


def _uploads(data: dict[str, Any], name: str) -> list[tuple[str, UploadFile]]:
    """The files sent in the form's field `name`, with the field the page shows their errors by."""
    sent = data.get(name)
    field = "evidence" if name == "photos" else "signed_form"
    return [(field, u) for u in (sent if isinstance(sent, list) else [sent]) if isinstance(u, UploadFile)]


def _day_or_none(value: Any, state: FormState) -> date | None:
    """The visit day as typed: empty is left to the service (which names it missing), a bad one is named here."""
    if not clean(value):
        return None
    problems: list[FieldError] = []
    day = parse_day(value, "visited_on", problems)
    for e in problems:
        state.add(e.field, sl.zh(e.message))
    return day


def _result_input(case_id: str, data: dict[str, Any], problems: list[FieldError] | None = None,
                  visit: visits.VisitInput | None = None) -> smp.ResultInput:
    """A re-check result from the round page's form (to record or to correct), or ValidationFailed naming every
    missing field (with `problems` found by the caller)."""
    problems = list(problems or [])
    income = typed_yuan(data.get("per_capita_income"))
    if not income:
        problems.append(FieldError("per_capita_income", "必填"))
    eligible = clean(data.get("eligible"))
    if eligible not in ("yes", "no"):
        problems.append(FieldError("eligible", "必填"))
    if problems:
        raise ValidationFailed(problems)
    return smp.ResultInput(case_id=case_id, per_capita_income=income, eligible=eligible == "yes",
                           relief_amount=typed_yuan(data.get("relief_amount")) or None,
                           note=clean(data.get("note"))[:2000], visit=visit)


def _to_row(round_id: str, case_id: str, done: str) -> Redirect:
    """Back to the round's page at the sampled case's row (not the top of a long sample)."""
    return Redirect(path=f"/sampling/{round_id}?{urlencode({'done': done})}#item-{case_id}", status_code=303)


def home_cards(session: Session, user: Principal) -> list[dict[str, Any]]:
    if not user.has("county_reviewer", "insurer_supervisor"):
        return []
    cards = [{"title": "进行中的抽样复核", "href": "/sampling", "count": smp.rounds_in_progress(session, user),
              "note": "待承诺、待揭示或待录入复核结果的轮次"}]
    if user.has(hold_proposals.ROLE):
        cards.append({"title": "重新认定待县级确认", "href": "/hold-proposals?to_decide=1",
                      "count": len(hold_proposal_list.to_decide(session, user)),
                      "note": "与县级抽样复核结论不一致或按复核提高保障金的重新认定，确认后才生效"})
    return cards


def _rate(value: Any) -> str | None:
    """A rate as typed: "0.05", or as the contracts' table beside the field shows it, "5%" (or "5％")."""
    text = folded(value)
    if not text.endswith("%"):
        return text or None
    try:
        return format((Decimal(text[:-1].strip()) / 100).normalize(), "f")
    except InvalidOperation:
        return text  # refused as typed, by the sampling service
