"""Helpers of the county-scoping tests: a second county under a contract of its own, and the log's entries."""

from __future__ import annotations

from typing import Any

from factories import demo_contract_variant
from sqlalchemy import select

from verifier.audit.models import AuditEntry

HERE, OTHER = "340223", "340224"


def add_county(ctx: Any, county: str = OTHER) -> None:
    """A copy of the demo contract for `county`, so that cases can be referred there too."""
    demo_contract_variant(ctx, ('id = "demo-2020"', f'id = "demo-{county}"'),
                          ('county_codes = ["340223"]', f'county_codes = ["{county}"]'))


def entries(ctx: Any) -> list[tuple[int, str, str, str | None]]:
    """(index, action, subject, county) of every entry of the log."""
    with ctx.db.read() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(AuditEntry.idx, AuditEntry.action, AuditEntry.subject, AuditEntry.county_code)
            .order_by(AuditEntry.idx))]
