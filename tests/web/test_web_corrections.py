"""Correcting mistakes through the pages: the supervisor sends a check back for another visit; the town clerk edits
a saved application until it is screened."""

from __future__ import annotations

from factories import make_case


def test_the_supervisor_sends_a_check_back_from_the_determination_page(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="checked", head_name="赵六")
    pages.as_("sup1", "insurer_supervisor")
    url = f"/cases/{case_id}/determination"
    text = pages.get(url).text
    assert 'id="send-back"' in text and "退回重新核查" in text
    r = pages.post(url + "/send-back", {"reason": "", "confirm": "yes"})
    assert r.status_code == 422 and "请说明退回原因" in r.text
    r = pages.post(url + "/send-back", {"reason": "家庭成员人数与户籍不符"})
    assert r.status_code == 422 and "请先勾选确认框" in r.text and "家庭成员人数与户籍不符" in r.text
    r = pages.post(url + "/send-back", {"reason": "家庭成员人数与户籍不符", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}?done=sent_back"
    text = pages.get(r.headers["location"]).text
    assert "核查已退回" in text and "已退回" in text and "sup1" in text and "原因：家庭成员人数与户籍不符" in text
    assert "已初筛" in text  # back to be scheduled
    r = pages.post(url + "/send-back", {"reason": "再退", "confirm": "yes"})
    assert r.status_code == 409
