"""The officer's check form on a phone in Chromium: a photo sent with a form that came back for a mistake is shown
as a thumbnail (loaded through the authenticated evidence route) with a Chinese caption, and no hash in the text."""

from __future__ import annotations

import hashlib
from datetime import date

from desk import Desk
from test_browser_officer import tiny_png

from verifier.domain.idnumber import make_id_number


def test_a_photo_already_sent_comes_back_as_a_captioned_thumbnail(server, browser) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(browser, server, "officer3", phone=True, start="/visits")
    desk.follow(".visit .go a")
    page = desk.page
    png = tiny_png(64, 48)
    page.select_option("#f-members-0-labour", "partial")
    page.fill("#f-members-1-name", "张桂兰")
    page.fill("#f-members-1-id_number", "340223199001011235")  # the right shape, a wrong check digit
    page.select_option("#f-members-1-relation", "spouse")
    page.select_option("#f-members-1-labour", "none")
    page.fill("#f-income-wages", "3000")
    page.check("input[name=stable_income][value=no]")
    page.set_input_files("#f-photos", files=[{"name": "door.png", "mimeType": "image/png", "buffer": png}])
    with desk.refusal(422):
        with page.expect_navigation():
            page.click("text=提交核查结果")
        desk.checked()
    thumb = page.locator(".thumbs img").first
    thumb.scroll_into_view_if_needed()  # a lazy image loads once it is in view
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 64
    caption = page.inner_text(".thumbs figcaption")
    assert caption.startswith("第 1 张") and "上传" in caption
    sha = hashlib.sha256(png).hexdigest()
    assert sha[:12] not in page.inner_text("main")  # in a title and a hidden field only
    assert page.get_attribute(".thumbs a", "title") == sha
    # Fixed and sent again: the photo is not chosen a second time, and the check is recorded with it.
    page.fill("#f-members-1-id_number", make_id_number("340223", date(1962, 3, 4), 17))
    with page.expect_navigation():
        page.click("text=提交核查结果")
    page.wait_for_url("**/cases/*?done=check")
    desk.checked()
    assert "入户核查已提交" in page.inner_text(".flash.ok")
    desk.close()

