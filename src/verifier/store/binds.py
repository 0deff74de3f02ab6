"""A prepared statement's parameter processors (store/reader.py, store/writer.py): SQLAlchemy's own, but for SQLite's
dates and moments, whose text is made without SQLAlchemy's `%` format of a dict.

SQLAlchemy's SQLite `DATE` and `DATETIME` write their text with a `%` format of a dict of the value's fields (a dict
built and a format parsed for every value; a check binds seven). The same text is made here: a date's by
`date.isoformat` (`YYYY-MM-DD`, the year zero-padded to four digits as `%04d` does), a moment's from its fields with
the two-digit ones looked up (`YYYY-MM-DD HH:MM:SS.ffffff`, the microseconds always written, the zone not, as
SQLAlchemy's format; `datetime.isoformat` with a `timespec` parses its arguments and costs more than the format).
`UtcDateTime` (store/base.py) moves the moment to UTC first, and refuses a moment without a zone as before. Anything
else (a subclass, a date given for a moment, a storage format of its own) goes SQLAlchemy's way; None is None.
`tests/store/test_binds.py` compares both for any value.
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


_TWO = [f"{i:02d}" for i in range(100)]


def _text(v: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS.ffffff` of the moment's fields (its zone not written), as SQLAlchemy's format."""
    two, year = _TWO, v.year
    return (f"{year if year >= 1000 else f'{year:04d}'}-{two[v.month]}-{two[v.day]} "
            f"{two[v.hour]}:{two[v.minute]}:{two[v.second]}.{v.microsecond:06d}")


def _moment(slow: Processor) -> Processor:
    def process(value: Any) -> Any:
        if type(value) is datetime:
            return _text(value)
        return None if value is None else slow(value)

    return process


def _utc_moment(slow: Processor) -> Processor:
    utc = timezone.utc

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is not None:
            return _text(value.astimezone(utc))
        return None if value is None else slow(value)  # (a moment without a zone: refused there)

    return process


def _day(slow: Processor) -> Processor:
    def process(value: Any) -> Any:
        if type(value) is date:
            return value.isoformat()
        return None if value is None else slow(value)

    return process
