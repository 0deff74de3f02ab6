"""Helpers of the county-scoping tests: a second county under a contract of its own, and the log's entries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from factories import accept_contract
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.contract import check_contract_text
from verifier.store import contracts as contract_store

ROOT = Path(__file__).resolve().parents[2]
HERE, OTHER = "340223", "340224"


def add_county(ctx: Any, county: str = OTHER) -> None:
    """A copy of the demo contract for `county`, so that cases can be referred there too."""
    source = (ROOT / "contracts" / "demo-2020.toml").read_text(encoding="utf-8")
    for pattern, replacement in ((r'(?m)^id\s*=\s*"[^"]*"', f'id = "demo-{county}"'),
                                 (r'(?m)^county_codes\s*=\s*\[[^\]]*\]', f'county_codes = ["{county}"]')):
        source, n = re.subn(pattern, replacement, source)
        assert n == 1, pattern
    contract, problems = check_contract_text(source.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        contract_store.add_contract(session, contract, actor="system", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)  # as the county would


def entries(ctx: Any) -> list[tuple[int, str, str, str | None]]:
    """(index, action, subject, county) of every entry of the log."""
    with ctx.db.read() as session:
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            select(AuditEntry.idx, AuditEntry.action, AuditEntry.subject, AuditEntry.county_code)
            .order_by(AuditEntry.idx))]
