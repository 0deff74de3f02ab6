"""The table of needs passed to departments (发点球): a need found at a home check or a follow-up (medical
assistance, 低保, housing repair, schooling aid, employment) is referred to the department responsible, with a due
date; the county reviewer records the department's answer.

A case has at most one open referral per need (partial unique index): the same need passed twice is refused.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

NEEDS = ("medical_assistance", "dibao", "housing_repair", "schooling_aid", "employment")
SOURCES = ("check", "followup")
OUTCOMES = ("met", "partly", "declined")
_OPEN = text("status = 'open'")


class NeedReferral(Base):
    __tablename__ = "need_referral"
    __table_args__ = (
        CheckConstraint("need IN ('medical_assistance', 'dibao', 'housing_repair', 'schooling_aid', 'employment')",
                        name="need_known"),
        CheckConstraint("source IN ('check', 'followup')", name="source_known"),
        CheckConstraint("status IN ('open', 'answered')", name="status_known"),
        CheckConstraint("outcome IS NULL OR outcome IN ('met', 'partly', 'declined')", name="outcome_known"),
        CheckConstraint("status = 'open' OR (answered_by IS NOT NULL AND answered_on IS NOT NULL)",
                        name="answered_has_answer"),
        Index("uq_need_referral_open", "case_id", "need", unique=True, postgresql_where=_OPEN, sqlite_where=_OPEN),
        Index("ix_need_referral_county_status", "county_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    need: Mapped[str] = mapped_column(String(24))
    department: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(10))
    followup_id: Mapped[str | None] = mapped_column(ForeignKey("followup.id"), nullable=True)
    referred_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    referred_by: Mapped[str] = mapped_column(String(40))
    referred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(10), nullable=True)
    answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the day the department answered
    answered_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
