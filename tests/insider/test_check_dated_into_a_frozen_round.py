"""A check recorded after a sampling round froze, its visit dated back into that round's period: the round's
population was frozen without it, and the next round (a later period) would not take it either, so the household
would fall into no sample. The next round of the county and kind frozen after it takes it in, once."""

from __future__ import annotations

from datetime import timedelta

from factories import accept_contract, make_case
from insider_kit import COUNTY, check_body, frozen_round, head_on_record, schedule



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
    first = frozen_round(client, reviewer, insurer, day0 - timedelta(days=30), day0)
    assert checked in _population(client, reviewer, first) and late not in _population(client, reviewer, first)

    # The next day the officer records the visit, dated ten days back: inside the frozen period (eleven days after
    # the visit day, so with a reason for the late entry: tests/insider/test_visit_dated_back.py).
    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    r = client.post(f"/api/cases/{late}/check", headers=users.headers("off1"),
                    json={**check_body(*head_on_record(ctx, late), officers,
                                       (day0 - timedelta(days=10)).isoformat()),
                          "late_entry_reason": "村里没有手机信号，回到乡镇才录入"})
    assert r.status_code == 201, r.text
    other = make_case(ctx, stage="checked")  # visited day1

    # The next round (day1 only) takes it in, beside the checks of its own period ...
    second = frozen_round(client, reviewer, insurer, day1, day1)
    assert _population(client, reviewer, second) == {other, late}
    # ... and only it: a later round leaves it out.
    ctx.clock.advance(days=1)
    third_case = make_case(ctx, stage="checked")
    third = frozen_round(client, reviewer, insurer, ctx.clock.today(), ctx.clock.today())
    assert _population(client, reviewer, third) == {third_case}


def test_a_late_check_is_taken_in_by_the_next_round_under_the_next_years_contract(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The round missed at the end of a contract's year: the next round of the county and kind falls under the next
    year's contract. The late check (its case under the earlier contract) is still taken in, once; a round of its own
    contract could never come, every period of that year being sampled already."""
    from datetime import date
    from pathlib import Path

    from verifier.contract import check_contract_text
    from verifier.store.contracts import add_contract

    demo = (Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml").read_text("utf-8")
    text = demo.replace('id = "demo-2020"', 'id = "demo-2021"').replace("2020-01-01", "2021-01-01") \
        .replace("2020-12-31", "2021-12-31")
    next_year, problems = check_contract_text(text.encode("utf-8"))
    assert next_year is not None, problems
    with ctx.db.begin() as session:
        add_contract(session, next_year, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, next_year.id, ctx.clock)  # as the county would

    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    ctx.clock.advance(days=(date(2020, 12, 28) - ctx.clock.today()).days)
    day0 = ctx.clock.today()
    checked = make_case(ctx, stage="checked")  # under the 2020 contract, visited day0
    late = make_case(ctx, stage="screened", referred_on=day0 - timedelta(days=8))
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, insurer, late, officers, day0.isoformat())
    first = frozen_round(client, reviewer, insurer, date(2020, 12, 1), day0)  # the year's last round
    assert _population(client, reviewer, first) == {checked}

    # In January the officer records the December visit, dated into the frozen round (with a reason: a late entry).
    ctx.clock.advance(days=(date(2021, 1, 5) - day0).days)
    day1 = ctx.clock.today()
    r = client.post(f"/api/cases/{late}/check", headers=users.headers("off1"),
                    json={**check_body(*head_on_record(ctx, late), officers, day0.isoformat()),
                          "late_entry_reason": "年底系统维护，纸质记录补录"})
    assert r.status_code == 201, r.text
    this_year = make_case(ctx, stage="checked")  # under the 2021 contract, visited day1
    second = frozen_round(client, reviewer, insurer, day0 + timedelta(days=1), day1)  # from the day after the first's end
    r = client.get(f"/api/sampling-rounds/{second}", headers=reviewer)
    assert r.status_code == 200 and r.json()["contract_id"] == "demo-2021", r.text
    assert _population(client, reviewer, second) == {this_year, late}
    ctx.clock.advance(days=1)
    third_case = make_case(ctx, stage="checked")
    third = frozen_round(client, reviewer, insurer, ctx.clock.today(), ctx.clock.today())
    assert _population(client, reviewer, third) == {third_case}  # once
