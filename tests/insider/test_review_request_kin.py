"""A household found ineligible may ask for a review within the contract's period; the town clerk records the paper
request and the case goes back to be checked again. A clerk who declared a relative among the household's members
could record one for them (a request never made, a date inside the period) and reopen the decision: she may not, as
she may not record an objection to their notice (回避, step `review_request`): over the API and on the case's page,
422 with 与本户成员存在回避关系, the case left closed, the refusal on record. A colleague records it."""

from __future__ import annotations

from factories import COUNTY, case_status, make_case
from insider_kit import declare_ties, household_member, refusals_of, refused_both_ways


def test_attack_a_clerk_records_a_review_request_for_her_fathers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, wages=9_000_000, stable_income=True)  # ineligible
    assert case_status(ctx, case_id) == "ineligible"
    _, _, father = household_member(ctx, case_id, head=False)
    users.add("kin", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    declare_ties(client, users.headers("kin"), father)
    body = {"received_on": ctx.clock.today().isoformat(), "summary": "家中主要劳动力已失业，收入已下降"}
    r = refused_both_ways(ctx, client, users, "kin", api=f"/api/cases/{case_id}/review-request", body=body,
                          opened=f"/cases/{case_id}", page=f"/cases/{case_id}/review-request", form=body)
    assert "收入已下降" in r.text, r.text  # the form as typed
    assert case_status(ctx, case_id) == "ineligible"
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("review_request", case_id), ("review_request", case_id)]
    r = client.post(f"/api/cases/{case_id}/review-request", headers=users.headers("clerk2"), json=body)
    assert r.status_code == 201, r.text
    assert case_status(ctx, case_id) == "screened"
