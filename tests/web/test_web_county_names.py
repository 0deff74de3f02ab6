"""A county is shown by its name with its code (示范县（340223）), as its contract names it, wherever a page lets a
person pick or read a county: a code of six digits alone is a number nobody at a desk reads."""

from __future__ import annotations

import re

from verifier.web.templating import county


def test_a_county_is_named_by_its_contract_and_an_unnamed_one_keeps_its_code(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("sup-names", "insurer_supervisor")  # the demo contract's purchaser is 示范县人民政府
    assert county("340223") == "示范县（340223）"
    assert county("999999") == "999999" and county(None) == ""
    schedule = pages.get("/schedule").text
    assert re.search(r'<option value="340223"[^>]*>示范县（340223）</option>', schedule), schedule
    assert '<label for="f-county_code">县（区）<span' in schedule


def test_the_home_page_the_notice_form_and_the_user_list_name_the_county(pages) -> None:  # type: ignore[no-untyped-def]
    pages.as_("rev-names", "county_reviewer")
    assert "示范县（340223）" in pages.get("/").text
    pages.as_("clerk-names", "town_clerk")
    assert re.search(r">示范县（340223）</option>", pages.get("/notices/new").text)
    pages.as_("admin-names", "admin", counties=("340223",))
    assert re.search(r"<td data-label=\"县（区）\">示范县（340223）</td>", pages.get("/users").text)
