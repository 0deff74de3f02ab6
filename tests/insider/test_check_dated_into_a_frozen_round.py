"""A check recorded after a sampling round froze, its visit dated back into that round's period: the round's
population was frozen without it, and the next round (a later period) would not take it either, so the household
would fall into no sample. The next round of the county and kind frozen after it takes it in, once."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from factories import make_case
from insider_kit import COUNTY, check_body, head_of, schedule


def _round(client, reviewer, insurer, start, end) -> str:  # type: ignore[no-untyped-def]
    """A round over `start`..`end` (every case of it sampled) opened, committed and frozen: its id."""
    r = client.post("/api/sampling-rounds", headers=reviewer, json={
        "county_code": COUNTY, "checked_from": start.isoformat(), "checked_to": end.isoformat(), "min_rate": "1.00",
        "stratify_by_town": False})
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    for party, headers in (("county", reviewer), ("insurer", insurer)):
        secret = hashlib.sha256(party.encode()).hexdigest()
        r = client.post(f"/api/sampling-rounds/{round_id}/commitments", headers=headers, json={
            "party": party, "commitment": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
        assert r.status_code == 201, r.text
    r = client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=reviewer)
    assert r.status_code == 200, r.text
    return round_id


def _population(client, reviewer, round_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/sampling-rounds/{round_id}/population", headers=reviewer)
    assert r.status_code == 200, r.text
    return set(r.json()["case_ids"])


def test_attack_a_check_recorded_after_the_freeze_is_dated_into_the_frozen_period(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    day0 = ctx.clock.today()
    checked = make_case(ctx, stage="checked")  # visited day0
    late = make_case(ctx, stage="screened", referred_on=day0 - timedelta(days=30))
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, insurer, late, officers, day0.isoformat())

    # The round over the month up to day0 is frozen: `late` has no check yet, so it is not in it.
    first = _round(client, reviewer, insurer, day0 - timedelta(days=30), day0)
    assert checked in _population(client, reviewer, first) and late not in _population(client, reviewer, first)

    # The next day the officer records the visit, dated ten days back: inside the frozen period (eleven days after
    # the visit day, so with a reason for the late entry: tests/insider/test_visit_dated_back.py).
    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    r = client.post(f"/api/cases/{late}/check", headers=users.headers("off1"),
                    json={**check_body(head_of(client, insurer, late), officers,
                                       (day0 - timedelta(days=10)).isoformat()),
                          "late_entry_reason": "村里没有手机信号，回到乡镇才录入"})
    assert r.status_code == 201, r.text
    other = make_case(ctx, stage="checked")  # visited day1

    # The next round (day1 only) takes it in, beside the checks of its own period ...
    second = _round(client, reviewer, insurer, day1, day1)
    assert _population(client, reviewer, second) == {other, late}
    # ... and only it: a later round leaves it out.
    ctx.clock.advance(days=1)
    third_case = make_case(ctx, stage="checked")
    third = _round(client, reviewer, insurer, ctx.clock.today(), ctx.clock.today())
    assert _population(client, reviewer, third) == {third_case}
