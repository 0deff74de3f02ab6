"""回避申报: the ID numbers a staff account declares (its own and its close relatives'), and the removals asked for.

`staff_tie`: one row per declared person, never deleted: `removed_at` is set when an admin other than the owner (and
other than who asked) confirms a removal. The ID number is sealed (`staff_tie.id_number`) and indexed by the same
keyed blind index as a household member's (`member.id_number_bidx`), so the two are compared without decrypting.

`staff_tie_removal`: a removal asked for (by the owner or an admin), pending until another admin confirms or refuses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from ..store.base import Base, UtcDateTime

_LIVE = text("removed_at IS NULL")
_PENDING = text("status = 'pending'")
TIES_READ = "recusal.ties"
"""`session.info` key of the declared ties read in the session's current transaction (`recusal/guard._ties`), dropped
where a declaration changes (`recusal/service.declare`, `recusal/removal.decide_removal`)."""
RELATION_CODES = ("self", "spouse", "parent", "child", "sibling", "grandparent", "grandchild", "in_law", "other")


class RemovalColumns:
    """What every removal table shares: its id, a pending removal at most per entry (`uq_<table>_pending` on the
    column naming the entry, `entry_column`), and the columns of the flow of `recusal/removal.py` (after the entry's
    column). The tables themselves stay two (`staff_tie_removal`, `staff_account_removal`)."""

    entry_column: ClassVar[str]

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            CheckConstraint("status IN ('pending', 'confirmed', 'refused')", name="status_known"),
            Index(f"uq_{cls.__tablename__}_pending", cls.entry_column, unique=True, postgresql_where=_PENDING,
                  sqlite_where=_PENDING),
        )

    id: Mapped[str] = mapped_column(String(40), primary_key=True, sort_order=-10)
    user_id: Mapped[str] = mapped_column(String(40), index=True, sort_order=10)  # the owner of the entry
    reason: Mapped[str] = mapped_column(Text, sort_order=10)
    status: Mapped[str] = mapped_column(String(16), sort_order=10)
    requested_by: Mapped[str] = mapped_column(String(40), sort_order=10)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime(), sort_order=10)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True, sort_order=10)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, sort_order=10)
    note: Mapped[str | None] = mapped_column(Text, nullable=True, sort_order=10)


class StaffTie(Base):
    __tablename__ = "staff_tie"
    __table_args__ = (
        CheckConstraint("relation IN (" + ", ".join(f"'{r}'" for r in RELATION_CODES) + ")", name="relation_known"),
        # one live entry per person declared: the same ID number twice says nothing more
        Index("uq_staff_tie_live", "user_id", "id_number_bidx", unique=True, postgresql_where=_LIVE,
              sqlite_where=_LIVE),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str] = mapped_column(String(64), index=True)
    declared_by: Mapped[str] = mapped_column(String(40))  # the owner, or the admin who added it for them
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the admin who confirmed


class StaffTieRemoval(RemovalColumns, Base):
    __tablename__ = "staff_tie_removal"
    entry_column = "tie_id"

    tie_id: Mapped[str] = mapped_column(ForeignKey("staff_tie.id"), index=True)


class StaffAccount(Base):
    """工作人员本人账户: a bank account of the staff member's own (their salary account, one they control), declared
    beside their ties. Sealed (`staff_account.account_number`) and indexed by the payee accounts' keyed blind index
    (`payments/one_account.account_index`), so a payee equal to it is found without decrypting. Never deleted."""

    __tablename__ = "staff_account"
    __table_args__ = (
        Index("uq_staff_account_live", "user_id", "account_index", unique=True, postgresql_where=_LIVE,
              sqlite_where=_LIVE),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("app_user.id"), index=True)
    account_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    account_index: Mapped[str] = mapped_column(String(64), index=True)
    declared_by: Mapped[str] = mapped_column(String(40))
    declared_at: Mapped[datetime] = mapped_column(UtcDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(40), nullable=True)


class StaffAccountRemoval(RemovalColumns, Base):
    """A removal of a declared account asked for, as `staff_tie_removal` is for a tie (the same four eyes)."""

    __tablename__ = "staff_account_removal"
    entry_column = "account_id"

    account_id: Mapped[str] = mapped_column(ForeignKey("staff_account.id"), index=True)
