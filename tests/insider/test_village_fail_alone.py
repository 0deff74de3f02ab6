"""A household the insurer found eligible is reviewed by its village; a town clerk alone could record 未通过 and so
close the case for good, with nobody else seeing it. The clerk's 未通过 is a proposal: the review kept with who,
when and why, the case still awaiting its review, until another clerk of the county or the county reviewer confirms
it (the case closes as before) or overturns it (通过: on to the notice); its proposer never confirms it. A passed
review goes on at once, and at a village meeting the passed households go on while the failed ones wait."""

from __future__ import annotations

import json

import pytest
from factories import COUNTY, make_case, staff
from village_kit import attendance
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.domain.errors import ValidationFailed
from verifier.notices import meetings
from verifier.store.tables import Case

DAY = "2020-06-01"  # the `clock` fixture's day: factories check cases on it


def _staff(users) -> None:  # type: ignore[no-untyped-def]
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("far-clerk", "town_clerk", counties=("340224",))


def _review(client, headers, case_id: str, result: str, note: str = ""):  # type: ignore[no-untyped-def]
    return client.post(f"/api/cases/{case_id}/village-review", headers=headers,
                       json={"held_on": DAY, "result": result, "note": note})


def _payload(entry: AuditEntry) -> dict:
    return json.loads(entry.entry)["payload"]  # type: ignore[no-any-return]


def _case(ctx, case_id: str) -> Case:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        case = session.get(Case, case_id)
        session.expunge(case)
        return case


def _last(ctx, case_id: str) -> AuditEntry:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == case_id)
                               .order_by(AuditEntry.idx.desc()).limit(1))
        session.expunge(entry)
        return entry


def test_attack_a_clerk_fails_an_eligible_household_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = make_case(ctx)  # determined eligible by the insurer
    clerk = users.headers("clerk")
    r = _review(client, clerk, case_id, "fail", "村民代表认为该户有稳定收入")
    # Only proposed: the case stays open, the review and its reason are shown to whoever reads the case.
    assert r.status_code == 201 and r.json()["case_status"] == "determined", r.text
    assert r.json()["awaiting_second_person"] is True and r.json()["closed_reason"] is None
    entry = _last(ctx, case_id)
    assert (entry.action, entry.actor) == ("case.review_fail_propose", users.ids["clerk"])
    assert "村民代表" not in str(_payload(entry))  # the note's hash only
    detail = client.get(f"/api/cases/{case_id}", headers=users.headers("reviewer")).json()
    assert detail["review_fail_proposal"]["proposed_by"] == users.ids["clerk"]
    assert detail["village_review"]["note"] == "村民代表认为该户有稳定收入"
    # The same clerk confirming their own 未通过: refused, nothing written.
    r = _review(client, clerk, case_id, "fail", "再次确认")
    assert r.status_code == 403 and "四眼原则" in r.json()["detail"], r.text
    case = _case(ctx, case_id)
    assert (case.status, case.closed_reason, case.review_fail_proposed_by) == ("determined", None, users.ids["clerk"])
    assert _last(ctx, case_id).action == "case.review_fail_propose"
    # A clerk of another county does not even see the case.
    assert _review(client, users.headers("far-clerk"), case_id, "fail", "x").status_code == 404
    # Another clerk of the county confirms it: now it is closed with the village's reason, the entry naming the
    # proposer.
    r = _review(client, users.headers("clerk2"), case_id, "fail")
    assert r.status_code == 201 and r.json()["case_status"] == "review_failed", r.text
    assert "有稳定收入" in r.json()["closed_reason"] and r.json()["awaiting_second_person"] is False
    entry = _last(ctx, case_id)
    assert (entry.action, entry.actor) == ("case.review_fail", users.ids["clerk2"])
    assert _payload(entry)["proposal"]["proposed_by"] == users.ids["clerk"]
    assert _payload(entry)["proposal"]["outcome"] == "confirmed"
    assert _case(ctx, case_id).review_fail_proposed_by is None


def test_the_county_reviewer_confirms_a_proposed_fail(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = make_case(ctx)
    _review(client, users.headers("clerk"), case_id, "fail", "家中新购轿车")
    r = _review(client, users.headers("reviewer"), case_id, "fail")
    assert r.status_code == 201 and r.json()["case_status"] == "review_failed", r.text
    entry = _last(ctx, case_id)
    assert (entry.action, entry.role) == ("case.review_fail", "county_reviewer")


def test_the_county_reviewer_overturns_a_proposed_fail(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = make_case(ctx)
    reviewer = users.headers("reviewer")
    # The reviewer records no village review of their own: only a proposal is theirs to decide.
    assert _review(client, reviewer, case_id, "pass").status_code == 403
    _review(client, users.headers("clerk"), case_id, "fail", "村民代表认为该户有稳定收入")
    # Overturning needs its reason.
    r = _review(client, reviewer, case_id, "pass")
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"note"}
    r = _review(client, reviewer, case_id, "pass", "核实：收入来自一次性补偿，并非稳定收入")
    assert r.status_code == 201 and r.json()["case_status"] == "reviewed", r.text
    assert r.json()["recorded_by"] == users.ids["reviewer"]
    case = _case(ctx, case_id)
    assert (case.status, case.review_fail_proposed_by, case.closed_reason) == ("reviewed", None, None)
    entry = _last(ctx, case_id)
    assert (entry.action, entry.role) == ("case.review_pass", "county_reviewer")
    assert _payload(entry)["proposal"]["outcome"] == "overturned"


def test_a_passed_review_goes_on_at_once(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    _staff(users)
    case_id = make_case(ctx)
    r = _review(client, users.headers("clerk"), case_id, "pass")
    assert r.status_code == 201 and r.json()["case_status"] == "reviewed", r.text


def test_a_meeting_fails_households_only_as_proposals(ctx, clock) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="南村"), make_case(ctx, village="南村")]
    clerk = staff(ctx).clerk
    request = meetings.MeetingRequest(
        county_code=COUNTY, town="城关镇", village="南村", held_on=clock.today(), venue="南村村委会",
        **attendance(ctx), minutes="逐户评议。",
        entries=[meetings.MeetingEntry(ids[0], "pass"), meetings.MeetingEntry(ids[1], "fail", "家中新购轿车")])
    with ctx.db.begin() as session:
        meetings.record_meeting(session, request, principal=clerk, clock=clock)
    assert [_case(ctx, i).status for i in ids] == ["reviewed", "determined"]
    assert _case(ctx, ids[1]).review_fail_proposed_by == clerk.id
    assert _last(ctx, ids[1]).action == "case.review_fail_propose"
    # The household waiting for its second person is not offered to the next meeting, nor taken into one.
    with ctx.db.read() as session:
        assert meetings.households_awaiting(session, clerk, COUNTY, "城关镇", "南村") == []
        assert ("340223", "城关镇", "南村", 1) not in meetings.villages_awaiting(session, clerk)
    again = meetings.MeetingRequest(
        county_code=COUNTY, town="城关镇", village="南村", held_on=clock.today(), venue="南村村委会",
        **attendance(ctx), minutes="再次评议。", entries=[meetings.MeetingEntry(ids[1], "fail", "再议")])
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        meetings.record_meeting(session, again, principal=clerk, clock=clock)
    assert "等待他人确认" in info.value.errors[0].message
