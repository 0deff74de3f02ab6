"""A county reviewer visits a sampled household and finds it ineligible: the paid case owes its relief back (追回),
the unpaid one is held (暂停支付). Writing that recovery off takes two county reviewers (a waiver asked by one,
confirmed by another), and a re-check's figures count only with the county's visit. But a correction took only an
independent reviewer and a reason: a second reviewer, who went nowhere, "corrected" the colleague's result from the
desk to "the insurer's result stands", and the recovery was withdrawn and the hold lifted, alone, the colleague's
visit still attached as if it backed the new figures. A result that counts (with its visit, or recorded before the
visit was asked for) is now corrected only by the reviewer who recorded it (403, in Chinese, nothing written)."""

from __future__ import annotations

import pytest
from deviation_helpers import (HeldAndPaid, both_found_ineligible, drawn_round_api, pay, person, ready_case,
                               recovery_of, relief_of)
from insider_kit import COUNTY, entries_but_refusals, given_to, kept_flow, refusals_of, visit_api
from sqlalchemy import func, select
from web.pagekit import Pages

from verifier.audit.models import AuditEntry
from verifier.domain.money import format_yuan
from verifier.payments.models import Recovery
from verifier.sampling.models import CaseHold, SamplingDeviation, SamplingResult
from verifier.web.labels import RECUSAL_STEPS

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


round_kept = kept_flow("round_kept", _round)


@pytest.fixture
def sampled(users, round_kept):  # type: ignore[no-untyped-def]
    """`_round`, built by the process's first test that asks for it and kept (the tests only add to it): the next
    start from a copy of its rows, keys, log and time (insider_kit.kept_flow)."""
    return given_to(users, round_kept)


def test_attack_another_reviewer_corrects_the_visited_result_away_from_the_desk(ctx, client, users, sampled) -> None:  # type: ignore[no-untyped-def]
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


def test_correction_refused_to_another_reviewer_is_kept_on_record(ctx, client, users, sampled) -> None:  # type: ignore[no-untyped-def]
    """The refusal to correct another's counted result is kept on 回避拦截记录 (`recheck_correct`), as the other
    refusals to act on another's part are, the case as its subject."""
    both_found_ineligible(ctx, client, sampled, INCOME)
    other_id = users.add("reviewer2", "county_reviewer", counties=(COUNTY,))
    r = _correct(client, users.headers("reviewer2"), sampled.round_id, sampled.paid,
                 format_yuan(relief_of(ctx, sampled.paid)))
    assert r.status_code == 403, r.text
    assert [(e["step"], e["case_id"], e["subject"]) for e in refusals_of(ctx, other_id)] == [
        ("recheck_correct", sampled.paid, sampled.paid)]
    assert RECUSAL_STEPS["recheck_correct"] == "更正他人录入的县级抽样复核结果"


def test_attack_another_reviewer_adds_the_visit_then_the_recorder_corrects_it_away(ctx, client, users, sampled) -> None:  # type: ignore[no-untyped-def]
    """Reviewer A types an ineligible re-check at the desk (no visit: it counts for nothing); reviewer C adds a visit
    to it, so it counts and the paid case's recovery opens; then A, who visited nothing, corrects it to "eligible"
    and the recovery is withdrawn, C's visit left behind figures C never saw. The visit is now added only by the
    result's recorder (403 in Chinese, kept on 回避拦截记录 under `recheck_visit`, nothing written; the page offers
    no other reviewer the visit's form): whoever visited is whoever typed the figures."""
    a = sampled.reviewer
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results", headers=a,
                    json={"case_id": sampled.paid, "per_capita_income": INCOME, "eligible": False})
    assert r.status_code == 201, r.text
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Recovery)) == 0

    c_id = users.add("reviewer2", "county_reviewer", counties=(COUNTY,))
    c = users.headers("reviewer2")
    pages = Pages(client, users)
    pages.login("reviewer2")
    assert f'id="visit-form-{sampled.paid}"' not in pages.get(f"/sampling/{sampled.round_id}").text
    visit = visit_api(ctx, client, c, sampled.round_id, sampled.paid)
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results/{sampled.paid}/visit", headers=c, json=visit)
    assert r.status_code == 403 and "只能由录入该复核结果的复核人员本人补录" in r.json()["detail"], r.text
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.get(SamplingResult, (sampled.round_id, sampled.paid)).visited_on is None  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Recovery)) == 0
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, c_id)] == [("recheck_visit", sampled.paid)]
    assert RECUSAL_STEPS["recheck_visit"] == "为他人录入的县级抽样复核结果补录走访证据"

    # The recorder sees the form and adds the visit they made: the result counts, the recovery opens; its
    # correction (by the one who visited) stays theirs alone, another's still refused.
    mine = Pages(client, users)
    mine.login("reviewer")
    assert f'id="visit-form-{sampled.paid}"' in mine.get(f"/sampling/{sampled.round_id}").text
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results/{sampled.paid}/visit", headers=a,
                    json=visit_api(ctx, client, a, sampled.round_id, sampled.paid))
    assert r.status_code == 200, r.text
    assert recovery_of(ctx, sampled.paid).status == "open"
    r = _correct(client, c, sampled.round_id, sampled.paid, format_yuan(relief_of(ctx, sampled.paid)))
    assert r.status_code == 403, r.text
    assert recovery_of(ctx, sampled.paid).status == "open"


def test_attack_another_reviewer_corrects_a_desk_result_then_the_recorder_adds_the_visit(ctx, client, users, sampled) -> None:  # type: ignore[no-untyped-def]
    """Reviewer A types an eligible re-check at the desk (no visit: it counts for nothing); reviewer C, who visits
    nothing, "corrects" it to ineligible, `recorded_by` still A's; A then adds a visit, and C's desk figures count:
    the recovery opens on C's word and A's visit. A result waiting for its visit is now corrected only by its recorder
    too (403 in Chinese, kept on 回避拦截记录 under `recheck_correct`, nothing written; the page offers C no
    correction form), so the figures that count are always those of the reviewer who visited."""
    a = sampled.reviewer
    relief = format_yuan(relief_of(ctx, sampled.paid))
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results", headers=a,
                    json={"case_id": sampled.paid, "per_capita_income": INCOME, "eligible": True,
                          "relief_amount": relief})
    assert r.status_code == 201 and r.json()["deviation"] is False, r.text

    c_id = users.add("reviewer2", "county_reviewer", counties=(COUNTY,))
    c = users.headers("reviewer2")
    pages = Pages(client, users)
    pages.login("reviewer2")
    url = f"/sampling/{sampled.round_id}/results/{sampled.paid}/correct"
    assert f'action="{url}"' not in pages.get(f"/sampling/{sampled.round_id}").text
    before, state = entries_but_refusals(ctx), _state(ctx, sampled.round_id, sampled.paid)
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results/{sampled.paid}/corrections", headers=c,
                    json={"per_capita_income": INCOME, "eligible": False, "reason": "复核认定不符合"})
    assert r.status_code == 403, r.text
    assert "待补录走访证据的复核结果也只能由录入该复核结果的复核人员本人更正" in r.json()["detail"], r.text
    r = pages.post(url, {"per_capita_income": INCOME, "eligible": "no", "reason": "复核认定不符合"})
    assert r.status_code == 403 and "只能由录入该复核结果的复核人员本人更正" in r.text, r.text[:500]
    assert entries_but_refusals(ctx) == before and _state(ctx, sampled.round_id, sampled.paid) == state
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, c_id)] == [
        ("recheck_correct", sampled.paid), ("recheck_correct", sampled.paid)]

    # A, the recorder, is offered the correction form of the result waiting for its visit; then adds the visit they
    # made, and their own figures count (eligible, nothing owed back).
    mine = Pages(client, users)
    mine.login("reviewer")
    assert f'action="{url}"' in mine.get(f"/sampling/{sampled.round_id}").text
    r = client.post(f"/api/sampling-rounds/{sampled.round_id}/results/{sampled.paid}/visit", headers=a,
                    json=visit_api(ctx, client, a, sampled.round_id, sampled.paid))
    assert r.status_code == 200 and r.json()["deviation"] is False and r.json()["corrected_by"] is None, r.text
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Recovery)) == 0
