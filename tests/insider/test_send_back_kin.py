"""Sending a check back (退回重新核查) discards what it found and has the household visited again by other officers: a
supervisor who declared a relative among the household's members could send back every check that found the
household too well off until one suited him, and leave its determination to a colleague. He may not (回避, step
`check_send_back`): over the API and on the determination page, 422 with 与本户成员存在回避关系, the check kept, the
refusal on record. A colleague sends it back."""

from __future__ import annotations

from factories import COUNTY, case_status, make_case
from insider_kit import declare_ties, household_member, refusals_of, refused_both_ways


def test_attack_a_supervisor_sends_back_the_check_of_his_mothers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    _, _, mother = household_member(ctx, case_id, head=False)
    users.add("kin", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    declare_ties(client, users.headers("kin"), mother)
    refused_both_ways(ctx, client, users, "kin", api=f"/api/cases/{case_id}/send-back",
                      body={"reason": "收入偏高，重新核查"}, opened=f"/cases/{case_id}/determination",
                      page=f"/cases/{case_id}/determination/send-back",
                      form={"reason": "收入偏高，重新核查", "confirm": "yes"})
    assert case_status(ctx, case_id) == "checked"
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [
        ("check_send_back", case_id), ("check_send_back", case_id)]
    r = client.post(f"/api/cases/{case_id}/send-back", headers=users.headers("sup2"),
                    json={"reason": "收入偏高，重新核查"})
    assert r.status_code == 200, r.text
    assert case_status(ctx, case_id) == "screened"
