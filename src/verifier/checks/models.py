"""The bills a home check counted (medical invoices, school fees, loss assessments …), each by its identity, so the
same bill is never counted for a second case (see checks/bills.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base


class CheckBill(Base):
    __tablename__ = "check_bill"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("kind IN ('medical', 'schooling', 'disaster', 'other')", name="kind_known"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    check_id: Mapped[str] = mapped_column(ForeignKey("home_check.id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("relief_case.id"), index=True)
    household_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(200))  # as typed (shown); the identity is of its normalised form
    number: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the normalised issuer and number: the bill's identity, searched across every case and county.
    identity: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # fen
