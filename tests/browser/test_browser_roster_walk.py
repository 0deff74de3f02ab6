"""The county's roster and a bureau's file walked in Chromium as tired reviewers do.

The roster: reviewer A (吴刚) uploads the county's roster on /roster (a file with a wrong category refused row by row
beside the field, then the good file: pending, his own page offering no confirmation); reviewer B (郑敏) opens it,
reads what it changes (counts only, no ID number) and confirms it with a double click (one confirmation on record);
A's next upload is rejected by B, first with no reason (the browser says so), then with blanks (the server says so
beside the field, the form kept), then with a reason. On a desk (1280) and a phone (390), Back after each success
shows a normal page.

A bureau's file: the supervisor declares her father (回避申报) and imports a civil-affairs list naming him: the page
says 另有 1 行须由其他经办人导入 and names nobody; Back and Forward after the import show normal pages (the import
answers with a redirect); the county reviewer imports the same file and only that row comes in."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import desk as walks
import pytest
from desk import FITS, Desk, add_person, audit_count, back, flow_day, no_ids, shot

from verifier.domain.idnumber import make_id_number

staff, walk = walks.staff, walks.walk  # the walks' module fixtures
LEFT = "另有 1 行须由其他经办人导入"


@pytest.fixture(scope="module")
def second_reviewer(server) -> str:  # type: ignore[no-untyped-def]
    add_person(server, "reviewer2", "county_reviewer", "县复核 郑敏")
    return "reviewer2"


def _person(n: int) -> str:
    return make_id_number("340223", date(1961, 3, 1 + n % 27), 500 + n)


def _roster(folder: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    """A roster as the monitoring system exports it (GBK csv, more columns than the two read)."""
    lines = ["序号,姓名,证件号码,与户主关系,监测对象类别"] + [
        f"{i},人员{i},{idn},户主,{category}" for i, (idn, category) in enumerate(rows, start=1)]
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    return path


def _upload(desk: Desk, path: Path, **kw) -> int:  # type: ignore[no-untyped-def]
    desk.page.set_input_files("#f-file", str(path))
    return desk.submit("form[action='/roster']", **kw)


def _totals(desk: Desk) -> str:
    return desk.text("main table tbody tr:last-child")


def test_the_roster_is_uploaded_by_one_reviewer_and_confirmed_by_another(staff, walk, second_reviewer,
                                                                         tmp_path) -> None:  # type: ignore[no-untyped-def]
    a = staff.desk("reviewer", start="/roster")
    assert a.page.locator("#f-county_code").count() == 0  # one county: nothing to choose
    people = [(_person(i), "脱贫户") for i in range(6)] + [(_person(6), "边缘易致贫户")]
    bad = _roster(tmp_path, "名册（有误）.csv", people[:2] + [(_person(9), "贫困户")])
    with a.refusal(422):
        assert _upload(a, bad) == 1
    said = a.text("#roster-upload")
    assert "第 4 行「名册类别」" in said and "「贫困户」不是名册类别" in said, said
    assert a.path == "/roster"
    shot(a, "roster-refused")
    assert _upload(a, _roster(tmp_path, "名册.csv", people), expect=r"/roster/ros_\w+\?done=roster_imported") == 1
    first = a.path.split("?")[0]
    assert "名册已上传" in a.flash() and "待确认" in a.text("main dl")
    assert a.page.locator("form[action$='/confirm']").count() == 0  # his own: no confirmation offered
    assert "须由本县另一名县级复核员确认" in a.text()
    no_ids(a)
    back(a)  # the upload form again, by GET
    assert a.path == "/roster"
    back(a, forward=True)
    assert a.path.startswith(first)

    b = staff.desk(second_reviewer, start="/roster")
    b.follow(f"main a[href='{first}']")
    assert "新增" in b.text() and "7" in _totals(b)
    assert not any(p in b.text() for p, _ in people)  # counts only
    no_ids(b)
    shot(b, "roster-review")
    assert b.submit("form[action$='/confirm']", expect=r"done=roster_confirmed") == 1  # a double click
    assert audit_count(staff.base, "roster.confirm") == 1
    assert "已确认生效" in b.text("main dl") and "名册已确认" in b.flash()
    back(b)
    assert b.path == first

    # the next export: one person gone, one new, one moved to another category
    changed = people[1:6] + [(people[6][0], "脱贫不稳定户"), (_person(7), "突发严重困难户")]
    a.go("/roster")
    assert _upload(a, _roster(tmp_path, "名册（十二月）.csv", changed), expect=r"done=roster_imported") == 1
    second = a.path.split("?")[0]
    b.go(second)
    totals = _totals(b)
    assert "类别变化 1 人" in totals, totals
    assert [c.strip() for c in totals.split("\t")[3:5]] == ["1", "1"], totals  # added, removed
    assert "边缘易致贫户 → 脱贫不稳定户：1 人" in b.text()
    form = "form[action$='/reject']"
    assert b.submit(form, blocked=True) == 0  # no reason: the browser says so, in Chinese
    assert b.page.locator("#f-reason").evaluate("e => e.validationMessage") == "请填写此项"
    b.fill({"#f-reason": "   "})
    with b.refusal(422):
        assert b.submit(form) == 1
    assert "请说明退回的原因" in b.text("#reason-error")
    assert b.page.locator(form).count() == 1 and b.page.locator("form[action$='/confirm']").count() == 1
    b.fill({"#f-reason": "与乡镇上报的名单不符，请核对后重新导出"})
    assert b.submit(form, expect=r"done=roster_rejected") == 1
    assert "已退回" in b.text("main dl") and "与乡镇上报的名单不符" in b.text()
    assert audit_count(staff.base, "roster.reject") == 1
    no_ids(b)
    back(b)

    for who, path in ((second_reviewer, second), ("reviewer", "/roster")):
        phone = Desk.login_as(staff.browser, staff.base, who, phone=True, start=path)
        try:
            assert phone.page.evaluate(FITS), path
            no_ids(phone)
            shot(phone, f"roster-phone-{who}")
        finally:
            phone.close()


def _bureau_file(folder: Path, people: list[tuple[str, str]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["姓名", "身份证号", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    for name, id_number in people:
        book.active.append([name, id_number, "城关镇", "东村", "非贫低收入户", "因病", 26000, flow_day(1)])
    path = folder / "民政局名单（十二月）.xlsx"
    book.save(path)
    return path


def test_a_tied_supervisor_leaves_her_fathers_row_to_a_colleague(staff, walk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    father = make_id_number("340223", date(1948, 7, 9), 611)
    desk = staff.desk("supervisor", start="/account/recusal")
    desk.fill({"#f-relation": "parent", "#f-id_number": father})
    desk.submit("form[action='/account/recusal']")
    xlsx = _bureau_file(tmp_path, [("蒋一", make_id_number("340223", date(1970, 1, 2), 612)), ("蒋父", father),
                                   ("韩二", make_id_number("340223", date(1975, 5, 6), 613))])
    desk.go("/referrals/import")
    desk.fill({"#f-channel": "civil_affairs"})
    desk.page.set_input_files("#f-file", str(xlsx))
    assert desk.submit("form[action='/referrals/import']", expect=r"/referrals/import\?done=referrals_imported") == 1
    said = desk.flash()
    assert "已导入 2 行" in said and LEFT in said, said
    content = desk.page.content()
    assert father not in content and "蒋父" not in content and father[-4:] not in desk.text()  # nobody named
    no_ids(desk)
    shot(desk, "import-left")
    back(desk)  # the import form, by GET: no 确认重新提交表单
    assert desk.path == "/referrals/import"
    back(desk, forward=True)
    assert LEFT in desk.flash()  # the import's answer again, read back from the store: nothing sent

    colleague = staff.desk("reviewer", start="/referrals/import")
    colleague.fill({"#f-channel": "civil_affairs"})
    colleague.page.set_input_files("#f-file", str(xlsx))
    assert colleague.submit("form[action='/referrals/import']", expect=r"done=referrals_imported") == 1
    said = colleague.flash()
    assert "已导入 1 行" in said and "须由其他经办人导入" not in said, said
    no_ids(colleague)


def test_back_after_a_password_shown_once_loads_the_empty_form(staff, second_reviewer) -> None:  # type: ignore[no-untyped-def]
    """The admin has a password generated for the second reviewer (the page must show it, this once); she goes on to
    the list, then Back: the empty form by GET, neither the browser's 确认重新提交表单 page nor the password again."""
    desk = staff.desk("admin", start=f"/users?q={second_reviewer}")
    desk.follow("main a[href*='/password']")
    form = desk.path  # the list's search rides along (the way back to the list as it was)
    assert desk.submit(f"form[action='{form.split('?')[0]}']", double=False) == 1
    shown = desk.text("#new-password")
    assert len(shown) >= 8 and desk.path == form  # the address stands as the form's, with nothing of the password
    desk.go("/users")
    back(desk)
    assert desk.path == form and desk.page.locator("#new-password").count() == 0 and shown not in desk.page.content()
    back(desk, forward=True)
    assert desk.path == "/users"
