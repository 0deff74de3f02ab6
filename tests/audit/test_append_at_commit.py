"""`log.append_at_commit`: on PostgreSQL an entry numbered, hashed and its nodes written by the server in the COMMIT's
round trip; the log's bytes the same as `log.append`'s, its indices gap-free under concurrent writers, the head not
held between the transaction's round trips. On SQLite it is `append`."""

from __future__ import annotations

from datetime import datetime

import pytest
from race_kit import at_once, head_free
from sqlalchemy import select, text

from verifier.audit import log, merkle
from verifier.audit.canonical import encode_entry, format_time
from verifier.audit.models import AuditEntry, AuditHead, AuditNode
from verifier.audit.verify import verify_log
from verifier.clock import FixedClock
from verifier.store.db import Database


def _entry(k: int) -> dict:
    return dict(actor=f"u_{k % 3}", role="field_officer", action="case.record_check", subject=f"case_{k:04d}",
                payload={"amount": f"{k * 100}.00", "note": "村民代表评议\"通过\"", "members": k, "k": [k, None, True]},
                contract_hash="c" * 64 if k % 2 else None, county_code="340223" if k % 4 else None)


def _stored(db: Database) -> tuple[list[tuple], list[tuple], tuple]:
    with db.read() as session:
        entries = [tuple(r) for r in session.execute(select(
            AuditEntry.idx, AuditEntry.time, AuditEntry.actor, AuditEntry.role, AuditEntry.action, AuditEntry.subject,
            AuditEntry.contract_hash, AuditEntry.entry, AuditEntry.leaf_hash, AuditEntry.county_code)
            .order_by(AuditEntry.idx))]
        nodes = [tuple(r) for r in session.execute(select(AuditNode.level, AuditNode.idx, AuditNode.hash)
                                                   .order_by(AuditNode.level, AuditNode.idx))]
        head = tuple(session.execute(select(AuditHead.size, AuditHead.compact)).one())
    return entries, nodes, head


def test_entries_appended_at_commit_are_the_bytes_append_writes(db: Database, clock: FixedClock) -> None:
    # 70 entries, every other one each way: every shape of the compact range up to 64 (a leaf completing up to six
    # nodes) is met by both ways, and the rows are compared with what the process computes on its own.
    with db.begin() as session:
        log.ensure_head(session)
    expected = merkle.CompactRange()
    expected_nodes: list[tuple] = []
    expected_entries: list[tuple] = []
    for k in range(70):
        item = _entry(k)
        with db.begin() as session:
            if k % 2:
                assert log.append_at_commit(session, clock=clock, **item) is None
            else:
                assert log.append(session, clock=clock, **item) == k
        now = clock.now()
        data = encode_entry(index=k, time=format_time(now), actor=item["actor"], role=item["role"],
                            action=item["action"], subject=item["subject"], contract_hash=item["contract_hash"],
                            payload=item["payload"])
        leaf = merkle.leaf_hash(data)
        expected_entries.append((k, now, item["actor"], item["role"], item["action"], item["subject"],
                                 item["contract_hash"], data, leaf, item["county_code"]))
        expected_nodes.extend((level, idx, h) for level, idx, h in expected.append(leaf))
        clock.advance(seconds=1)
    entries, nodes, head = _stored(db)
    assert [e[:7] + (bytes(e[7]), bytes(e[8]), e[9]) for e in entries] == expected_entries
    assert [(lv, i, bytes(h)) for lv, i, h in nodes] == sorted(expected_nodes)
    assert (head[0], bytes(head[1])) == (70, expected.to_bytes())
    result = verify_log(db, {}, strict=False)
    assert result.ok, result.message


def test_an_entry_appended_at_commit_derives_its_county_and_refuses_what_has_no_canonical_form(
        db: Database, clock: FixedClock) -> None:
    with db.begin() as session:
        log.ensure_head(session)
    with pytest.raises(ValueError), db.begin() as session:
        log.append_at_commit(session, actor="u", role="r", action="a", subject="s", payload={"x": 1.5}, clock=clock)
    with pytest.raises(ValueError), db.begin() as session:  # a time without a zone
        log.append_at_commit(session, actor="u", role="r", action="a", subject="s", payload={},
                             clock=FixedClock(datetime(2020, 1, 1)))
    with db.begin() as session:
        log.append_at_commit(session, actor="u", role="r", action="a", subject="s", payload={}, clock=clock)
    entries, nodes, head = _stored(db)
    assert [e[0] for e in entries] == [0] and head[0] == 1  # nothing of the refused ones


def test_two_entries_appended_at_commit_in_one_transaction_follow_each_other(db: Database, clock: FixedClock) -> None:
    with db.begin() as session:
        log.ensure_head(session)
        log.append(session, clock=clock, **_entry(0))
    with db.begin() as session:
        log.append_at_commit(session, clock=clock, **_entry(1))
        log.append_at_commit(session, clock=clock, **_entry(2))
        assert log.append(session, clock=clock, **_entry(3)) == 3  # its lock sends the two first
    with db.read() as session:
        assert [e.subject for e in session.scalars(select(AuditEntry).order_by(AuditEntry.idx))] == [
            "case_0000", "case_0001", "case_0002", "case_0003"]
    result = verify_log(db, {}, strict=False)
    assert result.ok, result.message


def test_concurrent_writers_appending_at_commit_keep_the_log_gap_free(db: Database, database_url: str) -> None:
    with db.begin() as session:
        log.ensure_head(session)
    other = Database(database_url)  # as another process would
    writers, each = 6, 20

    def write(writer: int) -> None:
        target = db if writer % 2 else other
        for k in range(each):
            with target.begin() as session:
                item = dict(_entry(k), subject=f"case_{writer}_{k}")
                if (writer + k) % 3:
                    log.append_at_commit(session, **item)
                else:
                    log.append(session, **item)

    errors = at_once(writers, write)
    other.dispose()
    assert not errors, errors
    entries, nodes, head = _stored(db)
    assert [e[0] for e in entries] == list(range(writers * each))
    for writer in range(writers):  # each writer's entries in its own order
        mine = [e[5] for e in entries if e[5].startswith(f"case_{writer}_")]
        assert mine == [f"case_{writer}_{k}" for k in range(each)]
    assert head[0] == writers * each
    result = verify_log(db, {}, strict=False)
    assert result.ok, result.message


def test_on_postgresql_the_head_is_not_held_before_the_commit(db: Database, database_url: str, clock: FixedClock) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL: the head's row lock")
    with db.begin() as session:
        log.ensure_head(session)
    with db.begin() as session:
        log.append(session, clock=clock, **_entry(0))
        session.execute(text("SELECT 1"))  # sends the append: the head is locked until the commit
        assert not head_free(database_url)
    with db.begin() as session:
        log.append_at_commit(session, clock=clock, **_entry(1))
        assert head_free(database_url)  # nothing sent yet: the append goes with the COMMIT
        session.execute(text("SELECT 1"))  # another statement of the transaction (a group's next write's, say)
        assert head_free(database_url)  # still not sent: the append goes with the COMMIT itself
        log.append_at_commit(session, clock=clock, **_entry(2))
    with db.read() as session:
        assert log.tree_size(session) == 3
    assert verify_log(db, {}, strict=False).ok


def _rows(db: Database) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Every row of the log (a head missing as none)."""
    with db.read() as session:
        return tuple([tuple(r) for r in session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))]
                     for table in ("audit_entry", "audit_node", "audit_head"))  # type: ignore[return-value]


def _damage_missing(session) -> None:  # type: ignore[no-untyped-def]
    session.execute(text("DELETE FROM audit_head"))


def _compact_and(session, extra: bytes) -> None:  # type: ignore[no-untyped-def]
    compact = bytes(session.execute(text("SELECT compact FROM audit_head")).scalar_one())
    session.execute(text("UPDATE audit_head SET compact = :c"), {"c": compact + extra})


def _damage_hash_too_many(session) -> None:  # type: ignore[no-untyped-def]
    _compact_and(session, bytes(32))


def _damage_hash_too_few(session) -> None:  # type: ignore[no-untyped-def]
    session.execute(text("UPDATE audit_head SET size = size + 2"))  # 5 → 7: three set bits for two hashes


def _damage_partial_hash(session) -> None:  # type: ignore[no-untyped-def]
    _compact_and(session, bytes(31))


@pytest.mark.parametrize("at_commit", [True, False], ids=["at_commit", "append"])
@pytest.mark.parametrize("damage", [_damage_missing, _damage_hash_too_many, _damage_hash_too_few, _damage_partial_hash],
                         ids=["missing", "hash_too_many", "hash_too_few", "partial_hash"])
def test_a_missing_or_damaged_head_refuses_the_append_and_nothing_commits(
        db: Database, clock: FixedClock, damage, at_commit: bool) -> None:  # type: ignore[no-untyped-def]
    # The server's statement refuses what `CompactRange` refuses (one hash per set bit of the size), and a missing
    # head, as the process refuses it: the append fails, as a failing log (`faults.log_failed`) or `LogCorrupt`.
    from sqlalchemy.exc import IntegrityError

    from verifier.store import faults

    with db.begin() as session:
        log.ensure_head(session)
        for k in range(5):
            log.append(session, clock=clock, **_entry(k))
    with db.begin() as session:
        damage(session)
    before = _rows(db)
    with pytest.raises((IntegrityError, log.LogCorrupt)) as refused, db.begin() as session:
        (log.append_at_commit if at_commit else log.append)(session, clock=clock, **_entry(5))
    assert isinstance(refused.value, log.LogCorrupt) or faults.log_failed(refused.value), refused.value
    assert _rows(db) == before  # nothing of the append
