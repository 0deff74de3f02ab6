"""The append-only audit log: appends inside the caller's transaction (its reads for proofs: proofs.py).

Every state change calls `append` in the transaction that makes the change, so the entry commits or rolls
back with it. An append locks the single head row (`SELECT ... FOR UPDATE`; on SQLite the write
transaction already holds the database's write lock), takes the next index from it, stores the entry's
canonical bytes and leaf hash, writes the tree nodes the new leaf completes and saves the new compact
range. That is a handful of rows whatever the log's size, and indices are gap-free under any number of
concurrent writers in any number of processes: nothing is cached outside the database.

Call `append` as the last step of a transaction, after the business rows are written: the head lock is
then held only for the commit, and no transaction waits for a business row while holding the head.

Entries must carry no personal data in clear: put hashes, ids or ciphertext in the payload.

Each entry is stored with the county it concerns (outside its hashed bytes), for readers limited to counties:
named by the caller, or derived from the subject or payload (`counties.county_of`); none when neither says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import Clock
from ..store.reader import Prepared, session_reader
from ..store.writer import PreparedWrite, Write, run_batch, send_judged, tail_first
from . import merkle, pgappend
from .canonical import encode_entry, format_time
from .counties import county_of
from .models import AuditEntry, AuditHead, AuditNode

APPENDED = "audit_appended"
"""Key set in `session.info` when a transaction appended entries (the checkpoint hook looks for it)."""

_entry: Table = AuditEntry.__table__  # type: ignore[assignment]
_node: Table = AuditNode.__table__  # type: ignore[assignment]
_head: Table = AuditHead.__table__  # type: ignore[assignment]
_default_clock = Clock()

# Built once: a statement object memoizes its cache key, so executing it again skips rebuilding the clause
# and recomputing the key (most of an append's Python time otherwise).
_HEAD = select(_head.c.size, _head.c.compact).where(_head.c.id == 1)
_LOCK_HEAD = Prepared(_HEAD.with_for_update())
_INSERT_ENTRY = PreparedWrite(insert(_entry))
_INSERT_NODE = PreparedWrite(insert(_node))
_UPDATE_HEAD = PreparedWrite(update(_head).where(_head.c.id == 1)
                             .values(size=bindparam("size"), compact=bindparam("compact")))


class Derived:
    """The type of `DERIVED`: the county an entry concerns is derived from its subject or payload."""


DERIVED = Derived()


class LogCorrupt(RuntimeError):
    """The stored tree is missing rows it must have; run `verifier audit verify`."""


def insert_ignore(session: Session, table: Table, values: Mapping[str, Any]) -> None:
    """INSERT that silently does nothing when the primary key already exists (both databases)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database {dialect}")
    session.execute(stmt)


def ensure_head(session: Session) -> None:
    """Create the head row of an empty log if it is missing (safe to call concurrently and repeatedly)."""
    insert_ignore(session, _head, {"id": 1, "size": 0, "compact": b""})


def _lock_head(session: Session) -> merkle.CompactRange:
    tail_first(session)  # entries appended at commit before it go first, in their order
    row = session_reader(session).first(_LOCK_HEAD)
    if row is None:
        ensure_head(session)
        row = session_reader(session).first(_LOCK_HEAD)
        if row is None:
            raise LogCorrupt("the log's head row is missing and could not be made")
    try:
        return merkle.CompactRange.from_bytes(row.size, row.compact)
    except ValueError as exc:  # as audit/pgappend.py's statement refuses it
        raise LogCorrupt(f"the log's head is damaged: {exc}") from exc


def read_head(session: Session) -> merkle.CompactRange:
    """The log's size and compact range as this transaction sees them (no lock)."""
    tail_first(session)
    row = session.execute(_HEAD).one_or_none()
    if row is None:
        return merkle.CompactRange()
    return merkle.CompactRange.from_bytes(row.size, row.compact)


def tree_size(session: Session) -> int:
    return read_head(session).size


def text_digest(text: str) -> str:
    """Free text (notes, reasons, summaries) may name people: the log keeps only its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    contract_hash: str | None = None,
    clock: Clock | None = None,
    county_code: str | None | Derived = DERIVED,
) -> int:
    """Append one entry in the session's transaction; returns its index.

    `county_code` names the county the entry concerns (None: no county); when not given it is derived.
    """
    item = _item(actor, role, action, subject, payload, contract_hash, county_code)
    return append_many(session, [item], clock=clock)[0]


def _item(actor: str, role: str, action: str, subject: str, payload: dict[str, Any], contract_hash: str | None,
          county_code: str | None | Derived) -> dict[str, Any]:
    """`append`'s keyword arguments as one of `append_many`'s entries (no `county_code` key: derived)."""
    item: dict[str, Any] = {"actor": actor, "role": role, "action": action, "subject": subject, "payload": payload,
                            "contract_hash": contract_hash}
    if county_code is not DERIVED:
        item["county_code"] = county_code
    return item


def append_at_commit(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
    contract_hash: str | None = None,
    clock: Clock | None = None,
    county_code: str | None | Derived = DERIVED,
) -> None:
    """`append`, for a transaction whose last step it is and which needs not know the entry's index.

    On PostgreSQL the entry is numbered, hashed and its nodes written by one statement (audit/pgappend.py) sent with
    the transaction's COMMIT, in its round trip: the head is locked only between that statement and the COMMIT the
    server runs after it, not for a round trip and the process's work as `append` holds it. The writes deferred
    before it whose counts are yet to be judged are sent first (one round trip, where `append` sent them with its
    lock of the head). The log holds the same bytes either way. On SQLite, `append`."""
    item = _item(actor, role, action, subject, payload, contract_hash, county_code)
    if session.get_bind().dialect.driver != "psycopg":
        append_many(session, [item], clock=clock)
        return
    county = item["county_code"] if "county_code" in item else county_of(session, subject, payload)
    now: datetime = (clock or _default_clock).now()
    time_text = format_time(now)  # refuses a time without a zone
    data = encode_entry(index=0, time=time_text, actor=actor, role=role, action=action, subject=subject,
                        contract_hash=contract_hash, payload=payload)
    send_judged(session)
    run_batch(session, [pgappend.append_write(item, data, now.astimezone(UTC), county)], later=True, at_commit=True)
    session.info[APPENDED] = True


def append_many(session: Session, entries: Iterable[Mapping[str, Any]], *, clock: Clock | None = None) -> list[int]:
    """Append several entries (dicts with append's keyword arguments) under one head lock; returns their indices.

    All entries get the same time. Nothing is written if any entry has no canonical form. An entry without a
    `county_code` key gets the county derived from its subject or payload.
    """
    entries = list(entries)
    if not entries:
        return []
    counties = [item["county_code"] if "county_code" in item else county_of(session, item["subject"], item["payload"])
                for item in entries]
    now: datetime = (clock or _default_clock).now()
    time_text = format_time(now)  # refuses a time without a zone
    now = now.astimezone(UTC)
    compact = _lock_head(session)
    entry_rows: list[dict[str, Any]] = []
    node_rows: list[dict[str, Any]] = []
    for item, county in zip(entries, counties):
        index = compact.size
        data = encode_entry(
            index=index,
            time=time_text,
            actor=item["actor"],
            role=item["role"],
            action=item["action"],
            subject=item["subject"],
            contract_hash=item.get("contract_hash"),
            payload=item["payload"],
        )
        leaf = merkle.leaf_hash(data)
        entry_rows.append({
            "idx": index, "time": now, "actor": item["actor"], "role": item["role"], "action": item["action"],
            "subject": item["subject"], "contract_hash": item.get("contract_hash"), "entry": data, "leaf_hash": leaf,
            "county_code": county,
        })
        for level, node_index, digest in compact.append(leaf):
            node_rows.append({"level": level, "idx": node_index, "hash": digest})
    # Prepared writes on the session's connection (store/writer.py): the same transaction, without SQLAlchemy's
    # per-statement work, in one batch. On PostgreSQL the batch waits for the transaction's next round trip (its
    # COMMIT's, `Database.begin`, when the append is last): the head stays locked, so no other append can come
    # between, and an error is raised within the transaction all the same.
    writes: list[Write] = [(_INSERT_ENTRY, entry_rows if len(entry_rows) > 1 else entry_rows[0])]
    if node_rows:
        writes.append((_INSERT_NODE, node_rows if len(node_rows) > 1 else node_rows[0]))
    writes.append((_UPDATE_HEAD, {"size": compact.size, "compact": compact.to_bytes()}))
    # On PostgreSQL one statement (store/writer.py, `fold`): the entries and nodes inserted by data-modifying CTEs of
    # the head's update. Every entry and node is a row of its own (new indices), so nothing is written twice.
    run_batch(session, writes, later=True, fold=True)
    session.info[APPENDED] = True
    return [row["idx"] for row in entry_rows]
