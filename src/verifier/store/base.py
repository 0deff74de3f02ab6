"""The declarative base every table shares, with constraint names Alembic can rely on."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

from sqlalchemy import BigInteger, DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Money columns hold integer fen.
FenColumn = BigInteger

def new_id(prefix: str) -> str:
    """An opaque, time-ordered id such as `case_0174c5e3a1b2f09d8c7e6a5b4c`: 48 bits of milliseconds, then
    56 random bits, in hex (sorts by creation time to the millisecond)."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(7)}"


def new_ids(prefix: str, n: int) -> list[str]:
    """`n` ids as `new_id` makes them, with the randomness for all drawn in one call (bulk imports)."""
    stamp = f"{prefix}_{int(time.time() * 1000):012x}"
    pool = secrets.token_hex(7 * n)
    return [stamp + pool[i:i + 14] for i in range(0, 14 * n, 14)]


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, stored in UTC and always read back with its time zone.

    SQLite keeps no offset, so without this a value written as 10:00+08:00 would come back as a naive 02:00.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a moment in time needs a time zone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
