"""A deviation found in an unpaid case holds it: out of every batch not yet approved, refused by new batches and
by an approved batch's release, until an insurer supervisor (four eyes) re-determines it."""

from __future__ import annotations

import pytest
from deviation_helpers import approve, batch, declare_sibling, drawn_round, person, ready_case, relief_of
from factories import COUNTY, case_status, staff
from sqlalchemy import func, select

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.cases import hold_proposals, holds
from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.domain.money import format_yuan
from verifier.payments import service as payments
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.sampling.models import CaseHold, SamplingDeviation
from verifier.store.tables import Determination

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def test_a_deviation_holds_an_unpaid_case_until_another_supervisor_redetermines_it(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    finance = person(ctx, users, "fin1", "finance")
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    ready, in_prepared, alone, in_approved, stays = (ready_case(ctx) for _ in range(5))
    prepared_id = batch(ctx, claims, [in_prepared, stays])
    alone_id = batch(ctx, claims, [alone])
    approved_id = batch(ctx, claims, [in_approved])
    approve(ctx, finance, approved_id)
    round_id = drawn_round(rounds, {ready, in_prepared, alone, in_approved, stays})

    for case_id in (ready, in_prepared, alone, in_approved):
        assert rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)["deviation"] is True
    rounds.result(round_id, stays, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(
        relief_of(ctx, stays)))

    with ctx.db.read() as s:
        devs = {d.case_id: d for d in s.scalars(select(SamplingDeviation))}
        assert set(devs) == {ready, in_prepared, alone, in_approved}
        assert {(d.kind, d.consequence, d.over_amount) for d in devs.values()} == {
            ("eligibility", "hold", relief_of(ctx, ready))}  # all five cases carry the factory's same relief
        prepared = s.get(PaymentBatch, prepared_id)
        assert (prepared.status, prepared.item_count, prepared.total) == ("prepared", 1, relief_of(ctx, stays))
        assert s.get(PaymentBatch, alone_id).status == "cancelled"  # left empty: nothing was committed
        assert s.get(PaymentBatch, approved_id).status == "approved"
        removed = s.scalars(select(PaymentItem).where(PaymentItem.case_id == in_prepared)).one()
        assert removed.status == "cancelled" and removed.removed_reason
        entries = [decode_entry(e) for e in s.scalars(select(AuditEntry.entry)
                                                    .where(AuditEntry.action == "case.held"))]
        assert {e.subject for e in entries} == {ready, in_prepared, alone, in_approved}
    assert case_status(ctx, in_prepared) == case_status(ctx, alone) == "ready_to_pay"

    # held cases are not offered, cannot be pushed into a batch, and an approved batch holding one is not released
    with ctx.db.read() as s:
        offered = {r["case_id"] for r in payments.ready_to_pay(s, COUNTY, claims)}
    assert offered.isdisjoint({ready, in_prepared, alone})
    with pytest.raises(ValidationFailed) as refused, ctx.db.begin() as s:
        payments.create_batch(s, county_code=COUNTY, contract_id=None, principal=claims, clock=ctx.clock,
                              case_ids=[ready])
    assert "因抽样复核发现偏差而暂停支付" in refused.value.errors[0].message
    with pytest.raises(ValidationFailed), ctx.db.begin() as s:  # nothing else is ready: the held cases are not taken
        payments.create_batch(s, county_code=COUNTY, contract_id=None, principal=claims, clock=ctx.clock)
    finance2 = person(ctx, users, "fin2", "finance")
    with pytest.raises(InvalidState, match="因抽样复核发现偏差而暂停支付.*再发放"), ctx.db.begin() as s:
        payments.release(s, approved_id, principal=finance2, vault=ctx.vault, clock=ctx.clock)

    # who may not lift a hold: an officer, the county reviewer, the supervisor who confirmed the determination,
    # a supervisor of another county; and a reason is required
    team = staff(ctx)
    reviewer_id = users.ids["reviewer"]
    with ctx.db.read() as s:
        from verifier.accounts.auth import principal_of
        from verifier.store.tables import User
        reviewer = principal_of(s.get(User, reviewer_id))
    for who, error in ((team.officer1, Forbidden), (reviewer, Forbidden), (team.supervisor, Forbidden)):
        with pytest.raises(error), ctx.db.begin() as s:
            holds.redetermine(s, ready, outcome="proceed", reason="核实无误", principal=who, clock=ctx.clock)
    elsewhere = person(ctx, users, "sup9", "insurer_supervisor", counties=("340999",))
    with pytest.raises(NotFound), ctx.db.begin() as s:
        holds.redetermine(s, ready, outcome="proceed", reason="核实无误", principal=elsewhere, clock=ctx.clock)
    with pytest.raises(ValidationFailed) as bad, ctx.db.begin() as s:
        holds.redetermine(s, ready, outcome="maybe", reason=" ", relief_amount="-1", principal=sup2, clock=ctx.clock)
    assert {e.field for e in bad.value.errors} >= {"outcome", "reason"}
    # a case in an approved batch is not re-determined ineligible while the batch holds its committed amount
    with pytest.raises(InvalidState, match="该案件在支付批次"), ctx.db.begin() as s:
        holds.redetermine(s, in_approved, outcome="ineligible", reason="复核属实", principal=sup2, clock=ctx.clock)

    # proceed against the county's finding (it found the household ineligible): a proposal, until another county
    # reviewer confirms it; then the hold is lifted and the case can be paid again, at the new amount
    with ctx.db.begin() as s:
        out = holds.redetermine(s, ready, outcome="proceed", reason="复核后核减医疗费用", relief_amount="1000.00",
                                principal=sup2, clock=ctx.clock)
    assert (out["status"], out["outcome"], out["waiting"]["relief"]) == ("open", None, "1000.00")
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    with ctx.db.begin() as s:
        out = hold_proposals.confirm(s, ready, out["waiting"]["id"], reason="核实属实", principal=rev2,
                                     clock=ctx.clock)
    assert (out["status"], out["outcome"], out["relief_after"], out["decided_by"]) == (
        "decided", "proceed", "1000.00", sup2.id)
    with pytest.raises(InvalidState, match="没有暂停支付"), ctx.db.begin() as s:
        holds.redetermine(s, ready, outcome="proceed", reason="再次", principal=sup2, clock=ctx.clock)
    with ctx.db.read() as s:
        assert s.scalars(select(Determination.relief).where(Determination.case_id == ready)).one() == 100_000
    again = batch(ctx, claims, [ready])
    with ctx.db.read() as s:
        assert s.get(PaymentBatch, again).total == 100_000

    # ineligible: the case ends
    with ctx.db.begin() as s:
        holds.redetermine(s, in_prepared, outcome="ineligible", reason="复核发现有稳定工资收入", principal=sup2,
                          clock=ctx.clock)
    assert case_status(ctx, in_prepared) == "ineligible"
    with ctx.db.read() as s:
        decided = [decode_entry(e) for e in s.scalars(select(AuditEntry.entry)
                                                    .where(AuditEntry.action == "case.hold_redetermined"))]
        assert {(e.subject, e.payload["outcome"]) for e in decided} == {(ready, "proceed"),
                                                                       (in_prepared, "ineligible")}
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == alone)).one() == "open"


def test_a_correction_withdraws_an_untouched_hold_and_is_refused_after_the_redetermination(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    first, second, unchecked = ready_case(ctx), ready_case(ctx), ready_case(ctx)
    round_id = drawn_round(rounds, {first, second, unchecked})  # one left unchecked: the verdict stays pending
    for case_id in (first, second):
        rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)

    def correct(case_id: str, status: int) -> dict:  # type: ignore[type-arg]
        r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=rounds.headers,
                               json={"per_capita_income": INCOME, "eligible": True, "reason": "录入时误选",
                                     "relief_amount": format_yuan(relief_of(ctx, case_id))})
        assert r.status_code == status, r.text
        return r.json()

    assert correct(first, 200)["deviation"] is False
    with ctx.db.read() as s:
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == first)).one() == "withdrawn"
        assert s.get(SamplingDeviation, (round_id, first)) is None
        assert s.get(SamplingDeviation, (round_id, second)).consequence == "hold"
    with ctx.db.begin() as s:
        holds.redetermine(s, second, outcome="ineligible", reason="核实属实", principal=sup2, clock=ctx.clock)
    assert "已重新认定" in correct(second, 409)["detail"]


def test_attack_a_supervisor_lifts_a_hold_with_a_relief_of_their_choosing(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A held case is re-determined by one supervisor: the relief they type may not exceed both the relief determined
    and the one the county's re-check found (more would need a new check and determination, seen by others)."""
    person(ctx, users, "sup2", "insurer_supervisor")
    found_less, found_more = ready_case(ctx), ready_case(ctx)
    relief = relief_of(ctx, found_less)
    round_id = drawn_round(rounds, {found_less, found_more})
    rounds.result(round_id, found_less, per_capita_income=INCOME, eligible=False)
    rounds.result(round_id, found_more, per_capita_income=INCOME, eligible=True,
                  relief_amount=format_yuan(relief + 50_000))
    h = users.headers("sup2")

    def redetermine(case_id: str, amount: int) -> object:
        return client.post(f"/api/cases/{case_id}/redetermination", headers=h,
                           json={"outcome": "proceed", "reason": "复核后调整", "relief_amount": format_yuan(amount)})

    r = redetermine(found_less, relief * 10)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "relief_amount"  # type: ignore[attr-defined]
    assert format_yuan(relief) in r.json()["errors"][0]["message"]  # type: ignore[attr-defined]
    assert relief_of(ctx, found_less) == relief
    with ctx.db.read() as s:
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == found_less)).one() == "open"
    r = redetermine(found_more, relief + 50_001)
    assert r.status_code == 422  # type: ignore[attr-defined]
    # up to the county re-check's higher figure, but only once a second county reviewer confirms it (as a paid
    # case's supplementary payment): the relief stays the one determined until then
    r = redetermine(found_more, relief + 50_000)
    assert r.status_code == 200 and r.json()["status"] == "open"  # type: ignore[attr-defined]
    waiting = r.json()["waiting"]  # type: ignore[attr-defined]
    assert waiting["against_county"] is False and waiting["relief"] == format_yuan(relief + 50_000)
    assert relief_of(ctx, found_more) == relief
    person(ctx, users, "rev2", "county_reviewer")
    confirmed = client.post(f"/api/cases/{found_more}/redetermination/proposal/confirm", headers=users.headers("rev2"),
                            json={"proposal_id": waiting["id"], "reason": "核实复核金额无误"})
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "decided", confirmed.text
    assert relief_of(ctx, found_more) == relief + 50_000
    assert redetermine(found_less, relief).status_code == 200  # type: ignore[attr-defined]


def test_attack_a_supervisor_lifts_the_hold_on_his_brothers_case(ctx, client, rounds, users) -> None:  # type: ignore[no-untyped-def]
    person(ctx, users, "brother", "insurer_supervisor")
    case_id = ready_case(ctx)
    relief = relief_of(ctx, case_id)
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income="3000.00", eligible=True, relief_amount=format_yuan(relief + 10_000))
    with ctx.db.read() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    declare_sibling(ctx, client, users.headers("brother"), case_id)
    before += 1  # the declaration's own entry
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("brother"),
                    json={"outcome": "proceed", "reason": "复核后调整", "relief_amount": format_yuan(relief + 10_000)})
    assert r.status_code == 422 and "与本户成员存在回避关系" in r.text, r.text
    assert relief_of(ctx, case_id) == relief
    with ctx.db.read() as s:
        assert s.scalars(select(CaseHold.status).where(CaseHold.case_id == case_id)).one() == "open"
        # nothing written but the refusal's own trace (recusal.refused, in a transaction of its own)
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
        assert s.scalars(select(AuditEntry.action).order_by(AuditEntry.idx.desc())).first() == "recusal.refused"
