"""Both pairs of eyes on the money held by one person through a second account. A batch's approver, its county
sign-off, its releaser and a payee change's approver were each told apart from the one whose work they check by the
account alone: whoever had set the other account's password (a claims officer who is also the county's admin, a
finance officer who reset a colleague's) could prepare a batch and approve it as that colleague, or ask for a payee
change and approve it so. The roster, the follow-ups and a supplement's confirmation already refused an account
linked by a password (`roster.service.password_links`); now the money's four eyes do too: 403, nothing written,
kept on 回避拦截记录 (the batch, or the case, as its subject); someone else takes the step."""

from __future__ import annotations

from deviation_helpers import person, ready_case
from insider_kit import entries_but_refusals, payee_changed, refusals_of
from payments.payment_helpers import add_contract, seed_ready_cases
from sqlalchemy import select
from web.pagekit import Pages

from verifier.store.tables import Case, User


def _set_password_of(ctx, users, account: str, by: str) -> None:  # type: ignore[no-untyped-def]
    """`by` last set `account`'s password (and so knew one), as an admin's reset leaves it once the owner chose
    their own."""
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def test_a_second_account_approves_signs_off_or_releases_what_its_holder_prepared(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=300_000, clock=ctx.clock)
    for name, role in (("c1", "insurer_claims"), ("f1", "finance"), ("f_pal", "finance"),
                       ("r1", "county_reviewer"), ("r_pal", "county_reviewer")):
        users.add(name, role, counties=(county,))
    _set_password_of(ctx, users, "f_pal", by="c1")  # the preparer knows a password of f_pal's account
    _set_password_of(ctx, users, "r_pal", by="f1")  # the approver knows a password of r_pal's account
    with ctx.db.read() as s:
        ids = sorted(s.scalars(select(Case.id).where(Case.county_code == county)))
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": ids},
                    headers=users.headers("c1"))
    assert r.status_code == 201, r.text
    batch, code = r.json()["id"], r.json()["code"]
    url = f"/api/payment-batches/{batch}"
    before = entries_but_refusals(ctx)

    r = client.post(f"{url}/approve", headers=users.headers("f_pal"))
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and "制单人" in r.json()["detail"] and code in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(url, headers=users.headers("c1")).json()["status"] == "prepared"
    assert client.post(f"{url}/approve", headers=users.headers("f1")).status_code == 200

    r = client.post(f"{url}/county-signoff", json={"opinion": "同意"}, headers=users.headers("r_pal"))
    assert r.status_code == 403 and "审批人" in r.json()["detail"], r.text
    r = client.post(f"{url}/county-signoff", json={"opinion": "同意"}, headers=users.headers("r1"))
    assert r.status_code == 200 and r.json()["status"] == "signed_off", r.text

    r = client.post(f"{url}/release", headers=users.headers("f_pal"))
    assert r.status_code == 403 and "制单人" in r.json()["detail"], r.text
    assert client.get(url, headers=users.headers("c1")).json()["status"] == "signed_off"
    assert client.post(f"{url}/release", headers=users.headers("f1")).status_code == 200

    # Each try is on record, the batch its subject, in its county.
    assert [(k["step"], k["subject"], k["batch_id"], k["why"], k["county_code"])
            for k in refusals_of(ctx, users.ids["f_pal"]) + refusals_of(ctx, users.ids["r_pal"])] == [
        ("batch_approve", batch, batch, "password_linked", county),
        ("batch_release", batch, batch, "password_linked", county),
        ("batch_signoff", batch, batch, "password_linked", county)]

    # The county's reviewers see them on 回避拦截记录, said in Chinese.
    pages = Pages(client, users)
    pages.login("r1")
    page = pages.get("/recusal-refusals")
    assert page.status_code == 200, page.text[:2000]
    assert "f_pal" in page.text and "审批支付批次" in page.text and "发放支付批次" in page.text, page.text[:3000]


def test_a_second_account_approves_a_payee_change_or_the_batch_that_pays_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    for name, role in (("sup", "insurer_supervisor"), ("sup_pal", "insurer_supervisor"), ("fin1", "finance"),
                       ("claims1", "insurer_claims"), ("fin2", "finance"), ("fin_pal", "finance")):
        person(ctx, users, name, role)
    _set_password_of(ctx, users, "sup_pal", by="sup")
    _set_password_of(ctx, users, "fin_pal", by="sup")
    cases = [ready_case(ctx), ready_case(ctx)]
    with ctx.db.read() as session:
        case = session.get(Case, cases[0])
        number, household = case.number, case.household_id

    # sup asks for a new card; sup_pal (whose password sup set) may not approve it, fin1 may.
    head = client.get(f"/api/cases/{cases[0]}", headers=users.headers("sup")).json()["head_name"]
    r = client.post(f"/api/cases/{cases[0]}/payee", headers=users.headers("sup"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": "6222020000000077771",
        "reason": "户主说旧卡丢了"})
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("sup_pal"), json={})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"] and "申请人" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("fin1"),
                       json={}).status_code == 200

    # The batch paying the new card: not approved by fin_pal (sup set that password), approved by fin2.
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": case.county_code, "case_ids": cases})
    assert r.status_code == 201, r.text
    batch = r.json()["id"]
    r = client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("fin_pal"))
    assert r.status_code == 403, r.text
    assert "密码关联" in r.json()["detail"] and number in r.json()["detail"] and "收款人变更的申请人" in r.json()["detail"]
    assert client.post(f"/api/payment-batches/{batch}/approve", headers=users.headers("fin2")).status_code == 200
    assert [(k["step"], k["subject"], k["households"]) for k in refusals_of(ctx, users.ids["sup_pal"])
            + refusals_of(ctx, users.ids["fin_pal"])] == [
        ("payee_decide", cases[0], [household]), ("batch_approve", cases[0], [household])]


def test_accounts_no_one_else_set_are_not_linked(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The rule refuses links, not colleagues: an approved change approved by one with no link pays as before."""
    for name, role in (("sup", "insurer_supervisor"), ("fin1", "finance"), ("claims1", "insurer_claims"),
                       ("fin2", "finance")):
        person(ctx, users, name, role)
    case_id = ready_case(ctx)
    payee_changed(client, users, case_id, by="sup", approver="fin1", account="6222020000000066661")
    with ctx.db.read() as session:
        county = session.get(Case, case_id).county_code
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": county, "case_ids": [case_id]})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/payment-batches/{r.json()['id']}/approve", headers=users.headers("fin2"))
    assert r.status_code == 200, r.text
