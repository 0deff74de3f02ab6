"""A county reviewer visits a sampled household and finds it ineligible: the paid case owes its relief back (追回),
the unpaid one is held (暂停支付). Writing that recovery off takes two county reviewers (a waiver asked by one,
confirmed by another), and a re-check's figures count only with the county's visit. But a correction took only an
independent reviewer and a reason: a second reviewer, who went nowhere, "corrected" the colleague's result from the
desk to "the insurer's result stands", and the recovery was withdrawn and the hold lifted, alone, the colleague's
visit still attached as if it backed the new figures. A result that counts (with its visit, or recorded before the
visit was asked for) is now corrected only by the reviewer who recorded it (403, in Chinese, nothing written)."""

from __future__ import annotations

from deviation_helpers import (HeldAndPaid, both_found_ineligible, drawn_round_api, pay, person, ready_case,
                               recovery_of, relief_of)
from insider_kit import COUNTY
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier.audit.models import AuditEntry
from verifier.domain.money import format_yuan
from verifier.sampling.models import CaseHold, SamplingDeviation, SamplingResult

INCOME = "2666.67"


def _correct(client, headers, round_id: str, case_id: str, relief: str, reason: str = "录入有误，保险机构认定无误"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=headers,
                       json={"per_capita_income": INCOME, "eligible": True, "relief_amount": relief, "reason": reason})


def _state(ctx, round_id: str, case_id: str) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        row = session.get(SamplingResult, (round_id, case_id))
        return (row.eligible, row.corrected_by, session.get(SamplingDeviation, (round_id, case_id)) is not None,
                session.scalar(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.action == "sampling.result_corrected")))


def _round(ctx, client, users) -> HeldAndPaid:  # type: ignore[no-untyped-def]
    """A round drawn over the API holding a ready case (`held`), a paid one (`paid`) and a third not yet re-checked
    (the verdict pending, so results may still be corrected)."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    claims, fin1 = person(ctx, users, "claims1", "insurer_claims"), person(ctx, users, "fin1", "finance")
    held, paid, _ = ready_case(ctx), ready_case(ctx), ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    round_id, drawn = drawn_round_api(client, reviewer, insurer)
    assert {held, paid} <= set(drawn)
    return HeldAndPaid(round_id, drawn, held, paid, reviewer, insurer)


def test_attack_another_reviewer_corrects_the_visited_result_away_from_the_desk(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    sampled = _round(ctx, client, users)
    both_found_ineligible(ctx, client, sampled, INCOME)
    recovery = recovery_of(ctx, sampled.paid)
    assert recovery.status == "open" and recovery.amount == relief_of(ctx, sampled.paid)
    with ctx.db.read() as session:
        assert session.scalar(select(CaseHold.status).where(CaseHold.case_id == sampled.held)) == "open"

    # A second reviewer of the county, independent of the case, who made no visit: refused on both cases.
    users.add("reviewer2", "county_reviewer", counties=(COUNTY,))
    other = users.headers("reviewer2")
    for case_id in (sampled.paid, sampled.held):
        before = _state(ctx, sampled.round_id, case_id)
        r = _correct(client, other, sampled.round_id, case_id, format_yuan(relief_of(ctx, case_id)))
        assert r.status_code == 403, r.text
        assert "只能由录入该复核结果的复核人员本人更正" in r.json()["detail"], r.text
        assert _state(ctx, sampled.round_id, case_id) == before
    assert recovery_of(ctx, sampled.paid).status == "open"
    with ctx.db.read() as session:
        assert session.scalar(select(CaseHold.status).where(CaseHold.case_id == sampled.held)) == "open"

    # The round's page offers them no correction form (its recorder still has one), and its form is refused alike.
    pages = Pages(client, users)
    pages.login("reviewer2")
    url = f"/sampling/{sampled.round_id}/results/{sampled.paid}/correct"
    assert f'action="{url}"' not in pages.get(f"/sampling/{sampled.round_id}").text
    r = pages.post(url, {"per_capita_income": INCOME, "eligible": "yes", "relief_amount": "100.00",
                         "reason": "录入有误"})
    assert r.status_code == 403 and "只能由录入该复核结果的复核人员本人更正" in r.text, r.text[:500]
    assert recovery_of(ctx, sampled.paid).status == "open"
    mine = Pages(client, users)
    mine.login("reviewer")
    assert f'action="{url}"' in mine.get(f"/sampling/{sampled.round_id}").text

    # Writing the recovery off stays two reviewers' (asked by one, confirmed by another).
    r = client.post(f"/api/recoveries/{recovery.id}/waive", headers=other, json={"reason": "农户确无能力退还"})
    assert r.status_code == 200, r.text
    assert recovery_of(ctx, sampled.paid).status == "open"

    # The reviewer who visited corrects their own result, with a reason (a slip at the keyboard): taken as before.
    r = _correct(client, sampled.reviewer, sampled.round_id, sampled.held, format_yuan(relief_of(ctx, sampled.held)),
                 reason="录入时误选“不符合”，入户记录为符合")
    assert r.status_code == 200 and r.json()["deviation"] is False, r.text
