"""The monthly report names its county and leads from each figure to the list of the cases behind it."""

from __future__ import annotations

import html
import re

import pytest
from factories import COUNTY, DEMO_CONTRACT, make_case

from verifier.contract import check_contract_text
from verifier.reports.service import FIGURES, figure_cases
from verifier.store.contracts import county_names


def _links(text: str) -> dict[str, str]:
    """label → the href of its figure, from the summary table."""
    summary = text.split('id="summary"')[1].split("</table>")[0]
    return {label: html.unescape(href) for label, href in
            re.findall(r'<td>([^<]+)</td><td class="num"><a href="([^"]+)">', summary)}


def _listed(pages, href: str) -> set[str]:  # type: ignore[no-untyped-def]
    r = pages.get(href)
    assert r.status_code == 200, r.text[:300]
    return set(re.findall(r'<a href="/cases/(case_[^"]+)">', r.text))


def test_each_figure_leads_to_exactly_the_cases_it_counts(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    eligible = [make_case(ctx, stage="determined", medical=4_200_000) for _ in range(2)]
    ineligible = make_case(ctx, stage="determined", wages=9_000_000, stable_income=True)
    checked = make_case(ctx, stage="checked")
    received = make_case(ctx, stage="received")
    pages.as_("rev-links", "county_reviewer")
    text = pages.get(f"/reports?county_code={COUNTY}&month=2020-06").text
    assert f"示范县（{COUNTY}）" in text
    links = _links(text)
    assert _listed(pages, links["认定符合条件（户）"]) == set(eligible)
    assert _listed(pages, links["认定救助金额（元）"]) == set(eligible)
    assert _listed(pages, links["认定不符合条件（户）"]) == {ineligible}
    assert _listed(pages, links["完成入户核查（次）"]) == {*eligible, ineligible, checked}
    assert _listed(pages, links["兑现户数"]) == set()
    listed = pages.get(links["认定符合条件（户）"]).text
    assert "本月认定符合条件的案件" in listed and f"示范县（{COUNTY}）" in listed and "返回月报" in listed
    # The breakdowns lead to their part: the rule of the eligible cases, the channel of May's referrals.
    rule = re.search(r'href="([^"]+figure=eligible%3Aincome_line)"', text)
    assert rule and _listed(pages, html.unescape(rule.group(1))) == set(eligible)
    may = _links(pages.get(f"/reports?county_code={COUNTY}&month=2020-05").text)
    assert _listed(pages, may["监测信息（条）"]) == {*eligible, ineligible, checked, received}
    assert _listed(pages, may["认定符合条件（户）"]) == set()
    # The status counts lead to the list by status, in the county.
    assert f'href="/cases?status=received&amp;county_code={COUNTY}"' in text


def test_every_figure_has_a_query_and_a_label_and_bad_ones_are_refused(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    from verifier.web.stagelabels import REPORT_FIGURES

    assert set(REPORT_FIGURES) == set(FIGURES)
    make_case(ctx, stage="determined")
    with ctx.db.read() as session:
        for figure in FIGURES:  # each query runs on this database
            session.execute(figure_cases(COUNTY, "2020-06", figure)).all()
    pages.as_("rev-bad", "county_reviewer")
    r = pages.get(f"/cases?county_code={COUNTY}&month=2020-06&figure=salary")
    assert r.status_code == 422 and "没有这一项月报数字" in r.text
    assert pages.get(f"/cases?county_code={COUNTY}&month=2020-13&figure=eligible").status_code == 400


def test_a_county_is_named_by_its_contract() -> None:
    text = DEMO_CONTRACT.read_text("utf-8")
    one, _ = check_contract_text(text.encode("utf-8"))
    assert one is not None and one.county_name(COUNTY) == "示范县"  # "示范县人民政府" → 示范县
    two_counties = text.replace('county_codes = ["340223"]', 'county_codes = ["340223", "340224"]').replace(
        'purchaser = "示范县人民政府"', 'purchaser = "示范市人民政府"')
    several, problems = check_contract_text(two_counties.encode("utf-8"))
    assert several is not None, problems
    assert several.county_name(COUNTY) is None  # a city's contract does not name its counties by itself
    named = two_counties.replace('budget =', 'county_names = { "340223" = "南陵县", "340224" = "繁昌区" }\nbudget =')
    c, problems = check_contract_text(named.encode("utf-8"))
    assert c is not None, problems
    assert (c.county_name("340223"), c.county_name("340224")) == ("南陵县", "繁昌区")
    stray = two_counties.replace('budget =', 'county_names = { "999999" = "别处县" }\nbudget =')
    c, problems = check_contract_text(stray.encode("utf-8"))
    assert c is None and [p.field for p in problems] == ["county_names.999999"]


@pytest.mark.parametrize("county", [COUNTY])
def test_county_names_from_the_stored_contracts(ctx, county: str) -> None:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        assert county_names(session) == {county: "示范县"}


def test_the_year_so_far_and_the_breakdowns_lead_to_their_cases(pages, ctx) -> None:  # type: ignore[no-untyped-def]
    east = make_case(ctx, stage="determined", village="东村")
    west = make_case(ctx, stage="determined", village="西村", group="low_income")
    pages.as_("rev-parts", "county_reviewer")
    text = pages.get(f"/reports?county_code={COUNTY}&month=2020-06").text
    # 累计 of May's referrals (made three days before June 1) is in June's second column.
    row = re.search(r'<td>监测信息（条）</td><td class="num"><a href="([^"]+)">0</a></td>'
                    r'<td class="num"><a href="([^"]+)">2</a></td>', text)
    assert row, text.split('id="summary"')[1][:600]
    assert _listed(pages, html.unescape(row.group(1))) == set()
    listed = pages.get(html.unescape(row.group(2)))
    assert "本合同年度累计监测信息涉及的案件" in listed.text
    assert _listed(pages, html.unescape(row.group(2))) == {east, west}
    # A village's cell lists that village's cases; a household group's, that group's.
    village = re.search(r'href="([^"]+figure=checks&amp;town=[^"]+village=%E8%A5%BF%E6%9D%91)"', text)
    assert village and _listed(pages, html.unescape(village.group(1))) == {west}
    group = re.search(r'href="([^"]+figure=cum_checks%3Alow_income)"', text)
    assert group and _listed(pages, html.unescape(group.group(1))) == {west}


def test_a_contract_only_checked_names_no_county_on_the_pages(pages) -> None:  # type: ignore[no-untyped-def]
    """A text checked (`verifier contracts check`, an upload that fails) is not a stored contract: the names it
    declares must not rename the county on every page of the process (it once did, until the process ended)."""
    from verifier.web import labels

    text = DEMO_CONTRACT.read_text("utf-8").replace('county_codes = ["340223"]', 'county_codes = ["340223", "340224"]')
    named = text.replace('budget =', 'county_names = { "340223" = "南陵县", "340224" = "繁昌区" }\nbudget =')
    checked, problems = check_contract_text(named.encode("utf-8"))
    assert checked is not None and checked.county_name(COUNTY) == "南陵县", problems
    assert labels.COUNTIES.get(COUNTY) == "示范县"
    pages.as_("rev-names", "county_reviewer")
    assert "南陵县" not in pages.get("/sampling").text
