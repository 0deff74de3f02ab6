"""The household file (一户一档) in Chromium: the county reviewer opens it from a paid case's page, follows a step to
its audit entry and inclusion proof, and marks the household's risk removed with its evidence (one POST for a double
click); the status shows in the file. An insurer supervisor asks for a household's phone in full (显示完整号码): one POST
for a double click, the number shown, the address the file's own, where a reload shows it masked again."""

from __future__ import annotations

import re

import pytest
from desk import Staff


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def test_the_household_file_opens_from_a_case_and_records_risk_removed(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer")
    desk.go("/cases?status=paid")
    desk.follow("#results td.mono a")
    desk.follow("#household-file-link")
    assert desk.path.startswith("/households/")
    household = desk.path
    shown = desk.text()
    assert "一户一档" in shown and "保障金支付" in shown and "入户核查" in shown and "办理记录" in shown
    assert "存在风险" in desk.text("#risk-status")
    assert "支付成功" in desk.text("#section-payments ~ .table-wrap")  # codes in words

    # A step of the timeline leads to its entry in the audit log, proved included in the signed checkpoint.
    desk.follow("#timeline ~ .table-wrap a[href^='/audit?index=']")
    assert "包含证明有效" in desk.text()
    desk.go(household)

    desk.fill({"#f-evidence_kind": "follow_up", "#f-note": "回访核实：家中两人稳定务工"})
    assert desk.submit("#risk-remove", expect=r"done=risk_removed") == 1
    assert "风险已消除" in desk.text("#risk-status")
    assert "回访核实" in desk.text("#section-risk ~ .table-wrap")  # the status over time, with its evidence
    assert "标记风险消除" in desk.text("#timeline ~ .table-wrap")  # and the step, with its audit entry
    assert desk.page.locator("#risk-revoke").count() == 1


def test_the_supervisor_asks_for_the_phone_in_full_and_a_reload_masks_it_again(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("supervisor")
    desk.go("/cases?status=checked")
    desk.follow("#results td.mono a")
    desk.follow("#household-file-link")
    household = desk.path
    masked = desk.text("#household-phone")
    assert re.search(r"\d{3}\*{4}\d{4}", masked), masked
    assert desk.submit("#show-phone-form") == 1  # a double click asks once (one look on record)
    shown = desk.text("#household-phone")
    assert re.search(r"\d{11}", shown) and "*" not in shown, shown
    assert desk.path.split("#")[0] == household  # the answer stands as the file's own address
    desk.page.reload()
    desk.page.wait_for_load_state("load")
    desk.checked()
    assert desk.text("#household-phone") == masked and desk.path.split("#")[0] == household
