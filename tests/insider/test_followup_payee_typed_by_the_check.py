"""The follow-up of a payment to a member the case's own check typed. Whether the payee is a household member (so
the case's check officers may follow the payment up) is asked of the members on record (`checks.on_record`), as at
the door and for a payee change: a name the check's officer typed himself is his word, and he is the one who could
have made it up. Such a payment exists from before the door refused the name (the upgrade to 0063 ties the member to
that check): its follow-up is not left to the check's officers."""

from __future__ import annotations

import secrets

from insider_kit import released_batch, settled
from sqlalchemy import select

from verifier.followups import receipt
from verifier.payments.models import PaymentItem
from verifier.store.tables import Case, Check, Member


def test_attack_the_check_officer_follows_up_a_payment_to_a_member_he_typed(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    def typed(cases: list[str]) -> None:
        with ctx.db.begin() as session:
            check = session.scalars(select(Check).where(Check.case_id == cases[0])).one()
            household = session.scalar(select(Case.household_id).where(Case.id == cases[0]))
            member_id = "mem_typed" + secrets.token_hex(4)
            session.add(Member(id=member_id, household_id=household, name="周代领", id_number_enc=b"x",
                               id_number_bidx=secrets.token_hex(16), relation="other", labour="full",
                               added_by_check_id=check.id))
            check.members = [*check.members, {"member_id": member_id, "name": "周代领", "relation": "other",
                                              "labour": "full"}]
            check.member_count = len(check.members)
            check.payee_name = "周代领"

    bid, cases = released_batch(ctx, client, users, before=typed)
    settled(client, users, bid)
    with ctx.db.read() as session:
        items = {i.case_id: i for i in session.scalars(select(PaymentItem).where(PaymentItem.batch_id == bid))}
        officer = session.scalars(select(Check).where(Check.case_id == cases[0])).one().officer_ids[0]
        typed_one, other = receipt.involved(session, items[cases[0]]), receipt.involved(session, items[cases[1]])
    # the account is the one the check recorded: only the payee's name makes it a payment outside the household
    assert (typed_one.changed, typed_one.outside) == (False, True)
    assert receipt.refused_part(typed_one, officer) is not None
    assert (other.changed, other.outside) == (False, False)
