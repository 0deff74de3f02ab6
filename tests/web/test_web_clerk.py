"""The town clerk's pages: applications, screening, village review, notices with objections, closing, the .docx."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import make_case, new_id_number
from pagekit import status_of

GOOD = {"county_code": "340223", "name": "赵大山", "town": "城关镇", "village": "北村",
        "household_group": "low_income", "cause": "illness", "amount": "12,500.5", "referred_on": "2020-05-30",
        "household_size": "4", "phone": "13800001111", "note": "住院"}


def test_an_application_with_mistakes_comes_back_with_each_message_beside_its_field(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    form = pages.get("/applications/new").text
    assert "录入农户申请" in form and 'inputmode="decimal"' in form and 'pattern="\\s*[0-9０-９]{17}[0-9Xx０-９Ｘｘ]\\s*"' in form
    bad = {**GOOD, "id_number": "340223199001011235", "amount": "12.345", "household_size": "四"}
    r = pages.post("/applications/new", bad)
    assert r.status_code == 422
    assert "未能保存" in r.text
    assert re.search(r'id="f-id_number"[^>]*value="340223199001011235"[^>]*aria-invalid="true"', r.text)
    assert "校验位应为" in r.text.split('id="f-id_number"')[1].split("</div>")[0]
    assert "最多两位小数" in r.text.split('id="f-amount"')[1].split("</div>")[0]
    assert 'value="赵大山"' in r.text and 'value="北村"' in r.text and "住院</textarea>" in r.text
    assert 'value="low_income" selected' in r.text


def test_an_application_without_its_household_group_says_so_with_its_other_mistakes(pages) -> None:  # type: ignore[no-untyped-def]
    """户类型 left unchosen beside a mistyped ID number: both are told at once, not the group only once the ID is right."""
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/applications/new", {**GOOD, "id_number": "34022319900101123", "household_group": ""})
    assert r.status_code == 422
    assert "应为 18 位" in r.text.split('id="f-id_number"')[1].split("</div>")[0]
    assert "必填" in r.text.split('id="f-household_group"')[1].split("</div>")[0]


def test_a_good_application_becomes_a_received_case(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("clerk1", "town_clerk")
    r = pages.post("/applications/new", {**GOOD, "id_number": new_id_number()})
    assert r.status_code == 303
    case_url = r.headers["location"]
    assert re.fullmatch(r"/cases/case_\w+\?done=application", case_url)
    text = pages.get(case_url).text
    assert "申请已录入" in text and "赵大山户" in text and "已接收" in text and "12,500.50" in text
    assert "初步筛选" in text  # the clerk's next step is right there


def test_screening_needs_a_reason_to_reject(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    pages.as_("clerk1", "town_clerk")
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject"})
    assert r.status_code == 422 and "不通过时须填写原因" in r.text and 'value="reject" checked' in r.text
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "pass"})
    assert r.status_code == 303 and status_of(ctx, case_id) == "screened"
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "pass"})
    assert r.status_code == 409 and "案件当前状态为「已初筛」，不能初步筛选" in r.text


def test_village_review_then_notice_objection_and_close(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    a = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    b = make_case(ctx, stage="determined", village="东村", head_name="乙户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    r = pages.post(f"/cases/{a}/review", {"held_on": today, "result": "fail"})
    assert r.status_code == 422 and "未通过时须填写村民代表的意见" in r.text
    r = pages.post(f"/cases/{a}/review", {"held_on": "2030-01-01", "result": "pass"})
    assert r.status_code == 422 and "不能晚于今天" in r.text
    for case_id in (a, b):
        r = pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass", "note": "评议通过"})
        assert r.status_code == 303 and status_of(ctx, case_id) == "reviewed"

    listing = pages.get("/notices").text
    assert "待公示" in listing and "东村" in listing and "/notices/new?county_code=340223" in listing
    form = pages.get("/notices/new?county_code=340223").text  # the date field says the days the server takes
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    assert re.search(r'<input type="text" id="f-posted_on" name="posted_on"[^>]*pattern=', form)
    assert f"可填 {yesterday} 至 {today}" in form, "posted_on says no days"
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "西村", "posted_on": today})
    assert r.status_code == 422 and "没有已通过村级评议、待公示的案件" in r.text and 'value="西村"' in r.text
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    assert r.status_code == 303
    notice_url = r.headers["location"].split("?")[0]
    text = pages.get(notice_url).text
    assert "公示已发布" not in text  # the message comes with ?done only
    assert "甲户主" in text and "乙户主" in text and "公示预览" in text and 'class="notice-table"' in text
    assert status_of(ctx, a) == "in_notice"

    doc = pages.get(notice_url + "/document")
    assert doc.status_code == 200 and doc.content[:2] == b"PK"
    assert doc.headers["content-type"].startswith("application/vnd.openxmlformats")

    r = pages.post(notice_url + "/objections", {"case_id": a, "received_on": today, "summary": ""})
    assert r.status_code == 422 and "请填写异议内容" in r.text
    r = pages.post(notice_url + "/objections", {"case_id": a, "received_on": today, "summary": "家中有营运车辆"})
    assert r.status_code == 303
    text = pages.get(notice_url).text
    assert "家中有营运车辆" in text and "待处理" in text
    objection = re.search(r'action="/objections/(obj_\w+)/resolution"', text).group(1)

    clock.advance(days=8)
    r = pages.post(notice_url + "/close", {"confirm": "yes"})
    assert r.status_code == 409 and "请先处理异议" in r.text
    r = pages.post(f"/objections/{objection}/resolution", {"note": "核实"})
    assert r.status_code == 422 and "请选择异议成立或不成立" in r.text
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "upheld", "note": "核实有车"})
    assert r.status_code == 422 and "请勾选确认框" in r.text and status_of(ctx, a) == "in_notice"  # not confirmed
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "upheld", "note": "核实有车", "confirm": "yes"})
    assert r.status_code == 303 and status_of(ctx, a) == "screened"  # to be scheduled again
    r = pages.post(notice_url + "/close")
    assert r.status_code == 422 and "请先勾选确认框" in r.text and status_of(ctx, b) == "in_notice"  # not confirmed
    r = pages.post(notice_url + "/close", {"confirm": "yes"})
    assert r.status_code == 303 and "done=closed" in r.headers["location"]
    assert status_of(ctx, b) == "ready_to_pay"
    assert "已结束" in pages.get(notice_url).text


def test_closing_before_the_period_ends_is_refused(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    a = make_case(ctx, stage="determined")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    pages.post(f"/cases/{a}/review", {"held_on": today, "result": "pass"})
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    r = pages.post(notice_url + "/close", {"confirm": "yes"})
    assert r.status_code == 409 and "方可结束公示" in r.text


def test_an_absurd_household_size_is_a_field_message(pages, users) -> None:  # type: ignore[no-untyped-def]
    from factories import new_id_number

    users.add("clerk-hs", "town_clerk", counties=("340223",))
    pages.login("clerk-hs")
    form = pages.client.get("/applications/new")
    assert form.status_code == 200
    from pagekit import csrf_of

    r = pages.client.post("/applications/new", data={
        "_csrf_token": csrf_of(form.text), "county_code": "340223", "id_number": new_id_number(), "name": "张三",
        "town": "城关镇", "village": "东村", "household_group": "low_income", "cause": "illness",
        "amount": "30000.00", "referred_on": "2020-05-20", "household_size": "9" * 5000})
    assert r.status_code in (200, 400, 422), r.status_code


def test_objection_page_records_who_how_and_the_resolution(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    a = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today().isoformat()
    pages.post(f"/cases/{a}/review", {"held_on": today, "result": "pass"})
    r = pages.post("/notices/new", {"county_code": "340223", "town": "城关镇", "village": "东村", "posted_on": today})
    notice_url = r.headers["location"].split("?")[0]
    text = pages.get(notice_url).text
    assert "反映人" in text and "村意见箱" in text and "同村村民" in text
    r = pages.post(notice_url + "/objections", {"case_id": a, "received_on": today, "summary": "家中有营运车辆",
                                                "raised_by": "mayor", "received_via": "box"})
    assert r.status_code == 422 and "请选择反映人" in r.text
    r = pages.post(notice_url + "/objections", {"case_id": a, "received_on": today, "summary": "家中有营运车辆",
                                                "raised_by": "relative", "received_via": "box"})
    assert r.status_code == 303
    text = pages.get(notice_url).text
    assert "反映人：亲属" in text and "收到方式：村意见箱" in text
    objection = re.search(r'action="/objections/(obj_\w+)/resolution"', text).group(1)
    clock.advance(days=2)
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "dismissed", "note": "核实无车",
                                                           "resolved_on": today})
    assert r.status_code == 403 and "须由本乡镇其他经办人或县级复核人员决定" in r.text  # recorded and posted by clerk1
    pages.as_("clerk2", "town_clerk")  # another clerk of the town decides
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "dismissed", "note": "核实无车",
                                                           "resolved_on": "2001-01-01"})
    assert r.status_code == 422 and "不能早于异议收到日期" in r.text
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "dismissed", "note": "核实无车",
                                                           "resolved_on": "不是日期"})
    assert r.status_code == 422 and "日期格式应为" in r.text
    r = pages.post(f"/objections/{objection}/resolution", {"outcome": "dismissed", "note": "核实无车",
                                                           "resolved_on": today})
    assert r.status_code == 303
    text = pages.get(notice_url).text
    assert "处理意见：核实无车" in text and f"处理日期：{today}" in text and "处理人：" in text
