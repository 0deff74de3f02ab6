"""Claims chooses a batch's cases and takes cases out before approval; the county reviewer's sign-off carries an
opinion and can be refused. The fund is never committed twice: the ledger's sums are checked after each step."""

from __future__ import annotations

import msgspec

from factories import case_status
import pytest
from payment_helpers import add_contract, seed_ready_cases, tx
from sqlalchemy import func, select

from verifier.domain.errors import Forbidden, InvalidState, ValidationFailed
from verifier.payments import ledger, service
from verifier.audit.canonical import decode_entry
from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.payments.models import PaymentBatch, PaymentBatchSignoff, PaymentItem
from verifier.store.tables import Case


def _fen(yuan: str) -> int:
    return int(yuan.replace(".", ""))


def _fund(ctx, contract):  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        assert ledger.problems(s, [contract.id]) == []
        return ledger.balances(s, contract.id)


def _live_committed(ctx) -> int:  # type: ignore[no-untyped-def]
    """What the ledger should hold committed: the totals of the approved or signed-off batches."""
    with ctx.db.read() as s:
        return int(s.scalar(select(func.coalesce(func.sum(PaymentBatch.total), 0))
                            .where(PaymentBatch.status.in_(("approved", "signed_off")))))


def _items(ctx, batch_id: str) -> list[PaymentItem]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return list(s.scalars(select(PaymentItem).where(PaymentItem.batch_id == batch_id).order_by(PaymentItem.seq)))


def test_claims_chooses_the_cases_and_removes_one_before_approval(ctx, people) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="100000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 4, relief=300_000, clock=ctx.clock)
    with ctx.db.read() as s:
        listed = service.ready_to_pay(s, county, people.claims)
    ids = [c["case_id"] for c in listed]
    assert len(ids) == 4 and all(c["relief"] == "3000.00" for c in listed)
    start = _fund(ctx, contract)

    with pytest.raises(ValidationFailed, match="不是.*的待支付案件"):
        tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                               clock=ctx.clock, case_ids=[ids[0], "case_nosuch"]))
    with pytest.raises(ValidationFailed, match="请至少选择一户待支付案件"):
        tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                               clock=ctx.clock, case_ids=[]))
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock, case_ids=ids[:3]))
    assert (batch.item_count, batch.total) == (3, "9000.00")
    assert case_status(ctx, ids[3]) == "ready_to_pay"  # not chosen: still ready

    items = _items(ctx, batch.id)
    with pytest.raises(ValidationFailed, match="reason"):
        tx(ctx, lambda s: service.remove_item(s, batch.id, items[1].id, reason=" ", principal=people.claims,
                                              clock=ctx.clock))
    smaller = tx(ctx, lambda s: service.remove_item(s, batch.id, items[1].id, reason="户主已去世，待核实收款人",
                                                    principal=people.claims, clock=ctx.clock))
    assert (smaller.item_count, smaller.total, smaller.counts) == (2, "6000.00", {"pending": 2, "cancelled": 1})
    assert smaller.items_sha256 != batch.items_sha256
    assert case_status(ctx, items[1].case_id) == "ready_to_pay"
    removed = _items(ctx, batch.id)[1]
    assert (removed.status, removed.removed_by, removed.removed_reason) == ("cancelled", people.claims.id,
                                                                             "户主已去世，待核实收款人")
    assert _fund(ctx, contract) == start  # nothing is committed before approval (the fund opens then), nothing released

    approved = tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1,
                                                 vault=ctx.vault, clock=ctx.clock))
    assert approved.status == "approved"  # the recomputed count and total match the remaining items
    fund = _fund(ctx, contract)
    assert fund.committed == 600_000 == _live_committed(ctx) and fund.balance == fund.budget - 600_000
    left = _items(ctx, batch.id)[0]
    with pytest.raises(InvalidState, match="只能在审批前移出明细"):
        tx(ctx, lambda s: service.remove_item(s, batch.id, left.id, reason="再移出", principal=people.claims,
                                              clock=ctx.clock))

    # the removed case and the one not chosen go into a second batch: each case is paid from the fund once
    second = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                    clock=ctx.clock))
    assert second.item_count == 2 and {i.case_id for i in _items(ctx, second.id)} == {items[1].case_id, ids[3]}
    tx(ctx, lambda s: service.approve(s, second.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    fund = _fund(ctx, contract)
    assert fund.committed == 1_200_000 == _live_committed(ctx) == 4 * 300_000
    assert fund.balance + fund.committed == fund.budget
    with ctx.db.read() as s:
        live = s.execute(select(PaymentItem.case_id, func.count()).where(PaymentItem.status == "pending")
                         .group_by(PaymentItem.case_id)).all()
    assert sorted(c for c, _ in live) == sorted(ids) and all(n == 1 for _, n in live)


def test_the_last_item_is_not_removed_and_the_remover_does_not_approve(ctx, people) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx)
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 2, relief=100_000, clock=ctx.clock)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    items = _items(ctx, batch.id)
    # someone holding both the claims and the finance role shapes the batch: another person approves it
    both = msgspec.structs.replace(people.finance2, roles=("finance", "insurer_claims"))
    tx(ctx, lambda s: service.remove_item(s, batch.id, items[0].id, reason="重复", principal=both, clock=ctx.clock))
    with pytest.raises(InvalidState, match="最后一笔明细"):
        tx(ctx, lambda s: service.remove_item(s, batch.id, items[1].id, reason="x", principal=both, clock=ctx.clock))
    with pytest.raises(Forbidden, match="您移出过本批次的明细"):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=both, vault=ctx.vault, clock=ctx.clock))
    assert tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1,
                                             vault=ctx.vault, clock=ctx.clock)).total == "1000.00"


def test_a_refused_signoff_goes_back_to_prepared_and_cannot_be_released(ctx, people) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 3, relief=300_000, clock=ctx.clock)
    start = _fund(ctx, contract)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    assert batch.signoff_required
    with pytest.raises(InvalidState):
        tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="不同意", principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))  # not approved yet
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    assert _fund(ctx, contract).committed == 900_000
    with pytest.raises(ValidationFailed, match="opinion"):
        tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="", principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(Forbidden, match="四眼原则"):  # the approver does not decide the sign-off
        tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="x", principal=people.finance1,
                                                 vault=ctx.vault, clock=ctx.clock))
    refused = tx(ctx, lambda s: service.refuse_signoff(s, batch.id, opinion="第 2 户收入核查存疑，请移出后重报",
                                                       principal=people.reviewer, vault=ctx.vault, clock=ctx.clock))
    assert (refused.status, refused.approved_by, refused.signoff_refused_by) == ("prepared", None, people.reviewer.id)
    assert refused.signoff_opinion == "第 2 户收入核查存疑，请移出后重报"
    fund = _fund(ctx, contract)
    assert fund.committed == 0 == _live_committed(ctx) and fund.balance == fund.budget > 0
    for who in (people.finance1, people.finance2):
        with pytest.raises(InvalidState, match="「待审批」，不能发放"):
            tx(ctx, lambda s: service.release(s, batch.id, principal=who, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="「待审批」，不能(县级签批|退回签批)"):
        tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))

    # claims takes the doubtful case out, finance approves again, the reviewer signs off with an opinion
    doubtful = _items(ctx, batch.id)[1]
    tx(ctx, lambda s: service.remove_item(s, batch.id, doubtful.id, reason="县级审核意见：收入存疑",
                                          principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    assert _fund(ctx, contract).committed == 600_000 == _live_committed(ctx)
    signed = tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                      vault=ctx.vault, clock=ctx.clock,
                                                      opinion="同意发放"))
    assert (signed.status, signed.signoff_opinion) == ("signed_off", "同意发放")
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    fund = _fund(ctx, contract)
    assert fund.committed == 600_000 and fund.balance == fund.budget - 600_000  # committed until the bank answers

    # Both decisions kept, the refusal's opinion too (the batch keeps the latest); the refused tries left none. Each
    # row is named by its decision's audit entry, whose digest is of the row's opinion: an auditor checks the row.
    with ctx.db.read() as s:
        history = service.signoffs_of(s, batch.id)
        entries = {e.payload["signoff_id"]: e for e in map(decode_entry, s.scalars(
            select(AuditEntry.entry).where(AuditEntry.subject == batch.id, AuditEntry.action.in_(
                ("payment_batch.signoff_refused", "payment_batch.county_signoff")))))}
    assert [(d.decision, d.decided_by, d.opinion) for d in history] == [
        ("refused", people.reviewer.id, "第 2 户收入核查存疑，请移出后重报"), ("given", people.reviewer.id, "同意发放")]
    assert (history[0].decided_at, history[1].decided_at) == (refused.signoff_refused_at, signed.signed_off_at)
    with ctx.db.read() as s:
        ids = list(s.scalars(select(PaymentBatchSignoff.id).where(PaymentBatchSignoff.batch_id == batch.id)
                             .order_by(PaymentBatchSignoff.decided_at)))
    assert list(entries) and sorted(entries) == sorted(ids)
    for row_id, d in zip(ids, history):
        e = entries[row_id]
        assert (e.actor, e.payload["opinion_sha256"]) == (d.decided_by, text_digest(d.opinion or ""))


def test_the_api_routes(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    contract = add_contract(ctx, signoff_at="5000.00")
    county = contract.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, contract, 3, relief=300_000, clock=ctx.clock)
    users.add("c1", "insurer_claims", counties=(county,))
    users.add("f1", "finance", counties=(county,))
    users.add("r1", "county_reviewer", counties=(county,))
    with ctx.db.read() as s:
        ids = sorted(s.scalars(select(Case.id).where(Case.county_code == county)))
    r = client.post("/api/payment-batches", json={"county_code": county, "case_ids": ids[:2]},
                    headers=users.headers("c1"))
    assert r.status_code == 201, r.text
    batch = r.json()
    assert batch["item_count"] == 2
    items = client.get(f"/api/payment-batches/{batch['id']}/items", headers=users.headers("c1")).json()["items"]
    url = f"/api/payment-batches/{batch['id']}"
    assert client.post(f"{url}/items/{items[0]['id']}/remove", json={}, headers=users.headers("c1")).status_code == 400
    assert client.post(f"{url}/items/{items[0]['id']}/remove", json={"reason": "x"},
                       headers=users.headers("f1")).status_code == 403  # finance does not shape a batch
    r = client.post(f"{url}/items/{items[0]['id']}/remove", json={"reason": "重复申报"}, headers=users.headers("c1"))
    assert r.status_code == 200 and r.json()["item_count"] == 1, r.text
    items = client.get(f"{url}/items", headers=users.headers("c1")).json()["items"]
    assert items[0]["removed_reason"] == "重复申报" and items[0]["status"] == "cancelled"
    assert client.post(f"{url}/approve", headers=users.headers("f1")).status_code == 200
    assert client.post(f"{url}/county-signoff/refuse", json={"opinion": ""},
                       headers=users.headers("r1")).status_code == 422
    r = client.post(f"{url}/county-signoff/refuse", json={"opinion": "票据不全"}, headers=users.headers("r1"))
    assert r.status_code == 200 and r.json()["status"] == "prepared" and r.json()["signoff_opinion"] == "票据不全"
    assert client.post(f"{url}/release", headers=users.headers("f1")).status_code == 409
    assert client.post(f"{url}/approve", headers=users.headers("f1")).status_code == 200
    r = client.post(f"{url}/county-signoff", json={"opinion": "同意"}, headers=users.headers("r1"))
    assert r.status_code == 200 and r.json()["signoff_opinion"] == "同意"
