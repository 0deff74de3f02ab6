"""The pages of a failed village review of a household the insurer found eligible: the clerk who records 未通过 is
told it waits for a second person and cannot confirm it themselves (told in Chinese, what was typed kept); the
county reviewer finds it on the home page with the villagers' reason and who recorded it, and decides it on the case
page: 未通过 closes the case, 通过 (with its reason) overturns it."""

from __future__ import annotations

import re

from factories import case_status, make_case



def test_a_failed_review_waits_for_a_second_person(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, village="东村", head_name="周玉兰")
    today = clock.today().isoformat()
    pages.as_("clerk-review", "town_clerk")
    assert 'id="review-fail-second-person"' in pages.get(f"/cases/{case_id}").text
    form = {"held_on": today, "result": "fail", "note": "村民代表认为该户子女有稳定工资收入"}
    r = pages.post(f"/cases/{case_id}/review", form)
    assert r.status_code == 303
    text = pages.get(r.headers["location"]).text
    assert "须由本县其他经办人或县级复核人员确认后才结案" in text and 'id="review-fail-proposal"' in text
    assert "村民代表认为该户子女有稳定工资收入" in text and case_status(ctx, case_id) == "determined"
    # Confirming it themselves: refused in Chinese beside the form, what was typed kept, nothing closed.
    again = {"held_on": today, "result": "fail", "note": "再次确认未通过"}
    r = pages.post(f"/cases/{case_id}/review", again)
    assert r.status_code == 403 and "本户的村级评议未通过由您记录" in r.text and "four-eyes" not in r.text
    assert "再次确认未通过</textarea>" in r.text
    # the form offers the recorder 通过 only, saying why instead of 未通过 (as the page did before the post)
    assert 'id="review-fail-refused"' in r.text and 'name="result" value="fail"' not in r.text
    assert case_status(ctx, case_id) == "determined"
    # The county reviewer: on the home page with its reason and who recorded it; decided on the case page.
    pages.as_("rev-review", "county_reviewer")
    home = pages.get("/").text
    listed = re.search(r'id="review-fail-proposals".*?</table>', home, re.S).group(0)
    assert f'href="/cases/{case_id}"' in listed and "子女有稳定工资收入" in listed and "周玉兰" in listed
    assert pages.users.ids["clerk-review"] not in listed
    page = pages.get(f"/cases/{case_id}").text
    assert 'id="review"' in page and "确认或否决的说明" in page
    # Overturning without a reason: said in Chinese, the choice kept.
    r = pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass", "note": ""})
    assert r.status_code == 422 and "否决评议未通过的记录，须写明理由" in r.text and 'value="pass" checked' in r.text
    r = pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "pass",
                                                "note": "核实：子女已分户，收入不计入本户"})
    assert r.status_code == 303 and case_status(ctx, case_id) == "reviewed"
    assert 'id="review-fail-proposals"' not in pages.get("/").text


def test_a_second_clerk_confirms_and_the_case_closes(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, village="东村")
    today = clock.today().isoformat()
    pages.as_("clerk-a", "town_clerk")
    pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "fail", "note": "家中新购轿车"})
    pages.as_("clerk-b", "town_clerk")
    assert "待确认的村级评议未通过" in pages.get("/").text
    r = pages.post(f"/cases/{case_id}/review", {"held_on": today, "result": "fail"})
    assert r.status_code == 303 and case_status(ctx, case_id) == "review_failed"
    text = pages.get(f"/cases/{case_id}").text
    assert "家中新购轿车" in text and 'id="review-fail-proposal"' not in text
