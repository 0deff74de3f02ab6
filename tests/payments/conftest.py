"""Fixtures of the payment tests; the helpers they share are in payment_helpers.py."""

from __future__ import annotations

from typing import Any

import pytest
from payment_helpers import People

from verifier.accounts.auth import principal_of
from verifier.accounts.service import add_user


@pytest.fixture
def people(ctx: Any) -> People:
    """One person per payment role, for service-level tests (not logged in: see the `users` fixture for HTTP)."""
    made = {}
    with ctx.db.begin() as session:
        for key, role in (("claims", "insurer_claims"), ("finance1", "finance"), ("finance2", "finance"),
                          ("reviewer", "county_reviewer"), ("supervisor", "insurer_supervisor")):
            made[key] = principal_of(add_user(session, username=f"p-{key}", password="payments-password",
                                              roles=[role], all_counties=True, clock=ctx.clock))
    return People(**made)
