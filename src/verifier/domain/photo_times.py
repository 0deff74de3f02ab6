"""When the photos of a home check were taken, against the visit day the officers typed.

A field officer may date a visit back by up to `late_entry.LATE_ENTRY_DAYS` days without a word, or give any reason
for a later entry: a reason is read, not proven. The photos uploaded with the check usually carry their camera's
capture time (EXIF DateTimeOriginal, with OffsetTimeOriginal when the camera wrote it). Compared with the visit day
(Asia/Shanghai) and the moment the check was recorded, they give the supervisor three signals before confirming:

- `other_day`: a photo taken on a day other than the visit day (which day, how many days apart);
- `after_recording`: a photo taken after the check was recorded (a photo cannot be uploaded before it is taken);
- `no_capture_time`: photos, but none of them carries a capture time (stripped, or a screenshot).

A warning, never a refusal: a phone's clock can be wrong, and a camera's time without an offset is only assumed
to be China Standard Time.

Pure functions only (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .scheme_calendar import SCHEME_TZ

OTHER_DAY = "other_day"
AFTER_RECORDING = "after_recording"
NO_CAPTURE_TIME = "no_capture_time"
KINDS = (OTHER_DAY, AFTER_RECORDING, NO_CAPTURE_TIME)

CAVEAT = "拍摄时间取自照片里相机写入的拍摄信息，手机或相机的时钟可能不准，未标时区的按北京时间计：仅供核实参考，不影响确认。"

_EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def parse_exif_time(text: str | None, offset: str | None = None) -> datetime | None:
    """An EXIF "YYYY:MM:DD HH:MM:SS" (and an "+08:00" offset, when given) as a datetime: aware with a valid offset,
    naive without one; None for anything else (blank, "0000:00:00 00:00:00", out of range)."""
    m = _EXIF_TIME.match((text or "").strip(" \x00"))
    if m is None:
        return None
    try:
        moment = datetime(*(int(g) for g in m.groups()))
    except ValueError:
        return None
    o = _EXIF_OFFSET.match((offset or "").strip(" \x00"))
    if o is not None:
        hours, minutes = int(o.group(2)), int(o.group(3))
        if hours <= 14 and minutes < 60:
            delta = timedelta(hours=hours, minutes=minutes)
            moment = moment.replace(tzinfo=timezone(-delta if o.group(1) == "-" else delta))
    return moment


def as_scheme_time(taken_at: datetime) -> datetime:
    """A capture time in Asia/Shanghai: one without an offset is taken to be Asia/Shanghai already."""
    if taken_at.tzinfo is None:
        return taken_at.replace(tzinfo=SCHEME_TZ)
    return taken_at.astimezone(SCHEME_TZ)


def taken_on(captured: str | None) -> date | None:
    """The day (Asia/Shanghai) a photo was taken, from the capture time stored with its file (ISO text); None when
    unknown or unreadable. One reading for a re-check's photos and a notice's photos on the wall."""
    if not captured:
        return None
    try:
        return as_scheme_time(datetime.fromisoformat(captured)).date()
    except ValueError:
        return None


# A photo of a notice on the wall counts for its posting's confirmation only when the camera's day falls in the
# notice period, the photo reached the server no earlier than that day (a camera day after the upload is a clock set
# forward or an edited time), and no later than `WALL_UPLOAD_GRACE_DAYS` days after the period's last day (a village
# without signal uploads a little late; a phone's clock set back to photograph the wall weeks after the period does
# not count). The upload time is the server's: not the phone's to choose.
WALL_UPLOAD_GRACE_DAYS = 3
IN_PERIOD = "in_period"
NO_TIME = "no_time"
OUTSIDE_PERIOD = "outside_period"
AFTER_UPLOAD = "after_upload"
UPLOADED_LATE = "uploaded_late"
WALL_PHOTO_STANDINGS = (IN_PERIOD, NO_TIME, OUTSIDE_PERIOD, AFTER_UPLOAD, UPLOADED_LATE)


def received_on(uploaded_at: datetime) -> date:
    """The day (Asia/Shanghai) the server received a file, from its upload time (the server's clock; naive: UTC)."""
    return (uploaded_at if uploaded_at.tzinfo else uploaded_at.replace(tzinfo=timezone.utc)).astimezone(SCHEME_TZ).date()


def wall_photo_standing(first_day: date, last_day: date, captured: str | None, uploaded_at: datetime) -> str:
    """Whether a photo of a notice on the wall shows it in its period (`IN_PERIOD`), else why not: `NO_TIME` (the
    file carries no capture time), `OUTSIDE_PERIOD` (taken before the first or after the last day of the period),
    `AFTER_UPLOAD` (the camera's day is later than the day the server received it) or `UPLOADED_LATE` (received more
    than `WALL_UPLOAD_GRACE_DAYS` days after the period's last day). Days are Asia/Shanghai's; `uploaded_at` is the
    server's time (naive: UTC)."""
    day = taken_on(captured)
    if day is None:
        return NO_TIME
    if not first_day <= day <= last_day:
        return OUTSIDE_PERIOD
    received = received_on(uploaded_at)
    if day > received:
        return AFTER_UPLOAD
    if received > last_day + timedelta(days=WALL_UPLOAD_GRACE_DAYS):
        return UPLOADED_LATE
    return IN_PERIOD

@dataclass(frozen=True)
class Photo:
    """A photo of the check: its hash, its capture time as the camera wrote it (None: the file carries none), and its
    place among the check's photos (1 for the first, as the case page numbers them; 0 when unknown)."""

    sha256: str
    taken_at: datetime | None
    number: int = 0


@dataclass(frozen=True)
class PhotoFinding:
    kind: str  # one of KINDS
    sha256: str | None = None  # the photo (None for `no_capture_time`, which is about all of them)
    taken_at: datetime | None = None  # in Asia/Shanghai
    taken_on: date | None = None
    days_apart: int | None = None  # taken_on - visited_on, in days: positive after the visit day, negative before
    photos: int = 0  # for `no_capture_time`: how many photos carry none
    number: int = 0  # the photo's place among the check's photos (`Photo.number`)

    def in_chinese(self, visited_on: date, recorded_at: datetime) -> str:
        which = f"第 {self.number} 张照片" if self.number else "一张照片"
        if self.kind == OTHER_DAY and self.taken_at is not None and self.days_apart is not None:
            side = "晚" if self.days_apart > 0 else "早"
            return (f"{which}的拍摄时间是 {self.taken_at:%Y-%m-%d %H:%M}，不在核查日期 {visited_on.isoformat()} 当天："
                    f"比核查日期{side} {abs(self.days_apart)} 天")
        if self.kind == AFTER_RECORDING and self.taken_at is not None:
            return (f"{which}的拍摄时间 {self.taken_at:%Y-%m-%d %H:%M} 晚于本次核查的录入时间 "
                    f"{as_scheme_time(recorded_at):%Y-%m-%d %H:%M}：照片应在录入之前拍摄")
        return (f"本次核查的 {self.photos} 张照片都没有拍摄时间（EXIF 信息被删除，或是截图），"
                "无法用照片核对核查日期")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "sha256": self.sha256,
                "taken_at": None if self.taken_at is None else self.taken_at.isoformat(),
                "taken_on": None if self.taken_on is None else self.taken_on.isoformat(),
                "days_apart": self.days_apart, "photos": self.photos, "number": self.number}


def photos_among(evidence: Sequence[tuple[str, str, str | None]], hashes: Sequence[str]) -> list[Photo]:
    """The photos among a check's evidence `hashes`, from the case's (sha256, content_type, captured_at) rows as
    stored (`Evidence.captured_at`), in the check's order and numbered among its images as the case page numbers
    them: PDF scans and photos uploaded before capture times were read (captured_at NULL) are left out."""
    by_hash = {sha: (kind, captured) for sha, kind, captured in evidence}
    out, number = [], 0
    for h in dict.fromkeys(hashes):
        kind, captured = by_hash.get(h, ("", None))
        if not kind.startswith("image/"):
            continue
        number += 1
        if captured is not None:
            try:
                taken = datetime.fromisoformat(captured) if captured else None
            except ValueError:
                taken = None
            out.append(Photo(h, taken, number))
    return out


def findings(visited_on: date, recorded_at: datetime, photos: Sequence[Photo]) -> list[PhotoFinding]:
    """What the photos' capture times say against the visit day and the recording time (`recorded_at`, aware).

    Each photo taken on another calendar day (Asia/Shanghai) than `visited_on` is one `other_day` finding; each
    taken after `recorded_at`, one `after_recording` finding; and when there are photos but none carries a capture
    time, one `no_capture_time` finding. No photos, no findings."""
    out: list[PhotoFinding] = []
    for p in photos:
        if p.taken_at is None:
            continue
        local = as_scheme_time(p.taken_at)
        day = local.date()
        if day != visited_on:
            out.append(PhotoFinding(OTHER_DAY, p.sha256, local, day, (day - visited_on).days, number=p.number))
        if local > recorded_at:
            out.append(PhotoFinding(AFTER_RECORDING, p.sha256, local, day, (day - visited_on).days, number=p.number))
    if photos and all(p.taken_at is None for p in photos):
        out.append(PhotoFinding(NO_CAPTURE_TIME, photos=len(photos)))
    return out
