"""One town clerk may enter a household's own application, record its village evaluation (通过) and post its notice:
a town with one clerk must be able to work. What can that clerk do alone? Between those steps the insurer's officers
check the household at the door (incomes, members, bills, payee) and a supervisor who made no part of the check
confirms the relief; after them the notice runs its full period and a batch is prepared and paid by others. So the
clerk chooses neither the amount nor the payee. One thing the clerk did choose and nobody else looked at again: the
household group named on the application, which decides the relief tiers (非高标准脱贫户: a 5,000 yuan deductible under
the demo contract; 非贫低收入户: 20,000). Where the county has its roster, an application's group is the roster's for
the applicant: another is refused (422, naming the roster's), nothing written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from factories import COUNTY, new_id_number
from insider_kit import check_body, head_on_record, schedule
from roster_kit import post_confirmed
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Household


def _roster(rows: list[tuple[str, str]]) -> bytes:
    lines = ["序号,姓名,证件号码,与户主关系,监测对象类别"] + [
        f"{i},人员{i},{idn},户主,{category}" for i, (idn, category) in enumerate(rows, start=1)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _written(ctx: Any) -> tuple[int, ...]:
    with ctx.db.read() as session:
        return (session.scalar(select(func.count()).select_from(Case)),
                session.scalar(select(func.count()).select_from(Household)),
                session.scalar(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action.not_like("user.%"))))


def _application(id_number: str, group: str) -> dict[str, Any]:
    return {"county_code": COUNTY, "id_number": id_number, "name": "申请人甲", "town": "城关镇", "village": "东村",
            "household_group": group, "cause": "illness", "amount": "40000.00"}


def test_attack_one_clerk_carries_an_application_through_to_its_notice(ctx, client, users,
                                                                        clock) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    clerk, sup, today = users.headers("clerk"), users.headers("sup"), ctx.clock.today().isoformat()

    # The county's roster: the applicant is on none (a 非贫低收入户 candidate); someone else left poverty.
    applicant, exited = new_id_number(), new_id_number()
    post_confirmed(client, ctx, users.headers("reviewer"), _roster([(exited, "脱贫户")]))

    # The clerk names the group with the lower deductible: refused, naming the roster's group; nothing written.
    before = _written(ctx)
    r = client.post("/api/referrals", headers=clerk, json=_application(applicant, "exited_low_standard"))
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"household_group"}
    assert "名单上此人应为非贫低收入户，不是非高标准脱贫户" in r.text
    assert _written(ctx) == before
    r = client.post("/api/referrals", headers=clerk, json=_application(applicant, "low_income"))
    assert r.status_code == 201, r.text
    case_id = r.json()["case_id"]
    before = _written(ctx)
    r = client.post(f"/api/cases/{case_id}/application", headers=clerk, json={
        key: value for key, value in _application(applicant, "exited_low_standard").items()
        if key not in ("county_code", "id_number")})
    assert r.status_code == 422 and "名单上此人应为非贫低收入户" in r.text, r.text  # nor by editing it afterwards
    assert _written(ctx) == before
    r = client.post(f"/api/cases/{case_id}/screening", headers=clerk, json={"decision": "pass"})
    assert r.status_code == 200, r.text

    # The insurer's steps are not the clerk's: scheduling, the check at the door, the determination.
    before = _written(ctx)
    officers = [users.ids["off1"], users.ids["off2"]]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=clerk,
                    json={"officers": officers, "visit_on": today, "vehicle": "车01"})
    assert r.status_code == 403, r.text
    head = head_on_record(ctx, case_id)
    r = client.post(f"/api/cases/{case_id}/check", headers=clerk, json=check_body(*head, officers, today))
    assert r.status_code == 403, r.text
    r = client.post(f"/api/cases/{case_id}/determination", headers=clerk, json={"confirm": True})
    assert r.status_code == 403, r.text
    assert _written(ctx) == before
    schedule(client, sup, case_id, officers, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("off1"),
                    json=check_body(*head, officers, today, account="6222020200998877665"))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200 and r.json()["eligible"], r.text
    relief = r.json()["relief"]

    # The clerk records 通过 and posts the notice: a town with one clerk works. The notice lists the insurer's
    # relief for the roster's group, not one of the clerk's choosing.
    r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                    json={"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    body = {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today}
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": (
        ctx.clock.today() - timedelta(days=3)).isoformat()})
    assert r.status_code == 422, r.text  # never dated back so that its period has run
    r = client.post("/api/notices", headers=clerk, json=body)
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        assert (case.status, case.household_group) == ("in_notice", "low_income")

    # Nor is the money the clerk's: the notice cannot be closed before its period has run, and a batch is claims'.
    before = _written(ctx)
    r = client.post(f"/api/notices/{notice_id}/close", headers=clerk)
    assert r.status_code == 409, r.text
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=clerk, json={})
    assert r.status_code == 403, r.text  # nor is the notice on the wall the clerk's word alone (notices/posting.py)
    r = client.post("/api/payment-batches", headers=clerk, json={"county_code": COUNTY, "case_ids": [case_id]})
    assert r.status_code == 403, r.text
    r = client.post(f"/api/cases/{case_id}/payee", headers=clerk, json={
        "account_name": "申请人甲", "bank": "农村商业银行", "account_number": "6222020200112233445", "reason": "换卡"})
    assert r.status_code == 403, r.text  # a change of payee is asked for by the insurer or finance, approved by another
    assert _written(ctx) == before
    assert relief["amount"] == client.get(f"/api/cases/{case_id}", headers=sup).json()["determination"]["relief"][
        "amount"]
