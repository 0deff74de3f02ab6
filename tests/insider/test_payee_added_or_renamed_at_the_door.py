"""A payee added or renamed at the door. The home check takes only the account of a member it records
(`test_payee_outside_at_the_door.py`), but the members are the officer's own typing: he could add a made-up member
under his own name, or rename one of the household's members to his accomplice's, and name that person payee with
his card; the supervisor confirming sees the members as the check wrote them. A check's payee is now a member the
household already had before this check (matched by ID number), under the name it had; any other goes through the
payee change (reason and county reviewer) once the check is recorded."""

from __future__ import annotations

from factories import make_case, new_id_number
from insider_kit import check_body, household_member, scheduled_visit
from sqlalchemy import delete, func, select

from verifier.audit.models import AuditEntry
from verifier.store.tables import Case, Check, Member

OFFICERS_CARD = "6222020000000088881"


def _written(ctx, case_id: str) -> tuple[str, int, int, int]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        return (session.get(Case, case_id).status,
                session.scalar(select(func.count()).select_from(Check).where(Check.case_id == case_id)),
                session.scalar(select(func.count()).select_from(Member).where(Member.household_id == household)),
                session.scalar(select(func.count()).select_from(AuditEntry)))


def _refused(r, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["payee.account_name"], errors
    for word in ("收款人变更", "县级审核人员", *words):
        assert word in errors[0]["message"], errors


def test_attack_an_officer_adds_a_made_up_member_and_names_him_payee(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    _, _, head_id = household_member(ctx, visit.case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today, account=OFFICERS_CARD)
    body["members"] = [{**body["members"][0], "id_number": head_id},
                       {"name": "赵核查", "id_number": new_id_number(), "relation": "other", "labour": "full"}]
    before = _written(ctx, visit.case_id)
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json={**body, "payee": {**body["payee"], "account_name": "赵核查"}})
    _refused(r, "新登记")
    assert _written(ctx, visit.case_id) == before  # nothing half-written

    # The member himself may be recorded (a household grows); his account comes by a payee change, not at the door.
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text


def test_attack_an_officer_renames_a_member_to_his_accomplice_and_names_him_payee(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    _, _, head_id = household_member(ctx, visit.case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today, account=OFFICERS_CARD)
    head = {**body["members"][0], "id_number": head_id}
    before = _written(ctx, visit.case_id)
    renamed = {**body, "members": [{**head, "name": "钱同伙"}],
               "payee": {**body["payee"], "account_name": "钱同伙"}}
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off, json=renamed)
    _refused(r, "更改")
    assert _written(ctx, visit.case_id) == before

    # The head under the name on record, written with a space as on some bank cards: taken.
    spaced = f"{visit.head[0]} {visit.head[1:]}"
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json={**body, "members": [head], "payee": {**body["payee"], "account_name": spaced}})
    assert r.status_code == 201, r.text


def test_a_household_with_no_member_on_record_takes_only_its_referred_head(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A household known only from its referral (its one member moved out, say): the head its record names is the
    one payee the door takes; a new member, whatever the check records, is not."""
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    _, member_id, _ = household_member(ctx, visit.case_id)
    with ctx.db.begin() as session:
        session.execute(delete(Member).where(Member.id == member_id))
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today, account=OFFICERS_CARD)
    body["members"].append({"name": "孙新增", "id_number": new_id_number(), "relation": "child", "labour": "full"})
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json={**body, "payee": {**body["payee"], "account_name": "孙新增"}})
    _refused(r, "接收时登记的户主")
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off, json=body)
    assert r.status_code == 201, r.text


def test_the_door_rule_keeps_the_payees_other_problems(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The member on record named payee: a short account number or a formula in the bank's name is still refused
    (the on-record rule adds its problems to the payee's, it does not replace them)."""
    visit = scheduled_visit(ctx, client, users, make_case(ctx, stage="screened"))
    _, _, head_id = household_member(ctx, visit.case_id)
    body = check_body(visit.head, visit.head_id, visit.officers, visit.today, account=OFFICERS_CARD)
    body["members"] = [{**body["members"][0], "id_number": head_id}]
    before = _written(ctx, visit.case_id)
    r = client.post(f"/api/cases/{visit.case_id}/check", headers=visit.off,
                    json={**body, "payee": {**body["payee"], "bank": "=HYPERLINK(\"x\")", "account_number": "123"}})
    assert r.status_code == 422, r.text
    assert {e["field"] for e in r.json()["errors"]} == {"payee.bank", "payee.account_number"}, r.text
    assert _written(ctx, visit.case_id) == before
