"""Fixtures of the case-list tests: a second county under a contract of its own, for county-scoping tests."""

from __future__ import annotations

import pytest
from factories import other_county_contract

OTHER_COUNTY = "340224"


@pytest.fixture
def other_county(ctx) -> str:  # type: ignore[no-untyped-def]
    return other_county_contract(ctx, OTHER_COUNTY)
