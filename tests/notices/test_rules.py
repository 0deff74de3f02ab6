"""What the village review, the posting, objections and resolutions refuse, and who may do them."""

from __future__ import annotations

from datetime import date

from factories import make_case

from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log
from verifier.store.tables import Case

from .helpers import fields, review, status_of

COUNTY = "340223"
OTHER = "340224"


def _people(users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("officer", "field_officer", counties=(COUNTY,))
    users.add("far-clerk", "town_clerk", counties=(OTHER,))


def test_village_review_rules(client, users, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    _people(users)
    clerk = users.headers("clerk")
    received = make_case(ctx, stage="received")
    assert review(client, clerk, received).status_code == 409  # wrong state
    case = make_case(ctx)
    assert review(client, users.headers("officer"), case).status_code == 403
    assert review(client, users.headers("far-clerk"), case).status_code == 404
    r = review(client, clerk, case, held_on=date(2020, 6, 2))
    assert r.status_code == 422 and fields(r) == {"held_on"}  # in the future
    r = review(client, clerk, case, held_on=date(2020, 5, 31))
    assert r.status_code == 422 and fields(r) == {"held_on"}  # before the home check
    r = review(client, clerk, case, result="fail", note="  ")
    assert r.status_code == 422 and fields(r) == {"note"}
    r = review(client, clerk, case, result="maybe")
    assert r.status_code == 400
    assert status_of(ctx, case) == "determined"  # nothing half-written stayed behind

    assert review(client, users.headers("sup"), case).status_code == 403  # the insurer does not judge itself
    r = review(client, clerk, case)
    assert r.status_code == 201 and r.json()["case_status"] == "reviewed"
    assert review(client, clerk, case).status_code == 409  # reviewed once

    failing = make_case(ctx)
    r = review(client, clerk, failing, result="fail", note="村民代表认为该户有稳定收入")
    assert r.status_code == 201 and r.json()["case_status"] == "determined"  # waits for a second person
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    r = review(client, users.headers("clerk2"), failing, result="fail")
    assert r.status_code == 201
    assert r.json()["case_status"] == "review_failed"
    assert "有稳定收入" in r.json()["closed_reason"]
    with ctx.db.read() as session:
        assert session.get(Case, failing).closed_reason == r.json()["closed_reason"]
    detail = client.get(f"/api/cases/{failing}", headers=clerk).json()
    assert detail["status"] == "review_failed" and detail["history"][-1]["action"] == "case.review_fail"
    assert "村民代表" not in str(detail["history"][-1]["payload"])  # the note's hash only

    with ctx.db.read() as session:
        keys = known_keys(session)
    assert verify_log(ctx.db, keys).ok


def test_posting_rules_and_county_scoping(client, users, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    _people(users)
    clerk, far = users.headers("clerk"), users.headers("far-clerk")
    body = {"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": "2020-06-01"}

    r = client.post("/api/notices", headers=clerk, json=body)
    assert r.status_code == 422 and fields(r) == {"village"}  # nothing to post
    a = make_case(ctx, village="东村")
    b = make_case(ctx, village="东村")
    stranger = make_case(ctx, village="西村")
    assert review(client, clerk, a).status_code == 201
    clock.advance(days=1)
    assert review(client, clerk, b, held_on=date(2020, 6, 2)).status_code == 201

    assert client.post("/api/notices", headers=users.headers("officer"), json=body).status_code == 403
    assert client.post("/api/notices", headers=users.headers("sup"), json=body).status_code == 403
    assert client.post("/api/notices", headers=far, json=body).status_code == 404
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": "2020-06-03"})
    assert r.status_code == 422 and fields(r) == {"posted_on"}  # in the future
    r = client.post("/api/notices", headers=clerk, json=body)
    assert r.status_code == 422 and fields(r) == {"posted_on"}  # before b's review
    r = client.post("/api/notices", headers=clerk, json={k: v for k, v in body.items() if k != "village"})
    assert r.status_code == 422 and fields(r) == {"village"}  # the demo contract posts per village
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": "2020-06-02",
                                                         "objection_phone": "110105194912310020"})
    assert r.status_code == 422 and fields(r) == {"objection_phone"}  # an ID number never reaches the document
    assert status_of(ctx, a) == "reviewed"
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": "2020-06-02", "objection_phone": "4"})
    assert r.status_code == 422 and fields(r) == {"objection_phone"}  # printed on the wall: a number one can dial
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": "2020-06-02",
                                                         "objection_phone": "0556-5201234"})
    assert r.status_code == 201  # a landline with its area code (or a mobile, or a hotline such as 12317)
    assert [status_of(ctx, x) for x in (a, b, stranger)] == ["in_notice", "in_notice", "determined"]
    notice = r.json()
    nid = notice["id"]
    assert notice["objection_phone"] == "0556-5201234"
    assert notice["issuing_body"] == "示范县城关镇人民政府"

    # Another county's clerk sees none of it.
    for path in (f"/api/notices/{nid}", f"/api/notices/{nid}/document", f"/api/notices/{nid}/preview"):
        assert client.get(path, headers=far).status_code == 404, path
    assert client.get("/api/notices", headers=far).json()["items"] == []
    r = client.post(f"/api/notices/{nid}/objections", headers=far,
                    json={"case_id": a, "received_on": "2020-06-02", "summary": "异议"})
    assert r.status_code == 404
    assert client.post(f"/api/notices/{nid}/close", headers=far).status_code == 404
    assert client.get("/api/notices/ntc_nope", headers=clerk).status_code == 404

    # Any role of the county reads it; only the clerk records objections.
    assert client.get(f"/api/notices/{nid}", headers=users.headers("officer")).status_code == 200
    r = client.post(f"/api/notices/{nid}/objections", headers=users.headers("officer"),
                    json={"case_id": a, "received_on": "2020-06-02", "summary": "异议"})
    assert r.status_code == 403

    def objection(**changes):  # type: ignore[no-untyped-def]
        return client.post(f"/api/notices/{nid}/objections", headers=clerk,
                           json={"case_id": a, "received_on": "2020-06-02", "summary": "反映情况", **changes})

    r = objection(case_id=stranger)
    assert r.status_code == 422 and fields(r) == {"case_id"}  # not on this notice
    r = objection(received_on="2020-06-01")
    assert r.status_code == 422 and fields(r) == {"received_on"}  # before posting
    r = objection(received_on="2020-06-03")
    assert r.status_code == 422 and fields(r) == {"received_on"}  # in the future
    r = objection(summary="   ")
    assert r.status_code == 422 and fields(r) == {"summary"}
    r = objection()
    assert r.status_code == 201
    oid = r.json()["id"]
    assert client.get(f"/api/objections/{oid}", headers=far).status_code == 404
    r = client.post(f"/api/objections/{oid}/resolution", headers=far, json={"outcome": "dismissed"})
    assert r.status_code == 404
    r = client.post(f"/api/objections/{oid}/resolution", headers=clerk, json={"outcome": "maybe"})
    assert r.status_code == 400
    assert client.post("/api/objections/obj_nope/resolution", headers=clerk,
                       json={"outcome": "dismissed"}).status_code == 404
    got = client.get(f"/api/objections/{oid}", headers=users.headers("sup")).json()
    assert got["status"] == "open" and got["case_status"] == "in_notice"
