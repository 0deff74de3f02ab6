"""One county reviewer's re-check raising an unpaid case's relief: the re-check records more than the insurer
determined, the case is held, and any insurer supervisor could then re-determine `proceed` at the higher figure, so
one reviewer's typed figure became the relief with no second county look; whereas a paid case's same figure opens a
supplementary payment that waits for a second county reviewer. Now a relief raised above the determination's is a
proposal: it takes effect once a county reviewer other than the re-check's recorder confirms it; until then the
relief stays the one determined and the case stays held."""

from __future__ import annotations

from deviation_helpers import person, raised_proposal, relief_of
from factories import COUNTY
from sqlalchemy import select

from verifier.domain.money import format_yuan
from verifier.payments import service as payments
from verifier.sampling.models import CaseHold, CaseHoldProposal
from web.pagekit import Pages

INCOME = "2666.67"  # the factory's household: the insurer's per-capita income


def test_attack_one_reviewers_higher_recheck_becomes_the_relief_on_a_supervisors_word(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    raised = raised_proposal(ctx, client, users, INCOME)  # by `sup2`, on `reviewer`'s re-check finding more
    case_id, relief, higher = raised.case_id, raised.relief, raised.higher
    claims = person(ctx, users, "claims1", "insurer_claims")
    person(ctx, users, "rev2", "county_reviewer")
    assert raised.answer["status"] == "open" and raised.answer["waiting"]["relief"] == format_yuan(higher), raised
    assert relief_of(ctx, case_id) == relief  # the determination's relief stands
    with ctx.db.read() as s:
        assert case_id not in {c["case_id"] for c in payments.ready_to_pay(s, COUNTY, claims)}  # still held
    proposal = raised.proposal

    # The page says what waits, and for whom.
    pages = Pages(client, users)
    pages.login("rev2")
    text = pages.get(f"/cases/{case_id}").text
    assert 'id="hold-proposal"' in text and "须由另一名县级复核人员确认后才生效" in text

    # The re-check's own recorder cannot confirm the figure he typed.
    body = {"proposal_id": proposal, "reason": "同意"}
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/confirm", headers=users.headers("reviewer"),
                    json=body)
    assert r.status_code == 403 and "复核结果由您录入" in r.json()["detail"], r.text
    assert relief_of(ctx, case_id) == relief

    # A second county reviewer confirms: only now the higher relief applies and the hold is lifted.
    r = client.post(f"/api/cases/{case_id}/redetermination/proposal/confirm", headers=users.headers("rev2"),
                    json={**body, "reason": "核实复核金额无误"})
    assert r.status_code == 200 and r.json()["status"] == "decided", r.text
    assert relief_of(ctx, case_id) == higher
    with ctx.db.read() as s:
        hold = s.scalars(select(CaseHold).where(CaseHold.case_id == case_id)).one()
        assert (hold.relief_before, hold.relief_after) == (relief, higher)
        assert s.scalars(select(CaseHoldProposal.answered_by)).one() == users.ids["rev2"]
