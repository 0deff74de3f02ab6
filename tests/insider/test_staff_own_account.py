"""工作人员本人账户: relief steered into the finance officer's own salary account by a payee change a supervisor asks
for and a colleague approves. Typed under the household head's name, it passes the name check, and no other
household shares it, so the shared-account hold alone would not see it.

Over HTTP, as the insiders would: the finance officer has declared his account; the approver is warned (no name);
the owner may not approve (422); the batch holds the case (收款账户为工作人员本人账户); the owner, also a county
reviewer, may not clear it; another county reviewer clears it with a note and the next batch pays. The owner alone
cannot take the declared account off the register."""

from __future__ import annotations

import json

from deviation_helpers import ready_case
from factories import COUNTY, case_status, make_case
from insider_kit import check_body, head_of, scheduled_visit
from sqlalchemy import event, select

from verifier.audit.models import AuditEntry
from verifier.payments import one_account
from verifier.recusal import accounts as staff_accounts

SALARY = "6228480012345678901"  # the finance officer's salary account


def _actions(ctx, action: str) -> list[dict]:  # type: ignore[type-arg, no-untyped-def]
    with ctx.db.read() as s:
        return [json.loads(e)["payload"] | {"actor": json.loads(e)["actor"]}
                for e in s.scalars(select(AuditEntry.entry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.idx))]


def test_attack_a_payee_change_to_the_finance_officers_own_account_is_held(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    steered, honest = ready_case(ctx), ready_case(ctx)
    users.add("fin1", "finance", "insurer_supervisor", "county_reviewer", counties=(COUNTY,))  # a small office
    users.add("fin2", "finance", counties=(COUNTY,))
    users.add("fin3", "finance", counties=(COUNTY,))
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    fin1, sup1, sup2, claims, rev = (users.headers(n) for n in ("fin1", "sup1", "sup2", "claims", "rev"))

    # The finance officer declares his salary account: shown masked, audited with its keyed hash.
    r = client.post("/api/recusal/mine/accounts", headers=fin1, json={"accounts": [SALARY]})
    assert r.status_code == 200, r.text
    [own] = r.json()["accounts"]
    assert own["account_number"].endswith("8901") and SALARY not in r.text
    [declared] = _actions(ctx, "staff_account.declare")
    assert declared["account_number"].endswith("8901") and SALARY not in json.dumps(declared)
    assert declared["account_hmac"] == one_account.account_index(ctx.vault, SALARY)

    # The supervisor asks for the household's payee to become that account, typed under the head's name.
    r = client.post(f"/api/cases/{steered}/payee", headers=sup1, json={
        "account_name": head_of(client, sup1, steered), "bank": "农业银行", "account_number": SALARY,
        "reason": "换卡"})
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["name_in_household"] is True and change["shared_account"] is None  # no other household has it
    assert change["staff_account"] == staff_accounts.OWN_ACCOUNT  # the warning: whose, not said
    assert "fin1" not in r.text and SALARY not in r.text

    # The owner (also a supervisor) may not approve it: 422, nothing written.
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=fin1)
    assert r.status_code == 422, r.text
    assert staff_accounts.OWN_ACCOUNT_REFUSED in r.text
    assert client.get(f"/api/payee-changes/{change['id']}", headers=sup2).json()["status"] == "pending"
    assert _actions(ctx, "payee_change.approve") == []

    # A colleague approves: warned, not refused.
    r = client.post(f"/api/payee-changes/{change['id']}/approve", headers=sup2)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "approved" and r.json()["staff_account"] == staff_accounts.OWN_ACCOUNT

    # The batch holds the case out with the reason (not whose); the honest case is paid.
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201, r.text
    assert r.json()["item_count"] == 1
    assert {s["case_id"]: s["reason"] for s in r.json()["skipped"]} == {steered: one_account.STAFF_HOLD_REASON}
    assert "fin1" not in r.text
    assert case_status(ctx, steered) == "ready_to_pay" and case_status(ctx, honest) == "in_batch"
    assert client.post("/api/payment-batches", headers=claims,
                       json={"county_code": COUNTY, "case_ids": [steered]}).status_code == 422

    # The county reviewers' list shows it, masked, without its owner.
    r = client.get("/api/shared-accounts", headers=rev)
    [group] = r.json()["items"]
    assert group["staff_own_account"] is True and group["reason"] == one_account.STAFF_HOLD_REASON
    assert [c["case_id"] for c in group["cases"]] == [steered] and group["account_number"].endswith("8901")
    assert SALARY not in r.text and "fin1" not in r.text and users.ids["fin1"] not in r.text

    # The owner, also a county reviewer, may not clear his own account; the reviewer needs a note.
    r = client.post(f"/api/shared-accounts/{group['account']}/clear", headers=fin1, json={"note": "是我的工资卡"})
    assert r.status_code == 403, r.text
    assert client.post(f"/api/shared-accounts/{group['account']}/clear", headers=rev,
                       json={"note": " "}).status_code == 422
    assert _actions(ctx, one_account.CLEARED_ACTION) == []

    # The owner alone cannot take his account off the register: he asks, and only another admin may confirm.
    r = client.post(f"/api/recusal/accounts/{own['id']}/removal", headers=fin1, json={"reason": "已注销"})
    assert r.status_code == 201, r.text
    removal = r.json()
    assert client.post(f"/api/recusal/account-removals/{removal['id']}/confirm", headers=fin1).status_code == 403
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 422  # still held: the account stays in force while its removal waits
    assert _actions(ctx, "staff_account.removal_confirmed") == []

    # The county reviewer looked into it (the household's own card at the same bank, mistyped?) and clears it.
    r = client.post(f"/api/shared-accounts/{group['account']}/clear", headers=rev,
                    json={"note": "已电话核实户主，账户确为户主本人所有"})
    assert r.status_code == 200, r.text
    [cleared] = _actions(ctx, one_account.CLEARED_ACTION)
    assert cleared["actor"] == users.ids["rev"] and cleared["case_ids"] == [steered]
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201, r.text
    nxt = r.json()
    assert nxt["item_count"] == 1 and nxt["skipped"] == []
    assert client.post(f"/api/payment-batches/{nxt['id']}/approve", headers=users.headers("fin2")).status_code == 200
    assert client.post(f"/api/payment-batches/{nxt['id']}/release", headers=users.headers("fin3")).status_code == 200
    assert case_status(ctx, steered) == "in_batch" or case_status(ctx, steered) == "paid"


def test_removal_of_a_declared_account_takes_another_admin(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An admin adds a person's account from HR's list; the person (also an admin) cannot remove it alone, nor can the
    admin who asked confirm; a third admin confirms, and every step is audited with the account masked."""
    users.add("fin", "finance", "admin", counties=(COUNTY,))
    users.add("adm1", "admin", counties=(COUNTY,))
    users.add("adm2", "admin", counties=(COUNTY,))
    users.add("other", "admin", counties=("999999",))
    fin, adm1, adm2 = (users.headers(n) for n in ("fin", "adm1", "adm2"))
    r = client.post(f"/api/recusal/users/{users.ids['fin']}/accounts", headers=adm1, json={"accounts": [SALARY]})
    assert r.status_code == 200, r.text
    [own] = r.json()["accounts"]
    assert own["by_admin"] is True and SALARY not in r.text
    assert client.post(f"/api/recusal/users/{users.ids['fin']}/accounts", headers=users.headers("other"),
                       json={"accounts": ["6222000011112222"]}).status_code == 404
    # The same account twice, or a number that is not one, is refused with the field named.
    r = client.post("/api/recusal/mine/accounts", headers=fin, json={"accounts": [SALARY, "12ab"]})
    assert r.status_code == 422 and "该银行账号已在申报中" in r.text and "8 至 30 位数字" in r.text

    # The owner asks, then tries to confirm his own removal: refused.
    r = client.post(f"/api/recusal/accounts/{own['id']}/removal", headers=fin, json={"reason": "换了工资卡"})
    assert r.status_code == 201, r.text
    rm = r.json()["id"]
    assert client.post(f"/api/recusal/account-removals/{rm}/confirm", headers=fin).status_code == 403
    # An admin asking and confirming alone: refused too.
    assert client.post(f"/api/recusal/account-removals/{rm}/refuse", headers=adm1).status_code == 200
    r = client.post(f"/api/recusal/accounts/{own['id']}/removal", headers=adm1, json={"reason": "人事处通知"})
    rm = r.json()["id"]
    assert client.post(f"/api/recusal/account-removals/{rm}/confirm", headers=adm1).status_code == 403
    with ctx.db.read() as s:
        assert staff_accounts.owners(s, [one_account.account_index(ctx.vault, SALARY)])
    assert client.post(f"/api/recusal/account-removals/{rm}/confirm", headers=adm2).status_code == 200
    with ctx.db.read() as s:
        assert staff_accounts.owners(s, [one_account.account_index(ctx.vault, SALARY)]) == {}
    assert client.get("/api/recusal/mine", headers=fin).json()["accounts"] == []
    for action in ("staff_account.declare", "staff_account.removal_requested", "staff_account.removal_refused",
                   "staff_account.removal_confirmed"):
        found = _actions(ctx, action)
        assert found and all(p["account_number"].endswith("8901") for p in found), action
        assert SALARY not in json.dumps(found)


def test_a_shared_account_cleared_before_a_staff_member_declared_it_is_held_again(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A county reviewer cleared an account two households share (a guardian, they were told); an admin then adds it
    to a finance officer's own accounts from HR's list: the old clearance does not clear it as a staff account."""
    a, b = ready_case(ctx, account_number=SALARY), ready_case(ctx, account_number=SALARY)
    users.add("claims", "insurer_claims", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    users.add("fin", "finance", counties=(COUNTY,))
    users.add("adm", "admin", counties=(COUNTY,))
    claims, rev = users.headers("claims"), users.headers("rev")
    [group] = client.get("/api/shared-accounts", headers=rev).json()["items"]
    assert group["staff_own_account"] is False
    assert client.post(f"/api/shared-accounts/{group['account']}/clear", headers=rev,
                       json={"note": "同一监护人"}).status_code == 200
    ctx.clock.advance(hours=1)
    assert client.post(f"/api/recusal/users/{users.ids['fin']}/accounts", headers=users.headers("adm"),
                       json={"accounts": [SALARY]}).status_code == 200
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 422, r.text  # both held again, now as a staff member's own account
    assert staff_accounts.OWN_ACCOUNT in r.text
    [group] = client.get("/api/shared-accounts", headers=rev).json()["items"]
    assert group["staff_own_account"] is True and group["cleared"] is None
    assert client.post(f"/api/shared-accounts/{group['account']}/clear", headers=users.headers("rev2"),
                       json={"note": "已核实：监护人并非本单位工作人员，人事名单有误"}).status_code == 200
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY})
    assert r.status_code == 201 and r.json()["item_count"] == 2, r.text
    assert case_status(ctx, a) == case_status(ctx, b) == "in_batch"


def test_a_check_naming_a_staff_account_reads_no_staff_account_on_its_write(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The check's write path stays as it was: no statement reads `staff_account` when a check is recorded, even one
    naming a declared account; the hold at batch preparation and the determination page read it."""
    users.add("fin", "finance", counties=(COUNTY,))
    assert client.post("/api/recusal/mine/accounts", headers=users.headers("fin"),
                       json={"accounts": [SALARY]}).status_code == 200
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engines = {ctx.db.engine, ctx.db.read_engine}  # the write's statements, and any read it makes beside them
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                        json=check_body(visit.head, visit.head_id, visit.officers, visit.today, account=SALARY))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 201, r.text
    assert statements and not [s for s in statements if "staff_account" in s]
