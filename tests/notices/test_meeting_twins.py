"""One meeting per village, day and set of households, held by the database: the same meeting sent twice at once
(two tabs, two workers, each its own `Database`) both pass the application's look for it before either commits; the
unique index refuses the second meeting, which then opens the first's, leaving none of its reviews behind."""

from __future__ import annotations

from factories import make_case, staff
from race_kit import race_twice
from sqlalchemy import func, select

from village_kit import attendance

from verifier.audit.models import AuditEntry
from verifier.notices import meetings
from verifier.notices.models import VillageMeeting, VillageMeetingReview, VillageReview


def _request(ctx, ids):  # type: ignore[no-untyped-def]
    return meetings.MeetingRequest(
        county_code="340223", town="城关镇", village="东村", held_on=ctx.clock.today(), venue="东村村委会会议室",
        minutes="逐户评议，举手表决。", **attendance(ctx),
        entries=[meetings.MeetingEntry(i, "pass") for i in ids])


def _kept(ctx) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(t)) for t in (
            VillageMeeting, VillageMeetingReview, VillageReview)) + (session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "village_meeting.record")),)


def test_the_same_meeting_sent_twice_at_once_is_kept_once(ctx, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村") for _ in range(2)]
    clerk = staff(ctx).clerk
    answers = race_twice(monkeypatch, meetings, "recorded_before", ctx.db.url,
                         lambda db: meetings.record_or_open(db, _request(ctx, ids), principal=clerk, clock=ctx.clock))
    assert len({meeting_id for meeting_id, _ in answers}) == 1
    assert sorted(already for _, already in answers) == [False, True]
    assert _kept(ctx) == (1, 2, 2, 1)


def test_another_set_of_households_on_the_same_day_is_another_meeting(ctx) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, village="东村") for _ in range(3)]
    clerk = staff(ctx).clerk
    first, already = meetings.record_or_open(ctx.db, _request(ctx, ids[:2]), principal=clerk, clock=ctx.clock)
    assert not already
    assert meetings.record_or_open(ctx.db, _request(ctx, ids[1::-1]), principal=clerk, clock=ctx.clock) == (
        first, True)  # the same households in another order: the same meeting
    second, already = meetings.record_or_open(ctx.db, _request(ctx, ids[2:]), principal=clerk, clock=ctx.clock)
    assert second != first and not already
    with ctx.db.read() as session:
        keys = dict(session.execute(select(VillageMeeting.id, VillageMeeting.households_key)).tuples().all())
    assert keys == {first: meetings.households_key(ids[:2]), second: meetings.households_key(ids[2:])}
