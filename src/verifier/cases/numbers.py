"""Readable case numbers, and the keyed index of ID-number tails that finds a person by their last four characters.

A case number is `340223-2026-000123`: the county, the year the case was received (`referred_on`), and a six-digit
sequence per county and year, counted in `case_number_counter`. `reserve` takes a block of numbers with one
statement that inserts the counter row or adds to it (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), inside the
transaction that creates the cases: on PostgreSQL a second writer waits on the counter row until the first commits
and then counts on from it; on SQLite writers hold the database's write lock. A rolled-back creation rolls its
count back with it, so numbers have no gaps and no case's number is ever given to another.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..store.db import Database
from ..store.paged import case_number_typed
from ..store.tables import CaseNumberCounter, Member
from ..store.vault import Vault

NUMBER = re.compile(r"^(\d{6})-(\d{4})-(\d{1,7})$")


def format_number(county_code: str, year: int, seq: int) -> str:
    return f"{county_code}-{year:04d}-{seq:06d}"


def reserve(session: Session, county_code: str, year: int, count: int) -> list[str]:
    """`count` new numbers for cases of a county and year, in order, taken in the caller's transaction."""
    if count <= 0:
        return []
    table = CaseNumberCounter.__table__
    dialect = session.get_bind().dialect.name
    ins = (postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)).values(
        county_code=county_code, year=year, last_seq=count)
    stmt = ins.on_conflict_do_update(index_elements=[table.c.county_code, table.c.year],
                                     set_={"last_seq": table.c.last_seq + count}).returning(table.c.last_seq)
    last = int(session.execute(stmt).scalar_one())
    return [format_number(county_code, year, seq) for seq in range(last - count + 1, last + 1)]


def id_tail(id_number: str) -> str:
    """The last four characters of an ID number as the tail index takes them."""
    return "".join(id_number.split()).upper()[-4:]


def tail_index(vault: Vault, id_number: str) -> str:
    """The keyed index of an ID number's last four characters (a different input than the full number's index)."""
    return vault.blind_index(id_tail(id_number), "id_tail")


def fill_id_tails(db: Database, vault: Vault, *, batch: int = 500) -> int:
    """Give every member stored without a tail index (before migration 0016) its index: needs the key, so it runs
    when the application starts, not in the migration. Idempotent; returns how many were filled."""
    filled = 0
    while True:
        with db.begin() as session:
            rows = session.execute(select(Member.id, Member.id_number_enc).where(Member.id_tail_bidx.is_(None))
                                   .order_by(Member.id).limit(batch)).all()
            for member_id, sealed in rows:
                number = vault.open(sealed, "member.id_number")
                session.execute(update(Member).where(Member.id == member_id, Member.id_tail_bidx.is_(None))
                                .values(id_tail_bidx=tail_index(vault, number)))
        filled += len(rows)
        if len(rows) < batch:
            return filled


def seq_suffixes(digits: str) -> Iterable[str]:
    """The ends of case numbers that a typed run of sequence digits names: "123" and "000123" both end
    "-000123"."""
    if digits.isdigit() and 1 <= len(digits) <= 7:
        yield f"-{int(digits):06d}"


def typed_number(text: str) -> tuple[str | None, list[str]]:
    """The case number a search text names whole, and the ends of case numbers it names (for LIKE '%' + end), as a
    clerk types one (`store.paged.case_number_typed`: full-width folded, the parts spaced, slashed or long-dashed, or
    run together; the year and sequence without the county); else the sequence alone (`123`)."""
    whole, end = case_number_typed(text)
    if whole or end:
        return whole, [end] if end else []
    return None, list(seq_suffixes(unicodedata.normalize("NFKC", text).strip()))


def numbers_of(session: Session, case_ids: Iterable[str]) -> dict[str, str]:
    """The case number of each of these cases (for pages that show cases beside other things)."""
    from ..store.tables import Case

    wanted = sorted({c for c in case_ids if c})
    found: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        found.update(dict(session.execute(select(Case.id, Case.number).where(Case.id.in_(wanted[i:i + 500]))).tuples().all()))
    return found
