"""The officer records a visit that produced no check; the clerk gives an ineligible household its letter and records its review request."""

from __future__ import annotations

from door_kit import door_files
from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of, status_of


def test_the_officer_records_it_on_the_phone_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="scheduled")
    pages.login(officers_of(ctx, case_id)[0], FACTORY_PASSWORD)
    form = pages.get(f"/cases/{case_id}/check")
    assert f'href="/cases/{case_id}/visit-attempt"' in form.text
    page = pages.get(f"/cases/{case_id}/visit-attempt")
    assert page.status_code == 200 and "家中无人" in page.text and "已搬离" in page.text
    # A tired mistake: no reason chosen, "other" without a word. The form keeps what was typed and says why, in Chinese.
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": "2020-06-01", "outcome": "", "note": "敲门无人应"})
    assert r.status_code == 422 and "请选择未能核查的原因" in r.text and "敲门无人应" in r.text
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": "2020-06-01", "outcome": "other", "note": ""})
    assert r.status_code == 422 and "请说明情况" in r.text
    # no photo of the door: the form says so, in Chinese
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": "2020-06-01", "outcome": "refused", "note": ""})
    assert r.status_code == 422 and "请上传走访当天在农户门前拍摄的照片" in r.text
    r = pages.post(f"/cases/{case_id}/visit-attempt", {"visited_on": "2020-06-01", "outcome": "refused", "note": ""},
                   files=door_files("2020-06-01"))
    assert r.status_code == 303 and r.headers["location"] == "/visits?done=attempt"
    assert status_of(ctx, case_id) == "screened"
    assert "案件退回主管重新安排走访" in pages.get("/visits?done=attempt").text


def test_the_clerk_downloads_the_result_letter_and_records_a_review_request(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, wages=9_000_000, stable_income=True)  # ineligible
    pages.as_("clerk", "town_clerk")
    page = pages.get(f"/cases/{case_id}")
    assert f'href="/cases/{case_id}/result-letter"' in page.text and "登记复核申请" in page.text
    letter = pages.get(f"/cases/{case_id}/result-letter")
    assert letter.status_code == 200 and letter.content[:2] == b"PK"
    # A tired mistake: no reason typed. The date typed stays, the message is Chinese.
    r = pages.post(f"/cases/{case_id}/review-request", {"received_on": "2020-06-01", "summary": ""})
    assert r.status_code == 422 and "请填写申请理由" in r.text and 'value="2020-06-01"' in r.text
    r = pages.post(f"/cases/{case_id}/review-request", {"received_on": "2020-06-01", "summary": "收入已下降"})
    assert r.status_code == 303, r.text
    assert status_of(ctx, case_id) == "screened"
    assert "复核申请已登记" in pages.get(r.headers["location"]).text
