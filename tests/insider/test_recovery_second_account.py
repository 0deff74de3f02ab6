"""Money owed back to the fund (追回) is written off by two people: a repayment a finance officer records counts once
another person confirms it, and a waiver one county reviewer asks for is made by another. Those second persons were
told apart by the account alone: whoever had set the other account's password (a finance officer who is also the
county's admin and reset a colleague's, a reviewer who is also an admin) could record a repayment the bank never saw
and confirm it as that colleague, or ask for a waiver and make it so: the household's debt gone, one person's doing.
The batches, payee changes, supplements, follow-ups and the roster already refused an account linked by a password
(`roster.service.password_links`); the recovery's two steps now do too: 403, nothing written, kept on 回避拦截记录
(the case as its subject); someone else takes the step."""

from __future__ import annotations

from deviation_helpers import both_found_ineligible, held_and_paid_in_a_round, recovery_of
from insider_kit import COUNTY, entries_but_refusals, refusals_of
from sqlalchemy import select

from verifier.payments.models import RecoveryRepayment
from verifier.store.tables import User


def _set_password_of(ctx, users, account: str, by: str) -> None:  # type: ignore[no-untyped-def]
    """`by` last set `account`'s password (and so knew one), as an admin's reset leaves it once the owner chose
    their own."""
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def test_attack_a_second_account_confirms_a_made_up_repayment_or_makes_the_waiver(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    sampled = held_and_paid_in_a_round(ctx, client, users)  # users reviewer, insurer, claims1, fin1
    both_found_ineligible(ctx, client, sampled, "2666.67")
    recovery = recovery_of(ctx, sampled.paid)
    assert recovery.status == "open"
    for name, role in (("fin_pal", "finance"), ("fin2", "finance"), ("rev_pal", "county_reviewer"),
                       ("rev2", "county_reviewer")):
        users.add(name, role, counties=(COUNTY,))
    _set_password_of(ctx, users, "fin_pal", by="fin1")  # fin1 knows a password of fin_pal's account
    _set_password_of(ctx, users, "rev_pal", by="reviewer")  # and the reviewer one of rev_pal's

    # fin1 records a repayment the bank never saw; fin_pal's account confirms it: refused, nothing counted.
    r = client.post(f"/api/recoveries/{recovery.id}/repayments", headers=users.headers("fin1"),
                    json={"amount": "100.00", "paid_on": ctx.clock.today().isoformat(), "reference": "XJ0001"})
    assert r.status_code == 201, r.text
    repayment = r.json()["id"]
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/recovery-repayments/{repayment}/confirm", headers=users.headers("fin_pal"))
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    r = client.post(f"/api/recovery-repayments/{repayment}/reject", headers=users.headers("fin_pal"),
                    json={"reason": "银行流水无此笔"})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.get(RecoveryRepayment, repayment).status == "pending"
    assert recovery_of(ctx, sampled.paid).repaid == 0
    # Another finance officer looks at the bank's statement and confirms it.
    r = client.post(f"/api/recovery-repayments/{repayment}/confirm", headers=users.headers("fin2"))
    assert r.status_code == 200, r.text
    assert recovery_of(ctx, sampled.paid).repaid == 10_000

    # The reviewer asks to waive the rest; rev_pal's account would make it: refused, still open.
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=sampled.reviewer, json={"reason": "农户确无能力退还"})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=users.headers("rev_pal"), json={"reason": "同意"})
    assert r.status_code == 403 and "密码关联" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and recovery_of(ctx, sampled.paid).status == "open"
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=users.headers("rev2"), json={"reason": "同意核销"})
    assert r.status_code == 200 and r.json()["status"] == "waived", r.text

    # Each try is on record, the case its subject.
    assert [(k["step"], k["subject"]) for k in refusals_of(ctx, users.ids["fin_pal"])
            + refusals_of(ctx, users.ids["rev_pal"])] == [
        ("recovery_repayment", sampled.paid), ("recovery_repayment", sampled.paid), ("recovery_waiver", sampled.paid)]
    with ctx.db.read() as session:
        assert session.scalar(select(RecoveryRepayment.decided_by).where(RecoveryRepayment.id == repayment)) == \
            users.ids["fin2"]
