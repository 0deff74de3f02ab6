"""One payee account paying several households (一账多户, 收款账户重复): held until a county reviewer clears it.

The classic inside fraud steers several households' relief into one account (an accomplice's, an employee's): a home
check that records it as the payee, or payee changes approved by a colluding pair. Every payee account is kept beside
its sealed value as the Vault's keyed blind index (`account_index`: HMAC-SHA-256 of the digits, kind `payee_account`,
the same hash the audit entries carry as `account_hmac`), on checks, payee changes and payment items.

- An account is *shared* when payee records of cases of two or more households name it within the window: this
  calendar year and the `YEARS` before it (a check that recorded it, an approved payee change to it, a payment item
  paying it, cancelled items aside). Another household's case paid into the account last year counts.
- Batch preparation holds out every case whose payee account is shared and not cleared (`HOLD_REASON`, listed among
  the batch's skipped cases), like a notice whose posting waits for its second person.
- A county reviewer clears the account for the households it pays, with a note (a guardian paid for two wards): an
  `account_clearance` row and an audit entry in one transaction. Not someone who recorded a check naming the
  account for one of those households, nor who requested or approved a change to it; a reviewer of every county
  those households live in. A clearance covers exactly its households: one more household on the account is held
  again.
- A payee change requested or approved onto an account another household's case names gets a warning (not a
  refusal): the masked account and the other cases' numbers within the caller's counties; a case outside them is not
  hinted at. A check is recorded without a word about the account (its write sends no statement about it, so that
  recording a check stays as quick as it was): the same warning is read where a person acts on it, for the case's
  payee now (`case_warning`: the case page, the page after recording, the supervisor's determination confirmation;
  not the API's case read, one of the load table's measured requests).

A row whose index is NULL (sealed before migration 0045 and not backfilled: no Vault handed to it) is not compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, case, func, literal, null, or_, select, text, true, union_all
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.counties import as_county
from ..clock import Clock
from ..domain.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from ..domain.masking import mask_account
from ..recusal import refusals as recusal_refusals
from ..roster.service import PASSWORD_LINK
from ..store.base import new_id
from ..store.paged import fold_search
from ..store.reader import Prepared, Steps, session_reader
from ..store.tables import Case, Check, Household
from ..store.vault import Vault
from .models import AccountClearance, PayeeCorrection, PaymentItem

STAFF_HOLD_REASON = "收款账户为工作人员本人账户"  # whose is never said (recusal/accounts.py)

KIND = "payee_account"  # = payees.ACCOUNT_INDEX: the audit entries' account_hmac is this index
YEARS = 2  # the window: this calendar year and the two before it
HOLD_REASON = "收款账户与其他家庭相同：暂缓支付，待县级审核人员核实"
CLEARER = "county_reviewer"
CLEARED_ACTION = "payee_account.clear"
MAX_NOTE = 500
_CHUNK = 500


def account_index(vault: Vault, number: str) -> str:
    """The blind index of an account number: its digits only, keyed by the Vault's index key."""
    digits = number if number.isascii() and number.isdigit() else "".join(ch for ch in number if ch.isdigit())
    return vault.blind_index(digits, KIND)


def window_start(today: date) -> datetime:
    return datetime(today.year - YEARS, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """One payee record naming an account: a check, an approved change or a payment item."""

    index: str
    case_id: str
    household_id: str
    county_code: str
    source: str  # check | change | item
    people: tuple[str, ...]  # who recorded it / requested and approved it (nobody for an item)
    sealed: bytes | None
    column: str


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start:start + _CHUNK])


def records(session: Session, indexes: Collection[str], today: date, *, pending: bool = False) -> list[Record]:
    """Every payee record of the window naming one of `indexes` (`pending`: payee changes waiting for approval
    count too, for a warning; a hold counts approved changes only)."""
    since = window_start(today)
    changes = ("approved", "pending") if pending else ("approved",)
    out: list[Record] = []
    for chunk in _chunks(sorted(set(indexes))):
        # One statement (one round trip) for the three kinds of record.
        stmt = union_all(
            select(Check.payee_account_index, Check.case_id, literal("check"), Check.recorded_by,
                   null().label("p2"), Check.payee_account_enc)
            .where(Check.payee_account_index.in_(chunk), Check.recorded_at >= since),
            select(PayeeCorrection.account_index, PayeeCorrection.case_id, literal("change"),
                   PayeeCorrection.requested_by, PayeeCorrection.decided_by, PayeeCorrection.account_number_enc)
            .where(PayeeCorrection.account_index.in_(chunk), PayeeCorrection.status.in_(changes),
                   func.coalesce(PayeeCorrection.decided_at, PayeeCorrection.requested_at) >= since),
            select(PaymentItem.payee_account_index, PaymentItem.case_id, literal("item"), null(), null(), null())
            .where(PaymentItem.payee_account_index.in_(chunk), PaymentItem.status != "cancelled",
                   PaymentItem.created_at >= since),
        ).subquery()
        cols = list(stmt.c)
        for ix, case_id, source, p1, p2, sealed, hh, county in session.execute(
            select(*cols, Case.household_id, Case.county_code).join(Case, Case.id == cols[1])
        ):
            column = {"check": "check.payee_account", "change": "payee_correction.account_number"}.get(source, "")
            out.append(Record(ix, case_id, hh, county, source, tuple(p for p in (p1, p2) if p),
                              None if sealed is None else bytes(sealed), column))
    return out


def _clearances(session: Session, indexes: Collection[str]) -> dict[str, list[AccountClearance]]:
    found: dict[str, list[AccountClearance]] = {}
    for chunk in _chunks(sorted(set(indexes))):
        for c in session.scalars(select(AccountClearance).where(AccountClearance.account_index.in_(chunk))
                                 .order_by(AccountClearance.cleared_at, AccountClearance.id)):
            found.setdefault(c.account_index, []).append(c)
    return found


def _covered(clearances: list[AccountClearance], households: set[str]) -> AccountClearance | None:
    """The latest clearance covering every one of `households`, if any."""
    return next((c for c in reversed(clearances) if households <= set(c.households)), None)


def held(session: Session, pairs: Sequence[tuple[str, str | None]], today: date) -> set[str]:
    """Those of the (case id, account index) pairs' cases whose account is also named by another household's case
    in the window, or is a staff member's own declared account, and not cleared for all the households it names."""
    return set(held_reasons(session, pairs, today))


def _staff_owners(session: Session, indexes: Collection[str]) -> dict[str, set[str]]:
    from ..recusal.accounts import owners

    return owners(session, indexes)


def _staff_since(session: Session, indexes: Collection[str]) -> dict[str, datetime]:
    """When each of the live staff accounts among `indexes` was last declared: a clearance made before (of the
    account as shared by households) does not clear it as a staff member's own."""
    from ..recusal.models import StaffAccount

    out: dict[str, datetime] = {}
    for chunk in _chunks(sorted(set(indexes))):
        for ix, at in session.execute(select(StaffAccount.account_index, func.max(StaffAccount.declared_at)).where(
                StaffAccount.account_index.in_(chunk), StaffAccount.removed_at.is_(None))
                .group_by(StaffAccount.account_index)):
            out[ix] = at
    return out


def _cleared(clearances: list[AccountClearance], households: set[str], since: datetime | None
             ) -> AccountClearance | None:
    found = _covered(clearances, households)
    if found is None or since is None:
        return found
    cleared_at = found.cleared_at if found.cleared_at.tzinfo else found.cleared_at.replace(tzinfo=UTC)
    return found if cleared_at >= (since if since.tzinfo else since.replace(tzinfo=UTC)) else None


def held_reasons(session: Session, pairs: Sequence[tuple[str, str | None]], today: date) -> dict[str, str]:
    """`held`, with each held case's reason (`STAFF_HOLD_REASON` before `HOLD_REASON`)."""
    wanted = [(c, ix) for c, ix in pairs if ix]
    if not wanted:
        return {}
    indexes = {ix for _, ix in wanted}
    found = records(session, indexes, today)
    staff = _staff_since(session, indexes)
    by_account: dict[str, set[str]] = {}
    for r in found:
        by_account.setdefault(r.index, set()).add(r.household_id)
    household: dict[str, str] = {}
    for chunk in _chunks([c for c, _ in wanted]):
        household.update(session.execute(select(Case.id, Case.household_id).where(Case.id.in_(chunk))).tuples().all())
    clearances = _clearances(session, set(by_account) | set(staff))
    out: dict[str, str] = {}
    for case_id, ix in wanted:
        households = by_account.get(ix, set()) | {household[case_id]}
        if (len(households) > 1 or ix in staff) and _cleared(clearances.get(ix, []), households,
                                                              staff.get(ix)) is None:
            out[case_id] = STAFF_HOLD_REASON if ix in staff else HOLD_REASON
    return out


def current_index(session: Session, case_id: str) -> str | None:
    """The blind index of the case's payee now (the newer of its latest approved change and its latest check that
    recorded an account, as `payees.current_payee` reads them)."""
    from .payees import correction_wins

    corr = session.execute(select(PayeeCorrection.account_index, PayeeCorrection.decided_at)
                           .where(PayeeCorrection.case_id == case_id, PayeeCorrection.status == "approved")
                           .order_by(PayeeCorrection.decided_at.desc(), PayeeCorrection.id.desc()).limit(1)).first()
    check = session.execute(select(Check.payee_account_index, Check.recorded_at, Check.payee_account_enc.is_not(None))
                            .where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1)).first()
    if check is not None and not check[2]:
        check = None
    if corr is not None and correction_wins(corr[1], None if check is None else check[1]):
        return corr[0]
    return None if check is None else check[0]


def case_is_held(session: Session, case_id: str, today: date) -> bool:
    """The case page's hold: its payee account is shared with another household and not cleared."""
    return bool(held(session, [(case_id, current_index(session, case_id))], today))


def case_hold_reason(session: Session, case_id: str, today: date) -> str | None:
    """The case page's hold and its reason (`STAFF_HOLD_REASON` or `HOLD_REASON`), or None."""
    return held_reasons(session, [(case_id, current_index(session, case_id))], today).get(case_id)


@dataclass
class SharedCase:
    case_id: str
    number: str
    head_name: str
    county_code: str
    status: str


@dataclass
class Group:
    """One shared account as the county reviewer sees it."""

    index: str
    account_masked: str
    households: list[str]
    cases: list[SharedCase]  # within the caller's counties
    elsewhere: int  # households outside the caller's counties
    people: set[str] = field(default_factory=set)
    counties: set[str] = field(default_factory=set)
    cleared: AccountClearance | None = None
    staff: set[str] = field(default_factory=set)  # whose own account it is (never shown): they may not clear it


def _mask_of(vault: Vault, found: Sequence[Record]) -> str:
    for r in found:
        if r.sealed is not None:
            try:
                return mask_account(vault.open(r.sealed, r.column))
            except Exception:  # noqa: BLE001  (a damaged value: the tail is not shown)
                continue
    return "****"


def _shared_indexes(session: Session, today: date, counties: Sequence[str]) -> list[str]:
    """Accounts named by two or more households' cases in the window (any county), at least one of them in
    `counties` (all when empty)."""
    since = window_start(today)
    parts = union_all(
        select(Check.payee_account_index.label("ix"), Check.case_id.label("case_id"))
        .where(Check.payee_account_index.is_not(None), Check.recorded_at >= since),
        select(PayeeCorrection.account_index.label("ix"), PayeeCorrection.case_id.label("case_id"))
        .where(PayeeCorrection.account_index.is_not(None), PayeeCorrection.status == "approved",
               PayeeCorrection.decided_at >= since),
        select(PaymentItem.payee_account_index.label("ix"), PaymentItem.case_id.label("case_id"))
        .where(PaymentItem.payee_account_index.is_not(None), PaymentItem.status != "cancelled",
               PaymentItem.created_at >= since),
    ).subquery()
    stmt = (select(parts.c.ix).join(Case, Case.id == parts.c.case_id).group_by(parts.c.ix)
            .having(func.count(func.distinct(Case.household_id)) > 1))
    if counties:
        stmt = stmt.having(func.sum(case((Case.county_code.in_(list(counties)), 1), else_=0)) > 0)
    return sorted(session.scalars(stmt))


def groups(session: Session, principal: Principal, vault: Vault, today: date, *, q: str = "",
           status: str = "open", indexes: Collection[str] | None = None) -> list[Group]:
    """The shared accounts the caller's counties have a case on, uncleared first (`status`: open, cleared, all),
    searched by case number, household head or the account's last digits."""
    if indexes is not None:
        shared = list(indexes)
    else:
        from ..recusal.models import StaffAccount

        shared = sorted(set(_shared_indexes(session, today, principal.counties)) | set(session.scalars(
            select(StaffAccount.account_index).where(StaffAccount.removed_at.is_(None)))))
    found = records(session, shared, today)
    staff = _staff_owners(session, {r.index for r in found})
    since = _staff_since(session, set(staff))
    by: dict[str, list[Record]] = {}
    for r in found:
        by.setdefault(r.index, []).append(r)
    case_ids = sorted({r.case_id for r in found})
    rows: dict[str, tuple[str, str, str, str]] = {}
    for chunk in _chunks(case_ids):
        for cid, number, head, county, st in session.execute(
            select(Case.id, Case.number, Household.head_name, Case.county_code, Case.status)
            .join(Household, Household.id == Case.household_id).where(Case.id.in_(chunk))
        ):
            rows[cid] = (number, head, county, st)
    clearances = _clearances(session, set(by))
    text = fold_search(q)
    out: list[Group] = []
    for ix, recs in by.items():
        households = sorted({r.household_id for r in recs})
        if len(households) < 2 and recs[0].index not in staff:
            continue
        mine = [r for r in recs if principal.may_see_county(r.county_code)]
        if not mine:
            continue
        cases = [SharedCase(cid, *rows[cid]) for cid in sorted({r.case_id for r in mine}, key=lambda c: rows[c][0])]
        group = Group(ix, _mask_of(vault, recs), households, cases,
                      len({r.household_id for r in recs} - {r.household_id for r in mine}),
                      {p for r in recs for p in r.people if p}, {r.county_code for r in recs},
                      _cleared(clearances.get(ix, []), set(households), since.get(ix)), staff.get(ix, set()))
        if status == "open" and group.cleared is not None or status == "cleared" and group.cleared is None:
            continue
        if text and not (any(text in c.number or text in c.head_name for c in cases)
                         or (text.isdigit() and group.account_masked.endswith(text))):
            continue
        out.append(group)
    out.sort(key=lambda g: (g.cleared is not None, g.cases[0].number if g.cases else ""))
    return out


LINKED_CLEARER = ("按“四眼原则”，您的账号与录入、申请、批准或申报过该账户的人员的账号有密码关联" + PASSWORD_LINK
                  + "，须由其他县级审核人员核实。")


def clear_parts(group: Group) -> list[recusal_refusals.LinkedPart]:
    """The accounts a clearance is the second person of: who recorded, requested or approved the account for one of
    the households, and whose own account it is (one wording for both: whose it is is not said)."""
    county = sorted(group.counties)[0] if group.counties else None
    return [recusal_refusals.LinkedPart(who, LINKED_CLEARER, households=list(group.households), county_code=county,
                                        subject=group.index, extra={"why": "password_linked"})
            for who in sorted((group.people | group.staff) - {""})]


def linked_clearer(session: Session, group: Group, principal: Principal) -> str | None:
    """Why `principal` may not clear the account through an account linked by a password (what `clear` refuses
    with), or None: the shared accounts page shows it instead of the form."""
    return recusal_refusals.linked_said(session, principal, clear_parts(group))


def clear(session: Session, index: str, *, note: str, principal: Principal, vault: Vault, clock: Clock) -> Group:
    """A county reviewer clears the shared account for the households it names now, with a note."""
    if not principal.has(CLEARER):
        raise Forbidden("只有县级审核人员可以核实一账多户（收款账户与其他家庭相同）。")
    found = groups(session, principal, vault, clock.today(), status="all", indexes=[index])
    if not found:
        raise NotFound("没有这个与其他家庭相同的收款账户（或已不再相同）。")  # nor a staff member's own account
    group = found[0]
    note = note.strip()
    if not note:
        raise ValidationFailed.one("note", "必填：请说明为何同一账户可以收这几户的保障金。")
    if len(note) > MAX_NOTE:
        raise ValidationFailed.one("note", f"最多 {MAX_NOTE} 个字符")
    if group.elsewhere or not all(principal.may_see_county(c) for c in group.counties):
        raise Forbidden("该账户还收取其他县家庭的保障金：须由对所涉各县都有权限的县级审核人员核实。")
    if principal.id in group.staff:
        raise Forbidden("按“四眼原则”，该账户为您本人申报的账户，须由其他县级审核人员核实")
    if principal.id in group.people:
        raise Forbidden("按“四眼原则”，您录入、申请或批准过该账户作为其中一户的收款账户，须由其他县级审核人员核实。")
    recusal_refusals.refuse_linked(session, principal, "account_clear", clear_parts(group), clock=clock)
    if group.cleared is not None:
        raise InvalidState("该账户已就这些家庭核实过，无需再核实。")
    # 回避: a reviewer related to one of the households (or of the staff member's) does not clear the hold alone
    from ..recusal import guard as recusal

    recusal.refuse_principal(session, principal, group.households, step="account_clear", clock=clock)
    county = sorted(group.counties)[0]
    row = AccountClearance(id=new_id("acl"), account_index=index, account_masked=group.account_masked,
                           households=group.households, case_ids=sorted(c.case_id for c in group.cases),
                           county_code=county, note=note, cleared_by=principal.id, cleared_at=clock.now())
    session.add(row)
    session.flush()
    audit.append(session, actor=principal.id, role=CLEARER, action=CLEARED_ACTION, subject=row.id,
                 county_code=as_county(county), clock=clock, payload={
                     "account_masked": group.account_masked, "account_hmac": index, "households": group.households,
                     "case_ids": row.case_ids, "note_sha256": hashlib.sha256(note.encode("utf-8")).hexdigest()})
    group.cleared = row
    return group


# Whether any other case's record names the account (any time, any status): a plain statement, compiled once.
_ANOTHER_CASE = text(
    "SELECT 1 FROM home_check WHERE payee_account_index = :ix AND case_id <> :case_id "
    "UNION ALL SELECT 1 FROM payee_correction WHERE account_index = :ix AND case_id <> :case_id "
    "UNION ALL SELECT 1 FROM payment_item WHERE payee_account_index = :ix AND case_id <> :case_id LIMIT 1")


def warning(session: Session, *, case_id: str, index: str, number: str, principal: Principal,
            today: date) -> dict[str, Any] | None:
    """The warning for a payee about to be (or just) recorded on `case_id`: the other households' cases in the
    window naming the same account, those within the caller's counties by number; None when there is none there
    (a case outside the caller's counties is not hinted at)."""
    if session.execute(_ANOTHER_CASE, {"ix": index, "case_id": case_id}).first() is None:
        return None  # the common answer, in one cheap statement: no other case names the account at all
    household = session.scalar(select(Case.household_id).where(Case.id == case_id))
    others = [r for r in records(session, [index], today, pending=True) if r.household_id != household]
    mine = sorted({r.case_id for r in others if principal.may_see_county(r.county_code)})
    if not mine:
        return None
    numbers = sorted(session.scalars(select(Case.number).where(Case.id.in_(mine))))
    return {"account_number": mask_account(number), "case_numbers": numbers,
            "message": "收款账户与其他家庭相同"}


def held_ready(session: Session, principal: Principal, today: date) -> int:
    """How many of the caller's counties' cases ready to pay a batch would hold out for a shared account (the batch
    preparation page): their current payees read in bulk, then compared as `held` does."""
    from .payees import correction_wins

    ready = select(Case.id).where(Case.status == "ready_to_pay")
    if principal.counties:
        ready = ready.where(Case.county_code.in_(principal.counties))
    checks: dict[str, tuple[int, str | None, Any, bool]] = {}
    for case_id, seq, ix, at, has in session.execute(
        select(Check.case_id, Check.seq, Check.payee_account_index, Check.recorded_at,
               Check.payee_account_enc.is_not(None)).where(Check.case_id.in_(ready))
    ):
        if case_id not in checks or seq > checks[case_id][0]:
            checks[case_id] = (seq, ix, at, bool(has))
    changes: dict[str, tuple[Any, str, str | None]] = {}
    for case_id, change_id, at, ix in session.execute(
        select(PayeeCorrection.case_id, PayeeCorrection.id, PayeeCorrection.decided_at, PayeeCorrection.account_index)
        .where(PayeeCorrection.case_id.in_(ready), PayeeCorrection.status == "approved")
    ):
        if case_id not in changes or (at, change_id) > changes[case_id][:2]:
            changes[case_id] = (at, change_id, ix)
    pairs: list[tuple[str, str | None]] = []
    for case_id in set(checks) | set(changes):
        chk = checks.get(case_id)
        chk = chk if chk is not None and chk[3] else None
        corr = changes.get(case_id)
        if corr is not None and correction_wins(corr[0], None if chk is None else chk[2]):
            pairs.append((case_id, corr[2]))
        elif chk is not None:
            pairs.append((case_id, chk[1]))
    return len(held(session, sorted(pairs), today))


def count_open(session: Session, principal: Principal, today: date) -> int:
    """How many shared accounts the caller's counties have a case on wait for a county reviewer (the home page's
    card): what `groups(status="open")` lists, counted without opening any sealed account."""
    found = records(session, _shared_indexes(session, today, principal.counties), today)
    households: dict[str, set[str]] = {}
    for r in found:
        households.setdefault(r.index, set()).add(r.household_id)
    mine = {r.index for r in found if principal.may_see_county(r.county_code)}
    clearances = _clearances(session, set(households))
    return sum(1 for ix, hh in households.items()
               if len(hh) > 1 and ix in mine and _covered(clearances.get(ix, []), hh) is None)


def group_out(group: Group) -> dict[str, Any]:
    """A shared account as the API answers it (the account masked, never in full)."""
    cleared = group.cleared
    return {
        "account": group.index, "account_number": group.account_masked, "households": len(group.households),
        "households_elsewhere": group.elsewhere, "staff_own_account": bool(group.staff),
        "reason": STAFF_HOLD_REASON if group.staff else HOLD_REASON,
        "cases": [{"case_id": c.case_id, "number": c.number, "household_head": c.head_name,
                   "county_code": c.county_code, "case_status": c.status} for c in group.cases],
        "cleared": None if cleared is None else {"id": cleared.id, "by": cleared.cleared_by,
                                                 "at": cleared.cleared_at.isoformat(), "note": cleared.note},
    }


def _shared_statement() -> Prepared:
    """One statement: the records of other households' cases naming the case's payee account now (the newer of its
    latest approved change and its latest check, if that check recorded an account, as `current_index` reads it),
    each with its case's number and county and its time (the window is applied by the caller, who knows the day),
    beside the case's current sealed account and where it is sealed (to mask it). No rows: no other household."""
    case_id = bindparam("case_id")
    chk = (select(case((Check.payee_account_enc.is_not(None), Check.payee_account_index)).label("ix"),
                  case((Check.payee_account_enc.is_not(None), Check.recorded_at)).label("at"),
                  Check.payee_account_enc.label("enc"))
           .where(Check.case_id == case_id).order_by(Check.seq.desc()).limit(1).subquery("chk"))
    chg = (select(PayeeCorrection.account_index.label("ix"), PayeeCorrection.decided_at.label("at"),
                  PayeeCorrection.account_number_enc.label("enc"))
           .where(PayeeCorrection.case_id == case_id, PayeeCorrection.status == "approved")
           .order_by(PayeeCorrection.decided_at.desc(), PayeeCorrection.id.desc()).limit(1).subquery("chg"))
    change_wins = and_(chg.c.at.is_not(None), or_(chk.c.at.is_(None), chg.c.at >= chk.c.at))  # payees.correction_wins
    cur = (select(case((change_wins, chg.c.ix), else_=chk.c.ix).label("ix"),
                  case((change_wins, chg.c.enc), else_=chk.c.enc).label("sealed"),
                  case((change_wins, literal("change")), else_=literal("check")).label("kind"),
                  Case.household_id.label("household_id"))
           .select_from(Case).outerjoin(chk, true()).outerjoin(chg, true()).where(Case.id == case_id).cte("cur"))
    named = union_all(
        select(Check.case_id.label("case_id"), Check.recorded_at.label("at"))
        .join(cur, Check.payee_account_index == cur.c.ix),
        select(PayeeCorrection.case_id, func.coalesce(PayeeCorrection.decided_at, PayeeCorrection.requested_at))
        .join(cur, PayeeCorrection.account_index == cur.c.ix)
        .where(or_(PayeeCorrection.status == "approved", PayeeCorrection.status == "pending")),  # no expanding IN
        select(PaymentItem.case_id, PaymentItem.created_at)
        .join(cur, PaymentItem.payee_account_index == cur.c.ix).where(PaymentItem.status != "cancelled"),
    ).subquery("named")
    return Prepared(select(Case.number.label("number"), Case.county_code.label("county_code"),
                           named.c.at.label("at"), cur.c.sealed.label("sealed"), cur.c.kind.label("kind"))
                    .join(named, named.c.case_id == Case.id).join(cur, true())
                    .where(Case.household_id != cur.c.household_id))


SHARED = _shared_statement()
"""`GET /api/cases/{id}` reads it with the case (cases/present.py `case_rows_steps`); the pages through
`case_warning`."""


class SharedRow(NamedTuple):
    number: str
    county_code: str
    at: Any
    sealed: Any
    kind: str


# On SQLite, where a UNION and a CTE are materialised into temporary tables each time (a fifth of a millisecond),
# the same in plain statements: the case's latest check and approved change, then each kind of record by the account.
_CASE_ID = bindparam("case_id")
LATEST_CHECK = Prepared(
    select(Check.payee_account_index.label("ix"), Check.recorded_at.label("at"), Check.payee_account_enc.label("sealed"))
    .where(Check.case_id == _CASE_ID).order_by(Check.seq.desc()).limit(1))
LATEST_CHANGE = Prepared(
    select(PayeeCorrection.account_index.label("ix"), PayeeCorrection.decided_at.label("at"),
           PayeeCorrection.account_number_enc.label("sealed"))
    .where(PayeeCorrection.case_id == _CASE_ID, PayeeCorrection.status == "approved")
    .order_by(PayeeCorrection.decided_at.desc(), PayeeCorrection.id.desc()).limit(1))


def _by_account(case_col: Any, at: Any, *where: Any) -> Prepared:
    own = select(Case.household_id).where(Case.id == _CASE_ID).scalar_subquery()
    return Prepared(select(Case.number.label("number"), Case.county_code.label("county_code"), at.label("at"))
                    .select_from(case_col.table).join(Case, Case.id == case_col).where(*where, Case.household_id != own))


_IX = bindparam("ix", type_=Check.payee_account_index.type)
BY_ACCOUNT = (
    _by_account(Check.case_id, Check.recorded_at, Check.payee_account_index == _IX),
    _by_account(PayeeCorrection.case_id, func.coalesce(PayeeCorrection.decided_at, PayeeCorrection.requested_at),
                PayeeCorrection.account_index == _IX,
                or_(PayeeCorrection.status == "approved", PayeeCorrection.status == "pending")),
    _by_account(PaymentItem.case_id, PaymentItem.created_at, PaymentItem.payee_account_index == _IX,
                PaymentItem.status != "cancelled"),
)


def current_of(checks: Sequence[Any], changes: Sequence[Any]) -> tuple[str, Any, str] | None:
    """(index, sealed, kind) of the case's payee account now from `LATEST_CHECK`'s and `LATEST_CHANGE`'s rows, as
    `current_index` chooses it; None without one (or with a row sealed before migration 0045, not compared)."""
    from .payees import correction_wins

    check = checks[0] if checks and checks[0].sealed is not None else None
    change = changes[0] if changes else None
    if change is not None and correction_wins(change.at, None if check is None else check.at):
        found = (change.ix, change.sealed, "change")
    elif check is not None:
        found = (check.ix, check.sealed, "check")
    else:
        return None
    return None if found[0] is None else found


def rows_with(current: tuple[str, Any, str], found: Sequence[Sequence[Any]]) -> list[SharedRow]:
    """`BY_ACCOUNT`'s rows as `SHARED`'s."""
    return [SharedRow(r.number, r.county_code, r.at, current[1], current[2]) for rows in found for r in rows]


def warning_of(rows: Sequence[Any], principal: Principal, vault: Vault, today: date) -> dict[str, Any] | None:
    """The warning from `SHARED`'s rows: the other households' cases in the window naming the case's payee account
    now, those within the caller's counties by number; None when there is none there (a case outside the caller's
    counties is not hinted at)."""
    since = window_start(today)
    numbers = sorted({r.number for r in rows if r.at is not None and r.at >= since
                      and principal.may_see_county(r.county_code)})
    if not numbers:
        return None
    from .payees import CORRECTION_ACCOUNT_COLUMN

    try:
        column = CORRECTION_ACCOUNT_COLUMN if rows[0].kind == "change" else "check.payee_account"
        masked = mask_account(vault.open(bytes(rows[0].sealed), column))
    except Exception:  # noqa: BLE001  (a damaged value: the tail is not shown)
        masked = "****"
    return {"account_number": masked, "case_numbers": numbers,
            "message": "收款账户与其他家庭相同"}


def case_warning_steps(case_id: str, principal: Principal, vault: Vault, today: date, *,
                       probe: bool = False) -> Steps[dict[str, Any] | None]:
    """The warning about the case's payee account now (`SHARED`, `warning_of`): one statement; with `probe`
    (SQLite) the plain statements (`LATEST_CHECK`, `LATEST_CHANGE`, then `BY_ACCOUNT`). Read where a person acts on
    it, never on the write that recorded the account."""
    by_case = {"case_id": case_id}
    if not probe:
        rows, = yield [(SHARED, by_case)]
        return warning_of(rows, principal, vault, today)
    checks, changes = yield [(LATEST_CHECK, by_case), (LATEST_CHANGE, by_case)]
    current = current_of(checks, changes)
    if current is None:
        return None
    found = yield [(s, {**by_case, "ix": current[0]}) for s in BY_ACCOUNT]
    return warning_of(rows_with(current, found), principal, vault, today)


def case_warning(session: Session, case_id: str, principal: Principal, vault: Vault,
                 today: date) -> dict[str, Any] | None:
    """`case_warning_steps` within a session (the pages)."""
    probe = session.get_bind().dialect.name == "sqlite"
    return session_reader(session).run(case_warning_steps(case_id, principal, vault, today, probe=probe))
