"""A prepared statement's SQLite dates and moments are written as SQLAlchemy writes them (store/binds.py: by
`isoformat` instead of a `%` format of their fields): the same text for any value, the same refusals, and the
check's own statements use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import TIMESTAMP, Date, DateTime
from sqlalchemy.dialects import postgresql, sqlite

from verifier.checks import recording
from verifier.store.base import UtcDateTime
from verifier.store.binds import bind_processor

SQLITE = sqlite.dialect()
zones = st.one_of(st.none(), st.timezones(),
                  st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-23 * 60 - 59, 23 * 60 + 59)),
                  st.just(ZoneInfo("Asia/Shanghai")))


class _Moment(datetime):
    pass


class _Day(date):
    pass


values = st.one_of(st.none(), st.datetimes(timezones=zones), st.dates(), st.datetimes().map(
    lambda d: _Moment(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)),
    st.dates().map(lambda d: _Day(d.year, d.month, d.day)), st.text(max_size=5), st.integers())


def _outcome(process: Any, value: Any) -> tuple[str, Any]:
    try:
        return "text", process(value)
    except Exception as exc:  # noqa: BLE001 — the very refusal is compared
        return type(exc).__name__, str(exc)


def _sqlalchemys(type_: Any) -> Any:
    return type_.dialect_impl(SQLITE).bind_processor(SQLITE)


@given(values)
def test_a_value_is_written_as_sqlalchemy_writes_it(value: Any) -> None:
    for type_ in (UtcDateTime(), DateTime(), DateTime(timezone=True), TIMESTAMP(), Date()):
        ours = bind_processor(type_, SQLITE)
        assert ours is not None
        assert _outcome(ours, value) == _outcome(_sqlalchemys(type_), value), type_


def test_the_edges_of_the_calendar_and_of_the_second() -> None:
    for value in (datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999), datetime(2026, 3, 1, 0, 0, 0, 0),
                  datetime(999, 5, 6, 7, 8, 9, 10, tzinfo=timezone.utc), date(1, 1, 1), date(999, 12, 31),
                  datetime(2026, 1, 1, 7, 59, tzinfo=ZoneInfo("Asia/Shanghai")), datetime(2026, 1, 1, 12, 0)):
        for type_ in (UtcDateTime(), DateTime(), Date()):
            assert _outcome(bind_processor(type_, SQLITE), value) == _outcome(_sqlalchemys(type_), value)
    assert bind_processor(UtcDateTime(), SQLITE)(datetime(2026, 1, 1, 7, 59, 3, tzinfo=ZoneInfo("Asia/Shanghai"))) \
        == "2025-12-31 23:59:03.000000"
    assert bind_processor(Date(), SQLITE)(date(987, 6, 5)) == "0987-06-05"


def test_a_storage_format_of_its_own_and_postgresql_keep_sqlalchemys_processor() -> None:
    own = sqlite.DATETIME(truncate_microseconds=True)
    moment = datetime(2026, 5, 4, 3, 2, 1, 123456)
    assert bind_processor(own, SQLITE)(moment) == "2026-05-04 03:02:01"
    pg = postgresql.psycopg.dialect()
    assert bind_processor(Date(), pg) is Date().dialect_impl(pg).bind_processor(pg)


def test_the_checks_statements_write_their_moments_and_days_this_way() -> None:
    """Not SQLAlchemy's processors (else the property above tests nothing the check uses)."""
    compiled = recording._INSERT_CHECK.compiled(SQLITE)
    for name in ("recorded_at", "visited_on", "due_on"):
        assert compiled.bind[name].__module__ == "verifier.store.binds", name
    moment = datetime(2026, 5, 4, 11, 2, 1, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert compiled.bind["recorded_at"](moment) == "2026-05-04 03:02:01.000005"
    assert compiled.bind["visited_on"](date(2026, 5, 4)) == "2026-05-04"
