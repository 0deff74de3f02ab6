"""The round page shows a supplementary payment (补发) waiting for a second county reviewer: the reviewer whose
re-check opened it is not offered the button and is refused in Chinese if they send it anyway; another confirms it."""

from __future__ import annotations

from deviation_helpers import drawn_round, pay, person, ready_case, relief_of
from sampling.sampling_helpers import rounds  # noqa: F401  (the fixture)
from sqlalchemy import select

from verifier.domain.money import format_yuan
from verifier.payments.models import SupplementaryPayment


def test_a_supplement_waits_for_a_second_reviewer_on_the_round_page(ctx, pages, rounds, users) -> None:  # type: ignore[no-untyped-def]
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    round_id = drawn_round(rounds, {paid})
    rounds.result(round_id, paid, per_capita_income="2666.67", eligible=True,
                  relief_amount=format_yuan(relief_of(ctx, paid) + 20_000))
    with ctx.db.read() as s:
        sup_id = s.scalars(select(SupplementaryPayment.id).where(SupplementaryPayment.case_id == paid)).one()
    action = f"/sampling/{round_id}/supplements/{sup_id}/confirm"

    pages.as_("reviewer", "county_reviewer")
    text = pages.get(f"/sampling/{round_id}").text
    assert f'id="supplement-{sup_id}"' in text and "待另一名县级复核人员确认" in text and action not in text
    r = pages.post(action)
    assert r.status_code == 403 and "须由另一名县级复核人员确认" in r.text and "four-eyes" not in r.text

    pages.as_("rev2", "county_reviewer")
    assert action in pages.get(f"/sampling/{round_id}").text
    r = pages.post(action)
    assert r.status_code == 303
    text = pages.get(r.headers["location"]).text
    assert "补发已确认" in text and "待列入支付批次" in text and f'id="supplement-{sup_id}"' not in text
