"""Prepared writes on the idempotency-key table and its rows, for the tests of deferred and folded writes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from verifier.idempotency import IdempotencyKey
from verifier.store.db import Database
from verifier.store.writer import PreparedWrite

_key = IdempotencyKey.__table__
INSERT = PreparedWrite(insert(_key))
RENAME = PreparedWrite(update(_key).where(_key.c.key == bindparam("old")).values(key=bindparam("new")))


def row(n: int) -> dict[str, Any]:
    return {"user_id": "u_1", "key": f"k{n}", "method_path": "POST /x", "request_hash": "h", "response_status": 201,
            "response_body": b"{}", "created_at": datetime(2020, 6, 1, tzinfo=UTC)}


def keys(db: Database) -> list[str]:
    with db.read() as session:
        return sorted(session.scalars(select(IdempotencyKey.key)))
