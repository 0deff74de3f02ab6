"""The table of looks at a household's personal data (查阅留痕, migration 0066): an evidence file opened, the household
file opened or exported, the phone asked for in full. One row a person, household, case, kind, route and day, with
how many looks that day and the first and the last; written in the look's own transaction (peeks/record.py), so a
look that cannot be recorded is refused. No route edits or deletes a row."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

KINDS = ("evidence", "household_file", "household_export", "phone")
ROUTES = ("page", "api")


class PersonalView(Base):
    __tablename__ = "personal_view"
    __table_args__ = (
        UniqueConstraint("day", "user_id", "kind", "route", "household_id", "case_id"),
        CheckConstraint("kind IN ('evidence', 'household_file', 'household_export', 'phone')", name="kind"),
        CheckConstraint("route IN ('page', 'api')", name="route"),
        CheckConstraint("looks >= 1 AND first_at <= last_at", name="looks"),
        Index("ix_personal_view_county_last", "county_code", "last_at"),
        Index("ix_personal_view_household_last", "household_id", "last_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date)  # the scheme's day of the looks
    user_id: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(32))  # the looker's main role then
    county_code: Mapped[str] = mapped_column(String(6))
    household_id: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[str] = mapped_column(String(40))  # "" for a look at the household as a whole (its file)
    kind: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(8))  # "page" (the browser's pages) or "api"
    looks: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_at: Mapped[datetime] = mapped_column(UtcDateTime())
