"""Helpers of the insider tests: a case checked over HTTP by a team the caller chooses."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from factories import COUNTY, head_on_record, make_case, new_id_number
from openpyxl import Workbook
from recheck_kit import dated_photo, member_met, signed_form, upload, visit_api
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Referral


_bill_numbers = itertools.count(1)


def check_body(head: str, head_id: str, officers: list[str], visited_on: str, account: str | None = None,
               **income: str) -> dict[str, Any]:
    """A check's body recording the head under the ID number the household has on record (`head_on_record`: the
    payee at the door is a member the household had, under the name it had); `account`: the payee's, by default the
    household's own (one account per household)."""
    account = account or f"622202{secrets.randbelow(10**9):09d}3445"
    return {
        "visited_on": visited_on, "officers": officers,
        "members": [{"name": head, "id_number": head_id, "relation": "head", "labour": "partial"}],
        "income": {"wages": "3000.00", "business_net": "0.00", "property_net": "0.00", "transfer_net": "0.00",
                   "productive_costs": "0.00", **income},
        "rigid_expenditure": {"medical_self_paid": "40000.00", "schooling": "0.00", "disaster_loss": "0.00"},
        "stable_income": False,
        "payee": {"account_name": head, "bank": "农村商业银行", "account_number": account},
        "cross_checks": [], "evidence": [], "note": "",
        # The invoice behind the medical cost (a determination counts only what bills back).
        "bills": [{"kind": "medical", "issuer": "县人民医院", "number": f"K{next(_bill_numbers):08d}", "amount": "40000.00"}],
    }


def schedule(client: Any, headers: dict[str, str], case_id: str, officers: list[str], visit_on: str,
             vehicle: str = "车01") -> None:
    r = client.post(f"/api/cases/{case_id}/schedule", headers=headers,
                    json={"officers": officers, "visit_on": visit_on, "vehicle": vehicle})
    assert r.status_code == 200, r.text


def head_of(client: Any, headers: dict[str, str], case_id: str) -> str:
    r = client.get(f"/api/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["referrals"][0]["name"])


@dataclass(frozen=True)
class Visit:
    """A screened case scheduled over HTTP for two officers today: who schedules, who records, the household head."""

    case_id: str
    sup: dict[str, str]  # the insurer supervisor's headers
    off: dict[str, str]  # the first officer's headers
    officers: list[str]
    head: str
    head_id: str  # the head's ID number on record, in clear
    today: str


def payee_changed(client: Any, users: Any, case_id: str, *, by: str, approver: str, account: str,
                  reason: str = "户主说旧卡丢了") -> str:
    """`by` asks for the case's payee to be `account` in the head's name, `approver` approves: the change's id."""
    head = head_of(client, users.headers(by), case_id)
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers(by), json={
        "account_name": head, "bank": "农村商业银行", "account_number": account, "reason": reason})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers(approver))
    assert r.status_code == 200, r.text
    return str(r.json()["id"])


def scheduled_visit(ctx: Any, client: Any, users: Any, case_id: str) -> Visit:
    """`case_id` (screened) scheduled today for `off1` and `off2` by `sup`, the three added to the county."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    sup, today, officers = users.headers("sup"), ctx.clock.today().isoformat(), [users.ids["off1"], users.ids["off2"]]
    schedule(client, sup, case_id, officers, today)
    return Visit(case_id, sup, users.headers("off1"), officers, head_of(client, sup, case_id),
                 head_on_record(ctx, case_id)[1], today)


__all__ = ["COUNTY", "Visit", "check_body", "dated_photo", "head_of", "head_on_record", "member_met", "schedule", "scheduled_visit",
           "signed_form", "upload", "visit_api"]


def entries_but_refusals(ctx: Any) -> int:
    """Audit entries other than the 回避 refusals' own trace (`recusal.refused`): what a refused action must not add."""
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action != "recusal.refused")))


def refusals_of(ctx: Any, actor: str) -> list[dict[str, Any]]:
    """The `recusal.refused` entries of one person, oldest first: (subject, payload)."""
    with ctx.db.read() as session:
        rows = session.execute(select(AuditEntry.subject, AuditEntry.entry, AuditEntry.county_code).where(
            AuditEntry.action == "recusal.refused", AuditEntry.actor == actor).order_by(AuditEntry.idx)).all()
    return [{"subject": s, "county_code": c, **json.loads(e)["payload"]} for s, e, c in rows]


def household_member(ctx: Any, case_id: str, head: bool = True) -> tuple[str, str, str]:
    """(household id, member id, the member's ID number in clear): the case's head, or another member."""
    from verifier.store.tables import Case, Member

    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        member = session.scalars(select(Member).where(Member.household_id == household,
                                                      (Member.relation == "head") if head else
                                                      (Member.relation != "head")).order_by(Member.id)).first()
        return household, member.id, ctx.vault.open(member.id_number_enc, "member.id_number")


def declare_ties(client: Any, headers: dict[str, str], *id_numbers: str) -> None:
    """The caller declares these ID numbers as relatives (回避申报, through the API)."""
    r = client.post("/api/recusal/mine", headers=headers,
                    json={"entries": [{"relation": "other", "id_number": n} for n in id_numbers]})
    assert r.status_code == 200, r.text


@dataclass(frozen=True)
class MovedOut:
    """A member of `case_id`'s household (`household`) moved into `elsewhere`, the household of `other` (both cases
    checked), by the household change `change_id`; the first user (`uid`) declared the member a tie on 1 January
    of the case's contract year (`year`)."""

    case_id: str
    household: str
    other: str
    elsewhere: str
    uid: str
    year: int
    change_id: str


def moved_out_member(ctx: Any, name: str, changed_at: Callable[[int], datetime]) -> MovedOut:
    """`MovedOut` with the move dated `changed_at(year)`; its change is `hhc_test_<name>`, the tie `tie_test_<name>`."""
    from verifier.recusal.models import StaffTie
    from verifier.store.tables import Case, User

    case_id = make_case(ctx, stage="checked")
    household, member_id, relative = household_member(ctx, case_id, head=False)
    other = make_case(ctx, stage="checked")
    elsewhere, _, _ = household_member(ctx, other)
    with ctx.db.begin() as session:
        uid = session.scalar(select(User.id).order_by(User.id).limit(1))
        year = session.scalar(select(Case.contract_year).where(Case.id == case_id))
        session.add(StaffTie(id=f"tie_test_{name}", user_id=uid, relation="other",
                             id_number_enc=ctx.vault.seal(relative, "staff_tie.id_number"),
                             id_number_bidx=ctx.vault.blind_index(relative, "id_number"), declared_by=uid,
                             declared_at=datetime(year, 1, 1, tzinfo=UTC)))
    move_out(ctx, member_id, household, elsewhere, changed_at(year), f"hhc_test_{name}", by=uid)
    return MovedOut(case_id, household, other, elsewhere, uid, year, f"hhc_test_{name}")


def redate_move(ctx: Any, moved: MovedOut, changed_at: datetime) -> None:
    from verifier.households.models import HouseholdChange

    with ctx.db.begin() as session:
        session.execute(HouseholdChange.__table__.update().where(HouseholdChange.id == moved.change_id)
                        .values(changed_at=changed_at))


def recused_cases(ctx: Any, moved: MovedOut, case_ids: list[str]) -> dict[str, str]:
    """The 回避 guard's answer for the user who declared the tie: which of `case_ids` are tied, and by what household."""
    from verifier.accounts.auth import principal_of
    from verifier.recusal import guard
    from verifier.store.tables import User

    with ctx.db.read() as session:
        return guard.recused_cases(session, principal_of(session.get(User, moved.uid)), case_ids)


def move_out(ctx: Any, member_id: str, household: str, to: str, when: Any, change_id: str, *,
             by: str = "u_someone") -> None:
    """A member moved from `household` to `to` at `when` (a `household_change` of kind move, as the move step writes)."""
    from verifier.households.models import HouseholdChange
    from verifier.store.tables import Member

    with ctx.db.begin() as session:
        session.execute(Member.__table__.update().where(Member.id == member_id).values(household_id=to))
        session.add(HouseholdChange(id=change_id, kind="move", county_code=COUNTY, from_household_id=household,
                                    to_household_id=to, member_id=member_id, members=[member_id],
                                    new_household=False, merged_cases=[], moved_cases=[], reason="迁出",
                                    changed_by=by, changed_at=when))


def statements_of(ctx: Any, action: Any) -> list[str]:
    """Every statement sent while `action` runs: the ORM's and Core's (`before_cursor_execute`, every engine) and the
    prepared reads' (`readers.seen`: the session lookup)."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine, ctx.db.quick_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    ctx.db.readers.seen.append(statements.append)
    try:
        action()
    finally:
        ctx.db.readers.seen.remove(statements.append)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    return statements


KIN_REFUSAL = "与本户成员存在回避关系"


def refused_both_ways(ctx: Any, client: Any, users: Any, who: str, *, api: str, body: dict[str, Any], opened: str,
                      page: str, form: dict[str, Any]) -> Any:
    """A step `who` is tied to refused both ways, in Chinese, with nothing but the refusals written: the API's POST of
    `body` to `api`, then, logged in, the page `opened` and its form `form` posted to `page`. Returns the page's
    answer (for what else it should say)."""
    from web.pagekit import Pages

    before = entries_but_refusals(ctx)
    r = client.post(api, headers=users.headers(who), json=body)
    assert r.status_code == 422 and KIN_REFUSAL in r.text, r.text
    pages = Pages(client, users)
    pages.login(who)
    pages.get(opened)
    r = pages.post(page, form)
    assert r.status_code == 422 and KIN_REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before
    return r


def released_batch(ctx: Any, client: Any, users: Any, *others: tuple[str, str],
                   before: Callable[[list[str]], None] | None = None) -> tuple[str, list[str]]:
    """A batch of two ready cases prepared by claims1, approved by fin2 and released by fin1 (each made here unless
    made already, with `others`' (name, role) people besides): its id and its cases. `before(cases)` runs before the
    batch is prepared (a payee change, say)."""
    from deviation_helpers import person, ready_case

    cases = [ready_case(ctx), ready_case(ctx)]
    for name, role in (("claims1", "insurer_claims"), ("fin1", "finance"), ("fin2", "finance"), *others):
        if name not in users.ids:
            person(ctx, users, name, role)
    if before is not None:
        before(cases)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"), json={"county_code": COUNTY,
                                                                                     "case_ids": cases})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin2")).status_code == 200
    assert client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin1")).status_code == 200
    return bid, cases


def settled(client: Any, users: Any, batch_id: str, by: str = "fin2") -> list[str]:
    """The bank's return of a released batch, every transfer a success, imported by `by` (not its releaser): the
    items' references."""
    import csv
    import io

    bank = client.get(f"/api/payment-batches/{batch_id}/bank-file", headers=users.headers("fin1"))
    assert bank.status_code == 200, bank.text
    refs = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"],
                               *[[ref, "success", f"BK{i}", ""] for i, ref in enumerate(refs)]])
    r = client.post(f"/api/payment-batches/{batch_id}/bank-return", headers=users.headers(by),
                    files={"file": ("r.csv", out.getvalue().encode(), "text/csv")})
    assert r.status_code in (200, 201), r.text
    return refs


SLY_ACCOUNT = "6222020000000099991"


def followup_body(case_id: str, today: str, **kw: object) -> dict[str, object]:
    """A follow-up's body (the household's answers), `kw` over them (`received`, `received_amount`)."""
    return {"case_id": case_id, "done_on": today, "method": "visit", "income_change": "same", "risk_remains": False,
            "satisfaction": "satisfied", "new_needs": [], "note": "户主说没收到钱", **kw}


def paid_onto_sly(ctx: Any, client: Any, users: Any) -> tuple[list[str], dict[str, Any]]:
    """sly (supervisor) changed the first case's payee onto his own account, sup2 approved, the batch was paid
    (`released_batch`, `settled`); off9 (officer), rev1 and rev2 (county reviewers) added: the cases and each one's
    item (id, amount)."""
    from deviation_helpers import person

    from verifier.payments.models import PaymentItem

    for name, *roles in (("sly", "field_officer", "insurer_supervisor"), ("sup2", "insurer_supervisor", "field_officer"),
                         ("off9", "field_officer"), ("rev1", "county_reviewer"), ("rev2", "county_reviewer")):
        if name not in users.ids:
            person(ctx, users, name, *roles)
    bid, cases = released_batch(ctx, client, users, before=lambda cases: payee_changed(
        client, users, cases[0], by="sly", approver="sup2", account=SLY_ACCOUNT))
    settled(client, users, bid)
    with ctx.db.read() as s:
        items = {c: s.execute(select(PaymentItem.id, PaymentItem.amount).where(PaymentItem.case_id == c)).one()
                 for c in cases}
    return cases, items


def receipt_followup(client: Any, users: Any, case_id: str, today: str, received: str, amount: str) -> str:
    """off9 records the case's follow-up: the household says `received` (no, partly) and got `amount` yuan."""
    r = client.post("/api/followups", headers=users.headers("off9"),
                    json=followup_body(case_id, today, received=received, received_amount=amount))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def outside_payee_received(ctx: Any, client: Any, users: Any) -> tuple[str, list[str]]:
    """The first case's check named a payee outside the household (王代收; never a change: written into the stored
    check, as one recorded before the door refused such a payee, test_payee_outside_at_the_door.py); its batch
    released and settled, off9 recorded a follow-up where the household got nothing, and rev1 closed it as 核实已收到,
    which waits for a second look: the follow-up and the cases (off9, rev1 made by the caller)."""
    from verifier.store.tables import Check

    def outsider(cases: list[str]) -> None:
        with ctx.db.begin() as session:
            for check in session.scalars(select(Check).where(Check.case_id == cases[0])):
                check.payee_name = "王代收"

    bid, cases = released_batch(ctx, client, users, before=outsider)
    settled(client, users, bid)
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "户主说卡在代收人手里", "outcome": "received"})
    assert r.status_code == 200 and r.json()["second_needed"] is True, r.text
    return fid, cases


def closed_misdirected(ctx: Any, client: Any, users: Any) -> str:
    """sly's change paid the first case onto his card (`paid_onto_sly`); off9 recorded the follow-up, rev1 closed it
    as misdirected and rev2 confirmed the supplement: the case."""
    cases, _ = paid_onto_sly(ctx, client, users)
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/supplements/{r.json()['supplement_id']}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text
    return cases[0]


def misdirected_closing(ctx: Any, client: Any, users: Any, *, confirmed: bool = True) -> tuple[str, str, str, str]:
    """sly's change paid the first case onto his card (`paid_onto_sly`); off9 recorded the follow-up (nothing
    received), rev1 closed it as 核实未收到, and rev2 confirmed the supplement (`confirmed`): the case, the follow-up,
    the recovery and the supplement."""
    cases, _ = paid_onto_sly(ctx, client, users)
    fid = receipt_followup(client, users, cases[0], ctx.clock.today().isoformat(), "no", "0")
    r = client.post(f"/api/followups/{fid}/receipt-review", headers=users.headers("rev1"),
                    json={"note": "银行流水显示钱进了别人的卡", "outcome": "misdirected"})
    assert r.status_code == 200, r.text
    rec, sup = r.json()["recovery_id"], r.json()["supplement_id"]
    if confirmed:
        r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev2"))
        assert r.status_code == 200, r.text
    return cases[0], fid, rec, sup


def reviewed_and_posted(client: Any, clerk: dict[str, str], case_id: str, today: str) -> dict[str, Any]:
    """The clerk (`clerk`: their headers) records `case_id`'s village review (passed, `today`) and posts 城关镇东村's
    notice `today`: the notice as answered."""
    r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                    json={"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def objection_upheld(ctx: Any, client: Any, users: Any) -> str:
    """A case checked by team 0 (`factories.staff`), put on 东村's notice, and an objection to it upheld by the clerk
    `clerk` (added): the case id; the case is screened again, its visit ended."""
    case_id = make_case(ctx, village="东村", team=0)
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    notice = reviewed_and_posted(client, clerk, case_id, today)
    r = client.post(f"/api/notices/{notice['id']}/objections", headers=clerk,
                    json={"case_id": case_id, "received_on": today, "summary": "反映该户儿子在城里有稳定工作，家里有小轿车"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/objections/{r.json()['id']}/resolution", headers=clerk,
                    json={"outcome": "upheld", "note": "需重新入户核查"})
    assert r.status_code == 200 and r.json()["case_status"] == "screened", r.text
    return case_id


def as_the_old_code_left_it(ctx: Any, case_id: str, officers: list[str] | None = None) -> None:
    """`case_id`, whose objection was upheld, as the code before the visit was ended left such a case: scheduled,
    its last visit still active (`officers`: the visit's officers instead of its own, as a visit scheduled then)."""
    from verifier.store.tables import Case, Visit as VisitRow

    with ctx.db.begin() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.status == "screened"
        case.status = "scheduled"
        visit = session.scalars(select(VisitRow).where(VisitRow.case_id == case_id)
                                .order_by(VisitRow.created_at.desc())).first()
        assert visit is not None and not visit.active
        visit.active = True
        if officers is not None:
            visit.officer_ids = list(officers)


def bureau_case(ctx: Any, client: Any, users: Any) -> str:
    """A case referred by the civil-affairs bureau's list, imported over HTTP by the county reviewer
    `reviewer`: the case id."""
    book = Workbook()
    sheet = book.active
    sheet.append(["身份证号", "姓名", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    sheet.append([new_id_number(), "王秀英", "城关镇", "东村", "非贫低收入户", "因病", 30000,
                  ctx.clock.today().isoformat()])
    data = io.BytesIO()
    book.save(data)
    r = client.post("/api/referrals/imports", headers=users.headers("reviewer"),
                    data={"channel": "civil_affairs", "county_code": COUNTY},
                    files={"file": ("list.xlsx", data.getvalue(), "application/octet-stream")})
    assert r.status_code == 201 and r.json()["new_cases"] == 1, r.text
    with ctx.db.read() as session:
        return str(session.scalar(select(Referral.case_id).where(Referral.channel == "civil_affairs")))


def setter_alone_followup(ctx: Any, client: Any, users: Any, **body: object) -> tuple[str, list[str], str]:
    """Two settled cases; the first's check had `rev_off` (a field officer who is also a county reviewer) at the
    door; `rev_pal`'s password was set by him; the county reviewer `signer` signed off the batch and fin2 (who
    approved it) is also a county reviewer; every other field officer of the county is inactive. `rev_off` records
    the first case's follow-up alone (`body` over its answers): its id, the cases and the batch id."""
    from deviation_helpers import person
    from sqlalchemy import select

    from verifier.payments.models import PaymentBatch
    from verifier.store.tables import Check, User

    for name, *roles in (("rev", "county_reviewer"), ("rev_off", "county_reviewer", "field_officer"),
                         ("rev_pal", "county_reviewer"), ("signer", "county_reviewer")):
        person(ctx, users, name, *roles)
    bid, cases = released_batch(ctx, client, users)
    settled(client, users, bid)
    with ctx.db.begin() as session:
        first = session.scalar(select(Check).where(Check.case_id == cases[0], Check.seq == 1))
        first.officer_ids = [*first.officer_ids, users.ids["rev_off"]]
        session.get(User, users.ids["rev_pal"]).password_set_by = users.ids["rev_off"]
        batch = session.get(PaymentBatch, bid)
        batch.signed_off_by, batch.signed_off_at = users.ids["signer"], batch.approved_at
        fin2 = session.get(User, users.ids["fin2"])
        fin2.roles = [*fin2.roles, "county_reviewer"]
        setters = {*first.officer_ids, first.recorded_by}
        for u in session.scalars(select(User)):
            if "field_officer" in u.roles and u.id not in setters:
                u.active = False
    today = ctx.clock.today().isoformat()
    r = client.post("/api/followups", headers=users.headers("rev_off"),
                    json=followup_body(cases[0], today, **{"received": "yes", "note": "户主说钱收到了", **body}))
    assert r.status_code == 201, r.text
    assert r.json()["setter_alone"] == "waits"
    return r.json()["id"], cases, bid


def kept_flow(name: str, build: Callable[[Any, Any, Any], Any]) -> Any:
    """A kept start (tests/kept_rows.py) named `name` for a flow many tests start from, built over HTTP as a test
    builds it: `build(ctx, client, users)` runs once per test process (a client of the process's application on the
    building test's context, and a `Users` of its own), and the rows, keys, log and time it left are kept; every later
    test starts from a copy, so each still starts from rows no other test wrote. The fixture gives what `build`
    returned with the people it added and their logins (their sessions are among the kept rows): `given_to`."""
    from kept_rows import kept

    def built(ctx: Any) -> tuple[Any, dict[str, str], dict[str, str]]:
        from app_kit import the_app
        from litestar.testing import TestClient
        from users_kit import Users

        with the_app(ctx) as app, TestClient(app=app) as client:
            users = Users(ctx, client)
            value = build(ctx, client, users)
        return value, dict(users.ids), dict(users._tokens)

    return kept(name, built)


def given_to(users: Any, kept_flow_value: Any) -> Any:
    """What a `kept_flow` build returned, the test's `users` knowing the people it added and their logins, as if the
    test had built it."""
    value, ids, tokens = kept_flow_value
    users.ids.update(ids)
    users._tokens.update(tokens)
    return value


def frozen_round(client: Any, reviewer: dict[str, str], insurer: dict[str, str], start: Any, end: Any) -> str:
    """An attribute round of the county over `start`..`end` (every case of it sampled) opened, committed by both
    parties and frozen, over the API: its id."""
    r = client.post("/api/sampling-rounds", headers=reviewer, json={
        "county_code": COUNTY, "checked_from": start.isoformat(), "checked_to": end.isoformat(), "min_rate": "1.00",
        "stratify_by_town": False})
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    for party, headers in (("county", reviewer), ("insurer", insurer)):
        secret = hashlib.sha256(party.encode()).hexdigest()
        r = client.post(f"/api/sampling-rounds/{round_id}/commitments", headers=headers, json={
            "party": party, "commitment": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=reviewer)
    assert r.status_code == 200, r.text
    return str(round_id)
