"""Batches through the services: who may do what, the sign-off threshold, the fund, and what the database refuses."""

from __future__ import annotations

import json

from factories import case_status
import pytest
from payment_helpers import add_contract, change_payee, ready_case, seed_ready_cases, tx
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from verifier.audit.models import AuditEntry
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.payments import ledger, service
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.store import contracts as contract_store
from verifier.store.tables import Case, Determination

COUNTY = "340223"


def _create(ctx, who, county=COUNTY, contract_id=None):  # type: ignore[no-untyped-def]
    return tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=contract_id, principal=who,
                                                  clock=ctx.clock))


def test_a_batch_takes_every_ready_case_of_the_county_and_nothing_else(ctx, people) -> None:
    ready = [ready_case(ctx, medical=3_000_000 + i * 100_000) for i in range(3)]
    not_ready = ready_case(ctx)  # will be in another state
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.id == not_ready).values(status="in_notice"))
    batch = _create(ctx, people.claims)
    assert batch.status == "prepared" and batch.item_count == 3
    with ctx.db.read() as s:
        items = list(s.scalars(select(PaymentItem).where(PaymentItem.batch_id == batch.id).order_by(PaymentItem.seq)))
        reliefs = {d.case_id: d.relief for d in s.scalars(select(Determination))}
        assert sorted(i.case_id for i in items) == sorted(ready)
        assert all(i.amount == reliefs[i.case_id] and i.amount > 0 for i in items)
        assert sum(i.amount for i in items) == int(batch.total.replace(".", ""))
        assert [i.reference for i in items] == [f"{batch.code}{n:06d}" for n in (1, 2, 3)]
        assert all(i.status == "pending" and i.payee_check_id for i in items)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.subject == batch.id))
        payload = json.loads(entry.entry)["payload"]
        assert entry.action == "payment_batch.create" and payload["items_sha256"] == batch.items_sha256
        assert "6222" not in entry.entry.decode()  # no account in the log
    assert all(case_status(ctx, c) == "in_batch" for c in ready)
    assert case_status(ctx, not_ready) == "in_notice"
    # Nothing is left to pay: a second batch is refused, and says so.
    with pytest.raises(ValidationFailed, match="没有待支付的案件"):
        _create(ctx, people.claims)


def test_cases_without_a_payee_or_relief_are_listed_not_paid(ctx, people) -> None:
    ok = ready_case(ctx)
    zero = ready_case(ctx)
    with ctx.db.begin() as s:
        s.execute(update(Determination).where(Determination.case_id == zero).values(relief=0))
    batch = _create(ctx, people.claims)
    assert batch.item_count == 1
    assert [(x.case_id, "0.00" in x.reason) for x in batch.skipped] == [(zero, True)]
    assert case_status(ctx, ok) == "in_batch" and case_status(ctx, zero) == "ready_to_pay"
    with pytest.raises(ValidationFailed) as err:
        _create(ctx, people.claims)
    assert any(zero in e.field for e in err.value.errors)


def test_four_eyes_preparer_never_approves_and_signer_is_a_third_person(ctx, people) -> None:
    ready_case(ctx)
    batch = _create(ctx, people.claims)
    # Someone holding both roles still may not approve what they prepared.
    both = people.claims.__class__(id=people.claims.id, username="x", display_name="", roles=("insurer_claims", "finance"),
                                   counties=())
    with pytest.raises(Forbidden, match="制单人不能审批"):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=both, vault=ctx.vault, clock=ctx.clock))
    approved = tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1,
                                                 vault=ctx.vault, clock=ctx.clock))
    assert approved.status == "approved" and approved.approved_by == people.finance1.id
    approver_as_reviewer = people.finance1.__class__(id=people.finance1.id, username="y", display_name="",
                                                     roles=("county_reviewer",), counties=())
    with pytest.raises(Forbidden, match="既未制单、也未审批"):
        tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=approver_as_reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="批次当前状态为「已审批」，不能审批：只有「待审批」的批次才能审批。"):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))


def test_county_signoff_is_required_at_the_threshold(ctx, people) -> None:
    small = add_contract(ctx, signoff_at="10000.00")
    seed_ready_cases(ctx.db, ctx.vault, small, 2, relief=500_000, clock=ctx.clock)  # 2 x 5,000.00 = the threshold
    batch = _create(ctx, people.claims, county=small.county_codes[0])
    assert batch.total == "10000.00" and batch.signoff_required and batch.signoff_threshold == "10000.00"
    with pytest.raises(InvalidState, match="批次当前状态为「待审批」，不能发放：请先由财务审批该批次（达到签批金额的还须县级签批）"):
        tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="「待审批」，不能(县级签批|退回签批)：请先由财务审批该批次"):
        tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                 vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="须经县级审核人员签批后方可发放"):
        tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    signed = tx(ctx, lambda s: service.county_signoff(s, batch.id, principal=people.reviewer,
                                                      vault=ctx.vault, clock=ctx.clock))
    assert signed.status == "signed_off"
    released = tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault,
                                                 clock=ctx.clock))
    assert released.status == "released" and released.counts == {"sent": 2}


def test_below_the_threshold_release_needs_no_signoff(ctx, people) -> None:
    small = add_contract(ctx, signoff_at="10000.01")
    seed_ready_cases(ctx.db, ctx.vault, small, 2, relief=500_000, clock=ctx.clock)
    batch = _create(ctx, people.claims, county=small.county_codes[0])
    assert not batch.signoff_required
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    assert tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance1, vault=ctx.vault,
                                             clock=ctx.clock)).status == "released"


def test_approval_beyond_the_balance_is_refused_with_the_figures(ctx, people) -> None:
    # 10,000.00 of budget at a 15% fee: 8,695.65 of relief is the most it can carry (8,695.65 + 1,304.35).
    tight = add_contract(ctx, budget="10000.00")
    county = tight.county_codes[0]
    seed_ready_cases(ctx.db, ctx.vault, tight, 1, relief=869_566, clock=ctx.clock)
    batch = _create(ctx, people.claims, county=county)
    with pytest.raises(InvalidState, match=r"审批批次 \S+ 将使资金余额不足：需保障金 8695\.66 元及服务费至多 1304\.35 元，当前余额 10000\.00 元"
                       r"（合同预算 10000\.00 元，已占用 0\.00 元，已支付 0\.00 元，服务费 0\.00 元）。请从批次中移出部分案件"):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:  # the refused approval changed nothing (the fund was not even opened)
        assert s.get(PaymentBatch, batch.id).status == "prepared"
        assert not ledger.is_open(s, tight.id)
    tx(ctx, lambda s: service.cancel(s, batch.id, principal=people.claims, clock=ctx.clock))
    with ctx.db.begin() as s:
        s.execute(update(Determination).values(relief=869_565))
    batch = _create(ctx, people.claims, county=county)
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        assert service.fund_summary(s, tight.id, people.finance1) == {
            "contract_id": tight.id, "budget": "10000.00", "committed": "8695.65", "paid": "0.00",
            "service_fee": "0.00", "balance": "1304.35", "service_fee_rate": "0.15", "opened": True,
            "recovered": "0.00"}


def test_cancel_returns_cases_and_commitment(ctx, people) -> None:
    c = add_contract(ctx)
    ids = seed_ready_cases(ctx.db, ctx.vault, c, 3, relief=100_000, clock=ctx.clock)
    batch = _create(ctx, people.claims, county=c.county_codes[0])
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    cancelled = tx(ctx, lambda s: service.cancel(s, batch.id, principal=people.finance2, clock=ctx.clock))
    assert cancelled.status == "cancelled" and cancelled.counts == {"cancelled": 3}
    assert {case_status(ctx, i) for i in ids} == {"ready_to_pay"}
    with ctx.db.read() as s:
        b = ledger.balances(s, c.id)
        assert (b.committed, b.balance) == (0, c.budget)
        assert ledger.problems(s) == []
    again = _create(ctx, people.claims, county=c.county_codes[0])  # the cases can be batched again
    assert again.item_count == 3
    with pytest.raises(InvalidState, match="批次当前状态为「待审批」，不能发放"):
        tx(ctx, lambda s: service.release(s, again.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))


def test_batches_outside_the_callers_counties_do_not_exist_for_them(ctx, people) -> None:
    ready_case(ctx)
    batch = _create(ctx, people.claims)
    elsewhere = people.finance1.__class__(id=people.finance1.id, username="z", display_name="", roles=("finance",),
                                          counties=("999999",))
    with pytest.raises(NotFound):
        tx(ctx, lambda s: service.approve(s, batch.id, principal=elsewhere, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(NotFound):
        _create(ctx, elsewhere.__class__(id="u", username="u", display_name="", roles=("insurer_claims",),
                                         counties=("999999",)))


def test_the_database_refuses_a_second_live_item_and_a_second_payment_of_one_determination(ctx, people) -> None:
    c = add_contract(ctx)
    seed_ready_cases(ctx.db, ctx.vault, c, 1, relief=100_000, clock=ctx.clock)
    batch = _create(ctx, people.claims, county=c.county_codes[0])
    with ctx.db.read() as s:
        item = s.scalar(select(PaymentItem).where(PaymentItem.batch_id == batch.id))
        row = {k: getattr(item, k) for k in PaymentItem.__table__.columns.keys()}
    clone = {**row, "id": "pi_clone", "reference": "CLONE000001", "seq": 2}
    with pytest.raises(IntegrityError):  # a second live (pending) item for the case
        with ctx.db.begin() as s:
            s.execute(insert(PaymentItem.__table__).values(**clone))
    with pytest.raises(IntegrityError):  # the same reference twice
        with ctx.db.begin() as s:
            s.execute(insert(PaymentItem.__table__).values(**{**clone, "status": "failed", "reference": row["reference"]}))
    with ctx.db.begin() as s:  # a paid item, then a second paid item for the same determination
        s.execute(update(PaymentItem).where(PaymentItem.id == item.id).values(status="succeeded"))
    with pytest.raises(IntegrityError):
        with ctx.db.begin() as s:
            s.execute(insert(PaymentItem.__table__).values(**{**clone, "status": "succeeded"}))
    with ctx.db.begin() as s:  # a failed one for the same determination is fine (a transfer that did not happen)
        s.execute(insert(PaymentItem.__table__).values(**{**clone, "status": "failed"}))


def test_the_fund_before_first_use_shows_the_contract_budget(ctx, people) -> None:
    with ctx.db.read() as s:
        demo = contract_store.get_contract(s, "demo-2020")
        assert service.fund_summary(s, None, people.finance1)["budget"] == "4500000.00"
        assert service.fund_summary(s, demo.id, people.finance1)["balance"] == "4500000.00"
        assert service.fund_summary(s, demo.id, people.finance1)["opened"] is False


def test_a_payee_can_be_set_before_the_first_batch(ctx, people) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    from verifier.domain.errors import InvalidState
    from verifier.payments.payees import approve_change, request_change
    from verifier.payments.service import current_payee

    case_id = make_case(ctx)  # determined
    with ctx.db.begin() as session:
        asked = request_change(session, case_id, account_name="张三", bank="农业银行",
                               account_number="6228480012345678", reason="户主委托", principal=people.supervisor,
                               vault=ctx.vault, clock=ctx.clock)
    with ctx.db.begin() as session:
        approve_change(session, asked.id, principal=people.reviewer, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.read() as session:
        payee = current_payee(session, case_id, ctx.vault)
        assert payee is not None and payee["bank"] == "农业银行"
    received = make_case(ctx, stage="received")
    with pytest.raises(InvalidState), ctx.db.begin() as session:
        request_change(session, received, account_name="张三", bank="农业银行", account_number="6228480012345678",
                       reason="户主委托", principal=people.supervisor, vault=ctx.vault, clock=ctx.clock)


def test_an_eligible_case_with_nothing_due_closes_without_relief(ctx) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    from verifier.store.tables import Case

    # 3,000 of self-paid costs is within the 5,000 deductible: eligible by income, but nothing to pay.
    case_id = make_case(ctx, medical=300_000)
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        assert case.status == "no_relief"
        assert "no relief is due" in case.closed_reason


def test_the_preparer_may_not_release_either(ctx) -> None:  # type: ignore[no-untyped-def]
    from factories import make_case

    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user
    from verifier.cases.workflow import advance
    from verifier.domain.errors import Forbidden
    from verifier.payments import service
    from verifier.store.tables import Case

    case_id = make_case(ctx)
    with ctx.db.begin() as session:
        case = session.get(Case, case_id)
        for action in ("review_pass", "post_notice", "close_notice"):  # test shortcut past the notice
            advance(session, case, action, actor=None, role="town_clerk", clock=ctx.clock)
        both = principal_of(add_user(session, username="claims-and-finance", password="long enough pw",
                                     roles=["insurer_claims", "finance"], all_counties=True, clock=ctx.clock))
        other = principal_of(add_user(session, username="finance-other", password="long enough pw",
                                      roles=["finance"], all_counties=True, clock=ctx.clock))
    with ctx.db.begin() as session:
        batch = service.create_batch(session, county_code="340223", contract_id=None, principal=both, clock=ctx.clock)
    with ctx.db.begin() as session:
        service.approve(session, batch.id, principal=other, vault=ctx.vault, clock=ctx.clock)
    with pytest.raises(Forbidden), ctx.db.begin() as session:
        service.release(session, batch.id, principal=both, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.begin() as session:
        assert service.release(session, batch.id, principal=other,
            vault=ctx.vault, clock=ctx.clock).status == "released"


def test_the_newer_payee_record_wins(ctx, people) -> None:  # type: ignore[no-untyped-def]
    # A payee corrected before payment, then a re-check (after an upheld objection) that records a payee of its
    # own: the re-check is newer and names who is paid. A correction after it wins again.
    from verifier.store.tables import Check

    case_id = ready_case(ctx)
    change_payee(ctx, case_id, requester=people.supervisor, approver=people.reviewer, account_name="张三",
                 bank="农业银行", account_number="6228480012345678", reason="户主委托")
    ctx.clock.advance(days=1)

    def recheck(session):  # type: ignore[no-untyped-def]
        first = session.scalar(select(Check).where(Check.case_id == case_id))
        values = {c.key: getattr(first, c.key) for c in Check.__table__.columns}
        values.update(id="chk_recheck", seq=2, payee_name="李四", payee_bank="建设银行", recorded_at=ctx.clock.now(),
                      payee_account_enc=ctx.vault.seal("6217000011112222", service.CHECK_ACCOUNT_COLUMN))
        session.add(Check(**values))

    tx(ctx, recheck)
    with ctx.db.read() as s:
        assert service.current_payee(s, case_id, ctx.vault, full=True) == {
            "account_name": "李四", "bank": "建设银行", "account_number": "6217000011112222"}
    batch = _create(ctx, people.finance1)
    with ctx.db.read() as s:
        item = s.scalar(select(PaymentItem).where(PaymentItem.batch_id == batch.id, PaymentItem.case_id == case_id))
        assert (item.payee_name, item.payee_check_id, item.payee_correction_id) == ("李四", "chk_recheck", None)
    tx(ctx, lambda s: service.cancel(s, batch.id, principal=people.finance1, clock=ctx.clock))
    ctx.clock.advance(days=1)
    change_payee(ctx, case_id, requester=people.supervisor, approver=people.reviewer, account_name="王五",
                 bank="农业银行", account_number="6228480099998888", reason="户主委托")
    with ctx.db.read() as s:
        assert service.current_payee(s, case_id, ctx.vault)["account_name"] == "王五"


def test_attack_claims_splits_a_large_payment_into_batches_under_the_signoff_threshold(ctx, people) -> None:
    """Claims chooses the cases of each batch: 12,000.00 to pay against a 10,000.00 threshold, prepared as 9,000.00
    now and 3,000.00 once the first is released, so that the county never sees either. The batches that were not put
    to the county since its latest sign-off add up: the second needs the sign-off (cancelling and preparing it again
    changes nothing, nor does waiting days for it); once the county has signed it off, the next batch stands on its
    own."""
    small = add_contract(ctx, signoff_at="10000.00")
    county = small.county_codes[0]
    cases = seed_ready_cases(ctx.db, ctx.vault, small, 5, relief=300_000, clock=ctx.clock)

    def prepare(case_ids):  # type: ignore[no-untyped-def]
        return tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None,
                                                      principal=people.claims, clock=ctx.clock, case_ids=case_ids))

    first = prepare(cases[:3])
    assert first.total == "9000.00" and not first.signoff_required
    tx(ctx, lambda s: service.approve(s, first.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, first.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    second = prepare(cases[3:4])
    assert second.total == "3000.00" and second.signoff_required
    tx(ctx, lambda s: service.approve(s, second.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with pytest.raises(InvalidState, match="须经县级审核人员签批后方可发放"):
        tx(ctx, lambda s: service.release(s, second.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.cancel(s, second.id, principal=people.finance2, clock=ctx.clock))
    assert prepare(cases[3:4]).signoff_required  # prepared again the same day
    tx(ctx, lambda s: service.cancel(s, _live_batch(ctx, cases[3]), principal=people.finance2, clock=ctx.clock))

    ctx.clock.advance(days=8)
    again = prepare(cases[3:4])
    assert again.signoff_required  # a week later: the county has still seen none of the 12,000.00
    tx(ctx, lambda s: service.approve(s, again.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.county_signoff(s, again.id, principal=people.reviewer, vault=ctx.vault,
                                             clock=ctx.clock))
    ctx.clock.advance(minutes=1)
    assert not prepare(cases[4:5]).signoff_required  # after the county's sign-off, alone under the threshold


def test_attack_batches_at_23_59_and_00_01_add_up_for_the_county_signoff(ctx, people) -> None:
    """Claims prepares 9,000.00 at 23:59 and 3,000.00 two minutes later, the next calendar day (Asia/Shanghai),
    against a 10,000.00 threshold: the second needs the county's sign-off; so does one prepared more than 24 hours
    after the first."""
    from datetime import datetime, time, timedelta, timezone

    from verifier.clock import SCHEME_TZ

    small = add_contract(ctx, signoff_at="10000.00")
    county = small.county_codes[0]
    cases = seed_ready_cases(ctx.db, ctx.vault, small, 4, relief=300_000, clock=ctx.clock)
    day = ctx.clock.now().astimezone(SCHEME_TZ).date() + timedelta(days=1)
    ctx.clock.at = datetime.combine(day, time(23, 59), SCHEME_TZ).astimezone(timezone.utc)

    def prepare(case_ids):  # type: ignore[no-untyped-def]
        return tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None,
                                                      principal=people.claims, clock=ctx.clock, case_ids=case_ids))

    late = prepare(cases[:3])
    assert late.total == "9000.00" and not late.signoff_required
    ctx.clock.advance(minutes=2)
    assert ctx.clock.now().astimezone(SCHEME_TZ).date() == day + timedelta(days=1)  # 00:01 the next day
    early = prepare(cases[3:4])
    assert early.total == "3000.00" and early.signoff_required
    tx(ctx, lambda s: service.cancel(s, early.id, principal=people.finance2, clock=ctx.clock))
    ctx.clock.advance(hours=25)  # nor does a rolling day's wait split them
    assert prepare(cases[3:4]).signoff_required


def _live_batch(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return session.scalar(select(PaymentItem.batch_id).where(PaymentItem.case_id == case_id,
                                                                  PaymentItem.status == "pending"))


def test_cases_moved_on_meanwhile_are_counted_and_named_by_their_status(ctx, people) -> None:
    """Moving cases that are no longer where the step expects them refuses, saying how many and in which status they
    were expected (nothing changed)."""
    from verifier.payments import batch_read

    c = add_contract(ctx)
    ids = seed_ready_cases(ctx.db, ctx.vault, c, 3, relief=100_000, clock=ctx.clock)
    with pytest.raises(InvalidState, match="3 个案件中有 3 个已不再是「支付中」状态（其间已被他人办理）：未做任何更改"):
        tx(ctx, lambda s: batch_read._move_cases(s, ids, "in_batch", "remove_from_batch", ctx.clock))
    assert {case_status(ctx, i) for i in ids} == {"ready_to_pay"}
