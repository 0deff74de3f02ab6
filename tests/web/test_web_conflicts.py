"""Cross-county conflicts on the pages: the clerk reads a neutral message in Chinese; the reviewers of both counties
find the conflict on their page and home."""

from __future__ import annotations

from factories import make_case
from sqlalchemy import select

from verifier.store.tables import Referral

NEUTRAL_ZH = "该身份证号无法在本县登记，请联系县级复核员"


def test_the_clerk_reads_a_neutral_message_and_both_reviewers_see_the_conflict(pages, ctx, other_county) -> None:  # type: ignore[no-untyped-def]
    case_id = make_case(ctx, stage="received")
    with ctx.db.read() as session:
        referral = session.scalar(select(Referral).where(Referral.case_id == case_id))
        name, idn = referral.name, ctx.vault.open(referral.id_number_enc, "referral.id_number")
    pages.as_("clerk-there", "town_clerk", counties=(other_county,))
    r = pages.post("/applications/new", {
        "county_code": other_county, "id_number": idn, "name": name, "town": "新镇", "village": "新村",
        "household_group": "low_income", "cause": "illness", "amount": "30000", "referred_on": "2020-05-30"})
    assert r.status_code == 422 and NEUTRAL_ZH in r.text
    assert "340223" not in r.text.replace(idn, "")  # the household's county is not named
    for county in ("340223", other_county):
        pages.as_(f"reviewer-{county}", "county_reviewer", counties=(county,))
        text = pages.get("/conflicts").text
        assert "跨县登记冲突" in text and "农户申请" in text and other_county in text and idn not in text
        assert idn[:6] + "********" + idn[-4:] in text
        assert "/conflicts" in pages.get("/").text
    pages.as_("reviewer-third", "county_reviewer", counties=("340225",))
    assert "没有涉及本县" in pages.get("/conflicts").text
    assert pages.as_("clerk-x", "town_clerk").get("/conflicts").status_code == 403
