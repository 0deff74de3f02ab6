"""一账多户, the service (payments/one_account.py): the blind index, the window, the warning's reach, a clearance
across counties and the hold of one more household."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from factories import make_case
from payment_helpers import People, add_contract, ready_case, tx
from sqlalchemy import select, update

from verifier.domain.errors import Forbidden, NotFound
from verifier.payments import one_account, payees, service
from verifier.payments.models import AccountClearance
from verifier.store.tables import Case, Check

SHARED = "6228480012345678"


def _batch(ctx, people: People, county: str = "340223") -> service.BatchOut:  # type: ignore[no-untyped-def]
    return tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=people.claims,
                                                  clock=ctx.clock))


def _held(batch: service.BatchOut) -> set[str]:
    return {s.case_id for s in batch.skipped if s.reason == one_account.HOLD_REASON}


def test_the_index_is_the_digits_keyed_and_the_audit_entries_hash(ctx) -> None:  # type: ignore[no-untyped-def]
    a = one_account.account_index(ctx.vault, "6222 0202-0011 2233")
    assert a == one_account.account_index(ctx.vault, "622202020011 2233") == \
        ctx.vault.blind_index("6222020200112233", payees.ACCOUNT_INDEX)  # the audit entries' account_hmac
    assert a != one_account.account_index(ctx.vault, "6222020200112234") and len(a) == 64


def test_the_recorded_check_keeps_the_index_beside_the_sealed_account(ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx, account_number=SHARED)
    with ctx.db.read() as s:
        check = s.scalars(select(Check).where(Check.case_id == case_id)).one()
        assert check.payee_account_index == one_account.account_index(ctx.vault, SHARED)
        assert one_account.current_index(s, case_id) == check.payee_account_index


def test_a_payee_of_another_household_before_the_window_holds_nothing(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    old = make_case(ctx, stage="determined", account_number=SHARED)  # paid long ago, say: not in this batch
    new = ready_case(ctx, account_number=SHARED)
    with ctx.db.read() as s:
        assert one_account.case_is_held(s, new, ctx.clock.today())
    start = one_account.window_start(ctx.clock.today())
    with ctx.db.begin() as s:  # the other household's check recorded before this year and the two before it
        s.execute(update(Check).where(Check.case_id == old).values(recorded_at=start - timedelta(days=1)))
    with ctx.db.read() as s:
        assert not one_account.case_is_held(s, new, ctx.clock.today())
    batch = _batch(ctx, people)
    assert _held(batch) == set() and batch.item_count == 1


def test_the_warning_names_only_cases_within_the_callers_counties(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    county = add_contract(ctx).county_codes[0]
    there = ready_case(ctx, county=county, account_number=SHARED, team=7)  # its own officers and vehicle
    here = ready_case(ctx, account_number=SHARED)
    index = one_account.account_index(ctx.vault, SHARED)
    mine = msgspec.structs.replace(people.supervisor, counties=("340223",))
    both = msgspec.structs.replace(people.supervisor, counties=("340223", county))
    with ctx.db.read() as s:
        assert one_account.warning(s, case_id=here, index=index, number=SHARED, principal=mine,
                                   today=ctx.clock.today()) is None  # the other county's case: no hint
        said = one_account.warning(s, case_id=here, index=index, number=SHARED, principal=both,
                                   today=ctx.clock.today())
        number = s.scalar(select(Case.number).where(Case.id == there))
    assert said is not None and said["case_numbers"] == [number] and said["account_number"].endswith("5678")
    assert SHARED not in str(said)
    with ctx.db.read() as s:  # the case read's warning (on the pages and GET /api/cases/{id}) reaches as far
        assert one_account.case_warning(s, here, mine, ctx.vault, ctx.clock.today()) is None
        assert one_account.case_warning(s, here, both, ctx.vault, ctx.clock.today()) == said
    # Held all the same (the hold does not depend on who looks); only a reviewer of both counties clears it.
    ready_case(ctx)  # a household of its own account, paid
    assert _held(_batch(ctx, people)) == {here}
    reviewer_here = msgspec.structs.replace(people.reviewer, counties=("340223",))
    with pytest.raises(Forbidden, match="其他县家庭"):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=reviewer_here, vault=ctx.vault,
                                            clock=ctx.clock))
    elsewhere = msgspec.structs.replace(people.reviewer, counties=("999999",))
    with pytest.raises(NotFound):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=elsewhere, vault=ctx.vault,
                                            clock=ctx.clock))
    with pytest.raises(Forbidden, match="只有县级审核人员"):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=both, vault=ctx.vault,
                                            clock=ctx.clock))
    tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=people.reviewer, vault=ctx.vault,
                                        clock=ctx.clock))
    with ctx.db.read() as s:
        [row] = s.scalars(select(AccountClearance)).all()
        assert row.account_index == index and row.note == "同一监护人" and len(row.households) == 2
    assert _batch(ctx, people).item_count == 1


def test_the_officer_who_recorded_the_account_may_not_clear_it(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    a, b = ready_case(ctx, account_number=SHARED), ready_case(ctx, account_number=SHARED)
    with ctx.db.read() as s:
        officer = s.scalar(select(Check.recorded_by).where(Check.case_id == a))
    index = one_account.account_index(ctx.vault, SHARED)
    as_reviewer = msgspec.structs.replace(people.reviewer, id=officer)
    with pytest.raises(Forbidden, match="四眼原则”，您录入"):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=as_reviewer, vault=ctx.vault,
                                            clock=ctx.clock))
    ready_case(ctx)  # a household of its own account, paid
    assert _held(_batch(ctx, people)) == {a, b}


def test_the_case_warning_follows_the_payee_now_and_the_window(ctx, people: People) -> None:  # type: ignore[no-untyped-def]
    """The warning a case's read carries (payments/one_account.py `case_warning`): the other households' cases
    naming the case's payee account now, within the window; a pending change to the account counts, as for the
    change's own warning; once the case's payee is changed away from the account, none."""
    from payment_helpers import change_payee

    first = make_case(ctx, stage="determined", account_number=SHARED)
    second = make_case(ctx, stage="checked", account_number=SHARED)
    own = make_case(ctx, stage="checked")
    today = ctx.clock.today()

    def said(case_id: str) -> dict | None:  # type: ignore[type-arg]
        with ctx.db.read() as s:
            return one_account.case_warning(s, case_id, people.supervisor, ctx.vault, today)

    with ctx.db.read() as s:
        number = s.scalar(select(Case.number).where(Case.id == first))
        second_number = s.scalar(select(Case.number).where(Case.id == second))
    warned = said(second)
    assert warned is not None and warned["case_numbers"] == [number] and warned["account_number"].endswith("5678")
    assert SHARED not in str(warned) and said(own) is None
    # The other household's check before the window: no warning (as no hold).
    with ctx.db.begin() as s:
        s.execute(update(Check).where(Check.case_id == first)
                  .values(recorded_at=one_account.window_start(today) - timedelta(days=1)))
    assert said(second) is None and said(first) == {**warned, "case_numbers": [second_number]}
    # A change to the account waiting for approval on a third household's case counts.
    third = ready_case(ctx)
    with ctx.db.begin() as s:
        head = s.get(Case, third).household.head_name  # type: ignore[union-attr]
        payees.request_change(s, third, account_name=head, bank="农村商业银行", account_number=SHARED,
                              principal=people.supervisor, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.read() as s:
        third_number = s.scalar(select(Case.number).where(Case.id == third))
    assert said(second)["case_numbers"] == [third_number]  # type: ignore[index]
    # The first case's payee changed away from the account (approved): it no longer names it now.
    with ctx.db.begin() as s:
        head = s.get(Case, first).household.head_name  # type: ignore[union-attr]
    ctx.clock.advance(minutes=1)
    change_payee(ctx, first, requester=people.finance1, approver=people.finance2, account_name=head,
                 bank="农村商业银行", account_number="6217000011112222333")
    assert said(first) is None
