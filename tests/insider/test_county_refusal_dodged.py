"""The county's refusal to sign a batch off, dodged on the insurer's side. The county reviewer refuses to sign off a
batch (a doubtful case in it); the batch goes back to prepared so claims may take the doubtful case out. But the
sign-off was asked only by the batch's total: claims took the *other* cases out instead (or cancelled the batch and
prepared the doubtful case again, alone) so that the total fell under the contract's sign-off amount, and finance,
seeing a batch that needs no sign-off, approved and released it: the case the county refused was paid without the
county. Now a case of a batch the county refused to sign off needs the county's sign-off in any batch, whatever its
total, until the county signs off a batch holding it (`batch_read.refused_cases`); the refusal's batch itself goes
back to the county too."""

from __future__ import annotations

from insider_kit import entries_but_refusals
from payments.payment_helpers import add_contract, seed_ready_cases
from sqlalchemy import select
from web.pagekit import Pages

from verifier.store.tables import Case


def _county_refuses(ctx, client, users):  # type: ignore[no-untyped-def]
    """Three ready cases of 3,000 yuan under a sign-off amount of 5,000; claims (c1) prepares them, f1 approves,
    the county reviewer refuses to sign off, naming the second case: (county, batch url, items, cases)."""
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 3, relief=300_000, clock=ctx.clock)
    for name, role in (("c1", "insurer_claims"), ("f1", "finance"), ("f2", "finance"), ("r1", "county_reviewer")):
        users.add(name, role, counties=(county,))
    with ctx.db.read() as s:
        cases = sorted(s.scalars(select(Case.id).where(Case.county_code == county)))
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": cases},
                    headers=users.headers("c1"))
    assert r.status_code == 201 and r.json()["signoff_required"] is True, r.text
    url = f"/api/payment-batches/{r.json()['id']}"
    assert client.post(f"{url}/approve", headers=users.headers("f1")).status_code == 200
    r = client.post(f"{url}/county-signoff/refuse", json={"opinion": "第 2 户收入核查存疑，请移出后重报"},
                    headers=users.headers("r1"))
    assert r.status_code == 200 and r.json()["status"] == "prepared", r.text
    items = client.get(f"{url}/items", headers=users.headers("c1")).json()["items"]
    return county, url, items, cases


def test_attack_claims_takes_the_other_cases_out_so_the_refused_batch_needs_no_sign_off(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    county, url, items, cases = _county_refuses(ctx, client, users)
    doubtful = items[1]
    for item in (items[0], items[2]):
        r = client.post(f"{url}/items/{item['id']}/remove", json={"reason": "资料待补"}, headers=users.headers("c1"))
        assert r.status_code == 200, r.text
    r = client.get(url, headers=users.headers("f2"))
    assert r.json()["total"] == "3000.00" and r.json()["signoff_required"] is True, r.text
    assert r.json()["signoff_refused_cases"] == [doubtful["case_id"]], r.text
    assert client.post(f"{url}/approve", headers=users.headers("f2")).status_code == 200
    before = entries_but_refusals(ctx)
    r = client.post(f"{url}/release", headers=users.headers("f2"))
    assert r.status_code == 409 and "不同意签批" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    assert client.get(url, headers=users.headers("f2")).json()["status"] == "approved"
    pages = Pages(client, users)  # the batch page says why, to finance and to the county reviewer
    for who in ("f2", "r1"):
        pages.login(who)
        page = pages.get(url.replace("/api/payment-batches", "/payments"))
        assert page.status_code == 200 and "曾列入县级审核人员不同意签批的批次" in page.text, page.text[:3000]
    # the county looks again: once it signs off, the batch is released
    r = client.post(f"{url}/county-signoff", json={"opinion": "已补充材料，同意"}, headers=users.headers("r1"))
    assert r.status_code == 200, r.text
    assert client.post(f"{url}/release", headers=users.headers("f2")).status_code == 200


def test_attack_claims_cancels_the_refused_batch_and_prepares_the_doubtful_case_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    county, url, items, cases = _county_refuses(ctx, client, users)
    doubtful = items[1]["case_id"]
    r = client.post(f"{url}/cancel", headers=users.headers("c1"))
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": [doubtful]},
                    headers=users.headers("c1"))
    assert r.status_code == 201, r.text
    assert r.json()["total"] == "3000.00" and r.json()["signoff_required"] is True, r.text
    again = f"/api/payment-batches/{r.json()['id']}"
    assert client.post(f"{again}/approve", headers=users.headers("f2")).status_code == 200
    r = client.post(f"{again}/release", headers=users.headers("f1"))
    assert r.status_code == 409 and "不同意签批" in r.json()["detail"], r.text

    # The other two cases were not doubted... but they were in the refused batch too: the county sees them again.
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": [c for c in cases
                                                                                       if c != doubtful]},
                    headers=users.headers("c1"))
    assert r.status_code == 201 and r.json()["signoff_required"] is True, r.text

    # A case the county then signs off is free again: a later batch of it needs what its total needs.
    r = client.post(f"{again}/county-signoff", json={"opinion": "同意"}, headers=users.headers("r1"))
    assert r.status_code == 200, r.text
    assert client.get(again, headers=users.headers("f1")).json()["signoff_refused_cases"] == []
    r = client.post(f"{again}/cancel", headers=users.headers("c1"))
    assert r.status_code == 200, r.text
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": [doubtful]},
                    headers=users.headers("c1"))
    assert r.status_code == 201 and r.json()["signoff_required"] is False, r.text


def test_a_case_taken_out_before_the_refusal_is_not_held_by_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Only the cases the refused batch held when the county refused it: one taken out before approval was never
    shown to the county."""
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 4, relief=300_000, clock=ctx.clock)
    for name, role in (("c1", "insurer_claims"), ("f1", "finance"), ("r1", "county_reviewer")):
        users.add(name, role, counties=(county,))
    with ctx.db.read() as s:
        cases = sorted(s.scalars(select(Case.id).where(Case.county_code == county)))
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": cases},
                    headers=users.headers("c1"))
    url = f"/api/payment-batches/{r.json()['id']}"
    items = client.get(f"{url}/items", headers=users.headers("c1")).json()["items"]
    ctx.clock.advance(minutes=1)
    assert client.post(f"{url}/items/{items[0]['id']}/remove", json={"reason": "重复"},
                       headers=users.headers("c1")).status_code == 200
    ctx.clock.advance(minutes=1)
    assert client.post(f"{url}/approve", headers=users.headers("f1")).status_code == 200
    ctx.clock.advance(minutes=1)
    assert client.post(f"{url}/county-signoff/refuse", json={"opinion": "不同意"},
                       headers=users.headers("r1")).status_code == 200
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": [items[0]["case_id"]]},
                    headers=users.headers("c1"))
    assert r.status_code == 201 and r.json()["signoff_required"] is False, r.text
