"""一账多户: two households' relief steered into one account by a payee change each, requested by one supervisor and
approved by a colleague. The account is typed under each household head's own name, so the name check (a member of
the household) lets a supervisor approve it: only the account number, seen on two households, gives it away.

Over HTTP, as the insiders would: the requests and approvals are warned (not refused), the next batch holds both
cases out (收款账户与其他家庭相同), the requester (who also holds the county reviewer's role in a small office) may
not clear the account, another county reviewer clears it with a note, and the batch after that pays both."""

from __future__ import annotations

import csv
import io
import json

from deviation_helpers import ready_case
from factories import COUNTY, make_case
from insider_kit import check_body, head_of, head_on_record, schedule, scheduled_visit
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.payments import one_account, payees
from verifier.store.tables import Case

ACCOMPLICE = "6217998877665544332"  # the accomplice's account, typed under each household head's name


def _number(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return str(s.scalar(select(Case.number).where(Case.id == case_id)))


def _actions(ctx, action: str) -> list[dict]:  # type: ignore[type-arg, no-untyped-def]
    with ctx.db.read() as s:
        return [json.loads(e)["payload"] | {"actor": json.loads(e)["actor"]}
                for e in s.scalars(select(AuditEntry.entry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.idx))]


def test_attack_two_households_steered_to_one_account_are_held_until_the_county_clears_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    first, second, honest = ready_case(ctx), ready_case(ctx), ready_case(ctx)
    users.add("sup1", "insurer_supervisor", "county_reviewer", counties=(COUNTY,))  # a small office: both roles
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("fin1", "finance", counties=(COUNTY,))
    users.add("fin2", "finance", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("elsewhere", "county_reviewer", counties=("999999",))
    sup1, sup2, claims, rev = (users.headers(n) for n in ("sup1", "sup2", "claims", "rev"))

    # sup1 asks for both households' payee to become the accomplice's account, typed under each head's name.
    changes = []
    for case_id in (first, second):
        head = head_of(client, sup1, case_id)
        r = client.post(f"/api/cases/{case_id}/payee", headers=sup1, json={
            "account_name": head, "bank": "农村商业银行", "account_number": ACCOMPLICE, "reason": "换卡"})
        assert r.status_code == 201, r.text
        assert r.json()["name_in_household"] is True  # the name check passes: a supervisor may approve it
        changes.append(r.json())
    assert changes[0]["shared_account"] is None
    # The second request is warned: the account is the payee asked for another household's case (masked, numbered).
    warned = changes[1]["shared_account"]
    assert warned["case_numbers"] == [_number(ctx, first)] and warned["account_number"].endswith("4332")
    assert ACCOMPLICE not in json.dumps(changes)

    # sup2, the colleague, approves both: a warning each time, not a refusal.
    for change, other in zip(changes, (second, first), strict=True):
        r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=sup2)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved" and r.json()["shared_account"]["case_numbers"] == [_number(ctx, other)]

    # Claims prepares the county's batch: both steered cases are held out, the honest one is paid.
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["item_count"] == 1
    held = {s["case_id"]: s["reason"] for s in batch["skipped"]}
    assert held == {first: one_account.HOLD_REASON, second: one_account.HOLD_REASON}
    with ctx.db.read() as s:
        assert {c: s.get(Case, c).status for c in (first, second, honest)} == {  # type: ignore[union-attr]
            first: "ready_to_pay", second: "ready_to_pay", honest: "in_batch"}
    # Chosen by hand, they are held out just the same.
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY, "case_ids": [first]})
    assert r.status_code == 422, r.text

    # The county reviewer's list shows the account, masked, with both cases.
    r = client.get("/api/shared-accounts", headers=rev)
    assert r.status_code == 200, r.text
    [group] = r.json()["items"]
    assert {c["case_id"] for c in group["cases"]} == {first, second} and group["account_number"].endswith("4332")
    assert ACCOMPLICE not in r.text
    assert client.get("/api/shared-accounts", headers=users.headers("elsewhere")).json()["items"] == []
    account = group["account"]

    # The requester (who also holds the county reviewer's role) may not clear it; the approver is no reviewer;
    # another county's reviewer does not see it; a clearance needs a note.
    r = client.post(f"/api/shared-accounts/{account}/clear", headers=sup1, json={"note": "监护人代收"})
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    assert client.post(f"/api/shared-accounts/{account}/clear", headers=sup2,
                       json={"note": "监护人代收"}).status_code == 403
    assert client.post(f"/api/shared-accounts/{account}/clear", headers=users.headers("elsewhere"),
                       json={"note": "监护人代收"}).status_code == 404
    assert client.post(f"/api/shared-accounts/{account}/clear", headers=rev, json={"note": "  "}).status_code == 422
    assert _actions(ctx, one_account.CLEARED_ACTION) == []
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 422  # still nothing to pay: both still held

    # The county reviewer looked into it (a guardian paid for two wards) and clears it, with a note.
    r = client.post(f"/api/shared-accounts/{account}/clear", headers=rev, json={"note": "两户均由监护人代收，已核实"})
    assert r.status_code == 200, r.text
    assert r.json()["cleared"]["note"] == "两户均由监护人代收，已核实"
    assert client.post(f"/api/shared-accounts/{account}/clear", headers=rev,
                       json={"note": "再次"}).status_code == 409
    assert client.get("/api/shared-accounts", headers=rev).json()["items"] == []  # nothing left to clear

    # The next batch pays both, into the account the county cleared.
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201, r.text
    nxt = r.json()
    assert nxt["item_count"] == 2 and nxt["skipped"] == []
    fin1, fin2 = users.headers("fin1"), users.headers("fin2")
    assert client.post(f"/api/payment-batches/{nxt['id']}/approve", headers=fin1).status_code == 200
    assert client.post(f"/api/payment-batches/{nxt['id']}/release", headers=fin2).status_code == 200
    bank = client.get(f"/api/payment-batches/{nxt['id']}/bank-file", headers=fin2)
    rows = list(csv.reader(io.StringIO(bank.content.decode("utf-8"))))[1:]
    assert [row[2] for row in rows] == [ACCOMPLICE, ACCOMPLICE]

    # The audit log tells the story: both requests and approvals carry the account's keyed hash, the clearance too.
    requests = [p for p in _actions(ctx, "payee_change.request") if p["account_hmac"] == account]
    approvals = [p for p in _actions(ctx, "payee_change.approve") if p["account_hmac"] == account]
    [cleared] = _actions(ctx, one_account.CLEARED_ACTION)
    assert len(requests) == 2 and len(approvals) == 2
    assert cleared["actor"] == users.ids["rev"] and cleared["account_hmac"] == account
    assert sorted(cleared["case_ids"]) == sorted([first, second]) and len(cleared["households"]) == 2
    assert "note_sha256" in cleared and ACCOMPLICE not in json.dumps(cleared)


def test_a_third_household_on_a_cleared_account_is_held_again(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A clearance covers the households the reviewer saw: a third household paid into the account is held again,
    the two cleared ones are not."""
    a, b, c, honest = ready_case(ctx), ready_case(ctx), ready_case(ctx), ready_case(ctx)
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    sup1, sup2, claims, rev = (users.headers(n) for n in ("sup1", "sup2", "claims", "rev"))

    def steer(case_id: str) -> None:
        r = client.post(f"/api/cases/{case_id}/payee", headers=sup1, json={
            "account_name": head_of(client, sup1, case_id), "bank": "农村商业银行", "account_number": ACCOMPLICE})
        assert r.status_code == 201, r.text
        assert client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=sup2).status_code == 200

    steer(a)
    steer(b)
    [group] = client.get("/api/shared-accounts", headers=rev).json()["items"]
    assert client.post(f"/api/shared-accounts/{group['account']}/clear", headers=rev,
                       json={"note": "同一监护人"}).status_code == 200
    steer(c)
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201, r.text
    # All three are held now: the clearance named two households, the account pays three.
    assert r.json()["item_count"] == 1 and {s["case_id"] for s in r.json()["skipped"]} == {a, b, c}
    with ctx.db.read() as s:
        assert s.get(Case, honest).status == "in_batch"  # type: ignore[union-attr]


def test_an_officer_recording_another_households_account_is_warned_not_refused(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The check names, as this household's payee, the account another household's case is paid into: recorded (a
    guardian may be real); the case page then warns, naming that case, the account masked, to the officer who
    recorded it and to the supervisor who determines it. The check's own answer says nothing of the account (its
    write does not look: checks/routes.py `check_recorder`)."""
    first = ready_case(ctx)
    with ctx.db.read() as s:
        account = payees.current_payee(s, first, ctx.vault, full=True)["account_number"]  # type: ignore[index]
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json=check_body(visit.head, visit.head_id, visit.officers, visit.today, account=account))
    assert r.status_code == 201 and "payee_warning" not in r.json(), r.text
    from web.pagekit import Pages

    for who in ("off1", "sup"):
        pages = Pages(client, users)
        pages.login(who)
        html = pages.get(f"/cases/{visit.case_id}").text
        assert 'id="shared-account-warning"' in html and _number(ctx, first) in html and account[-4:] in html, who
        assert account not in html
    # A check naming an account of its own: the case read has no warning.
    other = make_case(ctx, stage="screened")
    schedule(client, visit.sup, other, visit.officers, visit.today)
    r = client.post(f"/api/cases/{other}/check", headers=visit.off,
                    json=check_body(*head_on_record(ctx, other), visit.officers, visit.today))
    assert r.status_code == 201, r.text
    pages = Pages(client, users)
    pages.login("sup")
    assert 'id="shared-account-warning"' not in pages.get(f"/cases/{other}").text

