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
from verifier.store.tables import Case, Member, User


def roster_csv(rows: list[tuple[str, str]], encoding: str = "gbk") -> bytes:
    lines = ["序号,姓名,证件号码,与户主关系,监测对象类别"] + [
        f"{i},人员{i},{idn},户主,{category}" for i, (idn, category) in enumerate(rows, start=1)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def post_roster(client, headers, data: bytes, name: str = "名册.csv", county: str = COUNTY):  # type: ignore[no-untyped-def]
    return client.post("/api/roster/imports", files={"file": (name, data, "application/octet-stream")},
                       data={"county_code": county}, headers=headers)


def referral_csv_without_groups(people: list[str]) -> bytes:
    lines = ["身份证号,姓名,乡镇,村,原因,金额,日期"] + [
        f"{idn},患者{i},城关镇,东村,因病,30000.00,2020-05-20" for i, idn in enumerate(people)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def group_of(ctx, vault, id_number: str) -> str:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        bidx = vault.blind_index(id_number, "id_number")
        household = session.scalar(select(Member.household_id).where(Member.id_number_bidx == bidx))
        return session.scalar(select(Case.household_group).where(Case.household_id == household))


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
    service.confirm_import(ctx.db, import_id, principal=second_reviewer(ctx, county), clock=ctx.clock)


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


def county_being_set_up(ctx) -> None:  # type: ignore[no-untyped-def]
    """The county as before its first reviewer: the contract's reviewer account (factories.accept_contract) set
    inactive, so the operator's command-line roster import is allowed (roster.service.county_has_reviewer)."""
    from sqlalchemy import update

    from verifier.store.tables import User

    with ctx.db.begin() as session:
        session.execute(update(User).where(User.username.like("f-reviewer-%")).values(active=False))
