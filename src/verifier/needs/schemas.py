"""What the need-referral routes send."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from .models import NeedReferral


class ReferralOut(msgspec.Struct):
    id: str
    case_id: str
    county_code: str
    need: str
    department: str
    source: str
    followup_id: str | None
    referred_on: date
    due_on: date
    note: str | None
    referred_by: str
    status: str
    overdue_days: int
    outcome: str | None
    answer: str | None
    answered_on: date | None
    answered_by: str | None
    answered_at: datetime | None


def referral_out(r: NeedReferral, today: date) -> ReferralOut:
    overdue = max(0, (today - r.due_on).days) if r.status == "open" else 0
    return ReferralOut(r.id, r.case_id, r.county_code, r.need, r.department, r.source, r.followup_id, r.referred_on,
                       r.due_on, r.note, r.referred_by, r.status, overdue, r.outcome, r.answer, r.answered_on,
                       r.answered_by, r.answered_at)
