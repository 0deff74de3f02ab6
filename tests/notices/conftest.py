"""Fixtures of the notices tests: a second contract (another county) whose notices mask names and cover a town."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import accept_contract

DEMO_CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml"
MASKED_COUNTY = "340224"


@pytest.fixture
def masked_contract(ctx):  # type: ignore[no-untyped-def]
    """A contract for county 340224 like the demo one, but with mask_names = true and scope = "town"."""
    from verifier.contract import check_contract_text
    from verifier.store.contracts import add_contract

    text = DEMO_CONTRACT.read_text("utf-8")
    for old, new in (('id = "demo-2020"', 'id = "masked-2020"'), ('county_codes = ["340223"]', f'county_codes = ["{MASKED_COUNTY}"]'),
                     ("mask_names = false", "mask_names = true"), ('scope = "village"', 'scope = "town"')):
        assert old in text
        text = text.replace(old, new)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        add_contract(session, contract, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)  # as the county would
    return contract
