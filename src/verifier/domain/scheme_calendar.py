"""The scheme's calendar: its days are Asia/Shanghai's (a visit day, a notice's period, a report's month).

Defined once here, where the pure rules can read it; `clock.SCHEME_TZ` is this."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHEME_TZ = ZoneInfo("Asia/Shanghai")


def day_start(day: date) -> datetime:
    """The instant the scheme's day begins (00:00 Asia/Shanghai)."""
    return datetime.combine(day, time.min, SCHEME_TZ)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The days from `first` to `last`, both included, as [first 00:00, the day after `last` 00:00) in the scheme's
    time zone: for comparing stored moments with days."""
    return day_start(first), day_start(last + timedelta(days=1))
