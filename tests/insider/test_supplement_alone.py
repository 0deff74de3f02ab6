"""A paid household in a sampling round: the county reviewer who re-checks it types a relief above what was paid,
and the difference is opened as a supplementary payment (补发) that the next batch pays. Claims and finance prepare
and release the batch, but they do not second-guess the county's figure: one reviewer alone would turn a typed
number (up to the contract's yearly cap) into money paid to a household of their choosing. A supplement is paid only
once another county reviewer, who took no part in the re-check nor in the insurer's check, confirms it."""

from __future__ import annotations

from deviation_helpers import batch, drawn_round, pay, person, ready_case, relief_of
from factories import COUNTY
from sampling.sampling_helpers import rounds  # noqa: F401  (the fixture)
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.domain.money import format_yuan
from verifier.payments.models import PaymentItem, SupplementaryPayment

INCOME = "2666.67"


def _supplement(ctx, case_id: str) -> SupplementaryPayment:  # type: ignore[no-untyped-def]
    with ctx.db.read() as s:
        sup = s.scalars(select(SupplementaryPayment).where(SupplementaryPayment.case_id == case_id)).one()
        s.expunge(sup)
        return sup


def test_attack_one_reviewer_opens_a_supplement_and_has_it_paid(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    relief = relief_of(ctx, paid)
    round_id = drawn_round(rounds, {paid})
    rounds.result(round_id, paid, per_capita_income=INCOME, eligible=True, relief_amount=format_yuan(relief + 3_000_000))
    sup = _supplement(ctx, paid)
    assert (sup.amount, sup.status, sup.confirmed_by) == (3_000_000, "open", None)

    # Claims asks for it: refused, naming why; asked for nothing in particular, the county has nothing to pay.
    r = rounds.client.post("/api/payment-batches", headers=users.headers("claims1"),
                           json={"county_code": COUNTY, "case_ids": [paid]})
    assert r.status_code == 422 and "另一名县级复核人员确认" in r.text, r.text
    r = rounds.client.post("/api/payment-batches", headers=users.headers("claims1"), json={"county_code": COUNTY})
    assert r.status_code == 422, r.text
    # The reviewer who recorded the re-check confirms it themselves: refused, nothing written.
    r = rounds.client.post(f"/api/supplements/{sup.id}/confirm", headers=rounds.headers)
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    assert _supplement(ctx, paid).confirmed_by is None
    with ctx.db.read() as s:
        assert not s.scalar(select(AuditEntry.idx).where(AuditEntry.action == "case.supplement_confirmed"))
    # Nor another county's reviewer (it does not exist for them).
    person(ctx, users, "rev-far", "county_reviewer", counties=("340999",))
    r = rounds.client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev-far"))
    assert r.status_code == 404, r.text

    # Another county reviewer of the county confirms it; then the batch pays it, once.
    second = person(ctx, users, "rev2", "county_reviewer")
    r = rounds.client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200 and r.json()["confirmed_by"] == second.id, r.text
    r = rounds.client.post(f"/api/supplements/{sup.id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 409, r.text
    with ctx.db.read() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.supplement_confirmed")).one()
    assert entry.actor == second.id and entry.subject == paid
    batch_id = batch(ctx, claims, [paid])
    with ctx.db.read() as s:
        items = s.scalars(select(PaymentItem).where(PaymentItem.batch_id == batch_id)).all()
    assert [(i.case_id, i.amount, i.supplement_id) for i in items] == [(paid, 3_000_000, sup.id)]
