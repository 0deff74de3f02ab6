"""The finance officers', the county reviewer's and the auditor's days walked in Chromium as a tired clerk would: a
batch approved by one finance officer and released by the other (double clicks, a confirmation first), its bank file
downloaded, the bank's return imported wrong then right, the failed item's payee changed by two people and the case
paid again in a new batch; a sampling round started, committed by both parties, frozen, revealed and drawn, a re-check
recorded on a phone, the verdict read; the audit log searched, an entry's proof checked, a case's history read. One
browser speaks English (`locale="en-US"`); every page shown is checked by `Desk.checked()`."""

from __future__ import annotations

import hashlib
import io
import os
import re
from pathlib import Path

import desk as walks
from desk import DEMO_YEAR, FITS, Desk, shot

staff, walk = walks.staff, walks.walk  # the walks' module fixtures


# How many lines each matching visible element's text takes (a word broken over lines takes more than one).
LINES = """els => els.filter(e => e.offsetParent !== null).map(e => {
  const r = document.createRange(); r.selectNodeContents(e);
  const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
  return [e.textContent.trim(), tops.size]; })"""


def badge(desk: Desk) -> str:
    return desk.text("h1 .badge").strip()


def whole(desk: Desk, selector: str) -> list[tuple[str, int]]:
    """Each matching text and the lines it takes; the caller asserts every one takes one."""
    return [(t, n) for t, n in desk.page.locator(selector).evaluate_all(LINES) if t]


def test_finance_approves_releases_and_reconciles_a_batch(staff, walk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("finance1", start="/payments?todo=approve")
    rows = desk.page.locator("main table a[href^='/payments/pb_']")
    assert rows.count() >= 1
    batch = rows.first.get_attribute("href")
    walk["batch"] = batch
    desk.follow(f"main a[href='{batch}']")
    shot(desk, "f1-batch-to-approve")
    assert badge(desk) == "待审批"
    desk.fill({"#approve input[name=confirm]": True})
    assert desk.submit("#approve", expect=r"done=batch_approved") == 1  # a double click: approved once
    assert badge(desk) == "已审批" and "批次已审批" in desk.flash()

    other = Desk.login_as(staff.browser, staff.base, "finance2", phone=True, start=batch, locale="en-US")
    try:
        shot(other, "f2-phone-approved")
        assert other.submit("#release", blocked=True) == 0  # the money step waits for its box
        other.fill({"#release input[name=confirm]": True})
        assert other.submit("#release", expect=r"done=batch_released") == 1
        assert badge(other) == "已发放"
        assert other.page.evaluate(FITS)
        # the people who did each step are read whole on the phone (理赔 杨帆, not 理赔 杨 / 帆)
        steps = whole(other, "#steps td.name")
        assert len(steps) >= 3 and all(n == 1 for _, n in steps), steps
        with other.page.expect_download() as download:
            other.page.click("a[href$='/bank-file?format=csv']")
        lines = Path(download.value.path()).read_text("utf-8").splitlines()
        shot(other, "f2-phone-released")
    finally:
        other.close()
    refs = [line.split(",")[0] for line in lines[1:] if line.strip()]
    assert len(refs) >= 2

    desk.allow = ("reference,status,bank_reference,reason",)  # the bank return's header, as the bank writes it
    desk.go(batch)
    form = "form[action$='/bank-return']"
    # The wrong file first: the bank file itself, sent back by mistake. Refused, nothing stored, said in Chinese.
    wrong = tmp_path / "银行文件.csv"
    wrong.write_text("\n".join(lines) + "\n", "utf-8")
    desk.page.set_input_files("#f-file", str(wrong))
    with desk.refusal(422):
        assert desk.submit(form) == 1
    shot(desk, "f1-wrong-return")
    assert badge(desk) == "已发放" and "未导入任何数据" in desk.text()
    columns = desk.page.locator("#bad-lines tbody td:nth-child(2)").all_inner_texts()
    assert columns and all(re.search(r"[\u4e00-\u9fff]|^—$", c) for c in columns), columns
    # Then the bank's return: the first line failed (the account closed), the others paid.
    right = tmp_path / "回单.csv"
    right.write_text("参考号,状态,银行流水号,原因\n" + f"{refs[0]},失败,,账户已销户\n"
                     + "".join(f"{r},成功,BK9{i:03d},\n" for i, r in enumerate(refs[1:], 1)), "utf-8")
    desk.page.set_input_files("#f-file", str(right))
    assert desk.submit(form, expect=r"done=return$") == 1
    shot(desk, "f1-returned")
    assert "银行回单已导入" in desk.flash()
    failed = desk.page.locator("#items tr:has(.pi-failed)")
    assert failed.count() == 1 and "账户已销户" in failed.inner_text()
    walk["failed_case"] = failed.locator("a[href^='/cases/case_']").first.get_attribute("href")
    walk["payee"] = failed.locator("td:nth-child(4)").inner_text().strip()
    walk["failed_number"] = failed.locator("td:nth-child(3)").inner_text().strip()
    walk["batch_code"] = desk.text("h1 .mono").strip()


def test_the_failed_payment_is_paid_again_after_two_people_change_the_payee(staff, walk) -> None:  # type: ignore[no-untyped-def]
    case = walk["failed_case"]
    desk = staff.desk("supervisor", start=case + "/payee")
    desk.fill({"#f-account_name": walk["payee"], "#f-bank": "农村商业银行",
               "#f-account_number": "6228 4800 1234 5678 901"})
    assert desk.submit("#payee") == 1
    shot(desk, "sup-payee-requested")
    reviewer = staff.desk("reviewer", start="/payee-changes?status=pending")
    row = reviewer.page.locator(f"main tr:has(a[href='{case}']):has(form.decide-approve)")
    assert row.count() == 1
    posts = len(reviewer.posts)
    row.locator("form.decide-approve button[type=submit]").click()  # the box not ticked: nothing is sent
    assert row.locator("input[name=confirm]").evaluate("e => e.validity.valueMissing")
    assert len(reviewer.posts) == posts
    row.locator("input[name=confirm]").check()
    with reviewer.page.expect_navigation():
        row.locator("form.decide-approve button[type=submit]").dblclick()
    reviewer.checked()
    assert "收款人变更已批准" in reviewer.flash()
    shot(reviewer, "rev-payee-approved")

    # the case is paid again: claims makes a batch of it (a double click, one batch), the failed one untouched
    claims = staff.desk("claims", start="/payments")
    before = claims.page.locator("main table a[href^='/payments/pb_']").count()
    assert claims.submit("form[action='/payments'][method=post]", expect=r"/payments/pb_\w+\?done=batch") == 1
    assert claims.page.locator(f"#items tbody tr:has(a[href='{case}'])").count() == 1
    claims.go("/payments")
    assert claims.page.locator("main table a[href^='/payments/pb_']").count() == before + 1
    claims.go(walk["batch"])
    assert badge(claims) == "已对账"
    shot(claims, "claims-reissued")


def test_the_reviewer_runs_a_sampling_round_to_its_verdict(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer", start="/sampling")
    # the form's own days hold no checks in the demo: refused, naming the county by its name, the days kept
    with desk.refusal(422):
        assert desk.submit("#start") == 1
    said = desk.page.locator("#start .error").all_inner_texts()
    assert any("示范县" in e and "没有完成入户核查的案件" in e for e in said), said
    # the drawn round's checks again: refused when started (not after both parties committed, at the freeze)
    desk.fill({"#f-checked_from": f"{DEMO_YEAR}-10-01", "#f-checked_to": f"{DEMO_YEAR}-10-31"})
    with desk.refusal(409):
        assert desk.submit("#start") == 1
    assert "同一批核查不能抽取两次样本" in desk.flash(), desk.flash()
    assert desk.page.input_value("#f-checked_from") == f"{DEMO_YEAR}-10-01"
    desk.fill({"#start input[name=kind][value=monetary]": True, "#start input[name=stratify_by_town]": False})
    assert desk.submit("#start", expect=r"/sampling/smp_\w+") == 1  # a double click: one round
    round_url = desk.path.split("?")[0]
    shot(desk, "rev-round-open")
    county, insurer = os.urandom(32), os.urandom(32)
    # a secret pasted where its commitment goes (64 hex digits too long): refused beside the field, kept as typed
    desk.fill({"#f-commitment-county": county.hex() + "00"})
    with desk.refusal(422):
        assert desk.submit("#commit-county") == 1
    assert desk.page.input_value("#f-commitment-county") == county.hex() + "00"
    desk.fill({"#f-commitment-county": hashlib.sha256(county).hexdigest()})
    assert desk.submit("#commit-county") == 1
    sup = staff.desk("supervisor", start=round_url)
    sup.fill({"#f-commitment-insurer": hashlib.sha256(insurer).hexdigest()})
    assert sup.submit("#commit-insurer") == 1
    desk.go(round_url)
    assert desk.submit("#freeze", blocked=True) == 0  # irreversible: the box first
    desk.fill({"#freeze input[name=confirm]": True})
    assert desk.submit("#freeze") == 1
    shot(desk, "rev-round-frozen")
    desk.fill({"#f-secret-county": county.hex()})
    assert desk.submit("#reveal-county") == 1
    sup.go(round_url)
    sup.fill({"#f-secret-insurer": insurer.hex()})
    assert sup.submit("#reveal-insurer") == 1
    assert "已抽取样本" in sup.text("main")
    walk["round"] = round_url

    phone = Desk.login_as(staff.browser, staff.base, "reviewer", phone=True, start=round_url, locale="en-US")
    try:
        shot(phone, "rev-phone-drawn")
        assert phone.page.evaluate(FITS)
        towns = whole(phone, "#sample td.name")
        assert towns and all(n == 1 for _, n in towns), towns
        # the two commitments wrap inside their table: who committed and when are read without scrolling sideways
        wrap = phone.page.locator("#commitments").evaluate("t => [t.parentElement.scrollWidth, t.parentElement.clientWidth]")
        assert wrap[0] <= wrap[1], wrap
        # the counts come first; each household's form is folded under its name, opened by its 录入 link
        assert phone.page.locator("#round-summary").bounding_box()["y"] < 900
        form = phone.page.locator("form[id^='result-']").first
        case = (form.get_attribute("id") or "")[len("result-"):]
        assert not form.is_visible()
        phone.page.locator(f"#item-{case} a[href='#result-{case}']").click()
        assert form.is_visible()
        form.locator("input[name=eligible][value=yes]").check()
        form.locator("input[name=per_capita_income]").fill("3,000")
        form.locator("input[name=relief_amount]").fill("20000")
        form.locator("select[name=met_member]").select_option(index=1)
        form.locator("input[name=signed_form_file]").set_input_files(files=[
            {"name": "复核记录.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%signed\n%%EOF\n"}])
        day = form.locator("input[name=visited_on]").input_value()
        form.locator("input[name=photos]").set_input_files(files=[
            {"name": "IMG.jpg", "mimeType": "image/jpeg", "buffer": photo_taken_on(day, case)}])
        assert phone.submit(f"form#result-{case}", expect=r"done=recheck") == 1
        shot(phone, "rev-phone-recorded")
        assert phone.page.locator(f"form#result-{case}").count() == 0
        # the verdict waits for the rest of the sample, and counts the one recorded once (a double click)
        assert phone.text("#report tr:has(th:text-is('已复核户数')) td").strip() == "1"
        assert "待完成" in phone.text("#report .badge")
    finally:
        phone.close()


def photo_taken_on(day: str, case_id: str) -> bytes:
    """A photo whose camera wrote `day` (YYYY-MM-DD) at 10:00 as its capture time (each its own file)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = case_id
    exif[0x8769] = {0x9003: day.replace("-", ":") + " 10:00:00"}
    buf = io.BytesIO()
    Image.new("RGB", (24, 18), (80, 120, 60)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_the_auditor_searches_the_log_and_reads_a_case(staff, walk) -> None:  # type: ignore[no-untyped-def]
    desk = Desk.login_as(staff.browser, staff.base, "auditor", start="/audit", locale="en-US")
    try:
        code = walk["batch_code"]
        # the batch as the pages show it (its code), not its stored id
        desk.fill({"#f-entry-q": code.lower()})
        assert desk.submit("#entry-search", double=False, expect=r"q=") == 0  # a search: no POST
        shot(desk, "aud-batch-found")
        named = desk.page.locator(f"#entry-list a[href='{walk['batch']}']")
        assert named.count() >= 3 and named.first.inner_text() == f"支付批次 {code}"
        actions = desk.page.locator("#entry-list tbody td:nth-child(3)").all_inner_texts()
        assert {"审批支付批次", "发放支付批次（生成银行文件）", "下载银行文件", "导入银行回单"} <= set(actions), actions
        # an entry's proof, checked against the signed checkpoint
        desk.follow("#entry-list tbody tr td.num a")
        assert "包含证明有效" in desk.text("#entry")
        # the failed case's history, by its number
        number = walk["failed_number"]
        desk.go("/audit")
        desk.fill({"#f-entry-q": number})
        assert desk.submit("#entry-search", double=False, expect=r"q=") == 0
        assert desk.page.locator(f"#entry-list a[href='{walk['failed_case']}']").count() >= 2
        desk.go(walk["failed_case"])
        history = desk.text("main")
        assert "支付失败" in history and "收款人" in history
        shot(desk, "aud-case")
    finally:
        desk.close()
    phone = Desk.login_as(staff.browser, staff.base, "auditor", phone=True, start="/audit", locale="en-US")
    try:
        assert phone.page.evaluate(FITS)
        shot(phone, "aud-phone")
    finally:
        phone.close()
