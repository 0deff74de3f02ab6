"""Referral intake: bureau files and households' own applications, merged into one open case per household,
cause and contract year. All or nothing: any bad row and nothing is stored; the same file again changes nothing,
but for the rows an import of it left out for 回避 (`store_file`), which the same file brings in by another hand.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import msgspec
from sqlalchemy import String, and_, any_, bindparam, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..accounts.probes import Limit
from ..accounts.auth import Principal
from ..audit import log as audit
from ..audit.canonical import decode_entry
from ..audit.models import AuditEntry
from ..cases import numbers as case_numbers
from ..clock import Clock
from ..conflicts import service as conflicts
from ..contract import Contract, county_named, declared_name
from ..domain.causes import CHANNEL_ZH
from ..domain.causes import DEFAULT_TABLE, CauseTable, channel_refusal
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.money import format_yuan
from ..domain.roster import GROUP_OF, NOT_ON_ROSTER_GROUP, group_for
from ..places import service as places
from ..recusal import guard as recusal, refusals
from ..store import contracts as contract_store
from ..settings import ImportLimits
from ..store.base import new_id, new_ids
from ..store.db import Database
from ..store.tables import (
    CLOSED_STATUSES,
    Case,
    Household,
    Member,
    Referral,
    ReferralImport,
)
from ..roster import service as roster_service
from ..store.vault import Vault
from ..uploads import check_size, size_of
from . import roster_probes, settlements
from .parsing import ReferralRow, ReferralStream, iter_referrals, parse_application

IMPORT_ACTION = "referrals.import"
CHANNELS = ("medical_insurance", "civil_affairs", "emergency_management", "education", "application")
_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    batch_id: str
    rows: int
    new_cases: int
    merged: int
    case_ids: tuple[str, ...] = ()
    repeated: bool = False
    left_out: int = 0
    """Rows of the file left for another staff member to import (回避: the importer is tied to their household)."""
    continues: bool = False
    """The rows an earlier import of the same file left out for 回避, brought in under its id (`referrals.waiting`)."""


def _check_target(channel: str, county_code: str, principal: Principal) -> None:
    problems = []
    if channel not in CHANNELS:
        problems.append(FieldError("channel", f"没有“{channel}”这个来源渠道，可选："
                                              f"{'、'.join(f'{CHANNEL_ZH.get(c, c)}({c})' for c in CHANNELS)}"))
    if not (len(county_code) == 6 and county_code.isdigit()):
        problems.append(FieldError("county_code", f"县（区）代码为 6 位数字，填写的是“{county_code}”"))
    if problems:
        raise ValidationFailed(problems)
    if not principal.may_see_county(county_code):
        raise NotFound("县（区）不存在")


def _cause_zh(code: str) -> str:
    return DEFAULT_TABLE.cause_names().get(code) or declared_name("causes", code) or code


def _group_zh(code: str) -> str:
    return DEFAULT_TABLE.group_names().get(code) or declared_name("groups", code) or code


def contract_problem(contract: Contract, cause_code: str, group: str, channels: Iterable[str]) -> FieldError | None:
    """Whether `contract` takes in a referral of `cause_code` for a household of `group` that came through
    `channels` (one of them is enough; README "Which channels refer a cause"): None when it does, else the problem
    intake refuses the row with (pages word it in Chinese, `web.labels.message_zh`). The one check of a bureau's
    file, a household's application and of a case moved to a corrected contract (`contract_review.service`); no
    channel at all (a case with no referral on record) passes the channel rule."""
    cause = contract.cause_table.cause(cause_code)
    if cause is None:
        accepted = "、".join(c.name for c in contract.cause_table.causes)
        return FieldError("cause", f"服务合同 {contract.id} 不含{_cause_zh(cause_code)}，可填：{accepted}")
    came = tuple(channels)
    if came and (refusal := channel_refusal(cause, came, contract.id)) is not None:
        return FieldError("cause", refusal)
    if group not in contract.spec.eligibility.groups:
        return FieldError("household_group", f"服务合同 {contract.id} 不含{_group_zh(group)}")
    if (cause_code, group) not in contract.rules:
        return FieldError("cause", f"服务合同 {contract.id} 没有{_cause_zh(cause_code)}救助")
    return None


def _bind_contracts(
    contracts: list[Contract], county_code: str, channel: str, rows: list[ReferralRow], today: date,
    errors: list[FieldError],
) -> list[Contract | None]:
    """The contract each row is bound to (in force for the county on its referral date); a bad row otherwise (also
    a row whose cause the contract does not take from `channel`)."""
    chosen: list[Contract | None] = []
    decided: dict[tuple[date, str, str], tuple[Contract | None, FieldError | None]] = {}  # few distinct keys
    for r in rows:
        on = r.referred_on or today
        key = (on, r.household_group, r.cause)
        found = decided.get(key)
        if found is None:
            found = decided[key] = _bound(contracts, county_code, channel, on, r.household_group, r.cause)
        if found[1] is not None:
            errors.append(FieldError(found[1].field, found[1].message, r.row))
        chosen.append(found[0])
    return chosen


def _bound(contracts: list[Contract], county_code: str, channel: str, on: date, group: str,
           cause: str) -> tuple[Contract | None, FieldError | None]:
    """The contract a referral of `cause` for a household of `group` made `on` is bound to, or its problem."""
    contract = next((c for c in contracts if c.start <= on <= c.end), None)
    if contract is None:
        return None, FieldError("referred_on", f"{on} 没有覆盖{county_named(county_code)}的服务合同")
    problem = contract_problem(contract, cause, group, (channel,))
    return (None if problem else contract), problem


# the groups the county's roster gives (domain/roster.py)
_ROSTER_GROUPS = tuple(sorted({*GROUP_OF.values(), NOT_ON_ROSTER_GROUP}))


def _group_decides(contracts: list[Contract], county_code: str, channel: str, rows: list[ReferralRow],
                   today: date) -> list[int]:
    """The rows without a group of their own whose answer (refused, and in what words, or not) depends on the group
    the county's roster gives them: read from a refused file, such an answer tells the roster's group for a whole ID
    number (`roster_probes.FILE_ALLOWANCE`): their places in `rows`. Decided by the contracts alone, before the
    roster is read."""
    answers: dict[tuple[date, str], set[tuple[str, str] | None]] = {}
    decides = []
    for i, r in enumerate(rows):
        if r.household_group is not None:
            continue
        key = (r.referred_on or today, r.cause)
        said = answers.get(key)
        if said is None:
            said = answers[key] = set()
            for group in _ROSTER_GROUPS:
                problem = _bound(contracts, county_code, channel, key[0], group, r.cause)[1]
                said.add(None if problem is None else (problem.field, problem.message))
        if len(said) > 1:
            decides.append(i)
    return decides


def _settlement_rows(source: BinaryIO, filename: str, channel: str, today: date,
                     limits: ImportLimits, table: CauseTable | None = None) -> list[ReferralRow] | None:
    """The referrals of a medical-insurance settlement export (see settlements.py), or None for any other file."""
    if channel != "medical_insurance":
        return None
    start = source.tell()
    data = source.read()
    source.seek(start)
    try:
        header = settlements.header_of(data, filename, limits)
    except ValidationFailed:
        return None  # not readable as a table here: the ordinary reader words the problem
    if header is None or not settlements.is_settlement_header(header):
        return None
    return settlements.read_settlements(data, filename, today=today, limits=limits, table=table)


def roster_groups(session: Session, vault: Vault, county_code: str,
                  id_numbers: Iterable[str]) -> dict[str, str] | None:
    """The household group the county's current roster gives each of these people (domain/roster.py: registered
    as having left poverty, the first group; at the edge, in sudden hardship or on no roster, the second); None
    when the county has imported no roster. The one roster lookup of intake: a file without groups and the group
    a household's own application names."""
    current = roster_service.current_import(session, county_code)
    if current is None:
        return None
    keys = {n: vault.blind_index(n, "id_number") for n in id_numbers}
    found = roster_service.categories_in(session, current.id, keys.values())
    return {n: group_for(found.get(key)) for n, key in keys.items()}


def _groups_from_roster(session: Session, vault: Vault | None, county_code: str,
                        rows: list[ReferralRow]) -> list[ReferralRow]:
    """Rows whose file gave no household group get it from the county's roster (`roster_groups`; on no roster
    imported at all, the second group)."""
    if vault is None:
        raise ValueError("a file without household groups needs the vault to look people up in the roster")
    groups = roster_groups(session, vault, county_code, {r.id_number for r in rows if r.household_group is None})
    return [r if r.household_group is not None
            else msgspec.structs.replace(r, household_group=(groups or {}).get(r.id_number) or group_for(None))
            for r in rows]


def roster_disagrees(file_group: str, roster_group: str) -> FieldError:
    """A bureau file's row naming another group than the county's roster gives the person: the roster's stands (it
    changes only by two county reviewers; the group sets the relief tiers), the row refused like any bad row."""
    return FieldError("household_group", f"文件填写为{_group_zh(file_group)}，县防返贫监测名单上此人为"
                                         f"{_group_zh(roster_group)}：户类型以县名单为准，请改正本行（或留空，由县名单确定）后"
                                         "重新导入")


def off_roster(file_group: str) -> FieldError:
    """A bureau file's row giving a person on none of the county's roster another group than the second one (the
    group `roster_group_problem` holds a clerk's application for the same person to)."""
    return FieldError("household_group", f"文件填写为{_group_zh(file_group)}，此人不在县防返贫监测名单上，户类型应为"
                                         f"{_group_zh(group_for(None))}：请改正本行（或留空，由县名单确定）后重新导入")


def _groups_against_roster(session: Session, roster_id: str, rows: list[ReferralRow],
                           keys: list[str]) -> list[FieldError]:
    """The rows (`keys`: their numbers' blind indexes) whose file gives a group other than the one the county's
    roster in force (`roster_id`) gives the person (`roster_disagrees`), a person on no roster included: the second
    group (`group_for(None)`, `off_roster`), as `roster_group_problem` holds a clerk's application to."""
    found = roster_service.categories_in(session, roster_id, keys)
    problems = []
    for r, key in zip(rows, keys):
        category = found.get(key)
        if r.household_group is None or group_for(category) == r.household_group:
            continue
        problem = (roster_disagrees(r.household_group, group_for(category)) if category is not None
                   else off_roster(r.household_group))
        problems.append(FieldError(problem.field, problem.message, r.row))
    return problems


def roster_group_problem(session: Session, vault: Vault, county_code: str, id_number: str,
                         group: str) -> FieldError | None:
    """A household's own application names its group, which decides the relief tiers; the clerk who enters it may
    also record its village evaluation and post its notice, so nobody else would see the group again. Where the
    county has imported its roster, the group is the roster's for the applicant (as for a bureau file without one):
    another is refused, naming the roster's (a person on no roster too: the second group). Without a roster the
    clerk's group stands. A bureau's file is held to the roster the same way (`_groups_against_roster`)."""
    groups = roster_groups(session, vault, county_code, (id_number,))
    if groups is None or groups[id_number] == group:
        return None
    return FieldError("household_group", f"县里的防返贫监测名单上此人应为{_group_zh(groups[id_number])}，不是{_group_zh(group)}："
                                         "农户申请的户类型以县名单为准")


def _check_places(place_list: places.PlaceList, rows: list[ReferralRow], errors: list[FieldError]) -> None:
    """A row naming a town or village not on the county's list is a bad row like any other: the file is refused
    and the row reported, since storing it would make a village of a typo. (Lists only grow, so a file checked
    here stays good until it is stored.)"""
    if not place_list.exists:
        return
    for r in rows:
        problem = place_list.problem(r.town, r.village)
        if problem:
            errors.append(FieldError(*problem, r.row))


def _county_contracts(session: Session, county_code: str) -> list[Contract]:
    """The county's contracts a referral may be bound to: accepted, or pending the county's acceptance (a case is
    taken in, but not priced, under a pending one); never one the county refused."""
    refused = contract_store.refused_ids(session)
    return [c for c in contract_store.all_contracts(session) if county_code in c.county_codes and c.id not in refused]


def county_vocabulary(session: Session, county_codes: Iterable[str], today: date) -> CauseTable:
    """The causes and groups an application or file of these counties may name (every contract of theirs; the
    one in force today first). For forms: `.cause_names()` and `.group_names()` are the choices to offer."""
    return vocabulary_of(contract_store.all_contracts(session), county_codes, today)


def vocabulary_of(contracts: Iterable[Contract], county_codes: Iterable[str], today: date) -> CauseTable:
    """`county_vocabulary` given every contract."""
    codes = set(county_codes)
    return vocabulary([c for c in contracts if codes & set(c.county_codes)], today)


def vocabulary(contracts: list[Contract], today: date) -> CauseTable:
    """The causes and groups a county's file may name: those of its contracts, the one in force today first (its
    words win), then the latest; the defaults when the county has no contract (its rows are refused anyway)."""
    if not contracts:
        return DEFAULT_TABLE
    ordered = sorted(contracts, key=lambda c: (not c.start <= today <= c.end, -c.start.toordinal()))
    table = ordered[0].cause_table
    for c in ordered[1:]:
        table = table.merged(c.cause_table)
    return table


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


class _Rows:
    """New rows for one table, as tuples in `columns` order, written in bulk by the driver's fastest path.

    Imports write four rows per referral, so the per-row cost of a Core insert (building and processing a
    parameter dict per row) dominated. Here the values are given ready-made: on SQLite a column whose type has
    a bind processor (dates and times, stored as text) takes its value through `value()`, which applies the
    dialect's own processor, so what is stored is exactly what the ORM would store; then one `executemany` of
    plain tuples. On PostgreSQL with psycopg the rows go through `COPY ... FROM STDIN` (the driver adapts the
    Python values itself). Any other database gets a Core insert. All of it runs on the session's connection,
    inside the caller's transaction: a failure later rolls these rows back like any other write.
    """

    def __init__(self, session: Session, table: Any, columns: tuple[str, ...]) -> None:
        self.session, self.table, self.columns = session, table.__table__, columns
        defaulted = [c.name for c in self.table.c if c.name not in columns and c.default is not None]
        if defaulted:  # a Core insert would fill these in; a raw one would not
            raise TypeError(f"{self.table.name}: give {', '.join(defaulted)} explicitly")
        dialect = session.get_bind().dialect
        if dialect.name == "sqlite" and dialect.driver == "pysqlite":
            self.path = "executemany"
        elif dialect.name == "postgresql" and dialect.driver == "psycopg":
            self.path = "copy"
        else:
            self.path = "core"
        self._processors: dict[str, Callable[[Any], Any]] = {}
        if self.path == "executemany":
            for name in columns:
                processor = self.table.c[name].type._cached_bind_processor(dialect)
                if processor is not None:
                    self._processors[name] = processor
        self._memo: dict[tuple[str, Any], Any] = {}
        self.rows: list[tuple[Any, ...]] = []

    def value(self, column: str, value: Any) -> Any:
        """`value` as the driver must receive it for `column` (memoised: dates and times repeat)."""
        processor = self._processors.get(column)
        if processor is None or value is None:
            return value
        key = (column, value)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) > 10_000:
                self._memo.clear()
            found = self._memo[key] = processor(value)
        return found

    def write(self) -> None:
        rows, self.rows = self.rows, []
        if not rows:
            return
        for name in self._processors:  # a value that did not go through `value()` would be stored wrongly
            raw = rows[0][self.columns.index(name)]
            if isinstance(raw, (date, datetime)):
                raise TypeError(f"{self.table.name}.{name} must be given through value()")
        connection = self.session.connection()
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        table = quote(self.table.name)
        if self.path == "executemany":
            marks = ", ".join("?" for _ in self.columns)
            connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # type: ignore[arg-type]
        elif self.path == "copy":
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            for chunk in _chunks(rows):
                connection.execute(insert(self.table), [dict(zip(self.columns, row)) for row in chunk])


_HOUSEHOLD_COLUMNS = ("id", "county_code", "town", "village", "household_group", "head_name", "phone_enc", "created_at")
_MEMBER_COLUMNS = ("id", "household_id", "name", "id_number_enc", "id_number_bidx", "id_tail_bidx", "relation",
                   "labour")
_CASE_COLUMNS = ("id", "household_id", "county_code", "town", "village", "household_group", "cause", "contract_id",
                 "contract_hash", "contract_year", "status", "referred_on", "reported_amount", "screening_reason",
                 "closed_reason", "created_at", "updated_at", "version", "number")
_REFERRAL_COLUMNS = ("id", "import_id", "row_number", "case_id", "channel", "name", "id_number_enc", "id_number_bidx",
                     "phone_enc", "town", "village", "household_group", "cause", "amount", "referred_on",
                     "household_size", "note", "entered_by", "created_at")


# The households already known by these blind indexes, with their open cases (none: one row, case columns NULL).
# PostgreSQL gets the keys as one array parameter (`= ANY`): a list of hundreds of parameters costs it more to
# plan than to run. Elsewhere an expanding IN, at most 500 keys at a time.
_member, _case, _household = Member.__table__, Case.__table__, Household.__table__
_KNOWN_FROM = _member.join(_household, _household.c.id == _member.c.household_id).outerjoin(
    _case, and_(_case.c.household_id == _member.c.household_id, _case.c.status.not_in(CLOSED_STATUSES)))
_KNOWN_COLUMNS = (_member.c.id_number_bidx, _member.c.household_id, _household.c.county_code, _case.c.id,
                  _case.c.cause, _case.c.contract_year)
_KNOWN = select(*_KNOWN_COLUMNS).select_from(_KNOWN_FROM).where(
    _member.c.id_number_bidx.in_(bindparam("keys", expanding=True)))
_KNOWN_PG = select(*_KNOWN_COLUMNS).select_from(_KNOWN_FROM).where(
    _member.c.id_number_bidx == any_(bindparam("keys", type_=postgresql.ARRAY(String))))


class _Known:
    """What one import has learned of people, households and open cases, carried from chunk to chunk.

    A person seen earlier in the file (found in the database, or given a new household by this import) needs no
    second lookup: inside the import's transaction their household and its open cases change only through this
    import, which records each change here. Bounded: past `limit` people it starts afresh (then the database
    is asked again, as for a new file), so memory stays flat however long the file.
    """

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self.blind_of: dict[str, str] = {}  # ID number -> its blind index (a keyed hash: worth computing once)
        self.household_of: dict[str, str] = {}  # blind index -> household id
        self.open_case: dict[tuple[str, str, int], str] = {}  # (household, cause, contract year) -> open case id

    def trim(self) -> None:
        # Everyone in household_of came through blind_of, so blind_of is the larger of the two.
        if len(self.blind_of) > self.limit:
            self.blind_of.clear()
            self.household_of.clear()
            self.open_case.clear()


def _merge(
    session: Session,
    vault: Vault,
    county_code: str,
    channel: str,
    rows: list[ReferralRow],
    contracts: list[Contract],
    *,
    import_id: str | None,
    actor: str,
    now: Any,
    today: date,
    known: _Known | None = None,
    sightings: list[conflicts.Sighting] | None = None,
    reference: str | None = None,
) -> tuple[int, int, list[str], list[FieldError]]:
    """Store the referrals, creating households and cases as needed. A few bulk statements per chunk of rows.

    Returns the new and merged counts, each row's case id, and the rows refused (then nothing is written). A
    person of another county's household is refused neutrally and added to `sightings`."""
    if known is None:
        known = _Known()
    known.trim()
    blind_of, household_of, open_case = known.blind_of, known.household_of, known.open_case
    bidx: list[str] = []
    for r in rows:
        b = blind_of.get(r.id_number)
        if b is None:
            b = blind_of[r.id_number] = vault.blind_index(r.id_number, "id_number")
        bidx.append(b)
    connection = session.connection()
    keys = sorted({b for b in bidx if b not in household_of})
    if not keys:
        lookups = []
    elif connection.dialect.name == "postgresql":
        lookups = [(_KNOWN_PG, keys)]
    else:
        lookups = [(_KNOWN, chunk) for chunk in _chunks(keys)]
    elsewhere: dict[str, str] = {}
    for statement, chunk in lookups:
        for b, hh, hh_county, cid, cause, year in connection.execute(statement, {"keys": chunk}):
            if hh_county != county_code:
                elsewhere[b] = hh_county  # a person belongs to one household, and this one is another county's
                continue
            household_of[b] = hh
            if cid is not None:
                open_case[(hh, cause, year)] = cid
    if elsewhere:
        # Nothing of the chunk is written: the caller reports these rows and the transaction rolls back. The
        # message does not say where the person is known: the reviewers of both counties see the conflict.
        refused = [(r, b) for r, b in zip(rows, bidx) if b in elsewhere]
        if sightings is not None:
            source = "application" if channel == "application" else "referral_import"
            sightings.extend(conflicts.Sighting(source, county_code, elsewhere[b], b, r.id_number, reference,
                                                r.row if import_id else None) for r, b in refused)
        return 0, 0, [], [conflicts.refusal("id_number", r.row) for r, _ in refused]

    households = _Rows(session, Household, _HOUSEHOLD_COLUMNS)
    members = _Rows(session, Member, _MEMBER_COLUMNS)
    cases = _Rows(session, Case, _CASE_COLUMNS)
    referrals = _Rows(session, Referral, _REFERRAL_COLUMNS)
    household_now, case_now, referral_now = (t.value("created_at", now) for t in (households, cases, referrals))
    seal = vault.seal
    n = len(rows)
    referral_ids, case_ids, household_ids, member_ids = (iter(new_ids(p, n)) for p in ("ref", "case", "hh", "mem"))
    sealed_ids = vault.seal_many([r.id_number for r in rows], "referral.id_number")
    heads: list[tuple[str, str, str, str]] = []  # the first member of each new household, sealed below in one go
    years = {id(c): c.year for c in contracts}
    referred: dict[date, Any] = {}  # referred_on as the driver takes it, per date
    new_cases = merged = 0
    touched: list[str] = []
    numbered: dict[int, list[int]] = {}  # year received -> positions in cases.rows, numbered once the loop is done
    for r, b, contract, sealed_id in zip(rows, bidx, contracts, sealed_ids):
        on = r.referred_on or today
        on_value = referred.get(on)
        if on_value is None:
            on_value = referred[on] = referrals.value("referred_on", on)
        hh = household_of.get(b)
        if hh is None:
            hh = household_of[b] = next(household_ids)
            households.rows.append((hh, county_code, r.town, r.village, r.household_group, r.name,
                                    seal(r.phone, "household.phone") if r.phone else None, household_now))
            heads.append((hh, r.name, r.id_number, b))
        key = (hh, r.cause, years[id(contract)])
        case_id = open_case.get(key)
        if case_id is None:
            case_id = open_case[key] = next(case_ids)
            numbered.setdefault(on.year, []).append(len(cases.rows))
            cases.rows.append((case_id, hh, county_code, r.town, r.village, r.household_group, r.cause, contract.id,
                               contract.content_hash, contract.year, "received", cases.value("referred_on", on),
                               r.amount, None, None, case_now, case_now, 1, None))
            new_cases += 1
        else:
            merged += 1
        touched.append(case_id)
        referrals.rows.append((next(referral_ids), import_id, r.row, case_id, channel, r.name, sealed_id, b,
                               seal(r.phone, "referral.phone") if r.phone else None, r.town, r.village,
                               r.household_group, r.cause, r.amount, on_value,
                               r.household_size, r.note, actor, referral_now))
    for year, positions in sorted(numbered.items()):
        for position, number in zip(positions, case_numbers.reserve(session, county_code, year, len(positions))):
            cases.rows[position] = cases.rows[position][:-1] + (number,)
    sealed_heads = vault.seal_many([idn for _, _, idn, _ in heads], "member.id_number")
    members.rows = [(next(member_ids), hh, name, sealed, b, case_numbers.tail_index(vault, idn), "head", None)
                    for (hh, name, idn, b), sealed in zip(heads, sealed_heads)]
    for table in (households, members, cases, referrals):  # parents first: the foreign keys are checked per row
        table.write()
    return new_cases, merged, touched, []


_FILE_CHUNK = 2000
_MAX_ERRORS = 1000
_SQLITE_IMPORT_CACHE_KIB = 64 * 1024


@contextmanager
def _bulk_settings(session: Session) -> Iterator[None]:
    """Settings for a large write, undone at the end. SQLite: a 64 MiB page cache (the default is 2 MiB) for this
    connection while the import runs, so that the pages of the indexes being filled stay in memory instead of
    being spilled to the WAL and read back many times over."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={previous}")


def sha256_of(source: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
    source.seek(0)
    return digest.hexdigest()


_ROWS = msgspec.msgpack.Encoder()
_READ_ROWS = msgspec.msgpack.Decoder(list[ReferralRow])


@dataclass
class CheckedFile:
    """A referral file read and checked as a whole, before anything is written: every row valid and bound to a
    contract. Its rows are kept in chunks, encoded compactly (a 200,000-row file takes some 25 MB), in memory only:
    the rows hold ID numbers, which never reach a disk in clear."""

    sha256: str
    filename: str
    channel: str
    county_code: str
    rows: int = 0
    chunks: list[bytes] = field(default_factory=list)
    repeated: ImportResult | None = None
    """Set when the same file was imported before: then nothing was read and nothing will be written."""
    pending: frozenset[int] | None = None
    """Set when the same file was imported before but rows of it were left out (回避): only those rows were read."""

    def row_chunks(self) -> Iterator[list[ReferralRow]]:
        for chunk in self.chunks:
            yield _READ_ROWS.decode(chunk)


@dataclass(frozen=True)
class _Pending:
    """An import of this file that left rows out for 回避 (`store_file`): its id and the rows still to import."""

    import_id: str
    rows: frozenset[int]


def _earlier(session: Session, county_code: str, channel: str, sha: str,
             lock: bool = False) -> ImportResult | _Pending | None:
    """The same file imported before: done (every row in, `repeated`), or with rows left out for 回避 (`_Pending`:
    then the file is imported again, those rows only). The rows still to import are those the last import of the
    file left out, as its audit entry says (`left_out_rows`); each row brought in counts once, as a new case or merged
    (`rows` is the file's), so a file is done when `new_cases + merged` reach its rows. `lock`: in the write
    transaction, so that two colleagues do not both bring in the same rows."""
    stmt = select(ReferralImport).where(ReferralImport.county_code == county_code, ReferralImport.channel == channel,
                                        ReferralImport.file_sha256 == sha)
    earlier = session.scalar(stmt.with_for_update() if lock else stmt)
    if earlier is None:
        return None
    if earlier.new_cases + earlier.merged >= earlier.rows:
        return ImportResult(earlier.id, earlier.rows, 0, 0, repeated=True)
    last = session.scalar(select(AuditEntry.entry).where(AuditEntry.subject == earlier.id,
                                                         AuditEntry.action == IMPORT_ACTION)
                          .order_by(AuditEntry.idx.desc()).limit(1))
    left = decode_entry(last).payload.get("left_out_rows") if last is not None else None
    if not left:  # not expected: an import that is not done says which rows it left
        return ImportResult(earlier.id, earlier.rows, 0, 0, repeated=True)
    return _Pending(earlier.id, frozenset(int(r) for r in left))


def check_file(
    session: Session,
    *,
    source: BinaryIO,
    filename: str,
    channel: str,
    county_code: str,
    principal: Principal,
    clock: Clock,
    limits: ImportLimits,
    progress: Callable[[ReferralStream], None] | None = None,
    vault: Vault | None = None,
    roster_rows: roster_probes.RosterRows | None = None,
) -> CheckedFile:
    """Read and check a whole referral file (`session` only reads: the contracts, and whether the file came before).

    Raises `TooLarge` (413) for a file over `limits`, and `ValidationFailed` listing every bad row, with nothing
    written. Run it outside the write transaction (see `import_referral_file`), so that other writes never wait on
    the parsing of a large file.

    `roster_rows`, when given, gets the rows that take their group from the county's roster in force and whose
    answer depends on it (`_group_decides`), for the importer's allowance (`roster_probes.answer`): their numbers'
    blind indexes, and the contract's problems with them held apart from the other errors (`errors` and its cut
    at `_MAX_ERRORS` never depend on the roster's answers); the other errors go to its `others` on a refusal.

    A group the file gives must be the roster's in force for a person on it (`roster_disagrees`, a bad row; the
    roster changes only by two county reviewers, and the group sets the relief tiers); a person on no roster keeps
    the file's. Those rows are compared whatever the contract, so with `roster_rows` they all go to it (`given`),
    their disagreements to its `problems`.
    """
    today = clock.today()
    _check_target(channel, county_code, principal)
    if channel == "application":
        raise ValidationFailed.one("channel", "农户申请须逐一录入，不能从文件导入")
    check_size(size_of(source), limits)
    sha = sha256_of(source)
    checked = CheckedFile(sha256=sha, filename=filename, channel=channel, county_code=county_code)
    if roster_rows is not None:
        roster_rows.sha256 = sha
    earlier = _earlier(session, county_code, channel, sha)
    if isinstance(earlier, ImportResult):
        checked.repeated = earlier
        return checked
    if earlier is not None:  # rows left out for 回避 by an earlier import: only those are read and checked
        checked.pending = earlier.rows
    contracts = _county_contracts(session, county_code)
    place_list = places.place_list(session, county_code)  # empty: the county keeps free-text towns and villages
    errors: list[FieldError] = []
    in_force: list[str | None] = []  # the county's roster in force (its import's id; None: none), once asked

    def roster_in_force() -> str | None:
        if not in_force:
            current = roster_service.current_import(session, county_code)
            in_force.append(None if current is None else current.id)
        return in_force[0]

    def take(chunk: list[ReferralRow]) -> None:
        if checked.pending is not None:
            chunk = [r for r in chunk if r.row in checked.pending]
            if not chunk:
                return
        checked.rows += len(chunk)
        given = [r for r in chunk if r.household_group is not None]
        roster_id = roster_in_force() if given else None
        if roster_id is not None:  # a group the file gives must be the roster's for a person on it
            if vault is None:
                raise ValueError("a file with household groups needs the vault to compare them with the roster")
            keys = [vault.blind_index(r.id_number, "id_number") for r in given]
            wrong = _groups_against_roster(session, roster_id, given, keys)
            if roster_rows is not None:  # each row's answer tells the roster's group: answered while allowed
                roster_rows.rows.extend((r.row, key) for r, key in zip(given, keys))
                roster_rows.given.update(r.row for r in given)
                roster_rows.problems.extend(wrong)
            else:
                room = max(0, _MAX_ERRORS - len(errors))
                errors.extend(wrong[:room])
        decides: list[int] = []
        if any(r.household_group is None for r in chunk):
            if roster_rows is not None and vault is not None and roster_in_force():
                decides = _group_decides(contracts, county_code, channel, chunk, today)
            chunk = _groups_from_roster(session, vault, county_code, chunk)
        if decides and roster_rows is not None and vault is not None:  # answers held apart (`roster_probes.answer`)
            held = set(decides)
            roster_rows.rows.extend((chunk[i].row, vault.blind_index(chunk[i].id_number, "id_number")) for i in decides)
            _bind_contracts(contracts, county_code, channel, [chunk[i] for i in decides], today, roster_rows.problems)
            _bind_contracts(contracts, county_code, channel, [r for i, r in enumerate(chunk) if i not in held], today,
                            errors if len(errors) < _MAX_ERRORS else [])
        else:
            _bind_contracts(contracts, county_code, channel, chunk, today,
                            errors if len(errors) < _MAX_ERRORS else [])
        _check_places(place_list, chunk, errors if len(errors) < _MAX_ERRORS else [])
        if not errors and not (roster_rows is not None and roster_rows.problems):
            checked.chunks.append(_ROWS.encode(chunk))

    table = vocabulary(contracts, today)
    settled = _settlement_rows(source, filename, channel, today, limits, table)
    if settled is not None:  # a medical-insurance settlement export: summed per person and year first
        for i in range(0, len(settled), _FILE_CHUNK):
            take(settled[i:i + _FILE_CHUNK])
    else:
        with iter_referrals(source, filename, today=today, errors=errors, max_errors=_MAX_ERRORS,
                            limits=limits, table=table) as stream:
            while True:
                chunk = list(itertools.islice(stream, _FILE_CHUNK))
                if not chunk:
                    break
                take(chunk)
                if progress is not None:
                    progress(stream)
    if errors or (roster_rows is not None and roster_rows.problems):
        checked.chunks.clear()
        if roster_rows is not None:
            roster_rows.others, roster_rows.refused = errors, True
        raise ValidationFailed(sorted(errors + (roster_rows.problems if roster_rows is not None else []),
                                      key=lambda e: (e.row or 0, e.field)))
    if checked.rows == 0:
        raise ValidationFailed.one("file", "文件没有数据行")
    return checked


def store_file(
    session: Session,
    checked: CheckedFile,
    *,
    vault: Vault,
    principal: Principal,
    role: str,
    clock: Clock,
) -> ImportResult:
    """Write a checked file's referrals in the caller's write transaction: all of them, or (ValidationFailed)
    none. What needs the database (the contracts, people registered in another county) is checked again here.

    回避: the rows naming a person of a household the importer is tied to (`recusal.guard.recused_people`) are left
    out and put on record (`refusals.left_out`, step `referral_import`), the rest imported; the answer counts them
    (`left_out`). The same file imported again by someone else brings in those rows only, under the same import
    (`_earlier`)."""
    if checked.repeated is not None:
        return checked.repeated
    now, today = clock.now(), clock.today()
    county_code, channel, sha = checked.county_code, checked.channel, checked.sha256
    _check_target(channel, county_code, principal)
    earlier = _earlier(session, county_code, channel, sha, lock=True)  # also the same file, imported meanwhile
    if earlier is None:
        import_id = new_id("imp")
        try:
            with session.begin_nested():
                session.add(ReferralImport(id=import_id, county_code=county_code, channel=channel, file_sha256=sha,
                                           filename=checked.filename[:255], rows=0, new_cases=0, merged=0,
                                           imported_by=principal.id, imported_at=now))
        except IntegrityError:  # a colleague's import of the same file committed meanwhile (PostgreSQL): continue it
            earlier = _earlier(session, county_code, channel, sha, lock=True)
            if earlier is None:
                raise
    if isinstance(earlier, ImportResult):
        return earlier
    if earlier is not None:
        import_id = earlier.import_id
    pending = earlier.rows if earlier is not None else None
    contracts = _county_contracts(session, county_code)
    recused = recusal.recused_people(session, principal, county_code, clock)
    errors: list[FieldError] = []
    rows = new_cases = merged = 0
    left: dict[int, str | None] = {}
    known = _Known()
    sightings: list[conflicts.Sighting] = []
    hashes: set[str] = set()
    cases_digest = hashlib.sha256()
    with _bulk_settings(session):
        for chunk in checked.row_chunks():
            if pending is not None:
                chunk = [r for r in chunk if r.row in pending]
            rows += len(chunk)
            if recused:
                chunk = _leave_out(vault, chunk, recused, known, left)
            if not chunk:
                continue
            bound = _bind_contracts(contracts, county_code, channel, chunk, today,
                                    errors if len(errors) < _MAX_ERRORS else [])
            if not errors:
                n, m, touched, refused = _merge(session, vault, county_code, channel, chunk,
                                                bound,  # type: ignore[arg-type]
                                                import_id=import_id, actor=principal.id, now=now, today=today,
                                                known=known, sightings=sightings, reference=f"{channel}:{sha}")
                errors.extend(refused)
                new_cases, merged = new_cases + n, merged + m
                cases_digest.update("".join(f"{r.row}:{case_id}\n" for r, case_id in zip(chunk, touched)).encode())
                hashes.update(c.content_hash for c in {id(c): c for c in bound}.values() if c is not None)
    if errors:
        raise conflicts.refuse(ValidationFailed(sorted(errors, key=lambda e: (e.row or 0, e.field))), sightings,
                               vault=vault, principal=principal, role=role, clock=clock)
    if rows == 0:
        raise ValidationFailed.one("file", "文件没有数据行")
    record = session.get(ReferralImport, import_id)
    assert record is not None
    if earlier is None:
        record.rows = rows
    record.new_cases, record.merged = record.new_cases + new_cases, record.merged + merged
    refusals.left_out(session, principal, {}, "referral_import", rows=left, import_id=import_id,
                      county_code=county_code, clock=clock)
    payload: dict[str, Any] = {"county_code": county_code, "channel": channel, "file_sha256": sha, "rows": rows,
                               "new_cases": new_cases, "merged": merged,
                               "row_cases_sha256": cases_digest.hexdigest()}
    if earlier is not None:
        payload["continues"] = True  # the rows an earlier import of the file left out
    if left:
        payload["left_out_rows"] = sorted(left)  # what `_earlier` reads: the rows still to import
    audit.append(session, actor=principal.id, role=role, action=IMPORT_ACTION, subject=import_id,
                 contract_hash=next(iter(hashes)) if len(hashes) == 1 else None, payload=payload, clock=clock)
    return ImportResult(import_id, new_cases + merged, new_cases, merged, left_out=len(left),
                        continues=earlier is not None)


def _leave_out(vault: Vault, rows: list[ReferralRow], recused: dict[str, str | None], known: _Known,
               left: dict[int, str | None]) -> list[ReferralRow]:
    """The rows the importer may import; the others (the person named is one of `recused`) go to `left`, row →
    household. The blind indexes are computed once per person (`known`, which `_merge` then reads)."""
    blind_of = known.blind_of
    kept: list[ReferralRow] = []
    for r in rows:
        # a left-out row is known by its number alone (`left_out_rows`): a row without one would be lost for good
        assert r.row is not None, "a file's rows are numbered by its parser"
        b = blind_of.get(r.id_number)
        if b is None:
            b = blind_of[r.id_number] = vault.blind_index(r.id_number, "id_number")
        if b in recused:
            left[r.row] = recused[b]
        else:
            kept.append(r)
    return kept


def import_file(
    session: Session,
    *,
    vault: Vault,
    source: BinaryIO,
    filename: str,
    channel: str,
    county_code: str,
    principal: Principal,
    role: str,
    clock: Clock,
    limits: ImportLimits | None = None,
    progress: Callable[[ReferralStream], None] | None = None,
) -> ImportResult:
    """Check and store a referral file in ONE transaction, the caller's (scripts and tests that already hold one).

    A server or the command line uses `import_referral_file`, which reads the file before the write transaction
    starts (on SQLite a write transaction holds the database's only write lock for as long as it runs).
    """
    checked = check_file(session, source=source, filename=filename, channel=channel, county_code=county_code,
                         principal=principal, clock=clock, limits=limits or ImportLimits(), progress=progress,
                         vault=vault)
    return store_file(session, checked, vault=vault, principal=principal, role=role, clock=clock)


def import_referral_file(
    db: Database,
    *,
    vault: Vault,
    source: BinaryIO,
    filename: str,
    channel: str,
    county_code: str,
    principal: Principal,
    role: str,
    clock: Clock,
    limits: ImportLimits,
    progress: Callable[[ReferralStream], None] | None = None,
    write: Callable[[Callable[[Session], ImportResult]], Any] | None = None,
    lookups: Limit | None = None,
) -> Any:
    """Import a referral file, all or nothing: read and check all of it first (in a read transaction, which takes
    no lock), then write it in a write transaction of its own. `write` runs the writing step (default: in
    `db.begin()`; a route passes its idempotent runner) and its answer is returned.

    `lookups` (the routes': `accounts.probes.Limit`): a refused file's rows whose group the county's roster gave
    and decided their answer are answered while the importer's allowance lasts, distinct numbers in the window
    (`roster_probes.FILE_ALLOWANCE`, counted), past it each named 需核对 without the answer (`roster_probes.answer`),
    the file's other errors in full, the refusal on record; nothing else is written. A file taken in is written,
    under its import, and counts nothing."""
    roster_rows = roster_probes.RosterRows()
    try:
        with db.read() as session:
            checked = check_file(session, source=source, filename=filename, channel=channel, county_code=county_code,
                                 principal=principal, clock=clock, limits=limits, progress=progress, vault=vault,
                                 roster_rows=None if lookups is None else roster_rows)
    except ValidationFailed as exc:
        if lookups is None or not roster_rows.refused or not roster_rows.rows:
            raise
        with db.begin() as session:
            errors = roster_probes.answer(session, roster_rows, principal=principal, role=role,
                                          county_code=county_code, channel=channel, now=clock.now(), limit=lookups,
                                          clock=clock)
        raise ValidationFailed(errors[:_MAX_ERRORS]) from exc

    def run(session: Session) -> ImportResult:
        return store_file(session, checked, vault=vault, principal=principal, role=role, clock=clock)

    if write is not None:
        return write(run)
    with db.begin() as session:
        return run(session)


def _refuse_relative(session: Session, vault: Vault, principal: Principal, county_code: str, id_number: str,
                     clock: Clock) -> None:
    """回避: 422 (nothing written, the refusal on record) when the clerk entering the application is the applicant, a
    declared relative of the applicant, or of a member of the applicant's household in the county (found by the ID
    number, as `_merge` finds it; a member moved out of it lately counts, `recusal.guard`). Whoever enters it chooses
    its cause and amount."""
    if principal.has_ties is False:
        return
    applicant = vault.blind_index(id_number, "id_number")
    households = list(session.scalars(select(Member.household_id).join(Household, Household.id == Member.household_id)
                                      .where(Member.id_number_bidx == applicant, Household.county_code == county_code)))
    recusal.refuse_principal(session, principal, households, step="application", field="id_number",
                             extra_indexes=[applicant], county_code=county_code, clock=clock)


def enter_application(
    session: Session,
    *,
    vault: Vault,
    payload: dict[str, Any],
    principal: Principal,
    clock: Clock,
    lookups: Limit | None = None,
) -> ImportResult:
    """A household's own application entered by a clerk. `lookups` (the routes': `accounts.probes.Limit`):
    the comparisons of its group with the county's roster are counted for the clerk (`roster_probes`)."""
    now, today = clock.now(), clock.today()
    county_code = str(payload.get("county_code") or "")
    _check_target("application", county_code, principal)
    fields = {k: v for k, v in payload.items() if k != "county_code"}
    county_contracts = _county_contracts(session, county_code)
    row = parse_application(fields, today=today, table=vocabulary(county_contracts, today))
    errors: list[FieldError] = []
    contracts = _bind_contracts(county_contracts, county_code, "application", [row], today, errors)
    _check_places(places.place_list(session, county_code), [row], errors)
    wrong, probes = compared_with_roster(session, vault, county_code, row.id_number, row.household_group,
                                         principal=principal, clock=clock, lookups=lookups)
    if wrong is not None:
        errors.append(wrong)
    try:
        result = _enter_checked(session, vault, county_code, row, contracts, errors, principal=principal,
                                clock=clock)
    except BaseException as exc:  # the roster was read: counted though refused
        if lookups is not None:
            roster_probes.ALLOWANCE.keep(exc, probes, now, lookups)
        raise
    return result


def compared_with_roster(session: Session, vault: Vault, county_code: str, id_number: str, group: str | None, *,
                         principal: Principal, clock: Clock,
                         lookups: Limit | None) -> tuple[FieldError | None, list[dict[str, Any]]]:
    """`roster_group_problem` for an application naming `group` (None: nothing compared), counted for the clerk
    first when the county's roster is in force and `lookups` is given: (the problem, the rows counted, for
    `roster_probes.ALLOWANCE.keep` should the write be refused). 429 past the allowance, before the roster is read."""
    if group is None:
        return None, []
    probes: list[dict[str, Any]] = []
    if lookups is not None and roster_service.current_import(session, county_code) is not None:
        # the same number compared again in the window (a refused form sent again) costs nothing
        probes = roster_probes.ALLOWANCE.count(session, principal.id, [vault.blind_index(id_number, "id_number")],
                                               clock.now(), lookups)
    return roster_group_problem(session, vault, county_code, id_number, group), probes


def _enter_checked(session: Session, vault: Vault, county_code: str, row: ReferralRow,
                   contracts: list[Contract | None], errors: list[FieldError], *, principal: Principal,
                   clock: Clock) -> ImportResult:
    """The rest of `enter_application`, its form checked (`errors`: what it found)."""
    now, today = clock.now(), clock.today()
    if errors:
        raise ValidationFailed([FieldError(e.field, e.message) for e in errors])
    _refuse_relative(session, vault, principal, county_code, row.id_number, clock)
    sightings: list[conflicts.Sighting] = []
    new_cases, merged, touched, refused = _merge(session, vault, county_code, "application", [row],
                                                 contracts,  # type: ignore[arg-type]
                                                 import_id=None, actor=principal.id, now=now, today=today,
                                                 sightings=sightings)
    if refused:
        raise conflicts.refuse(ValidationFailed([FieldError(e.field, e.message) for e in refused]), sightings,
                               vault=vault, principal=principal, role="town_clerk", clock=clock)
    audit.append(session, actor=principal.id, role="town_clerk", action="referrals.application", subject=touched[0],
                 contract_hash=contracts[0].content_hash if contracts[0] else None,
                 payload={"county_code": county_code, "cause": row.cause, "amount": format_yuan(row.amount),
                          "merged": bool(merged)},
                 clock=clock)
    return ImportResult(touched[0], 1, new_cases, merged, tuple(touched))
