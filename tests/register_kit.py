"""Registers in force for tests: an import is a proposal until a second county reviewer confirms it (having seen
what it changes against the version in force)."""

from __future__ import annotations

from typing import Any

from verifier.accounts.auth import Principal
from verifier.registers import confirmation

SECOND = "usr_register_second"


def second_reviewer(county: str) -> Principal:
    """A county reviewer of `county` who imported nothing (and is no account's, so linked to none)."""
    return Principal(id=SECOND, username="register-second", display_name="第二复核员", roles=("county_reviewer",),
                     counties=(county,))


def confirm(ctx: Any, import_id: str, county: str, *, by: Principal | None = None) -> None:
    """Confirm the import as the page does: its change counted, the version in force it was counted against sent."""
    who = by or second_reviewer(county)
    change = confirmation.compare(ctx.db, import_id, who, ctx.clock)
    assert change is not None, "not pending"
    with ctx.db.begin() as session:
        confirmation.confirm(session, import_id, principal=who, clock=ctx.clock, change=change, replaces=change.base_id)


def confirm_over_api(client: Any, headers: dict[str, str], import_id: str) -> Any:
    """The API's confirmation: the change read first, its `replaces` sent back."""
    seen = client.get(f"/api/registers/imports/{import_id}/change", headers=headers)
    assert seen.status_code == 200, seen.text
    return client.post(f"/api/registers/imports/{import_id}/confirm", json={"replaces": seen.json()["replaces"]},
                       headers=headers)
