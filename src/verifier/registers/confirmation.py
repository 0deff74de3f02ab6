"""A register import's second person: what a proposal changes against the version in force (`compare`), its
confirmation (`confirm`) or its decline (`decline`), and the review page's read model (`review`).

An import is a proposal (`pending`) that no cross-check consults until another county reviewer of the county confirms
it: not its importer, nor an account linked to the importer's by a password (`roster.service.password_links`, refused
on 回避拦截记录), nor a reviewer tied (回避) to a household whose findings it would clear. Its importer may withdraw it, another
reviewer decline it, with a reason (the log keeps the reason's SHA-256): not the importer of the version in force it
would replace, nor an account linked to theirs by a password (`may_decline`), who would keep their register in force
alone by declining every correction of it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import second_person
from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..recusal import guard as recusal
from ..recusal import refusals
from ..roster.service import PASSWORD_LINK, password_links
from ..second_person import Waiting
from ..store.db import Database
from ..store.tables import Household, Member
from .models import MIGRATED, RegisterEntry, RegisterImport
from .service import _CHUNK, CONFIRM_ROLES, in_force

MAX_REASON = 1000
CONFIRM_STEP = "register_confirm"  # on 回避拦截记录
NO_SUCH_IMPORT = "没有这份比对名单"
NOT_A_REVIEWER = "只有本县的县级复核员可以确认或退回部门比对名单"
OWN_IMPORT = "按“四眼原则”，这份名单是您导入的，须由本县另一名县级复核员确认后才生效"
LINKED_IMPORTER = ("按“四眼原则”，您的账号与这份名单导入人的账号有密码关联" + PASSWORD_LINK
                   + "，这份名单须由本县另一名县级复核员确认")
ALREADY_CONFIRMED = "这份名单已确认生效，不能再次确认或退回"
ALREADY_DECLINED = "这份名单已退回，不能再确认或退回：如需使用，请重新导入该文件"
REGISTER_MOVED = ("本县现行的同类名单在您核对之后已经变更，刚才看到的增减已不准确：请重新打开这份名单，核对最新的变化后"
                  "再确认")
OLDER_THAN_CURRENT = "本县现行的同类名单（{id}）比这份名单新，不能用较早的名单替换它：请将这份名单退回"
DECLINE_STEP = "register_decline"  # on 回避拦截记录
KEEPS_OWN = ("按“四眼原则”，本县现行的同类名单（{id}）是您导入的：退回这份要取代它的名单，等于由您一人让自己导入的名单"
             "继续生效，须由本县另一名县级复核员退回（这份名单的导入人本人可以撤回）")
KEEPS_LINKED = ("按“四眼原则”，您的账号与本县现行同类名单（{id}）导入人的账号有密码关联" + PASSWORD_LINK
                + "，不能退回要取代它的这份名单，须由本县另一名县级复核员退回（这份名单的导入人本人可以撤回）")


def load_import(session: Session, import_id: str, principal: Principal, *,
                for_update: bool = False) -> RegisterImport:
    """An import of the caller's counties; another county's is not found, as an id that does not exist."""
    stmt = select(RegisterImport).where(RegisterImport.id == import_id)
    row = session.scalar(stmt.with_for_update() if for_update else stmt)
    if row is None or not principal.may_see_county(row.county_code):
        raise NotFound(NO_SUCH_IMPORT)
    return row


def current_of(session: Session, row: RegisterImport, on: date) -> RegisterImport | None:
    """The version in force on `on` of `row`'s county, kind and bureau (the one confirming `row` would replace)."""
    for imp in in_force(session, row.county_code, on):
        if imp.kind == row.kind and imp.bureau == row.bureau and imp.id != row.id:
            return imp
    return None


def _order(row: RegisterImport) -> tuple[Any, ...]:
    return (row.as_of, row.imported_at, row.id)


@dataclass(frozen=True)
class Change:
    """A proposal against the version in force of its kind and bureau (`base_id`; None: there is none), counted by
    `compare` in a read transaction before the write: rows added and removed (a row is a person's fact as the file
    gave it: a car whose value changed is one removed and one added), the people of the version in force no row of
    the proposal names any more, and the county's households a member of which is named by a removed row: those whose
    findings would clear (a later check no longer finds the car; a lowered value no longer excludes)."""

    import_id: str
    base_id: str | None
    rows_added: int
    rows_removed: int
    people_removed: int
    households: tuple[str, ...]
    named: tuple[tuple[str, str], ...] = ()  # the first households (id, head's name), for the page

    @property
    def households_clearing(self) -> int:
        return len(self.households)


SHOWN_HOUSEHOLDS = 50


def _rows_of(session: Session, import_id: str | None) -> Counter[tuple[str, int | None, int | None, str]]:
    if import_id is None:
        return Counter()
    e = RegisterEntry
    return Counter((bidx, amount, year, json.dumps(facts, sort_keys=True, ensure_ascii=False))
                   for bidx, amount, year, facts in session.execute(
                       select(e.id_number_bidx, e.amount, e.year, e.facts).where(e.import_id == import_id)))


def _households_naming(session: Session, county_code: str, bidxs: set[str]) -> dict[str, str]:
    """The county's households (id → head's name) a member of which is one of these people (blind indexes), as they
    are now: a later check compares the members of its household then, so a change is counted against today's
    households when it is reviewed and again when it is confirmed (`compare`), never against those of the import's
    day (a person who moved since would be counted in a household no later check of which names them). A finding
    already on a check stays as it is (`match_check`), so the households of the checks made before are not counted."""
    wanted = sorted(bidxs)
    households: dict[str, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        for hid, head in session.execute(
                select(Household.id, Household.head_name).join(Member, Member.household_id == Household.id)
                .where(Household.county_code == county_code, Member.id_number_bidx.in_(wanted[i:i + _CHUNK]))):
            households[hid] = head
    return households


def households_found(session: Session, row: RegisterImport, base: RegisterImport | None) -> list[str]:
    """The county's households a member of which a row the proposal `row` adds to `base` names: those a later check
    would find something on once it is in force (declining it keeps them from being found)."""
    added = _rows_of(session, row.id) - _rows_of(session, base.id if base is not None else None)
    return sorted(_households_naming(session, row.county_code, {key[0] for key in added}))


def change_of(session: Session, row: RegisterImport, base: RegisterImport | None) -> Change:
    new, old = _rows_of(session, row.id), _rows_of(session, base.id if base is not None else None)
    added, removed = new - old, old - new
    named_now = {key[0] for key in new}
    households = _households_naming(session, row.county_code, {key[0] for key in removed})
    ordered = sorted(households.items(), key=lambda h: (h[1], h[0]))
    return Change(row.id, base.id if base is not None else None, sum(added.values()), sum(removed.values()),
                  len({key[0] for key in old} - named_now), tuple(h for h, _ in ordered),
                  tuple(ordered[:SHOWN_HOUSEHOLDS]))


def may_confirm(session: Session, row: RegisterImport, principal: Principal) -> str | None:
    """Whether `principal` may confirm the proposal `row` (its status aside): None, or why not in Chinese (403). Read
    by `confirm`, by the page (the reason instead of the button) and by the home page's card (`waiting`), through
    `confirms_refused`. 回避 is `confirm`'s, on the households the change names."""
    return confirms_refused(session, [row], principal)[row.id]


def confirms_refused(session: Session, rows: Iterable[RegisterImport],
                     principal: Principal) -> dict[str, str | None]:
    """`may_confirm` of each proposal, by import, in one statement whatever their count: a county reviewer, not its
    importer, nor linked to the importer's account by a password (`roster.service.password_links`)."""
    rows = list(rows)
    if not principal.has(*CONFIRM_ROLES):
        return {r.id: NOT_A_REVIEWER for r in rows}
    linked = password_links(session, principal.id, {r.imported_by for r in rows} - {principal.id})
    return {r.id: OWN_IMPORT if r.imported_by == principal.id else LINKED_IMPORTER if r.imported_by in linked
            else None for r in rows}


def waiting(session: Session, principal: Principal) -> Waiting:
    """The pending proposals of the caller's counties, asked `confirms_refused` (the rule `confirm` refuses by) all
    at once: those the caller may confirm (what the home card counts and /registers?to_decide=1 lists) and how many
    others wait for another county reviewer."""
    return second_person.waiting(session, principal, select(RegisterImport).where(RegisterImport.status == "pending"),
                                 RegisterImport.county_code, confirms_refused)


def compare(db: Database, import_id: str, principal: Principal, clock: Clock) -> Change | None:
    """What confirming the import changes, counted in a read transaction (never inside the write lock). None when it
    is not pending (confirming it is refused anyway)."""
    with db.read() as session:
        row = load_import(session, import_id, principal)
        if row.status != "pending":
            return None
        return change_of(session, row, current_of(session, row, clock.today()))


def confirm(session: Session, import_id: str, *, principal: Principal, clock: Clock, change: Change | None,
            replaces: str | None) -> RegisterImport:
    """The proposal comes in force: by a county reviewer of its county other than its importer, not linked to the
    importer by a password (403, kept on 回避拦截记录), nor tied to a household whose findings it clears (422, kept
    too). `replaces` is the version in force the confirmer was shown (None: none), `change` what `compare` counted
    before this transaction: either no longer the version in force, 409; so is a second confirmation."""
    row = load_import(session, import_id, principal)
    if not principal.has(*CONFIRM_ROLES):
        raise Forbidden(NOT_A_REVIEWER)
    # Every import of its county, kind and bureau locked, in one order: two proposals confirmed at once each against
    # the same version in force would otherwise both come in force, one of them against a change nobody saw.
    session.execute(select(RegisterImport.id).where(
        RegisterImport.county_code == row.county_code, RegisterImport.kind == row.kind,
        RegisterImport.bureau == row.bureau).order_by(RegisterImport.id).with_for_update())
    session.refresh(row)
    if row.status != "pending":
        raise InvalidState(ALREADY_CONFIRMED if row.status == "confirmed" else ALREADY_DECLINED)
    refusal = may_confirm(session, row, principal)
    if refusal == LINKED_IMPORTER:
        # one person, two accounts: a register that leaves a car out, proposed by one and confirmed by the other
        raise refusals.refused(Forbidden(refusal), principal, CONFIRM_STEP, [], county_code=row.county_code,
                               subject=row.id, clock=clock, extra={"import_id": row.id})
    if refusal is not None:
        raise Forbidden(refusal)
    base = current_of(session, row, clock.today())
    base_id = base.id if base is not None else None
    if base is not None and _order(base) > _order(row):
        raise InvalidState(OLDER_THAN_CURRENT.format(id=base.id))
    if change is None or change.import_id != row.id or change.base_id != base_id or replaces != base_id:
        raise InvalidState(REGISTER_MOVED)
    # 回避: confirming is what clears these households' findings
    recusal.refuse_principal(session, principal, change.households, step=CONFIRM_STEP, field="confirm",
                             county_code=row.county_code, clock=clock)
    row.status, row.confirmed_by, row.confirmed_at = "confirmed", principal.id, clock.now()
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="registers.confirm", subject=row.id,
                 county_code=row.county_code, clock=clock,
                 payload={"county_code": row.county_code, "kind": row.kind, "bureau": row.bureau,
                          "imported_by": row.imported_by, "rows": row.rows, "sha256": row.file_sha256,
                          "replaces": base_id, "rows_added": change.rows_added, "rows_removed": change.rows_removed,
                          "people_removed": change.people_removed,
                          "households_clearing": change.households_clearing})
    return row


def confirm_import(db: Database, import_id: str, *, principal: Principal, clock: Clock,
                   replaces: str | None) -> RegisterImport:
    """`confirm` in a write transaction of its own, the change counted before it (`compare`)."""
    change = compare(db, import_id, principal, clock)
    with db.begin() as session:
        return confirm(session, import_id, principal=principal, clock=clock, change=change, replaces=replaces)


def may_decline(session: Session, row: RegisterImport, principal: Principal, on: date) -> tuple[str, bool] | None:
    """Whether `principal` may decline the proposal `row` (its status aside): None, or (why not in Chinese, whether
    by a password link). Its importer may always withdraw it. Anyone else may not when they imported the version in
    force it would replace, nor through an account linked to the importer's by a password: one reviewer alone would
    keep the register they chose in force (a relative's car left out stays left out) by declining every correction
    of it. Its confirmer may (the second look, declining a proposal that leaves a car out). A proposal older than
    the version in force replaces nothing (it can only be declined): anyone may."""
    if not principal.has(*CONFIRM_ROLES):
        return NOT_A_REVIEWER, False
    if principal.id == row.imported_by:
        return None
    base = current_of(session, row, on)
    if base is None or _order(base) > _order(row):
        return None
    if principal.id == base.imported_by:
        return KEEPS_OWN.format(id=base.id), False
    if password_links(session, principal.id, {base.imported_by}):
        return KEEPS_LINKED.format(id=base.id), True
    return None


def decline(session: Session, import_id: str, *, principal: Principal, reason: str, clock: Clock) -> RegisterImport:
    """A proposal is set aside, never in force: by its importer (withdrawn) or another county reviewer of the county
    but the importer of the version in force it would replace (`may_decline`; 403, a password link kept on
    回避拦截记录), nor one tied to a household a row it adds names (422, kept too), with a reason (the log keeps its
    SHA-256 only). 409 once decided."""
    row = load_import(session, import_id, principal, for_update=True)
    if not principal.has(*CONFIRM_ROLES):
        raise Forbidden(NOT_A_REVIEWER)
    if row.status != "pending":
        raise InvalidState(ALREADY_CONFIRMED if row.status == "confirmed" else ALREADY_DECLINED)
    refusal = may_decline(session, row, principal, clock.today())
    if refusal is not None:
        said, linked = refusal
        if linked:
            raise refusals.refused(Forbidden(said), principal, DECLINE_STEP, [], county_code=row.county_code,
                                   subject=row.id, clock=clock, extra={"import_id": row.id})
        raise Forbidden(said)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed.one("reason", "请说明退回的原因")
    if len(text) > MAX_REASON:
        raise ValidationFailed.one("reason", f"原因最多 {MAX_REASON} 个字")
    if principal.id != row.imported_by and principal.has_ties is not False:
        # 回避: declining keeps what the proposal adds (a car, a business) from being found on these households. Read
        # in the write transaction for a reviewer who declared ties only (almost nobody: nothing is read otherwise).
        recusal.refuse_principal(session, principal, households_found(session, row, current_of(
            session, row, clock.today())), step=DECLINE_STEP, field="reason", county_code=row.county_code,
            clock=clock)
    row.status, row.declined_by, row.declined_at, row.decline_reason = "declined", principal.id, clock.now(), text
    session.flush()
    audit.append(session, actor=principal.id, role="county_reviewer", action="registers.decline", subject=row.id,
                 county_code=row.county_code, clock=clock,
                 payload={"county_code": row.county_code, "kind": row.kind, "imported_by": row.imported_by,
                          "withdrawn": principal.id == row.imported_by, "reason_sha256": audit.text_digest(text)})
    return row


@dataclass(frozen=True)
class Review:
    """The page of one import: the import, the version in force it is compared with, what it changes (pending only),
    and what the viewer may do (`may_decide`: a county reviewer; `refusal`: why they may not confirm; `older`: the
    version in force is newer)."""

    subject: RegisterImport
    base: RegisterImport | None
    change: Change | None
    may_decide: bool
    refusal: str | None
    older: bool
    names: dict[str, str]
    decline_refusal: str | None = None  # why the viewer may not decline it (`may_decline`)

    def who(self, user_id: str | None) -> str:
        if user_id is None:
            return ""
        if user_id == MIGRATED:
            return "迁移前已生效（无第二人确认）"
        if user_id.startswith("cli:"):
            return f"服务器命令行（操作员 {user_id[4:]}）"
        return self.names.get(user_id, user_id)


def review(session: Session, import_id: str, principal: Principal, today: date) -> Review:
    from ..store.tables import User

    row = load_import(session, import_id, principal)
    base = current_of(session, row, today) if row.status == "pending" else None
    change = change_of(session, row, base) if row.status == "pending" else None
    people = {u for u in (row.imported_by, row.confirmed_by, row.declined_by) if u}
    names = {uid: f"{name}（{username}）" for uid, name, username in session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(sorted(people))))}
    pending = row.status == "pending"
    not_declined = may_decline(session, row, principal, today) if pending else None
    return Review(row, base, change, may_decide=pending and principal.has(*CONFIRM_ROLES),
                  refusal=may_confirm(session, row, principal) if pending else None,
                  older=base is not None and _order(base) > _order(row), names=names,
                  decline_refusal=not_declined[0] if not_declined else None)
