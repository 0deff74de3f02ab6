"""A county office's month of work for the export and print tests, through the real services: three notices (东村
still open; 西村 and 北村 closed), a batch released by finance (西村) and one waiting for approval (北村).

The fixture `office` is it built once per test process and copied for each test that asks for it (tests/kept_rows.py),
with the users it added known to the test's `users`: a test module imports this one as `web.officekit` (one module
whichever directory's tests run) and names `office` and `office_month` among its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from factories import COUNTY, make_case, staff
from kept_rows import kept
from village_kit import confirm_posting

from verifier.accounts.auth import principal_of
from verifier.notices import service as notices
from verifier.payments import service as pay
from verifier.store.tables import User


@dataclass
class Office:
    open_notice: str
    closed_notices: list[str]
    released_batch: str
    prepared_batch: str
    cases: dict[str, list[str]]  # by village


def _principal(ctx: Any, user_id: str) -> Any:
    with ctx.db.read() as session:
        return principal_of(session.get(User, user_id))


def build_office(ctx: Any, users: Any) -> Office:
    s = staff(ctx)
    claims = _principal(ctx, users.add("o-claims", "insurer_claims", counties=(COUNTY,)))
    finance1 = _principal(ctx, users.add("o-fin1", "finance", counties=(COUNTY,)))
    finance2 = _principal(ctx, users.add("o-fin2", "finance", counties=(COUNTY,)))
    cases = {"东村": [make_case(ctx, village="东村", head_name="王东一"), make_case(ctx, village="东村")],
             "西村": [make_case(ctx, village="西村", head_name="李西二"), make_case(ctx, village="西村",
                                                                              medical=2_500_000)],
             "北村": [make_case(ctx, village="北村", head_name="赵北三")]}
    today = ctx.clock.today()
    posted = {}
    with ctx.db.begin() as session:
        for village, ids in cases.items():
            for case_id in ids:
                notices.record_review(session, case_id, held_on=today, result="pass", note="村民代表评议通过",
                                      principal=s.clerk, clock=ctx.clock)
    for village in cases:
        with ctx.db.begin() as session:
            posted[village] = notices.post_notice(session, notices.NoticeRequest(
                county_code=COUNTY, town="城关镇", village=village, posted_on=today), principal=s.clerk,
                clock=ctx.clock).id
    ctx.clock.advance(days=10)

    def close_and_batch(village: str) -> str:
        confirm_posting(ctx, posted[village], day=today)  # the county reviewer saw it on the wall
        with ctx.db.begin() as session:
            notices.close_notice(session, posted[village], principal=s.clerk, clock=ctx.clock)
        with ctx.db.begin() as session:
            return pay.create_batch(session, county_code=COUNTY, contract_id=None, principal=claims,
                                    clock=ctx.clock).id

    released = close_and_batch("西村")
    with ctx.db.begin() as session:
        pay.approve(session, released, principal=finance1, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.begin() as session:
        pay.release(session, released, principal=finance2, vault=ctx.vault, clock=ctx.clock)
    prepared = close_and_batch("北村")
    return Office(open_notice=posted["东村"], closed_notices=[posted["西村"], posted["北村"]],
                  released_batch=released, prepared_batch=prepared, cases=cases)


def _kept_office(ctx: Any) -> tuple[Office, dict[str, str]]:
    """The office, and the users it added by name (no one logs in while it is built)."""
    from users_kit import Users

    users = Users(ctx, None)
    return build_office(ctx, users), dict(users.ids)


office_month = kept("office_month", _kept_office)


@pytest.fixture
def office(users, office_month) -> Office:  # type: ignore[no-untyped-def]
    """The office, built by the process's first test that asks for it and kept; the next start from a copy of its
    rows, keys, log and time."""
    built, ids = office_month
    users.ids.update(ids)
    return built
