"""A household's risk status over time: each time the county marks its risk removed (风险消除) or revokes that
mark (the risk returns) is a row; the latest row is the status. Rows are never changed or deleted."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


class HouseholdRiskEvent(Base):
    __tablename__ = "household_risk_event"
    __table_args__ = (
        CheckConstraint("status IN ('removed', 'restored')", name="status_known"),
        CheckConstraint("evidence_kind IS NULL OR evidence_kind IN ('income_above_line', 'follow_up', 'other')",
                        name="evidence_kind_known"),
        Index("ix_household_risk_event_household", "household_id", "seq", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"))
    county_code: Mapped[str] = mapped_column(String(6))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, … per household: two writers cannot both add the next one
    status: Mapped[str] = mapped_column(String(16))  # removed | restored (the mark revoked: the risk returns)
    evidence_kind: Mapped[str | None] = mapped_column(String(24), nullable=True)  # for removed
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)  # income above the line for this many months
    evidence_on: Mapped[date] = mapped_column(Date)  # the day of the evidence (removed) or of the revocation
    note: Mapped[str] = mapped_column(Text)  # the evidence (removed) or the reason (restored)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
