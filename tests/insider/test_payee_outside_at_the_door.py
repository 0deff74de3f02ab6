"""A payee outside the household named at the door. A payee change to a name that is no household member needs a
reason and a county reviewer; the home check's own payee needed neither: the officer who records the check could
type "李代收" and his own card, the supervisor confirming the determination is shown no payee at all, and the batch
lists only changed payees, so the relief went to the officer's card with nobody having been asked about the name.
The check now takes only a member's account (as this check records the members); a guardian or relative receiving
for the household goes through the payee change, with its reason and the county reviewer."""

from __future__ import annotations

from factories import make_case
from insider_kit import COUNTY, check_body, scheduled_visit
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Check

OFFICERS_CARD = "6222020000000077771"


def _written(ctx, case_id: str) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return (session.get(Case, case_id).status,
                session.scalar(select(func.count()).select_from(Check).where(Check.case_id == case_id)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def test_attack_an_officer_names_his_own_card_under_another_name_at_the_door(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("fin", "finance", counties=(COUNTY,))
    before = _written(ctx, visit.case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today, account=OFFICERS_CARD)
    for name in ("李代收", "赵核查"):  # a made-up 代收, or the officer's own name
        r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                        json={**body, "payee": {**body["payee"], "account_name": name}})
        assert r.status_code == 422, r.text
        errors = r.json()["errors"]
        assert [e["field"] for e in errors] == ["payee.account_name"], errors
        assert "不是本户家庭成员" in errors[0]["message"] and "变更收款人" in errors[0]["message"], errors
        assert "县级审核人员" in errors[0]["message"], errors
    assert _written(ctx, visit.case_id) == before  # nothing half-written, the case still waits for its check

    # The head's own account, written with a space as on some bank cards, is the household's: taken.
    spaced = f"{visit.head[0]} {visit.head[1:]}"
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json={**body, "payee": {**body["payee"], "account_name": spaced}})
    assert r.status_code == 201, r.text


def test_a_guardian_receiving_goes_through_the_change_and_the_county_reviewer(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The legitimate 代收: the check names no account, the supervisor asks for the change with its reason, and only
    the county reviewer approves it."""
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("fin", "finance", counties=(COUNTY,))
    body = {**check_body(visit.head, visit.head_id, visit.officers, visit.today), "payee": None}
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{visit.case_id}/determination", headers=visit.sup, json={"confirm": True})
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{visit.case_id}/payee", headers=visit.sup, json={
        "account_name": "李监护", "bank": "农村商业银行", "account_number": "6222020000000066661",
        "reason": "户主年老，由女儿李监护代收"})
    assert r.status_code == 201 and r.json()["approver_roles"] == ["county_reviewer"], r.text
    change = r.json()["id"]
    assert client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("fin")).status_code == 403
    assert client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("rev")).status_code == 200
