"""The fast pass of `verify_log` on logs of random sizes, checkpoints and cuts into ranges and chunks: it
accepts every intact log with the counts the sequential pass gives, and refuses every damaged one."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from verifier.audit import fastpass, log, merkle, scan
from verifier.audit.canonical import encode_entry
from verifier.audit.checkpoints import Signer, issue_checkpoint
from verifier.audit.fastpass import Outcome, Plan, fast_pass
from verifier.audit.lastsigned import SAVED_FILE
from verifier.audit.verify import verify_log
from verifier.store.db import Database

from tamper_helpers import rewrite_tree, sql

DAMAGE = ["entry byte", "leaf hash", "entry deleted", "entry index column", "entry rewritten with its tree",
          "node hash", "node deleted", "node beyond", "checkpoint root", "checkpoint beyond", "head compact"]


def build(db: Database, signer: Signer, size: int, checkpoints: set[int]) -> None:
    with db.engine.begin() as conn:  # the last example's log emptied, in one transaction
        for table in ("audit_checkpoint", "audit_node", "audit_entry", "audit_head"):
            conn.execute(text(f"DELETE FROM {table}"))
    assert signer.path is not None  # and what its key last signed, kept beside it: a new log begins
    (signer.path.parent / SAVED_FILE).unlink(missing_ok=True)
    with db.begin() as session:
        log.ensure_head(session)
    done = 0
    for target in sorted(checkpoints | {size}):
        with db.begin() as session:
            log.append_many(session, [
                {"actor": "u_clerk", "role": "town_clerk", "action": "case.screen", "subject": f"case_{k}",
                 "payload": {"amount": f"{k}.00"}, "contract_hash": None}
                for k in range(done, target)
            ])
        done = target
        if target in checkpoints:
            issue_checkpoint(db, signer)


def damage(db: Database, kind: str, draw: st.DataObject, size: int) -> None:
    pick = draw.draw
    if kind == "entry byte":
        k = pick(st.integers(0, size - 1))
        (entry,) = sql(db, "SELECT entry FROM audit_entry WHERE idx = :k", k=k)[0]
        at = pick(st.integers(0, len(entry) - 1))
        flipped = bytes(entry[:at]) + bytes([entry[at] ^ 1 << pick(st.integers(0, 7))]) + bytes(entry[at + 1:])
        sql(db, "UPDATE audit_entry SET entry = :e WHERE idx = :k", e=flipped, k=k)
    elif kind == "leaf hash":
        sql(db, "UPDATE audit_entry SET leaf_hash = :h WHERE idx = :k", h=bytes(32), k=pick(st.integers(0, size - 1)))
    elif kind == "entry deleted":
        sql(db, "DELETE FROM audit_entry WHERE idx = :k", k=pick(st.integers(0, size - 1)))
    elif kind == "entry rewritten with its tree":  # only a checkpoint over the entry can show this
        k = pick(st.integers(0, size - 1))
        forged = encode_entry(index=k, time="2020-06-03T09:00:00.000000Z", actor="u_x", role="admin",
                              action="case.pay", subject="case_x", contract_hash=None, payload={})
        sql(db, "UPDATE audit_entry SET entry = :e, leaf_hash = :h WHERE idx = :k", e=forged,
            h=merkle.leaf_hash(forged), k=k)
        rewrite_tree(db)
    elif kind == "entry index column":
        sql(db, "UPDATE audit_entry SET idx = idx + 1000 WHERE idx = :k", k=pick(st.integers(0, size - 1)))
    elif kind in ("node hash", "node deleted"):
        nodes = sql(db, "SELECT level, idx FROM audit_node ORDER BY level, idx")
        level, idx = pick(st.sampled_from(nodes))
        if kind == "node hash":
            sql(db, "UPDATE audit_node SET hash = :h WHERE level = :l AND idx = :i", h=bytes(32), l=level, i=idx)
        else:
            sql(db, "DELETE FROM audit_node WHERE level = :l AND idx = :i", l=level, i=idx)
    elif kind == "node beyond":
        level = pick(st.integers(1, 7))
        sql(db, "INSERT INTO audit_node (level, idx, hash) VALUES (:l, :i, :h)", l=level, i=size >> level, h=bytes(32))
    elif kind == "checkpoint root":
        sizes = [s for (s,) in sql(db, "SELECT tree_size FROM audit_checkpoint")]
        sql(db, "UPDATE audit_checkpoint SET root = :r WHERE tree_size = :s", r=bytes(32), s=pick(st.sampled_from(sizes)))
    elif kind == "checkpoint beyond":
        (note, root, key_id) = sql(db, "SELECT note, root, key_id FROM audit_checkpoint ORDER BY tree_size DESC")[0]
        sql(db, "INSERT INTO audit_checkpoint (tree_size, root, key_id, note, created) "
                "VALUES (:s, :r, :k, :n, CURRENT_TIMESTAMP)", s=size + pick(st.integers(1, 5)), r=root, k=key_id, n=note)
    elif kind == "head compact":
        sql(db, "UPDATE audit_head SET compact = :c", c=bytes(32) * size.bit_count())


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(draw=st.data())
def test_the_fast_pass_agrees_with_the_sequential_pass(db: Database, signer: Signer, draw: st.DataObject,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    size = draw.draw(st.integers(0, 40), label="size")
    checkpoints = draw.draw(st.sets(st.integers(0, size)), label="checkpoints")
    chunk_levels = draw.draw(st.integers(1, 3), label="chunk levels")
    plan = Plan(processes=1, chunk_levels=chunk_levels, span_level=draw.draw(st.integers(chunk_levels, 6)))
    build(db, signer, size, checkpoints)
    possible = [kind for kind in DAMAGE
                if (kind.startswith("entry") or kind == "leaf hash" or kind == "head compact") and size
                or kind.startswith("node") and size >= 2
                or kind.startswith("checkpoint") and checkpoints]
    kind = draw.draw(st.sampled_from([None, *possible]), label="damage")
    event(f"damage: {kind}")
    if kind is not None:
        damage(db, kind, draw, size)
    keys = [signer.verifier]

    outcome = fast_pass(db, keys, plan, batch=draw.draw(st.integers(1, 5), label="batch"))
    sequential = verify_log(db, keys, strict=True)
    # A rewritten entry with its tree recomputed stays unnoticed where no checkpoint covers it: by design.
    unsigned = kind == "entry rewritten with its tree" and sequential.ok
    if kind is None or unsigned:
        assert sequential.ok, sequential.message
        assert outcome == Outcome(size, len(checkpoints), 1)
        assert (sequential.entries, sequential.checkpoints) == (size, len(checkpoints))
    else:
        assert not sequential.ok
        assert outcome is None, f"the fast pass missed: {sequential.message}"
    assert not caplog.records


def test_worker_processes_check_a_larger_log(db: Database, signer: Signer, caplog: pytest.LogCaptureFixture) -> None:
    """Ranges of 64 in chunks of 8 over 1,000 entries with a checkpoint every 37, in three processes: the same
    answer as in one; then one entry in the last range changed, which the fast pass must see."""
    caplog.set_level(logging.WARNING)
    size = 1_000
    checkpoints = set(range(0, size + 1, 37)) | {size}
    build(db, signer, size, checkpoints)
    keys = [signer.verifier]
    three = Plan(processes=3, chunk_levels=3, span_level=6, parallel_from=0)
    result = verify_log(db, keys, plan=three)
    assert (result.ok, result.entries, result.checkpoints, result.processes) == (True, size, len(checkpoints), 3)
    assert verify_log(db, keys, plan=Plan(processes=1, chunk_levels=3, span_level=6)).processes == 1

    sql(db, "UPDATE audit_entry SET entry = :e WHERE idx = 990", e=b'{"action":"forged"}')
    assert fast_pass(db, keys, three, batch=100) is None
    bad = verify_log(db, keys, plan=three)
    assert (bad.ok, bad.first_bad_index, bad.processes) == (False, 990, 0)
    assert not caplog.records  # no worker failed: they found the change


def test_every_checkpoint_names_one_origin(db: Database, signer: Signer, caplog: pytest.LogCaptureFixture) -> None:
    """A checkpoint re-signed under another origin by a trusted key: each worker sees one origin, so the
    parent must compare theirs."""
    caplog.set_level(logging.WARNING)
    build(db, signer, 12, {4, 12})
    other = Signer("verifier.example/another-log", bytes(range(32)))
    (root,) = sql(db, "SELECT root FROM audit_checkpoint WHERE tree_size = 12")[0]
    sql(db, "UPDATE audit_checkpoint SET note = :n, key_id = :k WHERE tree_size = 12",
        n=other.sign_checkpoint(12, bytes(root)), k=other.key_id_hex)
    keys = [signer.verifier, other.verifier]
    two = Plan(processes=2, chunk_levels=1, span_level=3, parallel_from=0)  # 4 in [0, 8), 12 in [8, 12)
    assert fast_pass(db, keys, two, batch=2) is None
    result = verify_log(db, keys, plan=two)
    assert not result.ok and "differs from" in result.message and result.first_bad_index == 4
    assert not caplog.records  # no worker failed: they found the change


@pytest.mark.parametrize("python", ["/nonexistent/python", "/bin/false"])
def test_workers_that_cannot_run_leave_it_to_the_sequential_pass(
        db: Database, signer: Signer, python: str, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    build(db, signer, 12, {4, 12})
    monkeypatch.setattr("sys.executable", python)
    result = verify_log(db, [signer.verifier], plan=Plan(processes=2, chunk_levels=1, span_level=2, parallel_from=0))
    assert (result.ok, result.entries, result.checkpoints, result.processes) == (True, 12, 2, 0)
    assert "audit verification worker" in caplog.text and "checking in one process" in caplog.text


def test_a_write_while_workers_read(db: Database, signer: Signer, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    """An entry appended while the workers read: on PostgreSQL they read the parent's snapshot and the answer
    is for the log as it was; on SQLite they cannot, so the answer is dropped and the sequential pass runs."""
    caplog.set_level(logging.WARNING)
    build(db, signer, 12, {4, 12})
    run_workers = fastpass.run_workers

    def append_first(shares: list, meanwhile: object) -> object:
        with db.begin() as session:
            log.append(session, actor="u_clerk", role="town_clerk", action="case.screen", subject="case_new",
                       payload={}, contract_hash=None)
        return run_workers(shares, meanwhile)

    monkeypatch.setattr(fastpass, "run_workers", append_first)
    two = Plan(processes=2, chunk_levels=1, span_level=2, parallel_from=0)
    outcome = fast_pass(db, [signer.verifier], two, batch=2)
    if db.dialect == "postgresql":
        assert outcome == Outcome(12, 2, 2)
    else:
        assert outcome is None
    monkeypatch.undo()
    result = verify_log(db, [signer.verifier], plan=two)
    assert (result.ok, result.entries, result.processes) == (True, 13, 2)
    assert not caplog.records


def test_a_fractional_checkpoint_size_is_not_a_crash(db: Database, signer: Signer,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    """SQLite stores whatever a forger writes; the fast pass sees it (rather than stopping on an error) and
    the sequential pass names the log truncated."""
    caplog.set_level(logging.WARNING)
    build(db, signer, 8, {4, 8})
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL refuses a fractional size in a bigint column")
    sql(db, "UPDATE audit_checkpoint SET tree_size = 4.5 WHERE tree_size = 4")
    for plan in (Plan(), Plan(processes=2, chunk_levels=1, span_level=2, parallel_from=0)):
        assert fast_pass(db, [signer.verifier], plan, batch=3) is None
        assert not verify_log(db, [signer.verifier], plan=plan).ok
    assert not caplog.records


def test_an_error_in_the_fast_pass_leaves_it_to_the_sequential_pass(
        db: Database, signer: Signer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    build(db, signer, 8, {4, 8})

    def broken(*args: object) -> list[bytes]:
        raise ValueError("something unforeseen")

    monkeypatch.setattr(fastpass, "check_range", broken)
    result = verify_log(db, [signer.verifier])
    assert (result.ok, result.entries, result.checkpoints, result.processes) == (True, 8, 2, 0)
    assert "something unforeseen" in caplog.text and "entry by entry" in caplog.text


@pytest.mark.parametrize("chunked_rows", [True, False])  # libpq 17 and later; before, a server-side cursor
def test_entries_read_either_way(db: Database, signer: Signer, chunked_rows: bool,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "_CHUNKED_ROWS", chunked_rows)
    build(db, signer, 40, {5, 17, 40})
    for plan in (Plan(processes=1, chunk_levels=2, span_level=4), Plan(chunk_levels=3)):
        assert fast_pass(db, [signer.verifier], plan, batch=3) == Outcome(40, 3, 1)
    sql(db, "UPDATE audit_entry SET leaf_hash = :h WHERE idx = 33", h=bytes(32))
    assert fast_pass(db, [signer.verifier], Plan(processes=1, chunk_levels=2, span_level=4), batch=3) is None
    # A stream left half-read is cancelled: the same connection serves the sequential pass afterwards.
    assert verify_log(db, [signer.verifier]).first_bad_index == 33
