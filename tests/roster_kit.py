"""Helpers of the tests that need a county's roster in force: an import takes effect only once a second county
reviewer confirms it (roster/service.confirm), so a test imports it as one reviewer and confirms it as another here,
rather than repeating the confirmation in each test."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from factories import COUNTY
from verifier.accounts.auth import Principal, principal_of
from verifier.roster import service
from verifier.roster.service import RosterResult
from verifier.store.tables import User


def reviewer(ctx: Any, username: str, county: str = COUNTY) -> Principal:
    """A county reviewer of `county` (created the first time it is named)."""
    from verifier.accounts.service import add_user

    with ctx.db.begin() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = add_user(session, username=username, password="roster-kit-password", roles=["county_reviewer"],
                            counties=[county], clock=ctx.clock)
        return principal_of(user)


def second_reviewer(ctx: Any, county: str = COUNTY) -> Principal:
    """The county reviewer who confirms the rosters the tests import (never their importer)."""
    return reviewer(ctx, f"roster-second-{county}", county)


def confirm(ctx: Any, import_id: str, county: str = COUNTY) -> None:
    """Another county reviewer of `county` confirms the pending import: it becomes the county's roster."""
    with ctx.db.begin() as session:
        service.confirm(session, import_id, principal=second_reviewer(ctx, county), clock=ctx.clock)


def import_confirmed(ctx: Any, data: bytes, *, county: str = COUNTY, filename: str = "名册.csv",
                     importer: Principal | None = None) -> RosterResult:
    """Import `data` as the county's roster (by `importer`, by default a reviewer of the county) and confirm it."""
    importer = importer or reviewer(ctx, f"roster-first-{county}", county)
    result = service.import_roster(ctx.db, vault=ctx.vault, data=data, filename=filename, county_code=county,
                                   principal=importer, clock=ctx.clock, limits=ctx.settings.imports)
    confirm(ctx, result.import_id, county)
    return result


def post_confirmed(client: Any, ctx: Any, headers: dict[str, str], data: bytes, *, county: str = COUNTY,
                   filename: str = "名册.csv") -> Any:
    """POST the roster as the caller of `headers` (201, pending), then have another reviewer confirm it."""
    r = client.post("/api/roster/imports", files={"file": (filename, data, "application/octet-stream")},
                    data={"county_code": county}, headers=headers)
    assert r.status_code == 201, r.text
    confirm(ctx, r.json()["import_id"], county)
    return r
