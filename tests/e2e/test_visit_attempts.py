"""A visit that produced no check (nobody home, refused, moved away) is recorded by an assigned officer, counts as a
visit in the month's figures, and sends the case back to be scheduled again."""

from __future__ import annotations

from door_kit import upload_door_photo
from factories import COUNTY, make_case, new_id_number
from sqlalchemy import select

from verifier.accounts.auth import Principal, principal_of
from verifier.checks import service as checks
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.store.tables import User, Visit


def _team_of(ctx, case_id: str) -> list[Principal]:  # type: ignore[no-untyped-def]
    """The two officers of the case's active visit."""
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True)))
        return [principal_of(session.get(User, o)) for o in visit.officer_ids]


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_nobody_home_is_a_visit_and_the_case_is_visited_again(client, users, ctx, clock) -> None:
    case_id = make_case(ctx, stage="scheduled")
    team = _team_of(ctx, case_id)
    officer = _login(client, team[0].username)
    body = {"visited_on": "2020-06-01", "officers": [team[0].id, team[1].id], "outcome": "not_home",
            "note": "邻居说全家外出务工", "evidence": [upload_door_photo(client, officer, case_id, "2020-06-01")]}

    # Bad input: every problem named, nothing stored.
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=officer,
                    json={**body, "visited_on": "2020-06-09", "outcome": "other", "note": " ",
                          "officers": [team[0].id, team[0].id]})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"visited_on", "officers", "note"}
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=officer, json={**body, "outcome": "gone"})
    assert r.status_code == 400  # not one of the outcomes

    # An officer who is not assigned may not record it.
    users.add("stranger", "field_officer", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=users.headers("stranger"), json=body)
    assert r.status_code == 403
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    assert client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()["visit_attempts"] == []

    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers={**officer, "Idempotency-Key": "att-1"}, json=body)
    assert r.status_code == 201, r.text
    assert (r.json()["outcome"], r.json()["status"]) == ("not_home", "screened")
    # Sent again on a poor connection: the first answer, nothing twice.
    again = client.post(f"/api/cases/{case_id}/visit-attempts", headers={**officer, "Idempotency-Key": "att-1"},
                        json=body)
    assert again.status_code == 201 and again.json() == r.json()
    # Without the key, the case is no longer scheduled to these officers: refused.
    assert client.post(f"/api/cases/{case_id}/visit-attempts", headers=officer, json=body).status_code == 403

    detail = client.get(f"/api/cases/{case_id}", headers=users.headers("sup")).json()
    assert detail["status"] == "screened"
    assert [(a["outcome"], a["visited_on"]) for a in detail["visit_attempts"]] == [("not_home", "2020-06-01")]
    assert not any(v["active"] for v in detail["visits"])
    assert [h["action"] for h in detail["history"]][-1] == "case.visit_failed"

    # Scheduled again, checked on the second visit: two visits, one household, one check, four person-visits.
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [team[0].id, team[1].id], "visit_on": "2020-06-03", "vehicle": "车01"})
    assert r.status_code == 200, r.text
    clock.advance(days=2)
    with ctx.db.begin() as session:
        checks.record_check(session, case_id, checks.CheckInput(
            visited_on=clock.today(), officers=[team[0].id, team[1].id],
            members=[{"name": "张三", "id_number": new_id_number(), "relation": "head", "labour": "partial"}],
            income=HouseholdIncome(wages=300_000), rigid=RigidExpenditure(medical_self_paid=4_000_000),
            stable_income=False, payee=None, cross_checks=[], evidence=[], note=""),
            vault=ctx.vault, principal=team[0], clock=ctx.clock)
    report = client.get("/api/reports/monthly", headers=users.headers("sup"),
                        params={"county_code": COUNTY, "month": "2020-06"}).json()["checks"]
    assert (report["completed"], report["visits"], report["households_visited"], report["person_visits"]) == (1, 2, 1, 4)
    assert (report["without_check"], report["without_check_by_outcome"]) == (1, {"not_home": 1})
