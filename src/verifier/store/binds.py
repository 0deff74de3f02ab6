"""A prepared statement's parameter processors (store/reader.py, store/writer.py): SQLAlchemy's own, but for SQLite's
dates and moments, whose text is made by `datetime.isoformat` instead.

SQLAlchemy's SQLite `DATE` and `DATETIME` write their text with a `%` format of a dict of the value's fields (a dict
built and a format parsed for every value; a check binds nine dates and moments). `isoformat` writes the same text:
`YYYY-MM-DD` for a date, and for a moment `YYYY-MM-DD HH:MM:SS.ffffff` with the microseconds always written (the
`timespec`), the year zero-padded to four digits as `%04d` does (years 1 to 9999). A moment's zone is not written by
SQLAlchemy's format, so it is dropped first. `UtcDateTime` (store/base.py) moves the moment to UTC before, with the
same refusal of a moment without a zone. Anything else (a subclass, a date given for a moment, a storage format of
its own, None is answered directly) goes SQLAlchemy's way. `tests/store/test_binds.py` compares both for any value.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.dialects.sqlite import DATE, DATETIME
from sqlalchemy.dialects.sqlite.pysqlite import _SQLite_pysqliteDate, _SQLite_pysqliteTimeStamp

from .base import UtcDateTime

Processor = Callable[[Any], Any]


def bind_processor(type_: Any, dialect: Dialect) -> Processor | None:
    """`type_`'s bind processor on `dialect`, as SQLAlchemy makes it (`TypeEngine.bind_processor` of the dialect's
    implementation), SQLite's dates and moments faster (see the module)."""
    impl = type_.dialect_impl(dialect)
    slow = impl.bind_processor(dialect)
    if slow is None or dialect.name != "sqlite":
        return slow
    if type(impl) is UtcDateTime and _plain_moment(impl.impl_instance):
        return _utc_moment(slow)
    if _plain_moment(impl):
        return _moment(slow)
    if type(impl) in _DAYS and impl._storage_format == DATE._storage_format:
        return _day(slow)
    return slow


# SQLite's types and pysqlite's (whose bind processors are SQLite's when the driver does not convert dates itself)
_DAYS = (DATE, _SQLite_pysqliteDate)
_MOMENTS = (DATETIME, _SQLite_pysqliteTimeStamp)


def _plain_moment(impl: Any) -> bool:
    return type(impl) in _MOMENTS and impl._storage_format == DATETIME._storage_format


def _moment(slow: Processor) -> Processor:
    def process(value: Any) -> Any:
        if type(value) is datetime:
            return (value if value.tzinfo is None else value.replace(tzinfo=None)).isoformat(" ", "microseconds")
        return None if value is None else slow(value)

    return process


def _utc_moment(slow: Processor) -> Processor:
    utc = timezone.utc

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None:
            return value.astimezone(utc).replace(tzinfo=None).isoformat(" ", "microseconds")
        return None if value is None else slow(value)  # (a moment without a zone: refused there)

    return process


def _day(slow: Processor) -> Processor:
    def process(value: Any) -> Any:
        if type(value) is date:
            return value.isoformat()
        return None if value is None else slow(value)

    return process
