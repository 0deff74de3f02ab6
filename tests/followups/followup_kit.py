"""Helpers of the follow-up, need-referral and dashboard tests: cases paid through the real payment services."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "payments") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "payments"))

from factories import COUNTY  # noqa: E402
from payment_helpers import ready_case  # noqa: E402
from sqlalchemy import select  # noqa: E402

from verifier.accounts.auth import Principal, principal_of  # noqa: E402
from verifier.accounts.service import add_user  # noqa: E402
from verifier.payments import bankfiles  # noqa: E402
from verifier.payments import service as payments  # noqa: E402
from verifier.payments.models import PaymentItem  # noqa: E402
from verifier.store.tables import User  # noqa: E402


def person(ctx: Any, username: str, *roles: str, counties: tuple[str, ...] = (COUNTY,)) -> Principal:
    """A user (made once per database) as a Principal."""
    with ctx.db.begin() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = add_user(session, username=username, password="correct horse battery", roles=list(roles),
                            counties=list(counties), all_counties=not counties, clock=ctx.clock)
        return principal_of(user)


def pay_cases(ctx: Any, count: int, *, county: str = COUNTY, fail: int = 0, **case_args: Any) -> list[str]:
    """`count` cases made ready to pay, put in one batch, approved, released and settled by the bank (the first
    `fail` of them failed); returns the case ids in reference order."""
    for _ in range(count):
        ready_case(ctx, county=county, **case_args)
    claims = person(ctx, f"fk-claims-{county}", "insurer_claims", counties=(county,))
    fin1 = person(ctx, f"fk-fin1-{county}", "finance", counties=(county,))
    fin2 = person(ctx, f"fk-fin2-{county}", "finance", counties=(county,))
    with ctx.db.begin() as session:
        batch = payments.create_batch(session, county_code=county, contract_id=None, principal=claims,
                                      clock=ctx.clock).id
    with ctx.db.begin() as session:
        payments.approve(session, batch, principal=fin1, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.begin() as session:
        payments.release(session, batch, principal=fin2, vault=ctx.vault, clock=ctx.clock)
    with ctx.db.read() as session:
        items = list(session.execute(select(PaymentItem.reference, PaymentItem.case_id)
                                     .where(PaymentItem.batch_id == batch).order_by(PaymentItem.reference)))
    data = ("reference,status,bank_reference,reason\n" + "".join(
        f"{ref},failed,,账户已销户\n" if i < fail else f"{ref},success,BK{ref},\n"
        for i, (ref, _) in enumerate(items))).encode("utf-8")
    with ctx.db.begin() as session:
        payments.import_return(session, batch, bankfiles.parse_return(data),
                               file_sha256=hashlib.sha256(data).hexdigest(), filename="return.csv", principal=fin1,
                               clock=ctx.clock)
    return [case_id for _, case_id in items]

