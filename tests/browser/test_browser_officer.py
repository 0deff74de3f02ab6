"""A field officer on a 360 px phone: log in, open a visit, fill the home check, see the case checked."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from datetime import date, timedelta
from pathlib import Path

from browserkit import DEMO_PASSWORD

from verifier.domain.idnumber import make_id_number

PHONE = {"width": 360, "height": 740}


def tiny_png(width: int = 16, height: int = 12) -> bytes:
    rows = b"".join(b"\x00" + bytes([170, 30, 30]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def policy_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """What the content security policy blocked on `page`, as the browser reports it on the console."""
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def log_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/visits")
    assert "/login" in page.url  # not logged in yet: the login page, coming back afterwards
    page.fill("#f-username", username)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/visits")


def distinct_colours(page, png: bytes) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """(distinct colours, share of pixels unlike the top-left one) of a PNG, counted by the browser itself."""
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    return tuple(page.evaluate("""async (url) => {
        const img = new Image(); img.src = url; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set(); let other = 0;
        for (let i = 0; i < d.length; i += 4) {
            const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2]; seen.add(k);
            if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) other++;
        }
        return [seen.size, other / (d.length / 4)];
    }""", url))


def test_an_officer_records_a_home_check_on_a_phone(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith((server, "data:")) else outside.append(r.url))
    blocked = policy_violations(page)
    log_in(page, server, "officer3")
    assert page.locator("h1").inner_text() == "我的走访"
    visits = page.locator(".visit .go a")
    assert visits.count() >= 1
    visits.first.click()
    page.wait_for_url("**/check")

    # 补录原因 is asked for only while the visit day chosen is more than 3 days back (app.js; the server decides)
    assert page.locator("#late-entry").is_hidden()
    today = page.input_value("#f-visited_on")
    # the day chosen is said in Chinese beside the phone's date box, whatever order the phone shows it in
    def said(day: date) -> str:
        return f"所选日期：{day.year}年{day.month}月{day.day}日"
    assert page.inner_text("#f-visited_on-read") == said(date.fromisoformat(today))
    earlier = date.fromisoformat(today) - timedelta(days=10)
    page.fill("#f-visited_on", earlier.isoformat())
    assert page.inner_text("#f-visited_on-read") == said(earlier)
    assert page.locator("#late-entry").is_visible() and page.locator("#f-late_entry_reason").is_visible()
    page.fill("#f-visited_on", today)
    assert page.inner_text("#f-visited_on-read") == said(date.fromisoformat(today))
    assert page.locator("#late-entry").is_hidden()

    # the household head is prefilled from the referral; add the spouse with the JavaScript "add" button
    assert page.input_value("#f-members-0-name")
    assert page.locator("#members [data-row]").count() == 2  # JavaScript keeps one empty row, not six
    assert page.locator("#bills [data-row]").count() == 1
    page.select_option("#f-members-0-labour", "partial")
    page.fill("#f-members-1-name", "张桂兰")
    page.fill("#f-members-1-id_number", make_id_number("340223", date(1962, 3, 4), 17))
    page.select_option("#f-members-1-relation", "spouse")
    page.select_option("#f-members-1-labour", "none")
    page.click("text=添加成员")
    assert page.locator("#members [data-row]").count() == 3
    page.fill("#f-income-wages", "3000")
    page.fill("#f-income-transfer_net", "1200.50")
    page.fill("#f-rigid_expenditure-medical_self_paid", "42000")
    # the medical bills behind it: one on the row offered, another on a row added by the button
    page.fill("#f-bills-0-issuer", "县人民医院")
    page.fill("#f-bills-0-number", "ZY-2031")
    page.fill("#f-bills-0-amount", "30000")
    page.click("text=添加票据")
    assert page.locator("#bills [data-row]").count() == 2
    assert page.locator("#bills [data-row] .n").nth(1).inner_text() == "票据 2"
    page.fill("#f-bills-1-issuer", "县中医院")
    page.fill("#f-bills-1-number", "MZ-77")
    page.fill("#f-bills-1-amount", "12000")
    page.check("input[name=stable_income][value=no]")
    page.select_option("#f-cross-medical_insurance", "consistent")
    page.set_input_files("#f-photos", files=[{"name": "door.png", "mimeType": "image/png", "buffer": tiny_png()}])
    page.fill("#f-note", "已核对医疗票据")
    page.click("text=提交核查结果")
    page.wait_for_url("**/cases/*?done=check")

    assert "入户核查已提交" in page.inner_text(".flash.ok")
    assert "已核查" in page.inner_text("h1")
    body = page.inner_text("main")
    assert "张桂兰" in body and "42,000.00" in body and "SHA-256" in body and "已核对医疗票据" in body
    assert outside == []  # nothing from outside the server: no CDN, no web fonts
    assert blocked == []  # and nothing the content security policy had to block

    shot = tmp_path / "phone.png"
    png = page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    colours, share = distinct_colours(page, png)
    assert colours > 20 and share > 0.05, (colours, share)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone: no sideways scrolling of the page
    context.close()


def test_the_check_form_works_with_javascript_off(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, server, "officer4")
    page.locator(".visit .go a").first.click()
    page.wait_for_url("**/check")
    assert page.locator("#members [data-row]").count() == 6  # the fixed rows; blank ones are ignored
    assert page.locator("#bills [data-row]").count() == 2
    page.select_option("#f-members-0-labour", "full")
    page.check("input[name=stable_income][value=yes]")
    page.fill("#f-income-wages", "abc")
    page.click("text=提交核查结果")
    assert page.url.endswith("/check")  # the browser's own check (a pattern, no script) stopped "abc"
    page.fill("#f-income-wages", "36000")
    page.fill("#f-members-1-name", "李小军")
    page.fill("#f-members-1-id_number", "340223199001011235")  # the right shape, a wrong check digit
    page.select_option("#f-members-1-relation", "child")
    page.select_option("#f-members-1-labour", "none")
    with page.expect_navigation():
        page.click("text=提交核查结果")
    assert "校验位应为" in page.inner_text("#members-1-id_number-error")
    assert page.input_value("#f-income-wages") == "36000" and page.input_value("#f-members-1-name") == "李小军"
    page.fill("#f-members-1-id_number", make_id_number("340223", date(2005, 9, 1), 33))
    page.click("text=提交核查结果")
    page.wait_for_url("**/cases/*?done=check")
    assert "已核查" in page.inner_text("h1")
    context.close()


def test_the_case_filters_update_the_list_in_place(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(10_000)
    page = context.new_page()
    blocked = policy_violations(page)
    page.goto(server + "/login?next=/cases")
    page.fill("#f-username", "clerk")
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server + "/cases")
    page.evaluate("window.__same_page = true")  # gone if the browser loads a whole new page
    page.select_option("#f-status", "received")
    page.wait_for_url("**/cases?status=received**")
    page.wait_for_function("[...document.querySelectorAll('#results tbody .badge')].every(b => b.textContent === '已接收')")
    assert page.evaluate("window.__same_page === true")  # htmx swapped the list, no full reload
    assert page.locator("#results tbody tr").count() >= 1
    assert blocked == []  # htmx works under the content security policy
    context.close()


def test_the_route_sheet_fits_a_phone(server, browser) -> None:  # type: ignore[no-untyped-def]
    """The day's route sheet opened on the phone: its nine columns scroll in their own box, the page does not."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, server, "officer1")
    page.click("a[href^='/visits/route']")
    page.wait_for_url("**/visits/route**")
    if not page.locator("table.route tbody tr").count():  # a weekend: the planner put the visits on a workday
        page.go_back()
        year, month, day = re.search(r"走访 (\d{4})-(\d\d)-(\d\d)", page.locator(".visit").first.inner_text()).groups()  # type: ignore[union-attr]
        page.go_forward()
        page.fill("#f-day", f"{year}年{int(month)}月{int(day)}日")  # the day typed as offices write it
        with page.expect_navigation():
            page.click("#route-choice button[type=submit]")
    assert page.locator("table.route tbody tr").count() >= 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width  # no sideways scrolling of the page
    context.close()


def test_a_malformed_address_hash_breaks_no_script(server, browser) -> None:  # type: ignore[no-untyped-def]
    """app.js opens a folded part an address's #hash names (`openNamed`); a hash that is no valid percent-encoding (a
    link cut short, #%E4%B8) is ignored, at load and on a later hashchange, and a good one still opens its part."""
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server + "/login#%E4%B8")
    page.wait_for_load_state("load")
    page.evaluate("""() => { const d = document.createElement('details');
        d.innerHTML = '<summary>折叠</summary><p id="named-part">内容</p>'; document.querySelector('main').append(d); }""")
    page.evaluate("() => { location.hash = '%'; }")
    page.wait_for_timeout(100)
    page.evaluate("() => { location.hash = 'named-part'; }")
    page.wait_for_function("() => document.getElementById('named-part').closest('details').open")
    assert errors == []
    context.close()


def test_the_visits_searched_on_a_phone_are_the_list_the_way_back_leads_to(server, browser) -> None:  # type: ignore[no-untyped-def]
    """我的走访 searched on an English phone: by a head's name, the cards found and the search kept in its box;
    ← 我的走访 on 未能核查 leads back to the list searched as it was left; digits typed full-width are read as digits
    (nothing found is said so, the search folded in its box)."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True, has_touch=True,
                                  locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, server, "officer2")
    first = page.locator(".visit").first
    head = first.locator(".place").inner_text().split("户")[0]
    page.fill("main #f-q", head)
    page.click("main form[role=search] button[type=submit]")
    page.wait_for_url("**/visits?q=*")
    assert page.input_value("main #f-q") == head
    assert page.locator(".visit").count() >= 1
    assert all(head in t for t in page.locator(".visit .place").all_inner_texts())
    searched = page.url
    page.locator(".visit .go a", has_text="未能核查").first.click()
    page.wait_for_url("**/visit-attempt")
    assert page.inner_text("#f-visited_on-read").startswith("所选日期：")  # an English phone shows 12/06/2026
    back = page.locator("#way-back a", has_text="我的走访")
    assert back.get_attribute("href") == searched[len(server):]
    back.click()
    page.wait_for_url(searched)
    assert page.input_value("main #f-q") == head
    nothing = "".join(chr(ord(c) + 0xFEE0) for c in "0000000")
    page.fill("main #f-q", nothing)
    page.click("main form[role=search] button[type=submit]")
    page.wait_for_url("**/visits?q=*")
    assert "没有符合查找条件的走访" in page.inner_text("main") and page.input_value("main #f-q") == "0000000"
    context.close()
