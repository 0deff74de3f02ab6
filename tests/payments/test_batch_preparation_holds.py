"""Batch preparation holds out the same cases for the same reasons whether it reads every candidate's payee account
or, as it does, only those of the cases one statement finds with an account another household's case names or a
staff member declared (`batch_recheck.ready_suspects`): a hand-built mix of candidates, each rule of the hold and
of the preparation beside it, against the hold read case by case (`one_account.case_hold_reason`)."""

from __future__ import annotations

from factories import make_case
from payment_helpers import People, change_payee, ready_case, tx
from sqlalchemy import select, update

from verifier.payments import batch_recheck, one_account, payees, service
from verifier.payments.models import PaymentItem
from verifier.recusal import accounts as staff_accounts
from verifier.store.tables import Case, Check

COUNTY = "340223"
SHARED = "6217000011112222333"  # two households' checks
STAFF = "6217000011112222444"  # a staff member's declared account
CLEARED = "6217000011112222555"  # two households', cleared by a county reviewer
LEFT = "6217000011112222666"  # named by a check whose case's payee was then changed away from it
CHANGED_ONTO = "6217000011112222777"  # another household's; a ready case's payee changed onto it (approved)
WAITING = "6217000011112222888"  # a change onto it waits for its second person
UNINDEXED = "6217000011112222999"  # two households', one of the records sealed before its index (NULL)


def _head(ctx, case_id: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        return str(s.get(Case, case_id).household.head_name)  # type: ignore[union-attr]


def test_the_same_cases_are_held_for_the_same_reasons(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    honest = ready_case(ctx)
    earlier = ready_case(ctx)  # already in a live batch: not a candidate again
    tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                           clock=ctx.clock, case_ids=[earlier]))
    shared = [ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)]
    staff_own = ready_case(ctx, account_number=STAFF)
    tx(ctx, lambda s: staff_accounts.declare(s, people.finance2.id, [STAFF], principal=people.finance2,
                                             vault=ctx.vault, clock=ctx.clock))
    cleared = [ready_case(ctx, account_number=CLEARED), ready_case(ctx, account_number=CLEARED)]
    tx(ctx, lambda s: one_account.clear(s, one_account.account_index(ctx.vault, CLEARED), note="同一监护人代收",
                                        principal=people.reviewer, vault=ctx.vault, clock=ctx.clock))
    moved_away = ready_case(ctx, account_number=LEFT)
    change_payee(ctx, moved_away, requester=people.supervisor, approver=people.finance2,
                 account_name=_head(ctx, moved_away), bank="农业银行", account_number="6217000011110000001")
    left_behind = ready_case(ctx, account_number=LEFT)  # its account is still named by moved_away's check
    make_case(ctx, stage="determined", account_number=CHANGED_ONTO)  # another household's, not ready
    changed_onto = ready_case(ctx)
    change_payee(ctx, changed_onto, requester=people.supervisor, approver=people.finance2,
                 account_name=_head(ctx, changed_onto), bank="农业银行", account_number=CHANGED_ONTO)
    waiting_on = ready_case(ctx, account_number=WAITING)
    asks = ready_case(ctx)
    tx(ctx, lambda s: payees.request_change(s, asks, account_name=_head(ctx, asks), bank="农业银行",
                                            account_number=WAITING, principal=people.supervisor, vault=ctx.vault,
                                            clock=ctx.clock))  # not approved: counts for a warning, not a hold
    unindexed = [ready_case(ctx, account_number=UNINDEXED), ready_case(ctx, account_number=UNINDEXED)]
    no_account = ready_case(ctx)
    with ctx.db.begin() as s:
        s.execute(update(Check).where(Check.case_id == unindexed[1]).values(payee_account_index=None))
        s.execute(update(Check).where(Check.case_id == no_account).values(payee_account_enc=None))

    today = ctx.clock.today()
    with ctx.db.read() as s:  # the hold read case by case, every ready case's account
        ready = list(s.scalars(select(Case.id).where(Case.county_code == COUNTY, Case.status == "ready_to_pay")))
        one_by_one = {c: r for c in ready if (r := one_account.case_hold_reason(s, c, today)) is not None}
        contract_id = s.scalar(select(Case.contract_id).where(Case.id == honest))
        suspects = batch_recheck.ready_suspects(s, COUNTY, contract_id, "ready_to_pay", today)
    held = {**dict.fromkeys(shared, one_account.HOLD_REASON), staff_own: one_account.STAFF_HOLD_REASON,
            left_behind: one_account.HOLD_REASON, changed_onto: one_account.HOLD_REASON}
    assert one_by_one == held
    # Read, then kept: the cleared account's cases, and moved_away (its check names LEFT, its payee now another).
    assert suspects == set(held) | set(cleared) | {moved_away}

    batch = tx(ctx, lambda s: service.create_batch(s, county_code=COUNTY, contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    assert {s.case_id: s.reason for s in batch.skipped} == {**held, no_account: "入户核查未记录收款账户：请先设置收款信息"}
    with ctx.db.read() as s:
        items = dict(s.execute(select(PaymentItem.case_id, PaymentItem.payee_account_index)
                               .where(PaymentItem.batch_id == batch.id)).tuples().all())
        current = {c: one_account.current_index(s, c) for c in items}
    assert set(items) == {honest, *cleared, moved_away, waiting_on, asks, *unindexed}
    assert items == current  # each item keeps the blind index of the account it pays
    assert items[unindexed[1]] is None and items[moved_away] != one_account.account_index(ctx.vault, LEFT)
