"""The audit log's tables.

- `audit_entry`: one row per entry; `entry` holds the exact canonical bytes that were hashed, `leaf_hash`
  their RFC 6962 leaf hash. The other columns repeat fields of the entry for lookups only (a case's history
  by `subject`); verification never trusts them. `county_code` (not part of the entry's bytes) is the county the
  entry concerns, NULL for none: it decides who may read the entry (see `counties.py`).
- `audit_node`: every complete interior node of the Merkle tree, keyed by (level, idx) with level >= 1
  (level 0, the leaves, lives in `audit_entry.leaf_hash`). The node at level l, idx i is the root of the
  perfect subtree over entries [i * 2**l, (i + 1) * 2**l); it is written by the append that completes it
  and never changes. A log of n entries holds n − popcount(n) nodes, one per append on average.
- `audit_head`: a single row (id = 1): the log's size and its compact range, the roots of the perfect
  subtrees along the right edge, largest first, packed as 32-byte hashes. Appends lock this row.
- `audit_checkpoint`: signed checkpoints (C2SP tlog-checkpoint notes), at most one per tree size.
- `audit_key`: every checkpoint key the log has used, so checkpoints signed before a rotation stay verifiable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UtcDateTime

# A refusal's entry: 回避 (`recusal/refusals.ACTION`) or a follow-up refused to who took part in paying it
# (`followups/receipt.REFUSED`); the refusals page and its warning read both (migration 0052).
REFUSED = text("action IN ('recusal.refused', 'followup.refused')")

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: appends and in-order scans need no second index.
LogIndex = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    # The 回避 refusals of the last days, on every reviewer's and auditor's home page (`recusal/refusals.probing`):
    # those entries by county and time, not the whole log (migration 0048). Partial: the other appends (every write
    # of the system) insert into no more indexes than before; the query names the action as this predicate does.
    __table_args__ = (Index("ix_audit_entry_refusals_county_time", "county_code", "time", postgresql_where=REFUSED,
                            sqlite_where=REFUSED),)

    idx: Mapped[int] = mapped_column(LogIndex, primary_key=True, autoincrement=False)
    time: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    contract_hash: Mapped[str | None] = mapped_column(String(128))
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    county_code: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)


class AuditNode(Base):
    __tablename__ = "audit_node"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        {"sqlite_with_rowid": False},
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    compact: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoint"

    # The primary key is the guarantee that one tree size never gets two checkpoints.
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditKey(Base):
    __tablename__ = "audit_key"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created: Mapped[datetime] = mapped_column(UtcDateTime())
    retired: Mapped[datetime | None] = mapped_column(UtcDateTime())
