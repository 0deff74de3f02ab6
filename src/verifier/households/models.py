"""The households' own records: merges and moves (`household_change`), and the county's risk marks over time
(`household_risk_event`).

`household_change`: one row per change, never updated: `merge` (every member and case of `from_household_id` moved
into `to_household_id`, open cases of the same cause and year joined into one) or `move` (one member moved from one
household to another, or to a new household: `new_household`).

`household_change_proposal`: a merge or a move asked for by one person and not yet made: another confirms it (the
change is made then, `change_id`), declines it with a reason, or its proposer withdraws it (migration 0061).

`household_risk_event`: each time the county marks a household's risk removed (风险消除) or revokes that mark (the
risk returns) is a row; the latest row is the status. Rows are never changed or deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

KINDS = ("merge", "move")
PROPOSAL_STATUSES = ("pending", "confirmed", "declined", "withdrawn")
PROPOSAL_DECIDED = (
    "(status = 'pending' AND decided_by IS NULL AND decided_at IS NULL AND change_id IS NULL) OR "
    "(status = 'confirmed' AND decided_by IS NOT NULL AND decided_at IS NOT NULL AND decided_by <> proposed_by "
    "AND change_id IS NOT NULL) OR "
    "(status = 'declined' AND decided_by IS NOT NULL AND decided_at IS NOT NULL AND decided_by <> proposed_by "
    "AND decline_reason IS NOT NULL AND change_id IS NULL) OR "
    "(status = 'withdrawn' AND decided_by = proposed_by AND decided_at IS NOT NULL AND change_id IS NULL)")
"""A proposal is decided with its who and when; confirmed or declined by another than its proposer (a decline with
its reason), withdrawn by its proposer only; only a confirmed one names the change it made."""



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
    changed_by: Mapped[str] = mapped_column(String(40))  # who made it, or since 0061 who proposed it
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # who confirmed it (the second person, migration 0061); NULL for the changes made before by one person
    confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)



_PENDING = text("status = 'pending'")


class HouseholdChangeProposal(Base):
    """A merge (`household_id` kept, `other_household_id` merged into it) or a move (a member of `household_id` to
    `other_household_id`, or to a new household: `new_household`) proposed by one person, made only when another
    confirms it. `members`: each household's member ids when it was proposed ({household id: [ids]}): a household
    whose members changed since is not changed on what the confirmer was shown (409)."""

    __tablename__ = "household_change_proposal"
    __table_args__ = (
        CheckConstraint("kind IN ('merge', 'move')", name="kind_known"),
        CheckConstraint("status IN ('pending', 'confirmed', 'declined', 'withdrawn')", name="status_known"),
        CheckConstraint(PROPOSAL_DECIDED, name="decided_by_another"),
        # a household is in one pending proposal at a time, on either side (the service asks first, for its message)
        Index("uq_household_change_proposal_pending_household", "household_id", unique=True,
              postgresql_where=_PENDING, sqlite_where=_PENDING),
        Index("uq_household_change_proposal_pending_other", "other_household_id", unique=True,
              postgresql_where=_PENDING, sqlite_where=_PENDING),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    household_id: Mapped[str] = mapped_column(ForeignKey("household.id"), index=True)
    other_household_id: Mapped[str | None] = mapped_column(ForeignKey("household.id"), nullable=True, index=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), nullable=True)
    new_household: Mapped[bool] = mapped_column(Boolean, default=False)
    relation: Mapped[str] = mapped_column(String(10))  # merge: the merged head's to the kept head; move: the member's
    new_head_member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), nullable=True)
    members: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    proposed_by: Mapped[str] = mapped_column(String(40))
    proposed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    change_id: Mapped[str | None] = mapped_column(ForeignKey("household_change.id"), nullable=True)


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
