"""The officer who typed the household's payee account at the door (under a member's name) also works in finance:
he approved and released the batch that pays that account, one person alone choosing where the money went and
letting it go. The batch's steps barred its preparer, who took items out, who changed a payee and the officers of a
later check naming another payee, never the first check's. Now whoever set an account a batch pays (the officers and
the recorder of the check that named it) may not approve, sign off or release that batch, nor may an account linked
to one of theirs by a password: the API refuses (403, in Chinese, the batch's code named), the batch page says why
instead of the button (and its form, tried, is refused the same), the home card leaves the batch to someone else and
says who may decide. Another finance officer approves and releases. The county sign-off refuses him the same, the
check's recorder is a setter as its officers are, and an earlier check stored without its blind index is opened and
compared, not skipped."""

from __future__ import annotations

from typing import Any

from deviation_helpers import person, ready_case
from payments.payment_helpers import add_contract
from sqlalchemy import select

from verifier.accounts.auth import principal_of
from verifier.payments import deciders, payees
from verifier.payments.models import PaymentBatch
from verifier.payments.one_account import account_index
from verifier.store.base import new_id
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


def test_an_account_linked_to_the_officer_sees_why_not_the_buttons(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The batch page hid the buttons from the officer who typed the account but showed them to an account linked to
    his by a password, whose click was then refused (403): the page now asks the rule the steps refuse by
    (`account_setters.hand`), says why instead of the approve and the release buttons, and the action still 403s."""
    case_id = ready_case(ctx)
    officer, _ = _officer_in_finance(ctx, client, users, case_id)
    for name, role in (("claims1", "insurer_claims"), ("fin2", "finance"), ("pal", "finance")):
        person(ctx, users, name, role)
    with ctx.db.begin() as session:  # the officer knows a password of pal's account
        session.get(User, users.ids["pal"]).password_set_by = session.scalar(
            select(User.id).where(User.username == officer))
        number = session.get(Case, case_id).number
    bid, code = _prepared(client, users, COUNTY, [case_id])
    linked = f"按“四眼原则”，您的账号与本批次中案件 {number} 入户核查的核查人员的账号有密码关联"

    pages = Pages(client, users)
    pages.login("pal")
    page = pages.get(f"/payments/{bid}")
    assert page.status_code == 200 and f'action="/payments/{bid}/approve"' not in page.text, page.text[-3000:]
    assert linked in page.text and "不能审批、签批或发放本批次" in page.text, page.text[-3000:]
    r = pages.post(f"/payments/{bid}/approve", {"confirm": "yes"})
    assert r.status_code == 403 and "密码关联" in r.text and "录入收款账户的入户核查" in r.text, r.text[:3000]
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("pal"))
    assert r.status_code == 403 and "密码关联" in r.text and code in r.text, r.text

    # another finance officer sees the button and approves; the release is hidden from pal the same
    pages.login("fin2")
    assert f'action="/payments/{bid}/approve"' in pages.get(f"/payments/{bid}").text
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin2")).status_code == 200
    pages.login("pal")
    page = pages.get(f"/payments/{bid}")
    assert f'action="/payments/{bid}/release"' not in page.text and linked in page.text, page.text[-3000:]
    r = pages.post(f"/payments/{bid}/release", {"confirm": "yes"})
    assert r.status_code == 403 and "密码关联" in r.text, r.text[:3000]
    assert client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("pal")).status_code == 403
    assert client.get(f"/api/payment-batches/{bid}", headers=users.headers("claims1")).json()["status"] == "approved"


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


def test_the_officer_who_typed_the_account_does_not_sign_off_its_batch(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The county sign-off (API and page) refuses the officer in the county reviewer's role too; another signs off."""
    contract = add_contract(ctx, signoff_at="1.00")  # every batch of the county needs the sign-off
    county = contract.county_codes[0]
    case_id = ready_case(ctx, county=county)
    officer, _ = _officer_in_finance(ctx, client, users, case_id)
    for name, role in (("claims1", "insurer_claims"), ("fin2", "finance"), ("rev2", "county_reviewer")):
        person(ctx, users, name, role, counties=(county,))
    bid, code = _prepared(client, users, county, [case_id])
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin2")).status_code == 200
    with ctx.db.read() as session:
        number = session.get(Case, case_id).number
        assert session.get(PaymentBatch, bid).signoff_required

    r = client.post(f"/api/payment-batches/{bid}/county-signoff", json={"opinion": "同意"},
                    headers=users.headers(officer))
    assert r.status_code == 403 and SAID in r.text and number in r.text and code in r.text, r.text
    assert "不能签批（或退回）" in r.text and "须由其他县级复核人员办理" in r.text, r.text
    pages = Pages(client, users)
    pages.login(officer, FACTORY_PASSWORD)
    page = pages.get(f"/payments/{bid}")
    assert page.status_code == 200 and f'action="/payments/{bid}/signoff"' not in page.text, page.text
    assert f"您是本批次中案件 {number} 入户核查的核查人员" in page.text, page.text
    r = pages.post(f"/payments/{bid}/signoff", {"opinion": "同意", "confirm": "yes"})
    assert r.status_code == 403 and SAID in r.text, r.text[:3000]
    assert client.get(f"/api/payment-batches/{bid}", headers=users.headers("claims1")).json()["status"] == "approved"
    # another county reviewer sees the button and signs off
    other = Pages(client, users)
    other.login("rev2")
    assert f'action="/payments/{bid}/signoff"' in other.get(f"/payments/{bid}").text
    r = client.post(f"/api/payment-batches/{bid}/county-signoff", json={"opinion": "同意"},
                    headers=users.headers("rev2"))
    assert r.status_code == 200, r.text


def test_the_recorder_of_the_check_is_a_setter_too(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The check recorded by another than its officers (typed in at the office): its recorder, in finance, is refused
    the approval as 录入人, by the API and on the page."""
    case_id = ready_case(ctx)
    person(ctx, users, "typist", "field_officer", "finance")
    person(ctx, users, "claims1", "insurer_claims")
    with ctx.db.begin() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id).order_by(Check.seq.desc())).first()
        assert users.ids["typist"] not in check.officer_ids
        check.recorded_by = users.ids["typist"]
        number = session.get(Case, case_id).number
    bid, code = _prepared(client, users, COUNTY, [case_id])
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("typist"))
    assert r.status_code == 403 and RECORDER_SAID in r.text and number in r.text and code in r.text, r.text
    pages = Pages(client, users)
    pages.login("typist")
    page = pages.get(f"/payments/{bid}")
    assert f'action="/payments/{bid}/approve"' not in page.text
    assert f"您是本批次中案件 {number} 入户核查的录入人" in page.text, page.text


def test_an_earlier_check_stored_without_its_index_still_names_its_setters(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The officer typed the account in a check stored before the blind index (no index); a later check by others
    recorded the same account and is the one paid: the earlier check is opened and compared, its officer refused.
    A later check naming another account leaves the first check's officer free to approve (it did not set it)."""
    same, moved = ready_case(ctx), ready_case(ctx)
    officer, _ = _officer_in_finance(ctx, client, users, same)
    person(ctx, users, "claims1", "insurer_claims")
    person(ctx, users, "other_officer", "field_officer")
    for case_id, account in ((same, None), (moved, "6212260000000088888")):
        _unindexed_then_rechecked(ctx, case_id, users.ids["other_officer"], account)
    with ctx.db.read() as session:
        number = session.get(Case, same).number
        first_of_moved = session.scalar(select(Check.officer_ids).where(Check.case_id == moved, Check.seq == 1))
    bid, code = _prepared(client, users, COUNTY, [same])
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers(officer))
    assert r.status_code == 403 and SAID in r.text and number in r.text and code in r.text, r.text
    assert _officer_id(ctx, officer) in first_of_moved  # the same pair visited both
    other, _ = _prepared(client, users, COUNTY, [moved])
    r = client.post(f"/api/payment-batches/{other}/approve", headers=users.headers(officer))
    assert r.status_code == 200, r.text


RECORDER_SAID = "入户核查的录入人，本批次支付给该案的收款账户由这次核查录入"


def _prepared(client: Any, users: Any, county: str, case_ids: list[str]) -> tuple[str, str]:
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": county, "case_ids": case_ids})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["code"]


def _officer_id(ctx: Any, username: str) -> str:
    with ctx.db.read() as session:
        return session.scalar(select(User.id).where(User.username == username))


def _unindexed_then_rechecked(ctx: Any, case_id: str, by: str, account: str | None) -> None:
    """The case's check stored without its blind index (as before 0045), then a second check by `by` (officer and
    recorder) naming the same payee with `account` (None: the first check's), indexed."""
    with ctx.db.begin() as session:
        first = session.scalar(select(Check).where(Check.case_id == case_id, Check.seq == 1))
        number = account or ctx.vault.open(first.payee_account_enc, payees.CHECK_ACCOUNT_COLUMN)
        row = {c.key: getattr(first, c.key) for c in Check.__table__.columns}
        row.update(id=new_id("chk"), seq=2, officer_ids=[by], recorded_by=by,
                   payee_account_enc=ctx.vault.seal(number, payees.CHECK_ACCOUNT_COLUMN),
                   payee_account_index=account_index(ctx.vault, number))
        first.payee_account_index = None
        session.add(Check(**row))
