"""What the grouped-writes tests of both databases write: idempotency keys, one a number, and a refused write that
keeps a trace after its rollback (tests/store/test_grouped_writes.py, tests/store/test_grouped_writes_sqlite.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database, keep_after_rollback


def key(n: int) -> IdempotencyKey:
    return IdempotencyKey(user_id="u_1", key=f"k{n}", method_path="POST /x", request_hash="h", response_status=201,
                          response_body=b"{}", created_at=datetime(2020, 6, 1, tzinfo=UTC))


def keys(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(IdempotencyKey.key)), key=lambda k: int(k[1:]))


def refused_keeping_a_trace(traces: list[int]) -> Callable[[Session], None]:
    """A write that adds key 5 and is refused (不予办理), keeping key 500 as its trace (each trace noted)."""
    def refused(session: Session) -> None:
        session.add(key(5))
        session.flush()

        def trace(s: Session) -> None:
            traces.append(1)
            s.add(key(500))
            s.flush()

        raise keep_after_rollback(ValueError("不予办理"), trace)
    return refused
