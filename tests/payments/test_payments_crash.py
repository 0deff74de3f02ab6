"""Crash safety: a real process killed (SIGKILL) in the middle of releasing a large batch and of importing its return.

Each operation is one transaction, so after the kill nothing of it is left: the batch, its items, its cases, the fund
and the audit log are as before, the ledger balances and the log verifies. Retrying then does the job exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from payment_helpers import add_contract, seed_ready_cases, tx
from sqlalchemy import func, select

from verifier.audit import log as audit
from verifier.audit.checkpoints import known_keys
from verifier.audit.verify import verify_log
from verifier.domain.errors import InvalidState
from verifier.payments import bankfiles, ledger, service
from verifier.payments.ledger_models import FundMovement
from verifier.payments.models import BankReturn, PaymentBatch, PaymentItem
from verifier.store.tables import Case

WORKER = Path(__file__).with_name("crash_worker.py")
ITEMS = 2500


def _snapshot(ctx, batch_id):  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        batch = s.get(PaymentBatch, batch_id)
        return {
            "batch": (batch.status, batch.bank_file_sha256),
            "items": dict(s.execute(select(PaymentItem.status, func.count()).where(PaymentItem.batch_id == batch_id)
                                    .group_by(PaymentItem.status)).all()),
            "cases": dict(s.execute(select(Case.status, func.count()).group_by(Case.status)).all()),
            "movements": s.scalar(select(func.count()).select_from(FundMovement)),
            "returns": s.scalar(select(func.count()).select_from(BankReturn)),
            "log": audit.tree_size(s),
        }


def _kill_midway(ctx, settings, database_url, tmp_path, args, sql, count):  # type: ignore[no-untyped-def]
    marker = tmp_path / f"marker-{args[0]}"
    env = {**os.environ, "VERIFIER_HOME": str(settings.home), "VERIFIER_DATABASE_URL": database_url,
           "CRASH_MARKER": str(marker), "CRASH_AFTER_SQL": sql, "CRASH_AFTER_COUNT": str(count),
           "VERIFIER_LOG_NAME": settings.log_name}
    proc = subprocess.Popen([sys.executable, str(WORKER), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the worker ended before the crash point: {out.decode()} {err.decode()}")
        assert time.monotonic() < deadline, "the worker never reached the crash point"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def _sound(ctx, contract):  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        assert ledger.problems(s) == []
        fund = ledger.balances(s, contract.id)
        assert fund.balance == fund.budget - fund.committed - fund.paid - fund.service_fee
        keys = known_keys(s)
    assert verify_log(ctx.db, keys).ok


def test_killed_release_and_import_leave_nothing_half_done_and_retry_exactly_once(
    ctx, people, settings, database_url, tmp_path,
) -> None:
    c = add_contract(ctx, budget="100000000.00")
    seed_ready_cases(ctx.db, ctx.vault, c, ITEMS, relief=10_000, clock=ctx.clock)
    batch = tx(ctx, lambda s: service.create_batch(s, county_code=c.county_codes[0], contract_id=None,
                                                   principal=people.claims, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    if batch.signoff_required:
        tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))
    before = _snapshot(ctx, batch.id)

    # Killed after every item was marked sent, before the bank file and the batch row were written.
    _kill_midway(ctx, settings, database_url, tmp_path, ["release", batch.id, people.finance2.id],
                 "UPDATE PAYMENT_ITEM", 1)
    assert _snapshot(ctx, batch.id) == before
    _sound(ctx, c)
    released = tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault,
                                                 clock=ctx.clock))
    assert released.status == "released" and released.counts == {"sent": ITEMS}
    with pytest.raises(InvalidState):
        tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))

    # The return: killed after the items and part of the cases were updated, before the fund and the log.
    with ctx.db.read() as s:
        refs = s.scalars(select(PaymentItem.reference).where(PaymentItem.batch_id == batch.id)
                         .order_by(PaymentItem.seq)).all()
    lines = ["reference,status,bank_reference,reason"]
    lines += [f"{r},failed,,账户已冻结" if i % 10 == 0 else f"{r},success,B{i},"for i, r in enumerate(refs)]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "return.csv"
    path.write_bytes(data)
    before = _snapshot(ctx, batch.id)
    _kill_midway(ctx, settings, database_url, tmp_path, ["import", batch.id, people.finance1.id, str(path)],
                 "UPDATE RELIEF_CASE", 2)
    assert _snapshot(ctx, batch.id) == before
    _sound(ctx, c)

    import hashlib
    parsed = bankfiles.parse_return(data)
    digest = hashlib.sha256(data).hexdigest()
    out, repeated = tx(ctx, lambda s: service.import_return(s, batch.id, parsed, file_sha256=digest, filename="r.csv",
                                                            principal=people.finance1, clock=ctx.clock))
    assert not repeated and (out.succeeded, out.failed, out.batch_status) == (ITEMS - ITEMS // 10, ITEMS // 10,
                                                                              "reconciled")
    again, repeated = tx(ctx, lambda s: service.import_return(s, batch.id, parsed, file_sha256=digest,
                                                              filename="r.csv", principal=people.finance1,
                                                              clock=ctx.clock))
    assert repeated and again == out
    after = _snapshot(ctx, batch.id)
    assert after["items"] == {"succeeded": ITEMS - ITEMS // 10, "failed": ITEMS // 10} and after["returns"] == 1
    with ctx.db.read() as s:
        fund = ledger.balances(s, c.id)
    assert (fund.paid, fund.committed) == ((ITEMS - ITEMS // 10) * 10_000, 0)
    assert fund.service_fee == ledger.fee_on(fund.paid, c.service_fee_rate)
    _sound(ctx, c)
