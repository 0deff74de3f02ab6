"""Which county an audit entry concerns, so that readers limited to counties see only their own entries.

The county is stored beside the entry (`audit_entry.county_code`), outside the hashed bytes: it decides who may
read an entry, never what the entry says, and verification does not look at it.

An appender may name it (`append(..., county_code=...)`, None for an entry that concerns no county). Otherwise
it is derived, so that every call site is covered without naming it:

1. from the subject, when it is the id of a row (`new_id`'s form, `<prefix>_<26 hex digits>`) of a table with
   a `county_code` column, or of a table whose row refers to such a row (a foreign key, or a `case_id`,
   `household_id`, `batch_id`, `notice_id` or `round_id` column): a case, a household, an import, a notice and
   its items and objections, a payment batch, a sampling round, a check, a visit, and tables added later alike;
2. else from the payload's `county_code`, or the county of the payload's `case_id`.

What cannot be derived concerns no county: only readers without a county limit see it. A new kind of entry
thus fails closed (hidden from county users) rather than open.

The tables are read from the declared models (`Base.metadata`) that the database holds (a log kept on its own,
as in the benchmarks, looks nowhere). Which table holds a prefix's ids is learned on first sight and kept: a table
with a county is asked first, and an id of a table without one (an account's `usr_…`, named by every entry about
accounts) is looked up in that table alone, not in each of the forty tables with a county.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy import Column, Engine, Select, Table, bindparam, inspect, select
from sqlalchemy.orm import Session

from ..store.base import Base

_ID = re.compile(r"^([a-z][a-z_]*)_[0-9a-f]{26}$")
_COUNTY = re.compile(r"^\d{6}$")
# Columns that name a row of another table by convention, for tables that declare no foreign key.
_CONVENTIONAL = {"case_id": "relief_case", "household_id": "household", "batch_id": "payment_batch",
                 "notice_id": "notice", "round_id": "sampling_round"}
_DEPTH = 3

_table_of_prefix: dict[str, str] = {}
_table_without_county: dict[str, str] = {}  # prefix -> the table without a county that held an id of it
_lock = threading.Lock()


class _Lookups(NamedTuple):
    declared: int  # how many tables were declared when these were built (models are only ever added)
    county: dict[str, Select[Any]]  # table name -> SELECT of the county of the row with id :subject
    holds: dict[str, Select[Any]]  # every other table with an `id` key -> SELECT of that row's id, when it has it


# Per engine: its lookups; and the lookups built, by the tables declared and the tables present (engines on databases
# alike, as a process's many short-lived engines are, share them).
_by_engine: weakref.WeakKeyDictionary[Engine, _Lookups] = weakref.WeakKeyDictionary()
_by_tables: dict[tuple[int, frozenset[str]], _Lookups] = {}


def _county_path(table: Table, tables: Mapping[str, Table], depth: int) -> list[tuple[Column[Any], Table]] | None:
    """The joins from `table` to a table with a `county_code` column: (referring column, referred table) pairs."""
    if "county_code" in table.c:
        return []
    if depth == 0:
        return None
    targets: list[tuple[Column[Any], Table]] = []
    for column in table.c:
        for fk in column.foreign_keys:
            if fk.column.table.name in tables and len(fk.column.table.primary_key.columns) == 1:
                targets.append((column, fk.column.table))
        name = _CONVENTIONAL.get(column.name)
        if name in tables and not column.foreign_keys:
            targets.append((column, tables[name]))
    for column, target in targets:
        rest = _county_path(target, tables, depth - 1)
        if rest is not None:
            return [(column, target), *rest]
    return None


def _lookups(session: Session) -> _Lookups:
    """A lookup for every table of the database whose rows have an `id` (rebuilt when models were added)."""
    bind = session.get_bind()  # an engine, or the connection a held write session is bound to (store.db)
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _lock:
        built = _by_engine.get(engine)
    if built is not None and built.declared == len(Base.metadata.tables):
        return built
    tables = dict(Base.metadata.tables)
    present = frozenset(inspect(session.connection()).get_table_names())
    with _lock:
        built = _by_tables.get((len(tables), present))
    if built is None:
        built = _build(tables, present)
    with _lock:
        _by_tables[(len(tables), present)] = _by_engine[engine] = built
    return built


def _build(tables: Mapping[str, Table], present: frozenset[str]) -> _Lookups:
    lookups: dict[str, Select[Any]] = {}
    holds: dict[str, Select[Any]] = {}
    for name, table in tables.items():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or pk[0].name != "id" or not hasattr(pk[0].type, "length") or name not in present:
            continue
        path = _county_path(table, tables, _DEPTH)
        if path is None or any(t.name not in present for _, t in path):
            holds[name] = select(pk[0]).where(pk[0] == bindparam("subject"))
            continue
        current, joined = table, table
        for column, target in path:
            target_pk = next(iter(target.primary_key.columns))
            joined = joined.join(target, column == target_pk)
            current = target
        lookups[name] = select(current.c.county_code).select_from(joined).where(pk[0] == bindparam("subject"))
    return _Lookups(len(tables), lookups, holds)


def _of_id(session: Session, subject: str) -> str | None:
    match = _ID.match(subject)
    if match is None:
        return None
    built = _lookups(session)
    lookups = built.county
    if not lookups:
        return None
    if session.new:  # rows added but not yet written must be found too
        session.flush()
    prefix = match.group(1)
    connection = session.connection()
    elsewhere = _table_without_county.get(prefix)
    if elsewhere in built.holds and connection.execute(built.holds[elsewhere], {"subject": subject}).first():
        return None  # a row of a table without a county (asked once, not each table with one)
    known = _table_of_prefix.get(prefix)
    order = ([known] if known in lookups else []) + [name for name in lookups if name != known]
    for name in order:
        row = connection.execute(lookups[name], {"subject": subject}).first()
        if row is not None:
            _table_of_prefix[prefix] = name
            county = row[0]
            return county if isinstance(county, str) and _COUNTY.match(county) else None
    if elsewhere is None:  # learn which table without a county holds this prefix's ids, for the next time
        for name, holds in built.holds.items():
            if connection.execute(holds, {"subject": subject}).first() is not None:
                _table_without_county[prefix] = name
                break
    return None


def as_county(code: str | None) -> str | None:
    """The county an entry about a row of county `code` concerns (None unless it is a county's code): what
    `county_of` derives for a subject whose row names this county."""
    return code if isinstance(code, str) and _COUNTY.match(code) else None


def county_of(session: Session, subject: str, payload: Mapping[str, Any]) -> str | None:
    """The county an entry about `subject` with `payload` concerns, or None when it concerns no county."""
    county = _of_id(session, subject)
    if county is not None:
        return county
    named = payload.get("county_code")
    if isinstance(named, str) and _COUNTY.match(named):
        return named
    case_id = payload.get("case_id")
    if isinstance(case_id, str) and case_id != subject:
        return _of_id(session, case_id)
    return None
