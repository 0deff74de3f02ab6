"""Helpers of the payment tests (a module of its own: `conftest` names clash across test directories).

Test shortcuts (each stage before payment has tests of its own):

- `ready_case` (`factories.ready_case`, the page tests' too) takes a determined case from `factories.make_case` and
  applies the lifecycle actions review_pass, post_notice and close_notice through `verifier.cases.workflow.advance`,
  standing in for the village review and the notice stage, its commits signed by one checkpoint;
- `seed_ready_cases` (shared with benchmarks/payments.py) inserts many ready-to-pay cases straight into the tables;
- `add_contract` adds a copy of the demo contract for another county, with its own budget, fee rate and threshold,
  so that a test (or a hypothesis example) gets a fund of its own.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.payments import seed_ready_cases  # noqa: E402
from factories import demo_contract_variant, ready_case  # noqa: E402

from verifier.accounts.auth import Principal  # noqa: E402
from verifier.contract import Contract  # noqa: E402

__all__ = ["People", "add_contract", "change_payee", "new_county", "people_of", "ready_case", "seed_ready_cases", "tx"]

T = TypeVar("T")
_counties = itertools.count(1)


def tx(ctx: Any, fn: Callable[[Any], T]) -> T:
    """Run `fn(session)` in one write transaction."""
    with ctx.db.begin() as session:
        return fn(session)


def new_county() -> str:
    return f"41{next(_counties):04d}"


def add_contract(ctx: Any, *, county: str | None = None, budget: str = "4500000.00", fee_rate: str = "0.15",
                 signoff_at: str = "200000.00") -> Contract:
    """A copy of the demo contract under a new id, for `county` (default: a fresh one), with these figures."""
    county = county or new_county()
    contract: Contract = demo_contract_variant(
        ctx, ('id = "demo-2020"', f'id = "pay-{county}"'),
        ('county_codes = ["340223"]', f'county_codes = ["{county}"]'),
        ('budget = "4500000.00"', f'budget = "{budget}"'),
        ('service_fee_rate = "0.15"', f'service_fee_rate = "{fee_rate}"'),
        ('county_signoff_at = "200000.00"', f'county_signoff_at = "{signoff_at}"'))
    return contract


@dataclass
class People:
    claims: Principal
    finance1: Principal
    finance2: Principal
    reviewer: Principal
    supervisor: Principal


def people_of(ctx: Any, prefix: str, password: str) -> People:
    """One person per payment role, in every county (users `<prefix>-claims`, `<prefix>-finance1`, ...)."""
    from verifier.accounts.auth import principal_of
    from verifier.accounts.service import add_user

    made = {}
    with ctx.db.begin() as session:
        for key, role in (("claims", "insurer_claims"), ("finance1", "finance"), ("finance2", "finance"),
                          ("reviewer", "county_reviewer"), ("supervisor", "insurer_supervisor")):
            made[key] = principal_of(add_user(session, username=f"{prefix}-{key}", password=password,
                                              roles=[role], all_counties=True, clock=ctx.clock))
    return People(**made)


def change_payee(ctx: Any, case_id: str, *, requester: Principal, approver: Principal, account_name: str,
                 bank: str, account_number: str, reason: str = "") -> Any:
    """A payee change requested by one person and approved by another (the only way a payee changes)."""
    from verifier.payments import payees

    asked = tx(ctx, lambda s: payees.request_change(s, case_id, account_name=account_name, bank=bank,
                                                    account_number=account_number, reason=reason,
                                                    principal=requester, vault=ctx.vault, clock=ctx.clock))
    return tx(ctx, lambda s: payees.approve_change(s, asked.id, principal=approver, vault=ctx.vault, clock=ctx.clock))
