"""A village review meeting: one sitting for every household of a village awaiting review, all or nothing, each
case's review recorded through the review service (so each lands in the audit log), the meeting kept and shown."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from factories import make_case, staff
from village_kit import attendance
from sqlalchemy import func, select

from verifier.store.reader import session_reader
from verifier.audit.models import AuditEntry
from verifier.cases.workflow import load_case
from verifier.domain.errors import Forbidden, NotFound, ValidationFailed
from verifier.notices import meetings
from verifier.notices.models import VillageMeeting, VillageMeetingReview, VillageReview
from verifier.notices.service import review_summary_for_case


def _request(ctx, entries, **kw):  # type: ignore[no-untyped-def]
    fields = {"county_code": "340223", "town": "城关镇", "village": "东村", "held_on": ctx.clock.today(),
              "venue": "东村村委会会议室", "minutes": "逐户评议，举手表决。",
              **attendance(ctx, "村支书 李明\n村民代表 王芳、赵刚\n村主任 钱进\n村民代表 孙立\n村民代表 周敏")}
    fields.update(kw)
    return meetings.MeetingRequest(**fields, entries=entries)


def _counts(ctx) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(t))
                     for t in (VillageMeeting, VillageMeetingReview, VillageReview, AuditEntry))


def _statuses(ctx, ids) -> list[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return [load_case(session, i, None).status for i in ids]


def test_one_meeting_reviews_every_household_each_through_the_review_service(ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村") for _ in range(3)]
    elsewhere = make_case(ctx, village="西村")
    clerk = staff(ctx).clerk
    with ctx.db.read() as session:
        assert [c.case_id for c in meetings.households_awaiting(session, clerk, "340223", "城关镇", "东村")] == ids
        assert ("340223", "城关镇", "东村", 3) in meetings.villages_awaiting(session, clerk)
    entries = [meetings.MeetingEntry(ids[0], "pass"), meetings.MeetingEntry(ids[1], "fail", "家中新购轿车"),
               meetings.MeetingEntry(ids[2], "pass", "")]
    with ctx.db.begin() as session:
        meeting = meetings.record_meeting(session, _request(ctx, entries), principal=clerk, clock=ctx.clock)
    # The failed household waits for a second person (tests/insider/test_village_fail_alone.py); the others go on.
    assert _statuses(ctx, ids + [elsewhere]) == ["reviewed", "determined", "reviewed", "determined"]
    with ctx.db.read() as session:
        kept = session.get(VillageMeeting, meeting.id)
        assert (kept.households, kept.venue) == (3, "东村村委会会议室")
        for case_id in ids:
            summary = review_summary_for_case(session_reader(session), case_id)
            assert summary["meeting"]["id"] == meeting.id and "王芳" in summary["meeting"]["attendees"]
        logged = list(session.scalars(select(AuditEntry).where(AuditEntry.action.in_(
            ["case.review_pass", "case.review_fail_propose", "village_meeting.record"])).order_by(AuditEntry.idx)))
    assert [e.action for e in logged] == ["case.review_pass", "case.review_fail_propose", "case.review_pass",
                                          "village_meeting.record"]
    payloads = [json.loads(e.entry)["payload"] for e in logged]
    assert all(p["meeting_id"] == meeting.id for p in payloads[:3])
    assert {e.subject for e in logged[:3]} == set(ids)
    assert "王芳" not in logged[3].entry.decode("utf-8")  # names stay out of the log: only their hash
    assert payloads[3]["households"] == 3 and payloads[3]["passed"] == 2 and logged[3].county_code == "340223"


def test_a_bad_row_refuses_the_whole_meeting_listing_every_problem(ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村") for _ in range(2)]
    elsewhere = make_case(ctx, village="西村")
    clerk = staff(ctx).clerk
    before = _counts(ctx)
    entries = [meetings.MeetingEntry(ids[0], "pass"), meetings.MeetingEntry(ids[1], "fail", " "),
               meetings.MeetingEntry(elsewhere, "pass")]
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, entries, minutes=""), principal=clerk, clock=ctx.clock)
    found = {(e.field, e.row) for e in info.value.errors}
    assert found == {("minutes", None), ("note_2", 2), ("result_3", 3)}
    assert "不同意，须写明理由" in next(e.message for e in info.value.errors if e.row == 2)
    assert _counts(ctx) == before
    assert _statuses(ctx, ids + [elsewhere]) == ["determined"] * 3


def test_a_row_refused_by_the_review_service_undoes_the_rows_already_written(ctx) -> None:  # type: ignore[no-untyped-def]
    first = make_case(ctx, village="东村")
    meeting_day = ctx.clock.today()
    ctx.clock.advance(days=1)
    later = make_case(ctx, village="东村")  # checked the day after the meeting
    clerk = staff(ctx).clerk
    before = _counts(ctx)
    entries = [meetings.MeetingEntry(first, "pass"), meetings.MeetingEntry(later, "pass")]
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, entries, held_on=meeting_day), principal=clerk,
                                clock=ctx.clock)
    assert [(e.field, e.row) for e in info.value.errors] == [("held_on", 2), ("result_2", 2)]
    assert "不能早于入户核查日期" in info.value.errors[0].message and "户不能按这个评议日期评议" in \
        info.value.errors[1].message
    assert _counts(ctx) == before and _statuses(ctx, [first, later]) == ["determined", "determined"]


def test_a_clerk_of_another_county_and_other_roles_are_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村")]
    other, supervisor = staff(ctx, county="340224"), staff(ctx).supervisor
    before = _counts(ctx)
    with pytest.raises(NotFound), ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, [meetings.MeetingEntry(ids[0], "pass")]),
                                principal=other.clerk, clock=ctx.clock)
    with pytest.raises(NotFound), ctx.db.read() as session:
        meetings.households_awaiting(session, other.clerk, "340223", "城关镇", "东村")
    with ctx.db.read() as session:
        assert meetings.villages_awaiting(session, other.clerk) == []
    # A clerk of their own county naming this county's case under their county: not a household of their village.
    with pytest.raises(ValidationFailed), ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, [meetings.MeetingEntry(ids[0], "pass")],
                                                  county_code="340224"), principal=other.clerk, clock=ctx.clock)
    with pytest.raises(Forbidden), ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, [meetings.MeetingEntry(ids[0], "pass")]),
                                principal=supervisor, clock=ctx.clock)
    assert _counts(ctx) == before and _statuses(ctx, ids) == ["determined"]


def test_a_meeting_in_the_future_or_without_households_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村")]
    clerk = staff(ctx).clerk
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, [meetings.MeetingEntry(ids[0], "pass")],
                                                  held_on=ctx.clock.today() + timedelta(days=1)),
                                principal=clerk, clock=ctx.clock)
    assert [e.field for e in info.value.errors] == ["held_on"]
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:
        meetings.record_meeting(session, _request(ctx, []), principal=clerk, clock=ctx.clock)
    assert [e.field for e in info.value.errors] == ["entries"]
