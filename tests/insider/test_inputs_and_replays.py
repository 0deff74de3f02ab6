"""Odd amounts, replayed keys and a second check: what one person might try with the shape of a request."""

from __future__ import annotations

from factories import make_case, new_id_number
from insider_kit import COUNTY, check_body, scheduled_visit


def test_attack_amounts_with_many_decimals_or_a_minus_sign_are_refused_naming_the_field(ctx, client,
                                                                                      users) -> None:  # type: ignore[no-untyped-def]
    """Fractions of a fen would round somewhere in someone's favour; a negative income lowers the household's
    income to raise its relief. Each is refused, nothing is stored, and the same check with proper amounts is taken."""
    case_id = make_case(ctx, stage="screened")
    v = scheduled_visit(ctx, client, users, case_id)
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    sup, off, officers, head, today = v.sup, v.off, v.officers, (v.head, v.head_id), v.today
    for field, value in (("wages", "3000.001"), ("wages", "-3000.00"), ("business_net", "1e5"),
                         ("property_net", "0.0000001"), ("transfer_net", "NaN"), ("wages", "99999999999999999999")):
        r = client.post(f"/api/cases/{case_id}/check", headers=off, json=check_body(*head, officers, today,
                                                                                    **{field: value}))
        assert r.status_code == 422, (field, value, r.text)
        assert any(field in e["field"] for e in r.json()["errors"]), (field, value, r.json())
    assert client.get(f"/api/cases/{case_id}", headers=sup).json()["status"] == "scheduled"
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json=check_body(*head, officers, today))
    assert r.status_code == 201, r.text

    # A referral's amount the same way.
    for amount in ("30000.005", "-30000.00", "3e4", 30000.5):
        r = client.post("/api/referrals", headers=users.headers("clerk"), json={
            "county_code": COUNTY, "id_number": new_id_number(), "name": "钱多多", "town": "城关镇", "village": "东村",
            "household_group": "low_income", "cause": "illness", "amount": amount})
        assert r.status_code in (400, 422) and "amount" in r.text, (amount, r.text)  # 400: not even a string


def test_attack_a_replayed_idempotency_key_with_another_account_is_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Finance sends a payee change that a colleague approves, then replays its key with an account of their own,
    hoping the stored answer (the approved-looking change) covers the new body: refused, and only the first
    request exists."""
    case_id = make_case(ctx, stage="determined", head_name="孙大成")
    users.add("fin", "finance", counties=(COUNTY,))
    h = {**users.headers("fin"), "Idempotency-Key": "payee-1"}
    body = {"account_name": "孙大成", "bank": "农业银行", "account_number": "6228480012345678", "reason": "换卡"}
    first = client.post(f"/api/cases/{case_id}/payee", json=body, headers=h)
    assert first.status_code == 201, first.text
    again = client.post(f"/api/cases/{case_id}/payee", json={**body, "account_number": "6212260000000099999"},
                        headers=h)
    assert again.status_code == 422 and again.headers.get("Idempotent-Replayed") is None
    changes = client.get("/api/payee-changes", params={"case_id": case_id}, headers=users.headers("fin")).json()
    assert [c["id"] for c in changes["items"]] == [first.json()["id"]]
    assert changes["items"][0]["payee"]["account_number"].endswith("5678")
    # The same key for another case is refused too (it names another path).
    other = make_case(ctx, stage="determined")
    assert client.post(f"/api/cases/{other}/payee", json=body, headers=h).status_code == 422


def test_attack_an_officer_records_a_second_check_after_the_determination(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """After the supervisor confirmed the relief, the officer would record the check again with a lower income:
    the case is no longer waiting for a check (409), and the determination stands on the first."""
    case_id = make_case(ctx, stage="screened")
    v = scheduled_visit(ctx, client, users, case_id)
    sup, off, officers, head, today = v.sup, v.off, v.officers, (v.head, v.head_id), v.today
    assert client.post(f"/api/cases/{case_id}/check", headers=off,
                       json=check_body(*head, officers, today)).status_code == 201
    confirmed = client.post(f"/api/cases/{case_id}/determination", headers=sup, json={"confirm": True})
    assert confirmed.status_code == 200, confirmed.text
    r = client.post(f"/api/cases/{case_id}/check", headers=off, json=check_body(*head, officers, today, wages="0.00"))
    assert r.status_code == 409, r.text
    detail = client.get(f"/api/cases/{case_id}", headers=sup).json()
    assert len(detail["checks"]) == 1 and detail["status"] != "scheduled"
    # Nor may the officer send their own check back (only a supervisor sends back).
    r = client.post(f"/api/cases/{case_id}/send-back", headers=off, json={"reason": "重新核查"})
    assert r.status_code == 403
