"""Fixtures of the payment tests; the helpers they share are in payment_helpers.py."""

from __future__ import annotations

from typing import Any

import pytest
from payment_helpers import People, people_of


@pytest.fixture
def people(ctx: Any) -> People:
    """One person per payment role, for service-level tests (not logged in: see the `users` fixture for HTTP)."""
    return people_of(ctx, "p", "payments-password")
