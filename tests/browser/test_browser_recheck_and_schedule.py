"""In Chromium, on the demo: the county reviewer records a sampled household's re-check with its visit (the day, the
member met, the signed record and a photo taken that day), and sees the files beside the result on the round's page
and the case page; a supervisor hand-picks a visit's officers with a reason and the schedule page counts it."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from desk import Shown, Staff
from PIL import Image

from verifier.clock import SCHEME_TZ


@pytest.fixture(scope="module")
def staff(server, browser):  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def _photo_taken_now() -> bytes:
    exif = Image.Exif()
    exif[0x8769] = {0x9003: datetime.now(SCHEME_TZ).strftime("%Y:%m:%d %H:%M:%S")}
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (70, 110, 40)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_the_reviewer_records_a_recheck_with_its_visit(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer")
    desk.go("/sampling?status=drawn")
    desk.follow("a[href^='/sampling/smp_']")
    page = desk.page
    form = page.locator("form[id^='result-']").first
    form_id = "#" + form.get_attribute("id")
    case_id = form_id.removeprefix("#result-")
    if not form.is_visible():
        page.locator(f"#item-{case_id} a[href='{form_id}']").click()  # its row's 录入 opens the folded form
    assert "入户走访证据" in form.inner_text() and "走访当天拍摄的照片" in form.inner_text()

    # Figures only, as before: the page names what the visit lacks, in Chinese, and records nothing.
    desk.fill({f"{form_id} input[name=eligible][value=no]": True, f"{form_id} input[name=per_capita_income]": "6000.00"})
    page.locator(f"{form_id} select[name=met_member]").evaluate("e => e.removeAttribute('required')")
    with desk.refusal(422):
        desk.submit(form_id, double=False)
    assert "请上传该家庭成员签字的复核记录" in desk.text(form_id) and "请填写走访时见到并签字的家庭成员" in desk.text(form_id)

    # With the visit: the member met, the signed record and a photo taken today.
    desk.fill({f"{form_id} input[name=eligible][value=no]": True, f"{form_id} input[name=per_capita_income]": "6000.00"})
    page.locator(f"{form_id} select[name=met_member]").select_option(index=1)
    page.set_input_files(f"{form_id} input[name=signed_form_file]", files=[
        {"name": "复核记录.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% signed\n%%EOF\n"}])
    page.set_input_files(f"{form_id} input[name=photos]", files=[
        {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": _photo_taken_now()}])
    assert desk.submit(form_id, double=False, expect=rf"done=recheck#item-{case_id}") == 1
    visit = desk.text(f"#visit-{case_id}")
    assert "走访日期" in visit and "签字的复核记录" in visit and re.search(r"第 1 张照片（拍摄于 \d{4}-\d\d-\d\d", visit)
    assert "不在走访当天" not in visit
    desk.follow(f"#item-{case_id} a[href='/cases/{case_id}']")
    assert "县级抽样复核" in desk.text("main") and "签字的复核记录" in desk.text("#rechecks")


def test_a_supervisor_hand_picks_officers_with_a_reason(staff) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("supervisor", start="/schedule")
    assert "人工指派统计" in desk.text("main")
    desk.follow("main a[href^='/cases/'][href$='/schedule']")
    later = (datetime.now(SCHEME_TZ) + timedelta(days=20)).date().isoformat()  # a day nobody travels yet
    desk.fill({"#f-officer_1": Shown("officer1"), "#f-officer_2": Shown("officer2"), "#f-vehicle": "车09",
               "#f-visit_on": later})
    assert desk.submit("form.panel", double=False, blocked=True) == 0  # the reason is asked for
    desk.fill({"#f-reason": "农户约定今日在家"})
    assert desk.submit("form.panel", double=False, expect=r"/cases/case_\w+\?done=") == 1
    assert "人工指派" in desk.text("main") and "农户约定今日在家" in desk.text("main")
    desk.go("/schedule")
    shares = desk.text("#hand-picked-shares")
    assert re.search(r"\d+(\.\d)?%", shares), shares
