"""The field officer's pages, made for a phone in a village: the visits assigned to them and the home check form.

The check form works without JavaScript (a fixed number of member rows; blank rows are ignored). Photos are stored
as soon as they arrive, before the rest of the form is checked, so a form sent back for a typing mistake never
asks for the photos again over a poor connection: they come back as hidden hashes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from litestar import Controller
from litestar.params import MultipartBody, Parameter
from litestar.response import Template

from ..accounts.probes import Limit
from ..cases import fieldlist
from ..cases.service import assigned_visit, case_status, field_officers
from ..cases.workflow import load_case
from ..cases import route_sheet
from ..checks import bills as check_bills
from ..checks import member_probes
from ..checks import service as check_service
from ..domain import late_entry
from ..domain.causes import CauseDef
from ..domain.errors import FieldError, InvalidState, ValidationFailed
from ..domain.lifecycle import refused_in_status
from ..domain.idnumber import validate_id_number
from ..households import service as households
from ..domain.income import HouseholdIncome, RigidExpenditure
from ..domain.money import format_yuan, parse_yuan
from ..http import Ctx, get, post
from ..store.paged import fold_search
from . import labels
from .photo_uploads import kept_photos, store_photos
from .typed import typed_yuan
from .common import (
    OFFICER,
    FormState,
    Req,
    add_error,
    clean,
    counties_of,
    folded,
    page,
    parse_day,
    see_other,
    user_names,
)

Id = Annotated[str, Parameter(max_length=40)]
MEMBER_ROWS = 6
MAX_MEMBER_ROWS = 30
INCOME = tuple(labels.INCOME_FIELDS)
RIGID = tuple(labels.RIGID_FIELDS)
SOURCES = tuple(labels.SOURCES)
_MEMBER_KEY = re.compile(r"members\[(\d{1,2})\]\.(name|id_number|relation|labour)")
BILL_ROWS = 2  # blank bill rows a fresh form offers (more with ＋ 添加票据)
MAX_BILL_ROWS = 30  # as many as the page's script adds
BILL_FIELDS = ("kind", "issuer", "number", "amount")
_BILL_KEY = re.compile(r"bills\[(\d{1,2})\]\.(kind|issuer|number|amount)")


class VisitPages(Controller):
    path = "/visits"

    @get("/", opt=OFFICER)
    def visits(self, ctx: Ctx, request: Req, q: Annotated[str, Parameter(max_length=200)] = "") -> Template:
        """The officer's visits, grouped (overdue, today, past, later), searched by head, case number, town or
        village."""
        today = ctx.clock.today()
        q = fold_search(q)
        with ctx.db.read() as session:
            cards = fieldlist.visit_cards(session, request.user, ctx.vault, today, q=q)
            names = user_names(session, [o for c in cards for o in c.visit.officer_ids])
        every = [{"visit": c.visit, "case": c.case, "head": c.head, "address": c.address, "phone": c.phone,
                  "tel": c.tel, "overdue": c.overdue_days, "stopped": c.stopped,
                  "partners": [names.get(o, o) for o in c.visit.officer_ids if o != request.user.id]} for c in cards]
        # a visit he would be refused on (stale, or barred by rotation now) is no work: apart, with why
        items = [i for i in every if not i["stopped"]]
        stopped = [i for i in every if i["stopped"]]
        late = [i for i in items if i["overdue"]]
        rest = [i for i in items if not i["overdue"]]
        groups = [
            ("今天", [i for i in rest if i["visit"].visit_on == today]),
            ("已过走访日期，尚未录入", [i for i in rest if i["visit"].visit_on < today]),
            ("之后", [i for i in rest if i["visit"].visit_on > today]),
        ]
        if late:
            groups.insert(0, ("已超过核查期限", late))
        return page(request, "visits.html", groups=groups, today=today, total=len(items), q=q, stopped=stopped)


ROUTE_READERS: dict[str, Any] = {"roles": route_sheet.READERS}


class RouteSheetPages(Controller):
    path = "/visits/route"

    @get("/", opt=ROUTE_READERS)
    def route(self, ctx: Ctx, request: Req, day: Annotated[str, Parameter(max_length=20)] = "",
              officer: Annotated[str, Parameter(max_length=40)] = "") -> Template:
        """The route sheet of a day to print: the officer's own, or (supervisors) any officer's or all of them."""
        user = request.user
        today = ctx.clock.today()
        problems: list[FieldError] = []
        chosen = parse_day(day, "day", problems, required=False) if day else today
        message = "请按 年-月-日 填写日期；下面是今天的路线单。" if problems or chosen is None else ""
        chosen = chosen or today
        supervisor = user.has("insurer_supervisor")
        with ctx.db.read() as session:
            sheets = route_sheet.route_sheets(session, user, ctx.vault, day=chosen,
                                              officer_id=(officer or None) if supervisor else user.id, today=today)
            officers = ({o.id: o.display_name for county in counties_of(session, user)
                         for o in field_officers(session, county)} if supervisor else {})
        return page(request, "route_sheet.html", status_code=422 if message else 200, sheets=sheets, day=chosen,
                    officer=officer, officers=officers, supervisor=supervisor, message=message)


@dataclass
class ParsedCheck:
    data: check_service.CheckInput | None
    problems: list[FieldError] = field(default_factory=list)
    member_rows: list[int] = field(default_factory=list)  # the form row of each member sent to the service
    bill_rows: list[int] = field(default_factory=list)  # the form row of each bill sent to the service
    sources: list[str] = field(default_factory=list)  # the source of each cross-check sent to the service


def _money(form: Mapping[str, Any], name: str, problems: list[FieldError]) -> int:
    text = typed_yuan(form.get(name))
    if not text:
        return 0  # a blank amount is none of that income or cost
    try:
        return parse_yuan(text, name)
    except ValidationFailed as exc:
        problems.extend(exc.errors)
        return 0


def rigid_fields(cause: CauseDef) -> list[tuple[str, str]]:
    """The rigid-expenditure fields a check form asks: the three the scheme started with, and the generic one when
    the case's cause is priced on it (named as its contract names it, e.g. 残疾康复支出)."""
    return [(k, cause.basis_name if k == cause.basis else text) for k, text in labels.RIGID_FIELDS.items()
            if k != "other_rigid" or cause.basis == "other_rigid"]


def bill_kinds(cause: CauseDef) -> list[tuple[str, str]]:
    """The kinds of bill the form offers: those of the rigid expenditures it asks (`rigid_fields`)."""
    asked = {k for k, _ in rigid_fields(cause)}
    kinds = [(kind, labels.BILL_KINDS[kind]) for kind, name in check_bills.KINDS.items() if name in asked]
    return sorted(kinds, key=lambda k: check_bills.KINDS[k[0]] != cause.basis)  # the case's own kind first


def member_rows(form: Mapping[str, Any]) -> list[int]:
    rows = {int(m.group(1)) for k in form if (m := _MEMBER_KEY.fullmatch(k))}
    return sorted(i for i in rows if i < MAX_MEMBER_ROWS)


def bill_rows(form: Mapping[str, Any]) -> list[int]:
    rows = {int(m.group(1)) for k in form if (m := _BILL_KEY.fullmatch(k))}
    return sorted(i for i in rows if i < MAX_BILL_ROWS)


def _bills(form: Mapping[str, Any], problems: list[FieldError]) -> tuple[list[dict[str, Any]], list[int]]:
    """The bills typed (blank rows skipped), as the check service takes them, and the form row of each. An amount
    is checked here as every money field of the form is; what the service says of a bill comes back to its row."""
    bills: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in bill_rows(form):
        typed = {k: clean(form.get(f"bills[{i}].{k}")) for k in BILL_FIELDS}
        if not any(typed[k] for k in ("issuer", "number", "amount")):
            continue  # a blank row (its kind alone chosen is nothing to keep)
        if not typed["amount"]:
            problems.append(FieldError(f"bills[{i}].amount", "必填"))
        typed["amount"] = format_yuan(_money(form, f"bills[{i}].amount", problems))
        bills.append(typed)
        rows.append(i)
    return bills, rows


def _member_problems(members: list[dict[str, Any]], rows: list[int], today: date | None) -> list[FieldError]:
    """What the check service would also say of each member row (a mistyped ID number, no relation or labour
    chosen), told with the form's own problems so that the officer corrects everything in one go."""
    problems: list[FieldError] = []
    for m, i in zip(members, rows):
        if m["id_number"]:
            try:
                validate_id_number(m["id_number"], f"members[{i}].id_number", today=today)
            except ValidationFailed as exc:
                problems += exc.errors
        if m["relation"] not in check_service.RELATIONS:
            problems.append(FieldError(f"members[{i}].relation", "请选择与户主关系"))
        if m["labour"] not in check_service.LABOUR:
            problems.append(FieldError(f"members[{i}].labour", "请选择劳动能力"))
    return problems


def parse_check(form: Mapping[str, Any], officers: list[str], evidence: list[str],
                today: date | None = None) -> ParsedCheck:
    """The form as the service's CheckInput; problems the service cannot see (money, dates) are reported here,
    with what is wrong in the member rows (the service would only say so once these are put right)."""
    problems: list[FieldError] = []
    visited_on = parse_day(form.get("visited_on"), "visited_on", problems)
    members: list[dict[str, Any]] = []
    rows: list[int] = []
    for i in member_rows(form):
        name = clean(form.get(f"members[{i}].name"))
        idn = "".join(folded(form.get(f"members[{i}].id_number")).split()).upper()
        if not name and not idn:
            continue  # a blank row: the form always offers a few
        if not name:
            problems.append(FieldError(f"members[{i}].name", "必填"))
        if not idn:
            problems.append(FieldError(f"members[{i}].id_number", "必填"))
        members.append({"name": name, "id_number": idn, "relation": clean(form.get(f"members[{i}].relation")),
                        "labour": clean(form.get(f"members[{i}].labour"))})
        rows.append(i)
    income = {k: _money(form, f"income.{k}", problems) for k in INCOME}
    rigid = {k: _money(form, f"rigid_expenditure.{k}", problems) for k in RIGID}
    stable = clean(form.get("stable_income"))
    if stable not in ("yes", "no"):
        problems.append(FieldError("stable_income", "必填"))
    payee = {k: clean(form.get(f"payee.{k}")) for k in ("account_name", "bank", "account_number")}
    payee["account_number"] = "".join(folded(payee["account_number"]).split())
    cross: list[dict[str, str]] = []
    sources: list[str] = []
    for source in SOURCES:
        finding = clean(form.get(f"cross.{source}"))
        if finding in ("consistent", "inconsistent"):
            cross.append({"source": source, "finding": finding, "note": clean(form.get(f"cross.{source}.note"))})
            sources.append(source)
    bills, bill_rows_sent = _bills(form, problems)
    late_reason = late_entry.clean_reason(clean(form.get("late_entry_reason")))
    if visited_on is not None and today is not None:
        # what the service would say too, told at once with the form's other problems
        problems += late_entry.problems(visited_on, today, late_reason)
    if problems or visited_on is None:
        return ParsedCheck(None, problems + _member_problems(members, rows, today), rows, sources=sources,
                          bill_rows=bill_rows_sent)
    data = check_service.CheckInput(
        visited_on=visited_on, officers=list(officers), members=members,
        income=HouseholdIncome(**income), rigid=RigidExpenditure(**rigid), stable_income=stable == "yes",
        payee=payee if any(payee.values()) else None, cross_checks=cross, evidence=list(evidence),
        note=clean(form.get("note")), bills=bills, late_entry_reason=late_reason,
    )
    return ParsedCheck(data, [], rows, sources=sources, bill_rows=bill_rows_sent)


def _rename(f: FieldError, parsed: ParsedCheck) -> str:
    """A service error's field as the form's field (the service counts only the rows it was sent)."""
    if m := re.fullmatch(r"members\[(\d+)\](.*)", f.field):
        k = int(m.group(1))
        return f"members[{parsed.member_rows[k]}]{m.group(2)}" if k < len(parsed.member_rows) else "members"
    if m := re.fullmatch(r"bills\[(\d+)\](.*)", f.field):
        k = int(m.group(1))
        return f"bills[{parsed.bill_rows[k]}]{m.group(2)}" if k < len(parsed.bill_rows) else "bills"
    if m := re.fullmatch(r"cross_checks\[(\d+)\].*", f.field):
        k = int(m.group(1))
        return f"cross.{parsed.sources[k]}" if k < len(parsed.sources) else "cross"
    if f.field.startswith("evidence"):
        return "photos"
    return f.field


def _known_fields(rows: int, bills: int = BILL_ROWS) -> set[str]:
    names = {"visited_on", "late_entry_reason", "members", "bills", "stable_income", "note", "photos", "cross",
             *(f"income.{k}" for k in INCOME),
             *(f"rigid_expenditure.{k}" for k in RIGID), "payee.account_name", "payee.bank", "payee.account_number",
             *(f"cross.{s}" for s in SOURCES)}
    names |= {f"members[{i}].{p}" for i in range(rows) for p in ("name", "id_number", "relation", "labour")}
    names |= {f"bills[{i}].{p}" for i in range(bills) for p in BILL_FIELDS}
    return names


class CheckPages(Controller):
    path = "/cases/{case_id:str}/check"

    def _render(self, request: Req, ctx: Any, case_id: str, state: FormState | None, *, status_code: int = 200,
                evidence: list[str] | None = None, message: str | None = None, rows: int = MEMBER_ROWS,
                conflicts: list[dict[str, Any]] | None = None, bills: int = BILL_ROWS) -> Template:
        user = request.user
        with ctx.db.read() as session:
            case, visit = assigned_visit(session, case_id, user)
            if case.status != "scheduled" and state is None:
                raise InvalidState(refused_in_status(case.status, "录入核查结果"))
            names = user_names(session, visit.officer_ids)
            photos = check_service.evidence_of(session, case.id, evidence or [])
            head = case.household.head_name
            cause = check_service.cause_of(session, case)
            if state is None:  # a fresh form: the members already known, to be confirmed at the door
                known = households.household_members(session, case.household_id)
                values: dict[str, Any] = {"visited_on": min(ctx.clock.today(), max(visit.visit_on, case.referred_on))
                                          .isoformat()}
                for i, m in enumerate(known[:MAX_MEMBER_ROWS]):
                    values[f"members[{i}].name"] = m.name
                    values[f"members[{i}].id_number"] = ctx.vault.open(m.id_number_enc, "member.id_number")
                    values[f"members[{i}].relation"] = m.relation or ("head" if i == 0 else "other")
                    values[f"members[{i}].labour"] = m.labour or ""
                state = FormState(values=values)
                rows = max(rows, len(known) + 2)
        rows = min(max(rows, MEMBER_ROWS), MAX_MEMBER_ROWS)
        return page(request, "check.html", status_code=status_code, active="/visits", case=case, head=head, visit=visit,
                    officer_names=[names.get(o, o) for o in visit.officer_ids], form=state, rows=rows,
                    evidence=photos, message=message, today=ctx.clock.today(), conflicts=conflicts or [],
                    merges=user.has(households.ROLE),
                    income_fields=list(labels.INCOME_FIELDS.items()), rigid_fields=rigid_fields(cause),
                    rigid_basis=cause.basis, bill_rows=min(max(bills, BILL_ROWS), MAX_BILL_ROWS),
                    bill_kinds=bill_kinds(cause), late_entry_days=late_entry.LATE_ENTRY_DAYS,
                    scheduled_on=min(late_entry.recorded_on(visit.created_at), ctx.clock.today()),
                    relations=list(labels.RELATIONS.items()), labour=list(labels.LABOUR.items()),
                    sources=list(labels.SOURCES.items()))

    @get("/", opt=OFFICER)
    def form(self, case_id: Id, ctx: Ctx, request: Req,
             rows: Annotated[int, Parameter(ge=1, le=MAX_MEMBER_ROWS)] = MEMBER_ROWS,
             bills: Annotated[int, Parameter(ge=1, le=MAX_BILL_ROWS)] = BILL_ROWS) -> Any:
        with ctx.db.read() as session:
            case = load_case(session, case_id, request.user)
            latest = check_service.latest_check(session, case.id) if case.status != "scheduled" else None
        if latest is not None and request.user.id in latest.officer_ids:
            # Back to the form after sending it (the back button, a bookmark): the check is in, show it.
            return see_other(f"/cases/{case_id}", done="check_done")
        return self._render(request, ctx, case_id, None, rows=rows, bills=bills)

    @post("/", opt=OFFICER, status_code=303)
    def submit(self, case_id: Id, ctx: Ctx, request: Req, data: MultipartBody[dict[str, Any]]) -> Any:
        user = request.user
        with ctx.db.read() as session:  # a stale visit's officer sending photos: refused on record (回避拦截记录)
            case, visit = assigned_visit(session, case_id, user, adding=True, clock=ctx.clock)
            officers = list(visit.officer_ids)
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        rows = max([MEMBER_ROWS, *(i + 1 for i in member_rows(values))])
        bills = max([BILL_ROWS, *(i + 1 for i in bill_rows(values))])
        known = _known_fields(rows, bills)
        evidence = kept_photos(values)  # in the order they were sent (evidence.2 before evidence.10)
        state = FormState(values=values)
        for refused in store_photos(ctx, case_id, data.get("photos"), user, evidence):
            state.add("photos", refused)

        parsed = parse_check(values, officers, evidence, today=ctx.clock.today())
        if parsed.data is None or state.failed:
            for e in parsed.problems:
                add_error(state, e, known, {})
            return self._render(request, ctx, case_id, state, status_code=422, evidence=evidence, rows=rows,
                                bills=bills)
        try:
            with ctx.db.begin() as session:
                check_service.record_check(session, case_id, parsed.data, vault=ctx.vault, principal=user,
                                           clock=ctx.clock, lookups=Limit.of(ctx.settings))
        except ValidationFailed as exc:
            for e in exc.errors:
                add_error(state, FieldError(_rename(e, parsed), e.message), known, {})
            return self._render(request, ctx, case_id, state, status_code=422, evidence=evidence, rows=rows, bills=bills,
                                conflicts=_other_households(ctx, request, case_id, parsed, exc))
        except member_probes.TooManyNewMembers as exc:
            # the form kept, nothing compared (checks/member_probes.py)
            return self._render(request, ctx, case_id, state, status_code=429, evidence=evidence, rows=rows, bills=bills,
                                message=exc.detail)
        except InvalidState as exc:
            with ctx.db.read() as session:
                latest = check_service.latest_check(session, case_id)
            if latest is not None and latest.recorded_by == user.id and status_now(ctx, case_id) == "checked":
                # Sent twice (the first answer lost on a poor connection): the first one counted; show it.
                return see_other(f"/cases/{case_id}", done="already")
            return self._render(request, ctx, case_id, state, status_code=409, evidence=evidence, rows=rows, bills=bills,
                                message=exc.detail)
        # The case page it leads to says whether the payee account also pays another household (`case_warning`).
        return see_other(f"/cases/{case_id}", done="check")


ANOTHER_HOUSEHOLD = check_service.ANOTHER_HOUSEHOLD


def _other_households(ctx: Any, request: Req, case_id: str, parsed: ParsedCheck,
                      exc: ValidationFailed) -> list[dict[str, Any]]:
    """For each member refused as "recorded in another household" (of this county), that household, masked: the
    officer sees why and asks the supervisor to merge the two (the form offers the supervisor the merge)."""
    rows = [int(m.group(1)) for e in exc.errors if e.message == ANOTHER_HOUSEHOLD
            and (m := re.fullmatch(r"members\[(\d+)\]\.id_number", e.field))]
    if not rows or parsed.data is None:
        return []
    found: list[dict[str, Any]] = []
    with ctx.db.read() as session:
        home = load_case(session, case_id, request.user).household_id
        for k in rows:
            if k >= len(parsed.data.members):
                continue
            other = households.conflict_household(session, ctx.vault, request.user, home,
                                                  parsed.data.members[k]["id_number"])
            if other is not None and all(f["household"].id != other.id for f in found):
                found.append({"row": parsed.member_rows[k] + 1, "household": other, "home": home})
    return found


def status_now(ctx: Any, case_id: str) -> str | None:
    with ctx.db.read() as session:
        return case_status(session, case_id)
