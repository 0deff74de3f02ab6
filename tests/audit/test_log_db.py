"""The log in a database: same tree as the RFC reference, proofs from stored nodes, constant work per append."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from verifier.audit import log, merkle, proofs
from verifier.audit.canonical import CanonicalError, decode_entry
from verifier.audit.models import AuditEntry, AuditNode
from verifier.clock import FixedClock
from verifier.store.db import Database


def stored_leaves(db: Database) -> list[bytes]:
    with db.read() as session:
        return [bytes(h) for h in session.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.idx))]


def test_stored_tree_matches_the_reference_at_every_size(db: Database, add_entries) -> None:
    add_entries(40)
    add_entries(33, per_transaction=11)  # batches in one transaction build the same tree
    leaves = stored_leaves(db)
    assert len(leaves) == 73
    reference = merkle.MemoryTree(leaves)
    with db.read() as session:
        for size in range(74):
            assert proofs.root_at(session, size) == merkle.root_of(leaves[:size])
        node_count = session.scalar(select(func.count()).select_from(AuditNode))
        assert node_count == 73 - (73).bit_count()  # every complete interior node, exactly once
        for size in (1, 2, 5, 8, 31, 32, 33, 64, 73):
            for index in {0, 1, size // 2, size - 1} & set(range(size)):
                proof = proofs.inclusion_proof(session, index, size)
                assert proof == merkle.reference_inclusion_proof(leaves[:size], index)
                merkle.verify_inclusion(leaves[index], index, size, proof, reference.root(size))
            for first in (0, 1, size // 3, size - 1, size):
                proof = proofs.consistency_proof(session, first, size)
                assert proof == merkle.reference_consistency_proof(leaves[:size], first)
                merkle.verify_consistency(first, size, proof, reference.root(first), reference.root(size))


def test_entries_hold_the_exact_hashed_bytes(db: Database, add_entries, clock: FixedClock) -> None:
    add_entries(3)
    with db.read() as session:
        row = proofs.get_entry(session, 1)
        assert row is not None
        assert merkle.leaf_hash(row.entry) == row.leaf_hash
        decoded = decode_entry(row.entry)
    assert decoded.index == 1 and decoded.subject == "case_0001" and decoded.contract_hash == "c" * 64
    assert decoded.time == "2020-06-03T08:30:01.000000Z"
    assert decoded.payload == {"decision": "pass", "amount": "100.00", "note": "村民代表评议通过"}


def test_a_rolled_back_transaction_leaves_no_entry(db: Database, add_entries) -> None:
    add_entries(2)
    with pytest.raises(RuntimeError), db.begin() as session:
        log.append(session, actor="u", role="admin", action="x", subject="s", payload={})
        raise RuntimeError("the business write failed")
    with pytest.raises(CanonicalError), db.begin() as session:
        log.append(session, actor="u", role="admin", action="x", subject="s", payload={"amount": 1.5})
    assert add_entries(1) == [2]
    with db.read() as session:
        assert log.tree_size(session) == 3


def test_append_marks_the_transaction_for_a_checkpoint(db: Database) -> None:
    seen: list[dict] = []
    db.after_commit.append(seen.append)
    with db.begin() as session:
        pass
    with db.begin() as session:
        log.append(session, actor="u", role="admin", action="x", subject="s", payload={})
    assert [bool(info.get(log.APPENDED)) for info in seen] == [False, True]


def test_each_append_costs_the_same_few_statements(db: Database, add_entries) -> None:
    """No rebuild: an append reads and writes a fixed handful of rows however long the log is."""
    counts: list[int] = []
    statements = 0

    def count(_conn, _cursor, sql: str, *_args) -> None:
        nonlocal statements
        statements += not sql.startswith("BEGIN")

    with db.begin() as session:
        log.ensure_head(session)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for _ in range(70):
            with db.begin() as session:
                before = statements
                log.append(session, actor="u", role="admin", action="x", subject="s", payload={})
                session.flush()
                counts.append(statements - before)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert max(counts) <= 4  # lock head, insert entry, insert the completed nodes (one batch), update head
    with db.read() as session:
        proof_statements = 0

        def count_read(_conn, _cursor, sql: str, *_args) -> None:
            nonlocal proof_statements
            proof_statements += not sql.startswith("BEGIN")

        event.listen(db.read_engine, "before_cursor_execute", count_read)
        try:
            proofs.inclusion_proof(session, 37, 70)
            proofs.consistency_proof(session, 13, 70)
        finally:
            event.remove(db.read_engine, "before_cursor_execute", count_read)
    assert proof_statements <= 6  # per proof: the head, the leaves it needs, the nodes it needs


def test_readers_refuse_sizes_beyond_the_log(db: Database, add_entries) -> None:
    add_entries(5)
    with db.read() as session:
        with pytest.raises(ValueError, match="outside"):
            proofs.root_at(session, 6)
        with pytest.raises(ValueError, match="outside"):
            proofs.inclusion_proof(session, 5, 5)
        with pytest.raises(ValueError, match="outside"):
            proofs.consistency_proof(session, 4, 6)
        with pytest.raises(ValueError, match="outside"):
            proofs.consistency_proof(session, 5, 4)
        assert proofs.root_at(session, 0) == merkle.EMPTY_ROOT


def test_ensure_head_is_idempotent_and_an_empty_log_reads_as_size_zero(db: Database) -> None:
    with db.read() as session:
        assert log.tree_size(session) == 0
    for _ in range(2):
        with db.begin() as session:
            log.ensure_head(session)
    with db.read() as session:
        assert log.tree_size(session) == 0 and log.read_head(session).root() == merkle.EMPTY_ROOT
