"""Helpers of the deviation-consequence tests: people as principals, cases ready to pay, in a batch, or paid
(through the real payment services), a drawn round holding every case of the period, a paid case the round finds
ineligible (its recovery open), a relief raised on one reviewer's re-check waiting as a proposal, and a relative's
declared tie to a case's household."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from factories import COUNTY, ready_case  # noqa: F401  (the payment shortcut, named here for these tests)
from recheck_kit import visit_api
from sampling import sampling_helpers
from sqlalchemy import select

from verifier.accounts.auth import Principal, principal_of
from verifier.accounts.service import add_user
from verifier.domain.money import format_yuan
from verifier.store.tables import User
from verifier.payments import bankfiles
from verifier.payments import service as payments
from verifier.payments.models import Recovery
from verifier.store.tables import Case, Determination, Member


def person(ctx: Any, users: Any, username: str, *roles: str, counties: tuple[str, ...] = (COUNTY,)) -> Principal:
    """A user who can log in (`users.headers(username)`) and their principal for service calls."""
    uid = users.add(username, *roles, counties=counties)
    with ctx.db.read() as session:
        return principal_of(session.get(User, uid))


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


@dataclass(frozen=True)
class HeldAndPaid:
    """A round drawn over the API (`round_id`, its cases `drawn`) holding two ready cases: `held` (not paid) and
    `paid`; `reviewer` and `insurer`: the headers of the county reviewer and the insurer supervisor who drew it."""

    round_id: str
    drawn: list[str]
    held: str
    paid: str
    reviewer: dict[str, str]
    insurer: dict[str, str]


def held_and_paid_in_a_round(ctx: Any, client: Any, users: Any) -> HeldAndPaid:
    """Users `reviewer` and `insurer`, `claims1` and `fin1`; two ready cases, the second paid; the round drawn."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    reviewer, insurer = users.headers("reviewer"), users.headers("insurer")
    claims, fin1 = person(ctx, users, "claims1", "insurer_claims"), person(ctx, users, "fin1", "finance")
    held, paid = ready_case(ctx), ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    round_id, drawn = drawn_round_api(client, reviewer, insurer)
    return HeldAndPaid(round_id, drawn, held, paid, reviewer, insurer)


def both_found_ineligible(ctx: Any, client: Any, round_: HeldAndPaid, income: str) -> None:
    """The round's re-check (with its visit) finds both cases ineligible: the held one is held, the paid one's
    recovery opens."""
    for case_id in (round_.held, round_.paid):
        r = client.post(f"/api/sampling-rounds/{round_.round_id}/results", headers=round_.reviewer,
                        json={"case_id": case_id, "per_capita_income": income, "eligible": False,
                              **visit_api(ctx, client, round_.reviewer, round_.round_id, case_id)})
        assert r.status_code == 201, r.text


def recovery_of(ctx: Any, case_id: str) -> Recovery:
    with ctx.db.read() as session:
        return session.scalars(select(Recovery).where(Recovery.case_id == case_id)).one()


def paid_then_found_ineligible(ctx: Any, rounds: Any, claims: Principal, finance: Principal,
                               income: str) -> tuple[str, Recovery]:
    """A ready case paid by `claims` and `finance`, drawn in a round whose re-check finds it ineligible: (the case,
    its open recovery)."""
    case_id = ready_case(ctx)
    pay(ctx, claims, finance, [case_id])
    round_id = drawn_round(rounds, {case_id})
    rounds.result(round_id, case_id, per_capita_income=income, eligible=False)
    return case_id, recovery_of(ctx, case_id)


def declare_sibling(ctx: Any, client: Any, headers: dict[str, str], case_id: str) -> None:
    """The holder of `headers` declares the first member (by id) of the case's household a sibling (回避申报,
    through the API): the tie that bars them from the case's later steps."""
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        member = session.scalars(select(Member).where(Member.household_id == household).order_by(Member.id)).first()
        id_number = ctx.vault.open(member.id_number_enc, "member.id_number")
    r = client.post("/api/recusal/mine", headers=headers,
                    json={"entries": [{"relation": "sibling", "id_number": id_number}]})
    assert r.status_code == 200, r.text


RAISED_BY = 50_000  # how much more (fen) the county's re-check records than the insurer determined


@dataclass(frozen=True)
class RaisedProposal:
    """A ready case (`case_id`, its determined relief `relief`) drawn in a round whose re-check by `reviewer` (the
    county's only reviewer so far) records `higher`, and `sup2`'s re-determination `proceed` at that figure: `answer`,
    the re-determination's JSON as the API gave it back (the proposal waiting in it: `proposal`)."""

    case_id: str
    relief: int
    higher: int
    answer: dict[str, Any]

    @property
    def proposal(self) -> str:
        return str(self.answer["waiting"]["id"])


def raised_proposal(ctx: Any, client: Any, users: Any, income: str) -> RaisedProposal:
    """Users `reviewer` (county reviewer) and `insurer` (insurer supervisor) who draw the round, and `sup2` (insurer
    supervisor); a ready case whose household's per-capita income is `income`, re-checked by `reviewer` at its
    relief plus `RAISED_BY` (a deviation), and re-determined by `sup2` at that figure over the API (200: what the
    answer says is the test's to assert)."""
    users.add("reviewer", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    rounds = sampling_helpers.Rounds(client, users.headers("reviewer"), users.headers("insurer"))
    person(ctx, users, "sup2", "insurer_supervisor")
    case_id = ready_case(ctx)
    relief = relief_of(ctx, case_id)
    round_id = drawn_round(rounds, {case_id})
    higher = relief + RAISED_BY
    assert rounds.result(round_id, case_id, per_capita_income=income, eligible=True,
                         relief_amount=format_yuan(higher))["deviation"] is True
    r = client.post(f"/api/cases/{case_id}/redetermination", headers=users.headers("sup2"),
                    json={"outcome": "proceed", "reason": "按县级复核金额", "relief_amount": format_yuan(higher)})
    assert r.status_code == 200, r.text
    return RaisedProposal(case_id, relief, higher, r.json())
