"""The county's re-check of a sampled case is its own look at the insurer's work. One person may hold an insurer role
beside the county reviewer's (a small county, a seconded officer): they could record "the insurer's result stands" on
the very check they made or the determination they confirmed, and no deviation would ever be found. The re-check is
recorded and corrected only by a reviewer who took no part in the case's check or determination."""

from __future__ import annotations

from deviation_helpers import drawn_round_api
from factories import make_case
from insider_kit import COUNTY, check_body, head_on_record, schedule
from recheck_kit import dated_photo, upload, visit_api
from sqlalchemy import func, select

from verifier.sampling.models import SamplingResult


def _result(client, headers, round_id: str, case_id: str, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"/api/sampling-rounds/{round_id}/results", headers=headers, json={
        "case_id": case_id, "per_capita_income": "3000.00", "eligible": True, **extra})


def _results(ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(SamplingResult)))


def test_attack_the_officer_and_the_confirming_supervisor_record_the_recheck_of_their_own_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    users.add("officer-reviewer", "field_officer", "county_reviewer", counties=(COUNTY,))
    users.add("peer", "field_officer", counties=(COUNTY,))
    users.add("sup-reviewer", "insurer_supervisor", "county_reviewer", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    sup = users.headers("sup-reviewer")
    officers, today = [users.ids["officer-reviewer"], users.ids["peer"]], ctx.clock.today().isoformat()
    schedule(client, sup, case_id, officers, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("officer-reviewer"),
                    json=check_body(*head_on_record(ctx, case_id), officers, today))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{case_id}/determination", headers=sup, json={"confirm": True})
    assert r.status_code == 200, r.text
    relief = r.json()["relief"]["amount"]

    round_id, sampled = drawn_round_api(client, users.headers("reviewer"), users.headers("insurer"))
    assert case_id in sampled
    for who in ("officer-reviewer", "sup-reviewer"):
        r = _result(client, users.headers(who), round_id, case_id, relief_amount=relief)  # "the result stands"
        assert r.status_code == 403 and "四眼原则" in r.json()["detail"], (who, r.text)
        # nor upload the files of a visit to it
        upload(client, users.headers(who), round_id, case_id, dated_photo(f"{today.replace('-', ':')} 09:00:00"),
               status=403)
    assert _results(ctx) == 0

    # An independent reviewer records it (with the county's visit); the insider may not correct it either.
    r = _result(client, users.headers("reviewer"), round_id, case_id, relief_amount="0.00",
                **visit_api(ctx, client, users.headers("reviewer"), round_id, case_id))
    assert r.status_code == 201 and r.json()["deviation"] is True, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/results/{case_id}/corrections",
                    headers=users.headers("sup-reviewer"),
                    json={"per_capita_income": "3000.00", "eligible": True, "relief_amount": relief,
                          "reason": "录入有误"})
    assert r.status_code == 403, r.text
