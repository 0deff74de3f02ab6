"""What the HTTP API and the command line ask of the audit log: checkpoints, keys, entries with proofs.

Checkpoints, the key and consistency proofs are public. Entries are read by auditors, county reviewers and
admins, each only within their counties: an entry of another county, or one that concerns no county (users,
contracts, keys) for a reader limited to counties, does not exist for them (404).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import msgspec

from ..accounts.auth import Principal
from ..domain.errors import NotFound, ValidationFailed
from ..store.db import Database
from . import log, proofs
from .checkpoints import Signer, issue_checked, latest_checkpoint


READERS = ("auditor", "county_reviewer", "admin")
"""The roles that read audit entries (within their counties)."""


def may_read(principal: Principal | None, county_code: str | None) -> bool:
    """Whether `principal` may read an entry concerning `county_code` (None: no county). No principal: the
    command line, run by whoever holds the database."""
    if principal is None or not principal.counties:
        return True
    return county_code is not None and county_code in principal.counties


class EntryWithProof(msgspec.Struct):
    index: int
    entry: str
    """Base64 of the exact bytes that were hashed."""
    leaf_hash: str
    tree_size: int
    inclusion_proof: list[str]


class ConsistencyProof(msgspec.Struct):
    first: int
    second: int
    proof: list[str]


def checkpoint_text(db: Database, signer: Signer | None = None) -> str:
    """The latest signed checkpoint note. With a signer, a checkpoint is issued first if the latest one is
    behind the log (for instance when the after-commit hook could not sign)."""
    with db.read() as session:
        latest = latest_checkpoint(session)
        size = log.tree_size(session)
    if signer is not None and (latest is None or latest.tree_size < size):
        return issue_checked(db, signer).note
    if latest is None:
        raise NotFound("审计日志还没有检查点")
    return latest.note


def public_key_text(signer: Signer) -> str:
    """The signed-note verifier key of the current checkpoint key, one line."""
    signer.refresh()
    return signer.verifier_key + "\n"


def _checkpointed_size(db: Database, index: int, signer: Signer | None) -> int:
    with db.read() as session:
        latest = latest_checkpoint(session)
    if latest is not None and latest.tree_size > index:
        return latest.tree_size
    if signer is not None:
        return issue_checked(db, signer).tree_size
    covered = 0 if latest is None else latest.tree_size
    raise NotFound(f"审计日志第 {index} 条尚未被检查点覆盖（最新检查点覆盖 {covered} 条），请稍后再试")


def unreadable_entry(index: int) -> str:
    """What a reader is told of an entry they may not read, or that is not in the log: the same words."""
    return f"没有第 {index} 条审计记录（或不在您负责的地区）"


def entry_with_proof(
    db: Database, index: int, tree_size: int | None = None, *, signer: Signer | None = None,
    principal: Principal | None = None,
) -> EntryWithProof:
    """An entry's exact bytes and its inclusion proof, against the latest checkpoint unless `tree_size` is given.

    With a principal, an entry they may not read is answered as absent."""
    with db.read() as session:
        size = log.tree_size(session)
        row = proofs.get_entry(session, index) if 0 <= index < size else None
        hidden = row is not None and not may_read(principal, row.county_code)
    if principal is not None and (hidden or not 0 <= index < size):
        # A reader's refusal of another county's entry is worded as for an index past the log's end.
        raise NotFound(unreadable_entry(index))
    if not 0 <= index < size:
        raise NotFound(f"审计日志第 {index} 条不存在（日志现有第 0 至 {size - 1} 条）"
                       if size else f"审计日志第 {index} 条不存在（日志还是空的）")
    if tree_size is None:
        tree_size = _checkpointed_size(db, index, signer)
    elif not index < tree_size <= size:
        raise ValidationFailed.one("tree_size", f"应大于该条目的序号 {index}，且不超过日志现有条数 {size}")
    with db.read() as session:
        row = proofs.get_entry(session, index)
        if row is None:
            raise NotFound(f"审计日志第 {index} 条不存在")
        proof = proofs.inclusion_proof(session, index, tree_size)
        return EntryWithProof(
            index=index,
            entry=base64.b64encode(bytes(row.entry)).decode("ascii"),
            leaf_hash=bytes(row.leaf_hash).hex(),
            tree_size=tree_size,
            inclusion_proof=[h.hex() for h in proof],
        )


def consistency(db: Database, first: int, second: int) -> ConsistencyProof:
    """The proof that the log at size `second` extends the log at size `first`."""
    with db.read() as session:
        size = log.tree_size(session)
        if not 0 <= second <= size:
            raise ValidationFailed.one("second", f"应为 0 至日志现有条数 {size} 之间的树大小")
        if not 0 <= first <= second:
            raise ValidationFailed.one("first", f"应为 0 至较晚的树大小（{second}）之间")
        proof = proofs.consistency_proof(session, first, second)
    return ConsistencyProof(first=first, second=second, proof=[h.hex() for h in proof])


EXPORT_LIMIT = 100_000
"""The most entries one export holds: a longer period is exported in parts."""


def list_entries(session: Any, principal: Principal, *, since: datetime | None = None,
                 until: datetime | None = None, action: str | None = None, q: str = "",
                 limit: int = EXPORT_LIMIT) -> list[Any]:
    """The entries `principal` may read (see `may_read`), oldest first: from `since` (inclusive) to `until`
    (exclusive), of one action when given, found by the audit page's search `q` when given (listing.py). Rows of
    `audit_entry` (their repeated columns; no proof)."""
    from sqlalchemy import select

    from .listing import searched
    from .models import AuditEntry

    stmt = (select(AuditEntry.idx, AuditEntry.time, AuditEntry.actor, AuditEntry.role, AuditEntry.action,
                   AuditEntry.subject, AuditEntry.county_code).order_by(AuditEntry.idx).limit(limit))
    if principal.counties:
        stmt = stmt.where(AuditEntry.county_code.in_(principal.counties))
    if since is not None:
        stmt = stmt.where(AuditEntry.time >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.time < until)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    found = searched(q)
    if found is not None:
        stmt = stmt.where(found)
    return list(session.execute(stmt).all())


EXPORT_ACTION = "export.spreadsheet"


def record_export(db: Database, principal: Principal, *, what: str, filters: dict[str, Any], content: bytes,
                  county_code: str | None, clock: Any) -> int:
    """Log a spreadsheet of cases, notices, batches, samples or entries taken out of the system: who, which list,
    with which filters, and the file's SHA-256 (so a copy found elsewhere can be traced to its download). A search
    text is never logged (it may be a full ID number): only that there was one. Without a county filter, the entry
    belongs to the caller's county when they have exactly one."""
    import hashlib

    shown = {k: v for k, v in filters.items() if v not in (None, "", [], ()) and k != "q"}
    if filters.get("q"):
        shown["searched"] = True
    with db.begin() as session:
        return log.append(session, actor=principal.id, role=principal.main_role, action=EXPORT_ACTION, subject=what,
                          county_code=county_code or (principal.counties[0] if len(principal.counties) == 1 else None),
                          clock=clock,
                          payload={"what": what, "filters": shown, "file_sha256": hashlib.sha256(content).hexdigest(),
                                   "bytes": len(content)})
