"""Referral imports still waiting for rows: a file's rows naming someone its importer is tied to (回避) are left out
(`service.store_file`) until another staff member imports the same file. The import page lists, within the viewer's
counties, each import not yet done, who first imported it and how many rows still wait (counts only, no row or person
named), so that no row stays out because only the tied importer's answer mentioned it. An import is done when
`new_cases + merged` (each row brought in counts once) reach its `rows`: what is left is their difference.

`import_run` is what the page says after a file (Post/Redirect/Get: the address names the import, never its counts),
read back from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit.canonical import decode_entry
from ..audit.models import AuditEntry
from ..store.tables import ReferralImport, User
from .service import IMPORT_ACTION  # each run of an import, with what it brought in

COMMAND_LINE = "cli:"


@dataclass(frozen=True)
class WaitingImport:
    import_id: str
    county_code: str
    channel: str
    filename: str
    imported_by: str  # who first imported the file: the name people know them by, or 命令行（服务器操作员 …）
    imported_at: datetime
    waiting: int  # rows still to be imported by another staff member


def _who(user_id: str, username: str | None, shown: str | None) -> str:
    """As the pages' header names people (their display name, else the account's username), never the stored id."""
    if user_id.startswith(COMMAND_LINE):
        return f"命令行（服务器操作员 {user_id[len(COMMAND_LINE):]}）"
    return shown or username or "（账号已不存在）"


def waiting_imports(session: Session, principal: Principal, *, limit: int = 50) -> list[WaitingImport]:
    """The imports of the viewer's counties with rows still left for another staff member, newest first."""
    left = ReferralImport.rows - ReferralImport.new_cases - ReferralImport.merged
    stmt = (select(ReferralImport, User.username, User.display_name, left)
            .outerjoin(User, User.id == ReferralImport.imported_by)
            .where(left > 0)
            .order_by(ReferralImport.imported_at.desc(), ReferralImport.id.desc()).limit(limit))
    if principal.counties:
        stmt = stmt.where(ReferralImport.county_code.in_(principal.counties))
    return [WaitingImport(r.id, r.county_code, r.channel, r.filename, _who(r.imported_by, username, shown),
                          r.imported_at, int(n)) for r, username, shown, n in session.execute(stmt).tuples()]


def first_import(session: Session, principal: Principal, import_id: str) -> WaitingImport | None:
    """Who first imported `import_id` and when (for the answer to a colleague who continued it), `waiting` the rows
    still left after her; None outside the viewer's counties."""
    stmt = (select(ReferralImport, User.username, User.display_name).outerjoin(User, User.id == ReferralImport.imported_by)
            .where(ReferralImport.id == import_id))
    if principal.counties:
        stmt = stmt.where(ReferralImport.county_code.in_(principal.counties))
    found = session.execute(stmt).tuples().first()
    if found is None:
        return None
    r, username, shown = found
    return WaitingImport(r.id, r.county_code, r.channel, r.filename, _who(r.imported_by, username, shown),
                         r.imported_at, r.rows - r.new_cases - r.merged)


@dataclass(frozen=True)
class ImportRun:
    """What one run of an import brought in, as the page after the file says it."""

    import_id: str
    county_code: str
    channel: str
    repeated: bool  # the same file again: nothing read, nothing changed; `rows` is then the file's
    rows: int  # rows brought in by this run (new_cases + merged), or the file's rows when `repeated`
    new_cases: int = 0
    merged: int = 0
    left_out: int = 0  # rows this run left for another staff member (回避), not named
    continued: WaitingImport | None = None  # whose import this run continued (the rows it had left out)


def import_run(session: Session, principal: Principal, import_id: str, *, repeated: bool) -> ImportRun | None:
    """The viewer's own last run of `import_id` (its `referrals.import` entry: the figures of that run, never the
    import's totals over the colleagues who continued it); `repeated`: the import, of the viewer's counties, that a
    file sent again matched, which writes nothing. None for an import of another county, one the viewer never ran, or
    no such import: an address alone never makes the page say that something was imported."""
    r = session.get(ReferralImport, import_id)
    if r is None or not principal.may_see_county(r.county_code):
        return None
    if repeated:
        return ImportRun(r.id, r.county_code, r.channel, True, r.rows)
    entry = session.scalar(select(AuditEntry.entry).where(AuditEntry.subject == r.id, AuditEntry.action == IMPORT_ACTION,
                                                          AuditEntry.actor == principal.id)
                           .order_by(AuditEntry.idx.desc()).limit(1))
    if entry is None:
        return None
    said = decode_entry(entry).payload
    new_cases, merged = int(said.get("new_cases", 0)), int(said.get("merged", 0))
    continued = first_import(session, principal, r.id) if said.get("continues") else None
    return ImportRun(r.id, r.county_code, r.channel, False, new_cases + merged, new_cases, merged,
                     len(said.get("left_out_rows") or ()), continued)
