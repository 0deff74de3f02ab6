"""More second persons held by one person through a second account. Importing a batch's bank return, dismissing an
objection, answering a register finding, recording a county re-check and confirming the supplement it opened each
refused the first person by account alone: whoever had set the other account's password (or had both set by the same
person) could release a batch and, as the colleague, mark its failed transfers paid (the money the bank sent back
hidden); record an objection and dismiss it; explain away a finding on the check they made; re-check their own work.
Each now refuses the linked account too (`recusal.refusals.refuse_linked`): 403 naming the password link, nothing
written, kept on 回避拦截记录 under the step; someone else takes it. The batch page says why instead of the return's
form, as it does to the releaser and to whoever downloaded the bank file."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from deviation_helpers import drawn_round, drawn_round_api, pay, person, ready_case, relief_of
from factories import COUNTY, make_case, staff
from insider_kit import check_body, entries_but_refusals, head_on_record, refusals_of, schedule
from register_kit import confirm_over_api
from sampling.sampling_helpers import rounds  # noqa: F401  (the fixture)
from sqlalchemy import select

from verifier.domain.money import format_yuan
from verifier.notices.models import Objection
from verifier.payments.models import PaymentItem, SupplementaryPayment
from verifier.registers.models import RegisterFinding
from verifier.sampling.models import SamplingResult
from verifier.store.tables import Determination, User


def _set_password_of(ctx: Any, users: Any, account: str, by: str) -> None:
    """`by` last set `account`'s password (and so knew one)."""
    with ctx.db.begin() as session:
        session.get(User, users.ids[account]).password_set_by = users.ids[by]


def _linked_refusal(r: Any, *words: str) -> str:
    assert r.status_code == 403, r.text
    said = str(r.json()["detail"])
    assert "四眼原则" in said and "密码关联" in said and all(w in said for w in words), said
    return said


def _return(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"]] + [
        [ref, status, f"BK{n}" if status == "success" else "", "账户异常" if status == "failed" else ""]
        for n, (ref, status) in enumerate(rows)])
    return out.getvalue().encode()


def test_attack_a_second_account_imports_the_return_of_a_batch_its_holder_released(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    cases = [ready_case(ctx), ready_case(ctx)]
    for name, role in (("claims1", "insurer_claims"), ("fin1", "finance"), ("fin2", "finance"), ("fin3", "finance"),
                       ("fin_pal", "finance"), ("taker_pal", "finance")):
        person(ctx, users, name, role)
    _set_password_of(ctx, users, "fin_pal", by="fin1")  # the releaser knows a password of fin_pal's account
    _set_password_of(ctx, users, "taker_pal", by="fin3")  # so does fin3, who only downloads the bank file
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": cases})
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    url = f"/api/payment-batches/{bid}"
    assert client.post(f"{url}/approve", headers=users.headers("fin2")).status_code == 200
    assert client.post(f"{url}/release", headers=users.headers("fin1")).status_code == 200
    bank = client.get(f"{url}/bank-file", headers=users.headers("fin3"))
    assert bank.status_code == 200
    refs = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    made_up = _return([(refs[0], "success"), (refs[1], "success")])  # one transfer really came back
    before = entries_but_refusals(ctx)

    said = {}
    for who, part in (("fin_pal", "本批次发放人"), ("taker_pal", "下载本批次银行文件的人员")):
        r = client.post(f"{url}/bank-return", headers=users.headers(who),
                        files={"file": ("r.csv", made_up, "text/csv")})
        said[who] = _linked_refusal(r, part, "银行回单须由另一名财务人员导入")
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as s:
        assert set(s.scalars(select(PaymentItem.status).where(PaymentItem.batch_id == bid))) == {"sent"}
    assert [(k["step"], k["subject"], k["why"], k["county_code"])
            for who in ("fin_pal", "taker_pal") for k in refusals_of(ctx, users.ids[who])] == [
        ("bank_return", bid, "password_linked", COUNTY)] * 2

    # The batch page says so instead of the import form; reading it is no attempt.
    for who in ("fin_pal", "taker_pal"):
        page = client.get(f"/payments/{bid}", headers=users.headers(who))
        assert page.status_code == 200, page.text
        assert said[who] in page.text and f'action="/payments/{bid}/bank-return"' not in page.text
        assert len(refusals_of(ctx, users.ids[who])) == 1
    page = client.get(f"/payments/{bid}", headers=users.headers("fin2"))
    assert f'action="/payments/{bid}/bank-return"' in page.text and "密码关联" not in page.text

    # The approver, linked to nobody who sent the money, imports the bank's own return.
    r = client.post(f"{url}/bank-return", headers=users.headers("fin2"),
                    files={"file": ("bank.csv", _return([(refs[0], "success"), (refs[1], "failed")]), "text/csv")})
    assert r.status_code == 200 and (r.json()["succeeded"], r.json()["failed"]) == (1, 1), r.text


def _noticed_objection(ctx: Any, client: Any, users: Any) -> tuple[str, str, str]:
    """A case of 东村 on a notice `clerk` posted today, and an objection `clerk` recorded: (notice, case, objection)."""
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk, today = users.headers("clerk"), ctx.clock.today().isoformat()
    case_id = make_case(ctx, village="东村")
    r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                    json={"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 201, r.text
    r = client.post("/api/notices", headers=clerk,
                    json={"county_code": COUNTY, "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 201, r.text
    notice_id = r.json()["id"]
    r = client.post(f"/api/notices/{notice_id}/objections", headers=clerk,
                    json={"case_id": case_id, "received_on": today, "summary": "该户有经营收入未申报"})
    assert r.status_code == 201, r.text
    return notice_id, case_id, r.json()["id"]


def test_attack_a_second_account_dismisses_the_objection_its_holder_recorded(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    notice_id, case_id, objection = _noticed_objection(ctx, client, users)
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    users.add("reviewer_pal", "county_reviewer", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")  # the clerk set the password of a second clerk account
    _set_password_of(ctx, users, "clerk", by="reviewer_pal")  # the reviewer set the clerk's
    before = entries_but_refusals(ctx)
    for who in ("clerk_pal", "reviewer_pal"):
        r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers(who),
                        json={"outcome": "dismissed", "note": "经核实无经营收入"})
        _linked_refusal(r, "“异议不成立”须由本乡镇其他经办人或县级复核人员决定")
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.get(Objection, objection).status == "open"
    assert [(k["step"], k["case_id"], k["objection_id"], k["why"])
            for who in ("clerk_pal", "reviewer_pal") for k in refusals_of(ctx, users.ids[who])] == [
        ("objection_dismiss", case_id, objection, "password_linked")] * 2
    # Another clerk of the town, linked to nobody, dismisses it.
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk2"),
                    json={"outcome": "dismissed", "note": "经核实无经营收入"})
    assert r.status_code == 200 and r.json()["status"] == "dismissed", r.text


def test_the_linked_account_may_still_uphold_the_objection(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Upholding only sends the case back to be checked again: open to the linked account, as to the recorder."""
    _, _, objection = _noticed_objection(ctx, client, users)
    users.add("clerk_pal", "town_clerk", counties=(COUNTY,))
    _set_password_of(ctx, users, "clerk_pal", by="clerk")
    r = client.post(f"/api/objections/{objection}/resolution", headers=users.headers("clerk_pal"),
                    json={"outcome": "upheld"})
    assert r.status_code == 200 and r.json()["case_status"] == "screened", r.text


def test_attack_a_second_account_explains_away_the_finding_on_its_holders_check(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A supervisor account whose password an officer of the check set explains away the car the register found:
    403, the finding left open; another supervisor answers it."""
    from verifier import demo

    s = staff(ctx)
    team = demo.Team(s.clerk, s.supervisor, s.officer1, s.officer2)
    hh = demo.new_household("城关镇", "东村")
    case_id = demo.refer(ctx, team, hh, referred_on=ctx.clock.today() - timedelta(days=3))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("rev2", "county_reviewer", counties=(COUNTY,))
    data = ("身份证号,号牌号码,车辆价值\r\n" + f"{hh.id_numbers[1]},皖B11111,150000.00\r\n").encode()
    r = client.post("/api/registers/imports", headers=users.headers("rev"),
                    files={"file": ("车辆.csv", data, "application/octet-stream")},
                    data={"county_code": COUNTY, "kind": "vehicle"})
    assert r.status_code == 201, r.text
    assert confirm_over_api(client, users.headers("rev2"), r.json()["import_id"]).status_code == 200
    demo.advance_to(ctx, team, case_id, hh, "checked", on=ctx.clock.today(), vehicle="车001")
    with ctx.db.read() as session:
        finding = session.scalar(select(RegisterFinding.id).where(RegisterFinding.case_id == case_id))
    assert finding is not None
    users.add("sup_pal", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    with ctx.db.begin() as session:  # an officer of the check set the supervisor account's password
        session.get(User, users.ids["sup_pal"]).password_set_by = s.officer2.id
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/findings/{finding}/answer", headers=users.headers("sup_pal"),
                    json={"outcome": "explained", "note": "车辆已转让给他人"})
    _linked_refusal(r, "这次入户核查", "比对发现须由其他审核人员处理")
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.get(RegisterFinding, finding).status == "open"
    assert [(k["step"], k["case_id"], k["why"]) for k in refusals_of(ctx, users.ids["sup_pal"])] == [
        ("register_finding", case_id, "password_linked")]
    r = client.post(f"/api/findings/{finding}/answer", headers=users.headers("sup2"),
                    json={"outcome": "explained", "note": "车辆已转让给他人"})
    assert r.status_code == 200, r.text


def test_attack_a_second_account_records_the_recheck_of_its_holders_case(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A county reviewer account whose password the case's officer set, or that shares its setter with the supervisor
    who confirmed the determination, records "the insurer's result stands": 403, nothing recorded; an independent
    reviewer records it."""
    case_id = make_case(ctx, stage="screened")
    for name, role in (("officer", "field_officer"), ("peer", "field_officer"), ("sup", "insurer_supervisor"),
                       ("admin", "county_reviewer"), ("rev_pal", "county_reviewer"),
                       ("rev_twin", "county_reviewer"), ("reviewer", "county_reviewer"),
                       ("insurer", "insurer_supervisor")):
        users.add(name, role, counties=(COUNTY,))
    _set_password_of(ctx, users, "rev_pal", by="peer")  # an officer of the check, not its recorder
    sup, today = users.headers("sup"), ctx.clock.today().isoformat()
    team = [users.ids["officer"], users.ids["peer"]]
    schedule(client, sup, case_id, team, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("officer"),
                    json=check_body(*head_on_record(ctx, case_id), team, today))
    assert r.status_code == 201, r.text
    r = client.post(f"/api/cases/{case_id}/determination", headers=sup, json={"confirm": True})
    assert r.status_code == 200, r.text
    relief = r.json()["relief"]["amount"]
    round_id, sampled = drawn_round_api(client, users.headers("reviewer"), users.headers("insurer"))
    assert case_id in sampled
    for twin in ("sup", "rev_twin"):  # one person set both passwords, and the supervisor has not changed his yet
        _set_password_of(ctx, users, twin, by="admin")
    with ctx.db.begin() as session:
        session.get(User, users.ids["sup"]).password_change_required = True

    before = entries_but_refusals(ctx)
    for who, part in (("rev_pal", "参加该户入户核查的核查员"), ("rev_twin", "确认该户认定的主管")):
        r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=users.headers(who), json={
            "case_id": case_id, "per_capita_income": "3000.00", "eligible": True, "relief_amount": relief})
        _linked_refusal(r, part, "复核结果须由其他县级复核人员录入")
        assert [(k["step"], k["case_id"], k["why"]) for k in refusals_of(ctx, users.ids[who])] == [
            ("recheck", case_id, "password_linked")]
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.scalar(select(SamplingResult.case_id)) is None
    r = client.post(f"/api/sampling-rounds/{round_id}/results", headers=users.headers("reviewer"), json={
        "case_id": case_id, "per_capita_income": "3000.00", "eligible": True, "relief_amount": relief})
    assert r.status_code == 201, r.text


def test_attack_a_second_account_confirms_the_supplement_on_its_holders_case(ctx, rounds, users) -> None:  # type: ignore[no-untyped-def]
    """The supervisor who confirmed a paid case's determination set a county reviewer account's password: that account
    confirming the supplement a re-check opened on the case is refused (403), as the supervisor would be."""
    claims = person(ctx, users, "claims1", "insurer_claims")
    fin1 = person(ctx, users, "fin1", "finance")
    paid = ready_case(ctx)
    pay(ctx, claims, fin1, [paid])
    relief = relief_of(ctx, paid)
    round_id = drawn_round(rounds, {paid})
    rounds.result(round_id, paid, per_capita_income="2666.67", eligible=True,
                  relief_amount=format_yuan(relief + 3_000_000))
    with ctx.db.read() as s:
        sup_id = s.scalars(select(SupplementaryPayment.id).where(SupplementaryPayment.case_id == paid)).one()
        confirmer = s.scalars(select(Determination.confirmed_by).where(Determination.case_id == paid)).one()
    person(ctx, users, "rev_pal", "county_reviewer")
    person(ctx, users, "rev2", "county_reviewer")
    with ctx.db.begin() as session:
        session.get(User, users.ids["rev_pal"]).password_set_by = confirmer
    r = rounds.client.post(f"/api/supplements/{sup_id}/confirm", headers=users.headers("rev_pal"))
    assert r.status_code == 403, r.text
    assert "确认该户认定的主管" in r.json()["detail"] and "密码关联" in r.json()["detail"], r.text
    with ctx.db.read() as s:
        assert s.get(SupplementaryPayment, sup_id).confirmed_by is None
    assert [(k["step"], k["case_id"], k["why"]) for k in refusals_of(ctx, users.ids["rev_pal"])] == [
        ("supplement_confirm", paid, "password_linked")]
    r = rounds.client.post(f"/api/supplements/{sup_id}/confirm", headers=users.headers("rev2"))
    assert r.status_code == 200, r.text


def test_attack_a_second_account_sends_back_its_holders_check(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An officer of the check set a supervisor account's password: that account sending the check back (what the
    check found discarded) is refused, as the officer would be; another supervisor sends it back."""
    case_id = make_case(ctx, stage="screened")
    for name, role in (("officer", "field_officer"), ("peer", "field_officer"), ("planner", "insurer_supervisor"),
                       ("sup_pal", "insurer_supervisor"), ("sup2", "insurer_supervisor")):
        users.add(name, role, counties=(COUNTY,))
    _set_password_of(ctx, users, "sup_pal", by="peer")
    today, team = ctx.clock.today().isoformat(), [users.ids["officer"], users.ids["peer"]]
    schedule(client, users.headers("planner"), case_id, team, today)
    r = client.post(f"/api/cases/{case_id}/check", headers=users.headers("officer"),
                    json=check_body(*head_on_record(ctx, case_id), team, today))
    assert r.status_code == 201, r.text
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/send-back", headers=users.headers("sup_pal"), json={"reason": "收入未核实"})
    _linked_refusal(r, "这次核查的核查员", "是否退回须由其他审核人员决定")
    assert entries_but_refusals(ctx) == before
    assert [(k["step"], k["case_id"], k["why"]) for k in refusals_of(ctx, users.ids["sup_pal"])] == [
        ("check_send_back", case_id, "password_linked")]
    r = client.post(f"/api/cases/{case_id}/send-back", headers=users.headers("sup2"), json={"reason": "收入未核实"})
    assert r.status_code == 200, r.text


def test_attack_a_second_account_clears_the_shared_account_its_holder_asked_for(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A supervisor asks for two households' payee to become one account; a county reviewer account whose password he
    set clears the hold: refused (403) over the API, and the shared accounts page says why instead of the form;
    another county reviewer clears it."""
    from insider_kit import head_of

    first, second = ready_case(ctx), ready_case(ctx)
    for name, role in (("sup1", "insurer_supervisor"), ("sup2", "insurer_supervisor"), ("rev_pal", "county_reviewer"),
                       ("rev", "county_reviewer")):
        users.add(name, role, counties=(COUNTY,))
    _set_password_of(ctx, users, "rev_pal", by="sup1")
    for case_id in (first, second):
        r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup1"), json={
            "account_name": head_of(client, users.headers("sup1"), case_id), "bank": "农村商业银行",
            "account_number": "6217998877665544332", "reason": "换卡"})
        assert r.status_code == 201, r.text
        r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("sup2"))
        assert r.status_code == 200, r.text
    [group] = client.get("/api/shared-accounts", headers=users.headers("rev")).json()["items"]
    account = group["account"]
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/shared-accounts/{account}/clear", headers=users.headers("rev_pal"), json={"note": "监护人代收"})
    said = _linked_refusal(r, "须由其他县级审核人员核实")
    assert entries_but_refusals(ctx) == before
    assert [(k["step"], k["subject"], k["why"]) for k in refusals_of(ctx, users.ids["rev_pal"])] == [
        ("account_clear", account, "password_linked")]
    page = client.get("/shared-accounts", headers=users.headers("rev_pal"))
    assert page.status_code == 200 and said in page.text and 'class="clear-account"' not in page.text, page.text
    assert len(refusals_of(ctx, users.ids["rev_pal"])) == 1  # reading the page is no attempt
    page = client.get("/shared-accounts", headers=users.headers("rev"))
    assert 'class="clear-account"' in page.text and "密码关联" not in page.text
    r = client.post(f"/api/shared-accounts/{account}/clear", headers=users.headers("rev"), json={"note": "监护人代收"})
    assert r.status_code == 200, r.text


def test_attack_a_second_account_answers_the_need_its_holder_passed_on(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A supervisor passes a household's need to a department; a county reviewer account whose password he set
    records the department's answer: refused (403), the need's page says why instead of the form; another county
    reviewer records it."""
    case_id = ready_case(ctx)
    for name, role in (("sup", "insurer_supervisor"), ("rev_pal", "county_reviewer"), ("rev", "county_reviewer")):
        users.add(name, role, counties=(COUNTY,))
    _set_password_of(ctx, users, "rev_pal", by="sup")
    r = client.post("/api/need-referrals", headers=users.headers("sup"), json={"case_id": case_id, "need": "dibao"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    answer = {"outcome": "partly", "answer": "已申请低保，待审批"}
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/need-referrals/{rid}/answer", json=answer, headers=users.headers("rev_pal"))
    said = _linked_refusal(r, "转交这项需求的人员", "部门答复须由其他县级复核人员录入")
    assert entries_but_refusals(ctx) == before
    assert [(k["step"], k["case_id"], k["referral_id"], k["why"]) for k in refusals_of(ctx, users.ids["rev_pal"])] == [
        ("need_answer", case_id, rid, "password_linked")]
    page = client.get(f"/need-referrals/{rid}", headers=users.headers("rev_pal"))
    assert page.status_code == 200 and said in page.text and f'action="/need-referrals/{rid}/answer"' not in page.text
    assert len(refusals_of(ctx, users.ids["rev_pal"])) == 1
    page = client.get(f"/need-referrals/{rid}", headers=users.headers("rev"))
    assert f'action="/need-referrals/{rid}/answer"' in page.text and "密码关联" not in page.text
    r = client.post(f"/api/need-referrals/{rid}/answer", json=answer, headers=users.headers("rev"))
    assert r.status_code == 200, r.text


def test_attack_a_second_account_confirms_its_holders_role_grant(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """admin1 proposes the finance role for a puppet account; rev_pal, a county reviewer account that set admin1's
    password (the other way round from the proposer setting the confirmer's), confirms it: refused (403), the pending
    grants page says why instead of the button; an unlinked reviewer confirms it."""
    users.add("admin1", "admin")
    users.add("rev_pal", "county_reviewer", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    _set_password_of(ctx, users, "admin1", by="rev_pal")
    r = client.post("/api/users", headers=users.headers("admin1"), json={
        "username": "puppet", "password": "the admin chose this one", "counties": [COUNTY], "roles": ["finance"]})
    assert r.status_code == 201 and r.json()["pending_roles"] == ["finance"], r.text
    [grant] = [g for g in client.get("/api/role-grants", headers=users.headers("rev")).json()
               if g["username"] == "puppet"]
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("rev_pal"))
    said = _linked_refusal(r, "提出人", "须由另一位管理员或县级复核员确认")
    page = client.get("/role-grants", headers=users.headers("rev_pal"))
    assert page.status_code == 200 and said in page.text, page.text
    assert f'action="/role-grants/{grant["id"]}/confirm"' not in page.text
    page = client.get("/role-grants", headers=users.headers("rev"))
    assert f'action="/role-grants/{grant["id"]}/confirm"' in page.text and "密码关联" not in page.text
    r = client.post(f"/api/role-grants/{grant['id']}/confirm", headers=users.headers("rev"))
    assert r.status_code == 200, r.text


def test_attack_a_supervisor_sends_his_second_account_to_the_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """A supervisor may not send himself by hand, nor through his own plan; a field officer account whose password
    he set is his second account: refused by hand (422, nothing written), not offered on the schedule form, left out
    of his plan. Another supervisor may send it."""
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("pal", "field_officer", counties=(COUNTY,))
    for name in ("off2", "off3", "off4"):
        users.add(name, "field_officer", counties=(COUNTY,))
    _set_password_of(ctx, users, "pal", by="sup")
    case_id = make_case(ctx, stage="screened")
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup"), json={
        "officers": [users.ids["off2"], users.ids["pal"]], "visit_on": ctx.clock.today().isoformat(),
        "vehicle": "车01", "reason": "熟悉路线"})
    assert r.status_code == 422, r.text
    [error] = r.json()["errors"]
    assert error["field"] == "officers[1]" and "密码关联" in error["message"], r.text
    assert entries_but_refusals(ctx) == before
    form = client.get(f"/cases/{case_id}/schedule", headers=users.headers("sup")).text
    assert f'value="{users.ids["off2"]}"' in form and f'value="{users.ids["pal"]}"' not in form
    body = {"county_code": COUNTY, "from": ctx.clock.today().isoformat(), "days": 5}
    r = client.post("/api/schedule/plan", headers=users.headers("sup"), json=body)
    assert r.status_code == 200 and r.json()["assignments"], r.text
    assert all(users.ids["pal"] not in a["officers"] for a in r.json()["assignments"]), r.json()
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    r = client.post(f"/api/cases/{case_id}/schedule", headers=users.headers("sup2"), json={
        "officers": [users.ids["off2"], users.ids["pal"]], "visit_on": ctx.clock.today().isoformat(),
        "vehicle": "车01", "reason": "熟悉路线"})
    assert r.status_code == 200, r.text


def test_attack_a_second_account_confirms_the_removal_of_its_holders_declaration(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """An officer asks to remove the relative he declared; an admin account whose password he set confirms it:
    refused (403), the declaration stays in force, the admin page says why instead of the buttons; another admin
    confirms it."""
    case_id = make_case(ctx, stage="screened")
    with ctx.db.read() as session:
        from verifier.store.tables import Case, Member

        household = session.scalar(select(Case.household_id).where(Case.id == case_id))
        member = session.scalars(select(Member).where(Member.household_id == household)).first()
        mother = ctx.vault.open(member.id_number_enc, "member.id_number")
    users.add("son", "field_officer", counties=(COUNTY,))
    users.add("adm_pal", "admin", counties=(COUNTY,))
    users.add("adm2", "admin", counties=(COUNTY,))
    _set_password_of(ctx, users, "adm_pal", by="son")
    son = users.headers("son")
    r = client.post("/api/recusal/mine", headers=son, json={"entries": [{"relation": "parent", "id_number": mother}]})
    assert r.status_code == 200, r.text
    tie = r.json()["entries"][0]["id"]
    r = client.post(f"/api/recusal/entries/{tie}/removal", headers=son, json={"reason": "填错了"})
    assert r.status_code == 201, r.text
    removal_id = r.json()["id"]
    r = client.post(f"/api/recusal/removals/{removal_id}/confirm", headers=users.headers("adm_pal"))
    said = _linked_refusal(r, "申报人", "须由另一位管理员确认")
    assert client.get("/api/recusal/mine", headers=son).json()["entries"][0]["removal_pending"] is True
    page = client.get("/recusal", headers=users.headers("adm_pal"))
    assert page.status_code == 200 and said in page.text, page.text
    assert f'action="/recusal/removals/{removal_id}/confirm"' not in page.text
    page = client.get("/recusal", headers=users.headers("adm2"))
    assert f'action="/recusal/removals/{removal_id}/confirm"' in page.text and "密码关联" not in page.text
    r = client.post(f"/api/recusal/removals/{removal_id}/confirm", headers=users.headers("adm2"))
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
