"""Cross-county conflicts: a person of another county's household is refused with a neutral message (no hint of
which county, nor that the person is known to the scheme), and the attempt is recorded, after the refused
transaction rolls back, for the county reviewers of both counties and in the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..cases.listing import is_whole_id_number
from ..clock import Clock
from ..domain.errors import FieldError, ValidationFailed
from ..domain.masking import mask_id
from ..store.base import new_id
from ..store.db import keep_after_rollback
from ..store.paged import PAGE_SIZE, Paged, fold_search, page_of, text_search
from ..store.tables import User
from ..store.vault import Vault
from .models import CountyConflict

NEUTRAL = "该身份证号无法在本县登记，请联系县级复核员"
"""What the person entering the ID number is told: the same whichever county holds the household."""
READERS = ("county_reviewer", "auditor")
ID_COLUMN = "county_conflict.id_number"


@dataclass(frozen=True)
class Sighting:
    """A person of `home_county_code`'s household, named in `county_code`."""

    source: str  # referral_import | application | home_check
    county_code: str
    home_county_code: str
    person_bidx: str
    id_number: str
    reference: str | None = None
    row: int | None = None


def refusal(field: str, row: int | None = None) -> FieldError:
    return FieldError(field, NEUTRAL, row)


def refuse(exc: ValidationFailed, sightings: Sequence[Sighting], *, vault: Vault, principal: Principal, role: str,
           clock: Clock) -> ValidationFailed:
    """`exc`, carrying the sightings to record once its transaction has rolled back."""
    if sightings:
        found = list(sightings)
        keep_after_rollback(exc, lambda session: record(session, found, vault=vault, actor=principal.id, role=role,
                                                        clock=clock))
    return exc


def record(session: Session, sightings: Sequence[Sighting], *, vault: Vault, actor: str, role: str,
           clock: Clock) -> list[CountyConflict]:
    now = clock.now()
    rows = [CountyConflict(id=new_id("cfl"), recorded_at=now, actor=actor, role=role, source=s.source,
                           county_code=s.county_code, home_county_code=s.home_county_code, person_bidx=s.person_bidx,
                           id_number_enc=vault.seal(s.id_number, ID_COLUMN), reference=s.reference, row=s.row)
            for s in sightings]
    session.add_all(rows)
    session.flush()
    audit.append_many(session, [
        {"actor": actor, "role": role, "action": "county_conflict.record", "subject": c.id,
         "payload": {"source": c.source, "county_code": c.county_code, "home_county_code": c.home_county_code,
                     "person_bidx": c.person_bidx, "reference": c.reference, "row": c.row}}
        for c in rows], clock=clock)
    return rows


class ConflictOut(msgspec.Struct):
    id: str
    recorded_at: datetime
    source: str
    county_code: str
    """Where the person was named."""
    home_county_code: str
    """The county of the person's household."""
    id_number: str
    """Masked 6+4."""
    actor: str
    actor_name: str
    role: str
    reference: str | None
    row: int | None


def list_conflicts(session: Session, principal: Principal, vault: Vault, *, limit: int = 200) -> list[ConflictOut]:
    """The latest conflicts concerning the caller's counties (either side), newest first."""
    stmt = select(CountyConflict).order_by(CountyConflict.recorded_at.desc(), CountyConflict.id.desc()).limit(limit)
    if principal.counties:
        stmt = stmt.where(or_(CountyConflict.county_code.in_(principal.counties),
                              CountyConflict.home_county_code.in_(principal.counties)))
    return _out(session, vault, list(session.scalars(stmt)))


def _out(session: Session, vault: Vault, rows: list[CountyConflict]) -> list[ConflictOut]:
    names = {uid: name for uid, name in session.execute(
        select(User.id, User.display_name).where(User.id.in_(sorted({r.actor for r in rows}))))}
    return [ConflictOut(id=r.id, recorded_at=r.recorded_at, source=r.source, county_code=r.county_code,
                        home_county_code=r.home_county_code, id_number=mask_id(vault.open(r.id_number_enc, ID_COLUMN)),
                        actor=r.actor, actor_name=names.get(r.actor, r.actor), role=r.role, reference=r.reference,
                        row=r.row)
            for r in rows]


def find_conflicts(session: Session, principal: Principal, vault: Vault, *, q: str = "", page: int = 1,
                   page_size: int = PAGE_SIZE) -> Paged[ConflictOut]:
    """The conflicts page: those concerning the caller's counties, newest first, searched by a whole ID number
    (its blind index: nothing is decrypted to search), a county code (either side) or the name of who named them."""
    stmt = select(CountyConflict).order_by(CountyConflict.recorded_at.desc(), CountyConflict.id.desc())
    if principal.counties:
        stmt = stmt.where(or_(CountyConflict.county_code.in_(principal.counties),
                              CountyConflict.home_county_code.in_(principal.counties)))
    text = fold_search(q)
    if is_whole_id_number(text):
        stmt = stmt.where(CountyConflict.person_bidx == vault.blind_index(text.upper(), "id_number"))
    elif text:
        named_by = select(User.id).where(User.display_name.contains(text, autoescape=True))
        stmt = stmt.where(or_(text_search(text, (CountyConflict.county_code, CountyConflict.home_county_code)),
                              CountyConflict.actor.in_(named_by)))
    found = page_of(session, stmt, page, page_size)
    return Paged(items=_out(session, vault, found.items), total=found.total, page=found.page, pages=found.pages,
                 page_size=found.page_size)


def count_conflicts(session: Session, principal: Principal) -> int:
    stmt = select(func.count()).select_from(CountyConflict)
    if principal.counties:
        stmt = stmt.where(or_(CountyConflict.county_code.in_(principal.counties),
                              CountyConflict.home_county_code.in_(principal.counties)))
    return int(session.scalar(stmt) or 0)
