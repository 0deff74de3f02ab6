"""Fixtures of the page tests (the helpers they use are in pagekit.py)."""

from __future__ import annotations

import pytest
from factories import other_county_contract
from pagekit import OTHER_COUNTY, Pages


@pytest.fixture
def pages(client, users) -> Pages:  # type: ignore[no-untyped-def]
    return Pages(client, users)


@pytest.fixture
def other_county(ctx) -> str:  # type: ignore[no-untyped-def]
    """A second county under a contract of its own, for county-scoping tests."""
    return other_county_contract(ctx, OTHER_COUNTY)
