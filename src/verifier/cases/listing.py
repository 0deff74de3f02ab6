"""The case list as an office reads it: filters, a search box, sorting by column, the total and numbered pages.

`CaseQuery` is what a page or an API call asks for; `find_cases` answers one page of it, `iter_cases` every
matching case in order (exports). The search text `q` matches

- a case number, whole (`340223-2026-000123`) or by its trailing sequence digits (`123`, `000123`);
- a whole ID number of any member of the household, through the keyed blind index (nothing is decrypted);
- the last four characters of a member's ID number, through a keyed index of the tail (`member.id_tail_bidx`);
- a name: a substring of the household head's or any member's name.

Everything is limited to the caller's counties first: a person of another county is not found, and the answer is
the same as for nobody at all. The list shows no ID number, so a search by ID number unmasks nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections import namedtuple
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Select, String, bindparam, case, false, func, literal_column, or_, select, text, type_coerce
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.sql.elements import False_

from ..accounts.auth import Principal
from ..domain.errors import FieldError, ValidationFailed
from ..domain.lifecycle import STATUS_LABELS_ZH
from ..domain.planning import due_date
from ..store import contracts as contract_store
from ..store.paged import close_cjk_gaps
from ..store.reader import Prepared, Reader, Steps, session_reader
from ..store.tables import Case, ContractRow, Household, Member, ReviewRequest, Visit
from ..store.vault import Vault
from .numbers import tail_index, typed_number

T = TypeVar("T")
PAGE_SIZE = 50
SORTS = ("number", "head", "village", "status", "received", "due")
"""The columns a list sorts by; `-name` sorts that column from the largest down."""
MAX_Q = 50

_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_TAIL = re.compile(r"^\d{3}[\dX]$")


def is_whole_id_number(q: str | None) -> bool:
    """Whether a search text is a whole ID number (as `_search` reads it)."""
    text = unicodedata.normalize("NFKC", q or "").strip().upper().replace(" ", "")
    return bool(_ID_NUMBER.match(text))


@dataclass(frozen=True)
class CaseFilters:
    """What a case list is limited to, the page's (`CaseQuery`) and the API's (`service.CaseFilter`) alike."""

    status: str | None = None
    county_code: str | None = None
    town: str | None = None
    village: str | None = None
    cause: str | None = None
    officer: str | None = None
    within: Any = None  # a SELECT of case ids (reports.figure_cases: the cases behind a monthly report figure)
    # Only the cases whose contract is not in force (pending: 待县审核确认, or refused): they wait for the county.
    contract_waiting: bool = False


@dataclass(frozen=True)
class CaseQuery(CaseFilters):
    q: str | None = None
    sort: str = "number"
    page: int = 1
    page_size: int = PAGE_SIZE

    def checked(self) -> "CaseQuery":
        """The query with its search text folded (full-width digits typed by some input methods), or
        ValidationFailed naming the bad field."""
        problems = []
        if self.sort.removeprefix("-") not in SORTS:
            problems.append(FieldError("sort", f"排序方式不正确（现为 {self.sort}），可选：{'、'.join(SORTS)}，前加 - 为倒序"))
        if self.page < 1:
            problems.append(FieldError("page", f"页码应不小于 1（现为 {self.page}）"))
        q = close_cjk_gaps(unicodedata.normalize("NFKC", self.q or "").strip())
        if len(q) > MAX_Q:
            problems.append(FieldError("q", f"最多 {MAX_Q} 个字符（现为 {len(q)} 个）"))
        if problems:
            raise ValidationFailed(problems)
        return replace(self, q=q or None)


_case_table = Case.__table__


@dataclass(frozen=True)
class CasePage:
    cases: list[Any]  # rows of the case table's columns, `head_name` and `due` (they read like a Case)
    total: int
    page: int
    pages: int
    page_size: int


# Conditions are built once per shape (which filters are given, how many counties, what a search text can be) with
# named parameters, and the values go beside them: so the page's statements can be prepared once (store/reader.py)
# and run without SQLAlchemy building and compiling them on every request. `bound` gives a condition its values for
# the session's statements (the API's list, the ledger).
_FILTERED = ("status", "county_code", "town", "village", "cause")


def _escaped_like(text: str) -> str:
    """`%text%` for LIKE … ESCAPE '/' (what `contains(text, autoescape=True)` matches)."""
    return "%" + text.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _search_values(q: str, vault: Vault) -> dict[str, Any]:
    """What a search text is looked for as (a whole case number, the end of one, an ID number's blind index or its
    tail's, a name), by parameter name."""
    text = q.upper().replace(" ", "")
    found: dict[str, Any] = {}
    whole, suffixes = typed_number(q)
    if whole:
        found["q_number"] = whole
    for suffix in suffixes:
        found["q_suffix"] = "%" + suffix
    if _ID_NUMBER.match(text):
        found["q_id"] = vault.blind_index(text, "id_number")
    if _ID_TAIL.match(text):
        found["q_tail"] = tail_index(vault, text)
    if not any(ch.isdigit() for ch in q):  # names have no digits
        found["q_name"] = _escaped_like(q)
    return found


def _members(column: Any, name: str) -> Any:
    return Case.household_id.in_(select(Member.household_id).where(column == bindparam(name)))


_SEARCHES: dict[str, Any] = {
    "q_number": lambda: Case.number == bindparam("q_number"),
    "q_suffix": lambda: Case.number.like(bindparam("q_suffix")),
    "q_id": lambda: _members(Member.id_number_bidx, "q_id"),
    "q_tail": lambda: _members(Member.id_tail_bidx, "q_tail"),
    "q_name": lambda: or_(Household.head_name.like(bindparam("q_name"), escape="/"),
                          Case.household_id.in_(select(Member.household_id)
                                                .where(Member.name.like(bindparam("q_name"), escape="/")))),
}


def _shape(principal: Principal, f: CaseFilters, q: str | None = None,
           vault: Vault | None = None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The shape of a list's conditions (the key of its statements) and their values. `officer` and `within` are
    not part of it (see `filter_conditions`)."""
    values: dict[str, Any] = {f"county_{i}": c for i, c in enumerate(principal.counties)}
    given = tuple(name for name in _FILTERED if getattr(f, name))
    values.update((f"f_{name}", getattr(f, name)) for name in given)
    searched: tuple[str, ...] | None = None
    if q:
        assert vault is not None
        found = _search_values(q, vault)
        searched = tuple(found)
        values.update(found)
    return (len(principal.counties), given, searched, f.contract_waiting), values


@lru_cache(maxsize=512)
def _where(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """The conditions of a shape, with named parameters (a search's on the case joined with its household)."""
    counties, given, searched, waiting = shape
    found: list[Any] = []
    if counties:
        found.append(Case.county_code.in_([bindparam(f"county_{i}") for i in range(counties)]))
    found.extend(_case_table.c[name] == bindparam(f"f_{name}") for name in given)
    if waiting:  # a handful of contracts: their ids, not a join on every case
        found.append(Case.contract_id.in_(select(ContractRow.id).where(ContractRow.status != contract_store.ACCEPTED)
                                          .scalar_subquery()))
    if searched is not None:
        found.append(or_(*(_SEARCHES[name]() for name in searched)) if searched else false())
    return tuple(found)


def _bound(shape: tuple[Any, ...], values: dict[str, Any]) -> list[Any]:
    # A search read as nothing (a masked ID number, say) is `false()`: a constant, it takes no parameters.
    return [c if isinstance(c, False_) else c.params(values) for c in _where(shape)]


def filter_conditions(session: Session, principal: Principal, f: CaseFilters) -> list[Any]:
    """What a case must meet to be listed: the caller's counties and `f`, the one filter of the case list page and
    of the API's list."""
    found = _bound(*_shape(principal, f))
    found.extend(_extra_conditions(session, f))
    return found


def _extra_conditions(session: Session, f: CaseFilters) -> list[Any]:
    """The conditions of `officer` (the cases whose active visit is theirs) and `within` (a SELECT of case ids)."""
    found: list[Any] = []
    if f.officer:
        visits = select(Visit.case_id, Visit.officer_ids).where(Visit.active.is_(True))
        ids = [cid for cid, officers in session.execute(visits) if f.officer in officers]
        found.append(Case.id.in_(ids))
    if f.within is not None:
        found.append(Case.id.in_(f.within))
    return found


def filter_cases(session: Session, stmt: Select[Any], principal: Principal, f: CaseFilters) -> Select[Any]:
    """`stmt` (a SELECT of cases) limited by `filter_conditions`."""
    return stmt.where(*filter_conditions(session, principal, f))


def _conditions(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> list[Any]:
    """The filter's conditions and the search's (on the case joined with its household when a search is given)."""
    return [*_bound(*_shape(principal, query, query.q, vault)), *_extra_conditions(session, query)]


def search_conditions(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> list[Any]:
    """The case list's filter and search (household head or member's name, case number or its end, ID number or
    its last four) as conditions on the case joined with its household, for another stage's list of cases."""
    return _conditions(session, principal, query.checked(), vault)


def _filtered(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> Select[Any]:
    return (select(Case).join(Household, Household.id == Case.household_id)
            .where(*_conditions(session, principal, query, vault)))


_STATUS_ORDER = case({str(code): i for i, code in enumerate(STATUS_LABELS_ZH)}, value=Case.status,
                     else_=len(STATUS_LABELS_ZH))  # statuses in the order of the flow, not of their codes
_REVIEW_FROM = (select(func.max(ReviewRequest.received_on)).where(ReviewRequest.case_id == Case.id)
                .correlate(Case).scalar_subquery())
"""The day the latest review request of a case came in (a due date counts from it, else from the referral)."""


def _due_expression(days: dict[str, int], sqlite: bool) -> Any:
    """A case's due date as the database can sort by it: the day counted from (the latest review request, or the
    referral), plus its contract's check_within_days (`days`, by contract id)."""
    within = case(days, value=Case.contract_id, else_=0) if days else 0
    start = func.coalesce(_REVIEW_FROM, Case.referred_on)
    if sqlite:
        return func.julianday(start) + within
    return start + within


def _order_keys(sort: str, days: dict[str, int], sqlite: bool) -> list[Any]:
    name = sort.removeprefix("-")
    descending = sort.startswith("-")
    if name == "due":
        keys: list[Any] = [_due_expression(days, sqlite)]
    else:
        keys = {"number": [Case.number], "head": [Household.head_name], "village": [Case.town, Case.village],
                "status": [_STATUS_ORDER],
                "received": [Case.referred_on]}[name]
    keys = [k.desc() if descending else k.asc() for k in keys]
    if name == "number":  # already in the order of their numbers (twice, SQLite sorted what an index has in order)
        return keys
    return [*keys, Case.number.desc() if descending else Case.number.asc()]


def _contract_days(contracts: list[Any]) -> dict[str, int]:
    """check_within_days of every stored contract (a case's contract is one of them), by contract id."""
    return {c.id: c.spec.deadlines.check_within_days for c in contracts}


def _ordered(session: Session, stmt: Select[Any], sort: str) -> Select[Any]:
    days = _contract_days(contract_store.all_contracts(session)) if sort.removeprefix("-") == "due" else {}
    return stmt.order_by(*_order_keys(sort, days, session.get_bind().dialect.name == "sqlite"))


# The page's statements, prepared per shape, sort and columns: the count, and one page of rows (the case's columns a
# caller reads, its head's name and the day its due date counts from).
_PAGE_COLUMNS = ("id", "number", "status", "county_code", "town", "village", "household_group", "cause", "referred_on",
                 "reported_amount", "household_id", "contract_id")
"""What the list page shows of a case (`columns="page"`); the API's list reads every column (`"all"`)."""
_prepared: dict[tuple[Any, ...], tuple[Prepared, type]] = {}


def _statement(key: tuple[Any, ...], build: Any) -> tuple[Prepared, type]:
    """The statement of `key` (built by `build()` the first time) and the type of its rows."""
    found = _prepared.get(key)
    if found is None:
        if len(_prepared) > 2000:  # shapes are few; this only bounds the contracts' part of the due sort's keys
            _prepared.clear()
        statement = build()
        row = namedtuple("Row", [c.key for c in statement.selected_columns])  # type: ignore[misc]
        found = _prepared[key] = (Prepared(statement), row)
    return found


_Statement = tuple[tuple[Prepared, type], dict[str, Any], bool]
"""A statement, its values, and whether it lists cases (`officer` and `within` then limit it too)."""


def _batch(source: Reader | Session, statements: list[_Statement], extra: list[Any]) -> list[list[Any]]:
    """The rows of statements that do not depend on each other: prepared on a reader (on PostgreSQL in one round
    trip); on a session, those that list cases through the session, with the `extra` conditions."""
    if isinstance(source, Reader):
        return source.batch([(prepared, values) for (prepared, _), values, _ in statements])  # rows of the same names
    reader = session_reader(source)
    return [[row(*r) for r in source.execute(prepared.statement.where(*extra), values)] if lists
            else reader.all(prepared, values) for (prepared, row), values, lists in statements]


def _count_statement(shape: tuple[Any, ...]) -> tuple[Prepared, type]:
    def build() -> Select[Any]:
        stmt = select(func.count().label("n")).select_from(Case)
        if shape[2] is not None:  # the household is joined only when the search needs it (every case has one)
            stmt = stmt.join(Household, Household.id == Case.household_id)
        return stmt.where(*_where(shape))
    return _statement(("count", shape), build)


def _iso_day(day: Any, sqlite: bool) -> Any:
    """A day read as its ISO text (YYYY-MM-DD, as `date.isoformat` writes it): SQLite keeps days so; PostgreSQL
    writes it (`to_char`, whatever the server's DateStyle), so that the page's rows need no date made and printed
    again for each row (`_with_due_text`)."""
    if sqlite:
        return type_coerce(day, String)
    return type_coerce(func.to_char(day, literal_column("'YYYY-MM-DD'")), String)


def _rows_statement(shape: tuple[Any, ...], sort: str, days: dict[str, int], sqlite: bool,
                    columns: str, first: int | None = None) -> tuple[Prepared, type]:
    """The page's rows: any page (its offset and limit as parameters), or with `first` the first page of that many
    rows, its limit written in the statement and no offset. PostgreSQL plans a prepared statement once for every
    value (a generic plan) only when that plan costs no more than those it makes for each execution's values, and with
    a LIMIT and OFFSET as parameters it guesses a tenth of the rows for each: the generic plan then looks dearer than
    it is, and the statement is planned again at every execution (about 0.2 ms of the server's CPU for a list page of
    fifty rows). With the first page's limit in its text the generic plan is the plan made for the values, and it is
    kept."""
    def build() -> Select[Any]:
        if columns == "all":
            chosen, review = list(_case_table.c), _REVIEW_FROM
        else:  # days as ISO text (SQLite's own; PostgreSQL's written so): not made dates to be printed again
            chosen = [_iso_day(_case_table.c[n], sqlite).label(n) if n == "referred_on" else _case_table.c[n]
                      for n in _PAGE_COLUMNS]
            review = _iso_day(_REVIEW_FROM, sqlite)
        return (select(*chosen, Household.head_name, review.label("due"))
                .join(Household, Household.id == Case.household_id).where(*_where(shape))
                .order_by(*_order_keys(sort, days, sqlite))
                .offset(None if first is not None else bindparam("offset"))
                .limit(literal_column(str(int(first))) if first is not None else bindparam("limit")))
    return _statement(("rows", shape, sort, tuple(sorted(days.items())), sqlite, columns, first), build)


@dataclass(frozen=True)
class ListRead:
    """What the case list page reads: a page of cases, the villages for its filter, and every contract (for the
    names of the causes)."""

    found: CasePage
    villages: list[tuple[str, str]]
    contracts: list[Any]
    # The contracts not in force (pending: 待县审核确认, or refused) by id, as read with the page: their cases are
    # marked on the list (they cannot be determined or priced until the county accepts a contract for them).
    unaccepted: dict[str, str] = field(default_factory=dict)


def read_page(source: Reader | Session, principal: Principal, query: CaseQuery, vault: Vault, *, sqlite: bool,
              columns: str = "page", villages: bool = True) -> ListRead:
    """One page of the cases matching `query` in the caller's counties, with the total and the number of pages (a
    page past the last shows the last); the (town, village) pairs of the caller's cases (unless `villages` is
    false), and every contract.
    Each row has the case's columns (`columns`: "all", or "page": what the page shows, its days as ISO text),
    `head_name`, and `due` (the day its check is due).

    On a reader (store/reader.py) its statements are prepared, built once per shape, and read together (on
    PostgreSQL in one round trip: the page asked for is read with the total, and read again only when it is past
    the last). `officer` and `within` (their conditions are lists or SELECTs of their own) are read through a
    session, with the same statements."""
    query = query.checked()
    if isinstance(source, Reader):
        if query.officer or query.within is not None:
            raise ValueError("officer and within are read through a session")
        return source.run(read_page_steps(principal, query, vault, sqlite=sqlite, columns=columns,
                                          villages=villages))
    extra = _extra_conditions(source, query)
    steps = _page_steps(principal, query, vault, sqlite=sqlite, columns=columns, villages=villages)
    try:
        statements = next(steps)
        while True:
            statements = steps.send(_batch(source, statements, extra))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def read_page_steps(principal: Principal, query: CaseQuery, vault: Vault, *, sqlite: bool, columns: str = "page",
                    villages: bool = True) -> Steps[ListRead]:
    """`read_page` on a reader as a read in steps (store/reader.py), so that it may be run on the event loop on
    both databases (`db.ask`). Not for `officer` or `within` (they are read through a session)."""
    query = query.checked()
    if query.officer or query.within is not None:
        raise ValueError("officer and within are read through a session")
    steps = _page_steps(principal, query, vault, sqlite=sqlite, columns=columns, villages=villages)
    try:
        statements = next(steps)
        while True:
            statements = steps.send((yield [(prepared, values) for (prepared, _), values, _ in statements]))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _plain_steps(steps: Steps[T]) -> Generator[list[_Statement], list[list[Any]], T]:
    """Steps of statements that list no cases, as `_page_steps`' steps."""
    try:
        statements = next(steps)
        while True:
            statements = steps.send((yield [((prepared, tuple), values, False) for prepared, values in statements]))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


def _page_steps(principal: Principal, query: CaseQuery, vault: Vault, *, sqlite: bool, columns: str,
                villages: bool) -> Generator[list[_Statement], list[list[Any]], ListRead]:
    """`read_page`'s read: batches of statements (`_batch` runs one) and what they read made the page."""
    shape, values = _shape(principal, query, query.q, vault)
    by_due = query.sort.removeprefix("-") == "due"
    contracts = None
    hashes: list[Any] = []
    if by_due:  # the due dates' order needs the contracts' days first
        hashes, = yield [((contract_store.CONTRACT_HASHES, tuple), {}, False)]
        contracts = yield from _plain_steps(contract_store.contracts_steps(hashes))
    days = _contract_days(contracts) if contracts is not None else {}
    rows_statement = _rows_statement(shape, query.sort, days, sqlite, columns)

    def rows_of(page: int) -> _Statement:
        if page == 1 and not sqlite:  # its limit in the text: planned once on PostgreSQL (`_rows_statement`)
            return _rows_statement(shape, query.sort, days, sqlite, columns, first=query.page_size), values, True
        return rows_statement, {**values, "offset": (page - 1) * query.page_size, "limit": query.page_size}, True

    counted, rows, *more = yield [
        (_count_statement(shape), values, True), rows_of(query.page),
        *([] if by_due else [((contract_store.CONTRACT_HASHES, tuple), {}, False)]),
        *([(*_villages_statement(principal), False)] if villages else [])]
    total = int(counted[0].n)
    pages = max(1, -(-total // query.page_size))
    page = min(query.page, pages)
    if page != query.page:
        rows, = yield [rows_of(page)]
    if contracts is None:
        hashes = more.pop(0)
        contracts = yield from _plain_steps(contract_store.contracts_steps(hashes))
    days = _contract_days(contracts)
    found = _with_due(rows, days) if columns == "all" else _with_due_text(rows, days)
    return ListRead(CasePage(cases=found, total=total, page=page, pages=pages, page_size=query.page_size),
                    villages=[(r.town, r.village) for r in more[0]] if villages else [], contracts=contracts,
                    unaccepted=unaccepted_of(hashes))


def unaccepted_of(hashes: list[Any]) -> dict[str, str]:
    """The contracts not in force of `CONTRACT_HASHES`' rows: id -> status (pending or refused)."""
    return {r.id: r.status for r in hashes if r.status != contract_store.ACCEPTED}


def _with_due(rows: list[Any], days: dict[str, int]) -> list[Any]:
    """The rows with `due` (read as the day of the latest review request, if any) made the day the check is due."""
    return [r._replace(due=due_date(r.due or r.referred_on, days[r.contract_id])) for r in rows]


def _with_due_text(rows: list[Any], days: dict[str, int]) -> list[Any]:
    """`_with_due` for the page's rows, whose days are read as ISO text (`_iso_day`; dates, from an older
    statement, are written so): `due` becomes ISO text (each due date reckoned once per page)."""
    if not rows:
        return rows
    reckoned: dict[tuple[Any, str], str] = {}
    kind = type(rows[0])
    fields = kind._fields
    due_at, referred_at, contract_at = fields.index("due"), fields.index("referred_on"), fields.index("contract_id")
    last = due_at == len(fields) - 1  # as the page's statement reads them: the row is the same up to its due date
    new = tuple.__new__
    found = []
    for r in rows:
        referred = r[referred_at]
        start = r[due_at] or referred
        due = reckoned.get((start, r[contract_at]))
        if due is None:
            day = start if isinstance(start, date) else date.fromisoformat(start)
            due = reckoned[(start, r[contract_at])] = due_date(day, days[r[contract_at]]).isoformat()
        if last and type(referred) is str:
            found.append(new(kind, (*r[:due_at], due)))
            continue
        values = list(r)
        values[due_at] = due
        if isinstance(referred, date):
            values[referred_at] = referred.isoformat()
        found.append(new(kind, values))
    return found


def find_cases(session: Session, principal: Principal, query: CaseQuery, vault: Vault) -> CasePage:
    """`read_page`'s page through a session, every column of the cases (the API's list)."""
    return read_page(session, principal, query, vault, sqlite=session.get_bind().dialect.name == "sqlite",
                     columns="all", villages=False).found


def iter_cases(session: Session, principal: Principal, query: CaseQuery, vault: Vault,
               chunk: int = 500) -> Iterator[list[Case]]:
    """Every case matching `query` (all pages), in its order, `chunk` at a time: the rows are streamed from the
    database (a server-side cursor on PostgreSQL), so memory stays bounded however long the list."""
    query = query.checked()
    stmt = _ordered(session, _filtered(session, principal, query, vault), query.sort)
    result = session.scalars(stmt.options(contains_eager(Case.household)).execution_options(yield_per=chunk))
    for part in result.partitions(chunk):
        rows = list(part)
        yield rows
        for c in rows:  # what was yielded is not kept by the session (two cases may share a household)
            for obj in (c, c.household):
                if obj in session:
                    session.expunge(obj)


def empty_read(reader: Reader, principal: Principal, empty: CasePage) -> ListRead:
    """The page's read when its list is not shown (an empty page): the villages and contracts of its filters."""
    return ListRead(empty, read_villages(reader, principal), contract_store.read_contracts(reader))


def read_villages(reader: Reader, principal: Principal) -> list[tuple[str, str]]:
    """The (town, village) pairs of the caller's cases, for the list's filter."""
    (prepared, _), values = _villages_statement(principal)
    return [(r.town, r.village) for r in reader.all(prepared, values)]


def _villages_statement(principal: Principal) -> tuple[tuple[Prepared, type], dict[str, Any]]:
    shape, values = _shape(principal, CaseFilters())

    def build() -> Any:
        if shape[0]:
            return _villages_skipping(shape[0])
        return select(Case.town, Case.village).distinct().where(*_where(shape)).order_by(Case.town, Case.village)
    return _statement(("villages", shape), build), values


def _villages_skipping(counties: int) -> Any:
    """The (town, village) pairs of the cases of `counties` counties (`:county_0` …), in order: each county's
    pairs found one after another in the index of (county, town, village), a seek per pair (the next village of
    the town, else the first of the next town) instead of reading every case's entry as SELECT DISTINCT does.
    Plain SQL that SQLite and PostgreSQL both run alike; the same pairs as `SELECT DISTINCT town, village … ORDER
    BY town, village` (tests/cases/test_case_list_read.py)."""
    same = ("(SELECT min(r.village) FROM relief_case r WHERE r.county_code = v.county_code AND r.town = v.town"
            " AND r.village > v.village)")
    next_town = "(SELECT min(r.town) FROM relief_case r WHERE r.county_code = v.county_code AND r.town > v.town)"
    # the recursive step's columns of the columns' own type (PostgreSQL wants the anchor's)
    town_type, village_type = (f"VARCHAR({_case_table.c[n].type.length})" for n in ("town", "village"))
    first = " UNION ALL ".join(
        f"SELECT * FROM (SELECT county_code, town, village FROM relief_case WHERE county_code = :county_{i}"
        f" ORDER BY town, village LIMIT 1) AS first_{i}" for i in range(counties))
    sql = (f"WITH RECURSIVE v(county_code, town, village) AS ({first} UNION ALL "
           f"SELECT v.county_code, CAST(CASE WHEN {same} IS NULL THEN {next_town} ELSE v.town END AS {town_type}), "
           f"CAST(coalesce({same}, (SELECT min(r.village) FROM relief_case r WHERE r.county_code = v.county_code"
           f" AND r.town = {next_town})) AS {village_type}) FROM v WHERE v.town IS NOT NULL) "
           "SELECT DISTINCT town, village FROM v WHERE town IS NOT NULL ORDER BY town, village")
    return text(sql).bindparams(*(bindparam(f"county_{i}", type_=String) for i in range(counties))).columns(
        town=String, village=String)
