"""An objection to a case on the public notice is the village's say. A clerk alone could take it down and dismiss it
themselves (or dismiss a complaint against the notice they posted), and the household is paid as if nobody had
objected. A dismissal is decided by another clerk of the town or the county reviewer; upholding (which only sends
the case back to be checked again) stays open to the clerk."""

from __future__ import annotations

from deviation_helpers import declare_sibling
from factories import COUNTY, make_case
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.notices.models import Objection


def _noticed(ctx, client, users) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Two cases of 东村 reviewed and on a notice posted today by `clerk`: (notice id, first case id)."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    cases = [make_case(ctx, village="东村"), make_case(ctx, village="东村")]
    today = ctx.clock.today().isoformat()
    for case_id in cases:
        r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                        json={"held_on": today, "result": "pass", "note": ""})
        assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    return r.json()["id"], cases[0]


def _object(client, headers, notice_id: str, case_id: str, today: str, summary: str = "该户有经营收入未申报"):  # type: ignore[no-untyped-def]
    r = client.post(f"/api/notices/{notice_id}/objections", headers=headers,
                    json={"case_id": case_id, "received_on": today, "summary": summary})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_attack_the_clerk_records_an_objection_and_dismisses_it_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    notice_id, case_id = _noticed(ctx, client, users)
    today = ctx.clock.today().isoformat()
    clerk = users.headers("clerk")
    objection = _object(client, clerk, notice_id, case_id, today)
    r = client.post(f"/api/objections/{objection}/resolution", headers=clerk, json={"outcome": "dismissed"})
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Objection, objection).status == "open"
        assert not session.scalar(select(AuditEntry.idx).where(AuditEntry.action == "objection.resolve"))

    # A second clerk of the town who recorded it: still the notice's own clerk may not dismiss it.
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    second = _object(client, users.headers("clerk2"), notice_id, case_id, today, summary="该户子女有稳定工作")
    r = client.post(f"/api/objections/{second}/resolution", headers=clerk, json={"outcome": "dismissed"})
    assert r.status_code == 403, r.text
    # Another clerk decides the first, the county reviewer the second.
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk2"),
                    json={"outcome": "dismissed", "note": "经核实无经营收入"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed", r.text
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    r = client.post(f"/api/objections/{second}/resolution", headers=users.headers("reviewer"),
                    json={"outcome": "dismissed", "note": "经核实子女务农"})
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        roles = list(session.scalars(select(AuditEntry.role).where(AuditEntry.action == "objection.resolve")
                                     .order_by(AuditEntry.idx)))
    assert roles == ["town_clerk", "county_reviewer"]


def test_the_clerk_may_uphold_the_objection_they_recorded(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    notice_id, case_id = _noticed(ctx, client, users)
    clerk = users.headers("clerk")
    objection = _object(client, clerk, notice_id, case_id, ctx.clock.today().isoformat())
    r = client.post(f"/api/objections/{objection}/resolution", headers=clerk, json={"outcome": "upheld"})
    assert r.status_code == 200 and r.json()["case_status"] == "screened", r.text  # to be scheduled and visited again


def test_attack_a_clerk_dismisses_the_objection_to_her_sisters_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Another clerk of the town, not the notice's, dismissing an objection keeps the case on its way to payment: not
    when the household is her relative's (回避; 422, nothing written). Upholding (sent back to be checked again) is
    not money decided, and stays open to her."""
    notice_id, case_id = _noticed(ctx, client, users)
    today = ctx.clock.today().isoformat()
    objection = _object(client, users.headers("clerk"), notice_id, case_id, today)
    users.add("sister", "town_clerk", counties=(COUNTY,))
    declare_sibling(ctx, client, users.headers("sister"), case_id)
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("sister"),
                    json={"outcome": "dismissed", "note": "经核实无经营收入"})
    assert r.status_code == 422 and "与本户成员存在回避关系" in r.text, r.text
    with ctx.db.read() as session:
        assert session.get(Objection, objection).status == "open"
        assert not session.scalar(select(AuditEntry.idx).where(AuditEntry.action == "objection.resolve"))


def test_attack_the_clerk_who_recorded_the_village_review_dismisses_the_objection_to_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The wall's confirmation bars whoever recorded a household's village review; a dismissal is money decided the
    same way: the clerk who recorded the review (通过) may not alone bury the village's objection to it, whoever
    posted the notice and recorded the objection."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("clerk3", "town_clerk", counties=(COUNTY,))
    users.add("clerk4", "town_clerk", counties=(COUNTY,))
    today = ctx.clock.today().isoformat()
    case_id = make_case(ctx, village="东村")
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk2"),
                    json={"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=users.headers("clerk"),
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    objection = _object(client, users.headers("clerk3"), r.json()["id"], case_id, today)
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk2"),
                    json={"outcome": "dismissed"})
    assert r.status_code == 403 and "村级评议" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.get(Objection, objection).status == "open"
    # upholding stays open to her (it only sends the case back to be checked again); another clerk may dismiss
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk4"),
                    json={"outcome": "dismissed", "note": "经核实无经营收入"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed", r.text
