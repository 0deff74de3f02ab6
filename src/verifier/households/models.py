"""The record of households merged and members moved: a household's history, kept for its file (一户一档).

One row per change, never updated: `merge` (every member and case of `from_household_id` moved into
`to_household_id`, open cases of the same cause and year joined into one) or `move` (one member moved from one
household to another, or to a new household: `new_household`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text
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
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), nullable=True)
    members: Mapped[list[str]] = mapped_column(JSON)  # the ids of the members moved
    new_household: Mapped[bool] = mapped_column(Boolean, default=False)  # a move that made a new household (分户)
    # merge: [{"case_id", "number", "into_case_id", "into_number"}] for each case joined into another
    merged_cases: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    moved_cases: Mapped[list[str]] = mapped_column(JSON)  # the ids of the cases that changed household
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(40))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
