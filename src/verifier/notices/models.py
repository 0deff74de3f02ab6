"""Tables of the notices stage: village reviews, public notices with their items, objections.

A notice keeps what it showed when it was posted: its items are snapshots (the household head's name as shown,
the household size, the cause and the relief amount in fen) and the .docx rendered at posting is stored with its
SHA-256, so the posted document never changes afterwards.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    ColumnElement,
    Text,
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.base import Base, UtcDateTime

_LISTED = text("status = 'listed'")


class VillageReview(Base):
    """A village evaluation (村级评议) of a case. A case re-checked after an upheld objection is reviewed again."""

    __tablename__ = "village_review"
    __table_args__ = (CheckConstraint("result IN ('pass', 'fail')", name="result_known"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date, index=True)  # the monthly report's period
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Notice(Base):
    """A public notice (公示) of one village, or of a whole town when the contract says so."""

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("ends_on >= posted_on", name="period_in_order"),
        Index("ix_notice_county_status", "county_code", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)  # None: the whole town
    scope: Mapped[str] = mapped_column(String(8))
    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"))
    contract_hash: Mapped[str] = mapped_column(String(64))
    posted_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    # What the document printed besides the rows (kept so the preview shows the same notice).
    title: Mapped[str] = mapped_column(String(300))
    issuing_body: Mapped[str] = mapped_column(String(200))
    county_name: Mapped[str] = mapped_column(String(100))
    objection_place: Mapped[str] = mapped_column(String(200))
    objection_phone: Mapped[str] = mapped_column(String(40))
    number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    mask_names: Mapped[bool] = mapped_column(Boolean)
    households: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)  # fen
    document: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    document_sha256: Mapped[str] = mapped_column(String(64))
    posted_by: Mapped[str] = mapped_column(String(40))
    posted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # That the notice went up on the wall is confirmed by a second person (notices/posting.py): until then its
    # cases are paid by no batch. False only for notices posted before this was asked (migration 0042).
    posting_needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("false"))
    posting_confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    posting_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    posting_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # confirmed without a photo that counted (the county reviewer, on a note): kept as decided, not worked out again
    posting_without_dated_photo: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))

    items: Mapped[list[NoticeItem]] = relationship(back_populates="notice", order_by="NoticeItem.seq")

    @hybrid_property
    def awaiting_second_person(self) -> bool:
        """The notice's posting on the wall waits for its second person (the one definition: a notice's page, the
        lists of notices, the home page's card and the payments' hold all ask this)."""
        return bool(self.posting_needs_confirmation) and self.posting_confirmed_by is None

    @awaiting_second_person.inplace.expression
    @classmethod
    def _awaiting_second_person(cls) -> ColumnElement[bool]:
        return and_(cls.posting_needs_confirmation.is_(True), cls.posting_confirmed_by.is_(None))


class NoticeItem(Base):
    """One case on a notice, as it was shown. `listed` until the notice closes (`cleared`) or an objection against
    the case is upheld (`withdrawn`)."""

    __tablename__ = "notice_item"
    __table_args__ = (
        CheckConstraint("status IN ('listed', 'withdrawn', 'cleared')", name="status_known"),
        CheckConstraint("relief_amount >= 0 AND household_size >= 1", name="figures_sane"),
        # A case stands on at most one live notice: the database refuses a second.
        Index("uq_notice_item_live_case", "case_id", unique=True, postgresql_where=_LISTED, sqlite_where=_LISTED),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notice.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    village: Mapped[str] = mapped_column(String(100))
    head_name: Mapped[str] = mapped_column(String(100))  # as shown on the notice (masked when the contract says so)
    household_size: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(16))
    relief_amount: Mapped[int] = mapped_column(BigInteger)  # fen, from the case's determination at posting
    determination_id: Mapped[str] = mapped_column(ForeignKey("determination.id"))
    review_id: Mapped[str] = mapped_column(ForeignKey("village_review.id"))
    status: Mapped[str] = mapped_column(String(12))

    notice: Mapped[Notice] = relationship(back_populates="items")


class Objection(Base):
    """An objection (异议) raised against a case of a notice during its period; resolved once."""

    __tablename__ = "objection"
    __table_args__ = (CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notice.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("notice_item.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Who raised it: anonymous, or the raiser's relation to the household (no name: objections may be anonymous,
    # and a name would be personal data); how it reached the office; the day it was resolved (as decided, which
    # may be before the day it was entered). Objections recorded before these were kept have them empty.
    raised_by: Mapped[str | None] = mapped_column(String(20), nullable=True)
    received_via: Mapped[str | None] = mapped_column(String(12), nullable=True)
    resolved_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class VillageMeeting(Base):
    """A village review meeting (村级评议会): one sitting that reviewed several households of a village, each case's
    result kept as its own VillageReview and linked here through VillageMeetingReview."""

    __tablename__ = "village_meeting"
    __table_args__ = (
        Index("ix_village_meeting_place", "county_code", "town", "village"),
        # One meeting per village, day and set of households: the same meeting sent twice at once is kept once.
        Index("uq_village_meeting_sitting", "county_code", "town", "village", "held_on", "households_key",
              unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(Text)
    minutes: Mapped[str] = mapped_column(Text)
    households: Mapped[int] = mapped_column(Integer)
    # Hex SHA-256 of its households' case ids (`meetings.households_key`). NULL only for a meeting recorded twice
    # before the key was kept: the earlier of the two holds the key.
    households_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The sitting's attendance (应到 / 实到, the latter the attendees named) and the SHA-256 of the signed minutes'
    # scan (a `village_file`); NULL for meetings recorded before they were asked (migration 0042).
    members_expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attendance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    minutes_scan_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class VillageMeetingReview(Base):
    """Which meeting a village review was decided at (a review recorded on its own has no row here)."""

    __tablename__ = "village_meeting_review"

    review_id: Mapped[str] = mapped_column(ForeignKey("village_review.id"), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("village_meeting.id"), index=True)


class VillageFile(Base):
    """A file behind the village's steps: the signed minutes of a review meeting (`minutes`, a scan or photo of the
    minutes and the attendance sheet), or a photo of a notice on the wall (`wall_photo`). Sealed at rest like a
    check's evidence (`checks/evidence_files.py`), with the capture time its camera wrote (`checks/photo_exif.py`).
    A file serves one meeting or one notice only (unique `sha256`)."""

    __tablename__ = "village_file"
    __table_args__ = (
        CheckConstraint("kind IN ('minutes', 'wall_photo')", name="kind_known"),
        CheckConstraint("(kind = 'minutes') = (meeting_id IS NOT NULL) AND (kind = 'wall_photo') = "
                        "(notice_id IS NOT NULL)", name="owner_matches_kind"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    county_code: Mapped[str] = mapped_column(String(6))
    meeting_id: Mapped[str | None] = mapped_column(ForeignKey("village_meeting.id"), nullable=True, index=True)
    notice_id: Mapped[str | None] = mapped_column(ForeignKey("notice.id"), nullable=True, index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    captured_at: Mapped[str | None] = mapped_column(String(32), nullable=True)  # as `Evidence.captured_at`
    uploaded_by: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
