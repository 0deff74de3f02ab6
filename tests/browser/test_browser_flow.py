"""The whole flow in Chromium, each role through its own pages, as a tired clerk works: every action button is
double-clicked, and each double click has exactly one effect (one case, one check, one notice, one batch, …) and never a
destructive one. Every page on the way is checked by `desk.Desk` (Chinese only, no raw code, no console error, no
4xx/5xx but the refusals a step expects). And what no script can stop: the same form sent again from a tab opened
before the first submission is refused in Chinese (or joins what the first made), with no second effect.

Two households go through: 钱多福, whose application the clerk types in, and 冯满仓, from the medical-insurance
bureau's spreadsheet that the supervisor imports. Both have large medical costs, so their batch (with the demo's two
households waiting in 河口村) is over the contract's county sign-off threshold. The tests run in order and share
`flow`; a step whose predecessor failed is skipped."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browserkit import CHROMIUM, NO_CHROMIUM, move_server_days

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM,
                allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="the browser tests need the playwright package "
                                                    "(pip install 'playwright>=1.40')")

from desk import Desk, Shown, Staff, flow_day  # noqa: E402
from village_kit import wall_photo  # noqa: E402

from verifier.clock import Clock  # noqa: E402
from verifier.domain.idnumber import make_id_number  # noqa: E402

TOWN, VILLAGE = "城关镇", "南村"  # the demo's 南村 has determined cases but no reviewed ones: the notice is ours alone
TYPED = {"name": "钱多福", "id": make_id_number("340223", date(1968, 4, 9), 731), "cost": "300000"}
IMPORTED = {"name": "冯满仓", "id": make_id_number("340223", date(1971, 11, 23), 742), "cost": "280000"}
CASE_URL = r"/cases/(case_\w+)\?done="
# The visit, made (and recorded at the door) two days before today: a check recorded more than 3 days after its visit
# day would need a reason for the late entry. The village review follows the day after.
VISIT_DAY, REVIEW_DAY = 18, 19


@pytest.fixture(scope="module")
def flow() -> dict[str, Any]:
    return {"done": set()}


@pytest.fixture(scope="module")
def staff(server, browser) -> Iterator[Staff]:  # type: ignore[no-untyped-def]
    people = Staff(browser, server)
    yield people
    people.close()


def after(flow: dict[str, Any], *steps: str) -> None:
    missing = [s for s in steps if s not in flow["done"]]
    if missing:
        pytest.skip(f"an earlier step failed: {', '.join(missing)}")


def history(desk: Desk, what: str) -> int:
    """How many rows of the case's 办理记录 record `what` (the 事项 column, exactly)."""
    cells = desk.page.locator("h2:has-text('办理记录') + .table-wrap tbody tr td:nth-child(2)").all_inner_texts()
    return sum(c.strip() == what for c in cells)


def again(tab: Desk, form: str, *, confirm: bool = False) -> str:
    """Submit `form` once more from a tab opened before the first submission; what the page then says."""
    if confirm:
        tab.fill({f"{form} input[name=confirm]": True})
    with tab.refusal(400, 403, 409, 422):
        tab.submit(form, double=False)
    said = tab.text()
    tab.page.close()
    return said


def case_id_of(desk: Desk) -> str:
    m = re.search(r"/cases/(case_\w+)", desk.page.url)
    assert m, desk.page.url
    return m.group(1)


def test_supervisor_imports_a_bureau_spreadsheet(staff, flow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "乡镇", "村", "户类型", "原因", "金额", "日期"])
    sheet.append([IMPORTED["name"], IMPORTED["id"], TOWN, VILLAGE, "非高标准脱贫户", "因病", 280000, flow_day(0)])
    xlsx = tmp_path / "医保局转介名单.xlsx"
    book.save(xlsx)

    desk = staff.desk("supervisor")
    desk.follow("main a[href='/referrals/import']")
    desk.fill({"#f-channel": "medical_insurance"})
    desk.page.set_input_files("#f-file", str(xlsx))
    assert desk.submit("form[action='/referrals/import']") == 1
    assert "已导入 1 行：新建案件 1 件" in desk.flash()
    # the same file again (the clerk was not sure it went through): nothing new
    desk.page.set_input_files("#f-file", str(xlsx))
    desk.fill({"#f-channel": "medical_insurance"})
    assert desk.submit("form[action='/referrals/import']") == 1
    assert "此前已导入" in desk.flash()
    desk.follow("main .flash a[href='/cases?status=received']")
    assert desk.text("#results").count(IMPORTED["name"]) == 1
    flow["done"].add("imported")


def test_clerk_enters_an_application_and_screens_both(staff, flow) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("clerk")
    desk.follow("main a[href='/applications/new']")
    # The form proposes a day inside the contract in force (today); the paper form is dated earlier.
    assert desk.page.input_value("#f-referred_on") == Clock().today().isoformat()  # the county's day, not UTC's
    mistyped = TYPED["id"][:-1] + ("1" if TYPED["id"][-1] != "1" else "2")  # one digit off: the check digit fails
    desk.fill({"#f-name": TYPED["name"], "#f-id_number": mistyped, "#f-town": TOWN, "#f-village": VILLAGE,
               "#f-household_group": "exited_low_standard", "#f-cause": "illness", "#f-amount": TYPED["cost"],
               "#f-phone": "13912345678", "#f-referred_on": flow_day(0)})
    # A mistyped ID number: refused in Chinese, nothing stored, and what was typed is still there.
    with desk.refusal(422):
        assert desk.submit("form[action='/applications/new']") == 1
    assert desk.path == "/applications/new"
    assert desk.page.input_value("#f-name") == TYPED["name"]
    desk.fill({"#f-id_number": TYPED["id"]})
    stale = desk.second_tab("/applications/new")
    stale.fill({"#f-name": TYPED["name"], "#f-id_number": TYPED["id"], "#f-town": TOWN, "#f-village": VILLAGE,
                "#f-household_group": "exited_low_standard", "#f-cause": "illness", "#f-amount": TYPED["cost"],
                "#f-referred_on": flow_day(0)})
    assert desk.submit("form[action='/applications/new']", expect=CASE_URL) == 1
    flow["typed"] = case_id_of(desk)
    # the same application sent again from the other tab joins the same case: still one case
    stale.submit("form[action='/applications/new']", double=False, expect=CASE_URL + "merged")
    assert case_id_of(stale) == flow["typed"]
    stale.page.close()
    assert "申请已录入，已生成新案件" in desk.flash() and "已接收" in desk.text("h1")
    assert history(desk, "录入农户申请") == 1

    # Screening: 不通过 without a reason is refused; then 通过.
    desk.fill({"#screening input[value=reject]": True})
    with desk.refusal(422):
        assert desk.submit("#screening") == 1
    assert "已接收" in desk.text("h1")
    stale = desk.second_tab(desk.path)
    desk.fill({"#screening input[value=pass]": True})
    assert desk.submit("#screening", expect=r"done=screened") == 1
    assert "已初筛" in desk.text("h1") and history(desk, "初筛通过") == 1
    stale.fill({"#screening input[value=pass]": True})
    again(stale, "#screening")
    desk.go(f"/cases/{flow['typed']}")
    assert history(desk, "初筛通过") == 1

    after(flow, "imported")
    desk.go("/cases?status=received")
    assert desk.text("#results").count(TYPED["name"]) == 0
    desk.follow(f"#results a:has-text('{IMPORTED['name']}')")
    flow["imported"] = case_id_of(desk)
    desk.fill({"#screening input[value=pass]": True})
    assert desk.submit("#screening", expect=r"done=screened") == 1
    assert history(desk, "初筛通过") == 1
    flow["done"].add("screened")


def test_supervisor_schedules_both_visits(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "screened")
    desk = staff.desk("supervisor")
    desk.follow("main a[href='/schedule']")
    for n, key in enumerate(("typed", "imported")):
        form = f"form[action='/cases/{flow[key]}/schedule']"
        desk.go("/schedule")
        desk.follow(f"main a[href='/cases/{flow[key]}/schedule']")
        desk.fill({"#f-officer_1": Shown("核查员 王强"), "#f-officer_2": Shown("核查员 李娜"),
                   "#f-visit_on": flow_day(VISIT_DAY), "#f-reason": "两户同村，由本组一并走访"})  # why by hand
        if n == 0:
            assert desk.submit(form, blocked=True) == 0  # no vehicle: the browser asks for it
            desk.fill({"#f-vehicle": "车01", "#f-officer_2": Shown("核查员 王强")})
            with desk.refusal(422, 409):  # the same officer twice: refused, what was chosen stays chosen
                assert desk.submit(form) == 1
            assert "核查员 王强" in desk.page.locator("#f-officer_1 option:checked").inner_text()
            assert desk.page.input_value("#f-vehicle") == "车01" and desk.page.input_value("#f-reason")
            desk.fill({"#f-officer_2": Shown("核查员 李娜")})
        desk.fill({"#f-vehicle": "车01"})
        assert desk.submit(form, expect=r"done=scheduled") == 1
        assert "已排期" in desk.text("h1") and history(desk, "安排入户核查") == 1
    flow["done"].add("scheduled")


def test_field_officer_records_both_checks_on_a_phone(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "scheduled")
    desk = staff.desk("officer1", phone=True, start="/visits")
    for key, person, account in (("typed", TYPED, "6222020200118899001"), ("imported", IMPORTED, "6222020200118899002")):
        desk.go("/visits")
        desk.follow(f"#visit-{flow[key]} a[href='/cases/{flow[key]}/check']")
        assert desk.page.input_value("#f-members-0-name") == person["name"]  # the head, from the referral
        form = f"form[action='/cases/{flow[key]}/check']"
        desk.fill({"#f-visited_on": flow_day(VISIT_DAY), "#f-members-0-labour": "partial",
                   "#f-income-wages": "2400", "#f-rigid_expenditure-medical_self_paid": person["cost"],
                   "input[name=stable_income][value=no]": True, "#f-payee-account_name": person["name"],
                   "#f-payee-bank": "农村商业银行", "#f-payee-account_number": account,
                   "#f-cross-medical_insurance": "consistent", "#f-note": "已核对住院发票",
                   # the hospital's invoice behind the cost (a determination counts only what bills back)
                   "#f-bills-0-issuer": "县人民医院", "#f-bills-0-number": f"ZY-{account[-4:]}",
                   "#f-bills-0-amount": person["cost"]})
        if desk.page.locator("#f-members-0-id_number").input_value() == "":
            desk.fill({"#f-members-0-id_number": person["id"]})
        # The supervisor put the visit on the schedule today, after the visit day: the form asks why (补录原因).
        assert desk.page.locator("#f-late_entry_reason").is_visible()
        desk.fill({"#f-late_entry_reason": "主管今天补排走访，入户当天村里无信号，先记在纸上"})
        assert desk.submit(form, expect=CASE_URL + "check") == 1
        assert "入户核查已提交" in desk.flash() and "已核查" in desk.text("h1")
        assert history(desk, "录入入户核查") == 1
        width = desk.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the case page scrolls sideways on a phone ({width} px)"
    desk.go("/visits")
    assert TYPED["name"] not in desk.text() and IMPORTED["name"] not in desk.text()  # nothing left to visit
    flow["done"].add("checked")


def test_supervisor_confirms_both_determinations(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "checked")
    desk = staff.desk("supervisor")
    desk.follow("main a[href='/cases?status=checked']")
    for key in ("typed", "imported"):
        desk.go(f"/cases/{flow[key]}")
        desk.follow(f"main a[href='/cases/{flow[key]}/determination']")
        assert "100,000.00 元" in desk.text()  # the contract's cap per year
        form = f"form[action='/cases/{flow[key]}/determination']"
        stale = desk.second_tab(desk.path)
        assert desk.submit(form, expect=CASE_URL + "determined") == 1
        assert "已认定" in desk.text("h1") and history(desk, "认定符合条件") == 1
        again(stale, form)
        desk.go(f"/cases/{flow[key]}")
        assert history(desk, "认定符合条件") == 1
    flow["done"].add("determined")


def test_clerk_records_the_village_review_and_posts_and_closes_the_notice(server, staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "determined")
    desk = staff.desk("clerk")
    desk.follow("main a[href='/cases?status=determined']")
    for key in ("typed", "imported"):
        desk.follow(f"#results a[href='/cases/{flow[key]}']")
        desk.fill({"#review #f-held_on": flow_day(REVIEW_DAY), "#review input[value=pass]": True,
                   "#review #f-note": "村民代表评议通过"})
        assert desk.submit("#review", expect=CASE_URL + "review") == 1
        assert "村级评议已记录" in desk.flash() and history(desk, "村级评议通过") == 1
        desk.go("/cases?status=determined")

    notices_here = f"main table a[href^='/notices/']:has-text('{TOWN}{VILLAGE}')"
    desk.go("/notices")
    before = desk.page.locator(notices_here).count()
    desk.go("/notices/new")
    desk.follow(f"main a:has-text('{TOWN} {VILLAGE}')")  # the village waiting for its notice, prefilled
    desk.fill({"#f-posted_on": Clock().today().isoformat()})
    stale = desk.second_tab(desk.path)
    stale.fill({"#f-posted_on": Clock().today().isoformat()})
    assert desk.submit("form[action='/notices/new']", expect=r"/notices/\w+\?done=notice") == 1
    notice = desk.path.split("?")[0]
    listed = desk.text("main")
    assert TYPED["name"] in listed and IMPORTED["name"] in listed
    again(stale, "form[action='/notices/new']")  # nobody left to list: refused
    desk.go("/notices")
    assert desk.page.locator(notices_here).count() == before + 1  # one notice, not two

    # The town has one clerk: the insurer's officer who comes to the village photographs the notice on the wall (the
    # clerk who posted it may not confirm it); until it is confirmed no batch would pay these households. Its two
    # households passed their village review one by one (no signed meeting record), so the county reviewer confirms
    # it, saying how the review was verified.
    officer = staff.desk("officer3")
    officer.go(notice)
    officer.page.set_input_files("#f-photo", files=[{"name": "公示栏.jpg", "mimeType": "image/jpeg",
                                                     "buffer": wall_photo(Clock().today())}])
    assert officer.submit("#wall-photo-form", double=False, expect=r"done=wall_photo") == 1
    assert officer.page.locator("#confirm-posting input[name=confirm]").count() == 0
    reviewer = staff.desk("reviewer")
    reviewer.go(notice)
    reviewer.fill({"#confirm-posting input[name=note]": "到村查阅了纸质评议记录和签到表",
                   "#confirm-posting input[name=confirm]": True})
    assert reviewer.submit("#confirm-posting", expect=r"done=posting_confirmed") == 1
    assert "已确认张贴" in reviewer.text("#posting")

    # A notice is entered the day it goes up (or the next) and runs its full period: the server's days move on.
    # Everyone logs in again on that later day (the sessions of a week ago have ended).
    move_server_days(server, 8)
    staff.close()
    desk = staff.desk("clerk")
    desk.go(notice)
    close = f"form[action='{notice}/close']"
    assert desk.submit(close, blocked=True) == 0  # the confirmation box is not ticked: nothing happens
    desk.fill({f"{close} input[name=confirm]": True})
    stale = desk.second_tab(notice)
    assert desk.submit(close, expect=r"done=closed") == 1
    assert "公示已结束" in desk.flash()
    again(stale, close, confirm=True)
    desk.go(f"/cases/{flow['typed']}")
    assert "待支付" in desk.text("h1")
    flow["done"].add("noticed")


def batch_rows(desk: Desk, query: str) -> list[str]:
    desk.go("/payments" + query)
    return [href for href in desk.page.locator("main table a[href^='/payments/pb_']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")]


def badge(desk: Desk) -> str:
    return desk.text("h1 .badge").strip()


def test_claims_makes_one_batch(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "noticed")
    desk = staff.desk("claims")
    before = batch_rows(desk, "")
    desk.follow("main a[href='/payments']")
    stale = desk.second_tab("/payments")
    assert desk.submit("form[action='/payments'][method=post]", expect=r"/payments/pb_\w+\?done=batch") == 1
    flow["batch"] = desk.path.split("?")[0]
    assert "支付批次已生成" in desk.flash() and badge(desk) == "待审批"
    items = desk.text("#items")
    assert TYPED["name"] in items and IMPORTED["name"] in items
    assert stale.page.locator("form[action='/payments'][method=post]").count() == 1
    again(stale, "form[action='/payments'][method=post]")  # no case is ready any more: refused
    after_rows = batch_rows(desk, "")
    assert len(after_rows) == len(before) + 1 and flow["batch"] in after_rows  # one batch, not two
    desk.go(flow["batch"])
    assert "需要" in desk.text("main")  # over the sign-off threshold: the county signs it off
    flow["done"].add("batch")


def test_finance_approves_once(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "batch")
    desk = staff.desk("finance1", start="/payments?todo=approve")
    desk.follow(f"main a[href='{flow['batch']}']")
    stale = desk.second_tab(flow["batch"])
    assert desk.submit("#approve", blocked=True) == 0  # the fund is committed: the box first
    desk.fill({"#approve input[name=confirm]": True})
    assert desk.submit("#approve", expect=r"done=batch_approved") == 1
    assert "批次已审批" in desk.flash() and badge(desk) == "已审批"
    again(stale, "#approve", confirm=True)
    desk.go(flow["batch"])
    assert badge(desk) == "已审批"
    assert not [p for p in desk.posts + stale.posts if p.endswith("/cancel")]
    # releasing before the county's sign-off: there is no button for it
    assert desk.page.locator("#release").count() == 0
    flow["done"].add("approved")


def test_county_reviewer_signs_off_the_large_batch(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "approved")
    desk = staff.desk("reviewer", start="/payments?todo=signoff")
    desk.follow(f"main a[href='{flow['batch']}']")
    assert desk.submit("#signoff", blocked=True) == 0  # the box is not ticked
    desk.fill({"#signoff input[name=confirm]": True})
    stale = desk.second_tab(flow["batch"])
    assert desk.submit("#signoff", expect=r"done=batch_signed_off") == 1
    assert "县级签批" in desk.flash() and badge(desk) == "县级已签批"
    again(stale, "#signoff", confirm=True)
    desk.go(flow["batch"])
    assert badge(desk) == "县级已签批"
    flow["done"].add("signed_off")


def test_finance_releases_once_and_reconciles_the_bank_return(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "signed_off")
    desk = staff.desk("finance2", start="/payments?todo=release")
    desk.allow = ("reference,status,bank_reference,reason",)  # the bank return's header, as the bank writes it
    desk.follow(f"main a[href='{flow['batch']}']")
    desk.fill({"#release input[name=confirm]": True})
    stale = desk.second_tab(flow["batch"])
    assert desk.submit("#release", expect=r"done=batch_released") == 1
    assert "批次已发放" in desk.flash() and badge(desk) == "已发放"
    again(stale, "#release", confirm=True)
    desk.go(flow["batch"])
    assert badge(desk) == "已发放"
    assert not [p for p in desk.posts + stale.posts if p.endswith("/cancel")]
    with desk.page.expect_download() as download:
        desk.page.click("a[href$='/bank-file?format=xlsx']")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    names = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(TYPED["name"] in n for n in names) and any(IMPORTED["name"] in n for n in names)
    with desk.page.expect_download() as download:
        desk.page.click("a[href$='/bank-file?format=csv']")
    lines = Path(download.value.path()).read_text("utf-8").splitlines()
    assert lines[0].startswith("reference,")
    refs = [line.split(",")[0] for line in lines[1:] if line.strip()]
    assert len(refs) == 4

    # The releaser is offered no import of the return: the finance officer who approved imports it.
    assert desk.page.locator("form[action$='/bank-return']").count() == 0
    assert "银行回单须由另一名财务人员导入" in desk.text("main")
    desk = staff.desk("finance1", start="/payments")
    desk.allow = ("reference,status,bank_reference,reason",)
    desk.go(flow["batch"])
    # The bank's return: first with a line the bank mangled (every problem listed in Chinese, nothing stored) ...
    returned = Path(download.value.path()).with_name("回单.csv")
    returned.write_text("reference,status,bank_reference,reason\n" + f"{refs[0]},也许,,\n"
                        + "".join(f"{r},success,BK{i:04d},\n" for i, r in enumerate(refs[1:], 1)), "utf-8")
    form = "form[action$='/bank-return']"
    desk.page.set_input_files("#f-file", str(returned))
    with desk.refusal(422):
        assert desk.submit(form) == 1
    assert desk.page.locator("#bad-lines tbody tr").count() == 1 and badge(desk) == "已发放"
    # ... then as it should be: reconciled once, and the same file again changes nothing
    returned.write_text("reference,status,bank_reference,reason\n"
                        + "".join(f"{r},success,BK{i:04d},\n" for i, r in enumerate(refs)), "utf-8")
    desk.page.set_input_files("#f-file", str(returned))
    assert desk.submit(form, expect=r"done=return$") == 1
    assert "银行回单已导入" in desk.flash() and badge(desk) == "已对账"
    desk.go(f"/cases/{flow['typed']}")
    assert "已支付" in desk.text("h1")
    flow["done"].add("released")


def report_figure(desk: Desk, label: str) -> str:
    return desk.text(f"tr:has(th:text-is('{label}')) td").strip()


def signed_record(case_id: str) -> bytes:
    """A scan of the re-check record the household member signed (each its own file)."""
    return f"%PDF-1.4\n% re-check record of {case_id}, signed\n%%EOF\n".encode()


def photo_taken_on(day: str, case_id: str) -> bytes:
    """A photo whose camera wrote `day` (YYYY-MM-DD) at 10:00 as its capture time (each its own file)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010E] = case_id
    exif[0x8769] = {0x9003: day.replace("-", ":") + " 10:00:00"}
    buf = io.BytesIO()
    Image.new("RGB", (24, 18), (80, 120, 60)).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_county_reviewer_works_the_drawn_sampling_round(staff, flow) -> None:  # type: ignore[no-untyped-def]
    desk = staff.desk("reviewer", start="/sampling")
    desk.follow("main tr:has-text('已抽取样本') a[href^='/sampling/smp_']")
    results = "form[id^='result-']"
    assert desk.page.locator(results).count() >= 1
    first = desk.page.locator(results).first
    if not first.is_visible():  # folded under the household's name
        desk.page.locator(f"#entry-{(first.get_attribute('id') or '')[len('result-'):]} > summary").click()
    # 保存 without the income: the browser asks for it, nothing is sent
    first.locator("input[name=eligible][value=yes]").check()
    assert desk.submit(f"form#{first.get_attribute('id')}", blocked=True) == 0
    done = 0
    while desk.page.locator(results).count():
        form = desk.page.locator(results).first
        case = (form.get_attribute("id") or "")[len("result-"):]
        if not form.is_visible():  # folded under the household's name: its row's 录入 opens it
            desk.page.locator(f"#item-{case} a[href='#result-{case}']").click()
        form.locator("input[name=eligible][value=yes]").check()
        form.locator("input[name=per_capita_income]").fill("3000")
        form.locator("input[name=relief_amount]").fill("20000")
        form.locator("input[name=note]").fill("复核入户，情况属实")
        # the county's visit: the member met, the record they signed, a photo taken on the visit day
        form.locator("select[name=met_member]").select_option(index=1)
        day = form.locator("input[name=visited_on]").input_value()
        form.locator("input[name=signed_form_file]").set_input_files(files=[
            {"name": "复核记录.pdf", "mimeType": "application/pdf", "buffer": signed_record(case)}])
        form.locator("input[name=photos]").set_input_files(files=[
            {"name": "IMG.jpg", "mimeType": "image/jpeg", "buffer": photo_taken_on(day, case)}])
        assert desk.submit(f"form#result-{case}", expect=r"done=recheck") == 1
        done += 1
        assert report_figure(desk, "已复核户数") == str(done)  # one result per double click
        assert desk.page.locator(f"form#result-{case}").count() == 0
        assert done <= 60
    assert report_figure(desk, "已复核户数") == report_figure(desk, "抽样户数")
    assert "待完成" not in desk.text("h1")
    flow["done"].add("sampled")


def test_auditor_reads_the_record(staff, flow) -> None:  # type: ignore[no-untyped-def]
    after(flow, "released")
    desk = staff.desk("auditor")
    desk.follow("nav a[href='/audit']")
    size = int(desk.text("dt:text-is('日志条数') + dd").strip())
    desk.fill({"#f-index": "第一条"})  # not a number: the browser asks for one
    assert desk.submit("form[action='/audit']", blocked=True) == 0
    desk.fill({"#f-index": str(size - 1)})
    assert desk.submit("form[action='/audit']", expect=rf"index={size - 1}") == 0  # a search, no POST
    assert "包含证明有效" in desk.text()
    desk.go("/audit?index=第一条")  # typed into the address bar: a Chinese hint, no error page
    assert "请输入记录序号" in desk.text()

    desk.go(f"/cases/{flow['typed']}")
    # the application twice (the second, from the other tab, joined the case), every other step once
    for step, times in (("录入农户申请", 2), ("初筛通过", 1), ("安排入户核查", 1), ("录入入户核查", 1),
                        ("认定符合条件", 1), ("村级评议通过", 1), ("进入公示", 1), ("公示结束，待支付", 1)):
        assert history(desk, step) == times, step
    desk.go(flow["batch"])
    assert badge(desk) == "已对账" and "228,200.00 元" in desk.text()
    desk.go("/sampling")
    desk.follow("main a[href^='/sampling/smp_']")
    desk.go("/fund")
    desk.go("/reports?county_code=340223&month=" + flow_day(0)[:7])
    desk.go("/conflicts")
    desk.go("/notices")
