"""The fund ledger: its arithmetic, and a hypothesis state machine driving the real services in any order.

After every step of any sequence of prepare / approve / sign off / release / cancel / bank return / payee correction:
every movement is two postings summing to zero; balance = budget − committed − paid − fee and never below zero;
the fee is exactly the rate on the relief paid; committed and paid agree with the items; no case is paid twice.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from payment_helpers import add_contract, change_payee, seed_ready_cases, tx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from verifier.domain.errors import DomainError, InvalidState
from verifier.payments import bankfiles, ledger, service
from verifier.payments.ledger_models import FundMovement, FundPosting
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.store.tables import Case


def test_fee_reserve_and_commitment_check() -> None:
    rate = Decimal("0.15")
    b = ledger.Balances(budget=10_000, committed=2_000, paid=3_000, service_fee=450, balance=4_550)
    assert ledger.fee_reserve(b, 1_000, rate) == 900 - 450  # the fee on everything committed once paid
    ledger.check_commitment(b, 3_696, rate, "x")  # 4,550 − 3,696 − (1,304 − 450) = 0
    with pytest.raises(InvalidState, match="资金余额不足"):
        ledger.check_commitment(b, 3_697, rate, "x")  # 4,550 − 3,697 − (1,305 − 450) < 0
    assert ledger.fee_on(100_001, rate) == 15_000 and ledger.fee_on(100_003, rate) == 15_000  # half up
    assert ledger.fee_on(100_004, rate) == 15_001


def test_the_fund_opens_once_and_every_movement_balances(ctx, people) -> None:
    c = add_contract(ctx, budget="1000.00")
    for _ in range(2):
        tx(ctx, lambda s: ledger.lock_fund(s, c, actor="system", clock=ctx.clock))
    with ctx.db.begin() as s:
        ledger.lock_fund(s, c, actor="system", clock=ctx.clock)
        ledger.post(s, c.id, "commit", "commit:x", 30_000, actor="u", clock=ctx.clock)
        ledger.settle(s, c, paid=20_000, released=10_000, key="r1", actor="u", clock=ctx.clock)
        with pytest.raises(InvalidState, match="超过资金中已占用"):
            ledger.settle(s, c, paid=1, released=0, key="r2", actor="u", clock=ctx.clock)
    with ctx.db.read() as s:
        assert ledger.balances(s, c.id) == ledger.Balances(budget=100_000, committed=0, paid=20_000, service_fee=3_000,
                                                           balance=77_000)
        kinds = s.scalars(select(FundMovement.kind).where(FundMovement.contract_id == c.id)
                          .order_by(FundMovement.id)).all()
        assert kinds == ["budget", "commit", "pay", "fee", "release"]
        assert ledger.problems(s) == []
    with ctx.db.begin() as s:  # a tampered posting is found
        posting = s.scalar(select(FundPosting).where(FundPosting.contract_id == c.id).limit(1))
        posting.amount += 1
    with ctx.db.read() as s:
        assert len(ledger.problems(s)) == 1


ANYWHERE = st.sampled_from([False, False, False, True])


class FundMachine(RuleBasedStateMachine):
    """Any sequence of payment operations on one contract's fund (a fresh contract and county per example)."""

    ctx = None
    people = None

    @initialize(budget=st.integers(2_000, 8_000), fee=st.sampled_from(["0.00", "0.15", "0.333"]))
    def open_contract(self, budget: int, fee: str) -> None:
        self.contract = add_contract(self.ctx, budget=f"{budget}.00", fee_rate=fee, signoff_at="3000.00")
        self.county = self.contract.county_codes[0]
        self.batches: list[str] = []
        self.seeds = 0
        self.ready = 0
        self.written = True  # a step that may have written since the books were last checked


    def _try(self, fn) -> object:  # type: ignore[no-untyped-def]
        self.written = True
        try:
            return tx(self.ctx, fn)
        except DomainError:
            return None

    @rule(n=st.integers(1, 3), relief=st.integers(1, 150_000))
    def cases_become_ready(self, n: int, relief: int) -> None:
        self.seeds += 1
        self.ready += n
        self.written = True
        seed_ready_cases(self.ctx.db, self.ctx.vault, self.contract, n, county=self.county, relief=relief,
                         clock=self.ctx.clock, seed=self.seeds, village=f"村{self.seeds}")

    @precondition(lambda self: self.ready > 0)
    @rule()
    def prepare(self) -> None:
        out = self._try(lambda s: service.create_batch(s, county_code=self.county, contract_id=None,
                                                       principal=self.people.claims, clock=self.ctx.clock))
        if out is not None:
            self.batches.append(out.id)
        with self.ctx.db.read() as s:
            self.ready = s.scalar(select(func.count()).select_from(Case).where(Case.county_code == self.county,
                                                                                Case.status == "ready_to_pay"))

    def _pick(self, i: int, states: tuple[str, ...], anywhere: bool) -> str | None:
        """A batch in one of `states` (or, to exercise refusals, any batch)."""
        with self.ctx.db.read() as s:
            stmt = select(PaymentBatch.id).where(PaymentBatch.contract_id == self.contract.id).order_by(PaymentBatch.id)
            if not anywhere:
                stmt = stmt.where(PaymentBatch.status.in_(states))
            ids = s.scalars(stmt).all()
        return ids[i % len(ids)] if ids else None

    def _step(self, step: str, i: int, anywhere: bool) -> None:
        states = {"approve": ("prepared",), "county_signoff": ("approved",), "release": ("approved", "signed_off"),
                  "cancel": ("prepared", "approved", "signed_off")}[step]
        batch_id = self._pick(i, states, anywhere)
        if batch_id is None:
            return
        p, clock = self.people, self.ctx.clock
        calls = {
            "approve": lambda s: service.approve(s, batch_id, principal=p.finance1, vault=self.ctx.vault, clock=clock),
            "county_signoff": lambda s: service.county_signoff(s, batch_id, principal=p.reviewer,
                                                               vault=self.ctx.vault, clock=clock),
            "release": lambda s: service.release(s, batch_id, principal=p.finance2, vault=self.ctx.vault, clock=clock),
            "cancel": lambda s: service.cancel(s, batch_id, principal=p.claims, clock=clock),
        }
        self._try(calls[step])

    @precondition(lambda self: bool(self.batches))
    @rule(i=st.integers(0, 9), anywhere=ANYWHERE)
    def approve(self, i: int, anywhere: bool) -> None:
        self._step("approve", i, anywhere)

    @precondition(lambda self: bool(self.batches))
    @rule(i=st.integers(0, 9), anywhere=ANYWHERE)
    def county_signoff(self, i: int, anywhere: bool) -> None:
        self._step("county_signoff", i, anywhere)

    @precondition(lambda self: bool(self.batches))
    @rule(i=st.integers(0, 9), anywhere=ANYWHERE)
    def release(self, i: int, anywhere: bool) -> None:
        self._step("release", i, anywhere)

    @precondition(lambda self: bool(self.batches))
    @rule(i=st.integers(0, 9), anywhere=st.sampled_from([False, True]))
    def cancel(self, i: int, anywhere: bool) -> None:
        if i % 3 == 0:  # now and then
            self._step("cancel", i, anywhere)

    @precondition(lambda self: bool(self.batches))
    @rule(i=st.integers(0, 9), outcomes=st.lists(st.sampled_from([None, "success", "success", "failed"]), min_size=1,
                                                 max_size=6), anywhere=ANYWHERE)
    def bank_returns(self, i: int, outcomes: list[str | None], anywhere: bool) -> None:
        batch_id = self._pick(i, ("released", "reconciled"), anywhere)
        if batch_id is None:
            return
        with self.ctx.db.read() as s:
            refs = s.scalars(select(PaymentItem.reference).where(PaymentItem.batch_id == batch_id)
                             .order_by(PaymentItem.seq)).all()
        lines = [f"{r},{o},B{r},{'拒绝' if o == 'failed' else ''}" for r, o in zip(refs, outcomes) if o]
        if not lines:
            return
        data = ("reference,status,bank_reference,reason\n" + "\n".join(lines) + "\n").encode()
        parsed = bankfiles.parse_return(data)
        self._try(lambda s: service.import_return(s, batch_id, parsed, file_sha256=hashlib.sha256(data).hexdigest(),
                                                  filename="r.csv", principal=self.people.finance1,
                                                  clock=self.ctx.clock))

    @rule()
    def correct_a_failed_payee(self) -> None:
        with self.ctx.db.read() as s:
            case_id = s.scalar(select(Case.id).where(Case.county_code == self.county, Case.status == "payment_failed")
                               .limit(1))
        if case_id is not None:
            self.ready += 1
            self.written = True
            change_payee(self.ctx, case_id, requester=self.people.supervisor, approver=self.people.reviewer,
                         account_name="新户名", bank="银行", account_number="6228480012345678", reason="亲属代收")

    @invariant()
    def the_books_balance(self) -> None:
        """Checked after every step that wrote or tried to (a step that found nothing to do left the rows as they
        were when last checked)."""
        if not hasattr(self, "contract") or not self.written:
            return
        self.written = False
        cid = self.contract.id
        with self.ctx.db.read() as s:
            assert ledger.problems(s, [cid]) == []
            if not ledger.is_open(s, cid):
                return
            f = ledger.balances(s, cid)
            assert f.budget == self.contract.budget
            assert f.balance == f.budget - f.committed - f.paid - f.service_fee
            assert f.balance >= 0
            assert f.service_fee == ledger.fee_on(f.paid, self.contract.service_fee_rate)
            committed_items = s.scalar(
                select(func.coalesce(func.sum(PaymentItem.amount), 0)).join(PaymentBatch)
                .where(PaymentBatch.contract_id == cid, PaymentItem.status.in_(("pending", "sent")),
                       PaymentBatch.status.in_(("approved", "signed_off", "released"))))
            assert f.committed == committed_items
            paid_items = s.scalar(select(func.coalesce(func.sum(PaymentItem.amount), 0)).join(PaymentBatch)
                                  .where(PaymentBatch.contract_id == cid, PaymentItem.status == "succeeded"))
            assert f.paid == paid_items
            twice = s.execute(select(PaymentItem.case_id).where(PaymentItem.status == "succeeded")
                              .group_by(PaymentItem.case_id).having(func.count() > 1)).all()
            assert twice == []
            paid_cases = set(s.scalars(select(Case.id).where(Case.county_code == self.county, Case.status == "paid")))
            succeeded = set(s.scalars(select(PaymentItem.case_id).join(PaymentBatch).where(
                PaymentBatch.contract_id == cid, PaymentItem.status == "succeeded")))
            assert paid_cases == succeeded


def test_any_sequence_of_payment_operations_keeps_the_books(ctx, people) -> None:
    FundMachine.ctx, FundMachine.people = ctx, people
    run_state_machine_as_test(FundMachine, settings=settings(
        max_examples=30, stateful_step_count=30, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
