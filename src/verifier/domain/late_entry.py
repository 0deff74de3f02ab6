"""A home check entered long after its visit day: the officers say why (补录原因).

The visit day is what the officers type; the day of recording is the system's. A check recorded more than
`LATE_ENTRY_DAYS` calendar days (Asia/Shanghai) after its visit day is taken only with a reason for the late entry
(so is one dated before its visit was scheduled, and, on a case already overdue, one dated back at all: `why_needed`),
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


def explained(reason: str) -> bool:
    """Whether a reason (already `clean_reason`ed) says enough for any late entry: `REASON_MIN_CHARS` at least, its
    spaces not counted (spaces say nothing). Such a reason is taken whatever `why_needed` would say."""
    return len(reason.replace(" ", "")) >= REASON_MIN_CHARS


def needs_reason(days: int | None) -> bool:
    return days is not None and days > LATE_ENTRY_DAYS


def why_needed(visited_on: date, today: date, *, scheduled_on: date | None = None,
               due_on: date | None = None, noun: str = "核查", sets_lateness: bool = True) -> str | None:
    """Why a check of `visited_on` recorded today needs a reason for its late entry (Chinese), or None. A visit day
    set back is explained whenever it matters: more than `LATE_ENTRY_DAYS` back; before the day the visit was
    scheduled (the officers were not sent yet: a visit scheduled after the fact); or, on a case already past its
    due date today, any day back, since each day set back takes a day off its lateness (`days_late`).

    `noun` names what was dated ("核查": a check's day; "走访": a visit without a check); `sets_lateness` says whether
    its day is the one the case's lateness is counted by (a visit without a check sets none, so it is not said)."""
    days = days_after(visited_on, today)
    if needs_reason(days):
        return f"{noun}日期 {visited_on.isoformat()} 比今天（{today.isoformat()}）早 {days} 天，超过 {LATE_ENTRY_DAYS} 天"
    if scheduled_on is not None and visited_on < scheduled_on:
        return f"{noun}日期 {visited_on.isoformat()} 早于本次走访的安排日期（{scheduled_on.isoformat()}）"
    if due_on is not None and today > due_on and visited_on < today:
        counted = f"，逾期天数按{noun}日期计算" if sets_lateness else ""
        return (f"本案应在 {due_on.isoformat()} 前核查，今天录入已逾期；{noun}日期 {visited_on.isoformat()} 比今天早 "
                f"{days} 天{counted}")
    return None


def problems(visited_on: date, today: date, reason: str, *, scheduled_on: date | None = None,
             due_on: date | None = None, noun: str = "核查", sets_lateness: bool = True) -> list[FieldError]:
    """What is wrong with the reason given (already `clean_reason`ed) for a check of `visited_on` recorded today
    (`scheduled_on`: the day its visit was scheduled; `due_on`: the case's due date; `noun`, `sets_lateness`: what
    was dated, and whether its day counts the lateness; see `why_needed`)."""
    if len(reason) > REASON_MAX_CHARS:
        return [FieldError(FIELD, f"补录原因最多 {REASON_MAX_CHARS} 个字")]
    if explained(reason):
        return []  # whatever made it needed (`why_needed`, only worded for a refusal)
    why = why_needed(visited_on, today, scheduled_on=scheduled_on, due_on=due_on, noun=noun,
                     sets_lateness=sets_lateness)
    if why is not None:
        return [FieldError(FIELD, f"{why}：须填写补录原因（至少 {REASON_MIN_CHARS} 个字），说明为何没有在{noun}当时录入")]
    return []
