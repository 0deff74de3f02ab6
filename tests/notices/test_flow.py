"""Review → notice → objections (dismissed and upheld) → close, over HTTP; then the withdrawn case's second round."""

from __future__ import annotations

import hashlib
from datetime import date

from factories import make_case, new_id_number, staff

from verifier.demo import demo_bills
from verifier.store.reader import session_reader
from verifier.accounts.auth import principal_of
from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log
from verifier.cases.service import active_visit, schedule
from verifier.checks import service as checks
from verifier.documents.notice import HEADERS
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.notices.service import notice_summary_for_case, review_summary_for_case
from verifier.store.tables import User

from .helpers import (
    DOCX,
    ID_LIKE,
    docx_rows,
    docx_xml,
    fields,
    relief_of,
    review,
    status_of,
    printed,
    yuan,
)

COUNTY = "340223"


def test_review_notice_objections_close(client, users, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("auditor", "auditor", counties=(COUNTY,))
    clerk = users.headers("clerk")
    a = make_case(ctx, village="东村", medical=4_200_000, head_name="张三丰")
    b = make_case(ctx, village="东村", medical=2_000_000, head_name="李四")
    c = make_case(ctx, village="东村", medical=6_000_000, members=5, head_name="王五")
    west = make_case(ctx, village="西村")
    unreviewed = make_case(ctx, village="东村")
    for case_id in (a, b, c, west):
        r = review(client, clerk, case_id, note="村民代表一致同意")
        assert r.status_code == 201, r.text
        assert r.json()["case_status"] == "reviewed"

    # Posted a day late, dated the day it went up.
    clock.advance(days=1)
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-01"})
    assert r.status_code == 201, r.text
    notice = r.json()
    nid = notice["id"]
    assert notice["posted_on"] == "2020-06-01" and notice["ends_on"] == "2020-06-08"  # posted_on + notice_days (7)
    assert notice["status"] == "open" and notice["village"] == "东村" and notice["scope"] == "village"
    assert {i["case_id"] for i in notice["items"]} == {a, b, c}
    reliefs = {x: relief_of(ctx, x) for x in (a, b, c)}
    assert all(v > 0 for v in reliefs.values())
    assert notice["total"] == yuan(sum(reliefs.values()))
    assert (notice["households"], notice["persons"]) == (3, 3 + 3 + 5)
    by_case = {i["case_id"]: i for i in notice["items"]}
    assert by_case[a]["head_name"] == "张三丰" and by_case[c]["household_size"] == 5
    assert all(by_case[x]["relief_amount"] == yuan(reliefs[x]) for x in (a, b, c))
    assert [status_of(ctx, x) for x in (a, b, c, west, unreviewed)] == ["in_notice"] * 3 + ["reviewed", "determined"]

    # Nothing left in the village: a second notice is refused.
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-02"})
    assert r.status_code == 422 and "village" in fields(r)

    # The .docx as posted: rows, total, no ID number anywhere.
    r = client.get(f"/api/notices/{nid}/document", headers=users.headers("auditor"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(DOCX)
    assert "attachment" in r.headers["content-disposition"] and ".docx" in r.headers["content-disposition"]
    posted = r.content
    assert hashlib.sha256(posted).hexdigest() == notice["document_sha256"]
    rows = docx_rows(posted)
    assert tuple(rows[0]) == HEADERS
    body, total = rows[1:-1], rows[-1]
    assert {row[2]: row[5] for row in body} == {"张三丰": printed(reliefs[a]), "李四": printed(reliefs[b]),
                                                "王五": printed(reliefs[c])}
    assert {row[1] for row in body} == {"东村"}
    assert total[0] == "合计" and "3户" in total and "11人" in total and total[-1] == printed(sum(reliefs.values()))
    assert not ID_LIKE.search(docx_xml(posted))

    r = client.get(f"/api/notices/{nid}/preview", headers=clerk)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "张三丰" in r.text and printed(sum(reliefs.values())) in r.text

    # Objections: a is dismissed, b upheld (b goes back to be checked again).
    obj_a = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                        json={"case_id": a, "received_on": "2020-06-02", "summary": "反映该户有经营收入未申报"})
    assert obj_a.status_code == 201, obj_a.text
    assert obj_a.json()["status"] == "open"
    obj_b = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                        json={"case_id": b, "received_on": "2020-06-02", "summary": "反映该户家庭成员有车辆"})
    assert obj_b.status_code == 201
    r = client.post(f"/api/notices/{nid}/close", headers=clerk)
    assert r.status_code == 409  # before ends_on (and objections are open)

    # A dismissal is another clerk's (not the one who recorded the objection or posted the notice).
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    clerk2 = users.headers("clerk2")
    r = client.post(f"/api/objections/{obj_a.json()['id']}/resolution", headers=clerk2,
                    json={"outcome": "dismissed", "note": "经核实，经营收入已计入"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "dismissed" and r.json()["case_status"] == "in_notice"
    r = client.post(f"/api/objections/{obj_a.json()['id']}/resolution", headers=clerk, json={"outcome": "upheld"})
    assert r.status_code == 409  # an objection resolves once
    r = client.post(f"/api/objections/{obj_b.json()['id']}/resolution", headers=clerk,
                    json={"outcome": "upheld", "note": "需重新入户核查"})
    assert r.status_code == 200 and r.json()["case_status"] == "screened"  # to be scheduled again
    assert status_of(ctx, b) == "screened"
    with ctx.db.read() as session:
        assert active_visit(session, b) is None  # the visit of the check objected to ended
    r = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                    json={"case_id": b, "received_on": "2020-06-02", "summary": "再次反映"})
    assert r.status_code == 409  # b is no longer on the notice

    # Seven days from 06-01: the last day is 06-07, when an objection still counts and closing is refused;
    # from ends_on (06-08) the notice may be closed, and an objection received then is late.
    clock.at = clock.at.replace(day=7)
    got = client.get(f"/api/notices/{nid}", headers=clerk).json()
    assert got["ends_on"] == "2020-06-08" and got["period_over"] is False
    obj_c = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                        json={"case_id": c, "received_on": "2020-06-07", "summary": "反映情况不实"})
    assert obj_c.status_code == 201
    r = client.post(f"/api/notices/{nid}/close", headers=clerk)
    assert r.status_code == 409 and "2020-06-07" in r.json()["detail"]  # the period runs until 06-07
    clock.advance(days=1)
    late = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                       json={"case_id": c, "received_on": "2020-06-08", "summary": "逾期反映"})
    assert late.status_code == 422 and "received_on" in late.text
    r = client.post(f"/api/notices/{nid}/close", headers=clerk)
    assert r.status_code == 409 and "还有 1 条异议未处理" in r.json()["detail"]  # the objection on c is still open
    got = client.get(f"/api/notices/{nid}", headers=clerk).json()
    assert got["open_objections"] == 1 and got["period_over"] is True
    r = client.post(f"/api/objections/{obj_c.json()['id']}/resolution", headers=clerk2, json={"outcome": "dismissed"})
    assert r.status_code == 200
    r = client.post(f"/api/notices/{nid}/close", headers=clerk)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["closed_on"] == "2020-06-08" and closed["open_objections"] == 0
    assert {i["case_id"]: i["status"] for i in closed["items"]} == {a: "cleared", b: "withdrawn", c: "cleared"}
    assert [o["status"] for o in closed["objections"]] == ["dismissed", "upheld", "dismissed"]
    assert [status_of(ctx, x) for x in (a, b, c)] == ["ready_to_pay", "screened", "ready_to_pay"]

    # A closed notice takes no objections and does not close twice; its document never changes.
    r = client.post(f"/api/notices/{nid}/objections", headers=clerk,
                    json={"case_id": a, "received_on": "2020-06-08", "summary": "逾期反映"})
    assert r.status_code == 409
    assert client.post(f"/api/notices/{nid}/close", headers=clerk).status_code == 409
    assert client.get(f"/api/notices/{nid}/document", headers=clerk).content == posted

    listed = client.get("/api/notices", params={"county_code": COUNTY, "status": "closed"}, headers=clerk).json()
    assert [n["id"] for n in listed["items"]] == [nid]
    assert client.get("/api/notices", params={"status": "open"}, headers=clerk).json()["items"] == []

    with ctx.db.read() as session:
        summary = notice_summary_for_case(session_reader(session), b)
        assert summary is not None and summary["notice_id"] == nid and summary["item"]["status"] == "withdrawn"
        assert [o["status"] for o in summary["objections"]] == ["upheld"]
        assert notice_summary_for_case(session_reader(session), a)["item"]["relief_amount"] == yuan(reliefs[a])
        assert notice_summary_for_case(session_reader(session), west) is None
        assert review_summary_for_case(session_reader(session), a)["result"] == "pass"
        assert review_summary_for_case(session_reader(session), unreviewed) is None

    # The next day, the withdrawn case is scheduled again for other officers, checked again, reviewed again and
    # goes on a new notice.
    clock.advance(days=1)
    others = staff(ctx, team=1)
    with ctx.db.begin() as session:
        schedule(session, b, officers=[others.officer1.id, others.officer2.id], visit_on=date(2020, 6, 9),
                 vehicle="车01", principal=staff(ctx).supervisor, clock=ctx.clock, reason="异议成立，换人重新核查")
    with ctx.db.read() as session:
        officers = [principal_of(session.get(User, uid)) for uid in active_visit(session, b).officer_ids]
    data = checks.CheckInput(
        visited_on=date(2020, 6, 9), officers=[o.id for o in officers],
        members=[{"name": "李四", "id_number": new_id_number(), "relation": "head", "labour": "full"},
                 {"name": "李小四", "id_number": new_id_number(), "relation": "child", "labour": "none"}],
        income=HouseholdIncome(wages=600_000), rigid=RigidExpenditure(medical_self_paid=2_500_000),
        stable_income=False, payee=None, cross_checks=[], evidence=[], note="异议成立后重新核查",
        bills=demo_bills(b, "medical_self_paid", 2_500_000))
    with ctx.db.begin() as session:
        checks.record_check(session, b, data, vault=ctx.vault, principal=officers[0], clock=ctx.clock)
    with ctx.db.begin() as session:
        checks.determine(session, b, confirm=True, principal=staff(ctx).supervisor, clock=ctx.clock)
    r = review(client, clerk, b, held_on=date(2020, 6, 8))
    assert r.status_code == 422 and "held_on" in fields(r)  # before the new check
    assert review(client, clerk, b, held_on=date(2020, 6, 9)).status_code == 201
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-09"})
    assert r.status_code == 201, r.text
    second = r.json()
    assert [(i["case_id"], i["household_size"]) for i in second["items"]] == [(b, 2)]
    assert second["items"][0]["relief_amount"] == yuan(relief_of(ctx, b))
    assert status_of(ctx, b) == "in_notice"
    with ctx.db.read() as session:
        assert notice_summary_for_case(session_reader(session), b)["notice_id"] == second["id"]

    # Every step is in the log, and the log is intact.
    with ctx.db.read() as session:
        from verifier.audit.models import AuditEntry

        actions = [e.action for e in session.query(AuditEntry).order_by(AuditEntry.idx)]
        keys = known_keys(session)
    for action in ("case.review_pass", "notice.post", "case.post_notice", "objection.record", "objection.resolve",
                   "case.objection_upheld", "case.close_notice", "notice.close"):
        assert action in actions, action
    assert actions.count("notice.post") == 2 and actions.count("objection.resolve") == 3
    assert verify_log(ctx.db, keys).ok
