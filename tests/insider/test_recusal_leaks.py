"""回避 refusals that told others who is related, and steps the guard did not reach.

- A refusal (`recusal.refused`) was filed under the case or household, so the case's history (its page, the API's
  case read) and the household file showed "回避…被拒绝办理 — 经办人 X" to every reader: who is related to whom. It stays
  in the audit log and 回避拦截记录 only.
- A batch's preparer's family's case was listed among 制单时未列入的案件 with a reason saying 回避, for six roles to read.
- Clearing a 一账多户 hold had no 回避 guard; moving a member refused before finding the households (another county's
  household answered 422, and left a refusal in that county's audit).
- Whoever downloaded a batch's bank file could import its return, leaving out the optional account column.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from deviation_helpers import person, ready_case
from factories import COUNTY, make_case
from insider_kit import (declare_ties, entries_but_refusals, household_member, moved_out_member, recused_cases,
                         redate_move, refusals_of)
from sqlalchemy import func, select

from verifier.audit.models import AuditEntry
from verifier.payments.models import AccountClearance, BankReturn
from verifier.store.tables import Case

REFUSAL = "与本户成员存在回避关系"
SHOWN = "回避：因与本户成员存在回避关系被拒绝办理"  # the refusal's label wherever an entry is listed


def test_a_refusal_is_not_in_the_case_history_nor_the_household_file(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    users.add("kin", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="received")
    household, _, relative = household_member(ctx, case_id)
    declare_ties(client, users.headers("kin"), relative)
    r = client.post(f"/api/cases/{case_id}/screening", headers=users.headers("kin"),
                    json={"decision": "pass", "reason": ""})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["screening"]
    # a household-level refusal too (a merge into another household)
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    declare_ties(client, users.headers("sup"), relative)
    other_household, _, _ = household_member(ctx, make_case(ctx))
    r = client.post(f"/api/households/{other_household}/merge", headers=users.headers("sup"),
                    json={"from_household_id": household, "reason": "合户"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert [e["subject"] for e in refusals_of(ctx, users.ids["sup"])] == [household]

    r = client.get(f"/api/cases/{case_id}", headers=users.headers("clerk2"))
    assert r.status_code == 200, r.text
    assert "recusal.refused" not in r.text and users.ids["kin"] not in r.text
    assert r.json()["history"], r.text  # the history is there (the case's creation), without the refusal
    r = client.get(f"/api/households/{household}/file", headers=users.headers("rev"))
    assert r.status_code == 200, r.text
    assert "recusal.refused" not in r.text and users.ids["sup"] not in r.text
    pages = Pages(client, users)
    for who in ("clerk2", "rev"):
        pages.login(who)
        case_page = pages.get(f"/cases/{case_id}").text
        assert SHOWN not in case_page
        assert SHOWN not in pages.get(f"/households/{household}").text
    # the county reviewer still finds both in the audit log and the refusals' page
    pages.login("rev")
    assert pages.get("/audit?action=recusal.refused").text.count(SHOWN) >= 2
    assert "kin" in pages.get("/recusal-refusals").text


def test_the_preparers_family_case_is_left_out_without_saying_why_to_others(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    person(ctx, users, "kin", "insurer_claims")
    users.add("fin", "finance", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    father, other = ready_case(ctx), ready_case(ctx)
    declare_ties(client, users.headers("kin"), household_member(ctx, father)[2])
    r = client.post("/api/payment-batches", headers=users.headers("kin"),
                    json={"county_code": COUNTY, "case_ids": [father, other]})
    assert r.status_code == 201, r.text
    batch = r.json()
    # the preparer is told, neutrally
    assert [(s["case_id"], s["reason"]) for s in batch["skipped"]] == [(father, "须由其他经办人制单")]
    assert "回避" not in json.dumps(batch, ensure_ascii=False)
    # the batch's creation entry (read by six roles) does not list the case; the refusal keeps the truth
    with ctx.db.read() as session:
        created = json.loads(session.scalar(select(AuditEntry.entry).where(
            AuditEntry.subject == batch["id"], AuditEntry.action == "payment_batch.create")))["payload"]
    assert created["skipped"] == [] and father not in json.dumps(created)
    assert [(e["step"], e["case_id"]) for e in refusals_of(ctx, users.ids["kin"])] == [("batch_prepare", father)]
    with ctx.db.read() as session:
        number = session.scalar(select(Case.number).where(Case.id == father))
    pages = Pages(client, users)
    for who in ("fin", "rev"):
        pages.login(who)
        page = pages.get(f"/payments/{batch['id']}").text
        main = page.split("<main", 1)[-1]
        assert number not in main and "回避" not in main and "制单时未列入" not in main, main[main.find(number) - 300:][:600]
    # his family's case alone: refused, neutrally
    r = client.post("/api/payment-batches", headers=users.headers("kin"),
                    json={"county_code": COUNTY, "case_ids": [father]})
    assert r.status_code == 422 and "须由其他经办人制单" in r.text and "回避" not in r.text, r.text


def test_attack_a_reviewer_clears_the_shared_account_of_his_brothers_household(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from insider_kit import head_of

    shared = "6217998877665544332"
    first, second = ready_case(ctx), ready_case(ctx)
    users.add("sup1", "insurer_supervisor", counties=(COUNTY,))
    users.add("sup2", "insurer_supervisor", counties=(COUNTY,))
    users.add("kin", "county_reviewer", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    for case_id in (first, second):
        r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("sup1"), json={
            "account_name": head_of(client, users.headers("sup1"), case_id), "bank": "农村商业银行",
            "account_number": shared, "reason": "换卡"})
        assert r.status_code == 201, r.text
        r = client.post(f"/api/payee-changes/{r.json()['id']}/approve", headers=users.headers("sup2"))
        assert r.status_code == 200, r.text
    declare_ties(client, users.headers("kin"), household_member(ctx, second)[2])
    [group] = client.get("/api/shared-accounts", headers=users.headers("rev")).json()["items"]
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/shared-accounts/{group['account']}/clear", headers=users.headers("kin"),
                    json={"note": "两户均由监护人代收，已核实"})
    assert r.status_code == 422 and REFUSAL in r.text, r.text
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(AccountClearance)) == 0
    assert [e["step"] for e in refusals_of(ctx, users.ids["kin"])] == ["account_clear"]
    r = client.post(f"/api/shared-accounts/{group['account']}/clear", headers=users.headers("rev"),
                    json={"note": "两户均由监护人代收，已核实"})
    assert r.status_code == 200, r.text


def test_a_move_in_another_county_is_not_found_and_leaves_no_refusal(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("far", "insurer_supervisor", counties=("340999",))
    case_id = make_case(ctx)
    household, member_id, relative = household_member(ctx, case_id, head=False)
    declare_ties(client, users.headers("far"), relative)
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/households/{household}/members/{member_id}/move", headers=users.headers("far"),
                    json={"reason": "分户", "new_household": True})
    assert r.status_code == 404, r.text
    assert refusals_of(ctx, users.ids["far"]) == [] and entries_but_refusals(ctx) == before


def test_a_move_at_half_past_midnight_on_new_years_day_counts_in_the_new_year(ctx) -> None:  # type: ignore[no-untyped-def]
    """Beijing 1 January 00:30 is 31 December 16:30 in UTC: the move is of the new year. Moves count from 1 January
    of the year before the case's (`recusal.guard.YEARS_BACK`): that is the midnight that matters."""
    moved = moved_out_member(ctx, "newyear", lambda year: datetime(year - 2, 12, 31, 16, 30, tzinfo=UTC))
    assert recused_cases(ctx, moved, [moved.case_id]) == {moved.case_id: moved.household}
    # a minute before midnight in Beijing: two years before, no longer a tie
    redate_move(ctx, moved, datetime(moved.year - 2, 12, 31, 15, 59, tzinfo=UTC))
    assert recused_cases(ctx, moved, [moved.case_id]) == {}


def test_attack_finance_downloads_the_bank_file_then_writes_the_answer_without_accounts(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """The return's account column is optional: who took the bank file (knows what was sent) does not also write
    what the bank answered."""
    from web.pagekit import Pages

    cases = [ready_case(ctx)]
    for name, role in (("claims1", "insurer_claims"), ("fin1", "finance"), ("fin2", "finance"),
                       ("fin3", "finance")):
        person(ctx, users, name, role)
    r = client.post("/api/payment-batches", headers=users.headers("claims1"),
                    json={"county_code": COUNTY, "case_ids": cases})
    bid = r.json()["id"]
    assert client.post(f"/api/payment-batches/{bid}/approve", headers=users.headers("fin2")).status_code == 200
    assert client.post(f"/api/payment-batches/{bid}/release", headers=users.headers("fin1")).status_code == 200
    bank = client.get(f"/api/payment-batches/{bid}/bank-file", headers=users.headers("fin2"))
    assert bank.status_code == 200
    refs = [row[0] for row in csv.reader(io.StringIO(bank.content.decode("utf-8")))][1:]
    out = io.StringIO()
    csv.writer(out).writerows([["reference", "status", "bank_reference", "reason"], [refs[0], "failed", "", "账户异常"]])
    body = {"file": ("r.csv", out.getvalue().encode(), "text/csv")}
    before = entries_but_refusals(ctx)
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=users.headers("fin2"), files=body)
    assert r.status_code == 422 and "银行文件由您下载" in r.text, r.text
    assert entries_but_refusals(ctx) == before
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(BankReturn)) == 0
    # the batch page offers fin2 no import form, and says why
    pages = Pages(client, users)
    pages.login("fin2")
    page = pages.get(f"/payments/{bid}").text
    assert "您下载了本批次的银行文件" in page and f'action="/payments/{bid}/bank-return"' not in page
    # fin3 neither released nor downloaded it: imports it
    r = client.post(f"/api/payment-batches/{bid}/bank-return", headers=users.headers("fin3"), files=body)
    assert r.status_code in (200, 201), r.text
