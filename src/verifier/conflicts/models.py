"""The table of cross-county conflicts: a person named in one county whose household belongs to another.

A person belongs to one household, in one county. When a referral or a home check in one county names a person of
another county's household, it is refused with a neutral message and the attempt is kept here for the county
reviewers of both counties (`county_code`: where the person was named; `home_county_code`: the household's).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


class CountyConflict(Base):
    __tablename__ = "county_conflict"
    __table_args__ = (
        CheckConstraint("source IN ('referral_import', 'application', 'home_check')", name="source_known"),
        Index("ix_county_conflict_county_recorded", "county_code", "recorded_at"),
        Index("ix_county_conflict_home_recorded", "home_county_code", "recorded_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(40))  # the user who named the person
    role: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str] = mapped_column(String(6))
    home_county_code: Mapped[str] = mapped_column(String(6))
    person_bidx: Mapped[str] = mapped_column(String(64), index=True)  # the ID number's blind index
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)  # sealed; shown to the reviewers masked 6+4
    reference: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the file (channel:sha256) or the case
    row: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the file's row
