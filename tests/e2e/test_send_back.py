"""The supervisor sends a check back for another visit: a reason is required, the check stays marked as sent back,
the case is scheduled again by other officers, and the one who sent it back does not confirm what comes next."""

from __future__ import annotations

import msgspec
import pytest
from factories import COUNTY, make_case
from send_back_kit import send_back, visited_again
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.checks import service as checks
from verifier.domain.errors import Forbidden
from verifier.store.tables import User, Visit


def _team(ctx, case_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return list(session.scalar(select(Visit).where(Visit.case_id == case_id)).officer_ids)


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
    send_back(client, case_id, sup1, "医疗费用票据与医保结算单金额不一致，请重新核实")
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
    visited_again(ctx, client, case_id, sup1, team=77, visit_on="2020-06-03", note="补充核实医疗票据")

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
