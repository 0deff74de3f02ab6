"""Fixtures of the page tests (the helpers they use are in pagekit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import accept_contract
from pagekit import OTHER_COUNTY, Pages

DEMO_CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "demo-2020.toml"


@pytest.fixture
def pages(client, users) -> Pages:  # type: ignore[no-untyped-def]
    return Pages(client, users)


@pytest.fixture
def other_county(ctx) -> str:  # type: ignore[no-untyped-def]
    """A second county under a contract of its own, for county-scoping tests."""
    from verifier.contract import check_contract_text
    from verifier.store.contracts import add_contract

    text = DEMO_CONTRACT.read_text("utf-8")
    for old, new in (('id = "demo-2020"', 'id = "other-2020"'), ('county_codes = ["340223"]', f'county_codes = ["{OTHER_COUNTY}"]')):
        assert old in text
        text = text.replace(old, new)
    contract, problems = check_contract_text(text.encode("utf-8"))
    assert contract is not None, problems
    with ctx.db.begin() as session:
        add_contract(session, contract, actor="test", role="admin", clock=ctx.clock)
        accept_contract(session, contract.id, ctx.clock)  # as the county would
    return OTHER_COUNTY

