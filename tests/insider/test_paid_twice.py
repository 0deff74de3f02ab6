"""A town clerk enters the same household's application again once its case is paid, to have it paid twice."""

from __future__ import annotations

from deviation_helpers import pay, person
from factories import COUNTY, staff
from sqlalchemy import select

from verifier import demo
from verifier.cases.workflow import advance, load_case
from verifier.domain.relief import relief_for
from verifier.store import contracts as contract_store
from verifier.store.tables import Case, Determination


def test_attack_a_paid_household_is_entered_again_for_the_same_cost(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The new application makes a new case (the first is closed) that no batch takes: alone, the clerk pays
    nothing. Only a new check (officers) confirmed by a supervisor who made no part of it can price it, and then on
    the year's cumulative cost less what was paid: the two claims together pay what one claim of their total would
    (the deductible once, the cap once). Whether the cost recorded again is new is for the officers and the
    supervisor, two more people, to see: the determination shows what was already paid."""
    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村", members=3, group="exited_low_standard")
    today = ctx.clock.today()
    first = demo.refer(ctx, team, hh, referred_on=today)
    demo.advance_to(ctx, team, first, hh, "determined", on=today, vehicle="车01")
    with ctx.db.begin() as session:
        case = load_case(session, first, None, for_update=True)
        for action in ("review_pass", "post_notice", "close_notice"):
            advance(session, case, action, actor=s.clerk, role="town_clerk", clock=ctx.clock)
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin = person(ctx, users, "fin1", "finance")
    pay(ctx, claims, fin, [first])
    with ctx.db.read() as session:
        assert session.get(Case, first).status == "paid"
        paid = session.scalars(select(Determination.relief).where(Determination.case_id == first)).one()
    assert paid > 0

    # The clerk enters the household's application again, over the API: a new case, not payable.
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    r = client.post("/api/referrals", headers=users.headers("clerk2"), json={
        "county_code": COUNTY, "id_number": hh.id_numbers[0], "name": hh.head, "town": hh.town, "village": hh.village,
        "household_group": hh.group, "cause": "illness", "amount": "30000.00", "referred_on": today.isoformat()})
    assert r.status_code == 201, r.text
    second = r.json()["case_id"]
    assert second != first
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [second]})
    assert r.status_code == 422 and second in r.text

    # Checked again (the same cost recorded once more) and confirmed: priced on the cumulative cost, less the paid.
    # By other officers: those of the household's last check do not make its next visit (rotation).
    ctx.clock.advance(days=1)
    s2 = staff(ctx, team=1)
    demo.advance_to(ctx, demo.Team(s.clerk, s.supervisor, s2.officer1, s2.officer2), second, hh, "determined",
                    on=ctx.clock.today(), vehicle="车02")
    with ctx.db.read() as session:
        det = session.scalars(select(Determination).where(Determination.case_id == second)).one()
        rule = contract_store.get_contract(session, session.get(Case, second).contract_id).relief_rule("illness",
                                                                                                         hh.group)
    assert det.already_paid == paid and det.basis == 2 * 4_200_000
    assert det.relief + paid == relief_for(det.basis, rule, 3, 0).amount  # one claim of the total, not two
