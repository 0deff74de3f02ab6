"""Importing a county's roster, and looking people up in it.

An import is the county's whole roster as exported that day: all or nothing, in the audit log, and it replaces the
county's roster for every lookup after it (earlier imports are kept, so a household's file can say what the roster
said when). The same file sent again changes nothing. Only a county reviewer (or the operator at the command line)
imports: the roster decides a household's group and so which relief tiers apply, which the insurer must not steer.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..domain.errors import Forbidden, NotFound, ValidationFailed
from ..domain.roster import RosterCategory
from ..settings import ImportLimits
from ..store.base import new_id
from ..store.db import Database
from ..store.vault import Vault
from .models import RosterEntry, RosterImport
from .parsing import read_roster

IMPORT_ROLES = ("county_reviewer",)
_CHUNK = 5_000


@dataclass(frozen=True)
class RosterResult:
    import_id: str
    rows: int
    categories: dict[str, int]
    repeated: bool = False


def _check_county(county_code: str, principal: Principal) -> None:
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValidationFailed.one("county_code", f"a county code is six digits, got {county_code!r}")
    if not principal.may_see_county(county_code):
        raise NotFound(f"no county {county_code!r}")


def import_roster(db: Database, *, vault: Vault, data: bytes, filename: str, county_code: str, principal: Principal,
                  clock: Clock, limits: ImportLimits) -> RosterResult:
    """Read and check the whole file first (no transaction open), then write it in one transaction."""
    _check_county(county_code, principal)
    if not principal.has(*IMPORT_ROLES):
        raise Forbidden("only a county reviewer imports the county's roster")
    sha = hashlib.sha256(data).hexdigest()
    with db.read() as session:
        earlier = _earlier(session, county_code, sha)
    if earlier is not None:
        return earlier
    rows = read_roster(data, filename, today=clock.today(), limits=limits)
    keyed = [(vault.blind_index(r.id_number, "id_number"), r.category) for r in rows]
    counts = dict(sorted(Counter(c for _, c in keyed).items()))
    with db.begin() as session:
        earlier = _earlier(session, county_code, sha)  # the same file, imported while this one was read
        if earlier is not None:
            return earlier
        import_id = new_id("ros")
        session.add(RosterImport(id=import_id, county_code=county_code, filename=filename[:255], file_sha256=sha,
                                 rows=len(keyed), imported_by=principal.id, imported_at=clock.now()))
        session.flush()
        for i in range(0, len(keyed), _CHUNK):
            session.execute(insert(RosterEntry), [
                {"import_id": import_id, "county_code": county_code, "id_number_bidx": b, "category": c}
                for b, c in keyed[i:i + _CHUNK]])
        audit.append(session, actor=principal.id, role="county_reviewer", action="roster.import", subject=import_id,
                     payload={"county_code": county_code, "filename": filename[:255], "sha256": sha,
                              "rows": len(keyed), "categories": counts},
                     clock=clock)
    return RosterResult(import_id, len(keyed), counts)


def _earlier(session: Session, county_code: str, sha: str) -> RosterResult | None:
    row = session.scalar(select(RosterImport).where(RosterImport.county_code == county_code,
                                                    RosterImport.file_sha256 == sha))
    if row is None:
        return None
    counts = Counter(session.scalars(select(RosterEntry.category).where(RosterEntry.import_id == row.id)))
    return RosterResult(row.id, row.rows, dict(sorted(counts.items())), repeated=True)


def current_import(session: Session, county_code: str) -> RosterImport | None:
    return session.scalar(select(RosterImport).where(RosterImport.county_code == county_code)
                          .order_by(RosterImport.imported_at.desc(), RosterImport.id.desc()).limit(1))


def categories_of(session: Session, county_code: str, bidxs: Iterable[str]) -> dict[str, RosterCategory]:
    """The roster category of each of these people (by blind index) in the county's current roster; absent: on none."""
    current = current_import(session, county_code)
    return {} if current is None else categories_in(session, current.id, bidxs)


def categories_in(session: Session, import_id: str, bidxs: Iterable[str]) -> dict[str, RosterCategory]:
    """`categories_of` in the roster import `import_id` (a caller that has found the current one already)."""
    wanted = list(dict.fromkeys(bidxs))
    found: dict[str, RosterCategory] = {}
    for i in range(0, len(wanted), _CHUNK):
        for bidx, category in session.execute(
                select(RosterEntry.id_number_bidx, RosterEntry.category).where(
                    RosterEntry.import_id == import_id, RosterEntry.id_number_bidx.in_(wanted[i:i + _CHUNK]))):
            found[bidx] = category  # type: ignore[assignment]
    return found


def imports(session: Session, principal: Principal) -> list[RosterImport]:
    stmt = select(RosterImport).order_by(RosterImport.imported_at.desc(), RosterImport.id.desc())
    if principal.counties:
        stmt = stmt.where(RosterImport.county_code.in_(principal.counties))
    return list(session.scalars(stmt.limit(200)))
