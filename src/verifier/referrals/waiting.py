"""Referral imports still waiting for rows: a file's rows naming someone its importer is tied to (回避) are left out
(`service.store_file`) until another staff member imports the same file. The import page lists, within the viewer's
counties, each import not yet done, who first imported it and how many rows still wait (counts only, no row or person
named), so that no row stays out because only the tied importer's answer mentioned it. An import is done when
`new_cases + merged` (each row brought in counts once) reach its `rows`: what is left is their difference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..store.tables import ReferralImport, User

COMMAND_LINE = "cli:"


@dataclass(frozen=True)
class WaitingImport:
    import_id: str
    county_code: str
    channel: str
    filename: str
    imported_by: str  # who first imported the file: a username, or 命令行（服务器操作员 …）
    imported_at: datetime
    waiting: int  # rows still to be imported by another staff member


def _who(user_id: str, username: str | None) -> str:
    if user_id.startswith(COMMAND_LINE):
        return f"命令行（服务器操作员 {user_id[len(COMMAND_LINE):]}）"
    return username or user_id


def waiting_imports(session: Session, principal: Principal, *, limit: int = 50) -> list[WaitingImport]:
    """The imports of the viewer's counties with rows still left for another staff member, newest first."""
    left = ReferralImport.rows - ReferralImport.new_cases - ReferralImport.merged
    stmt = (select(ReferralImport, User.username, left)
            .outerjoin(User, User.id == ReferralImport.imported_by)
            .where(left > 0)
            .order_by(ReferralImport.imported_at.desc(), ReferralImport.id.desc()).limit(limit))
    if principal.counties:
        stmt = stmt.where(ReferralImport.county_code.in_(principal.counties))
    return [WaitingImport(r.id, r.county_code, r.channel, r.filename, _who(r.imported_by, username), r.imported_at,
                          int(n)) for r, username, n in session.execute(stmt).tuples()]


def first_import(session: Session, principal: Principal, import_id: str) -> WaitingImport | None:
    """Who first imported `import_id` and when (for the answer to a colleague who continued it), `waiting` the rows
    still left after her; None outside the viewer's counties."""
    stmt = (select(ReferralImport, User.username).outerjoin(User, User.id == ReferralImport.imported_by)
            .where(ReferralImport.id == import_id))
    if principal.counties:
        stmt = stmt.where(ReferralImport.county_code.in_(principal.counties))
    found = session.execute(stmt).tuples().first()
    if found is None:
        return None
    r, username = found
    return WaitingImport(r.id, r.county_code, r.channel, r.filename, _who(r.imported_by, username), r.imported_at,
                         r.rows - r.new_cases - r.merged)
