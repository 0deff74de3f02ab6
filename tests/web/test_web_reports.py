"""The monthly report page and its spreadsheet."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

from factories import COUNTY, make_case
from openpyxl import load_workbook


def test_the_monthly_report_as_tables_and_as_a_spreadsheet(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    make_case(ctx, stage="determined", medical=4_200_000)
    make_case(ctx, stage="checked")
    make_case(ctx, stage="received")
    pages.as_("rev1", "county_reviewer")
    assert 'href="/reports"' in pages.get("/").text.split("<main")[0]
    form = pages.get("/reports").text  # one county: this month's report at once (the page used to be a bare form)
    assert "月度报表" in form and 'value="2020-06"' in form and 'id="summary"' in form
    assert f"示范县（{COUNTY}）· 2020-06 月报" in form

    text = pages.get(f"/reports?county_code={COUNTY}&month=2020-06").text
    assert f"示范县（{COUNTY}）· 2020-06 月报" in text  # the county by name, from its contract
    summary = text.split('id="summary"')[1].split("</table>")[0]
    assert re.search(r"<td>完成入户核查（次）</td><td class=\"num\"><a href=\"[^\"]+\">2</a></td>", summary)
    assert re.search(r"<td>认定符合条件（户）</td><td class=\"num\"><a href=\"[^\"]+\">1</a></td>", summary)
    assert re.search(r"<td>认定救助金额（元）</td><td class=\"num\"><a href=\"[^\"]+\">21,900\.00</a></td>", summary)
    assert "已认定" in text and "已核查" in text and "已接收" in text  # the cases by status
    assert "人均纯收入不高于收入线" in text
    may = pages.get(f"/reports?county_code={COUNTY}&month=2020-05").text
    assert re.search(r"<td>监测信息（条）</td><td class=\"num\"><a href=\"[^\"]+\">3</a></td>", may)  # referred three days before
    assert re.search(r"<td>农户申请</td><td class=\"num\"><a href=\"[^\"]+\">3</a></td>", may)

    link = re.search(r'href="(/reports/monthly\.xlsx\?[^"]+)"', text)
    assert link
    sheet = pages.get(link.group(1).replace("&amp;", "&"))  # the login cookie is enough
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    # saved under a Chinese name, as every other download is (it used to be only report-<code>-<month>.xlsx)
    assert sheet.headers["content-disposition"].endswith("filename*=UTF-8''" + quote("月报-示范县-2020-06.xlsx"))
    book = load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["概要", "按乡镇村", "按乡镇", "按原因", "按户类型", "案件状态", "资金"]
    cells = {row[0]: row[1] for row in book["概要"].iter_rows(min_row=3, values_only=True)}
    assert cells["完成入户核查（次）"] == 2


def test_bad_input_other_counties_and_roles(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev1", "county_reviewer")
    r = pages.get(f"/reports?county_code={COUNTY}&month=2020-13")
    assert r.status_code == 422 and "没有这个月：2020年13月" in r.text
    r = pages.get(f"/reports?county_code={COUNTY}&month=六月")
    assert r.status_code == 422 and "月份格式应为 年-月，如 2026-12" in r.text
    r = pages.get(f"/reports?county_code={other_county}&month=2020-06")
    assert r.status_code == 404
    assert pages.get(f"/reports/monthly.xlsx?county_code={other_county}&month=2020-06").status_code == 404
    # the API's spreadsheet takes a bearer token only, never the pages' cookie
    assert pages.get(f"/api/reports/monthly?county_code={COUNTY}&month=2020-06&format=xlsx").status_code == 401
    for role in ("auditor", "insurer_supervisor", "finance"):
        pages.as_(f"u-{role}", role)
        assert pages.get(f"/reports?county_code={COUNTY}&month=2020-06").status_code == 200, role
    for role in ("town_clerk", "field_officer", "insurer_claims"):
        pages.as_(f"u-{role}", role)
        r = pages.get("/reports")
        assert r.status_code == 403 and "无权访问" in r.text, role
        assert "月报" not in pages.get("/").text.split("<main")[0]


def test_a_month_that_is_not_one_is_told_so_not_that_its_format_is_wrong(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """A tired clerk's 2026-13 (or 2026年13月) was written right: the page said 月份格式应为 年-月，如 2020-06."""
    pages.as_("rev1", "county_reviewer")
    for typed in ("2020-13", "2020年13月", "202000"):
        r = pages.get(f"/reports?county_code={COUNTY}&month={typed}")
        assert r.status_code == 422, typed
        error = r.text.split('id="month-error">')[1].split("</p>")[0]
        assert "没有这个月" in error and "月份应为 1 至 12" in error and "格式" not in error, (typed, error)
    assert "没有这个月：2020年13月" in pages.get(f"/reports?county_code={COUNTY}&month=2020年13月").text


def test_the_breakdowns_read_each_town_village_and_group_whole(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    """按乡镇、村 beside sixteen figure columns: at 1280 px the town and village were broken a character a line
    (城关/镇, 柳/树/村) and 非高标准脱贫户 over three; every row's names are cells read whole (td.name), the table
    scrolling in its box instead."""
    make_case(ctx, stage="determined", village="东村")
    pages.as_("rev-whole", "county_reviewer")
    text = pages.get(f"/reports?county_code={COUNTY}&month=2020-06").text
    tables = re.findall(r'<table class="breakdown">.*?</table>', text, re.S)
    assert len(tables) >= 3
    for table in tables:
        body = table.split("<tbody>")[1]
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
        assert rows
        for row in rows:
            keys = row.split('<td class="num">')[0]
            assert keys and re.fullmatch(r'(?:<td class="name">[^<]+</td>)+', keys), keys
    css = pages.get("/static/app.css").text
    assert re.search(r"td \.mono, td\.name \{ white-space: nowrap; \}", css)
