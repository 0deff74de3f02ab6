"""The batch page says which batches add up for the county's sign-off: those the county has not seen since its latest
sign-off, whatever the clock (a batch prepared more than a day after another still adds up with it)."""

from __future__ import annotations

from deviation_helpers import person
from payments.payment_helpers import add_contract, seed_ready_cases, tx

from verifier.payments import service


def test_the_batch_page_says_the_batches_since_the_last_signoff_add_up(pages, ctx, users) -> None:  # type: ignore[no-untyped-def]
    small = add_contract(ctx, signoff_at="10000.00")
    county = small.county_codes[0]
    cases = seed_ready_cases(ctx.db, ctx.vault, small, 4, relief=300_000, clock=ctx.clock)
    claims = person(ctx, users, "claims9", "insurer_claims", counties=(county,))

    def prepare(case_ids):  # type: ignore[no-untyped-def]
        return tx(ctx, lambda s: service.create_batch(s, county_code=county, contract_id=None, principal=claims,
                                                      clock=ctx.clock, case_ids=case_ids))

    first = prepare(cases[:3])
    ctx.clock.advance(hours=30)
    second = prepare(cases[3:4])
    assert not first.signoff_required and second.signoff_required
    pages.as_("fin9", "finance", counties=(county,))
    text = pages.get(f"/payments/{first.id}").text
    assert "不需要（连同上次县级签批以来其他未经县级签批的批次，合计低于" in text
    text = pages.get(f"/payments/{second.id}").text
    assert "需要（与上次县级签批以来其他未经县级签批的批次合计达到" in text and "当日" not in text
