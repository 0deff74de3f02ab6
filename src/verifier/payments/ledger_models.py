"""Tables of the fund ledger (see payments/ledger.py): a contract's fund, its movements and their postings.

A fund movement happens once (unique movement key, such as `commit:<batch id>`); a movement's postings sum to zero.
Money columns hold integer fen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime


class Fund(Base):
    """A contract's fund, opened (and its budget granted) the first time the ledger is used for the contract.

    Every movement locks this row first, so two approvals under one contract never both spend the same balance.
    """

    __tablename__ = "fund"

    contract_id: Mapped[str] = mapped_column(ForeignKey("contract.id"), primary_key=True)
    budget: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FundMovement(Base):
    """One movement of money between two ledger accounts; `key` makes each movement happen at most once."""

    __tablename__ = "fund_movement"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)  # in posting order
    contract_id: Mapped[str] = mapped_column(ForeignKey("fund.contract_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    return_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FundPosting(Base):
    """One side of a movement: a signed amount on one account (debit positive); a movement's postings sum to zero."""

    __tablename__ = "fund_posting"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_fund_posting_contract_account", "contract_id", "account"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("fund_movement.id"), index=True)
    contract_id: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
