"""Fixtures of the notices tests: a second contract (another county) whose notices mask names and cover a town."""

from __future__ import annotations

import pytest
from factories import demo_contract_variant

MASKED_COUNTY = "340224"


@pytest.fixture
def masked_contract(ctx):  # type: ignore[no-untyped-def]
    """A contract for county 340224 like the demo one, but with mask_names = true and scope = "town"."""
    return demo_contract_variant(ctx, ('id = "demo-2020"', 'id = "masked-2020"'),
                                 ('county_codes = ["340223"]', f'county_codes = ["{MASKED_COUNTY}"]'),
                                 ("mask_names = false", "mask_names = true"), ('scope = "village"', 'scope = "town"'))
