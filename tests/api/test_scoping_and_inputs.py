"""County scoping (404, never 403), login limits, and bad input answered with problem details naming the field."""

from __future__ import annotations

from dataclasses import replace

from factories import make_case, new_id_number
from litestar.testing import TestClient

from verifier.app import create_app
from verifier.store.tables import Case


def test_a_user_limited_to_another_county_sees_nothing(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    users.add("clerk-other", "town_clerk", counties=("340224",))
    users.add("clerk-here", "town_clerk", counties=("340223",))
    h = users.headers("clerk-other")
    assert client.get(f"/api/cases/{case_id}", headers=h).status_code == 404
    assert client.get("/api/cases", headers=h).json()["items"] == []
    r = client.post(f"/api/cases/{case_id}/screening", headers=h, json={"decision": "pass", "reason": ""})
    assert r.status_code == 404
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "received"
    # The same request by a clerk of the case's county works.
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk-here"),
                    json={"decision": "pass", "reason": ""})
    assert r.status_code == 200 and r.json()["status"] == "screened"


def test_applications_into_another_county_do_not_exist(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk-x", "town_clerk", counties=("340224",))
    r = client.post("/api/referrals", headers=users.headers("clerk-x"), json={
        "county_code": "340223", "id_number": new_id_number(), "name": "张三", "town": "城关镇", "village": "东村",
        "household_group": "low_income", "cause": "illness", "amount": "30000.00"})
    assert r.status_code == 404


def test_login_failures_are_rate_limited(ctx, users) -> None:  # type: ignore[no-untyped-def]
    ctx.settings = replace(ctx.settings, login_failures_per_account=3)
    with TestClient(app=create_app(ctx)) as c:
        codes = [c.post("/api/auth/login", json={"username": "nobody", "password": "wrong-password"}).status_code
                 for _ in range(5)]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_wrong_password_and_unknown_user_look_the_same(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("someone", "auditor")
    a = client.post("/api/auth/login", json={"username": "someone", "password": "not-the-password"})
    b = client.post("/api/auth/login", json={"username": "no-one", "password": "not-the-password"})
    assert a.status_code == b.status_code == 401
    assert a.json()["detail"] == b.json()["detail"]


def test_a_forged_token_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/cases", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl"})
    assert r.status_code == 401


def test_bad_fields_are_named(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk2", "town_clerk")
    h = users.headers("clerk2")
    r = client.post("/api/referrals", headers=h, json={
        "county_code": "340223", "id_number": "340223197001010011", "name": "张三", "town": "城关镇",
        "village": "东村", "household_group": "low_income", "cause": "flood", "amount": "-5"})
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in body["errors"]}
    assert {"id_number", "cause", "amount"} <= fields
    # A float for money, an unknown key, a wrong type: 400 naming the field.
    r = client.post("/api/referrals", headers=h, json={"county_code": "340223", "amount": 5.5})
    assert r.status_code == 400 and r.json()["errors"]
    case_id = make_case(ctx, stage="received")
    r = client.post(f"/api/cases/{case_id}/screening", headers=h, json={"decision": "maybe"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "decision"
    r = client.post(f"/api/cases/{case_id}/screening", headers=h, json={"decision": "reject", "reason": " "})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"


def test_actions_in_the_wrong_state_are_409(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk3", "town_clerk")
    case_id = make_case(ctx, stage="checked")
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("clerk3"),
                    json={"decision": "pass", "reason": ""})
    assert r.status_code == 409
    assert "已核查" in r.json()["detail"]  # the case's status, said in Chinese


def test_values_the_database_cannot_store_are_bad_input(client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("reader", "auditor")
    h = users.headers("reader")
    r = client.get("/api/cases/a%00b", headers=h)
    assert r.status_code in (404, 422), r.text
    r = client.get("/api/cases", params={"village": "东\x00村"}, headers=h)
    assert r.status_code in (200, 422), r.text


def test_a_repeated_write_with_the_same_idempotency_key_changes_nothing(client, users, ctx) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from verifier.audit.models import AuditEntry

    users.add("clerk-i", "town_clerk")
    h = {**users.headers("clerk-i"), "Idempotency-Key": "screen-1"}
    case_id = make_case(ctx, stage="received")
    body = {"decision": "reject", "reason": "家庭收入稳定"}
    first = client.post(f"/api/cases/{case_id}/screening", headers=h, json=body)
    with ctx.db.read() as session:
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    again = client.post(f"/api/cases/{case_id}/screening", headers=h, json=body)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries
    other = client.post(f"/api/cases/{case_id}/screening", headers=h, json={"decision": "pass", "reason": ""})
    assert other.status_code == 422
