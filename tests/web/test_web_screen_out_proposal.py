"""The pages of a screen-out proposed on a bureau-referred case: the proposer is told it waits for a second person and
cannot confirm it themselves (told in Chinese, what was typed kept); the county reviewer finds it on the home page
with its reason and proposer, and decides it on the case page."""

from __future__ import annotations

import re

from factories import new_id_number
from sqlalchemy import select

from verifier.store.tables import Case, Referral


def _bureau_case(pages, ctx) -> str:  # type: ignore[no-untyped-def]
    pages.as_("rev-screen", "county_reviewer")
    head = "id_number,name,town,village,household_group,cause,amount,referred_on\n"
    row = f"{new_id_number()},李桂兰,城关镇,东村,low_income,illness,30000.00,{ctx.clock.today().isoformat()}\n"
    r = pages.post("/referrals/import", {"channel": "medical_insurance", "county_code": "340223"},
                   files={"file": ("list.csv", (head + row).encode(), "text/csv")})
    assert r.status_code in (200, 303), r.text
    with ctx.db.read() as session:
        return str(session.scalar(select(Referral.case_id).where(Referral.channel == "medical_insurance")))


def test_a_proposed_screen_out_waits_for_a_second_person_on_the_pages(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    case_id = _bureau_case(pages, ctx)
    pages.as_("clerk-propose", "town_clerk")
    assert 'id="screen-out-second-person"' in pages.get(f"/cases/{case_id}").text
    form = {"decision": "reject", "reason": "家庭有稳定工资收入", "confirm": "yes"}
    r = pages.post(f"/cases/{case_id}/screening", form)
    assert r.status_code == 303
    text = pages.get(r.headers["location"]).text
    assert "须由本乡镇其他经办人或县级复核人员确认后才结案" in text and 'id="screen-out-proposal"' in text
    assert "家庭有稳定工资收入" in text
    # Confirming it themselves: refused in Chinese beside the form, what was typed kept, nothing closed.
    r = pages.post(f"/cases/{case_id}/screening", form)
    assert r.status_code == 403 and "本案的初筛不通过由您提出" in r.text and "four-eyes" not in r.text
    assert "家庭有稳定工资收入</textarea>" in r.text
    # the form offers the proposer 通过 only, saying why instead of 不通过 (as the page did before the post)
    assert 'id="screen-out-refused"' in r.text and 'name="decision" value="reject"' not in r.text
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "received"
    # The county reviewer: on the home page with its reason and proposer; decided on the case page.
    pages.as_("rev-screen", "county_reviewer")
    home = pages.get("/").text
    listed = re.search(r'id="screen-out-proposals".*?</table>', home, re.S).group(0)
    assert f'href="/cases/{case_id}"' in listed and "家庭有稳定工资收入" in listed and pages.users.ids["clerk-propose"] not in listed
    page = pages.get(f"/cases/{case_id}").text
    assert 'id="screening"' in page and 'id="edit-application"' not in page
    r = pages.post(f"/cases/{case_id}/screening", {"decision": "reject", "reason": "核实属实", "confirm": "yes"})
    assert r.status_code == 303
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "screened_out"
    assert 'id="screen-out-proposals"' not in pages.get("/").text
