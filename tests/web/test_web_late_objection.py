"""The clerk's page of a notice closed at 00:00 on its `ends_on`: that day it still takes an objection received within
the period (补登), against a household the notice cleared, and says that the household's payment waits for it; the
payments page counts the household apart. The clerk's home card 待处理异议 leads to it; the next day the form is gone."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from factories import make_case
from village_kit import confirm_posting

from verifier.clock import SCHEME_TZ

COUNTY = "340223"


def test_the_closed_notice_takes_the_last_days_objection_on_its_page_that_day(  # type: ignore[no-untyped-def]
        pages, ctx, clock) -> None:
    case_id = make_case(ctx, stage="determined", village="东村", head_name="甲户主")
    pages.as_("clerk1", "town_clerk")
    today = clock.today()
    assert pages.post(f"/cases/{case_id}/review", {"held_on": today.isoformat(), "result": "pass"}).status_code == 303
    r = pages.post("/notices/new", {"county_code": COUNTY, "town": "城关镇", "village": "东村",
                                    "posted_on": today.isoformat()})
    notice_url = r.headers["location"].split("?")[0]
    confirm_posting(ctx, notice_url.rsplit("/", 1)[1])
    ends_on = today + timedelta(days=7)
    last = ends_on - timedelta(days=1)
    clock.at = datetime.combine(ends_on, time(0, 0), SCHEME_TZ)
    text = pages.get(notice_url).text
    assert f"最迟于 {ends_on.isoformat()} 补登" in text  # said before closing
    assert pages.post(notice_url + "/close", {"confirm": "yes"}).status_code == 303

    clock.at = datetime.combine(ends_on, time(8, 30), SCHEME_TZ)
    pages.as_("clerk2", "town_clerk")
    text = pages.get(notice_url).text
    form = text.split('id="objection"')[1].split("</form>")[0]
    assert "补登公示期内收到的异议" in form and 'id="late-objection"' in form
    assert f'value="{case_id}"' in form and f'max="{last.isoformat()}"' in form
    r = pages.post(notice_url + "/objections", {"case_id": case_id, "received_on": last.isoformat(),
                                                "summary": "村民来信反映该户有经营收入", "received_via": "letter"})
    assert r.status_code == 303, r.text
    shown = pages.get(notice_url).text
    assert "村民来信反映该户有经营收入" in shown and "待处理" in shown
    # the clerk's home card leads to the closed notice, which the list marks
    home = pages.get("/").text
    assert re.search(r'<a class="card" href="/notices">\s*<div class="count">1</div>\s*<div class="title">待处理异议',
                     home), home
    assert f'href="{notice_url}#objections">待处理异议 1 条</a>' in pages.get("/notices").text

    pages.as_("claims1", "insurer_claims")
    text = pages.get("/payments").text
    assert 'id="objection-held"' in text and "另有 1 户公示已结束，但在公示结束后补登" in text

    clock.at = datetime.combine(ends_on + timedelta(days=1), time(8, 30), SCHEME_TZ)
    pages.as_("clerk2", "town_clerk")
    assert 'id="late-objection"' not in pages.get(notice_url).text
