"""What the follow-up routes send and receive (money as yuan strings, dates YYYY-MM-DD)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from ..domain.money import format_yuan
from .models import Followup
from .service import DueFollowup


class DueOut(msgspec.Struct):
    payment_item_id: str
    case_id: str
    case_number: str
    county_code: str
    town: str
    village: str
    head_name: str
    cause: str
    amount: str
    settled_on: date
    due_on: date
    overdue_days: int


class FollowupOut(msgspec.Struct):
    id: str
    case_id: str
    payment_item_id: str
    county_code: str
    due_on: date
    done_on: date
    late: bool
    method: str
    income_change: str
    risk_remains: bool
    satisfaction: str
    new_needs: list[str]
    note: str | None
    recorded_by: str
    recorded_at: datetime


class FollowupListOut(msgspec.Struct):
    due: list[DueOut]
    done: list[FollowupOut]


def due_out(d: DueFollowup, today: date) -> DueOut:
    return DueOut(d.payment_item_id, d.case_id, d.case_number, d.county_code, d.town, d.village, d.head_name, d.cause,
                  format_yuan(d.amount), d.settled_on, d.due_on, d.overdue_days(today))


def followup_out(f: Followup) -> FollowupOut:
    return FollowupOut(f.id, f.case_id, f.payment_item_id, f.county_code, f.due_on, f.done_on, f.done_on > f.due_on,
                       f.method, f.income_change, f.risk_remains, f.satisfaction, list(f.new_needs), f.note,
                       f.recorded_by, f.recorded_at)
