"""Whether a case's payee may change now is one rule (`payments.payees.may_change`), asked by the request, the
approval and the pages alike. The approval asked its own: a case no longer payable nor paid (withdrawn, say) that
still had a misdirected closing's supplement open let a change asked while it was paid be approved, so one county
reviewer moved the payee of a case that pays nothing any more, where nobody may ask for one."""

from __future__ import annotations

from deviation_helpers import person
from insider_kit import head_of
from sqlalchemy import select

from verifier.payments.models import PayeeCorrection
from verifier.store.tables import Case


def test_attack_a_change_asked_while_paid_is_not_approved_once_the_case_left_paid(ctx, client, users, closed_misdirected_case) -> None:  # type: ignore[no-untyped-def]
    case_id = closed_misdirected_case
    person(ctx, users, "sup3", "insurer_supervisor")
    head = head_of(client, users.headers("sup3"), case_id)
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup3"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": "6217000000000012345", "reason": "户主换卡"})
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    with ctx.db.begin() as session:
        session.get(Case, case_id).status = "withdrawn"  # its supplement still open
    # Asked now, the change is refused (the request's rule) ...
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup3"), json={
        "account_name": head, "bank": "农村商业银行", "account_number": "6217000000000054321", "reason": "户主换卡"})
    assert r.status_code == 409, r.text
    # ... and so is the approval of the one asked before: the same rule, in Chinese.
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev2"))
    assert r.status_code == 409 and "收款人只能在支付前或支付失败后变更" in r.json()["detail"], r.text
    with ctx.db.read() as session:
        assert session.scalar(select(PayeeCorrection.status).where(PayeeCorrection.id == change)) == "pending"
