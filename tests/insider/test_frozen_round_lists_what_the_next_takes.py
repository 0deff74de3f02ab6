"""A frozen round's list of the cases of its period that arrived after its freeze (冻结后才补录或确认的案件) says
待下一轮补入 only of a case the next round of its kind takes in: the list and the carry read one rule
(`sampling.late_checks.carried`). A case the population leaves out (withdrawn) is not listed as waiting; a case that
was in the round's population, its check sent back and redone after the freeze, is not listed as missed but as redone
(冻结后重新核查的案件; the next round takes the redone check in); and the next round's 补入的案件 is what that round
froze, whatever the case's checks became since."""

from __future__ import annotations

from datetime import timedelta

from factories import COUNTY, make_case
from insider_kit import check_body, frozen_round, head_on_record, schedule
from send_back_kit import send_back, visited_again

from verifier.cases.workflow import advance, load_case



def _get(client, reviewer, round_id: str, part: str = "") -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = client.get(f"/api/sampling-rounds/{round_id}{part}", headers=reviewer)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _listed(client, reviewer, round_id: str, key: str = "missed") -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    return [(m["case_id"], m["taken_in_by"] and m["taken_in_by"]["id"])
            for m in _get(client, reviewer, round_id).get(key, [])]


def _people(users) -> tuple[dict, dict]:  # type: ignore[no-untyped-def, type-arg]
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    return users.headers("reviewer"), users.headers("insurer")


def test_attack_a_withdrawn_late_check_is_not_said_to_wait_for_the_next_round(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    reviewer, insurer = _people(users)
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    day0 = ctx.clock.today()
    make_case(ctx, stage="checked")
    late = make_case(ctx, stage="screened", referred_on=day0 - timedelta(days=30))
    officers = [users.ids["off1"], users.ids["off2"]]
    schedule(client, insurer, late, officers, day0.isoformat())
    first = frozen_round(client, reviewer, insurer, day0 - timedelta(days=30), day0)

    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    r = client.post(f"/api/cases/{late}/check", headers=users.headers("off1"),
                    json={**check_body(*head_on_record(ctx, late), officers, (day0 - timedelta(days=10)).isoformat()),
                          "late_entry_reason": "村里没有手机信号，回到乡镇才录入"})
    assert r.status_code == 201, r.text
    assert _listed(client, reviewer, first) == [(late, None)]  # waits for the next round, which would take it

    # The household withdraws: no round takes the case any more, so the round no longer says it waits for one.
    with ctx.db.begin() as session:
        advance(session, load_case(session, late, None, for_update=True), "withdraw", actor=None, role="town_clerk",
                clock=ctx.clock, payload={"shortcut": "test"})
    assert _listed(client, reviewer, first) == []
    page = client.get(f"/sampling/{first}", headers=reviewer).text
    assert "待下一轮" not in page
    other = make_case(ctx, stage="checked")
    second = frozen_round(client, reviewer, insurer, day1, day1)
    assert set(_get(client, reviewer, second, "/population")["case_ids"]) == {other}


def test_attack_a_check_sent_back_and_redone_after_the_freeze_is_not_said_missed(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Its case was in the round's population (by the check sent back): the page does not say the round missed it.
    The redone check is the insurer's new work dated within the period: the next round takes it in, once, and says
    so, and its 补入的案件 stays what it froze when that check is sent back and redone in turn."""
    reviewer, sup = _people(users)
    day0 = ctx.clock.today()
    redone = make_case(ctx, stage="checked")  # visited day0
    first = frozen_round(client, reviewer, sup, day0 - timedelta(days=30), day0)
    assert redone in _get(client, reviewer, first, "/population")["case_ids"]

    # Later the same day (the period's last) the supervisor sends the check back and other officers redo it.
    ctx.clock.advance(hours=2)
    send_back(client, redone, sup, "收入核得不细，重新核查")
    visited_again(ctx, client, redone, sup, team=71, visit_on=day0.isoformat(), note="重新核实收入")
    assert _listed(client, reviewer, first) == []  # in the population: not missed
    assert _listed(client, reviewer, first, "redone") == [(redone, None)]
    page = client.get(f"/sampling/{first}", headers=reviewer).text
    assert 'id="missed"' not in page and 'id="redone"' in page

    # The next round takes the redone check in ...
    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    other = make_case(ctx, stage="checked")
    second = frozen_round(client, reviewer, sup, day1, day1)
    assert set(_get(client, reviewer, second, "/population")["case_ids"]) == {other, redone}
    assert _get(client, reviewer, second)["carried_in"] == [redone]
    assert _listed(client, reviewer, first, "redone") == [(redone, second)]

    # ... and still says it did once that check is sent back and redone within its own period.
    ctx.clock.advance(hours=2)
    send_back(client, redone, sup, "家庭成员核得不全，重新核查")
    visited_again(ctx, client, redone, sup, team=72, visit_on=day1.isoformat(), note="重新核实成员")
    assert _get(client, reviewer, second)["carried_in"] == [redone]
    assert _listed(client, reviewer, second, "redone") == [(redone, None)]
    assert _listed(client, reviewer, second) == []


def test_a_member_redone_into_an_earlier_period_is_not_said_carried_in(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A member of the round by its own period's check, redone after the freeze with a visit dated into the period of
    the round before: the round froze it by its own check, so it is not among the cases it carried in."""
    reviewer, sup = _people(users)
    day0 = ctx.clock.today()
    make_case(ctx, stage="checked")
    frozen_round(client, reviewer, sup, day0 - timedelta(days=30), day0)
    ctx.clock.advance(days=1)
    day1 = ctx.clock.today()
    own = make_case(ctx, stage="checked")  # visited day1
    second = frozen_round(client, reviewer, sup, day1, day1)
    assert _get(client, reviewer, second)["carried_in"] == []
    ctx.clock.advance(hours=2)
    send_back(client, own, sup, "收入核得不细，重新核查")
    # the redo's visit dated on the earlier round's last day (recorded after both froze)
    visited_again(ctx, client, own, sup, team=73, visit_on=day1.isoformat(), note="重新核实收入", visited_on=day0)
    assert _get(client, reviewer, second)["carried_in"] == []


def test_attack_a_case_sent_back_and_not_yet_redone_is_left_out_of_the_population(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A check sent back (the case 已初筛 again, waiting to be scheduled) is no case's current check: a round frozen
    before the redo leaves the case out, as it does a case scheduled again, instead of sampling the discarded check
    (and, once redone within the period, the next round takes in the new check)."""
    reviewer, sup = _people(users)
    day0 = ctx.clock.today()
    kept = make_case(ctx, stage="checked")
    sent = make_case(ctx, stage="checked")
    send_back(client, sent, sup, "收入核得不细，重新核查")
    first = frozen_round(client, reviewer, sup, day0 - timedelta(days=30), day0)
    assert set(_get(client, reviewer, first, "/population")["case_ids"]) == {kept}
    assert _listed(client, reviewer, first) == []


def test_a_frozen_rounds_list_of_missed_cases_past_its_length_says_how_many_more(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """More cases missed than the list shows (cut at `LIST_MAX`, here 1, not 200): the API gives the count of all, the
    page its heading and how many more it does not list."""
    from verifier.sampling import late_checks

    monkeypatch.setattr(late_checks, "LIST_MAX", 1)
    reviewer, sup = _people(users)
    day0 = ctx.clock.today()
    make_case(ctx, stage="checked")
    first = frozen_round(client, reviewer, sup, day0 - timedelta(days=30), day0)
    ctx.clock.advance(hours=2)
    late = {make_case(ctx, stage="checked") for _ in range(3)}  # checked within the period, after the freeze
    body = _get(client, reviewer, first)
    assert len(body["missed"]) == 1 and body["missed_total"] == 3 and body["missed"][0]["case_id"] in late
    page = client.get(f"/sampling/{first}", headers=reviewer).text
    assert "不在本轮总体中，3 户" in page and 'id="missed-more"' in page and "另有 2 户未列出" in page
