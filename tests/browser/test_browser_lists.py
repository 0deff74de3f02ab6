"""The office's long lists in Chromium: numbered pages and a search box on each, read in Chinese only; the audit
log's list paged with its filter kept; a whole ID number searched from the header box never in an address (the
address bar, the Referer of the next click, the address htmx pushes), while sorting and the ledger still answer it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from desk import Staff, refer_by_file

from verifier.domain.idnumber import make_id_number

PERSON = {"name": "钱有余", "id": make_id_number("340223", date(1971, 3, 9), 245)}
MASKED = PERSON["id"][:6] + "********" + PERSON["id"][-4:]


# A text box's placeholder against the room inside the box, in the box's own font (px).
FITS_PLACEHOLDER = """selector => { const box = document.querySelector(selector), style = getComputedStyle(box);
  const pen = document.createElement('canvas').getContext('2d'); pen.font = style.font;
  return {text: pen.measureText(box.placeholder).width,
          room: box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)}; }"""


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def test_the_audit_list_pages_and_keeps_its_filter(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("auditor", start="/audit")
    # the export's search says in its box what it finds, whole at 1280 px (it read 案件编号、批次号或经办人…, cut)
    fits = desk.page.evaluate(FITS_PLACEHOLDER, "#f-export-q")
    assert fits["text"] > 0 and fits["text"] <= fits["room"], fits
    pager = desk.page.locator("#entries ~ nav.pager")
    assert re.search(r"共 \d+ 条，第 1–50 条", pager.inner_text())
    desk.follow("#entries ~ nav.pager a[rel=next]")
    assert desk.path.endswith("page=2") and desk.page.locator("nav.pager [aria-current=page]").inner_text() == "2"
    desk.follow("#entries ~ nav.pager a[rel=prev]")
    desk.fill({"#f-entry-action": "case.screen_pass"})
    desk.submit("#entry-search", double=False)
    assert "action=case.screen_pass" in desk.path
    rows = desk.page.locator("#entry-list tbody tr")
    assert rows.count() >= 1 and all("初筛通过" in t for t in rows.all_inner_texts())
    if desk.page.locator("#entries ~ nav.pager a[rel=next]").count():
        desk.follow("#entries ~ nav.pager a[rel=next]")
        assert "action=case.screen_pass" in desk.path


@pytest.mark.parametrize(("who", "path", "text"), [
    ("clerk", "/notices", "村"), ("finance1", "/payments", "340223"), ("finance1", "/payee-changes?status=", "户"),
    ("reviewer", "/sampling", "340223"), ("reviewer", "/conflicts", "340223"), ("reviewer", "/need-referrals", "镇"),
    ("supervisor", "/followups", "村"), ("admin", "/users", "clerk"), ("admin", "/places", "村"),
    ("finance1", "/recoveries?status=all", "户"),
])
def test_each_long_list_has_a_search_box_and_its_count_in_chinese(staff, who: str, path: str,  # type: ignore[no-untyped-def]
                                                                 text: str) -> None:
    desk = staff.desk(who, start=path)
    box = desk.page.locator("main form[role=search] input[name=q]").first
    box.fill(text)
    with desk.page.expect_navigation():
        box.press("Enter")
    desk.checked()
    assert desk.page.locator("main form[role=search] input[name=q]").first.input_value() in (text, "")
    shown = desk.text()
    assert "共 " in shown or "没有" in shown


def test_a_whole_id_number_searched_is_in_no_address(staff, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    desk = staff.desk("supervisor")
    refer_by_file(desk, tmp_path, PERSON["name"], PERSON["id"], 180000)

    desk.page.fill("#find-q", PERSON["id"])
    with desk.page.expect_navigation():
        desk.page.press("#find-q", "Enter")
    desk.checked()
    assert "qt=" in desk.page.url and PERSON["id"] not in desk.page.url and PERSON["id"][6:14] not in desk.page.url
    results = desk.text("#results")
    assert PERSON["name"] in results and MASKED in results and PERSON["id"] not in desk.page.content()

    # Sorting by a column (a link) keeps the search and the address clean.
    desk.follow("#results th a:has-text('户主')")
    assert "qt=" in desk.page.url and PERSON["id"] not in desk.page.url and PERSON["name"] in desk.text("#results")
    # A filter changed in the form (htmx posts it): the pushed address carries the token, not the number.
    with desk.page.expect_response(lambda r: r.url.split("?")[0].endswith("/cases") and r.request.method == "GET"):
        desk.fill({"#f-cause": "illness"})
    desk.page.wait_for_function("() => location.search.includes('cause=illness')")
    assert "qt=" in desk.page.url and PERSON["id"] not in desk.page.url
    desk.checked()
    # The next click's Referer holds no ID number either.
    with desk.page.expect_request(lambda r: "/cases/case_" in r.url) as opened:
        desk.page.locator("#results td a[href^='/cases/case_']").first.click()
    assert PERSON["id"] not in (opened.value.headers.get("referer") or "")
    desk.page.go_back()
    desk.page.wait_for_load_state("load")
    # The ledger of this search: the household, its ID number masked.
    with desk.page.expect_download() as download:
        desk.page.click("a[href^='/cases/ledger.xlsx']")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    rows = [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]
    assert len(rows) == 2 and PERSON["name"] in rows[1] and PERSON["id"] not in [str(v) for v in rows[1]]


_LOOK = "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.boxShadow, s.fontWeight].join(' | '); }"


@pytest.mark.parametrize(("who", "path", "shown", "other"), [
    ("clerk", "/notices?status=open", "公示中", "全部"), ("clerk", "/notices", "全部", "公示中"),
    ("supervisor", "/followups?show=done", "回访记录", "待回访"),
])
def test_the_filter_a_list_shows_is_marked_as_chosen(staff, who: str, path: str, shown: str,  # type: ignore[no-untyped-def]
                                                     other: str) -> None:
    """The filters above 公示, 支付批次, 回访 and 资金情况 are buttons alike: 公示中 chosen looked the same as 全部 and
    已结束 (only `aria-current` said which), so a clerk could not tell what the list was narrowed to."""
    desk = staff.desk(who, start=path)
    bar = desk.page.locator("main p.actions").first
    chosen = bar.locator("a[aria-current=page]")
    assert chosen.count() == 1 and chosen.inner_text() == shown
    rest = bar.get_by_role("link", name=other, exact=True)
    assert chosen.evaluate(_LOOK) != rest.evaluate(_LOOK)
