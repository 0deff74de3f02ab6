"""Insider control: whoever reads the audit log (an auditor, a county's copy of an exported entry, anyone who can read
the database) must not read the free text typed into a step: a reason may name a person. Each step's short reason
enters the log only as its SHA-256 (`verifier.audit.log.text_digest`, a key ending in `_sha256`); the text itself stays
in the step's own row, where the pages read it. Each case below drives the real API or service with a reason naming
a person and reads back every entry the step appended."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from deviation_helpers import batch, drawn_round, paid_then_found_ineligible, pay, person, ready_case, relief_of
from factories import COUNTY, make_case
from insider_kit import check_body, head_on_record, schedule
from payments.payment_helpers import add_contract, people_of, seed_ready_cases
from sampling import sampling_helpers
from sqlalchemy import func, select

from verifier.audit.canonical import decode_entry
from verifier.audit.log import text_digest
from verifier.audit.models import AuditEntry
from verifier.cases import hold_proposals, holds
from verifier.contract import check_contract_text
from verifier.domain.money import format_yuan
from verifier.payments import recoveries, recovery_reading
from verifier.payments import service as payments
from verifier.payments.models import PaymentBatch, PaymentItem, Recovery, RecoveryRepayment, SupplementaryPayment
from verifier.sampling import consequences
from verifier.sampling.models import CaseHold, CaseHoldProposal, SamplingResult
from verifier.store import contracts as contract_store
from verifier.store.tables import Check, ContractDecision, Visit

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income
NAME = "张秀兰"  # the person every reason names
rounds = sampling_helpers.rounds  # the fixture
DEMO = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")


def said(step: str) -> str:
    """A reason of this step naming a person (long enough for every step's rule)."""
    return f"{step}：村民{NAME}反映户主情况有变，需再核实"


@dataclass(frozen=True)
class Logged:
    """An entry the step must have appended: its action, and its key holding the SHA-256 of `text`."""

    action: str
    key: str
    text: str


@dataclass(frozen=True)
class Done:
    logged: list[Logged]
    kept: list[tuple[str | None, str]]  # (what the step's own row keeps, what it should keep): the pages read it


Step = Callable[[Any, Any, Any, Any], Done]


def _schedule_by_hand(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="screened")
    reason = said("人工指派")
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [users.ids["off1"], users.ids["off2"]], "visit_on": ctx.clock.today().isoformat(),
        "vehicle": "车01", "reason": reason})
    assert r.status_code == 200 and r.json()["by_hand"] is True, r.text
    with ctx.db.read() as s:
        kept = s.scalar(select(Visit.reason).where(Visit.case_id == case_id, Visit.active.is_(True)))
    return Done([Logged("case.schedule", "reason_sha256", reason)], [(kept, reason)])


def _send_back(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    reason = said("退回重新核查")
    r = client.post(f"/api/cases/{case_id}/send-back", json={"reason": reason}, headers=users.headers("sup1"))
    assert r.status_code == 200, r.text
    with ctx.db.read() as s:
        kept = s.scalar(select(Check.sent_back_reason).where(Check.case_id == case_id))
    return Done([Logged("case.send_back", "reason_sha256", reason)], [(kept, reason)])


def _late_entry(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    for name, role in (("sup", "insurer_supervisor"), ("off1", "field_officer"), ("off2", "field_officer")):
        users.add(name, role, counties=(COUNTY,))
    today = ctx.clock.today()
    referred = today - timedelta(days=30)
    case_id = make_case(ctx, stage="screened", referred_on=referred)
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, users.headers("sup"), case_id, officers, today.isoformat())
    reason = said("补录")
    body = check_body(*head_on_record(ctx, case_id), officers, (referred + timedelta(days=5)).isoformat())
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("off1"),
                    json={**body, "late_entry_reason": reason})
    assert r.status_code == 201, r.text
    with ctx.db.read() as s:
        kept = s.scalar(select(Check.late_entry_reason).where(Check.case_id == case_id))
    return Done([Logged("case.record_check", "late_entry_reason_sha256", reason)], [(kept, reason)])


def _remove_item(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    cases = [ready_case(ctx), ready_case(ctx)]
    batch_id = batch(ctx, claims, cases)
    reason = said("移出批次")
    with ctx.db.read() as s:
        item_id = s.scalars(select(PaymentItem.id).where(PaymentItem.batch_id == batch_id)
                            .order_by(PaymentItem.seq)).first()
    with ctx.db.begin() as s:
        payments.remove_item(s, batch_id, item_id, reason=reason, principal=claims, clock=ctx.clock)
    with ctx.db.read() as s:
        kept = s.get(PaymentItem, item_id).removed_reason
    return Done([Logged("payment_batch.remove_item", "reason_sha256", reason)], [(kept, reason)])


def _overpaid(ctx, users, rounds) -> tuple[Any, Any, Recovery]:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1, fin2 = person(ctx, users, "fin1", "finance"), person(ctx, users, "fin2", "finance")
    _, rec = paid_then_found_ineligible(ctx, rounds, claims, fin1, INCOME)
    return fin1, fin2, rec


def _reject_repayment(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    fin1, fin2, rec = _overpaid(ctx, users, rounds)
    with ctx.db.begin() as s:
        row = recoveries.record_repayment(s, rec.id, amount="10.00", paid_on=date(2020, 6, 1), reference="RK9",
                                          principal=fin1, clock=ctx.clock)
    reason = said("驳回还款")
    with ctx.db.begin() as s:
        recoveries.reject_repayment(s, row["id"], reason=reason, principal=fin2, clock=ctx.clock)
    with ctx.db.read() as s:
        kept = s.get(RecoveryRepayment, row["id"]).reject_reason
    return Done([Logged(recoveries.REPAYMENT_REJECTED, "reason_sha256", reason)], [(kept, reason)])


def _waive(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    _, _, rec = _overpaid(ctx, users, rounds)
    asker, confirmer = person(ctx, users, "rev2", "county_reviewer"), person(ctx, users, "rev3", "county_reviewer")
    asked, confirmed = said("申请核销"), said("同意核销")
    with ctx.db.begin() as s:
        recoveries.waive(s, rec.id, reason=asked, principal=asker, clock=ctx.clock)
    with ctx.db.begin() as s:
        recoveries.waive(s, rec.id, reason=confirmed, principal=confirmer, clock=ctx.clock)
    with ctx.db.read() as s:
        kept = s.get(Recovery, rec.id)
        assert kept.status == "waived"
    return Done([Logged(recoveries.WAIVER_REQUESTED, "reason_sha256", asked),
                 Logged(recoveries.WAIVED, "reason_sha256", asked),
                 Logged(recoveries.WAIVED, "confirmation_sha256", confirmed)],
                [(kept.waive_reason, asked), (kept.waiver_confirm_note, confirmed)])


def _decline_waiver(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    _, _, rec = _overpaid(ctx, users, rounds)
    asker, decliner = person(ctx, users, "rev2", "county_reviewer"), person(ctx, users, "rev3", "county_reviewer")
    asked, declined = said("申请核销"), said("驳回核销")
    with ctx.db.begin() as s:
        recoveries.waive(s, rec.id, reason=asked, principal=asker, clock=ctx.clock)
    with ctx.db.begin() as s:
        recoveries.decline_waiver(s, rec.id, reason=declined, principal=decliner, clock=ctx.clock)
    with ctx.db.read() as s:
        kept = s.get(Recovery, rec.id)
        assert kept.status == "open"
        (request,) = recovery_reading.waiver_requests_of(s, rec.id)
    return Done([Logged(recoveries.WAIVER_DECLINED, "reason_sha256", declined),
                 Logged(recoveries.WAIVER_DECLINED, "request_reason_sha256", asked)],
                [(request["note"], declined), (request["reason"], asked)])


def _correct(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    """A correction withdraws what the corrected result opened: a hold, a recovery and a supplementary payment, each
    with the correction's reason; the corrected result's own note (free text) enters the log by digest too."""
    claims, fin1 = person(ctx, users, "claims1", "insurer_claims"), person(ctx, users, "fin1", "finance")
    held, recovered, short, unchecked = (ready_case(ctx) for _ in range(4))
    pay(ctx, claims, fin1, [recovered, short])
    relief = relief_of(ctx, short)
    round_id = drawn_round(rounds, {held, recovered, short, unchecked})  # one unchecked: the verdict stays pending
    note = f"入户时{NAME}在场，说家里有人外出务工"
    for case_id in (held, recovered):
        rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False, note=note)
    rounds.result(round_id, short, per_capita_income=INCOME, eligible=True,
                  relief_amount=format_yuan(relief + 20_000), note=note)
    reasons = {case_id: said(f"更正{n}") for n, case_id in enumerate((held, recovered, short))}
    for case_id, reason in reasons.items():
        r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections", headers=rounds.headers,
                        json={"per_capita_income": INCOME, "eligible": True, "reason": reason,
                              "relief_amount": format_yuan(relief)})
        assert r.status_code == 200, r.text
    with ctx.db.read() as s:
        kept = [(s.get(SamplingResult, (round_id, c)).correction_reason, reasons[c]) for c in reasons]
        kept.append((s.scalars(select(CaseHold.decision_reason).where(CaseHold.case_id == held)).one(),
                     reasons[held]))
        kept.append((s.scalars(select(Recovery.waive_reason).where(Recovery.case_id == recovered)).one(),
                     reasons[recovered]))
        kept.append((s.scalars(select(SupplementaryPayment.withdrawn_reason)
                               .where(SupplementaryPayment.case_id == short)).one(), reasons[short]))
    logged = [Logged("sampling.result_corrected", "reason_sha256", r) for r in reasons.values()]
    logged += [Logged(consequences.HOLD_WITHDRAWN, "reason_sha256", reasons[held]),
               Logged(recoveries.WITHDRAWN, "reason_sha256", reasons[recovered]),
               Logged(consequences.SUPPLEMENT_WITHDRAWN, "reason_sha256", reasons[short])]
    return Done(logged, kept)


def _hold_decided(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    """In line with the county (it found the household ineligible): the supervisor's decision takes effect."""
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    reason = said("重新认定")
    with ctx.db.begin() as s:
        holds.redetermine(s, case_id, outcome="ineligible", reason=reason, principal=sup2, clock=ctx.clock)
    with ctx.db.read() as s:
        kept = s.scalars(select(CaseHold.decision_reason).where(CaseHold.case_id == case_id)).one()
    return Done([Logged(holds.DECIDED, "reason_sha256", reason)], [(kept, reason)])


def _hold_proposed_confirmed(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    """Against the county: proposed by a supervisor, confirmed by another county reviewer."""
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    reason, answer = said("重新认定"), said("确认重新认定")
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason=reason, principal=sup2,
                                     clock=ctx.clock)["waiting"]
    with ctx.db.begin() as s:
        hold_proposals.confirm(s, case_id, proposal["id"], reason=answer, principal=rev2, clock=ctx.clock)
    with ctx.db.read() as s:
        row = s.scalars(select(CaseHoldProposal).where(CaseHoldProposal.case_id == case_id)).one()
    return Done([Logged(holds.PROPOSED, "reason_sha256", reason), Logged(holds.DECIDED, "reason_sha256", reason),
                 Logged(holds.DECIDED, "confirmation_sha256", answer)],
                [(row.reason, reason), (row.answer_note, answer)])


def _hold_proposal_declined(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    sup2 = person(ctx, users, "sup2", "insurer_supervisor")
    rev2 = person(ctx, users, "rev2", "county_reviewer")
    case_id = ready_case(ctx)
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income=INCOME, eligible=False)
    reason, answer = said("重新认定"), said("驳回重新认定")
    with ctx.db.begin() as s:
        proposal = holds.redetermine(s, case_id, outcome="proceed", reason=reason, principal=sup2,
                                     clock=ctx.clock)["waiting"]
    with ctx.db.begin() as s:
        hold_proposals.decline(s, case_id, proposal["id"], reason=answer, principal=rev2, clock=ctx.clock)
    with ctx.db.read() as s:
        row = s.scalars(select(CaseHoldProposal).where(CaseHoldProposal.case_id == case_id)).one()
    return Done([Logged(hold_proposals.DECLINED, "reason_sha256", answer),
                 Logged(hold_proposals.DECLINED, "request_reason_sha256", reason)], [(row.answer_note, answer)])


def _contract_refused(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    text = re.sub(r'(?m)^id = .*$', 'id = "refused-2020"', DEMO)
    text = re.sub(r'(?m)^county_codes = .*$', 'county_codes = ["340227"]', text)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as s:
        assert contract_store.add_contract(s, contract, actor="system", role="admin", clock=ctx.clock)
    users.add("rev-27", "county_reviewer", counties=("340227",))
    reason = said("拒绝确认合同")
    r = client.post("/api/contracts/refused-2020/reject", headers=users.headers("rev-27"), json={"reason": reason})
    assert r.status_code == 200 and r.json()["counties"][0]["reason"] == reason, r.text
    with ctx.db.read() as s:
        kept = s.scalars(select(ContractDecision.reason).where(ContractDecision.contract_id == "refused-2020")).one()
    return Done([Logged("contract.refuse", "reason_sha256", reason)], [(kept, reason)])


def _signoff(ctx, client, users, rounds) -> Done:  # type: ignore[no-untyped-def]
    """The county reviewer refuses a batch's sign-off with an opinion, then signs it off with another: both opinions
    enter the log by digest. The batch keeps the latest opinion (`signoff_opinion`), its sign-off history both."""
    people = people_of(ctx, "rh", "reasons-password")
    small = add_contract(ctx, signoff_at="10000.00")
    seed_ready_cases(ctx.db, ctx.vault, small, 2, relief=500_000, clock=ctx.clock)  # the threshold: sign-off needed
    with ctx.db.begin() as s:
        batch_id = payments.create_batch(s, county_code=small.county_codes[0], contract_id=None,
                                         principal=people.claims, clock=ctx.clock).id
    refused, signed = said("不同意签批"), said("同意发放")
    for step in ("approve", "refuse", "approve", "sign off"):
        with ctx.db.begin() as s:
            if step == "approve":
                payments.approve(s, batch_id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock)
            elif step == "refuse":
                payments.refuse_signoff(s, batch_id, opinion=refused, principal=people.reviewer, vault=ctx.vault,
                                        clock=ctx.clock)
            else:
                payments.county_signoff(s, batch_id, principal=people.reviewer, vault=ctx.vault, clock=ctx.clock,
                                        opinion=signed)
    with ctx.db.read() as s:
        kept = s.get(PaymentBatch, batch_id)
        assert kept.status == "signed_off"
        history = [(d.decision, d.opinion) for d in payments.signoffs_of(s, batch_id)]
    assert history == [("refused", refused), ("given", signed)]
    return Done([Logged("payment_batch.signoff_refused", "opinion_sha256", refused),
                 Logged("payment_batch.county_signoff", "opinion_sha256", signed)],
                [(kept.signoff_opinion, signed), (history[0][1], refused)])


STEPS: dict[str, Step] = {
    "visit scheduled by hand": _schedule_by_hand,
    "check sent back": _send_back,
    "check entered late": _late_entry,
    "item taken out of a batch": _remove_item,
    "repayment rejected": _reject_repayment,
    "recovery waived": _waive,
    "recovery waiver declined": _decline_waiver,
    "sampling result corrected": _correct,
    "hold decided": _hold_decided,
    "hold re-determination proposed and confirmed": _hold_proposed_confirmed,
    "hold re-determination declined": _hold_proposal_declined,
    "contract refused": _contract_refused,
    "batch sign-off refused, then given": _signoff,
}


@pytest.mark.parametrize("step", list(STEPS), ids=list(STEPS))
def test_a_steps_reason_enters_the_log_only_as_its_sha256(ctx, client, users, rounds, step) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        before = int(s.scalar(select(func.coalesce(func.max(AuditEntry.idx), -1))))
    done = STEPS[step](ctx, client, users, rounds)
    with ctx.db.read() as s:
        appended = [decode_entry(e) for e in s.scalars(select(AuditEntry.entry).where(AuditEntry.idx > before)
                                                        .order_by(AuditEntry.idx))]
    # No entry the step appended holds the name in clear, under any key, at any depth.
    for entry in appended:
        assert NAME not in json.dumps(entry.payload, ensure_ascii=False), (entry.action, entry.payload)
    # Each entry named holds the SHA-256 of its text, and no key of its payload is the bare reason any more.
    for want in done.logged:
        digests = [e.payload.get(want.key) for e in appended if e.action == want.action]
        assert text_digest(want.text) in digests, (want, [e.payload for e in appended if e.action == want.action])
        for e in appended:
            if e.action == want.action:
                assert not {"reason", "confirmation", "late_entry_reason", "opinion"} & set(e.payload), e.payload
    # The text stays in the step's own row: what the pages show.
    for kept, expected in done.kept:
        assert kept == expected
