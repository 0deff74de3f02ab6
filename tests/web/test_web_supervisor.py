"""The supervisor's pages: scheduling by hand, the planner, confirming a determination, importing a referral file."""

from __future__ import annotations

import re

from factories import make_case, new_id_number, staff
from pagekit import status_of


def test_scheduling_a_case_by_hand(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="screened")
    team = staff(ctx, team=50)
    pages.as_("sup1", "insurer_supervisor")
    form = pages.get(f"/cases/{case_id}/schedule").text
    assert "安排入户核查" in form and team.officer1.id in form and "核查期限" in form
    today = clock.today().isoformat()
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team.officer1.id, "officer_2": team.officer1.id,
                                                  "vehicle": "车09", "visit_on": today})
    assert r.status_code == 422 and "两名核查员不能是同一人" in r.text and 'value="车09"' in r.text
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team.officer1.id, "officer_2": team.officer2.id,
                                                  "vehicle": "", "visit_on": "2031-01-01"})
    assert r.status_code == 422 and "请填写车辆" in r.text
    assert "请说明不用自动排期" in r.text.split('id="f-reason"')[1].split("</div>")[0]  # told with the vehicle
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team.officer1.id, "officer_2": team.officer2.id,
                                                  "vehicle": "车09", "visit_on": today})
    assert r.status_code == 422 and "请说明不用自动排期" in r.text  # a hand-picked visit says why
    r = pages.post(f"/cases/{case_id}/schedule", {"officer_1": team.officer1.id, "officer_2": team.officer2.id,
                                                  "vehicle": "车09", "visit_on": today, "reason": "农户约定今日在家"})
    assert r.status_code == 303 and status_of(ctx, case_id) == "scheduled"
    assert "走访已安排" in pages.get(r.headers["location"]).text


def test_the_planner_previews_then_applies(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    ids = [make_case(ctx, stage="screened", village=v) for v in ("东村", "西村")]
    pages.as_("sup1", "insurer_supervisor")
    page = pages.get("/schedule").text
    assert "待排期案件" in page and all(i in page for i in ids)
    params = {"county_code": "340223", "from": clock.today().isoformat(), "days": "5"}
    r = pages.post("/schedule/plan", params)
    assert r.status_code == 200 and "排期预览" in r.text and "应用以上排期（2 户）" in r.text
    assert all(status_of(ctx, i) == "screened" for i in ids)  # a preview changes nothing
    r = pages.post("/schedule/plan", {**params, "days": "0"})
    assert r.status_code == 422
    # a mistyped start day and days out of range: both told at once, the typed start kept
    r = pages.post("/schedule/plan", {**params, "from": "明天", "days": "90"})
    assert r.status_code == 422 and "日期格式应为" in r.text and "排期天数应在 1 至 60 天之间" in r.text
    assert 'value="明天"' in r.text and 'value="90"' in r.text
    r = pages.post("/schedule/plan", {**params, "apply": "1"})
    assert r.status_code == 303 and all(status_of(ctx, i) == "scheduled" for i in ids)


def test_a_determination_is_shown_before_it_is_confirmed(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", medical=4_200_000, wages=800_000, members=3)
    pages.as_("sup1", "insurer_supervisor")
    text = pages.get(f"/cases/{case_id}/determination").text
    assert "认定结果（待确认）" in text and "符合条件" in text and "分档计算" in text and "确认认定结果" in text
    assert re.search(r'<td class="num"><strong>[\d,]+\.\d\d 元</strong></td>', text)
    assert status_of(ctx, case_id) == "checked"
    r = pages.post(f"/cases/{case_id}/determination")
    assert r.status_code == 303 and status_of(ctx, case_id) == "determined"
    assert "认定结果已确认" in pages.get(r.headers["location"]).text
    # Back to the preview, or the confirmation sent again from a second tab: the case, saying it was confirmed
    for again in (pages.get(f"/cases/{case_id}/determination"), pages.post(f"/cases/{case_id}/determination")):
        assert again.status_code == 303 and again.headers["location"].startswith(f"/cases/{case_id}?")
        assert "认定结果此前已确认（重复提交未再保存）" in pages.get(again.headers["location"]).text
    assert status_of(ctx, case_id) == "determined"


def _csv(rows: list[list[str]]) -> bytes:
    head = "id_number,name,town,village,household_group,cause,amount,referred_on"
    return ("\n".join([head, *(",".join(r) for r in rows)]) + "\n").encode("utf-8")


def test_importing_a_referral_file(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    pages.as_("sup1", "insurer_supervisor")
    assert "导入监测信息" in pages.get("/referrals/import").text
    bad = _csv([[new_id_number(), "甲", "城关镇", "东村", "low_income", "illness", "100.00", "2020-05-20"],
                ["340223199001011235", "乙", "城关镇", "东村", "low_income", "illness", "100.00", "2020-05-20"],
                [new_id_number(), "丙", "城关镇", "东村", "low_income", "flood", "abc", "2020-05-20"]])
    form = {"channel": "medical_insurance", "county_code": "340223"}
    r = pages.post("/referrals/import", form, files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and "文件有误，未导入任何数据" in r.text
    rows = re.findall(r'<tr><td class="num">(\d+)</td>', r.text)
    assert rows.count("3") == 1 and rows.count("4") == 2  # every bad cell, with its row
    assert "校验位应为" in r.text
    assert "已导入" not in r.text
    good = _csv([[new_id_number(), "甲", "城关镇", "东村", "low_income", "illness", "100.00", "2020-05-20"],
                 [new_id_number(), "乙", "城关镇", "西村", "exited_low_standard", "因病", "200", "2020-05-21"]])
    r = pages.post("/referrals/import", form, files={"file": ("good.csv", good, "text/csv")})
    assert r.status_code == 303 and "已导入 2 行：新建案件 2 件" in pages.get(r.headers["location"]).text
    r = pages.post("/referrals/import", form, files={"file": ("good.csv", good, "text/csv")})
    assert "此前已导入" in pages.get(r.headers["location"]).text
    r = pages.post("/referrals/import", form)
    assert r.status_code == 422 and "请选择要导入的文件" in r.text
    # no channel chosen: said in words beside its field, with a missing file, never as the service's list of codes
    r = pages.post("/referrals/import", {**form, "channel": ""})
    assert r.status_code == 422 and "请选择要导入的文件" in r.text
    assert "请选择来源渠道" in r.text.split('id="f-channel"')[1].split("</div>")[0]
    r = pages.post("/referrals/import", {**form, "channel": ""}, files={"file": ("good.csv", good, "text/csv")})
    assert r.status_code == 422 and "请选择来源渠道" in r.text and "(medical_insurance)" not in r.text


def test_the_county_reviewer_imports_too(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev1", "county_reviewer")
    assert pages.get("/referrals/import").status_code == 200
    assert pages.get("/schedule").status_code == 403
