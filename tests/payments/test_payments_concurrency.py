"""Two finance officers approving, releasing or importing the same batch at the same moment: one effect.

Real threads on separate connections (half through a second Database, as another process would): on PostgreSQL the
batch row is locked with SELECT ... FOR UPDATE, on SQLite the write transaction (BEGIN IMMEDIATE) is exclusive.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from payment_helpers import add_contract, seed_ready_cases, tx
from sqlalchemy import func, select

from verifier.domain.errors import DomainError
from verifier.payments import bankfiles, ledger, service
from verifier.payments.ledger_models import FundMovement
from verifier.payments.models import BankReturn, PaymentBatch, PaymentItem
from verifier.store.db import Database


def _race(ctx: Any, database_url: str, calls: list[Callable[[Any], Any]]) -> tuple[list[Any], list[BaseException]]:
    other = Database(database_url)
    start = threading.Barrier(len(calls))
    results: list[Any] = []
    refused: list[BaseException] = []
    unexpected: list[BaseException] = []

    def worker(i: int) -> None:
        database = ctx.db if i % 2 == 0 else other
        try:
            start.wait()
            with database.begin() as session:
                results.append(calls[i](session))
        except DomainError as exc:
            refused.append(exc)
        except BaseException as exc:  # noqa: BLE001
            unexpected.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    other.dispose()
    assert unexpected == []
    return results, refused


def test_concurrent_approvals_and_releases_of_one_batch_take_effect_once(ctx, people, database_url) -> None:
    c = add_contract(ctx)
    seed_ready_cases(ctx.db, ctx.vault, c, 50, relief=100_000, clock=ctx.clock)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    who = [people.finance1, people.finance2] * 2
    ok, refused = _race(ctx, database_url, [
        (lambda p: lambda s: service.approve(s, batch.id, principal=p,
                                             vault=ctx.vault, clock=ctx.clock))(p) for p in who])
    assert len(ok) == 1 and len(refused) == 3 and all("不能审批" in str(e) for e in refused)
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(FundMovement).where(FundMovement.kind == "commit")) == 1
        assert ledger.balances(s, c.id).committed == 5_000_000
    ok, refused = _race(ctx, database_url, [
        (lambda p: lambda s: service.release(s, batch.id, principal=p, vault=ctx.vault, clock=ctx.clock))(p)
        for p in who])
    assert len(ok) == 1 and len(refused) == 3
    with ctx.db.read() as s:
        assert s.get(PaymentBatch, batch.id).status == "released"
        assert ledger.problems(s) == []


def test_concurrent_imports_of_one_return_apply_it_once(ctx, people, database_url) -> None:
    c = add_contract(ctx)
    seed_ready_cases(ctx.db, ctx.vault, c, 30, relief=100_000, clock=ctx.clock)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        refs = s.scalars(select(PaymentItem.reference).where(PaymentItem.batch_id == batch.id)).all()
    data = ("reference,status,bank_reference,reason\n" + "".join(f"{r},success,B{r},\n" for r in refs)).encode()
    lines = bankfiles.parse_return(data)
    digest = hashlib.sha256(data).hexdigest()
    ok, refused = _race(ctx, database_url, [
        (lambda p: lambda s: service.import_return(s, batch.id, lines, file_sha256=digest, filename="r.csv",
                                                   principal=p, clock=ctx.clock))(p)
        for p in (people.finance1, people.finance1, people.finance1)])
    assert refused == [] and len(ok) == 3
    assert sorted(repeated for _, repeated in ok) == [False, True, True]
    assert all(out == ok[0][0] for out, _ in ok)  # every caller got the same answer
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(BankReturn)) == 1
        fund = ledger.balances(s, c.id)
        assert (fund.paid, fund.committed, fund.service_fee) == (3_000_000, 0, 450_000)


def test_two_approvals_under_one_contract_never_spend_the_same_balance(ctx, people, database_url) -> None:
    # Budget for one batch of 6,000.00 (+ 900.00 fee) but not two.
    c = add_contract(ctx, budget="10000.00")
    c2_county = c.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, c, 2, relief=300_000, clock=ctx.clock, village="东村")
    first = tx(ctx, lambda s: service.create_batch(s, county_code=c2_county, contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    seed_ready_cases(ctx.db, ctx.vault, c, 2, relief=300_000, clock=ctx.clock, village="西村", seed=9)
    second = tx(ctx, lambda s: service.create_batch(s, county_code=c2_county, contract_id=None,
                                                    principal=people.claims, clock=ctx.clock))
    ok, refused = _race(ctx, database_url, [
        lambda s: service.approve(s, first.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock),
        lambda s: service.approve(s, second.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock)])
    assert len(ok) == 1 and len(refused) == 1 and "资金余额不足" in str(refused[0])
    with ctx.db.read() as s:
        fund = ledger.balances(s, c.id)
        assert (fund.committed, fund.balance) == (600_000, 400_000)
