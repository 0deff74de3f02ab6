"""An upheld objection is the village's say against a check: a neighbour reports a car, a shop, a son with a salary.
It sends the case back to be checked again, but the case went back to its old visit, still active, so the officer
whose figures were objected to recorded the re-check himself, the same figures again, and the household went back on
the notice as if nobody had objected. Now the case goes back to be scheduled (初筛通过, the visit ended), and the
officers of the checks the objection was upheld against make neither the next visit by hand (422, nothing written)
nor by the planner, as after a check sent back."""

from __future__ import annotations

from factories import staff
from insider_kit import COUNTY, check_body, head_on_record, objection_upheld
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Check, Visit

OBJECTED = "该核查员参加过异议成立的核查，重新核查须由其他核查员进行"


def _counts(ctx, case_id: str) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (int(session.scalar(select(func.count()).select_from(Check).where(Check.case_id == case_id))),
                int(session.scalar(select(func.count()).select_from(Visit).where(Visit.case_id == case_id))),
                int(session.scalar(select(func.count()).select_from(AuditEntry))))


def _login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = client.post("/api/auth/login", json={"username": username, "password": "factory-password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_attack_the_officer_objected_to_records_the_recheck_himself(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = objection_upheld(ctx, client, users)
    team0, team1 = staff(ctx, COUNTY, 0), staff(ctx, COUNTY, 1)
    head, head_id = head_on_record(ctx, case_id)
    today = ctx.clock.today().isoformat()
    with ctx.db.read() as session:
        assert session.scalar(select(Visit.id).where(Visit.case_id == case_id, Visit.active.is_(True))) is None
    before = _counts(ctx, case_id)

    # The officer whose check was objected to records the "re-check" at once, the same figures: refused.
    officer = _login(client, team0.officer1.username)
    r = client.post(f"/api/cases/{case_id}/check", headers=officer,
                    json=check_body(head, head_id, [team0.officer1.id, team0.officer2.id], today))
    assert r.status_code in (403, 409), r.text
    assert _counts(ctx, case_id)[:2] == before[:2]

    # Nor does a supervisor send him (or his partner) back by hand, whatever the reason: 422, nothing written.
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup")
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team0.officer1.id, team1.officer1.id], "visit_on": today, "vehicle": "车01",
        "reason": "熟悉该户情况"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": OBJECTED}]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team1.officer1.id, team0.officer2.id], "visit_on": today, "vehicle": "车01", "reason": "就近"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "officers[1]", r.text
    assert _counts(ctx, case_id)[:2] == before[:2]

    # The planner leaves them out.
    r = client.post("/api/schedule/plan", headers=sup, json={"county_code": COUNTY, "from": today, "days": 3})
    assert r.status_code == 200, r.text
    mine = [a for a in r.json()["assignments"] if a["case_id"] == case_id]
    assert mine and not {team0.officer1.id, team0.officer2.id} & set(mine[0]["officers"]), mine

    # Other officers check it again.
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [team1.officer1.id, team1.officer2.id], "visit_on": today, "vehicle": "车01",
        "reason": "异议成立，换人重新核查"})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=_login(client, team1.officer1.username),
                    json=check_body(head, head_id, [team1.officer1.id, team1.officer2.id], today, wages="90000.00"))
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        assert session.scalar(select(Case.status).where(Case.id == case_id)) == "checked"
