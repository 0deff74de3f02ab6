"""Shared by the tamper tests: raw SQL on the log's tables, and a forger's recomputed tree."""

from __future__ import annotations

from sqlalchemy import text

from verifier.audit import merkle
from verifier.store.db import Database


def sql(db: Database, statement: str, **params: object) -> list:
    with db.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def rewrite_tree(db: Database) -> None:
    """Recompute every stored node and the head from the stored leaf hashes, as a careful forger would."""
    leaves = [bytes(h) for (h,) in sql(db, "SELECT leaf_hash FROM audit_entry ORDER BY idx")]
    compact = merkle.CompactRange()
    nodes = [node for leaf in leaves for node in compact.append(leaf)]
    sql(db, "DELETE FROM audit_node")
    with db.engine.begin() as conn:
        if nodes:
            conn.execute(text("INSERT INTO audit_node (level, idx, hash) VALUES (:l, :i, :h)"),
                         [{"l": lvl, "i": i, "h": h} for lvl, i, h in nodes])
        conn.execute(text("UPDATE audit_head SET size = :s, compact = :c"), {"s": compact.size, "c": compact.to_bytes()})
