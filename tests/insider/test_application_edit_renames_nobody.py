"""An application's edit renames nobody. Correcting an application not yet screened used to rewrite its household's
head name, town, village, group and phone, and the stored head member's name, whatever else the household had: a
clerk could enter an application for a household with a determined case (or for one of its members) and "correct"
its name, renaming a member of the household outside any check (the payee at the door is a member under the name on
record). The edit now corrects the household only when the household is the application's own (no other case, no
member but the applicant); otherwise it corrects the application and its case only."""

from __future__ import annotations

from factories import make_case
from insider_kit import COUNTY, household_member
from sqlalchemy import select

from verifier.audit.canonical import decode_entry
from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Household, Member, Referral


def _household(ctx, case_id: str) -> tuple[tuple[str, str, str, str], dict[str, str], bytes | None]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        hh = session.get(Household, session.get(Case, case_id).household_id)
        members = {m.id: m.name for m in session.scalars(select(Member).where(Member.household_id == hh.id))}
        return (hh.head_name, hh.town, hh.village, hh.household_group), members, hh.phone_enc


def _apply(client, users, id_number: str, name: str, cause: str) -> str:  # type: ignore[no-untyped-def]
    r = client.post("/api/referrals", headers=users.headers("clerk"), json={
        "county_code": COUNTY, "id_number": id_number, "name": name, "town": "城关镇", "village": "东村",
        "household_group": "exited_low_standard", "cause": cause, "amount": "3000.00"})
    assert r.status_code == 201, r.text
    return str(r.json()["case_id"])


def _edited(ctx, case_id: str) -> dict:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        entry = session.scalar(select(AuditEntry.entry).where(AuditEntry.subject == case_id,
                                                              AuditEntry.action == "case.application_edited"))
    return decode_entry(entry).payload


def test_attack_the_clerk_renames_a_member_of_a_determined_household_through_an_application(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    determined = make_case(ctx, stage="determined")
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    _, _, child_id = household_member(ctx, determined, head=False)
    before = _household(ctx, determined)
    # a member's ID number, then the head's (each application a case of its own cause)
    for id_number, cause in ((child_id, "disaster"), (household_member(ctx, determined)[2], "schooling")):
        case_id = _apply(client, users, id_number, "钱申请", cause)
        r = client.post(f"/api/cases/{case_id}/application", headers=users.headers("clerk"), json={
            "name": "钱同伙", "town": "城关镇", "village": "西村", "household_group": "exited_low_standard",
            "cause": cause, "amount": "3000.00", "phone": "13800138000"})
        assert r.status_code == 200, r.text
        # The application and its case are corrected; the household and its members are as they were.
        assert _household(ctx, determined) == before
        with ctx.db.read() as session:
            assert session.get(Case, case_id).village == "西村"
            assert session.scalar(select(Referral.name).where(Referral.case_id == case_id)) == "钱同伙"
        payload = _edited(ctx, case_id)
        assert payload["household_kept"] is True and payload["changed"]["name"]["after"] == "钱同伙"


def test_the_applications_own_household_is_corrected_with_it(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A household the application brought (no other case, only the applicant): its head and phone go with the
    edit, as before."""
    case_id = make_case(ctx, stage="received", head_name="孙八")
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/application", headers=users.headers("clerk"), json={
        "name": "孙八一", "town": "城关镇", "village": "西村", "household_group": "exited_low_standard",
        "cause": "illness", "amount": "1500.00", "phone": "13800138000"})
    assert r.status_code == 200, r.text
    (head, _, village, _), members, phone = _household(ctx, case_id)
    assert (head, village, list(members.values())) == ("孙八一", "西村", ["孙八一"])
    assert ctx.vault.open(phone, "household.phone") == "13800138000"
    assert _edited(ctx, case_id)["household_kept"] is False
