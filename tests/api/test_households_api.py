"""The household routes over HTTP: who may merge and move, the refusals as problem details, a replayed key."""

from __future__ import annotations

from typing import Any

from factories import make_case

from verifier.store.tables import Case, Member


def _household(ctx: Any, case_id: str) -> tuple[str, str]:
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        return case.household_id, case.number


def test_merge_and_move_over_http(ctx: Any, client: Any, users: Any) -> None:
    husband, wife = make_case(ctx, stage="received", members=2), make_case(ctx, stage="received", members=1)
    (h_hh, h_number), (w_hh, w_number) = _household(ctx, husband), _household(ctx, wife)
    users.add("sup", "insurer_supervisor", counties=("340223",))
    users.add("off", "field_officer", counties=("340223",))
    users.add("far", "insurer_supervisor", counties=("340224",))
    body = {"from_household_id": w_hh, "reason": "夫妻重复登记为两户", "head_relation": "spouse"}
    url = f"/api/households/{h_hh}/merge"

    assert client.post(url, json=body, headers=users.headers("off")).status_code == 403
    assert client.post(url, json=body, headers=users.headers("far")).status_code == 404
    missing = client.post(url, json={**body, "reason": ""}, headers=users.headers("sup"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"

    keyed = {**users.headers("sup"), "Idempotency-Key": "merge-couple-1"}
    first = client.post(url, json=body, headers=keyed)
    assert first.status_code == 200, first.text
    proposal = first.json()
    assert (proposal["status"], proposal["kind"], proposal["household_id"], proposal["other_household_id"]) == (
        "pending", "merge", h_hh, w_hh)
    replay = client.post(url, json=body, headers=keyed)
    assert replay.json() == first.json() and replay.headers.get("Idempotent-Replayed") == "true"
    twice = client.post(url, json=body, headers=users.headers("sup"))  # proposed again while it waits
    assert twice.status_code == 409 and "待确认" in twice.json()["detail"]
    assert client.get(f"/api/cases/{wife}", headers=users.headers("off")).json()["status"] == "received"

    users.add("sup2", "insurer_supervisor", counties=("340223",))
    confirm = f"/api/household-proposals/{proposal['id']}/confirm"
    read = client.get(f"/api/household-proposals/{proposal['id']}", headers=users.headers("sup2")).json()
    seen = {"seen": read["seen"]}  # what the confirmer read: the change is made only while it is still that
    assert len(read["seen"]) == 64
    assert client.post(confirm, json=seen, headers=users.headers("sup")).status_code == 403  # the proposer alone
    assert client.post(confirm, json=seen, headers=users.headers("off")).status_code == 403
    assert client.post(confirm, json=seen, headers=users.headers("far")).status_code == 404
    unread = client.post(confirm, json={"seen": "0" * 64}, headers=users.headers("sup2"))
    assert unread.status_code == 409 and "您打开这份申请后" in unread.json()["detail"], unread.text
    assert client.post(confirm, json={}, headers=users.headers("sup2")).status_code in (400, 422)  # without it
    done = client.post(confirm, json=seen, headers=users.headers("sup2"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "confirmed" and done.json()["change_id"] == done.json()["merge"]["change_id"]
    assert done.json()["merge"]["merged_cases"] == [{"case_id": wife, "number": w_number, "into_case_id": husband,
                                                     "into_number": h_number}]
    assert client.post(confirm, json=seen, headers=users.headers("sup2")).status_code == 409  # a second one
    decided = client.get(f"/api/household-proposals/{proposal['id']}", headers=users.headers("sup2")).json()
    assert decided["seen"] is None
    again = client.post(url, json=body, headers=users.headers("sup"))  # the same merge sent again without the key
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert "已于此前并入" in again.json()["detail"]

    shown = client.get(f"/api/cases/{wife}", headers=users.headers("off")).json()
    assert shown["status"] == "merged" and h_number in shown["closed_reason"] and shown["merged_into"] == husband
    changes = client.get(f"/api/households/{h_hh}/changes", headers=users.headers("off")).json()
    assert [(c["kind"], c["from_household_id"]) for c in changes] == [("merge", w_hh)]
    assert client.get(f"/api/households/{h_hh}/changes", headers=users.headers("far")).status_code == 404

    with ctx.db.read() as session:
        member = session.query(Member).filter_by(household_id=h_hh, relation="spouse").first()
    moved = client.post(f"/api/households/{h_hh}/members/{member.id}/move", headers=users.headers("sup"),
                        json={"new_household": True, "reason": "分户"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "pending" and moved.json()["other_household_id"] is None
    pid = moved.json()["id"]
    seen = client.get(f"/api/household-proposals/{pid}", headers=users.headers("sup2")).json()["seen"]
    made = client.post(f"/api/household-proposals/{pid}/confirm", json={"seen": seen}, headers=users.headers("sup2"))
    assert made.status_code == 200, made.text
    assert made.json()["move"]["household_id"] != h_hh and made.json()["move"]["new_household"] is True
    assert made.json()["other_household_id"] == made.json()["move"]["household_id"]
    found = client.get("/api/households", params={"county_code": "340223", "q": h_number},
                       headers=users.headers("sup")).json()
    assert [h["id"] for h in found] == [h_hh]


def test_two_determined_cases_are_refused_naming_them(ctx: Any, client: Any, users: Any) -> None:
    a, b = make_case(ctx, members=1), make_case(ctx, members=1)
    (a_hh, a_number), (b_hh, b_number) = _household(ctx, a), _household(ctx, b)
    users.add("sup", "insurer_supervisor", counties=("340223",))
    r = client.post(f"/api/households/{a_hh}/merge", json={"from_household_id": b_hh, "reason": "重复登记"},
                    headers=users.headers("sup"))
    assert r.status_code == 409
    assert a_number in r.json()["detail"] and b_number in r.json()["detail"]


def test_a_proposal_is_declined_with_a_reason_or_withdrawn_by_its_proposer_over_http(ctx: Any, client: Any,
                                                                                      users: Any) -> None:
    a, b = make_case(ctx, stage="received", members=2), make_case(ctx, stage="received", members=1)
    (a_hh, _), (b_hh, _) = _household(ctx, a), _household(ctx, b)
    users.add("sup", "insurer_supervisor", counties=("340223",))
    users.add("rev", "county_reviewer", counties=("340223",))
    body = {"from_household_id": b_hh, "reason": "重复登记"}
    first = client.post(f"/api/households/{a_hh}/merge", json=body, headers=users.headers("sup")).json()
    base = f"/api/household-proposals/{first['id']}"
    assert client.post(f"{base}/decline", json={"reason": "x"}, headers=users.headers("sup")).status_code == 403
    assert client.post(f"{base}/withdraw", headers=users.headers("rev")).status_code == 403
    blank = client.post(f"{base}/decline", json={"reason": " "}, headers=users.headers("rev"))
    assert blank.status_code == 422
    declined = client.post(f"{base}/decline", json={"reason": "两户户籍地址不同，请先核实"}, headers=users.headers("rev"))
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert declined.json()["decline_reason"] == "两户户籍地址不同，请先核实"
    assert client.post(f"{base}/confirm", json={"seen": "x"}, headers=users.headers("rev")).status_code == 409
    assert client.get(base, headers=users.headers("rev")).json()["status"] == "declined"

    second = client.post(f"/api/households/{a_hh}/merge", json=body, headers=users.headers("sup")).json()
    gone = client.post(f"/api/household-proposals/{second['id']}/withdraw", headers=users.headers("sup"))
    assert gone.status_code == 200 and gone.json()["status"] == "withdrawn"
    assert client.post(f"/api/household-proposals/{second['id']}/confirm", json={"seen": "x"},
                       headers=users.headers("rev")).status_code == 409
