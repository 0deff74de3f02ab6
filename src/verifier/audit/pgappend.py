"""PostgreSQL: one audit entry appended by one statement that locks the log's head, numbers the entry, hashes it and
writes the tree nodes it completes, all on the server.

`log.append_many` locks the head (`SELECT … FOR UPDATE`) in one round trip, computes the entry's bytes, leaf hash
and nodes in the process, and writes them with the COMMIT in the next: the head stays locked for a round trip and
whatever the process does between (under load, mostly waiting for a core or the GIL), and every other append waits
that long. Here the same work is one statement sent with the COMMIT (`run_batch(later=True)`, `Database.begin`), so
the head is locked from that statement's execution to the COMMIT the server runs right after it, in the same
pipeline: no round trip, no process in between.

The bytes are the same as `log.append_many`'s, byte for byte: the entry is encoded by `canonical.encode_entry` in the
process with index 0 and cut around that index (the first `,"index":` of a canonical entry is the top-level one: the
members before it hold only strings or null, see canonical.py); the server puts the head's size between the two
parts as plain decimal, as the encoder writes an integer. The leaf hash is SHA-256 of 0x00 and the entry, a node's
SHA-256 of 0x01 and its two children (RFC 6962, merkle/hashing.py); the compact range is folded as
`merkle.CompactRange.append` folds it: while the size's lowest bit is set, the last hash of the range and the new
hash make the node one level up, whose index is the size shifted right by its level. `tests/audit` compare the
entries, nodes and head with the process's own computation and verify the log.

The head is read `FOR UPDATE` inside the statement. In READ COMMITTED (every write transaction's level) a row
locked after waiting for another transaction is the row as that transaction committed it (PostgreSQL re-reads the
newest version of a locked row), so the entry is numbered after the append it waited for; the head's UPDATE then
writes that version's successor from the same values, not from the statement's snapshot.

A head missing or damaged makes the statement fail, as `log._lock_head` refuses it (`LogCorrupt`): the head is
joined to one row of nothing, so a missing head is a row of NULLs, and the entry's index is the head's size only
when its compact range holds one hash per set bit of the size (`CompactRange.__init__`'s rule), NULL otherwise; a
NULL index is refused by `audit_entry`'s primary key (a not-null violation on `audit_entry.idx`), so nothing of the
transaction commits and the error is answered as a failing log (`store/faults.py`, `log_failed`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import LargeBinary, String, bindparam, text

from ..store.base import UtcDateTime
from ..store.writer import PreparedWrite

_INDEX = b',"index":'

_APPEND = PreparedWrite(text("""
WITH RECURSIVE locked AS (
    SELECT size, compact FROM audit_head WHERE id = 1 FOR UPDATE
), head AS (
    SELECT size, compact, octet_length(compact) / 32 AS hashes FROM (SELECT) AS one LEFT JOIN locked ON true
), leaf AS (
    SELECT CASE WHEN size >= 0 AND octet_length(compact) = 32 * length(replace(size::bit(64)::text, '0', ''))
                THEN size END AS idx,
           bytes, sha256('\\x00'::bytea || bytes) AS hash
    FROM head, LATERAL (SELECT CAST(:before AS BYTEA) || convert_to(size::text, 'UTF8')
                               || CAST(:after AS BYTEA) AS bytes) AS entry
), up(level, idx, rest, kept, hash) AS (
    SELECT 0, idx, idx, hashes, leaf.hash FROM leaf, head
    UNION ALL
    SELECT up.level + 1, up.idx >> 1, up.rest >> 1, up.kept - 1,
           sha256('\\x01'::bytea || substring(head.compact FROM (up.kept - 1) * 32 + 1 FOR 32) || up.hash)
    FROM up, head WHERE (up.rest & 1) = 1
), top AS (
    SELECT kept, hash FROM up WHERE (rest & 1) = 0
), entry_row AS (
    INSERT INTO audit_entry (idx, time, actor, role, action, subject, contract_hash, entry, leaf_hash, county_code)
    SELECT idx, CAST(:time AS TIMESTAMP WITH TIME ZONE), CAST(:actor AS VARCHAR), CAST(:role AS VARCHAR),
           CAST(:action AS VARCHAR), CAST(:subject AS VARCHAR), CAST(:contract_hash AS VARCHAR), bytes, hash,
           CAST(:county_code AS VARCHAR)
    FROM leaf
), node_rows AS (
    INSERT INTO audit_node (level, idx, hash) SELECT level, idx, hash FROM up WHERE level > 0
)
UPDATE audit_head SET size = head.size + 1, compact = substring(head.compact FOR top.kept * 32) || top.hash
FROM head, top WHERE audit_head.id = 1
""").bindparams(bindparam("before", type_=LargeBinary()), bindparam("after", type_=LargeBinary()),
                bindparam("time", type_=UtcDateTime()), bindparam("actor", type_=String()),
                bindparam("role", type_=String()), bindparam("action", type_=String()),
                bindparam("subject", type_=String()), bindparam("contract_hash", type_=String()),
                bindparam("county_code", type_=String())))


def parts(data: bytes) -> tuple[bytes, bytes]:
    """A canonical entry encoded with index 0, cut before and after that index."""
    at = data.index(_INDEX) + len(_INDEX)
    if data[at:at + 2] != b"0,":
        raise ValueError("an entry to number on the server is encoded with index 0")
    return data[:at], data[at + 1:]


def append_write(item: dict[str, Any], data: bytes, now: Any, county: str | None) -> tuple[PreparedWrite, dict[str, Any]]:
    """The statement and its parameters that append `item` (append's keyword arguments), encoded as `data` with
    index 0, at `now` (UTC) for `county`."""
    before, after = parts(data)
    return _APPEND, {"before": before, "after": after, "time": now, "actor": item["actor"], "role": item["role"],
                     "action": item["action"], "subject": item["subject"],
                     "contract_hash": item.get("contract_hash"), "county_code": county}
