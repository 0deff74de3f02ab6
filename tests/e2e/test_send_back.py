"""The supervisor sends a check back for another visit: a reason is required, the check stays marked as sent back,
the case is scheduled again by other officers, and the one who sent it back does not confirm what comes next."""

from __future__ import annotations

import msgspec
import pytest
from factories import COUNTY, make_case, staff
from sqlalchemy import select

from verifier.demo import demo_bills
from verifier.accounts.auth import principal_of
from verifier.checks import service as checks
from verifier.domain.errors import Forbidden
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.store.tables import Case, Member, User, Visit


def _team(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalar(select(Visit).where(Visit.case_id == case_id)).officer_ids)


def _recheck(ctx, case_id: str, officers) -> None:  # type: ignore[no-untyped-def]
    """The second visit's check, by `officers` (the household's members as the first check found them)."""
    with ctx.db.begin() as session:
        household_id = session.get(Case, case_id).household_id
        rows = session.scalars(select(Member).where(Member.household_id == household_id).order_by(Member.id)).all()
        members = [{"name": m.name, "id_number": ctx.vault.open(m.id_number_enc, "member.id_number"),
                    "relation": m.relation, "labour": m.labour or "full"} for m in rows]
        data = checks.CheckInput(
            visited_on=ctx.clock.today(), officers=[officers.officer1.id, officers.officer2.id], members=members,
            income=HouseholdIncome(wages=800_000), rigid=RigidExpenditure(medical_self_paid=4_200_000),
            stable_income=False, payee=None, cross_checks=[], evidence=[], note="补充核实医疗票据",
            bills=demo_bills(case_id, "medical_self_paid", 4_200_000))
        checks.record_check(session, case_id, data, vault=ctx.vault, principal=officers.officer1, clock=ctx.clock)


def test_a_check_sent_back_is_visited_again_by_others_and_determined_by_another(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="王五")
    first = _team(ctx, case_id)
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    sup1, sup2 = users.headers("sup1"), users.headers("sup2")
    url = f"/api/cases/{case_id}/send-back"

    assert client.post(url, json={}, headers=sup1).status_code == 400
    r = client.post(url, json={"reason": "   "}, headers=sup1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert client.post(url, json={"reason": "x"}, headers=users.headers("clerk")).status_code == 403
    r = client.post(url, json={"reason": "医疗费用票据与医保结算单金额不一致，请重新核实"}, headers=sup1)
    assert r.status_code == 200, r.text
    detail = client.get(f"/api/cases/{case_id}", headers=sup1).json()
    assert detail["status"] == "screened" and detail["history"][-1]["action"] == "case.send_back"
    check = detail["checks"][0]
    assert check["sent_back_by"] == users.ids["sup1"] and check["sent_back_reason"].startswith("医疗费用票据")
    assert client.post(url, json={"reason": "再退"}, headers=sup1).status_code == 409  # nothing checked to send back
    assert client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=sup1).status_code == 409

    # the officers of the sent-back check do not visit again
    with ctx.db.read() as session:
        names = [session.get(User, o).username for o in first]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup1,
                    json={"officers": names, "visit_on": "2020-06-03", "vehicle": "车01"})
    assert r.status_code == 422
    assert all("参加过被退回的核查" in e["message"] for e in r.json()["errors"])
    others = staff(ctx, COUNTY, team=77)
    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup1,
                    json={"officers": [others.officer1.id, others.officer2.id], "visit_on": "2020-06-03",
                          "vehicle": "车77"})
    assert r.status_code in (200, 201), r.text
    _recheck(ctx, case_id, others)

    # the one who sent it back does not confirm the next determination: another supervisor does
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=sup1)
    assert r.status_code == 403 and "须由其他审核人员确认" in r.json()["detail"]
    preview = client.post(f"/api/cases/{case_id}/determination", json={"confirm": False}, headers=sup1)
    assert preview.status_code == 200  # seeing the computation is fine
    r = client.post(f"/api/cases/{case_id}/determination", json={"confirm": True}, headers=sup2)
    assert r.status_code == 200 and r.json()["check_id"] != check["id"]
    detail = client.get(f"/api/cases/{case_id}", headers=sup2).json()
    assert [c["sent_back_at"] is not None for c in detail["checks"]] == [True, False]


def test_an_officer_supervisor_does_not_send_back_their_own_check(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    with ctx.db.read() as session:
        officer = principal_of(session.get(User, _team(ctx, case_id)[0]))
    both = msgspec.structs.replace(officer, roles=("field_officer", "insurer_supervisor"))
    with pytest.raises(Forbidden, match="您参加了这次核查"), ctx.db.begin() as session:
        checks.send_back(session, case_id, reason="自己退回", principal=both, clock=ctx.clock)
