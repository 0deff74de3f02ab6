"""The table of a county's towns (乡镇) and villages (村/社区): the list the application form picks from.

Kept per county, imported once from the county's file (`verifier places import`) and grown only on purpose (an
admin or a supervisor adds a village on the places page). A county without a list keeps free-text towns and
villages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


class Place(Base):
    __tablename__ = "place"
    __table_args__ = (
        UniqueConstraint("county_code", "town", "village"),
        CheckConstraint("source IN ('import', 'page')", name="source_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    town: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(8))  # import: from the county's file; page: added one at a time
    added_by: Mapped[str] = mapped_column(String(40))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
