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

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def new_id(prefix: str) -> str:
    """An opaque, roughly time-ordered id such as `case_01hq3k...`: 48 bits of milliseconds, 80 random bits."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, r = divmod(value, 32)
        chars.append(_ALPHABET[r])
    return f"{prefix}_{''.join(reversed(chars))}"
