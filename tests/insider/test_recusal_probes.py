"""回避拦截预警: a person refused by 回避 again and again lately (3 times or more within 7 days, or on 2 households or
more) is shown on the home page of the county reviewers and auditors of the county, linking to the refusals page
filtered to that person; the refusals page is paged."""

from __future__ import annotations

from factories import COUNTY, make_case
from insider_kit import declare_ties, household_member

from verifier.accounts.auth import Principal
from verifier.recusal import refusals

REFUSAL = "与本户成员存在回避关系"


def _screen(client, headers, case_id) -> None:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/cases/{case_id}/screening", headers=headers, json={"decision": "pass", "reason": ""})
    assert r.status_code == 422 and REFUSAL in r.text, r.text


def _warning(pages, who: str) -> str:  # type: ignore[no-untyped-def]
    pages.login(who)
    home = pages.get("/")
    assert home.status_code == 200, home.text
    return home.text.split('id="recusal-probes"')[1].split("</table>")[0] if 'id="recusal-probes"' in home.text else ""


def test_attack_a_clerk_probing_two_households_is_shown_to_the_countys_reviewers(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    users.add("probe", "town_clerk", counties=(COUNTY,))
    users.add("clerk2", "town_clerk", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    users.add("aud", "auditor", counties=(COUNTY,))
    users.add("far", "county_reviewer", counties=("340000",))
    cases = [make_case(ctx, stage="received") for _ in range(2)]
    declare_ties(client, users.headers("probe"), *[household_member(ctx, c)[2] for c in cases])
    pages = Pages(client, users)

    _screen(client, users.headers("probe"), cases[0])  # one refusal on one household: no warning yet
    assert _warning(pages, "rev") == ""
    _screen(client, users.headers("probe"), cases[1])  # a second household within the week: a probe
    for reader in ("rev", "aud"):
        shown = _warning(pages, reader)
        assert "probe" in shown and "/recusal-refusals?person=probe" in shown, shown
        assert ">2<" in shown  # two refusals, two households
    # another county's reviewer and the clerks are told nothing
    assert _warning(pages, "far") == ""
    assert _warning(pages, "clerk2") == "" and _warning(pages, "probe") == ""

    # the link: the page filtered to that person, each refusal with its step and case
    pages.login("rev")
    one = pages.get("/recusal-refusals?person=probe").text
    assert "反复试探" in one and 'id="person-refusals"' in one
    detail = one.split('id="person-refusals"')[1]
    assert detail.count("初筛") == 2 and all(f"/cases/{c}" in detail for c in cases), detail
    assert "clerk2" not in one
    # the same person asked for by a reader of another county: nothing
    pages.login("far")
    assert "账号“probe”没有被拒绝的记录" in pages.get("/recusal-refusals?person=probe").text

    # a week later the warning is gone; the record stays
    ctx.clock.advance(days=8)
    assert _warning(pages, "rev") == ""
    pages.login("rev")
    page = pages.get("/recusal-refusals").text
    assert "probe" in page and "反复试探" not in page.split('id="refusals"')[1]


def test_three_refusals_on_one_household_within_a_week_are_a_probe(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    users.add("rev", "county_reviewer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="received")
    household = household_member(ctx, case_id)[0]
    rev = Principal(id=users.ids["rev"], username="rev", display_name="rev", roles=("county_reviewer",),
                    counties=(COUNTY,))
    for n in range(3):
        with ctx.db.begin() as session:
            refusals.record(session, actor=users.ids["sup"], role="insurer_supervisor", step="determination",
                            households=[household], case_id=case_id, clock=ctx.clock)
        with ctx.db.read() as session:
            found = refusals.probing(session, rev, ctx.clock.now())
        assert [p.username for p in found] == (["sup"] if n == 2 else []), n
        if n == 0:
            ctx.clock.advance(days=3)
    # the first of the three falls out of the window after 7 days: two left, one household: no longer a probe
    ctx.clock.advance(days=5)
    with ctx.db.read() as session:
        assert refusals.probing(session, rev, ctx.clock.now()) == []


def test_the_refusals_page_is_paged(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    from web.pagekit import Pages

    users.add("rev", "county_reviewer", counties=(COUNTY,))
    case_id = make_case(ctx, stage="received")
    household = household_member(ctx, case_id)[0]
    with ctx.db.begin() as session:
        for n in range(55):  # 55 people refused once each
            refusals.record(session, actor=f"person{n:02d}", role="town_clerk", step="screening",
                            households=[household], case_id=case_id, clock=ctx.clock)
    pages = Pages(client, users)
    pages.login("rev")
    first = pages.get("/recusal-refusals").text
    rows = first.split('id="refusals"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 51 and "共 55 条" in first and "person00" in rows and "person54" not in rows
    second = pages.get("/recusal-refusals?page=2").text.split('id="refusals"')[1].split("</table>")[0]
    assert second.count("<tr>") == 6 and "person54" in second and "person00" not in second
    # a search keeps to its own pages
    found = pages.get("/recusal-refusals?q=person5").text
    assert "共 5 条" in found and "下一页" not in found
