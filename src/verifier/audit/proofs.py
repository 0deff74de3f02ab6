"""Reads of the audit log for proofs: an entry, the tree's root at a size, inclusion and consistency proofs,
from the stored leaves and nodes that appends (log.py) write."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, select, tuple_
from sqlalchemy.orm import Session

from . import merkle
from .log import LogCorrupt, read_head
from .models import AuditEntry, AuditNode

_entry: Table = AuditEntry.__table__  # type: ignore[assignment]
_node: Table = AuditNode.__table__  # type: ignore[assignment]


def get_entry(session: Session, index: int) -> AuditEntry | None:
    return session.get(AuditEntry, index)


def node_source(session: Session) -> merkle.NodeSource:
    """Complete-node hashes from the database: leaves from audit_entry, the rest from audit_node."""

    def fetch(ids: Sequence[merkle.NodeId]) -> dict[merkle.NodeId, bytes]:
        found: dict[merkle.NodeId, bytes] = {}
        leaves = [index for level, index in ids if level == 0]
        inner = [(level, index) for level, index in ids if level > 0]
        if leaves:
            rows = session.execute(select(_entry.c.idx, _entry.c.leaf_hash).where(_entry.c.idx.in_(leaves)))
            found.update(((0, idx), bytes(h)) for idx, h in rows)
        if inner:
            rows = session.execute(
                select(_node.c.level, _node.c.idx, _node.c.hash).where(tuple_(_node.c.level, _node.c.idx).in_(inner))
            )
            found.update(((level, idx), bytes(h)) for level, idx, h in rows)
        missing = [node for node in ids if node not in found]
        if missing:
            raise LogCorrupt(f"stored tree lacks node(s) {missing[:5]} (level, index)")
        return found

    return fetch


def _check_size(session: Session, size: int, what: str) -> merkle.CompactRange:
    head = read_head(session)
    if not 0 <= size <= head.size:
        raise ValueError(f"{what} {size} is outside 0..{head.size}, the log's size")
    return head


def root_at(session: Session, size: int) -> bytes:
    """The tree's root when it held `size` entries (O(log n) node reads)."""
    head = _check_size(session, size, "tree size")
    if size == head.size:
        return head.root()
    return merkle.root_from_source(size, node_source(session))


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    _check_size(session, tree_size, "tree size")
    if not 0 <= index < tree_size:
        raise ValueError(f"entry {index} is outside a tree of size {tree_size}")
    return merkle.inclusion_proof(index, tree_size, node_source(session))


def consistency_proof(session: Session, first: int, second: int,
                      head: merkle.CompactRange | None = None) -> list[bytes]:
    """The proof that the tree of `first` entries is a prefix of the tree of `second` (`head`: the log's head, when
    the caller has just read it)."""
    if head is None or not 0 <= second <= head.size:
        _check_size(session, second, "second tree size")
    if not 0 <= first <= second:
        raise ValueError(f"first tree size {first} is outside 0..{second}")
    return merkle.consistency_proof(first, second, node_source(session))
