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
    assert first.json()["merged_cases"] == [{"case_id": wife, "number": w_number, "into_case_id": husband,
                                             "into_number": h_number}]
    replay = client.post(url, json=body, headers=keyed)
    assert replay.json() == first.json() and replay.headers.get("Idempotent-Replayed") == "true"
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
    assert moved.json()["household_id"] != h_hh and moved.json()["new_household"] is True
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
