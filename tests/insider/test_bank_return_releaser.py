"""A finance officer who released a batch imports its bank return: the one who sent the money writing down what the
bank did with it (a transfer marked failed is paid again, perhaps to a new payee; a failed one marked paid)."""

from __future__ import annotations

import csv
import io

from deviation_helpers import person, ready_case
from factories import COUNTY
from sqlalchemy import func, select

from verifier.payments.models import BankReturn, PaymentItem
from verifier.store.tables import Case


def _return(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"]] + [
        [ref, status, f"BK{n}" if status == "success" else "", "账户异常" if status == "failed" else ""]
        for n, (ref, status) in enumerate(rows)])
    return out.getvalue().encode()


def _state(ctx, batch_id: str) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        items = tuple(s.execute(select(PaymentItem.reference, PaymentItem.status).where(
            PaymentItem.batch_id == batch_id).order_by(PaymentItem.reference)).all())
        cases = tuple(s.scalars(select(Case.status).join(PaymentItem, PaymentItem.case_id == Case.id).where(
            PaymentItem.batch_id == batch_id).order_by(PaymentItem.reference)).all())
        returns = s.scalar(select(func.count()).select_from(BankReturn).where(BankReturn.batch_id == batch_id))
    return items, cases, returns


def test_attack_the_releaser_imports_a_made_up_return_of_their_own_batch(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A small office with two finance officers: fin2 approves, fin1 (who also holds the claims role, so the role
    does not matter, the person does) releases and takes the bank file. fin1's return marking a transfer failed is
    refused (403) and nothing of it is applied; fin2 imports the bank's own return. fin1 then cannot rewrite a
    failed transfer as paid either: every return of the batch is someone else's."""
    cases = [ready_case(ctx), ready_case(ctx)]
    person(ctx, users, "claims1", "insurer_claims")
    person(ctx, users, "fin1", "finance", "insurer_claims")
    person(ctx, users, "fin2", "finance")
    claims, fin1, fin2 = users.headers("claims1"), users.headers("fin1"), users.headers("fin2")
    r = client.post("/api/payment-batches", headers=claims, json={"county_code": COUNTY, "case_ids": cases})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=fin2).status_code == 200
    r = client.post(f"/api/payment-batches/{bid}/release", headers=fin1)
    assert r.status_code == 200 and r.json()["released_by"] == users.ids["fin1"]
    bank = client.get(f"/api/payment-batches/{bid}/bank-file", headers=fin1)
    assert bank.status_code == 200
    refs = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    assert len(refs) == 2
    before = _state(ctx, bid)

    made_up = _return([(refs[0], "failed"), (refs[1], "success")])
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=fin1,
                    files={"file": ("r.csv", made_up, "text/csv")})
    assert r.status_code == 403 and "本批次由您发放" in r.json()["detail"], r.text
    assert _state(ctx, bid) == before  # nothing applied, nothing stored

    # The other finance officer (who approved) imports the bank's return: one transfer really failed.
    real = _return([(refs[0], "success"), (refs[1], "failed")])
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=fin2,
                    files={"file": ("bank.csv", real, "text/csv")})
    assert r.status_code == 200 and (r.json()["succeeded"], r.json()["failed"]) == (1, 1), r.text
    after = _state(ctx, bid)
    assert [s for _, s in after[0]] == ["succeeded", "failed"]

    # fin1 now tries to have the failed transfer read as paid (hiding it), or to re-send fin2's file: refused.
    for body in (_return([(refs[1], "success")]), real):
        r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=fin1,
                        files={"file": ("again.csv", body, "text/csv")})
        assert r.status_code == 403, r.text
    assert _state(ctx, bid) == after
