"""A sampled check redone before the county's re-check.

The county's re-check compares its visit with the insurer's result, read as the case's latest check (and its
determination) when the result is recorded. An attribute round takes in checks not yet determined, and once the
round is drawn the insurer's supervisors see which households the county will visit. So a supervisor could send
back, among the sampled checks, those they feared, have other officers redo them, and let the county compare its
visit with the new check: the deviation never counted in the insurer's assessment, while the checks of the
households left out of the sample stayed as they were (the sample no longer stood for the period's work). A case
drawn in a sample is now sent back only once the county has recorded its result (409, nothing written)."""

from __future__ import annotations

from typing import Any

from deviation_helpers import drawn_round_api
from factories import COUNTY, make_case
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier.audit.models import AuditEntry


def _entries(ctx: Any) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)))


def test_attack_supervisor_sends_back_a_sampled_check_before_the_county_visits(ctx: Any, client: Any,
                                                                              users: Any) -> None:
    sampled = make_case(ctx, stage="checked", village="东村")
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    reviewer, sup = users.headers("rev"), users.headers("sup")
    round_id, drawn = drawn_round_api(client, reviewer, sup)
    assert sampled in drawn
    # The supervisor reads the sample, then sends the sampled check back to be redone.
    r = client.get(f"/api/sampling-rounds/{round_id}", headers=sup)
    assert r.status_code == 200 and sampled in r.text
    before = _entries(ctx)
    r = client.post(f"/api/cases/{sampled}/send-back", headers=sup, json={"reason": "收入核得不细，重新核查"})
    assert r.status_code == 409, r.text
    assert "抽样复核" in r.json()["detail"] and "复核结果" in r.json()["detail"]
    assert _entries(ctx) == before
    r = client.get(f"/api/cases/{sampled}", headers=sup)
    assert r.json()["status"] == "checked"
    # The determination page says why instead of offering the form.
    pages = Pages(client, users)
    pages.login("sup")
    r = pages.get(f"/cases/{sampled}/determination")
    assert r.status_code == 200 and 'id="send-back-sampled"' in r.text, r.text[-2000:]
    assert "/determination/send-back" not in r.text


def test_a_sampled_check_is_sent_back_once_the_county_has_its_result(ctx: Any, client: Any, users: Any) -> None:
    """Once the county's result is recorded (it compared its visit with this check), the check goes back as before."""
    from recheck_kit import visit_api

    sampled = make_case(ctx, stage="checked", village="东村")
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    reviewer, sup = users.headers("rev"), users.headers("sup")
    round_id, drawn = drawn_round_api(client, reviewer, sup)
    r = client.get(f"/api/cases/{sampled}", headers=reviewer)
    assert r.status_code == 200, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=reviewer, json={
        "case_id": sampled, "per_capita_income": "266.67", "eligible": True, "relief_amount": "0.00", "note": "",
        **visit_api(ctx, client, reviewer, round_id, sampled)})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{sampled}/send-back", headers=sup, json={"reason": "收入核得不细，重新核查"})
    assert r.status_code == 200, r.text


def test_a_case_outside_the_sample_is_sent_back(ctx: Any, client: Any, users: Any) -> None:
    """A checked case that no drawn round holds is sent back as before (the rule reads the drawn samples only)."""
    case_id = make_case(ctx, stage="checked", village="东村")
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/send-back", headers=users.headers("sup"), json={"reason": "重新核查"})
    assert r.status_code == 200, r.text
