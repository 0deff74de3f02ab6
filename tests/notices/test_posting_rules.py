"""Service rules of a notice's posting and a meeting's minutes (notices/posting.py): who may confirm, which photos
count, which files are refused, and that a meeting without its quorum or scan keeps nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from factories import make_case, staff
from recheck_kit import dated_photo
from sqlalchemy import func, select
from village_kit import attendance, minutes_scan, sealed, wall_photo

from verifier.accounts.auth import Principal
from verifier.audit.models import AuditEntry
from verifier.domain.errors import Forbidden, InvalidState, ValidationFailed
from verifier.notices import meetings, posting
from verifier.notices import service as notices
from verifier.notices.models import VillageFile, VillageMeeting


def _person(user_id: str, role: str) -> Principal:
    return Principal(id=user_id, username=user_id, display_name=user_id, roles=(role,), counties=("340223",))


def _meeting(ctx, village: str, clerk, **kw):  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village=village)]
    fields = {"county_code": "340223", "town": "城关镇", "village": village, "held_on": ctx.clock.today(),
              "venue": "村委会", "minutes": "逐户评议。", **attendance(ctx), **kw}
    with ctx.db.begin() as session:
        meeting = meetings.record_meeting(session, meetings.MeetingRequest(
            **fields, entries=[meetings.MeetingEntry(i, "pass") for i in ids]), principal=clerk, clock=ctx.clock)
        return meeting.id, ids


def _post(ctx, village: str, clerk) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.begin() as session:
        return notices.post_notice(session, notices.NoticeRequest(county_code="340223", town="城关镇", village=village,
                                                                  posted_on=ctx.clock.today()),
                                   principal=clerk, clock=ctx.clock).id


def test_a_meeting_keeps_its_attendance_and_its_minutes_sealed(ctx) -> None:  # type: ignore[no-untyped-def]
    clerk = staff(ctx).clerk
    meeting_id, _ = _meeting(ctx, "东村", clerk)
    with ctx.db.read() as session:
        m = session.get(VillageMeeting, meeting_id)
        assert (m.members_expected, m.attendance) == (7, 5)
        scan = meetings.minutes_of(session, m)
        assert scan is not None and scan.kind == "minutes" and scan.content_type == "application/pdf"
        assert scan.sha256 == m.minutes_scan_sha256 and scan.uploaded_by == clerk.id


def test_a_meeting_without_quorum_or_scan_keeps_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    clerk = staff(ctx).clerk
    with pytest.raises(ValidationFailed) as info:
        _meeting(ctx, "东村", clerk, attendees="李明\n王芳", minutes_scan=None)
    assert {e.field for e in info.value.errors} == {"attendees", "minutes_scan"}
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(VillageMeeting)) == 0
        assert session.scalar(select(func.count()).select_from(VillageFile)) == 0


def test_one_scan_serves_one_meeting(ctx) -> None:  # type: ignore[no-untyped-def]
    clerk = staff(ctx).clerk
    scan = sealed(ctx, minutes_scan())
    _meeting(ctx, "东村", clerk, minutes_scan=scan)
    with pytest.raises(ValidationFailed, match="已用于另一次评议"):
        _meeting(ctx, "西村", clerk, minutes_scan=scan)


def test_who_may_confirm_a_notices_posting(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    meeting_clerk = _person("clerk-meeting", "town_clerk")
    _meeting(ctx, "东村", meeting_clerk)
    notice_id = _post(ctx, "东村", s.clerk)
    today = ctx.clock.today()
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, notice_id, sealed(ctx, wall_photo(today)), principal=s.clerk,
                                  clock=ctx.clock)
    for who, error in ((s.clerk, Forbidden), (meeting_clerk, Forbidden), (_person("aud", "auditor"), Forbidden)):
        with pytest.raises(error), ctx.db.begin() as session:
            posting.confirm_posting(session, notice_id, note="", principal=who, clock=ctx.clock)
    reviewer = _person("county-rev", "county_reviewer")
    with ctx.db.begin() as session:
        posting.confirm_posting(session, notice_id, note="", principal=reviewer, clock=ctx.clock)
    with pytest.raises(InvalidState), ctx.db.begin() as session:
        posting.confirm_posting(session, notice_id, note="", principal=_person("clerk-3", "town_clerk"),
                                clock=ctx.clock)
    with pytest.raises(InvalidState), ctx.db.begin() as session:  # no photo once confirmed
        posting.upload_wall_photo(session, notice_id, sealed(ctx, wall_photo(today)), principal=reviewer,
                                  clock=ctx.clock)


def test_only_a_photo_of_the_period_counts_and_a_photo_proves_one_wall(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    _meeting(ctx, "东村", s.clerk)
    _meeting(ctx, "西村", s.clerk)
    first, second = _post(ctx, "东村", s.clerk), _post(ctx, "西村", s.clerk)
    officer = _person("field-other", "field_officer")  # an officer who checked none of these households
    today = ctx.clock.today()
    late = sealed(ctx, wall_photo(today + timedelta(days=8)))  # after the period's last day (notice_days = 7)
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, first, late, principal=officer, clock=ctx.clock)
        posting.upload_wall_photo(session, first, sealed(ctx, dated_photo(None)), principal=officer, clock=ctx.clock)
    with pytest.raises(ValidationFailed, match="已上传 2 张"), ctx.db.begin() as session:
        posting.confirm_posting(session, first, note="", principal=officer, clock=ctx.clock)
    with pytest.raises(ValidationFailed, match="另一份公示"), ctx.db.begin() as session:
        posting.upload_wall_photo(session, second, late, principal=officer, clock=ctx.clock)
    last_day = sealed(ctx, wall_photo(today + timedelta(days=6)))
    ctx.clock.advance(days=6)  # the period's last day: taken and sent that day
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, first, last_day, principal=officer, clock=ctx.clock)
        notice = posting.confirm_posting(session, first, note="", principal=officer, clock=ctx.clock)
        assert notice.posting_confirmed_by == officer.id
        state = posting.posting_state(session, notice)
        assert [p["in_period"] for p in state["photos"]] == [False, False, True]
        assert [p["standing"] for p in state["photos"]] == ["outside_period", "no_time", "in_period"]


def test_a_photo_dated_by_a_clock_set_forward_or_sent_weeks_later_does_not_count(ctx) -> None:  # type: ignore[no-untyped-def]
    """The camera's day must fall in the period, and the server (not the phone) must have received the photo no
    earlier than that day and no later than three days after the period: a phone's clock set forward to a day of the
    period, or set back to photograph the wall long after the period, makes no photo of the period."""
    s = staff(ctx)
    _meeting(ctx, "东村", s.clerk)
    notice_id = _post(ctx, "东村", s.clerk)
    officer = _person("field-other", "field_officer")
    today = ctx.clock.today()
    forward = sealed(ctx, wall_photo(today + timedelta(days=2)))  # sent today with a camera day two days ahead
    with ctx.db.begin() as session:
        row = posting.upload_wall_photo(session, notice_id, forward, principal=officer, clock=ctx.clock)
        notice = notices.load_notice(session, notice_id, officer)
        assert posting.standing(notice, row.captured_at, row.uploaded_at) == "after_upload"
    with pytest.raises(ValidationFailed, match="已上传 1 张"), ctx.db.begin() as session:
        posting.confirm_posting(session, notice_id, note="", principal=officer, clock=ctx.clock)
    ctx.clock.advance(days=6 + 4)  # four days after the period's last day
    back = sealed(ctx, wall_photo(today + timedelta(days=3)))  # a camera day inside the period
    with ctx.db.begin() as session:
        row = posting.upload_wall_photo(session, notice_id, back, principal=officer, clock=ctx.clock)
        notice = notices.load_notice(session, notice_id, officer)
        assert posting.standing(notice, row.captured_at, row.uploaded_at) == "uploaded_late"
    with pytest.raises(ValidationFailed, match="已上传 2 张"), ctx.db.begin() as session:
        posting.confirm_posting(session, notice_id, note="", principal=officer, clock=ctx.clock)
    with ctx.db.read() as session:  # audited as it was received, with why it does not count
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.wall_photo")).all()
        payloads = sorted((json.loads(e.entry)["payload"] for e in entries), key=lambda p: p["standing"])
        assert [(p["in_period"], p["standing"]) for p in payloads] == [(False, "after_upload"),
                                                                        (False, "uploaded_late")]


def test_a_photo_sent_within_three_days_of_the_period_counts(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    _meeting(ctx, "东村", s.clerk)
    notice_id = _post(ctx, "东村", s.clerk)
    officer = _person("field-other", "field_officer")
    today = ctx.clock.today()
    ctx.clock.advance(days=6 + 3)  # a village without signal: sent on the third day after the period
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, notice_id, sealed(ctx, wall_photo(today + timedelta(days=1))),
                                  principal=officer, clock=ctx.clock)
        notice = posting.confirm_posting(session, notice_id, note="", principal=officer, clock=ctx.clock)
        assert notice.posting_confirmed_by == officer.id


def test_a_notice_nobody_photographed_in_its_period_is_confirmed_by_the_county_reviewer_on_a_note(
        ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    _meeting(ctx, "东村", s.clerk)
    notice_id = _post(ctx, "东村", s.clerk)
    ctx.clock.advance(days=20)  # the period is over; nobody took a photo of the wall in it
    late = sealed(ctx, wall_photo(ctx.clock.today()))
    officer, other_clerk = _person("field-other", "field_officer"), _person("clerk-2", "town_clerk")
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, notice_id, late, principal=officer, clock=ctx.clock)
    reviewer = _person("county-rev", "county_reviewer")
    for who in (officer, other_clerk, reviewer):  # a photo of the period, or the county reviewer saying so
        with pytest.raises(ValidationFailed, match="县级复核员") as info, ctx.db.begin() as session:
            posting.confirm_posting(session, notice_id, note="村委会说明已张贴", principal=who, clock=ctx.clock)
        assert info.value.errors[0].field == "photos"
    for who in (officer, other_clerk):
        with pytest.raises(Forbidden, match="县级复核员"), ctx.db.begin() as session:
            posting.confirm_posting(session, notice_id, note="村委会说明已张贴", principal=who, clock=ctx.clock,
                                    without_dated_photo=True)
    with pytest.raises(ValidationFailed) as info, ctx.db.begin() as session:  # not without saying how
        posting.confirm_posting(session, notice_id, note="  ", principal=reviewer, clock=ctx.clock,
                                without_dated_photo=True)
    assert info.value.errors[0].field == "note"
    with pytest.raises(Forbidden), ctx.db.begin() as session:  # never the poster, even a county reviewer
        posting.confirm_posting(session, notice_id, note="看到了", principal=_person(s.clerk.id, "county_reviewer"),
                                clock=ctx.clock, without_dated_photo=True)
    with ctx.db.begin() as session:
        notice = posting.confirm_posting(session, notice_id, note="村委会出具书面说明；今日到村看到公示仍在公开栏",
                                         principal=reviewer, clock=ctx.clock, without_dated_photo=True)
        state = posting.posting_state(session, notice)
        assert notice.posting_confirmed_by == reviewer.id and state["without_dated_photo"] is True
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.posting_confirm")).one()
        assert json.loads(entry.entry)["payload"]["without_dated_photo"] is True


def test_a_confirmation_on_a_photo_of_the_period_is_not_marked_undated(ctx) -> None:  # type: ignore[no-untyped-def]
    s = staff(ctx)
    _meeting(ctx, "东村", s.clerk)
    notice_id = _post(ctx, "东村", s.clerk)
    reviewer = _person("county-rev", "county_reviewer")
    with ctx.db.begin() as session:
        posting.upload_wall_photo(session, notice_id, sealed(ctx, wall_photo(ctx.clock.today())), principal=reviewer,
                                  clock=ctx.clock)
        notice = posting.confirm_posting(session, notice_id, note="", principal=reviewer, clock=ctx.clock)
        assert posting.posting_state(session, notice)["without_dated_photo"] is False
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "notice.posting_confirm")).one()
        assert "without_dated_photo" not in json.loads(entry.entry)["payload"]
