"""The officer who typed the household's payee account at the door (under a member's name) also works in finance:
he approved and released the batch that pays that account, one person alone choosing where the money went and
letting it go. The batch's steps barred its preparer, who took items out, who changed a payee and the officers of a
later check naming another payee, never the first check's. Now whoever set an account a batch pays (the officers and
the recorder of the check that named it) may not approve, sign off or release that batch, nor may an account linked
to one of theirs by a password: the API refuses (403, in Chinese, the batch's code named), the batch page says why
instead of the button (and its form, tried, is refused the same), the home card leaves the batch to someone else and
says who may decide. Another finance officer approves and releases."""

from __future__ import annotations

from typing import Any

from deviation_helpers import person, ready_case
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.payments import deciders
from verifier.payments.models import PaymentBatch
from verifier.store.tables import Case, Check, User
from web.pagekit import FACTORY_PASSWORD, Pages

COUNTY = "340223"
SAID = "入户核查的核查人员，本批次支付给该案的收款账户由这次核查录入"


def _officer_in_finance(ctx: Any, client: Any, users: Any, case_id: str) -> tuple[str, str]:
    """The first officer of the case's check, given the finance role too (a small county office), logged in: his
    username and the recorder's."""
    with ctx.db.begin() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id).order_by(Check.seq)).first()
        assert check is not None and check.payee_account_enc is not None
        officer = session.get(User, check.officer_ids[0])
        officer.roles = sorted({*officer.roles, "finance", "county_reviewer"})
        name, recorder = officer.username, session.get(User, check.recorded_by).username
    r = client.post("/api/auth/login", json={"username": name, "password": FACTORY_PASSWORD})
    assert r.status_code == 200, r.text
    users._tokens[name] = r.json()["token"]
    return name, recorder


def test_attack_the_officer_who_typed_the_account_approves_and_releases_its_batch(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    cases = [ready_case(ctx), ready_case(ctx)]
    officer, _ = _officer_in_finance(ctx, client, users, cases[0])
    for name, role in (("claims1", "insurer_claims"), ("fin2", "finance"), ("pal", "finance")):
        person(ctx, users, name, role)
    with ctx.db.begin() as session:  # the officer knows a password of pal's account
        session.get(User, users.ids["pal"]).password_set_by = session.scalar(
            select(User.id).where(User.username == officer))
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": cases})
    assert r.status_code == 201, r.text
    bid, code = r.json()["id"], r.json()["code"]
    url = f"/api/payment-batches/{bid}"
    with ctx.db.read() as session:
        number = session.get(Case, cases[0]).number

    r = client.post(f"{url}/approve", headers=users.headers(officer))
    assert r.status_code == 403 and SAID in r.text and number in r.text and code in r.text, r.text
    assert "须由其他财务人员办理" in r.text
    r = client.post(f"{url}/approve", headers=users.headers("pal"))
    assert r.status_code == 403 and "密码关联" in r.text and "录入收款账户的入户核查" in r.text, r.text
    assert client.get(url, headers=users.headers("claims1")).json()["status"] == "prepared"

    # the home card leaves it to someone else, and says who may decide
    home = client.get("/", headers=users.headers(officer)).text
    assert "录入或变更所付收款账户的人员以外的财务人员审批" in home
    with ctx.db.read() as session:
        batch = session.get(PaymentBatch, bid)
        me = principal_of(session.scalar(select(User).where(User.username == officer)))
        for verb in ("approve", "sign off", "release"):
            refusal = deciders.refusals(session, [batch], me, verb, ctx.vault)[bid]
            assert refusal is not None and SAID in refusal.text(), verb

    # the batch page: no button, the reason said; the form tried anyway is refused the same
    pages = Pages(client, users)
    pages.login(officer, FACTORY_PASSWORD)
    page = pages.get(f"/payments/{bid}")
    assert page.status_code == 200 and f'action="/payments/{bid}/approve"' not in page.text
    assert f"您是本批次中案件 {number} 入户核查的核查人员" in page.text, page.text
    r = pages.post(f"/payments/{bid}/approve", {"confirm": "yes"})
    assert r.status_code == 403 and SAID in r.text, r.text[:3000]

    assert client.post(f"{url}/approve", headers=users.headers("fin2")).status_code == 200
    r = client.post(f"{url}/release", headers=users.headers(officer))
    assert r.status_code == 403 and SAID in r.text and "发放" in r.text, r.text
    page = pages.get(f"/payments/{bid}")
    assert f'action="/payments/{bid}/release"' not in page.text
    assert client.get(url, headers=users.headers("claims1")).json()["status"] == "approved"
    assert client.post(f"{url}/release", headers=users.headers("fin2")).status_code == 200


def test_a_batch_paying_accounts_others_typed_is_his_to_approve(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An officer in finance approves a batch paying none of the accounts his checks set."""
    typed = ready_case(ctx)
    officer, _ = _officer_in_finance(ctx, client, users, typed)
    other = ready_case(ctx, team=1)
    person(ctx, users, "claims1", "insurer_claims")
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [other]})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        assert officer not in {session.get(User, o).username for o in session.scalars(
            select(Check.officer_ids).where(Check.case_id == other)).one()}
    r = client.post(f"/api/payment-batches/{r.json()['id']}/approve", headers=users.headers(officer))
    assert r.status_code == 200, r.text
