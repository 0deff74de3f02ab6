"""One person alone, at steps the other insider tests pass by: each tried over HTTP and seen refused with nothing
written (the audit log's size unchanged).

- an officer of the county, not sent to the case, uploading "evidence" to it or recording that nobody was at home
  (which sends the case back to be scheduled, and would excuse the visit's lateness);
- the check's officer adding bills after the supervisor confirmed the relief (the income and costs are the check's:
  a bill added now would change what was determined);
- a clerk editing a household's application (its group, the amount) after it was screened;
- an `Idempotency-Key` sent again by its own user for another case: the first answer is not given for the second
  case as if it had been done, nor the second case changed.
"""

from __future__ import annotations

from factories import COUNTY, make_case
from insider_kit import check_body, entries_but_refusals, scheduled_visit


def test_attack_an_officer_not_sent_uploads_evidence_or_records_nobody_home(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    v = scheduled_visit(ctx, client, users, case_id)
    users.add("off3", "field_officer", counties=(COUNTY,))
    other = users.headers("off3")
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/evidence", headers=other,
                    files={"file": ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert r.status_code == 403, r.text
    r = client.post(f"/api/cases/{case_id}/visit-attempts", headers=other,
                    json={"visited_on": v.today, "officers": v.officers, "outcome": "not_home"})
    assert r.status_code == 403, r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(f"/api/cases/{case_id}", headers=v.sup).json()["status"] == "scheduled"


def test_attack_the_officer_adds_bills_after_the_relief_was_confirmed(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    v = scheduled_visit(ctx, client, users, case_id)
    assert client.post(f"/api/cases/{case_id}/check", headers=v.off,
                       json=check_body(v.head, v.head_id, v.officers, v.today)).status_code == 201
    assert client.post(f"/api/cases/{case_id}/determination", headers=v.sup,
                       json={"confirm": True}).status_code == 200
    relief = client.get(f"/api/cases/{case_id}", headers=v.sup).json()["determination"]
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/check/bills", headers=v.off, json={"bills": [
        {"kind": "medical", "issuer": "县人民医院", "number": "LATE0001", "amount": "90000.00"}]})
    assert r.status_code in (403, 409), r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(f"/api/cases/{case_id}", headers=v.sup).json()["determination"] == relief


def test_attack_a_clerk_edits_the_application_after_screening(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    case = client.get(f"/api/cases/{case_id}", headers=clerk).json()
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/application", headers=clerk, json={
        "name": case["head_name"], "town": case["town"], "village": case["village"],
        "household_group": "low_income", "cause": case["cause"], "amount": "90000.00"})
    assert r.status_code == 409, r.text
    assert entries_but_refusals(ctx) == before
    after = client.get(f"/api/cases/{case_id}", headers=clerk).json()
    assert after["household_group"] == case["household_group"]


def test_attack_an_idempotency_key_sent_again_for_another_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    first, second = make_case(ctx, stage="received"), make_case(ctx, stage="received")
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    key = {**users.headers("clerk"), "Idempotency-Key": "screen-0001"}
    r = client.post(f"/api/cases/{first}/screening", headers=key, json={"decision": "pass", "reason": ""})
    assert r.status_code == 200 and r.json()["status"] == "screened", r.text
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{second}/screening", headers=key, json={"decision": "pass", "reason": ""})
    # refused as a key reused for another request, never answered with the first case as if the second were done
    assert r.status_code in (409, 422), r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(f"/api/cases/{second}", headers=users.headers("clerk")).json()["status"] == "received"
