"""A paid case found overpaid opens a recovery (追回): repayments recorded by finance and confirmed by another
person come back to the fund once; a county reviewer may waive the rest with a reason. The round's deviations
are its assessment record (考核)."""

from __future__ import annotations

from datetime import date

import pytest
from deviation_helpers import (declare_sibling, drawn_round, paid_then_found_ineligible, pay, person, ready_case,
                               recovery_of, relief_of)
from factories import COUNTY
from sqlalchemy import select

from verifier.domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from verifier.domain.money import format_yuan
from verifier.payments import ledger, recoveries
from verifier.payments import service as payments
from verifier.payments.models import PaymentItem, Recovery, SupplementaryPayment
from verifier.households.file import household_file
from verifier.reports import service as reports
from verifier.sampling.assessment import assessment_summary
from verifier.store.tables import Case

INCOME = "2666.67"


def test_an_overpaid_case_is_recovered_once_with_four_eyes_and_the_round_keeps_the_assessment(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    fin2 = person(ctx, users, "fin2", "finance")
    reviewer2 = person(ctx, users, "rev2", "county_reviewer")
    other_finance = person(ctx, users, "fin9", "finance", counties=("340999",))
    ineligible, reduced, short, unpaid = (ready_case(ctx) for _ in range(4))
    pay(ctx, claims, fin1, [ineligible, reduced, short])
    relief = relief_of(ctx, ineligible)
    round_id = drawn_round(rounds, {ineligible, reduced, short, unpaid})
    with ctx.db.read() as s:
        contract_id = s.get(Case, ineligible).contract_id
        before = ledger.balances(s, contract_id)

    rounds.result(round_id, ineligible, per_capita_income=INCOME, eligible=False)
    rounds.result(round_id, reduced, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(relief - 50_000))
    rounds.result(round_id, short, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(relief + 20_000))
    full, part = recovery_of(ctx, ineligible), recovery_of(ctx, reduced)
    assert (full.amount, full.paid_amount, full.due_amount, full.status) == (relief, relief, 0, "open")
    assert part.amount == 50_000
    with ctx.db.read() as s:
        assert s.scalars(select(Recovery).where(Recovery.case_id == short)).all() == []  # paid too little: no recovery
        sup = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == short)).one()
    assert (sup.amount, sup.status) == (20_000, "open")

    # confirmed by a second county reviewer, then the difference is paid through a normal batch (four eyes and all),
    # once; the case stays paid
    r = rounds.client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and r.json()["confirmed_by"] == reviewer2.id, r.text
    batch_id = pay(ctx, claims, fin1, [short])
    with ctx.db.read() as s:
        items = s.scalars(select(PaymentItem).where(PaymentItem.batch_id == batch_id)).all()
        assert [(i.case_id, i.amount, i.status, i.supplement_id) for i in items] == [(short, 20_000, "succeeded",
                                                                                     sup.id)]
        assert s.get(SupplementaryPayment, sup.id).status == "paid" and s.get(Case, short).status == "paid"
        assert ledger.balances(s, contract_id).paid == before.paid + 20_000
    with pytest.raises(ValidationFailed), ctx.db.begin() as s:  # nothing left to pay: never a second supplement
        payments.create_batch(s, county_code=COUNTY, contract_id=None, principal=claims, clock=ctx.clock,
                              case_ids=[short])
    with ctx.db.read() as s:
        before = ledger.balances(s, contract_id)

    def record(who, rec_id: str, amount: str, reference: str, paid_on: date = date(2020, 6, 1)):  # type: ignore[no-untyped-def]
        with ctx.db.begin() as s:
            return recoveries.record_repayment(s, rec_id, amount=amount, paid_on=paid_on, reference=reference,
                                               principal=who, clock=ctx.clock)

    def confirm(who, repayment_id: str):  # type: ignore[no-untyped-def]
        with ctx.db.begin() as s:
            return recoveries.confirm_repayment(s, repayment_id, principal=who, clock=ctx.clock)

    # only finance records; bad input is named; another county's finance sees nothing
    with pytest.raises(Forbidden):
        record(reviewer2, full.id, "100.00", "R1")
    with pytest.raises(ValidationFailed) as bad:
        record(fin1, full.id, "0.00", " ", paid_on=date(2020, 6, 2))
    assert {e.field for e in bad.value.errors} == {"amount", "reference", "paid_on"}
    with pytest.raises(NotFound):
        record(other_finance, full.id, "100.00", "R1")

    first = record(fin1, full.id, "100.00", "R1")
    with pytest.raises(InvalidState, match="已经登记过，不能重复登记"):
        record(fin2, full.id, "100.00", "R1")  # the same bank reference twice
    with pytest.raises(InvalidState, match="超过尚未追回的"):
        record(fin1, full.id, format_yuan(relief), "R2")  # more than is outstanding, the pending 100.00 counted
    with pytest.raises(Forbidden, match="四眼原则"):
        confirm(fin1, first["id"])  # finance confirming its own record
    with pytest.raises(NotFound):
        confirm(other_finance, first["id"])
    confirm(fin2, first["id"])
    with pytest.raises(InvalidState, match="这笔还款已确认"):
        confirm(reviewer2, first["id"])  # repaid twice: refused
    with ctx.db.read() as s:
        after_one = ledger.balances(s, contract_id)
    assert (after_one.recovered, after_one.balance - before.balance, after_one.paid) == (10_000, 10_000, before.paid)

    rest = record(fin1, full.id, format_yuan(relief - 10_000), "R2")
    with pytest.raises(InvalidState, match="有还款登记等待确认"), ctx.db.begin() as s:
        recoveries.waive(s, full.id, reason="无力偿还", principal=reviewer2, clock=ctx.clock)
    confirm(reviewer2, rest["id"])
    assert (recovery_of(ctx, ineligible).status, recovery_of(ctx, ineligible).repaid) == ("repaid", relief)
    with pytest.raises(InvalidState):
        record(fin1, full.id, "1.00", "R3")
    with ctx.db.read() as s:
        final = ledger.balances(s, contract_id)
        assert ledger.problems(s, [contract_id]) == []
    assert final.recovered == relief and final.balance - before.balance == relief

    # a rejected record never counts; waiving needs the county reviewer and a reason
    wrong = record(fin1, part.id, "10.00", "R9")
    with pytest.raises(ValidationFailed), ctx.db.begin() as s:
        recoveries.reject_repayment(s, wrong["id"], reason=" ", principal=fin2, clock=ctx.clock)
    with ctx.db.begin() as s:
        recoveries.reject_repayment(s, wrong["id"], reason="银行无此笔入账", principal=fin2, clock=ctx.clock)
    for who, error in ((fin1, Forbidden), (person(ctx, users, "rev9", "county_reviewer", counties=("340999",)),
                                           NotFound)):
        with pytest.raises(error), ctx.db.begin() as s:
            recoveries.waive(s, part.id, reason="无力偿还", principal=who, clock=ctx.clock)
    with pytest.raises(ValidationFailed), ctx.db.begin() as s:
        recoveries.waive(s, part.id, reason="  ", principal=reviewer2, clock=ctx.clock)
    with ctx.db.begin() as s:  # one county reviewer asks; nothing is written off yet
        asked = recoveries.waive(s, part.id, reason="户主重病，经县级批准免于追回", principal=reviewer2, clock=ctx.clock)
    assert asked["status"] == "open" and asked["waiver_requested_by"] == reviewer2.id
    with pytest.raises(Forbidden, match="另一名县级复核人员确认"), ctx.db.begin() as s:  # nor by asking twice
        recoveries.waive(s, part.id, reason="同意", principal=reviewer2, clock=ctx.clock)
    assert recovery_of(ctx, reduced).status == "open"
    reviewer3 = person(ctx, users, "rev3", "county_reviewer")
    with ctx.db.begin() as s:  # another confirms it
        recoveries.waive(s, part.id, reason="已核实，同意核销", principal=reviewer3, clock=ctx.clock)
    assert (recovery_of(ctx, reduced).status, recovery_of(ctx, reduced).repaid) == ("waived", 0)
    assert recovery_of(ctx, reduced).waive_reason == "户主重病，经县级批准免于追回"
    # the second reviewer's words are kept on the recovery (the log keeps their SHA-256 only), and read back by the API
    shown = rounds.client.get(f"/api/recoveries/{part.id}", headers=users.headers("rev3")).json()
    assert (shown["waiver_confirm_note"], shown["closed_by"], shown["waiver_requested_by"]) == (
        "已核实，同意核销", reviewer3.id, reviewer2.id)
    assert shown["waive_reason"] == "户主重病，经县级批准免于追回"  # the asker's reason is not overwritten by them
    with ctx.db.read() as s:
        assert ledger.balances(s, contract_id).recovered == relief  # the rejected 10.00 never came in

    # the assessment record, on the round and for the report
    assessment = rounds.get(round_id, "/assessment")
    assert (assessment["checked"], assessment["deviations"]) == (3, 3)
    assert assessment["by_kind"] == {"eligibility": 1, "amount": 2, "income": 0}
    assert (assessment["over"], assessment["under"]) == (format_yuan(relief + 50_000), "200.00")
    assert assessment["recoveries"] == {"repaid": 1, "waived": 1}
    assert assessment["recovered"] == format_yuan(relief) and assessment["outstanding"] == "0.00"
    by_case = {c["case_id"]: c for c in assessment["cases"]}
    assert (by_case[short]["consequence"], by_case[short]["under"], by_case[short]["supplement_status"]) == (
        "supplement", "200.00", "paid")
    assert assessment["supplements"] == {"paid": 1}
    with ctx.db.read() as s:
        summary = assessment_summary(s, COUNTY, date(2020, 6, 1), date(2020, 6, 30))
        empty = assessment_summary(s, COUNTY, date(2020, 7, 1), date(2020, 7, 31))
    assert summary["totals"]["deviations"] == 3 and summary["rounds"][0]["round_id"] == round_id
    assert empty["totals"]["rounds"] == 0 and empty["totals"]["over"] == "0.00"
    with ctx.db.read() as s:  # the monthly report counts them: opened by the day, recovered by the day repaid
        june = reports.monthly(s, reviewer2, COUNTY, "2020-06")["recoveries"]
        july = reports.monthly(s, reviewer2, COUNTY, "2020-07")["recoveries"]
    assert june == {"opened": {"month": 2, "cumulative": 2},
                    "amount": {"month": format_yuan(relief + 50_000), "cumulative": format_yuan(relief + 50_000)},
                    "recovered": {"month": format_yuan(relief), "cumulative": format_yuan(relief)}}
    assert july["opened"] == {"month": 0, "cumulative": 2} and july["recovered"]["month"] == "0.00"
    with ctx.db.read() as s:  # the household file (一户一档) lists its recovery
        household_id = s.get(Case, ineligible).household_id
        file = household_file(s, household_id, reviewer2, ctx.vault)
    assert [(r["case_id"], r["amount"], r["repaid"], r["status"]) for r in
            next(x for x in file.sections if x.key == "recoveries").rows] == [
        (ineligible, format_yuan(relief), format_yuan(relief), "repaid")]

    listed = rounds.client.get("/api/recoveries?status=open", headers=users.headers("fin1")).json()
    assert listed["total"] == 0
    r = rounds.client.get("/api/recoveries?status=closed", headers=users.headers("fin1"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "status", r.text
    assert r.json()["errors"][0]["message"].startswith("追回状态须为以下之一：open（追回中）、"), r.text
    listed = rounds.client.get("/api/recoveries", headers=users.headers("fin1")).json()
    assert {r["case_id"] for r in listed["items"]} == {ineligible, reduced}
    assert rounds.client.get("/api/recoveries", headers=users.headers("fin9")).json()["total"] == 0
    r = rounds.client.get(f"/api/sampling-assessment?county_code={COUNTY}&from=2020-06-01&to=2020-06-30",
                          headers=rounds.headers)
    assert r.status_code == 200 and r.json()["totals"]["deviations"] == 3, r.text
    r = rounds.client.get(f"/api/sampling-assessment?county_code={COUNTY}&from=2020-06-01&to=2020-06-30",
                          headers=users.headers("rev9"))
    assert r.status_code == 404


def test_attack_a_reviewer_opens_a_supplement_of_any_size_on_a_sampled_paid_case(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A paid case in the sample: the county reviewer types a relief far above anything the contract allows, and the
    difference would be paid as a supplement. Refused beyond the contract's yearly cap for the case's cause and
    group (100,000.00 for the factory's household); up to it, the supplement is opened as before."""
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    relief = relief_of(ctx, paid)
    round_id = drawn_round(rounds, {paid})
    r = rounds.client.post(f"/api/sampling-rounds/{round_id}/results", headers=rounds.headers, json={
        "case_id": paid, "per_capita_income": INCOME, "eligible": True, "relief_amount": "999999.00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "relief_amount"
    assert "100000.00" in r.json()["errors"][0]["message"]
    with ctx.db.read() as s:
        assert s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == paid)).all() == []
    rounds.result(round_id, paid, per_capita_income=INCOME, eligible=True, relief_amount="100000.00")
    with ctx.db.read() as s:
        sup = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == paid)).one()
    assert sup.amount == 10_000_000 - relief


def test_attack_a_reviewer_waives_what_her_brothers_household_owes(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A recovery's waiver writes off money owed to the fund: neither the reviewer who asks for it nor the one who
    confirms it may be tied to the household (回避; 422, nothing written)."""
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    sister = person(ctx, users, "rev2", "county_reviewer")
    case_id, rec = paid_then_found_ineligible(ctx, rounds, claims, fin1, INCOME)
    declare_sibling(ctx, rounds.client, users.headers("rev2"), case_id)
    with pytest.raises(ValidationFailed, match="与本户成员存在回避关系"), ctx.db.begin() as s:
        recoveries.waive(s, rec.id, reason="无力偿还", principal=sister, clock=ctx.clock)
    after = recovery_of(ctx, case_id)
    assert (after.status, after.waiver_requested_by) == ("open", None)


def test_attack_finance_records_and_confirms_what_his_sisters_household_paid_back(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """A repayment recorded, or confirmed, by a relative of the household could be one the bank never saw: neither
    may be tied to it (回避; 422, nothing written, the refusal on record at the injected clock's time)."""
    import json

    from verifier.audit.models import AuditEntry
    from verifier.payments.models import RecoveryRepayment

    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    fin2 = person(ctx, users, "fin2", "finance")
    kin = person(ctx, users, "kin", "finance")
    case_id, rec = paid_then_found_ineligible(ctx, rounds, claims, fin1, INCOME)
    declare_sibling(ctx, rounds.client, users.headers("kin"), case_id)
    ctx.clock.advance(hours=1)
    with pytest.raises(ValidationFailed, match="与本户成员存在回避关系"), ctx.db.begin() as s:
        recoveries.record_repayment(s, rec.id, amount="100.00", paid_on=date(2020, 6, 1), reference="RK1",
                                    principal=kin, clock=ctx.clock)
    with ctx.db.read() as s:
        assert s.scalars(select(RecoveryRepayment)).all() == []
        [at] = s.scalars(select(AuditEntry.time).where(AuditEntry.action == "recusal.refused",
                                                       AuditEntry.actor == kin.id)).all()
    assert at == ctx.clock.now()  # the system's clock, not the machine's
    with ctx.db.begin() as s:
        row = recoveries.record_repayment(s, rec.id, amount="100.00", paid_on=date(2020, 6, 1), reference="RK1",
                                          principal=fin2, clock=ctx.clock)
    with pytest.raises(ValidationFailed, match="与本户成员存在回避关系"), ctx.db.begin() as s:
        recoveries.confirm_repayment(s, row["id"], principal=kin, clock=ctx.clock)
    with ctx.db.read() as s:
        assert s.get(RecoveryRepayment, row["id"]).status == "pending"
    with ctx.db.read() as s:
        steps = [json.loads(e)["payload"]["step"] for e in s.scalars(select(AuditEntry.entry).where(
            AuditEntry.action == "recusal.refused", AuditEntry.actor == kin.id).order_by(AuditEntry.idx))]
    assert steps == ["recovery_repayment", "recovery_repayment"]
    with ctx.db.begin() as s:
        recoveries.confirm_repayment(s, row["id"], principal=fin1, clock=ctx.clock)
    assert recovery_of(ctx, case_id).repaid == 10_000
