"""Writes folded into one statement on PostgreSQL (`run_batch(fold=True)`, store/writer.py): the others as
data-modifying CTEs of the last, whose row count is the statement's. A check's writes and an audit append go so.

On SQLite (no data-modifying CTE) the writes run one by one; the tests hold on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from idempotency_rows import INSERT, RENAME, keys, row
from pipeline_spy import statements_sent
from verifier.audit import log as audit
from verifier.audit.models import AuditHead, AuditNode
from verifier.audit.verify import verify_log
from verifier.domain.errors import InvalidState
from verifier.store.db import Database
from verifier.store.writer import run_batch


def test_folded_writes_are_one_statement_on_postgresql_and_its_count_is_the_last_writes(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = statements_sent(monkeypatch)
    told: list[list[int]] = []
    with db.begin() as session:
        counts = run_batch(session, [(INSERT, [row(1), row(2)]), (INSERT, row(3)),
                                     (RENAME, {"old": "k9", "new": "k8"})], fold=True, told=told.append)
    assert keys(db) == ["k1", "k2", "k3"]
    if db.is_sqlite:
        assert counts == [2, 1, 0] and told == [counts]  # one by one, each write's count
        return
    assert counts == [0] and told == [[0]]  # the rename's alone: no key k9
    ours = [s for s in sent if b"idempotency_key" in s]
    assert len(ours) == 1 and ours[0].startswith(b"WITH") and ours[0].count(b"INSERT INTO idempotency_key") == 2


def test_writes_folded_before_an_insert_are_written_with_it(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = statements_sent(monkeypatch)
    with db.begin() as session:
        run_batch(session, [(INSERT, row(0))])
    with db.begin() as session:
        counts = run_batch(session, [(RENAME, {"old": "k0", "new": "k5"}), (INSERT, [row(1), row(2)]),
                                     (INSERT, row(3))], fold=True)
    assert keys(db) == ["k1", "k2", "k3", "k5"]
    assert counts == ([1] if not db.is_sqlite else [1, 2, 1])
    if not db.is_sqlite:
        assert len([s for s in sent if b"idempotency_key" in s]) == 2  # the first insert alone, then the fold


def test_a_folded_refusal_rolls_back_every_write_of_the_statement(db: Database) -> None:
    def one(counts: list[int]) -> None:
        if counts[-1] != 1:
            raise InvalidState("nothing to rename")

    with pytest.raises(InvalidState):
        with db.begin() as session:
            run_batch(session, [(INSERT, [row(1), row(2)]), (RENAME, {"old": "nobody", "new": "k9"})],
                      later=True, told=one, fold=True)
    assert keys(db) == []
    with db.begin() as session:
        run_batch(session, [(INSERT, row(0))])
    with db.begin() as session:
        run_batch(session, [(INSERT, [row(1), row(2)]), (RENAME, {"old": "k0", "new": "k9"})],
                  later=True, told=one, fold=True)
    assert keys(db) == ["k1", "k2", "k9"]
    # One statement, one snapshot: on PostgreSQL a folded write does not see the rows the others of its statement
    # write (so the callers fold only writes of rows apart); on SQLite they run one by one.
    if db.is_sqlite:
        return
    with pytest.raises(InvalidState):
        with db.begin() as session:
            run_batch(session, [(INSERT, row(3)), (RENAME, {"old": "k3", "new": "k4"})], later=True, told=one,
                      fold=True)
    assert keys(db) == ["k1", "k2", "k9"]


def test_a_duplicate_key_in_a_folded_statement_writes_nothing_of_it(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with db.begin() as session:
        run_batch(session, [(INSERT, [row(0), row(1)])])
    with pytest.raises(IntegrityError):
        with db.begin() as session:
            run_batch(session, [(INSERT, [row(2), row(1)]), (RENAME, {"old": "k0", "new": "k5"})], fold=True)
    assert keys(db) == ["k0", "k1"]


def test_on_postgresql_an_append_is_one_statement_with_its_nodes_and_the_log_verifies(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    with db.begin() as session:
        audit.ensure_head(session)
    sent = statements_sent(monkeypatch)
    per_append = []
    for n in range(8):  # 1, 3, 5, 7 complete nodes (7: three of them)
        at = len(sent)
        with db.begin() as session:
            audit.append(session, actor="u", role="r", action="a", subject=f"s{n}", payload={"n": n},
                         county_code=None)
        per_append.append([s for s in sent[at:] if b"audit_" in s])
    with db.begin() as session:  # two entries under one lock
        audit.append_many(session, [{"actor": "u", "role": "r", "action": "a", "subject": "t", "payload": {},
                                     "county_code": None}] * 2)
    with db.read() as session:
        assert session.get(AuditHead, 1).size == 10  # type: ignore[union-attr]
        assert len(session.scalars(select(AuditNode)).all()) == 8  # of two leaves, four, eight: 5 + 2 + 1
    assert verify_log(db, [], strict=True).ok
    if db.is_sqlite:
        return
    for statements in per_append:  # the head's lock, then the entry, its nodes and the head in one statement
        assert len(statements) == 2 and statements[0].startswith(b"SELECT audit_head"), statements
        assert statements[1].startswith(b"WITH") and b"UPDATE audit_head" in statements[1]
    assert b"INSERT INTO audit_node" not in per_append[0][1]
    assert per_append[7][1].count(b"::SMALLINT") == 3  # index 7 completes three nodes: one INSERT of three rows


def test_writes_too_many_for_one_statement_go_unfolded(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL takes at most 65,535 parameters in a statement: beyond `FOLD_MAX_PARAMETERS` the writes are sent
    as they would be without `fold` (every row written, each write's count)."""
    from verifier.store import writer

    monkeypatch.setattr(writer, "FOLD_MAX_PARAMETERS", 20)  # three rows of seven values each
    sent = statements_sent(monkeypatch)
    with db.begin() as session:
        counts = run_batch(session, [(INSERT, [row(1), row(2)]), (INSERT, row(3))], fold=True)
    assert keys(db) == ["k1", "k2", "k3"] and counts == [2, 1]
    if not db.is_sqlite:
        ours = [s for s in sent if b"idempotency_key" in s]
        assert len(ours) == 3 and not any(s.startswith(b"WITH") for s in ours)  # a row each, as unfolded


def test_a_guarded_fold_is_judged_by_the_server_and_goes_with_the_commit(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_batch(one_row=True)` (a check's writes): on PostgreSQL the folded statement fails unless its last write
    wrote one row, so nothing is judged in the process and the batch goes with the COMMIT (one round trip, where a
    judged one is sent apart first: `send_judged`); refused, nothing of it nor of the transaction is written. On
    SQLite `told` judges, as before."""
    from sqlalchemy.exc import DBAPIError

    from verifier.store import writer
    from verifier.store.writer import NOT_ONE_ROW, send_judged

    told: list[list[int]] = []

    def one(counts: list[int]) -> None:
        told.append(counts)
        if counts[-1] != 1:
            raise InvalidState("nothing to rename")

    exchanges: list[bool] = []
    real = writer.send_writes

    def send_writes(*args: Any, **kwargs: Any) -> Any:
        exchanges.append(bool(kwargs.get("commit")))
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, "send_writes", send_writes)
    with db.begin() as session:
        run_batch(session, [(INSERT, row(0))])
    exchanges.clear()
    with db.begin() as session:
        run_batch(session, [(INSERT, [row(1), row(2)]), (RENAME, {"old": "k0", "new": "k9"})],
                  later=True, told=one, fold=True, one_row=True)
        send_judged(session)  # what an append before the COMMIT does: nothing left to send apart
    assert keys(db) == ["k1", "k2", "k9"]
    if db.is_sqlite:
        assert told == [[2, 1]]
    else:
        assert told == [] and exchanges == [True]  # the batch sent with the COMMIT, nothing before it

    refused: type[BaseException] = InvalidState if db.is_sqlite else DBAPIError
    with pytest.raises(refused) as caught:
        with db.begin() as session:
            run_batch(session, [(INSERT, row(3)), (RENAME, {"old": "nobody", "new": "k8"})],
                      later=True, told=one, fold=True, one_row=True)
            send_judged(session)
    assert keys(db) == ["k1", "k2", "k9"]
    if not db.is_sqlite:
        assert NOT_ONE_ROW in str(caught.value)
