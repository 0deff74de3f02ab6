"""The county rosters: each import is a whole snapshot of a county's registered households as the monitoring system
exported it. An import is pending until another county reviewer confirms it; the county's roster is its latest
confirmed import (a rejected one is kept, never in force). People are kept by their ID number's blind index only (the
roster is looked up, never read back as a list of ID numbers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


MIGRATED = "migration:0049"
"""`confirmed_by` of an import in force before confirmations existed (migration 0049): 迁移前已生效, no second reviewer."""


class RosterImport(Base):
    __tablename__ = "roster_import"
    __table_args__ = (
        # A file is taken once per county, unless it was rejected (then it may be sent again).
        Index("uq_roster_import_file", "county_code", "file_sha256", unique=True,
              postgresql_where=text("status <> 'rejected'"), sqlite_where=text("status <> 'rejected'")),
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name="status_known"),
        # The county's roster: its newest confirmed import, one index lookup.
        Index("ix_roster_import_county_status_at", "county_code", "status", "imported_at", "id"),
        # One import of a county waits for its second reviewer at a time.
        Index("uq_roster_import_one_pending", "county_code", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    confirmed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rejected_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RosterEntry(Base):
    __tablename__ = "roster_entry"
    __table_args__ = (
        CheckConstraint("category IN ('exited', 'exited_unstable', 'edge', 'sudden_hardship')",
                        name="category_known"),
        UniqueConstraint("import_id", "id_number_bidx", name="uq_roster_entry_person"),
        Index("ix_roster_entry_county_person", "county_code", "id_number_bidx"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(String(40), ForeignKey("roster_import.id"))
    county_code: Mapped[str] = mapped_column(String(6))
    id_number_bidx: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(20))
