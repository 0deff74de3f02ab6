"""A check's photos' capture times against its visit day and recording time (domain/photo_times.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from verifier.domain import photo_times
from verifier.domain.photo_times import (AFTER_RECORDING, NO_CAPTURE_TIME, OTHER_DAY, WALL_UPLOAD_GRACE_DAYS, Photo,
                                         wall_photo_standing)

VISIT = date(2020, 6, 1)
RECORDED = datetime(2020, 6, 1, 14, 0, tzinfo=timezone.utc)  # 22:00 in Asia/Shanghai
UTC8 = timezone(timedelta(hours=8))


def kinds(*taken: datetime | None, visited_on: date = VISIT) -> list[tuple[str, int | None]]:
    photos = [Photo(f"{i:064x}", t) for i, t in enumerate(taken)]
    return [(f.kind, f.days_apart) for f in photo_times.findings(visited_on, RECORDED, photos)]


def test_a_capture_time_without_an_offset_is_taken_as_asia_shanghai() -> None:
    assert kinds(datetime(2020, 6, 1, 0, 0)) == []  # the first minute of the visit day
    assert kinds(datetime(2020, 6, 1, 21, 59, 59)) == []
    assert kinds(datetime(2020, 5, 31, 23, 59, 59)) == [(OTHER_DAY, -1)]  # a second before it
    # With an offset, the day is Shanghai's: 16:00 UTC on 31 May is 00:00 on 1 June in Shanghai, 15:59:59 is not.
    assert kinds(datetime(2020, 5, 31, 16, 0, tzinfo=timezone.utc)) == []
    assert kinds(datetime(2020, 5, 31, 15, 59, 59, tzinfo=timezone.utc)) == [(OTHER_DAY, -1)]
    # A camera on New York time (UTC-4) at 09:00 on 1 June: 21:00 in Shanghai, still the visit day.
    assert kinds(datetime(2020, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=-4)))) == []
    # The same wall-clock time without an offset would be 09:00 in Shanghai, the same day: no finding either.
    assert kinds(datetime(2020, 6, 1, 9, 0)) == []


def test_a_photo_of_another_day_says_which_day_and_how_many_days_apart() -> None:
    [f] = photo_times.findings(VISIT - timedelta(days=3), RECORDED, [Photo("a" * 64, datetime(2020, 6, 1, 8, 30), 1)])
    assert (f.kind, f.taken_on, f.days_apart) == (OTHER_DAY, VISIT, 3)
    text = f.in_chinese(VISIT - timedelta(days=3), RECORDED)
    assert text == "第 1 张照片的拍摄时间是 2020-06-01 08:30，不在核查日期 2020-05-29 当天：比核查日期晚 3 天"
    [f] = photo_times.findings(VISIT, RECORDED, [Photo("b" * 64, datetime(2020, 5, 20, 8, 30, tzinfo=UTC8))])
    assert f.in_chinese(VISIT, RECORDED).startswith("一张照片的拍摄时间是 2020-05-20 08:30")  # its place unknown
    assert (f.taken_on, f.days_apart) == (date(2020, 5, 20), -12) and "比核查日期早 12 天" in f.in_chinese(VISIT, RECORDED)


def test_a_photo_taken_after_the_check_was_recorded() -> None:
    assert kinds(RECORDED) == []  # at the moment of recording: not after it
    assert kinds(RECORDED.astimezone(UTC8).replace(tzinfo=None)) == []  # the same moment, no offset
    assert kinds(RECORDED + timedelta(seconds=1)) == [(AFTER_RECORDING, 0)]
    assert kinds(datetime(2020, 6, 1, 22, 0, 1)) == [(AFTER_RECORDING, 0)]
    # after recording and on the next day: both are said
    assert kinds(datetime(2020, 6, 2, 7, 0, tzinfo=UTC8)) == [(OTHER_DAY, 1), (AFTER_RECORDING, 1)]
    [f] = photo_times.findings(VISIT, RECORDED, [Photo("c" * 64, RECORDED + timedelta(hours=1), 2)])
    assert f.in_chinese(VISIT, RECORDED) == ("第 2 张照片的拍摄时间 2020-06-01 23:00 晚于本次核查的录入时间 "
                                            "2020-06-01 22:00：照片应在录入之前拍摄")


def test_no_capture_time_on_any_photo_is_one_finding_and_no_photos_none() -> None:
    assert kinds() == []
    assert kinds(None, None) == [(NO_CAPTURE_TIME, None)]
    [f] = photo_times.findings(VISIT, RECORDED, [Photo("d" * 64, None), Photo("e" * 64, None)])
    assert f.photos == 2 and "2 张照片都没有拍摄时间" in f.in_chinese(VISIT, RECORDED)
    assert kinds(None, datetime(2020, 6, 1, 9, 0)) == []  # one photo with a time is enough to compare
    assert f.as_dict() == {"kind": NO_CAPTURE_TIME, "sha256": None, "taken_at": None, "taken_on": None,
                           "days_apart": None, "photos": 2, "number": 0}


def test_exif_times_are_parsed_strictly() -> None:
    parse = photo_times.parse_exif_time
    assert parse("2020:06:01 08:30:00") == datetime(2020, 6, 1, 8, 30)
    assert parse("2020:06:01 08:30:00\x00", "+08:00\x00") == datetime(2020, 6, 1, 8, 30, tzinfo=UTC8)
    assert parse("2020:06:01 08:30:00", "-05:30").utcoffset() == -timedelta(hours=5, minutes=30)
    assert parse("2020:06:01 08:30:00", "garbage") == datetime(2020, 6, 1, 8, 30)  # a bad offset: none
    assert parse("2020:06:01 08:30:00", "+25:00").tzinfo is None
    for bad in (None, "", "    ", "0000:00:00 00:00:00", "2020:13:01 08:30:00", "2020-06-01", "2020:06:01 24:00:00",
                "2020:06:01 08:30:00 extra"):
        assert parse(bad) is None, bad


def test_photos_among_a_checks_evidence() -> None:
    rows = [("a" * 64, "image/jpeg", "2020-06-01T08:30:00+08:00"), ("b" * 64, "application/pdf", None),
            ("c" * 64, "image/png", ""), ("d" * 64, "image/jpeg", None), ("e" * 64, "image/jpeg", "not a time")]
    photos = photo_times.photos_among(rows, ["c" * 64, "a" * 64, "b" * 64, "d" * 64, "e" * 64, "a" * 64, "f" * 64])
    # numbered among the check's images (the PDF is not one; the photo read before capture times were is)
    assert photos == [Photo("c" * 64, None, 1), Photo("a" * 64, datetime(2020, 6, 1, 8, 30, tzinfo=UTC8), 2),
                      Photo("e" * 64, None, 4)]


def test_a_wall_photo_counts_when_taken_in_the_period_and_received_on_or_after_that_day_and_in_time() -> None:
    first, last = date(2026, 10, 20), date(2026, 10, 26)
    utc = timezone.utc

    def standing(captured: str | None, received: datetime) -> str:
        return wall_photo_standing(first, last, captured, received)

    assert standing("2026-10-21T10:00:00", datetime(2026, 10, 21, 3, tzinfo=utc)) == "in_period"
    assert standing(None, datetime(2026, 10, 21, 3, tzinfo=utc)) == "no_time"
    assert standing("", datetime(2026, 10, 21, 3, tzinfo=utc)) == "no_time"
    assert standing("2026-10-19T23:59:00", datetime(2026, 10, 21, 3, tzinfo=utc)) == "outside_period"
    assert standing("2026-10-27T00:01:00", datetime(2026, 10, 28, 3, tzinfo=utc)) == "outside_period"
    # a camera day after the server's day of receipt: a clock set forward, or a time edited
    assert standing("2026-10-22T10:00:00", datetime(2026, 10, 21, 3, tzinfo=utc)) == "after_upload"
    # the server's day is Asia/Shanghai's: 17:00 UTC on the 21st is the 22nd in the county
    assert standing("2026-10-22T08:00:00", datetime(2026, 10, 21, 17, tzinfo=utc)) == "in_period"
    assert standing("2026-10-22T08:00:00", datetime(2026, 10, 21, 15, 59, tzinfo=utc)) == "after_upload"
    # naive times from the database are UTC
    assert standing("2026-10-22T08:00:00", datetime(2026, 10, 21, 17)) == "in_period"
    # received up to three days after the last day, not later
    assert WALL_UPLOAD_GRACE_DAYS == 3
    assert standing("2026-10-26T18:00:00", datetime(2026, 10, 29, 15, tzinfo=utc)) == "in_period"  # 29th, 23:00
    assert standing("2026-10-26T18:00:00", datetime(2026, 10, 29, 16, tzinfo=utc)) == "uploaded_late"  # 30th
    # a camera offset is honoured: 2026-10-20 23:30 at UTC+0 is the 21st in the county
    assert standing("2026-10-20T23:30:00+00:00", datetime(2026, 10, 21, 0, 10, tzinfo=utc)) == "in_period"
