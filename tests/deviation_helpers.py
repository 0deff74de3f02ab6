"""Helpers of the deviation-consequence tests: people as principals, cases ready to pay, in a batch, or paid
(through the real payment services), and a drawn round holding every case of the period."""

from __future__ import annotations

import hashlib
from typing import Any

from factories import COUNTY, make_case, staff
from sqlalchemy import select

from verifier.accounts.auth import Principal, principal_of
from verifier.accounts.service import add_user
from verifier.store.tables import User
from verifier.cases.workflow import advance, load_case
from verifier.payments import bankfiles
from verifier.payments import service as payments
from verifier.store.tables import Determination


def person(ctx: Any, users: Any, username: str, *roles: str, counties: tuple[str, ...] = (COUNTY,)) -> Principal:
    """A user who can log in (`users.headers(username)`) and their principal for service calls."""
    uid = users.add(username, *roles, counties=counties)
    with ctx.db.read() as session:
        return principal_of(session.get(User, uid))


def ready_case(ctx: Any, **kwargs: Any) -> str:
    """A determined case taken through review, notice and its close (the lifecycle shortcut the payment tests use);
    `kwargs` go to `make_case` (an `account_number`, say)."""
    case_id = make_case(ctx, stage="determined", **kwargs)
    clerk = staff(ctx).clerk
    with ctx.db.begin() as session:
        case = load_case(session, case_id, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=clerk, role="town_clerk", clock=ctx.clock,
                    payload={"shortcut": "tests"})
    return case_id


def relief_of(ctx: Any, case_id: str) -> int:
    with ctx.db.read() as session:
        return session.scalars(select(Determination.relief).where(Determination.case_id == case_id)).one()


def batch(ctx: Any, claims: Principal, case_ids: list[str]) -> str:
    with ctx.db.begin() as session:
        return payments.create_batch(session, county_code=COUNTY, contract_id=None, principal=claims, clock=ctx.clock,
                                     case_ids=case_ids).id


def approve(ctx: Any, finance: Principal, batch_id: str) -> None:
    with ctx.db.begin() as session:
        payments.approve(session, batch_id, principal=finance, vault=ctx.vault, clock=ctx.clock)


def second_finance(ctx: Any, county: str = COUNTY) -> Principal:
    """The county's other finance officer (created once per database): who imports the bank's return of a batch
    the first released."""
    username = f"dh-fin-returns-{county}"
    with ctx.db.begin() as session:
        user = session.query(User).filter_by(username=username).one_or_none()
        if user is None:
            user = add_user(session, username=username, password="factory-password", roles=["finance"],
                            counties=[county], clock=ctx.clock)
        return principal_of(user)


def pay(ctx: Any, claims: Principal, finance: Principal, case_ids: list[str]) -> str:
    """Pay the cases through a batch: prepared, approved and released by `finance`, and the bank's return of success
    imported by another finance officer (who released a batch does not import its return)."""
    batch_id = batch(ctx, claims, case_ids)
    approve(ctx, finance, batch_id)
    importer = second_finance(ctx)
    with ctx.db.begin() as session:
        payments.release(session, batch_id, principal=finance, vault=ctx.vault, clock=ctx.clock)
        refs = [i.reference for i in payments.batch_items(session, batch_id, finance, ctx.vault).items]
        data = ("reference,status,bank_reference,reason\n" + "".join(f"{r},success,B{r},\n" for r in refs)).encode()
        payments.import_return(session, batch_id, bankfiles.parse_return(data),
                               file_sha256=hashlib.sha256(data).hexdigest(), filename="r.csv", principal=importer,
                               clock=ctx.clock)
    return batch_id


def drawn_round(rounds: Any, expected: set[str]) -> str:
    """A drawn round of every case of the period (a minimum rate of 1: the whole population)."""
    created = rounds.create(stratify_by_town=False, min_rate="1.00")
    drawn = set(rounds.draw(created["id"])["case_ids"])
    assert expected <= drawn, (expected, drawn)
    return created["id"]


def drawn_round_api(client: Any, reviewer: dict[str, str], insurer: dict[str, str]) -> tuple[str, list[str]]:
    """The same round through the API for tests without the sampling `rounds` fixture: (round id, its cases)."""
    county_secret, insurer_secret = "11" * 32, "22" * 32
    r = client.post("/api/sampling-rounds", headers=reviewer, json={
        "county_code": COUNTY, "checked_from": "2020-05-01", "checked_to": "2020-06-30", "min_rate": "1.00",
        "stratify_by_town": False})
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]
    for party, secret, headers in (("county", county_secret, reviewer), ("insurer", insurer_secret, insurer)):
        r = client.post(f"/api/sampling-rounds/{round_id}/commitments", headers=headers, json={
            "party": party, "commitment": hashlib.sha256(bytes.fromhex(secret)).hexdigest()})
        assert r.status_code == 201, r.text
    assert client.post(f"/api/sampling-rounds/{round_id}/freeze", headers=reviewer).status_code == 200
    for party, secret, headers in (("county", county_secret, reviewer), ("insurer", insurer_secret, insurer)):
        r = client.post(f"/api/sampling-rounds/{round_id}/reveals", headers=headers,
                        json={"party": party, "secret": secret})
        assert r.status_code == 200, r.text
    return round_id, r.json()["case_ids"]
