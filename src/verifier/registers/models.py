"""Other agencies' registers (vehicles, businesses, housing purchases, public-sector jobs, large assets, medical
settlements), imported from the bureaus' files, and the findings that matching a household against them makes.

A register entry names a person by ID number, sealed, with its blind index to match by; its facts are kept as the
file gave them (amounts in fen). Each import keeps its bureau, its data date, its validity and the file's hash.

An import is a proposal (`pending`) until a second county reviewer of the county confirms it (`confirmed`, the only
imports the cross-checks consult) or either declines it (`declined`, never in force; the same file may be sent again).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

KIND_CHECK = "kind IN ('vehicle', 'business', 'housing', 'public_employment', 'assets', 'medical')"
STATUSES = ("pending", "confirmed", "declined")
MIGRATED = "migration:0058"
"""`confirmed_by` of an import in force before confirmations existed (migration 0058): no second reviewer saw it."""
NOT_DECLINED = "status <> 'declined'"


class RegisterImport(Base):
    __tablename__ = "register_import"
    __table_args__ = (
        # A file is taken once per county and kind, unless it was declined (then it may be proposed again).
        Index("uq_register_import_file", "county_code", "kind", "file_sha256", unique=True,
              postgresql_where=text(NOT_DECLINED), sqlite_where=text(NOT_DECLINED)),
        Index("ix_register_import_county_kind", "county_code", "kind", "valid_until"),
        CheckConstraint(KIND_CHECK, name="kind_known"),
        CheckConstraint("status IN ('pending', 'confirmed', 'declined')", name="status_known"),
        # a second person, never the importer; a decision has its who and when
        CheckConstraint("(status = 'pending' AND confirmed_by IS NULL AND declined_by IS NULL) OR (status = "
                        "'confirmed' AND confirmed_by IS NOT NULL AND confirmed_at IS NOT NULL AND confirmed_by <> "
                        "imported_by AND declined_by IS NULL) OR (status = 'declined' AND declined_by IS NOT NULL "
                        "AND declined_at IS NOT NULL AND decline_reason IS NOT NULL AND confirmed_by IS NULL)",
                        name="decided_by_another"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(20))
    bureau: Mapped[str] = mapped_column(String(100))  # the source bureau, as the county names it
    as_of: Mapped[date] = mapped_column(Date)  # the date of the bureau's data
    valid_until: Mapped[date] = mapped_column(Date)  # the register is consulted up to this day
    filename: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending", server_default="pending")
    confirmed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    declined_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    declined_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class RegisterEntry(Base):
    __tablename__ = "register_entry"
    __table_args__ = (Index("ix_register_entry_person", "county_code", "id_number_bidx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    import_id: Mapped[str] = mapped_column(String(40), ForeignKey("register_import.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    row: Mapped[int] = mapped_column(Integer)  # the row in the bureau's file
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # value, capital, price, assets, self-paid
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)  # medical settlements: the year they sum
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rest of the row: plate, name, address, employer …


class RegisterFinding(Base):
    """A register hit (or an officer's inconsistent cross-check) on a check, to be answered before determination."""

    __tablename__ = "register_finding"
    __table_args__ = (
        UniqueConstraint("check_id", "match_key", name="uq_register_finding_match"),
        CheckConstraint("status IN ('open', 'explained', 'upheld')", name="status_known"),
        CheckConstraint("effect IN ('excludes', 'explain')", name="effect_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("home_check.id"), index=True)
    match_key: Mapped[str] = mapped_column(String(80))  # what makes it the same finding when matched again
    member_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    member_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # a register kind, or a manual cross-check's source
    source: Mapped[str] = mapped_column(String(10))  # register | manual
    effect: Mapped[str] = mapped_column(String(10))
    import_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fact: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="open")
    found_at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
