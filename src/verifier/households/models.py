"""The households' own records: merges and moves (`household_change`), and the county's risk marks over time
(`household_risk_event`).

`household_change`: one row per change, never updated: `merge` (every member and case of `from_household_id` moved
into `to_household_id`, open cases of the same cause and year joined into one) or `move` (one member moved from one
household to another, or to a new household: `new_household`).

`household_risk_event`: each time the county marks a household's risk removed (风险消除) or revokes that mark (the
risk returns) is a row; the latest row is the status. Rows are never changed or deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

KINDS = ("merge", "move")



class HouseholdChange(Base):
    __tablename__ = "household_change"
    __table_args__ = (CheckConstraint("kind IN ('merge', 'move')", name="kind_known"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    county_code: Mapped[str] = mapped_column(String(6))
    from_household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    to_household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    # move: the member moved; merge: NULL (every member of the absorbed household, listed in `members`)
    # indexed: the 回避 guard finds the moves of a declared relative by it (`recusal/guard._related_households`)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), nullable=True, index=True)
    members: Mapped[list[str]] = mapped_column(JSON)  # the ids of the members moved
    new_household: Mapped[bool] = mapped_column(Boolean, default=False)  # a move that made a new household (分户)
    # merge: [{"case_id", "number", "into_case_id", "into_number"}] for each case joined into another
    merged_cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    moved_cases: Mapped[list[str]] = mapped_column(JSON)  # the ids of the cases that changed household
    # [{"member_id", "before", "after"}] for each member whose relation to their head changed (the member moved, the
    # merged household's members, those who stay under a new head, the new head itself: "after" is "head"); [] for
    # changes recorded before 0050 (the audit entry's `relations` has what those changed)
    relations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # who heads the members concerned after the change: merge, the kept household's head; move, the member moved in a
    # new household (分户), else the joined household's head (when the head moved out, the new head of those who stay
    # is in `relations`; rows written before this held that one: see service.reading.head_in). NULL before 0050, or
    # when that household had no member recorded as head.
    head_member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())



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
