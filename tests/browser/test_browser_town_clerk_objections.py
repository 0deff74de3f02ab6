"""The town clerk's notices and objections walked in Chromium as a tired clerk would, at a desk (1280) and on a phone
(390), in a Chinese browser: the notices searched, an objection typed with a day that does not exist (refused beside
its field, everything typed kept), sent with a double click (one objection), the back button and the same form sent
again (still one), the clerk's own dismissal refused in Chinese, the county reviewer's resolution typed wrong then
sent once; the drawn sample searched on the phone. Every page shown is checked by `Desk.checked()` (Chinese only, no
raw code or id, no console error)."""

from __future__ import annotations

import re

import desk as walks
from desk import FITS, SHOTS, Desk, no_ids

staff, walk = walks.staff, walks.walk  # the walks' module fixtures


def objections(desk: Desk) -> int:
    return desk.page.locator("form[action^='/objections/']").count()


def test_the_clerk_records_an_objection_with_a_typo_a_double_click_and_the_back_button(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("clerk", start="/notices?status=open")
    # the list searched by a village it shows
    shown = desk.page.locator("main table a[href^='/notices/ntc_']").first.inner_text().strip()  # 城关镇东村
    village = re.sub(r"^.+?[镇乡]", "", shown)
    desk.fill({"#f-q": village})
    assert desk.submit("main form[role=search]", double=False, expect=r"q=") == 0
    rows = desk.page.locator("main table tbody tr")
    assert rows.count() >= 1 and all(village in t for t in rows.all_inner_texts())
    desk.follow("main table a[href^='/notices/ntc_']")
    notice = desk.path.split("?")[0]
    walk["notice"] = notice
    no_ids(desk)
    before = objections(desk)
    start, end = re.search(r"公示期内（(\S+) 至 (\S+)）", desk.text("#objection")).groups()
    household = desk.page.locator("#f-case_id option").nth(1)
    walk["head"] = household.inner_text().split(". ", 1)[1].split("（")[0]
    # a day that does not exist: refused beside the day, the household, who, how and what kept
    y, m, d = start.split("-")
    desk.fill({"#f-case_id": household.get_attribute("value"), "#f-received_on": f"{y}/{m}/32",
               "#f-raised_by": "villager", "#f-received_via": "phone", "#f-summary": "反映该户家中有营运车辆"})
    with desk.refusal(422):
        assert desk.submit("#objection") == 1
    error = desk.page.locator("#received_on-error").inner_text()
    assert "没有这一天" in error or "日期" in error, error
    assert desk.page.locator("#f-summary").input_value() == "反映该户家中有营运车辆"
    assert desk.page.locator("#f-raised_by").input_value() == "villager"
    assert desk.page.locator("#f-received_via").input_value() == "phone"
    assert desk.page.locator("#f-case_id").input_value() == household.get_attribute("value")
    assert desk.page.locator("#f-received_on").input_value() == f"{y}/{m}/32"
    # put right (a day of the period, as an office writes it): a double click records one objection
    desk.fill({"#f-received_on": start.replace("-", "/")})
    assert desk.submit("#objection", expect=r"done=objection") == 1
    assert objections(desk) == before + 1 and "异议已登记" in desk.flash()
    assert walk["head"] in desk.text("main")
    no_ids(desk)
    # to the household's case and back: the notice again, still one objection, and a form left blank to type anew;
    # Back once more reaches the refused form's answer, which stands in the history as the notice's own address
    # (app.js): the notice loads again by GET, not the browser's own 确认重新提交表单 page, and nothing is sent
    desk.follow(f"main table a[href^='/cases/']:text-is('{walk['head']}')")
    no_ids(desk)
    desk.page.go_back()
    desk.checked()
    assert desk.path.startswith(notice) and objections(desk) == before + 1
    posts = len(desk.posts)
    desk.page.go_back()
    desk.checked()
    assert desk.path == notice and len(desk.posts) == posts and objections(desk) == before + 1
    assert "确认重新提交" not in desk.page.content() and "ERR_CACHE_MISS" not in desk.page.content()
    desk.page.go_forward()
    desk.checked()
    if desk.page.locator("#f-summary").input_value():  # the browser put back what was typed: sent again, told so
        assert desk.submit("#objection", double=False) == 1
        assert "重复提交未再保存" in desk.flash() or "已登记" in desk.flash()
    desk.go(notice)
    assert objections(desk) == before + 1
    # the clerk who recorded it may not dismiss it alone: said in Chinese, the note kept
    form = desk.page.locator("form[action^='/objections/']").last
    walk["resolution"] = form.get_attribute("action") or ""
    form.locator("input[name=outcome][value=dismissed]").check()
    form.locator("textarea[name=note]").fill("经核实车辆已于去年转让")
    with desk.refusal(403, 409, 422):
        with desk.page.expect_navigation():
            form.locator("button[type=submit]").dblclick()
        desk.checked()
    assert re.search(r"[\u4e00-\u9fff]", desk.flash() + desk.text("main"))
    no_ids(desk)


def test_the_reviewer_resolves_it_once_after_a_typo(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer", start=walk["notice"])
    form = f"form[action='{walk['resolution']}']"
    desk.fill({f"{form} input[name=outcome][value=dismissed]": True, f"{form} textarea[name=note]": "经核实车辆已转让",
               f"{form} input[name=resolved_on]": "2026-02-30"})
    with desk.refusal(422):
        assert desk.submit(form) == 1
    assert "没有这一天" in desk.text(form)
    assert desk.page.locator(f"{form} textarea[name=note]").input_value() == "经核实车辆已转让"
    assert desk.page.locator(f"{form} input[name=outcome][value=dismissed]").is_checked()
    today = desk.page.locator(f"{form} input[name=resolved_on]").get_attribute("data-max")
    desk.fill({f"{form} input[name=resolved_on]": today})
    assert desk.submit(form, expect=r"done=resolved") == 1
    assert desk.page.locator(form).count() == 0 and "异议不成立" in desk.text("main")
    no_ids(desk)


def test_the_notice_and_the_drawn_sample_on_a_phone(staff, walk) -> None:  # type: ignore[no-untyped-def]
    phone = Desk.login_as(staff.browser, staff.base, "clerk", phone=True, start=walk["notice"])
    try:
        assert phone.page.evaluate(FITS)
        assert walk["head"] in phone.text("main")
        no_ids(phone)
    finally:
        phone.close()
    phone = Desk.login_as(staff.browser, staff.base, "reviewer", phone=True, start="/sampling")
    try:
        phone.follow("main tr:has-text('已抽取样本') a[href^='/sampling/smp_']")
        if SHOTS:
            phone.page.screenshot(path=f"{SHOTS}/round-phone.png", full_page=True)
            print("a folded and an opened form, px:", phone.page.evaluate("""() => {
              const d = document.querySelector('details.result-entry'); if (!d) return null;
              const folded = d.getBoundingClientRect().height; d.open = true;
              const opened = d.getBoundingClientRect().height; d.open = false; return [folded, opened]; }"""))
        assert phone.page.evaluate(FITS)
        # the counts first, within the first screens; the forms folded
        assert phone.page.locator("#round-summary").bounding_box()["y"] < 844 * 2
        height = phone.page.evaluate("() => document.documentElement.scrollHeight")
        rows = phone.page.locator("#sample tbody tr")
        total = rows.count()
        head = rows.first.locator("td:nth-child(3)").inner_text().strip()
        phone.fill({"#f-q": head})
        phone.submit("#sample-search", double=False, expect=r"q=")
        assert 1 <= rows.count() < total or total == 1
        assert all(head in t for t in rows.all_inner_texts())
        if SHOTS:
            print("the drawn round on a phone, px tall: all", height, "searched",
                  phone.page.evaluate("() => document.documentElement.scrollHeight"))
        no_ids(phone)
    finally:
        phone.close()
