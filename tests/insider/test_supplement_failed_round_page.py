"""The round page's row of a supplement back after a bank return marked its transfer failed: it says so
(银行回单标为支付失败，须重新确认), not only that it waits for a second county reviewer, and it offers the button
核实后确认补发 to nobody the confirmation refuses (`consequences.importer_refused`, the rule `confirm_supplement`
applies): neither the return's importer nor an account linked to theirs by a password, who read why instead."""

from __future__ import annotations

import csv
import io

from deviation_helpers import drawn_round, pay, person, ready_case, relief_of
from factories import COUNTY
from sampling import sampling_helpers
from sqlalchemy import select
from web.pagekit import Pages

from verifier.domain.money import format_yuan
from verifier.payments.models import SupplementaryPayment
from verifier.sampling import consequences
from verifier.store.tables import User

rounds = sampling_helpers.rounds  # the fixture
FAILED = "银行回单标为支付失败，须重新确认"


def _row(text: str, sup_id: str) -> str:
    row = text[text.index(f'id="supplement-{sup_id}"'):]
    return row[:row.index("</tr>")]


def test_a_supplement_failed_by_a_return_says_so_and_offers_no_button_to_its_importer_or_a_linked_account(  # type: ignore[no-untyped-def]
        ctx, rounds, users) -> None:
    client = rounds.client
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    imp = person(ctx, users, "imp", "finance", "county_reviewer")  # imports returns; also a county reviewer
    person(ctx, users, "rev2", "county_reviewer")
    person(ctx, users, "rev3", "county_reviewer")
    pal = person(ctx, users, "pal", "county_reviewer")
    with ctx.db.begin() as s:  # "imp" set the password of "pal" (his second account)
        s.get(User, pal.id).password_set_by = imp.id  # type: ignore[union-attr]
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    round_id = drawn_round(rounds, {paid})
    rounds.result(round_id, paid, per_capita_income="2666.67", eligible=True,
                  relief_amount=format_yuan(relief_of(ctx, paid) + 300_000))
    with ctx.db.read() as s:
        sup = s.scalars(select(SupplementaryPayment.id).where(SupplementaryPayment.case_id == paid)).one()
    pages = Pages(client, users)
    pages.login("imp")
    row = _row(pages.get(f"/sampling/{round_id}").text, sup)
    assert FAILED not in row and "待另一名县级复核人员确认" in row  # none failed yet: the first confirmation
    assert client.post(f"/api/supplements/{sup}/confirm", headers=users.headers("rev2")).status_code == 200

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

    button = f'action="/sampling/{round_id}/supplements/{sup}/confirm"'
    for who, why in (("imp", consequences.FAILED_BY_IMPORTER), ("pal", consequences.IMPORTER_LINKED)):
        pages = Pages(client, users)
        pages.login(who)
        row = _row(pages.get(f"/sampling/{round_id}").text, sup)
        assert FAILED in row and why in row and button not in row, (who, row)
        # the page says what the confirmation answers
        r = client.post(f"/api/supplements/{sup}/confirm", headers=users.headers(who))
        assert r.status_code == 403 and r.json()["detail"] == why, r.text
    pages = Pages(client, users)
    pages.login("rev3")
    row = _row(pages.get(f"/sampling/{round_id}").text, sup)
    assert FAILED in row and button in row and "refused" not in row, row
    with ctx.db.read() as s:
        assert consequences.failure_importers(s, [sup, "none"]) == {sup: imp.id}
