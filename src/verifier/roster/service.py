"""Importing a county's roster, confirming it, and looking people up in it.

An import is the county's whole roster as exported that day: all or nothing, in the audit log (`roster.import`). It
is stored pending and changes no lookup until another county reviewer of the county confirms it (`roster.confirm`,
`confirm`): the roster decides a household's group and so which relief tiers apply, which neither the insurer nor one
reviewer alone may steer; what it changes is counted before the write transaction (`compare`), never holding the write
lock. Confirmed only on the page or by the API, where a password login stands behind the user
(the command line imports as the server's operator, `cli:<name>`, only while the county has no active county
reviewer, and neither confirms nor rejects). Refused to
confirm: its importer, an account whose password the importer last set and an account that last set the importer's
(they knew a password of the other), anyone outside the county (404, as for an id that does not exist), anyone but
a county reviewer, and two accounts whose passwords one person last set (`password_set_by`) while either has not
since chosen its own (`password_change_required`: that person can still log in as it). Once both have, they may
confirm each other's imports, warned on the page and logged (`same_password_setter`). Either reviewer rejects a pending import with a reason
(`roster.reject`; by its importer: withdrawn). One import of a county is pending at a time: another is refused until
it is confirmed or rejected. The county's roster is its newest confirmed import (earlier imports are kept, so a
household's file can say what the roster said when); an import older than it is never confirmed. The same file sent
again changes nothing, unless it was rejected: then it is a new import, pending like any other, whose page and
confirmation show (and log, the reasons by digest) the file's earlier rejections, and, apart, the county's imports
of other files rejected since its roster was confirmed (a file changed by one byte is another file).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.roster import RosterCategory
from ..settings import ImportLimits
from ..store.base import new_id
from ..store.db import Database
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import User
from ..store.vault import Vault
from .models import RosterEntry, RosterImport
from .parsing import read_roster

IMPORT_ROLES = ("county_reviewer",)
CONFIRM_ROLES = ("county_reviewer",)
READERS = ("county_reviewer", "insurer_supervisor", "auditor")
STATUSES = ("pending", "confirmed", "rejected")
_CHUNK = 5_000
NO_SUCH_IMPORT = "没有这份名册导入"
OWN_IMPORT = "按“四眼原则”，这份名册是您导入的，须由本县另一名县级复核员确认后才生效"
LINKED_ACCOUNT = ("按“四眼原则”，您的账号与导入人的账号有关联（一方的密码最近一次由另一方设置），这份名册须由本县另一名"
                  "县级复核员确认")
FRESH_PASSWORD = ("按“四眼原则”，导入人和您的密码最近一次都是由同一人（{setter}）设置的，而{who}至今还没有改成自己的密码，"
                  "设置密码的人仍可登录该账号：请{who}先修改自己的密码，或由本县另一名县级复核员确认")
CLI_AFTER_SETUP = ("本县（区）{county}已有在用的县级复核员：名册须由县级复核员登录后在“名册”页（或通过接口）导入，"
                   "命令行导入只用于尚无县级复核员的县（区）")
ROSTER_MOVED = "本县现行名册在核对之后已经变更，刚才核对的增减人数已不准确：请重新打开这份名册，核对最新的变化后再确认"
ONE_PENDING = "本县已有一份名册在等待确认（{id}）：请先由另一名县级复核员确认，或将其退回，再导入新的名册"


@dataclass(frozen=True)
class RosterResult:
    import_id: str
    rows: int
    categories: dict[str, int]
    repeated: bool = False
    status: str = "pending"


def _check_county(county_code: str, principal: Principal) -> None:
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValidationFailed.one("county_code", f"县（区）代码为 6 位数字，填写的是“{county_code}”")
    if not principal.may_see_county(county_code):
        raise NotFound("县（区）不存在")


def county_has_reviewer(session: Session, county_code: str) -> bool:
    """Whether an active account reviews the county (a county reviewer of it, or of every county)."""
    return any("county_reviewer" in (roles or ()) and (not counties or county_code in counties)
               for roles, counties in session.execute(select(User.roles, User.counties)
                                                      .where(User.active.is_(True))).tuples())


def _command_line_only_while_setting_up(session: Session, county_code: str, principal: Principal) -> None:
    """As role grants (accounts.grants.bootstrap_allowed): the operator at the command line, who may also hold a
    reviewer account, imports only for a county being set up; once it has a reviewer, the reviewers import."""
    if principal.id.startswith("cli:") and county_has_reviewer(session, county_code):
        raise Forbidden(CLI_AFTER_SETUP.format(county=county_code))


def import_roster(db: Database, *, vault: Vault, data: bytes, filename: str, county_code: str, principal: Principal,
                  clock: Clock, limits: ImportLimits) -> RosterResult:
    """Read and check the whole file first (no transaction open), then write it in one transaction."""
    _check_county(county_code, principal)
    if not principal.has(*IMPORT_ROLES):
        raise Forbidden("只有县级复核员可以导入本县名册")
    sha = hashlib.sha256(data).hexdigest()
    with db.read() as session:
        _command_line_only_while_setting_up(session, county_code, principal)
        earlier = _earlier(session, county_code, sha)
    if earlier is not None:
        return earlier
    rows = read_roster(data, filename, today=clock.today(), limits=limits)
    keyed = [(vault.blind_index(r.id_number, "id_number"), r.category) for r in rows]
    counts = dict(sorted(Counter(c for _, c in keyed).items()))
    with db.begin() as session:
        _command_line_only_while_setting_up(session, county_code, principal)
        earlier = _earlier(session, county_code, sha)  # the same file, imported while this one was read
        if earlier is not None:
            return earlier
        waiting = pending_import(session, county_code)
        if waiting is not None:
            raise InvalidState(ONE_PENDING.format(id=waiting.id))
        import_id = new_id("ros")
        session.add(RosterImport(id=import_id, county_code=county_code, filename=filename[:255], file_sha256=sha,
                                 rows=len(keyed), imported_by=principal.id, imported_at=clock.now(),
                                 status="pending"))
        try:
            session.flush()
        except IntegrityError:  # another import of the county became pending meanwhile (one pending a county)
            raise InvalidState("本县已有另一份名册在等待确认：请先由另一名县级复核员确认，或将其退回，再导入新的名册") from None
        for i in range(0, len(keyed), _CHUNK):
            session.execute(insert(RosterEntry), [
                {"import_id": import_id, "county_code": county_code, "id_number_bidx": b, "category": c}
                for b, c in keyed[i:i + _CHUNK]])
        audit.append(session, actor=principal.id, role="county_reviewer", action="roster.import", subject=import_id,
                     payload={"county_code": county_code, "filename": filename[:255], "sha256": sha,
                              "rows": len(keyed), "categories": counts},
                     clock=clock)
    return RosterResult(import_id, len(keyed), counts)


def _earlier(session: Session, county_code: str, sha: str) -> RosterResult | None:
    """The county's import of this file, unless it was rejected (a rejected file may be sent again)."""
    row = session.scalar(select(RosterImport).where(RosterImport.county_code == county_code,
                                                    RosterImport.file_sha256 == sha,
                                                    RosterImport.status != "rejected"))
    if row is None:
        return None
    counts = Counter(session.scalars(select(RosterEntry.category).where(RosterEntry.import_id == row.id)))
    return RosterResult(row.id, row.rows, dict(sorted(counts.items())), repeated=True, status=row.status)


def current_import(session: Session, county_code: str) -> RosterImport | None:
    """The county's roster: its newest confirmed import (one lookup of `ix_roster_import_county_status_at`)."""
    return session.scalar(select(RosterImport).where(RosterImport.county_code == county_code,
                                                     RosterImport.status == "confirmed")
                          .order_by(RosterImport.imported_at.desc(), RosterImport.id.desc()).limit(1))


def pending_import(session: Session, county_code: str) -> RosterImport | None:
    return session.scalar(select(RosterImport).where(RosterImport.county_code == county_code,
                                                     RosterImport.status == "pending"))


def load(session: Session, import_id: str, principal: Principal, *, for_update: bool = False) -> RosterImport:
    """An import of the caller's counties; another county's is not found, as an id that does not exist."""
    stmt = select(RosterImport).where(RosterImport.id == import_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None or not principal.may_see_county(row.county_code):
        raise NotFound(NO_SUCH_IMPORT)
    return row


def shared_password_setter(session: Session, a: str, b: str) -> str | None:
    """Who last set the passwords of both accounts `a` and `b` (opened or reset both), if one person did: not a refusal
    (an admin opens most accounts of a county), but the confirmer is warned and the confirmation logs it."""
    if a == b:
        return None
    setters = dict(session.execute(select(User.id, User.password_set_by).where(User.id.in_((a, b)))).tuples().all())
    setter = setters.get(a)
    return setter if setter is not None and setter == setters.get(b) else None


PASSWORD_LINK = "（一方为另一方设置过密码，或由同一人设置的密码尚未修改）"
"""What `password_links` finds, as the refusals that read it say it after 有密码关联."""


def password_links(session: Session, user_id: str, others: set[str] | frozenset[str]) -> frozenset[str]:
    """Of `others`, the accounts linked to `user_id` as `may_confirm` refuses them, read in one statement: either set a
    password of the other, or one person set both passwords and either still has the password that person set.
    The follow-up's 回避 reads it too (`followups/receipt.refused_part`)."""
    return password_links_of(session, {user_id}, others).get(user_id, frozenset())


def password_links_of(session: Session, users: set[str] | frozenset[str],
                      others: set[str] | frozenset[str]) -> dict[str, frozenset[str]]:
    """`password_links` for each of `users` at once, read in one statement: each user's accounts of `others` (itself
    aside) linked to it by a password; a user with none is left out."""
    users, others = set(users), set(others)
    if not users or not others or len(users | others) < 2:
        return {}
    rows = {uid: (setter, bool(fresh)) for uid, setter, fresh in session.execute(
        select(User.id, User.password_set_by, User.password_change_required)
        .where(User.id.in_(sorted(users | others)))).tuples()}
    out: dict[str, frozenset[str]] = {}
    for user_id in sorted(users):
        own_setter, own_fresh = rows.get(user_id, (None, False))
        linked = set()
        for other in others - {user_id}:
            setter, fresh = rows.get(other, (None, False))
            if setter == user_id or own_setter == other or (
                    setter is not None and setter == own_setter and (fresh or own_fresh)):
                linked.add(other)
        if linked:
            out[user_id] = frozenset(linked)
    return out


def may_confirm(session: Session, row: RosterImport, principal: Principal) -> str | None:
    """Whether `principal` may confirm the import `row` (its status aside): None, or why not in Chinese. The one
    rule (`confirms_refused`), read by `confirm` (refused 403 with this reason), by the confirmation page (the reason
    instead of the button) and by the home page's card (`comparison.to_decide`)."""
    return confirms_refused(session, [row], principal)[row.id]


def confirms_refused(session: Session, rows: Iterable[RosterImport], principal: Principal) -> dict[str, str | None]:
    """`may_confirm` of each import, by import, in a fixed number of statements whatever their count: a county
    reviewer with an active account, not its importer, not linked to the importer's account by a password either set
    for the other, and not sharing with it a password setter while either still has the password that person set."""
    rows = list(rows)
    if not principal.has(*CONFIRM_ROLES):
        return {r.id: "只有本县的县级复核员可以确认名册" for r in rows}
    people = {r.imported_by for r in rows} | {principal.id}
    accounts = {uid: (setter, bool(fresh), bool(active)) for uid, setter, fresh, active in session.execute(
        select(User.id, User.password_set_by, User.password_change_required, User.active)
        .where(User.id.in_(sorted(people)))).tuples()} if rows else {}
    own_setter, own_fresh, own_active = accounts.get(principal.id, (None, False, False))
    # the one rule of accounts linked by a password (`password_links`), as registers read it; the accounts above
    # only say which way they are linked
    linked = password_links(session, principal.id, {r.imported_by for r in rows}) if rows else frozenset()
    shared = {accounts[r.imported_by][0] for r in rows if r.imported_by in linked and r.imported_by in accounts}
    usernames = dict(session.execute(select(User.id, User.username).where(User.id.in_(sorted(
        s for s in shared if s is not None)))).tuples().all()) if shared - {None} else {}
    out: dict[str, str | None] = {}
    for row in rows:
        setter, fresh, _ = accounts.get(row.imported_by, (None, False, False))
        if principal.id == row.imported_by:
            out[row.id] = OWN_IMPORT
        elif not own_active:
            out[row.id] = "只有在用的县级复核员账号可以确认名册"
        elif row.imported_by not in linked:
            out[row.id] = None
        elif setter == principal.id or own_setter == row.imported_by:
            out[row.id] = LINKED_ACCOUNT  # one of them knew a password of the other
        else:  # one person set both, and one of them still has that password
            unchanged = [who for who, still in (("导入人", fresh), ("您", own_fresh)) if still]
            out[row.id] = FRESH_PASSWORD.format(setter=usernames.get(setter, setter), who="和".join(unchanged))
    return out


@dataclass(frozen=True)
class Compared:
    """A pending import against the county's roster in force (`base_id`, None: none), counted by `compare` before the
    write transaction: the totals `confirm` logs (`roster.confirm`'s added, removed and changed)."""

    import_id: str
    base_id: str | None
    added: int
    removed: int
    changed: int


def compare(db: Database, import_id: str, principal: Principal) -> Compared | None:
    """Count what confirming the import changes, in a read transaction (at 100,000 people a second or more on SQLite:
    never inside the write lock). None when the import is not pending (confirming it changes nothing, or is refused).
    Only that pending import can change the county's roster, so `confirm` re-checks that the roster in force is still
    `base_id` rather than counting again. Nor is anything counted for a caller `confirm` refuses (not a county
    reviewer, or `may_confirm` says no)."""
    from .comparison import figures

    with db.read() as session:
        row = load(session, import_id, principal)
        if row.status != "pending":
            return None
        if not principal.has(*CONFIRM_ROLES) or may_confirm(session, row, principal) is not None:
            return None  # refused: `confirm` says why, nothing counted for it
        current = current_import(session, row.county_code)
        base_id = current.id if current is not None else None
        change = figures(session, row.id, base_id)
    return Compared(row.id, base_id, change.added_total, change.removed_total, change.changed_total)


def confirm_import(db: Database, import_id: str, *, principal: Principal, clock: Clock) -> RosterImport:
    """`confirm` in a write transaction of its own, the comparison counted before it (`compare`)."""
    compared = compare(db, import_id, principal)
    with db.begin() as session:
        return confirm(session, import_id, principal=principal, clock=clock, compared=compared)


def confirm(session: Session, import_id: str, *, principal: Principal, clock: Clock,
            compared: Compared | None) -> RosterImport:
    """The pending import becomes the county's roster. Confirming it again changes nothing (a second click).
    `compared` is `compare`'s count, made before this transaction; refused (409) when the roster in force is no longer
    the one it was counted against."""
    row = load(session, import_id, principal, for_update=True)
    if not principal.has(*CONFIRM_ROLES):
        raise Forbidden("只有本县的县级复核员可以确认名册")
    if row.status == "confirmed":
        return row
    if row.status != "pending":
        raise InvalidState("这份名册已退回，不能再确认：如需使用，请重新导入该文件")
    refusal = may_confirm(session, row, principal)
    if refusal is not None:
        raise Forbidden(refusal)
    setter = shared_password_setter(session, row.imported_by, principal.id)  # not refused: warned, and logged
    current = current_import(session, row.county_code)
    if current is not None and (current.imported_at, current.id) > (row.imported_at, row.id):
        raise InvalidState(f"本县现行名册（{current.id}）比这份名册导入得晚，不能用较早的名册替换它：请将这份名册退回")
    if compared is None or compared.import_id != row.id or compared.base_id != (current.id if current else None):
        raise InvalidState(ROSTER_MOVED)
    rejected = earlier_rejections(session, row)  # what the confirmer was shown of the file's earlier rejections
    others = rejections_since(session, row, current)  # and of the county's other files rejected since its roster
    row.status, row.confirmed_by, row.confirmed_at = "confirmed", principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="roster.confirm", subject=row.id,
                 payload={"county_code": row.county_code, "imported_by": row.imported_by, "rows": row.rows,
                          "sha256": row.file_sha256, "replaces": current.id if current is not None else None,
                          "added": compared.added, "removed": compared.removed,
                          "changed": compared.changed,
                          **({"imported_at_command_line": True} if row.imported_by.startswith("cli:") else {}),
                          **({"earlier_rejections": _rejection_entries(rejected)} if rejected else {}),
                          **({"rejections_since_roster": _rejection_entries(others)} if others else {}),
                          **({"same_password_setter": setter} if setter is not None else {})},
                 clock=clock)
    return row


def reject(session: Session, import_id: str, *, principal: Principal, reason: str, clock: Clock) -> RosterImport:
    """A pending import is set aside (never in force), by its importer (withdrawn) or another county reviewer."""
    reason = (reason or "").strip()
    row = load(session, import_id, principal, for_update=True)
    if not principal.has(*CONFIRM_ROLES):
        raise Forbidden("只有本县的县级复核员可以退回名册")
    if row.status != "pending":
        raise InvalidState("这份名册已确认生效，不能退回" if row.status == "confirmed" else "这份名册已退回")
    if not reason:
        raise ValidationFailed.one("reason", "请说明退回的原因")
    if len(reason) > 1000:
        raise ValidationFailed.one("reason", "原因最多 1000 字")
    row.status, row.rejected_by, row.rejected_at, row.rejection_reason = "rejected", principal.id, clock.now(), reason
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="roster.reject", subject=row.id,
                 payload={"county_code": row.county_code, "imported_by": row.imported_by,
                          "withdrawn": principal.id == row.imported_by, "reason": audit.text_digest(reason)},
                 clock=clock)
    return row


def categories_of(session: Session, county_code: str, bidxs: Iterable[str]) -> dict[str, RosterCategory]:
    """The roster category of each of these people (by blind index) in the county's current roster; absent: on none."""
    current = current_import(session, county_code)
    return {} if current is None else categories_in(session, current.id, bidxs)


def categories_in(session: Session, import_id: str, bidxs: Iterable[str]) -> dict[str, RosterCategory]:
    """`categories_of` in the roster import `import_id` (a caller that has found the current one already)."""
    wanted = list(dict.fromkeys(bidxs))
    found: dict[str, RosterCategory] = {}
    for i in range(0, len(wanted), _CHUNK):
        for bidx, category in session.execute(
                select(RosterEntry.id_number_bidx, RosterEntry.category).where(
                    RosterEntry.import_id == import_id, RosterEntry.id_number_bidx.in_(wanted[i:i + _CHUNK]))):
            found[bidx] = category  # type: ignore[assignment]
    return found


def _imports(principal: Principal) -> Any:
    stmt = select(RosterImport).order_by(RosterImport.imported_at.desc(), RosterImport.id.desc())
    if principal.counties:
        stmt = stmt.where(RosterImport.county_code.in_(principal.counties))
    return stmt


def imports(session: Session, principal: Principal, *, limit: int = 200) -> list[RosterImport]:
    return list(session.scalars(_imports(principal).limit(limit)))


IMPORT_STATUSES = ("pending", "confirmed", "rejected")


def imports_page(session: Session, principal: Principal, page: int = 1, page_size: int = PAGE_SIZE, *, q: str = "",
                 status: str = "", only: Iterable[str] | None = None) -> Paged[Any]:
    """The imports the roster page lists, newest first, a page at a time: with `q`, those whose file name holds it;
    with `status` (one of `IMPORT_STATUSES`; anything else is all), those in it; with `only`, those of these ids."""
    stmt = _imports(principal)
    if only is not None:
        stmt = stmt.where(RosterImport.id.in_(sorted(only)))
    q = fold_search(q)
    if q:
        stmt = stmt.where(text_search(q, [RosterImport.filename]))
    if status in IMPORT_STATUSES:
        stmt = stmt.where(RosterImport.status == status)
    return page_of(session, stmt, page, page_size)


def earlier_rejections(session: Session, row: RosterImport) -> list[RosterImport]:
    """The county's other imports of the same file that were rejected (a rejected file sent again), newest first:
    the confirmer sees who rejected it, when and why before confirming it now."""
    return list(session.scalars(select(RosterImport).where(
        RosterImport.county_code == row.county_code, RosterImport.status == "rejected",
        RosterImport.file_sha256 == row.file_sha256, RosterImport.id != row.id)
        .order_by(RosterImport.rejected_at.desc(), RosterImport.id.desc())))


def rejections_since(session: Session, row: RosterImport, base: RosterImport | None, *,
                     limit: int = 50) -> list[RosterImport]:
    """The county's other rejected imports since its roster `base` was confirmed (all, without one), of any other
    file, newest first: a file changed by one byte has another SHA-256, so `earlier_rejections` alone would not show
    that the same roster, or nearly, was rejected a moment ago."""
    stmt = select(RosterImport).where(
        RosterImport.county_code == row.county_code, RosterImport.status == "rejected", RosterImport.id != row.id,
        RosterImport.file_sha256 != row.file_sha256)
    if base is not None:
        stmt = stmt.where(RosterImport.rejected_at >= (base.confirmed_at or base.imported_at))
    return list(session.scalars(stmt.order_by(RosterImport.rejected_at.desc(), RosterImport.id.desc()).limit(limit)))


def _rejection_entries(rows: list[RosterImport]) -> list[dict[str, object]]:
    return [{"import_id": r.id, "rejected_by": r.rejected_by,
             "rejected_at": r.rejected_at.isoformat() if r.rejected_at else None,
             "reason": audit.text_digest(r.rejection_reason or "")} for r in rows]


def previous_confirmed(session: Session, row: RosterImport) -> RosterImport | None:
    """The confirmed import of the county just before `row` (what it replaced, or would replace)."""
    return session.scalar(select(RosterImport).where(
        RosterImport.county_code == row.county_code, RosterImport.status == "confirmed",
        tuple_(RosterImport.imported_at, RosterImport.id) < tuple_(row.imported_at, row.id))
        .order_by(RosterImport.imported_at.desc(), RosterImport.id.desc()).limit(1))
