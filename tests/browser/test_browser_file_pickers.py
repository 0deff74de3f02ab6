"""The file pickers speak Chinese: a native file input says "Choose Files / No file chosen" in the browser's own
language, so with JavaScript on it is hidden from sight (still focusable, still labelled) behind a 选择照片 / 选择文件
button and a Chinese status; with JavaScript off the native control shows as before."""

from __future__ import annotations

import re
from pathlib import Path

from desk import Desk
from test_browser_officer import PHONE, log_in, tiny_png

LATIN = re.compile(r"[A-Za-z]")


def field_of(page, input_id: str) -> str:  # type: ignore[no-untyped-def]
    """The visible text of the block holding the file input `#input_id`."""
    return str(page.locator(f".field:has(#{input_id})").inner_text())


def assert_dressed(page, input_id: str, button: str) -> None:  # type: ignore[no-untyped-def]
    text = field_of(page, input_id)
    assert button in text and not LATIN.search(text), text
    box = page.locator(f"#{input_id}").bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1  # the native control is out of sight
    pick = page.locator(f"label.file-pick[for={input_id}]")
    assert pick.is_visible() and pick.inner_text() == button
    assert pick.bounding_box()["height"] >= 44  # a finger's size
    page.focus(f"#{input_id}")  # still reachable from the keyboard
    assert page.evaluate("() => document.activeElement.id") == input_id


def test_the_check_form_photo_picker_speaks_chinese(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer3", phone=True, start="/visits")
    desk.follow(".visit .go a")
    page = desk.page
    assert page.evaluate("() => document.documentElement.classList.contains('js-files')")
    assert_dressed(page, "f-photos", "选择照片")
    page.locator(".field:has(#f-photos)").screenshot(path=str(tmp_path / "photos.png"))
    page.set_input_files("#f-photos", files=[{"name": "门头.png", "mimeType": "image/png", "buffer": tiny_png()}])
    page.wait_for_function("() => document.getElementById('photo-status').textContent.includes('KB')")
    assert page.inner_text("#photo-status").startswith("已选择：门头.png，共 ")
    page.set_input_files("#f-photos", files=[{"name": f"{n}.png", "mimeType": "image/png", "buffer": tiny_png()}
                                             for n in ("门", "窗")])
    page.wait_for_function("() => document.getElementById('photo-status').textContent.includes('2 个文件')")
    assert not LATIN.search(field_of(page, "f-photos").replace(".png", "").replace("KB", ""))
    desk.checked()
    desk.close()


def test_the_import_form_file_picker_speaks_chinese(server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "supervisor", start="/referrals/import")
    page = desk.page
    assert_dressed(page, "f-file", "选择文件")
    assert page.inner_text("#f-file-status") == "未选择文件"
    page.locator(".field:has(#f-file)").screenshot(path=str(tmp_path / "import.png"))
    page.set_input_files("#f-file", files=[{"name": "医保局名单.csv", "mimeType": "text/csv", "buffer": b"a,b\n"}])
    assert page.inner_text("#f-file-status") == "已选择：医保局名单.csv"
    desk.checked()
    desk.close()


def test_without_javascript_the_native_picker_shows(server, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    log_in(page, server, "officer3")
    page.click(".visit .go a")
    page.wait_for_url("**/check")
    assert page.locator("label.file-pick").count() == 0
    assert page.locator("#f-photos").bounding_box()["width"] > 100  # the browser's own control, as before
    context.close()
