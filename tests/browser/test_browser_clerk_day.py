"""An ordinary day on the demo, clicked through in Chromium: finance approves a payee change only with its box ticked
(a double click approves it once), the shared-account warning names cases by number and masked head, the county
reviewer finds a sampling round by its name, and the clerk is told in Chinese when an objection's day is after the
notice period (what was typed kept)."""

from __future__ import annotations

import re

import pytest
from desk import Staff


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def test_a_payee_change_is_approved_only_with_its_box_ticked(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("finance2", start="/payee-changes")
    row = desk.page.locator("#payee-changes tbody tr").first
    form = "#payee-changes tbody tr:first-child form.decide-approve"
    box = desk.page.locator(f"{form} input[name=confirm]")
    assert re.search(r"已核对新收款人 \S+、账号尾号 \d{4}，确认批准（不能撤回）", desk.page.locator(f"{form} label").inner_text())
    assert desk.submit(form, blocked=True) == 0  # the button alone: the browser asks for the box, nothing is sent
    assert box.evaluate("e => e.validity.valueMissing") and "待审批" in row.inner_text()
    desk.fill({f"{form} input[name=confirm]": True})
    assert desk.submit(form, expect=r"done=payee_approved") == 1  # a double click: one approval
    assert "收款人变更已批准" in desk.flash()
    desk.go("/payee-changes?status=approved")
    assert "已批准" in desk.page.locator("#payee-changes").inner_text()


def test_the_shared_account_warning_names_cases_and_masked_heads(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("finance1", start="/payments?todo=approve")
    desk.follow("main table a[href^='/payments/pb_']")
    warning = desk.page.locator("#shared-accounts").inner_text()
    assert re.search(r"340223-\d{4}-\d{6} \S\*+户、340223-\d{4}-\d{6} \S\*+户", warning), warning
    assert "case_" not in warning


def test_a_sampling_round_is_found_by_its_name(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer", start="/sampling")
    links = desk.page.locator("main table a[href^='/sampling/smp_']")
    names = links.all_inner_texts()
    assert names and all(re.fullmatch(r"示范县 · 按(户|金额)抽样 · \d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d", n) for n in names)
    desk.follow("main tr:has-text('已抽取样本') a[href^='/sampling/smp_']")
    assert desk.page.title().startswith("抽样复核 示范县 · 按户抽样 · ")
    assert desk.page.locator("h1").inner_text().startswith("抽样复核：示范县 · 按户抽样 · ")


def test_an_objection_after_the_notice_period_is_told_in_chinese(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("clerk", start="/notices?status=open")
    desk.follow("main table a[href^='/notices/ntc_']")
    assert "公示期已满" in desk.page.locator("#objection").inner_text()
    today = desk.page.locator("#f-received_on").get_attribute("data-max")  # the server's today
    first = desk.page.locator("#f-case_id option").nth(1).get_attribute("value")
    desk.fill({"#f-case_id": first, "#f-received_on": today, "#f-summary": "反映该户有人在外务工"})
    with desk.refusal(422):
        assert desk.submit("#objection") == 1
    error = desk.page.locator("#received_on-error").inner_text()
    assert error.startswith("晚于公示期最后一天 ") and "请核对收到日期" in error
    assert desk.page.locator("#f-summary").input_value() == "反映该户有人在外务工"
    assert desk.page.locator("#f-received_on").input_value() == today
