"""A supplementary payment (补发) marked failed by the bank's return, paid again with nobody looking. A failed transfer
of relief is paid again only after a payee change that neither the return's importer nor an account linked to theirs
asks for or decides; a failed supplement simply went back to `open` and the next batch paid it again. So the finance
officer who imports the return (the releaser and the file's taker may not) could write 失败 for a supplement the bank
had paid and have the fund pay it a second time through the routine next batch. Now a failed supplement waits for a
county reviewer's confirmation again, as when it was opened (the same bars as then, and not the return's importer nor
an account linked to theirs), before a batch takes it."""

from __future__ import annotations

import csv
import io

from deviation_helpers import drawn_round, pay, person, ready_case, relief_of
from factories import COUNTY
from insider_kit import entries_but_refusals
from sampling.sampling_helpers import rounds  # noqa: F401  (the fixture)
from sqlalchemy import select

from verifier.domain.money import format_yuan
from verifier.payments.models import SupplementaryPayment


def _sup(ctx, case_id: str) -> SupplementaryPayment:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        sup = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == case_id)).one()
        s.expunge(sup)
        return sup


def test_attack_the_importer_marks_a_supplement_failed_and_the_next_batch_pays_it_again(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    client = rounds.client
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    imp = person(ctx, users, "imp", "finance", "county_reviewer")  # imports returns; also a county reviewer
    person(ctx, users, "rev2", "county_reviewer")
    person(ctx, users, "rev3", "county_reviewer")
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    round_id = drawn_round(rounds, {paid})
    rounds.result(round_id, paid, per_capita_income="2666.67", eligible=True,
                  relief_amount=format_yuan(relief_of(ctx, paid) + 300_000))
    sup = _sup(ctx, paid)
    assert client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2")).status_code == 200

    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [paid]})
    assert r.status_code == 201, r.text
    url = f"/api/payment-batches/{r.json()['id']}"
    assert client.post(f"{url}/approve", headers=users.headers("fin1")).status_code == 200
    assert client.post(f"{url}/release", headers=users.headers("fin1")).status_code == 200
    bank = client.get(f"{url}/bank-file", headers=users.headers("fin1"))
    (ref,) = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"], [ref, "failed", "", "账户异常"]])
    r = client.post(f"{url}/bank-return", headers=users.headers("imp"),
                    files={"file": ("r.csv", out.getvalue().encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["failed"] == 1, r.text

    # The next batch does not pay it again on the importer's word alone.
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [paid]})
    assert r.status_code == 422 and "另一名县级复核人员确认" in r.text, r.text
    assert (_sup(ctx, paid).status, _sup(ctx, paid).confirmed_by) == ("open", None)
    # Nor does the importer confirm it, though a county reviewer too.
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("imp"))
    assert r.status_code == 403 and "银行回单" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before and _sup(ctx, paid).confirmed_by is None
    # Another county reviewer looks at the failure and confirms it: then it is paid again.
    r = client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev3"))
    assert r.status_code == 200, r.text
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [paid]})
    assert r.status_code == 201 and r.json()["total"] == "3000.00", r.text
    assert imp.id != fin1.id != claims.id
