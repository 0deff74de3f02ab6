"""A home check entered long after its visit day: the officers say why (补录原因).

The visit day is what the officers type; the day of recording is the system's. A check recorded more than
`LATE_ENTRY_DAYS` calendar days (Asia/Shanghai) after its visit day is taken only with a reason for the late entry,
and the gap and the reason are shown to the supervisor who confirms the determination: a visit dated back to
understate its lateness (`days_late`) is then visible, and a real visit recorded late (no signal in a village) is
not refused.

Pure functions only (no I/O).
"""

from __future__ import annotations

from datetime import date, datetime

from .errors import FieldError
from .scheme_calendar import SCHEME_TZ

LATE_ENTRY_DAYS = 3  # a check recorded more than this many days after its visit day needs a reason
REASON_MIN_CHARS = 4  # "村里无信号", "手机没电了": a few characters at least, not a dot
REASON_MAX_CHARS = 1000
FIELD = "late_entry_reason"


def clean_reason(text: str | None) -> str:
    """The reason as stored: its runs of white space made one space, trimmed."""
    return " ".join((text or "").split())


def days_after(visited_on: date, recorded_on: date) -> int:
    """How many calendar days after its visit day a check was recorded (0: the same day)."""
    return max((recorded_on - visited_on).days, 0)


def recorded_on(recorded_at: datetime) -> date:
    """The scheme's calendar day (Asia/Shanghai) of a recording time."""
    return recorded_at.astimezone(SCHEME_TZ).date()


def needs_reason(days: int | None) -> bool:
    return days is not None and days > LATE_ENTRY_DAYS


def problems(visited_on: date, today: date, reason: str) -> list[FieldError]:
    """What is wrong with the reason given (already `clean_reason`ed) for a check of `visited_on` recorded today."""
    if len(reason) > REASON_MAX_CHARS:
        return [FieldError(FIELD, f"补录原因最多 {REASON_MAX_CHARS} 个字")]
    days = days_after(visited_on, today)
    if needs_reason(days) and len(reason.replace(" ", "")) < REASON_MIN_CHARS:  # spaces say nothing
        return [FieldError(FIELD, f"核查日期 {visited_on.isoformat()} 比今天（{today.isoformat()}）早 {days} 天，超过 "
                                  f"{LATE_ENTRY_DAYS} 天：须填写补录原因（至少 {REASON_MIN_CHARS} 个字），说明为何没有在"
                                  "核查当时录入")]
    return []
