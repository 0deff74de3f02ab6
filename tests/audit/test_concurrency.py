"""Eight writers appending at once: indices stay gap-free and the log verifies, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging

from race_kit import at_once
from sqlalchemy import select

from verifier.audit import log
from verifier.audit.checkpoints import known_keys
from verifier.audit.models import AuditCheckpoint, AuditEntry
from verifier.audit.verify import verify_log
from verifier.store.db import Database

WRITERS = 8
EACH = 25


def test_concurrent_writers_produce_a_gap_free_verifiable_log(db: Database, database_url: str, hook, caplog) -> None:
    caplog.set_level(logging.ERROR)
    # Half the writers share the test's Database (separate pooled connections); the others go through a
    # second Database on the same file or schema, as another process would.
    other = Database(database_url)
    other.after_commit.append(hook)
    returned: dict[int, list[int]] = {}

    def write(writer: int) -> None:
        target = db if writer % 2 else other
        mine: list[int] = []
        returned[writer] = mine
        for k in range(EACH):
            with target.begin() as session:
                mine.append(log.append(session, actor=f"u_{writer}", role="field_officer", action="case.check",
                                       subject=f"case_{writer}_{k}", payload={"k": k}))

    errors = at_once(WRITERS, write)
    other.dispose()
    assert not errors, errors
    assert not caplog.records, [r.getMessage() for r in caplog.records]  # every checkpoint was signed

    every = sorted(i for indices in returned.values() for i in indices)
    assert every == list(range(WRITERS * EACH))
    with db.read() as session:
        stored = list(session.scalars(select(AuditEntry.idx).order_by(AuditEntry.idx)))
        assert stored == list(range(WRITERS * EACH))
        for writer, indices in returned.items():  # each writer's own entries are in its order
            subjects = [session.get(AuditEntry, i).subject for i in indices]
            assert subjects == [f"case_{writer}_{k}" for k in range(EACH)]
        assert log.tree_size(session) == WRITERS * EACH
        sizes = list(session.scalars(select(AuditCheckpoint.tree_size)))
        keys = known_keys(session)
    assert max(sizes) == WRITERS * EACH
    result = verify_log(db, keys)
    assert result.ok, result.message
