"""回避: nothing tied staff to households, so an officer could be sent to his mother's household, a supervisor could
confirm his brother's determination, a finance officer could approve the batch paying his parents. Now each staff
account declares its own ID number and its close relatives' (sealed, with the members' keyed blind index); where one
of them is a member of the household, the person is refused (422, 与本户成员存在回避关系, no word of which member or
how related), the planner passes them over, and a declaration shrinks only with a second admin."""

from __future__ import annotations

import json

from deviation_helpers import person, ready_case
from factories import count_rows, make_case, new_id_number, staff
from insider_kit import COUNTY, check_body, entries_but_refusals, refusals_of, schedule, statements_of
from sqlalchemy import select

from verifier.audit.models import AuditEntry
from verifier.domain.masking import mask_id
from verifier.payments.models import PaymentBatch
from verifier.recusal.models import StaffTie
from verifier.store.tables import Case, Determination, Member, Visit

REFUSAL = "与本户成员存在回避关系"


def _members(ctx, case_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(name, relation, ID number in clear) of the case's household's members, head first."""
    with ctx.db.read() as session:
        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        rows = session.scalars(select(Member).where(Member.household_id == household).order_by(Member.id)).all()
        out = [(m.name, m.relation, ctx.vault.open(m.id_number_enc, "member.id_number")) for m in rows]
    return sorted(out, key=lambda m: m[1] != "head")


def _declare(client, headers, relation: str, id_number: str) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/recusal/mine", headers=headers, json={"entries": [{"relation": relation,
                                                                             "id_number": id_number}]})
    assert r.status_code == 200, r.text
    return r.json()


def _no_leak(text: str, members: list[tuple[str, str, str]]) -> None:
    """The refusal names nobody: no member's name, ID number (whole or masked), and no relation."""
    for name, _, idn in members:
        assert name not in text and idn not in text and mask_id(idn) not in text and idn[-4:] not in text, text
    for word in ("父母", "母亲", "兄弟", "配偶", "子女", "mother", "sibling", "parent"):
        assert word not in text, text


def test_attack_an_officer_is_sent_to_his_mothers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    members = _members(ctx, case_id)
    mother = members[0][2]
    users.add("son", "field_officer", counties=(COUNTY,))
    users.add("other1", "field_officer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    mine = _declare(client, users.headers("son"), "parent", mother)
    assert mine["entries"][0]["id_number"] == mask_id(mother) and mother not in json.dumps(mine)
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    visits, entries = count_rows(ctx, Visit), entries_but_refusals(ctx)

    r = client.post(f"/api/cases/{case_id}/schedule", headers=sup, json={
        "officers": [users.ids["son"], users.ids["other1"]], "visit_on": today, "vehicle": "车01", "reason": "熟悉路线"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [{"field": "officers[0]", "message": "该核查员与本户成员存在回避关系，不能走访或核查本户："
                                                                      "请选择其他核查员"}]
    _no_leak(r.text, members)
    assert (count_rows(ctx, Visit), entries_but_refusals(ctx)) == (visits, entries)  # nothing written
    # but the refusal is on record: the supervisor, the case, the officer sent (a probe leaves a trace)
    assert [(r["subject"], r["step"], r["officers"]) for r in refusals_of(ctx, users.ids["sup"])] == [
        (case_id, "schedule", [users.ids["son"]])]
    # The schedule form says it under the officer chosen.
    from web.pagekit import Pages
    pages = Pages(client, users)
    pages.login("sup")
    pages.get(f"/cases/{case_id}/schedule")
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": "son", "officer_2": "other1", "visit_on": today,
                                                  "vehicle": "车01", "reason": "熟悉路线"})
    assert r.status_code == 422 and "该核查员与本户成员存在回避关系" in r.text, r.text
    assert count_rows(ctx, Visit) == visits

    # Other officers: taken.
    t1 = staff(ctx, COUNTY, 7)
    schedule(client, sup, case_id, [t1.officer1.id, t1.officer2.id], today)


def test_the_planner_passes_a_recused_officer_over_and_does_not_fail(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    brother = _members(ctx, case_id)[0][2]
    users.add("kin", "field_officer", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    _declare(client, users.headers("kin"), "sibling", brother)
    today = ctx.clock.today().isoformat()
    # Many tries: the planner never puts him on that household, and plans it with others.
    r = client.post("/api/schedule/plan", headers=users.headers("sup"),
                    json={"county_code": COUNTY, "from": today, "days": 5})
    assert r.status_code == 200, r.text
    mine = [a for a in r.json()["assignments"] if a["case_id"] == case_id]
    assert mine and users.ids["kin"] not in mine[0]["officers"], r.json()
    r = client.post("/api/schedule/plan", headers=users.headers("sup"),
                    json={"county_code": COUNTY, "from": today, "days": 5, "apply": True})
    assert r.status_code == 200, r.text
    with ctx.db.read() as session:
        visit = session.scalars(select(Visit).where(Visit.case_id == case_id, Visit.active.is_(True))).one()
    assert users.ids["kin"] not in visit.officer_ids


def test_the_planner_leaves_a_case_unplaced_when_only_recused_officers_are_free(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A county whose only officers are both kin of the household: the case is not planned (it waits, said so), the
    plan still answers and plans the others."""
    county = COUNTY  # a fresh database: team 0's two officers are the county's only ones
    case_id = make_case(ctx, stage="screened", county=county, team=0)
    other = make_case(ctx, stage="screened", county=county, team=0)
    s = staff(ctx, county, 0)
    for officer, member in ((s.officer1, 0), (s.officer2, 0)):
        with ctx.db.begin() as session:
            from verifier.recusal import service
            service.declare(session, officer.id, [service.Entry("child", _members(ctx, case_id)[member][2])],
                            principal=officer, vault=ctx.vault, clock=ctx.clock)
    users.add("sup9", "insurer_supervisor", counties=(county,))
    r = client.post("/api/schedule/plan", headers=users.headers("sup9"),
                    json={"county_code": county, "from": ctx.clock.today().isoformat(), "days": 3})
    assert r.status_code == 200, r.text
    planned = {a["case_id"] for a in r.json()["assignments"]}
    assert case_id not in planned and other in planned, r.json()
    assert case_id in {u["case_id"] for u in r.json()["unplaced"]}


def test_attack_an_officer_records_the_check_of_his_own_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Scheduled before he declared (or by someone who did not know): the check itself is refused, for him and for
    his partner (the team), nothing written; the message says nothing of whom."""
    case_id = make_case(ctx, stage="screened")
    members = _members(ctx, case_id)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today = ctx.clock.today().isoformat()
    schedule(client, users.headers("sup"), case_id, [users.ids["off1"], users.ids["off2"]], today)
    body = check_body(members[0][0], members[0][2], [users.ids["off1"], users.ids["off2"]], today)
    himself = new_id_number()
    body["members"].append({"name": "核查员本人", "id_number": himself, "relation": "child", "labour": "full"})
    _declare(client, users.headers("off1"), "self", himself)  # the check names him as a member of the household
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("off1"), json=body)
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert {"field": "recusal", "message": "回避：您与本户成员存在回避关系（本人或申报的近亲属），不能办理本户的此项业务，"
                                           "请交由其他人员办理"} in r.json()["errors"]
    assert himself not in r.text and mask_id(himself) not in r.text
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("off2"), json=body)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} >= {"officers"}, r.text
    assert REFUSAL in r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "scheduled"


def test_attack_a_supervisor_confirms_his_brothers_determination(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    members = _members(ctx, case_id)
    users.add("bro", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    _declare(client, users.headers("bro"), "sibling", members[0][2])
    # The preview is read (a supervisor screens the queue), confirming is refused, nothing written.
    assert client.post(f"/api/cases/{case_id}/determination", headers=users.headers("bro"),
                       json={"confirm": False}).status_code == 200
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("bro"), json={"confirm": True})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, members)
    assert count_rows(ctx, Determination) == 0
    # The page says it where he would confirm, in Chinese, naming no one.
    from web.pagekit import Pages
    pages = Pages(client, users)
    pages.login("bro")
    pages.get(f"/cases/{case_id}/determination")
    r = pages.post(f"/cases/{case_id}/determination", {})
    assert r.status_code == 422 and "回避：您与本户成员存在回避关系" in r.text, r.text
    said = r.text.split("回避：")[1].split("<")[0]  # the refusal itself (the page shows the household, as before)
    assert "兄弟" not in said and members[0][0] not in said and mask_id(members[0][2]) not in said, said
    assert count_rows(ctx, Determination) == 0
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup2"), json={"confirm": True})
    assert r.status_code == 200, r.text


def test_attack_finance_approves_the_payee_change_and_the_batch_paying_his_parents(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = ready_case(ctx)
    members = _members(ctx, case_id)
    person(ctx, users, "claims1", "insurer_claims")
    person(ctx, users, "fin1", "finance")
    person(ctx, users, "fin2", "finance")
    person(ctx, users, "sup", "insurer_supervisor")
    _declare(client, users.headers("fin1"), "parent", members[1][2])

    # A payee change to the head's new card, asked by the supervisor: fin1 may not approve it. (The head, as the
    # referral brought him: a member the check added is no member on record for this case, checks/on_record.py.)
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup"), json={
        "account_name": members[0][0], "bank": "农村商业银行", "account_number": "6222020200199887766"})
    assert r.status_code == 201, r.text
    change = r.json()["id"]
    r = client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("fin1"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, [m for m in members if m[0] != members[0][0]])
    # (fin1 does not ask for one either)
    r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("fin1"), json={
        "account_name": members[0][0], "bank": "农村商业银行", "account_number": "6222020200199887700"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert client.post(f"/api/payee-changes/{change}/approve", headers=users.headers("fin2")).status_code == 200

    # The batch holding the case, with another: fin1 neither approves nor releases it.
    other = ready_case(ctx)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": [other, case_id]})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin1"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, members)
    with ctx.db.read() as session:
        assert session.get(PaymentBatch, bid).status == "prepared"
    person(ctx, users, "fin3", "finance")
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin3")).status_code == 200
    r = client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin1"))
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    # fin2 approved the payee change, so the batch is released by someone else again (that rule still holds).
    r = client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin2"))
    assert r.status_code == 403, r.text


def test_attack_a_person_deletes_his_own_declaration_alone(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    mother = _members(ctx, case_id)[0][2]
    users.add("son", "field_officer", "admin", counties=(COUNTY,))  # an officer who also administers accounts
    users.add("adm1", "admin", counties=(COUNTY,))
    users.add("adm2", "admin", counties=(COUNTY,))
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("other1", "field_officer", counties=(COUNTY,))
    son = users.headers("son")
    tie = _declare(client, son, "parent", mother)["entries"][0]["id"]

    # No route deletes: only a removal asked for, which changes nothing until another admin confirms.
    assert client.delete(f"/api/recusal/entries/{tie}", headers=son).status_code in (404, 405)
    assert client.post(f"/api/recusal/entries/{tie}/removal", headers=son, json={"reason": ""}).status_code == 422
    r = client.post(f"/api/recusal/entries/{tie}/removal", headers=son, json={"reason": "填错了"})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    removal = r.json()["id"]
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [users.ids["son"], users.ids["other1"]], "visit_on": ctx.clock.today().isoformat(),
        "vehicle": "车01", "reason": "x"})
    assert r.status_code == 422 and REFUSAL in r.text  # still in force while pending
    # He confirms it himself (he is an admin): refused.
    r = client.post(f"/api/recusal/removals/{removal}/confirm", headers=son)
    assert r.status_code == 403 and "本人" in r.json()["detail"], r.text
    # Nor does he add it again under another relation and drop it: the same person twice is refused.
    r = client.post("/api/recusal/mine", headers=son, json={"entries": [{"relation": "other", "id_number": mother}]})
    assert r.status_code == 422, r.text
    # Another admin refuses: it stays.
    assert client.post(f"/api/recusal/removals/{removal}/refuse", headers=users.headers("adm1")).status_code == 200
    assert client.get("/api/recusal/mine", headers=son).json()["entries"][0]["removal_pending"] is False

    # An admin who asks for a removal does not confirm it either; a second admin does.
    r = client.post(f"/api/recusal/entries/{tie}/removal", headers=users.headers("adm1"), json={"reason": "关系有误"})
    assert r.status_code == 201, r.text
    removal = r.json()["id"]
    r = client.post(f"/api/recusal/removals/{removal}/confirm", headers=users.headers("adm1"))
    assert r.status_code == 403 and "另一位管理员" in r.json()["detail"], r.text
    # An officer (not an admin) has no route to confirm.
    assert client.post(f"/api/recusal/removals/{removal}/confirm",
                       headers=users.headers("other1")).status_code == 403
    r = client.post(f"/api/recusal/removals/{removal}/confirm", headers=users.headers("adm2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    assert client.get("/api/recusal/mine", headers=son).json()["entries"] == []
    with ctx.db.read() as session:
        kept = session.scalars(select(StaffTie)).one()  # never deleted: removed, by whom
        assert kept.removed_by == users.ids["adm2"]
        audit = [json.loads(e.entry) for e in session.scalars(select(AuditEntry).where(
            AuditEntry.action.like("recusal.%"), AuditEntry.action != "recusal.refused").order_by(AuditEntry.idx))]
    assert [e["action"] for e in audit] == ["recusal.declare", "recusal.removal_requested", "recusal.removal_refused",
                                            "recusal.removal_requested", "recusal.removal_confirmed"]
    assert all(e["payload"]["id_number"] == mask_id(mother) for e in audit)
    assert mother not in json.dumps(audit)


def test_an_admin_adds_for_a_person_and_it_binds_at_once(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked")
    members = _members(ctx, case_id)
    users.add("adm1", "admin", counties=(COUNTY,))
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    users.add("far", "admin", counties=("340299",))
    body = {"entries": [{"relation": "spouse", "id_number": members[0][2]}]}
    # An admin of another county does not see the account at all.
    assert client.post(f"/api/recusal/users/{users.ids['sup1']}", headers=users.headers("far"),
                       json=body).status_code == 404
    # Nobody else adds for a person.
    assert client.post(f"/api/recusal/users/{users.ids['sup1']}", headers=users.headers("sup1"),
                       json=body).status_code == 403
    r = client.post(f"/api/recusal/users/{users.ids['sup1']}", headers=users.headers("adm1"), json=body)
    assert r.status_code == 200 and r.json()["entries"][0]["by_admin"] is True, r.text
    r = client.post(f"/api/cases/{case_id}/determination", headers=users.headers("sup1"), json={"confirm": True})
    assert r.status_code == 422 and REFUSAL in r.text
    # A bad number is named in Chinese on the page; nothing written.
    r = client.post("/api/recusal/mine", headers=users.headers("sup1"),
                    json={"entries": [{"relation": "spouse", "id_number": "123"}, {"relation": "cousin",
                                                                                   "id_number": members[1][2]}]})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {
        "entries[0].id_number", "entries[1].relation"}, r.text
    assert count_rows(ctx, StaffTie) == 1


def test_the_pages_show_the_declaration_masked_and_the_admin_view(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    case_id = make_case(ctx, stage="screened")
    mother = _members(ctx, case_id)[0][2]
    users.add("son", "field_officer", counties=(COUNTY,))
    users.add("adm1", "admin", counties=(COUNTY,))
    users.add("adm2", "admin", counties=(COUNTY,))
    pages = Pages(client, users)
    pages.login("son")
    html = pages.get("/account/recusal").text
    assert "我的回避申报" in html and "您还没有申报" in html
    r = pages.post("/account/recusal", {"relation": "parent", "id_number": "34022319700101123"})
    assert r.status_code == 422 and "应为 18 位，现为 17 位" in r.text, r.text
    r = pages.post("/account/recusal", {"relation": "parent", "id_number": mother})
    assert r.status_code in (200, 303), r.text
    html = pages.get("/account/recusal").text
    assert mask_id(mother) in html and mother not in html and "父母" in html
    with ctx.db.read() as session:
        tie = session.scalars(select(StaffTie)).one().id
    r = pages.post(f"/account/recusal/{tie}/removal", {"reason": "填错了"})
    assert r.status_code in (200, 303), r.text
    assert "待另一位管理员确认" in pages.get("/account/recusal").text

    admin = Pages(client, users)
    admin.login("adm1")
    html = admin.get("/recusal").text
    assert "回避申报管理" in html and mask_id(mother) in html and mother not in html and "填错了" in html
    assert "/recusal/removals/" in html
    other = Pages(client, users)
    other.login("adm2")
    with ctx.db.read() as session:
        from verifier.recusal.models import StaffTieRemoval
        removal = session.scalars(select(StaffTieRemoval)).one().id
    r = other.post(f"/recusal/removals/{removal}/confirm", {})
    assert r.status_code in (200, 303), r.text
    assert r.headers.get("location", "").startswith("/recusal") or "已确认删除" in r.text
    assert "您还没有申报" in pages.get("/account/recusal").text



def test_attack_a_clerk_records_the_village_review_of_her_fathers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="determined")
    members = _members(ctx, case_id)
    users.add("daughter", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    _declare(client, users.headers("daughter"), "parent", members[0][2])
    body = {"held_on": ctx.clock.today().isoformat(), "result": "pass", "note": ""}
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("daughter"), json=body)
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, members)
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "determined"
    r = client.post(f"/api/cases/{case_id}/village-review", headers=users.headers("clerk2"), json=body)
    assert r.status_code in (200, 201), r.text


def test_attack_a_county_reviewer_rechecks_his_sons_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from deviation_helpers import drawn_round_api

    case_id = make_case(ctx, stage="determined")
    members = _members(ctx, case_id)
    users.add("father", "county_reviewer", counties=(COUNTY,))
    users.add("insurer", "insurer_supervisor", counties=(COUNTY,))
    round_id, sampled = drawn_round_api(client, users.headers("father"), users.headers("insurer"))
    assert case_id in sampled
    _declare(client, users.headers("father"), "child", members[0][2])
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=users.headers("father"), json={
        "case_id": case_id, "per_capita_income": "3000.00", "eligible": True, "relief_amount": "0.00"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, members)


def test_attack_a_reviewer_vouches_for_the_wall_of_a_notice_listing_his_brother(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from village_kit import wall_photo

    users.add("clerk", "town_clerk", counties=(COUNTY,))
    users.add("rev-kin", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    case_id = make_case(ctx, village="东村")
    members = _members(ctx, case_id)
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    assert client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                       json={"held_on": today, "result": "pass", "note": ""}).status_code == 201
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]
    r = client.post(f"/api/notices/{notice_id}/photos", headers=users.headers("rev2"),
                    files={"file": ("公示张贴.jpg", wall_photo(ctx.clock.today()), "image/jpeg")})
    assert r.status_code == 201, r.text
    _declare(client, users.headers("rev-kin"), "sibling", members[0][2])
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("rev-kin"),
                    json={"note": "查阅了纸质记录"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    _no_leak(r.text, members)
    r = client.post(f"/api/notices/{notice_id}/posting-confirmation", headers=users.headers("rev2"),
                    json={"note": "查阅了纸质记录"})
    assert r.status_code == 200, r.text


def test_a_meeting_recorded_by_a_kin_clerk_names_the_row_and_writes_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    """A meeting's rows: the household of the clerk's relative is refused by its row (she knows her own family; the
    message still names no member), nothing of the meeting is written; without that row it is recorded."""
    import pytest
    from village_kit import attendance

    from verifier.domain.errors import ValidationFailed
    from verifier.notices import meetings
    from verifier.notices.models import VillageMeeting
    from verifier.recusal import service

    ids = [make_case(ctx, village="东村") for _ in range(2)]
    clerk = staff(ctx).clerk
    kin = _members(ctx, ids[1])
    with ctx.db.begin() as session:
        service.declare(session, clerk.id, [service.Entry("spouse", kin[0][2])], principal=clerk, vault=ctx.vault,
                        clock=ctx.clock)

    def request(case_ids):  # type: ignore[no-untyped-def]
        return meetings.MeetingRequest(
            county_code=COUNTY, town="城关镇", village="东村", held_on=ctx.clock.today(), venue="村委会",
            minutes="逐户评议。", **attendance(ctx, "村支书 李明\n村民代表 王芳、赵刚\n村主任 钱进\n村民代表 孙立\n村民代表 周敏"),
            entries=[meetings.MeetingEntry(i, "pass") for i in case_ids])

    with pytest.raises(ValidationFailed) as refused, ctx.db.begin() as session:
        meetings.record_meeting(session, request(ids), principal=clerk, clock=ctx.clock)
    assert [(e.field, e.row) for e in refused.value.errors] == [("result_2", 2)]
    assert REFUSAL in refused.value.errors[0].message and kin[0][2] not in str(refused.value)
    assert count_rows(ctx, VillageMeeting) == 0
    with ctx.db.begin() as session:
        meetings.record_meeting(session, request(ids[:1]), principal=clerk, clock=ctx.clock)
    assert count_rows(ctx, VillageMeeting) == 1


def _tie_reads(statements: list[str]) -> list[str]:
    """The statements that read the declarations apart from the session lookup (which says whether the caller has
    any, `accounts/sessions.py`)."""
    return [s for s in statements if "staff_tie" in s and "user_session" not in s]


def test_a_check_by_officers_without_ties_sends_no_recusal_statement(ctx, client, users, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The guard costs the common case nothing: whether the visit's officers declared anything is read with the
    case (`checks/recording.py`, `officers_tied`), the members are matched only when one has. An officer with a
    declaration that matches nobody of the household is matched (a read of the ties), and records the check."""
    from verifier.recusal import guard

    calls: list[object] = []
    real = guard._ties

    def spy(session, user_ids):  # type: ignore[no-untyped-def]
        calls.append(sorted(user_ids))
        return real(session, user_ids)

    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today, officers = ctx.clock.today().isoformat(), [users.ids["off1"], users.ids["off2"]]
    plain, tied = make_case(ctx, stage="screened"), make_case(ctx, stage="screened")
    for case_id in (plain, tied):
        schedule(client, users.headers("sup"), case_id, officers, today)
    off1 = users.headers("off1")
    monkeypatch.setattr(guard, "_ties", spy)
    body = check_body(*_members(ctx, plain)[0][::2], officers, today)
    r: list[object] = []
    statements = statements_of(ctx, lambda: r.append(client.post(f"/api/cases/{plain}/check", headers=off1,
                                                                  json=body)))
    assert r[0].status_code == 201, r[0].text  # type: ignore[attr-defined]
    assert _tie_reads(statements) == [] and calls == [], statements
    # The partner declares a stranger: the next check is matched (and passes: the stranger is no member).
    _declare(client, users.headers("off2"), "sibling", new_id_number())
    body = check_body(*_members(ctx, tied)[0][::2], officers, today)
    statements = statements_of(ctx, lambda: r.append(client.post(f"/api/cases/{tied}/check", headers=off1,
                                                                  json=body)))
    assert r[1].status_code == 201, r[1].text  # type: ignore[attr-defined]
    assert len(_tie_reads(statements)) == 1 and calls == [sorted(officers)], statements


def test_a_tie_declared_mid_session_is_honoured_on_the_very_next_check(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """No Principal kept from before: the officer's own session (the same token) and his partner's declarations made
    after a first request count at the next check, on the check's fast path as on the route's."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("off1", "field_officer", counties=(COUNTY,))
    users.add("off2", "field_officer", counties=(COUNTY,))
    today, officers = ctx.clock.today().isoformat(), [users.ids["off1"], users.ids["off2"]]
    mine, partners = make_case(ctx, stage="screened"), make_case(ctx, stage="screened")
    for case_id in (mine, partners):
        schedule(client, users.headers("sup"), case_id, officers, today)
    off1, off2 = users.headers("off1"), users.headers("off2")
    assert client.get(f"/api/cases/{mine}", headers=off1).status_code == 200  # the session in use, no tie yet
    me = client.get("/api/auth/me", headers=off1)
    assert me.status_code == 200
    for case_id, who, relation, message in ((mine, off1, "parent", "recusal"), (partners, off2, "child", "officers")):
        members = _members(ctx, case_id)
        _declare(client, who, relation, members[0][2])
        body = check_body(members[0][0], members[0][2], officers, today)
        r = client.post(f"/api/cases/{case_id}/check", headers=off1, json=body)
        assert r.status_code == 422 and REFUSAL in r.text, r.text
        assert message in {e["field"] for e in r.json()["errors"]}, r.text
        _no_leak(r.text, members)
        with ctx.db.read() as session:
            assert session.get(Case, case_id).status == "scheduled"
