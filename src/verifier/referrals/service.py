"""Referral intake: bureau files and households' own applications, merged into one open case per household,
cause and contract year. All or nothing: any bad row and nothing is stored; the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ..accounts.auth import Principal
from ..audit import log as audit
from ..clock import Clock
from ..contract import Contract
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..store import contracts as contract_store
from ..store.base import new_id
from ..store.tables import CLOSED_STATUSES, Case, Household, Member, Referral, ReferralImport
from ..store.vault import Vault
from .parsing import ReferralRow, ReferralStream, iter_referrals, parse_application

CHANNELS = ("medical_insurance", "civil_affairs", "emergency_management", "education", "application")
_CHUNK = 500


@dataclass(frozen=True)
class ImportResult:
    batch_id: str
    rows: int
    new_cases: int
    merged: int
    case_ids: tuple[str, ...] = ()
    repeated: bool = False


def _check_target(channel: str, county_code: str, principal: Principal) -> None:
    problems = []
    if channel not in CHANNELS:
        problems.append(FieldError("channel", f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}"))
    if not (len(county_code) == 6 and county_code.isdigit()):
        problems.append(FieldError("county_code", f"a county code is six digits, got {county_code!r}"))
    if problems:
        raise ValidationFailed(problems)
    if not principal.may_see_county(county_code):
        raise NotFound(f"no county {county_code!r}")


def _bind_contracts(
    contracts: list[Contract], county_code: str, rows: list[ReferralRow], today: date, errors: list[FieldError]
) -> list[Contract | None]:
    """The contract each row is bound to (in force for the county on its referral date); a bad row otherwise."""
    chosen: list[Contract | None] = []
    for r in rows:
        on = r.referred_on or today
        contract = next((c for c in contracts if c.start <= on <= c.end), None)
        if contract is None:
            errors.append(FieldError("referred_on", f"no contract covers county {county_code} on {on}", r.row))
        elif r.household_group not in contract.spec.eligibility.groups:
            errors.append(FieldError("household_group", f"contract {contract.id} does not serve {r.household_group}", r.row))
            contract = None
        elif (r.cause, r.household_group) not in contract.rules:
            errors.append(FieldError("cause", f"contract {contract.id} has no relief for {r.cause}", r.row))
            contract = None
        chosen.append(contract)
    return chosen


def _county_contracts(session: Session, county_code: str) -> list[Contract]:
    return [c for c in contract_store.all_contracts(session) if county_code in c.county_codes]


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _merge(
    session: Session,
    vault: Vault,
    county_code: str,
    channel: str,
    rows: list[ReferralRow],
    contracts: list[Contract],
    *,
    import_id: str | None,
    actor: str,
    now: Any,
    today: date,
) -> tuple[int, int, list[str]]:
    """Store the referrals, creating households and cases as needed. Bulk statements, a few per 500 rows."""
    bidx = [vault.blind_index(r.id_number, "id_number") for r in rows]
    household_of: dict[str, str] = {}
    for chunk in _chunks(sorted(set(bidx))):
        for b, hh in session.execute(select(Member.id_number_bidx, Member.household_id).where(Member.id_number_bidx.in_(chunk))):
            household_of[b] = hh
    open_case: dict[tuple[str, str, int], str] = {}
    for chunk in _chunks(sorted(set(household_of.values()))):
        for cid, hh, cause, year in session.execute(
            select(Case.id, Case.household_id, Case.cause, Case.contract_year).where(
                Case.household_id.in_(chunk), Case.status.not_in(CLOSED_STATUSES))
        ):
            open_case[(hh, cause, year)] = cid

    households: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    referrals: list[dict[str, Any]] = []
    new_cases = merged = 0
    touched: list[str] = []
    for r, b, contract in zip(rows, bidx, contracts):
        on = r.referred_on or today
        hh = household_of.get(b)
        if hh is None:
            hh = household_of[b] = new_id("hh")
            households.append(dict(id=hh, county_code=county_code, town=r.town, village=r.village,
                                   household_group=r.household_group, head_name=r.name,
                                   phone_enc=vault.seal_optional(r.phone, "household.phone"), created_at=now))
            members.append(dict(id=new_id("mem"), household_id=hh, name=r.name,
                                id_number_enc=vault.seal(r.id_number, "member.id_number"), id_number_bidx=b,
                                relation="head", labour=None))
        key = (hh, r.cause, contract.year)
        case_id = open_case.get(key)
        if case_id is None:
            case_id = open_case[key] = new_id("case")
            cases.append(dict(id=case_id, household_id=hh, county_code=county_code, town=r.town, village=r.village,
                              household_group=r.household_group, cause=r.cause, contract_id=contract.id,
                              contract_hash=contract.content_hash, contract_year=contract.year, status="received",
                              referred_on=on, reported_amount=r.amount, screening_reason=None, closed_reason=None,
                              created_at=now, updated_at=now, version=1))
            new_cases += 1
        else:
            merged += 1
        touched.append(case_id)
        referrals.append(dict(id=new_id("ref"), import_id=import_id, row_number=r.row, case_id=case_id, channel=channel,
                              name=r.name, id_number_enc=vault.seal(r.id_number, "referral.id_number"), id_number_bidx=b,
                              phone_enc=vault.seal_optional(r.phone, "referral.phone"), town=r.town, village=r.village,
                              household_group=r.household_group, cause=r.cause, amount=r.amount, referred_on=on,
                              household_size=r.household_size, note=r.note, entered_by=actor, created_at=now))
    for table, values in ((Household, households), (Member, members), (Case, cases), (Referral, referrals)):
        for chunk in _chunks(values):
            session.execute(insert(table), chunk)
    return new_cases, merged, touched


_FILE_CHUNK = 2000
_MAX_ERRORS = 1000


def _sha256_of(source: BinaryIO) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: source.read(1 << 20), b""):
        digest.update(block)
    source.seek(0)
    return digest.hexdigest()


def import_file(
    session: Session,
    *,
    vault: Vault,
    source: BinaryIO,
    filename: str,
    channel: str,
    county_code: str,
    principal: Principal,
    role: str,
    clock: Clock,
    progress: Callable[[ReferralStream], None] | None = None,
) -> ImportResult:
    """Import a referral file, streaming it in chunks: memory stays flat whatever the file's size.

    Rows are written as they are read, inside the caller's transaction; at the first bad row writing stops,
    reading goes on to report every bad row, and the raised ValidationFailed rolls everything back.
    """
    now, today = clock.now(), clock.today()
    _check_target(channel, county_code, principal)
    if channel == "application":
        raise ValidationFailed.one("channel", "applications are entered one at a time, not imported from a file")
    sha = _sha256_of(source)
    earlier = session.scalar(select(ReferralImport).where(
        ReferralImport.county_code == county_code, ReferralImport.channel == channel, ReferralImport.file_sha256 == sha))
    if earlier is not None:
        return ImportResult(earlier.id, earlier.rows, 0, 0, repeated=True)
    contracts = _county_contracts(session, county_code)
    import_id = new_id("imp")
    session.add(ReferralImport(id=import_id, county_code=county_code, channel=channel, file_sha256=sha,
                               filename=filename[:255], rows=0, new_cases=0, merged=0,
                               imported_by=principal.id, imported_at=now))
    session.flush()
    errors: list[FieldError] = []
    rows = new_cases = merged = 0
    hashes: set[str] = set()
    cases_digest = hashlib.sha256()
    with iter_referrals(source, filename, today=today, errors=errors, max_errors=_MAX_ERRORS) as stream:
        while True:
            chunk = list(itertools.islice(stream, _FILE_CHUNK))
            if not chunk:
                break
            rows += len(chunk)
            bound = _bind_contracts(contracts, county_code, chunk, today, errors if len(errors) < _MAX_ERRORS else [])
            if not errors:
                n, m, touched = _merge(session, vault, county_code, channel, chunk, bound,  # type: ignore[arg-type]
                                       import_id=import_id, actor=principal.id, now=now, today=today)
                new_cases, merged = new_cases + n, merged + m
                for r, case_id in zip(chunk, touched):
                    cases_digest.update(f"{r.row}:{case_id}\n".encode())
                hashes.update(c.content_hash for c in bound if c is not None)
            if progress is not None:
                progress(stream)
    if errors:
        raise ValidationFailed(sorted(errors, key=lambda e: (e.row or 0, e.field)))
    if rows == 0:
        raise ValidationFailed.one("file", "the file has no rows")
    record = session.get(ReferralImport, import_id)
    assert record is not None
    record.rows, record.new_cases, record.merged = rows, new_cases, merged
    audit.append(session, actor=principal.id, role=role, action="referrals.import", subject=import_id,
                 contract_hash=next(iter(hashes)) if len(hashes) == 1 else None,
                 payload={"county_code": county_code, "channel": channel, "file_sha256": sha, "rows": rows,
                          "new_cases": new_cases, "merged": merged, "row_cases_sha256": cases_digest.hexdigest()},
                 clock=clock)
    return ImportResult(import_id, rows, new_cases, merged)


def enter_application(
    session: Session,
    *,
    vault: Vault,
    payload: dict[str, Any],
    principal: Principal,
    clock: Clock,
) -> ImportResult:
    now, today = clock.now(), clock.today()
    county_code = str(payload.get("county_code") or "")
    _check_target("application", county_code, principal)
    fields = {k: v for k, v in payload.items() if k != "county_code"}
    row = parse_application(fields, today=today)
    errors: list[FieldError] = []
    contracts = _bind_contracts(_county_contracts(session, county_code), county_code, [row], today, errors)
    if errors:
        raise ValidationFailed([FieldError(e.field, e.message) for e in errors])
    new_cases, merged, touched = _merge(session, vault, county_code, "application", [row], contracts,  # type: ignore[arg-type]
                                        import_id=None, actor=principal.id, now=now, today=today)
    audit.append(session, actor=principal.id, role="town_clerk", action="referrals.application", subject=touched[0],
                 contract_hash=contracts[0].content_hash if contracts[0] else None,
                 payload={"county_code": county_code, "cause": row.cause, "amount": row.amount,
                          "merged": bool(merged)},
                 clock=clock)
    return ImportResult(touched[0], 1, new_cases, merged, tuple(touched))
