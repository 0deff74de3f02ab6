"""What confirming a roster import changes: the import against the roster it replaces (or would), counted by the
people's blind index in SQL, set-based (a few grouped counts, whatever the roster's size). No person is named: counts
by category before and after, the people added, removed and moved to another category, and how many move between
the two household groups (which decides the relief tiers). The read model of the roster's confirmation page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from .. import second_person
from ..accounts.auth import Principal
from ..domain.roster import CATEGORY_NAMES, group_for
from ..second_person import Waiting
from ..store.paged import Paged
from ..store.tables import User
from .models import MIGRATED, RosterEntry, RosterImport
from .service import (confirms_refused, current_import, earlier_rejections, imports, imports_page, load, may_confirm,
                      previous_confirmed,
                      rejections_since, shared_password_setter)

CATEGORIES = tuple(CATEGORY_NAMES)
COMMAND_LINE = "cli:"  # the id prefix of what the server's operator did at the command line


@dataclass(frozen=True)
class Figures:
    before: dict[str, int]  # category → people, in the roster replaced (empty: none)
    after: dict[str, int]  # in the import
    added: dict[str, int]  # on the import only, by their category there
    removed: dict[str, int]  # on the replaced roster only, by their category there
    changed: dict[tuple[str, str], int]  # (category before, after) → people on both with another category

    @property
    def added_total(self) -> int:
        return sum(self.added.values())

    @property
    def removed_total(self) -> int:
        return sum(self.removed.values())

    @property
    def changed_total(self) -> int:
        return sum(self.changed.values())

    def group_moves(self) -> dict[str, int]:
        """People whose household group changes, by the group they move to (on no roster: 非贫低收入户)."""
        moves: dict[str, int] = {}
        pairs = [((None, c), n) for c, n in self.added.items()] + [((c, None), n) for c, n in self.removed.items()]
        for (old, new), n in pairs + list(self.changed.items()):
            if group_for(old) != group_for(new):  # type: ignore[arg-type]
                moves[group_for(new)] = moves.get(group_for(new), 0) + n  # type: ignore[arg-type]
        return moves


def _counts(session: Session, import_id: str | None) -> dict[str, int]:
    if import_id is None:
        return {}
    return {c: n for c, n in session.execute(
        select(RosterEntry.category, func.count()).where(RosterEntry.import_id == import_id)
        .group_by(RosterEntry.category))}


def _only_on(session: Session, import_id: str, other_id: str | None) -> dict[str, int]:
    """People of `import_id` absent from `other_id`, by category (an anti-join on (import_id, blind index))."""
    if other_id is None:
        return _counts(session, import_id)
    mine, theirs = aliased(RosterEntry), aliased(RosterEntry)
    absent = ~exists().where(theirs.import_id == other_id, theirs.id_number_bidx == mine.id_number_bidx)
    return {c: n for c, n in session.execute(
        select(mine.category, func.count()).where(mine.import_id == import_id, absent).group_by(mine.category))}


def figures(session: Session, import_id: str, base_id: str | None) -> Figures:
    """The import `import_id` against the roster import `base_id` (None: the county had no roster)."""
    changed: dict[tuple[str, str], int] = {}
    if base_id is not None:
        new, old = aliased(RosterEntry), aliased(RosterEntry)
        for was, now, n in session.execute(
                select(old.category, new.category, func.count())
                .join(old, and_(old.import_id == base_id, old.id_number_bidx == new.id_number_bidx))
                .where(new.import_id == import_id, old.category != new.category)
                .group_by(old.category, new.category)):
            changed[(was, now)] = n
    removed = _only_on(session, base_id, import_id) if base_id is not None else {}
    return Figures(before=_counts(session, base_id), after=_counts(session, import_id),
                   added=_only_on(session, import_id, base_id), removed=removed, changed=changed)


@dataclass(frozen=True)
class ImportRow:
    id: str
    county_code: str
    filename: str
    file_sha256: str
    rows: int
    status: str
    imported_by: str
    imported_at: datetime
    confirmed_by: str | None
    confirmed_at: datetime | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejection_reason: str | None
    names: dict[str, str] = field(default_factory=dict)  # user id → display name, for the pages (`cli:…`: the operator)

    @property
    def from_command_line(self) -> bool:
        """Imported by the server's operator at the command line: no reviewer's login stands behind it."""
        return self.imported_by.startswith(COMMAND_LINE)

    @property
    def migrated(self) -> bool:
        """In force before confirmations existed (migration 0049): nobody but its importer saw it."""
        return self.confirmed_by == MIGRATED

    def who(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        if user_id == MIGRATED:
            return "迁移前已生效（无第二人确认）"
        if user_id.startswith(COMMAND_LINE):
            return f"命令行（服务器操作员 {user_id[4:]}）"
        return self.names.get(user_id, user_id)


def import_row(row: RosterImport, names: dict[str, str] | None = None) -> ImportRow:
    return ImportRow(row.id, row.county_code, row.filename, row.file_sha256, row.rows, row.status, row.imported_by,
                     row.imported_at, row.confirmed_by, row.confirmed_at, row.rejected_by, row.rejected_at,
                     row.rejection_reason, names or {})


def _names(session: Session, rows: list[RosterImport], *more: str | None) -> dict[str, str]:
    ids = {u for u in [*(u for r in rows for u in (r.imported_by, r.confirmed_by, r.rejected_by)), *more]
           if u and not u.startswith(COMMAND_LINE) and u != MIGRATED}
    if not ids:
        return {}
    # the name people know each other by (as the pages' header shows it), else the account's username
    return {i: shown or username for i, username, shown in session.execute(
        select(User.id, User.username, User.display_name).where(User.id.in_(sorted(ids))))}


@dataclass(frozen=True)
class Review:
    """The confirmation page: an import, the roster it is compared with, the figures, and what the viewer may do."""

    subject: ImportRow
    base: ImportRow | None  # the current roster (pending), or the one it replaced (confirmed, rejected)
    figures: Figures
    may_decide: bool  # a county reviewer, and the import is pending
    own: bool  # the viewer imported it (may withdraw it, never confirm it)
    older_than_current: bool  # pending, yet the county's roster is newer: it can only be rejected
    rejections: list[ImportRow] = field(default_factory=list)  # the same file's other imports, rejected
    # the county's imports of other files rejected since the roster compared with was confirmed
    other_rejections: list[ImportRow] = field(default_factory=list)
    shared_setter: str | None = None  # who last set both the importer's and the viewer's passwords (pending only)
    # why the viewer may not confirm it (`service.may_confirm`, shown instead of the button), pending only
    refusal: str | None = None


def review(session: Session, import_id: str, principal: Principal) -> Review:
    row = load(session, import_id, principal)
    base = current_import(session, row.county_code) if row.status == "pending" else previous_confirmed(session, row)
    older = (row.status == "pending" and base is not None
             and (base.imported_at, base.id) > (row.imported_at, row.id))
    rejected = earlier_rejections(session, row)
    others = rejections_since(session, row, base)
    setter = shared_password_setter(session, row.imported_by, principal.id) if row.status == "pending" else None
    may_decide = row.status == "pending" and principal.has("county_reviewer")
    refusal = may_confirm(session, row, principal) if may_decide else None
    names = _names(session, [row] + ([base] if base is not None else []) + rejected + others, setter)
    return Review(subject=import_row(row, names), base=import_row(base, names) if base is not None else None,
                  figures=figures(session, row.id, base.id if base is not None else None),
                  may_decide=may_decide, refusal=refusal,
                  own=row.imported_by == principal.id, older_than_current=older,
                  rejections=[import_row(r, names) for r in rejected],
                  other_rejections=[import_row(r, names) for r in others], shared_setter=setter)


def listing(session: Session, principal: Principal, *, limit: int = 200) -> list[ImportRow]:
    """The imports of the caller's counties, newest first, with who imported, confirmed or rejected each."""
    rows = imports(session, principal, limit=limit)
    names = _names(session, rows)
    return [import_row(r, names) for r in rows]


def listing_page(session: Session, principal: Principal, page: int = 1, *, q: str = "",
                 status: str = "", only: list[str] | None = None) -> Paged[ImportRow]:
    """`listing` a page at a time (the page showed the latest 100 and nothing said there were more), searched by
    file name and filtered by status (`imports_page`); `only`: those imports (`waiting(...).mine`)."""
    found = imports_page(session, principal, page, q=q, status=status, only=only)
    names = _names(session, found.items)
    return found.map(lambda r: import_row(r, names))


def waiting(session: Session, principal: Principal) -> Waiting:
    """The pending imports of the caller's counties (at most one a county), asked `service.confirms_refused` (the
    rule `confirm` refuses by) all at once: those the caller may confirm (what the home card counts and
    /roster?to_decide=1 lists) and how many others wait for another county reviewer."""
    return second_person.waiting(session, principal, select(RosterImport).where(RosterImport.status == "pending"),
                                 RosterImport.county_code, confirms_refused)


def pending_count(session: Session, principal: Principal) -> int:
    """The pending imports of the caller's counties the caller may confirm (the home page's card, `waiting`)."""
    return len(waiting(session, principal).mine)
