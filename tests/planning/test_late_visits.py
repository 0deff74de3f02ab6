"""Nobody is left unvisited: cases past their due date are planned first, scheduled by hand with a warning, and
each check records by how many days it was late; the report counts late checks; the working calendar is the
contract's."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from factories import COUNTY, accept_contract, head_on_record, make_case, staff

from verifier.contract import check_contract_text
from verifier.store.contracts import add_contract

DEMO = Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml"


def _demo_without_calendar() -> str:
    text = DEMO.read_text("utf-8")
    assert "[visits]" not in text  # the demo keeps the default calendar
    return text


def _check_body(head: tuple[str, str], officers: list[str], visited_on: str) -> dict:
    """`head`: (name, ID number) on record (`head_on_record`)."""
    name, id_number = head
    return {
        "visited_on": visited_on, "officers": officers,
        "members": [{"name": name, "id_number": id_number, "relation": "head", "labour": "partial"}],
        "income": {"wages": "3000.00", "business_net": "0.00", "property_net": "0.00", "transfer_net": "0.00",
                   "productive_costs": "0.00"},
        "rigid_expenditure": {"medical_self_paid": "40000.00", "schooling": "0.00", "disaster_loss": "0.00"},
        "stable_income": False,
        "payee": {"account_name": name, "bank": "农村商业银行", "account_number": "6222020200112233445"},
        "cross_checks": [], "evidence": [], "note": "",
    }


def test_an_overdue_case_is_planned_first_scheduled_late_and_its_check_counted_late(client, users, ctx, clock) -> None:
    # Referred on 2020-05-10 while the officers were busy: due 2020-05-20, today is 2020-06-01.
    late_case = make_case(ctx, stage="screened", referred_on=date(2020, 5, 10), village="西村")
    fresh_case = make_case(ctx, stage="screened", referred_on=date(2020, 5, 29), village="东村")
    team = staff(ctx)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")

    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": "2020-06-01", "days": 5})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["overdue"] == [{"case_id": late_case, "due_on": "2020-05-20", "days_overdue": 12}]
    by_case = {a["case_id"]: a for a in plan["assignments"]}
    assert by_case[late_case]["visit_on"] == "2020-06-01" and by_case[late_case]["days_late"] == 12
    assert by_case[fresh_case]["days_late"] == 0 and by_case[fresh_case]["due_on"] == "2020-06-08"
    assert plan["unplaced"] == []

    # By hand, after the due date: accepted, and the answer says how late.
    r = client.post(f"/api/cases/{late_case}/schedule", headers=sup, json={
        "officers": [team.officer1.id, team.officer2.id], "visit_on": "2020-06-02", "vehicle": "车01"})
    assert r.status_code == 200, r.text
    assert (r.json()["due_on"], r.json()["days_late"]) == ("2020-05-20", 13)
    # Before the referral is still refused.
    r = client.post(f"/api/cases/{fresh_case}/schedule", headers=sup, json={
        "officers": [team.officer1.id, team.officer2.id], "visit_on": "2020-05-28", "vehicle": "车01"})
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "visit_on", "message": "不能早于接收日期 2020-05-29（填写的是 2020-05-28）"}]

    # The check at the door, two days after scheduling: 14 days late, recorded on the check.
    clock.advance(days=2)
    officer = _login(client, team.officer1.username)
    r = client.post(f"/api/cases/{late_case}/check", headers=officer,
                    json=_check_body(head_on_record(ctx, late_case), [team.officer1.id, team.officer2.id], "2020-06-03"))
    assert r.status_code in (200, 201), r.text
    check = client.get(f"/api/cases/{late_case}", headers=sup).json()["checks"][0]
    assert (check["due_on"], check["days_late"]) == ("2020-05-20", 14)

    # The month's report counts it among the checks, as late.
    report = client.get("/api/reports/monthly", headers=sup, params={"county_code": COUNTY, "month": "2020-06"}).json()
    assert (report["checks"]["completed"], report["checks"]["late"]) == (1, 1)


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _contract(county: str, visits: str):  # type: ignore[no-untyped-def]
    text = _demo_without_calendar()
    text = text.replace('id = "demo-2020"', f'id = "cal-{county}"').replace('"340223"', f'"{county}"')
    contract, problems = check_contract_text((text + "\n" + visits).encode("utf-8"))
    assert contract is not None, problems
    return contract


def test_the_working_calendar_and_capacity_come_from_the_contract(client, users, ctx) -> None:
    county = "340299"
    # One visit an officer a day; Tuesday 2020-06-02 a holiday; Saturday 2020-06-06 worked in exchange.
    contract = _contract(county, "[visits]\ncapacity_per_day = 1\nholidays = [2020-06-02]\n"
                                 "extra_workdays = [2020-06-06]\n")
    with ctx.db.begin() as session:
        add_contract(session, contract, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)  # as the county would
    cases = [make_case(ctx, stage="screened", referred_on=date(2020, 5, 29), county=county, village=f"村{i}")
             for i in range(4)]
    team = staff(ctx, county)
    users.add("sup2", "insurer_supervisor", counties=(county,))
    sup = users.headers("sup2")
    r = client.post("/api/schedule/plan", headers=sup,
                    json={"county_code": county, "from": "2020-06-01", "days": 3})
    assert r.status_code == 200, r.text
    assignments = r.json()["assignments"]
    assert assignments and "2020-06-02" not in {a["visit_on"] for a in assignments}  # the holiday
    per_officer_day = Counter((o, a["visit_on"]) for a in assignments for o in a["officers"])
    assert set(per_officer_day.values()) == {1}  # the contract's capacity, not the default of four
    # The weekend worked in exchange: Saturday yes, Sunday no.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": county, "from": "2020-06-06", "days": 2})
    assert {a["visit_on"] for a in r.json()["assignments"]} == {"2020-06-06"}

    # By hand, a second visit for the same officers on one day is over the contract's capacity of one.
    first, second = cases[0], cases[1]
    body = {"officers": [team.officer1.id, team.officer2.id], "visit_on": "2020-06-06", "vehicle": "车01"}
    assert client.post(f"/api/cases/{first}/schedule", headers=sup, json=body).status_code == 200
    r = client.post(f"/api/cases/{second}/schedule", headers=sup, json=body)
    assert r.status_code == 422
    assert "（每日最多 1 户）" in r.json()["errors"][0]["message"]


def test_a_contract_with_a_bad_calendar_lists_every_problem() -> None:
    text = _demo_without_calendar() + "\n[visits]\ncapacity_per_day = 0\nworkdays = [0, 8]\n" \
        "holidays = [2020-10-01]\nextra_workdays = [2020-10-01]\n"
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is None
    assert {p.field for p in problems} == {"visits.capacity_per_day", "visits.workdays[0]", "visits.workdays[1]",
                                          "visits.extra_workdays"}


def test_the_planners_reasons_read_in_chinese() -> None:
    from verifier.domain.planning import Officer, PlanCase, Vehicle, plan_visits
    from verifier.web.labels import message_zh

    cases = [PlanCase("a", "T", "V", date(2020, 6, 1), date(2020, 5, 30)),  # due before referral
             PlanCase("b", "T", "V", date(2020, 7, 1), date(2020, 7, 11)),  # after the window
             PlanCase("c", "T", "V", date(2020, 5, 1), date(2020, 5, 11))]  # nobody free
    plan = plan_visits(cases, [Officer("o1")], [Vehicle("v")], date(2020, 6, 1), 5)
    reasons = {u.case_id: u.reason for u in plan.unplaced}
    assert len(reasons) == 3
    for reason in reasons.values():  # said in Chinese by the planner itself: the tables leave it as it is
        assert message_zh(reason) == reason and not reason.isascii(), reason
    assert reasons == {"a": "核查期限 2020-05-30 早于接收日期 2020-06-01，请核对案件日期",
                       "b": "接收日期 2020-07-01 晚于排期结束日 2020-06-05",
                       "c": "没有两名空闲的核查员（排期截至 2020-06-05，核查期限 2020-05-11）"}
