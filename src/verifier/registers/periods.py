"""Days of the scheme's calendar (Asia/Shanghai) as UTC bounds for comparing stored times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ..clock import SCHEME_TZ


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in Asia/Shanghai."""
    return (datetime.combine(start, time(), SCHEME_TZ), datetime.combine(end + timedelta(days=1), time(), SCHEME_TZ))
