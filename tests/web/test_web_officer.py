"""The field officer's pages: their visits, and the home check form (without JavaScript, as a phone may send it)."""

from __future__ import annotations

import re

from factories import make_case, new_id_number
from pagekit import FACTORY_PASSWORD, officers_of, status_of

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _form(case_id: str, pages) -> str:  # type: ignore[no-untyped-def]
    r = pages.get(f"/cases/{case_id}/check")
    assert r.status_code == 200, r.text
    return r.text


def _prefilled(html: str) -> dict[str, str]:
    return {m.group(1).replace("&#34;", '"'): m.group(2)
            for m in re.finditer(r'<input type="text" id="[^"]*" name="(members\[\d+\]\.\w+)" value="([^"]*)"', html)}


def good_check(html: str, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    data = {k: v for k, v in _prefilled(html).items() if v}
    data.update({"visited_on": clock.today().isoformat(), "members[0].relation": "head", "members[0].labour": "partial",
                 "members[1].name": "王小明", "members[1].id_number": new_id_number(), "members[1].relation": "child",
                 "members[1].labour": "none", "income.wages": "3,000", "income.transfer_net": "1200.5",
                 "rigid_expenditure.medical_self_paid": "42000", "stable_income": "no",
                 "payee.account_name": data.get("members[0].name", ""), "payee.bank": "农村商业银行", "payee.account_number": "6222 0202 0011 2233",
                 "cross.medical_insurance": "consistent", "cross.bank": "inconsistent", "cross.bank.note": "有存款",
                 "note": "门口核对了医疗票据"})
    return data


def test_a_mistyped_id_number_is_told_with_the_rows_other_gaps(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """A member row with a mistyped ID number and no labour chosen: both are told at once (not the labour only once
    the ID number is put right), and the first row's relation and labour are marked required as its name is."""
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    html = _form(case_id, pages)
    first = html.split('data-row="0"')[1].split('data-row="1"')[0]
    assert 'name="members[0].relation" required' in first and 'name="members[0].labour" required' in first
    data = good_check(html, clock)
    data.update({"members[1].id_number": "340223199001011235", "members[1].labour": ""})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422
    assert "校验位应为" in r.text.split('id="f-members-1-id_number"')[1].split("</div>")[0]
    assert "请选择劳动能力" in r.text.split('id="f-members-1-labour"')[1].split("</div>")[0]
    assert status_of(ctx, case_id) == "scheduled"


def test_the_officer_sees_their_visits_today_first(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled", head_name="李春生")
    officer = officers_of(ctx, case_id)[0]
    pages.login(officer, FACTORY_PASSWORD)
    text = pages.get("/visits").text
    assert "我的走访" in text and "今天（1）" in text and "李春生户" in text and f"/cases/{case_id}/check" in text
    assert text.index("今天（1）") < text.index("李春生户")
    home = pages.get("/").text
    assert "今天的走访" in home
    pages.as_("other-officer", "field_officer")
    assert "李春生户" not in pages.get("/visits").text
    r = pages.get(f"/cases/{case_id}/check")
    assert r.status_code == 404 and "未分配给您" in r.text


def test_the_check_form_works_without_javascript(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    html = _form(case_id, pages)
    assert 'enctype="multipart/form-data"' in html and 'capture="environment"' in html and 'accept="image/*"' in html
    assert len(re.findall(r'<div class="member" data-row="\d+"', html)) == 6  # fixed rows for a phone without JavaScript
    assert len(re.findall(r'<div class="member bill" data-row="\d+"', html)) == 2  # and two bills (more: a link)
    assert html.count('inputmode="decimal"') == 8 + 2 + 1  # the amounts, two bills' and the added row's template
    prefilled = _prefilled(html)
    assert prefilled["members[0].name"] and re.fullmatch(r"\d{17}[\dX]", prefilled["members[0].id_number"])
    assert "<template" in html and "__i__" in html and "data-add-row" in html


def test_a_check_with_mistakes_keeps_what_was_typed(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data.update({"members[1].id_number": "340223199001011235", "income.wages": "3000.123", "stable_income": ""})
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("door.png", PNG, "image/png")})
    assert r.status_code == 422
    assert "最多两位小数" in r.text.split('id="f-income-wages"')[1].split("</div>")[0]
    assert "必填" in r.text.split("家庭是否有稳定收入来源")[1].split("</fieldset>")[0]
    assert 'value="3000.123"' in r.text and 'value="王小明"' in r.text and "门口核对了医疗票据</textarea>" in r.text
    assert 'value="inconsistent" selected' in r.text and 'value="有存款"' in r.text
    # the photo was kept: it comes back as a hidden hash, not to be sent again
    hashes = re.findall(r'name="evidence\.\d+" value="([0-9a-f]{64})"', r.text)
    assert len(hashes) == 1 and "已上传 1 张" in r.text
    assert status_of(ctx, case_id) == "scheduled"

    # the money fixed, the ID number still wrong: the service's message lands beside the member's field
    data.update({"income.wages": "3000", "stable_income": "no", "evidence.0": hashes[0]})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422
    assert "校验位应为" in r.text.split('id="f-members-1-id_number"')[1].split("</div>")[0]

    data["members[1].id_number"] = new_id_number()
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 303, r.text
    assert status_of(ctx, case_id) == "checked"
    text = pages.get(r.headers["location"]).text
    assert "入户核查已提交" in text and "已核查" in text and hashes[0] in text and "3,000.00" in text
    assert f'data-clear-draft="check:{case_id}"' in text


def test_a_good_check_in_one_go_with_a_photo(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    data["members[5].name"] = ""  # blank rows are ignored
    r = pages.post(f"/cases/{case_id}/check", data, files=[("photos", ("a.png", PNG, "image/png")),
                                                            ("photos", ("b.png", PNG + b"1", "image/png"))])
    assert r.status_code == 303 and status_of(ctx, case_id) == "checked"
    # the same form again (its first answer lost on a poor connection): the first one counted, nothing twice
    again = pages.post(f"/cases/{case_id}/check", data)
    assert again.status_code == 303 and again.headers["location"].endswith("done=already")
    assert "此前已提交成功" in pages.get(again.headers["location"]).text
    case = pages.get(f"/cases/{case_id}").text
    assert case.count("SHA-256") >= 2 and "王小明" in case and "不一致" in case
    again = pages.get(f"/cases/{case_id}/check")  # the form opened again: the case, with the check shown
    assert again.status_code == 303 and again.headers["location"].endswith("done=check_done")


def test_a_payee_outside_the_household_is_refused_beside_the_payee_field(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """代收 by someone outside the household is a payee change (a reason, the county reviewer), not the door's."""
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = {**good_check(_form(case_id, pages), clock), "payee.account_name": "李代收"}
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 422
    beside = r.text.split('id="f-payee-account_name"')[1].split("</div>")[0]
    assert "收款人不是本户家庭成员" in beside and "申请变更收款人" in beside, beside
    assert 'value="李代收"' in r.text and 'value="王小明"' in r.text
    assert status_of(ctx, case_id) == "scheduled"


def test_a_payee_added_or_renamed_at_the_door_is_refused_beside_the_payee_field(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """A member new in this check, or one whose name it changes, is no payee at the door: a payee change once the
    check is recorded (reason and county reviewer); the form keeps what was typed."""
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    good = good_check(_form(case_id, pages), clock)
    r = pages.post(f"/cases/{case_id}/check", {**good, "payee.account_name": "王小明"})  # the member added today
    assert r.status_code == 422
    beside = r.text.split('id="f-payee-account_name"')[1].split("</div>")[0]
    assert "新登记的家庭成员" in beside and "收款人变更" in beside and "县级审核人员" in beside, beside
    assert 'value="王小明"' in r.text and 'value="6222 0202 0011 2233"' in r.text and 'value="3,000"' in r.text
    assert status_of(ctx, case_id) == "scheduled"

    renamed = {**good, "members[0].name": "钱同伙", "payee.account_name": "钱同伙"}
    r = pages.post(f"/cases/{case_id}/check", renamed)
    assert r.status_code == 422
    beside = r.text.split('id="f-payee-account_name"')[1].split("</div>")[0]
    assert "姓名由本次核查更改" in beside and "收款人变更" in beside, beside
    assert r.text.count('value="钱同伙"') == 2  # the member's name and the payee's, as typed
    assert status_of(ctx, case_id) == "scheduled"

    r = pages.post(f"/cases/{case_id}/check", good)  # the head under the name on record
    assert r.status_code == 303 and "done=check" in r.headers["location"], r.text
    assert status_of(ctx, case_id) == "checked"


def test_a_bad_photo_is_refused_beside_the_photo_field(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("virus.png", b"MZ\x90\x00", "image/png")})
    assert r.status_code == 422
    assert "只接受 JPEG、PNG、WebP" in r.text.split('id="f-photos"')[1].split("</div>")[0]
    assert status_of(ctx, case_id) == "scheduled"


def test_a_visit_dated_more_than_three_days_back_needs_a_reason_for_the_late_entry(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    case_id = make_case(ctx, stage="scheduled", referred_on=clock.today() - timedelta(days=30))
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    html = _form(case_id, pages)
    # the field is in the form without JavaScript (app.js hides it while the visit day is recent), with its hint
    assert 'data-late-entry="f-visited_on"' in html and 'name="late_entry_reason"' in html and "补录原因" in html
    assert "比今天早 3 天以上时必填" in html
    data = good_check(html, clock)
    data["visited_on"] = (clock.today() - timedelta(days=10)).isoformat()
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("door.png", PNG, "image/png")})
    assert r.status_code == 422
    field = r.text.split('id="late-entry"')[1].split("</div>")[0]
    assert 'id="late_entry_reason-error"' in field and "早 10 天" in field and "须填写补录原因" in field, field
    # every typed value kept, the photo too
    assert f'value="{data["visited_on"]}"' in r.text and 'value="王小明"' in r.text and 'value="3,000"' in r.text
    assert "门口核对了医疗票据</textarea>" in r.text and 'value="inconsistent" selected' in r.text
    hashes = re.findall(r'name="evidence\.\d+" value="([0-9a-f]{64})"', r.text)
    assert len(hashes) == 1
    assert status_of(ctx, case_id) == "scheduled"

    data.update({"evidence.0": hashes[0], "late_entry_reason": "村里没有信号，回乡镇后补录"})
    r = pages.post(f"/cases/{case_id}/check", data)
    assert r.status_code == 303 and "done=check" in r.headers["location"], r.text
    assert status_of(ctx, case_id) == "checked"
    page = pages.get(f"/cases/{case_id}").text
    assert "第 10 天才录入" in page and "村里没有信号，回乡镇后补录" in page


def test_a_check_whose_guarded_write_wrote_no_row_is_refused_409_in_chinese(pages, ctx, clock, monkeypatch,
                                                                             caplog) -> None:  # type: ignore[no-untyped-def]
    """The case's move wrote no row although its row was locked (never expected: a rule broken; on PostgreSQL the
    folded statement's refusal, a DataError naming `NOT_ONE_ROW`): 409 in Chinese, logged as an error, nothing saved,
    never the database's words nor 有内容无法保存."""
    import logging

    from sqlalchemy.exc import DataError

    from verifier.checks import recording
    from verifier.store.faults import BROKEN_RULE_ZH, NOT_ONE_ROW

    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    data = good_check(_form(case_id, pages), clock)
    real = recording.write
    for how in ("error", "real"):
        def write(session, how=how, **kwargs):  # type: ignore[no-untyped-def]
            if how == "error":  # the driver's error as PostgreSQL raises it, on either database
                raise DataError("SELECT CAST(...)", {},
                                Exception(f'invalid input syntax for type integer: "{NOT_ONE_ROW}"'))
            return real(session, **{**kwargs, "before": "nowhere"})  # the case's move asked of a status it is not in

        monkeypatch.setattr(recording, "write", write)
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="verifier"):
            r = pages.post(f"/cases/{case_id}/check", data)
        assert r.status_code == 409, r.text
        assert "invalid input" not in r.text and "有内容无法保存" not in r.text
        if how == "error" or not ctx.db.is_sqlite:  # (SQLite judges the real one itself: a state refusal)
            assert BROKEN_RULE_ZH in r.text
            assert any("rule broken" in rec.getMessage() for rec in caplog.records if rec.levelno == logging.ERROR)
        assert status_of(ctx, case_id) == "scheduled"


def test_the_phone_date_boxes_say_the_day_chosen_in_chinese(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """A phone's date box shows the day in the phone's own order (12/06/2026 in an English phone): the check form and
    the 未能核查 form say the day beside it as 2026年12月6日, the day chosen again on a refused form."""
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    today = clock.today()
    words = f"{today.year}年{today.month}月{today.day}日"
    html = _form(case_id, pages)
    assert 'type="date" id="f-visited_on"' in html
    read = html.split('id="f-visited_on-read"')[1].split("</p>")[0]
    assert f'所选日期：<strong data-day-read="f-visited_on">{words}</strong>' in read
    box = html.split('type="date" id="f-visited_on"')[1].split(">")[0]
    assert 'aria-describedby="f-visited_on-read"' in box, box  # a screen reader says the day with the box
    data = good_check(html, clock)
    data.update({"visited_on": "2020-02-03", "income.wages": "3000.123"})
    r = pages.post(f"/cases/{case_id}/check", data, files={"photos": ("door.png", PNG, "image/png")})
    assert r.status_code == 422 and 'value="2020-02-03"' in r.text
    assert '所选日期：<strong data-day-read="f-visited_on">2020年2月3日</strong>' in r.text
    box = r.text.split('type="date" id="f-visited_on"')[1].split(">")[0]
    described = box.split('aria-describedby="')[1].split('"')[0].split()
    assert described[0] == "f-visited_on-read" and all(f'id="{i}"' in r.text for i in described), box
    if 'id="visited_on-error"' in r.text:  # the day refused: its error is said with the box too
        assert "visited_on-error" in described and 'aria-invalid="true"' in box, box
    attempt = pages.get(f"/cases/{case_id}/visit-attempt").text
    assert f'data-day-read="f-visited_on">{words}</strong>' in attempt


def test_a_day_is_said_in_words_only_when_it_is_a_day() -> None:
    from datetime import date

    from verifier.web.typed import day_in_words

    assert day_in_words("2026-12-06") == day_in_words(date(2026, 12, 6)) == "2026年12月6日"
    assert day_in_words("２０２６/１/５") == "2026年1月5日"
    assert day_in_words("2026-02-30") == day_in_words("") == day_in_words(None) == day_in_words("明天") == ""


def test_a_failed_visit_tells_a_future_day_with_a_missing_reason(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    """The 未能核查 form sent with a day after today and no reason chosen: both are told at once, what was typed kept."""
    from datetime import timedelta

    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    later = (clock.today() + timedelta(days=3)).isoformat()
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": later, "outcome": "", "note": "邻居说外出"})
    assert r.status_code == 422
    assert "不能晚于今天" in r.text and "请选择未能核查的原因" in r.text
    assert f'value="{later}"' in r.text and "邻居说外出</textarea>" in r.text
    assert status_of(ctx, case_id) == "scheduled"
