"""The declarative base every table shares, with constraint names Alembic can rely on."""

from __future__ import annotations

import secrets
import time

from sqlalchemy import BigInteger, MetaData
from sqlalchemy.orm import DeclarativeBase

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
