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
    # Held all the same (the hold does not depend on who looks); only a reviewer of both counties clears it.
    ready_case(ctx)  # a household of its own account, paid
    assert _held(_batch(ctx, people)) == {here}
    reviewer_here = msgspec.structs.replace(people.reviewer, counties=("340223",))
    with pytest.raises(Forbidden, match="another county"):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=reviewer_here, vault=ctx.vault,
                                            clock=ctx.clock))
    elsewhere = msgspec.structs.replace(people.reviewer, counties=("999999",))
    with pytest.raises(NotFound):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=elsewhere, vault=ctx.vault,
                                            clock=ctx.clock))
    with pytest.raises(Forbidden, match="county reviewer"):
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
    with pytest.raises(Forbidden, match="four-eyes"):
        tx(ctx, lambda s: one_account.clear(s, index, note="同一监护人", principal=as_reviewer, vault=ctx.vault,
                                            clock=ctx.clock))
    ready_case(ctx)  # a household of its own account, paid
    assert _held(_batch(ctx, people)) == {a, b}
