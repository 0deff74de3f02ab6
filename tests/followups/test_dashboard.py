"""The county's dashboard: this year's (or a month's) figures drawn as SVG on the home page of the county reviewer
and the insurer's supervisor, each bar a link to exactly the cases behind it; another county is not shown."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from factories import make_case
from followup_kit import pay_cases, person
from sqlalchemy import select

from verifier.dashboard import service as dash
from verifier.domain.errors import NotFound, ValidationFailed
from verifier.payments.models import PaymentItem
from verifier.store.tables import Case

COUNTY = "340223"


@pytest.fixture
def county(ctx):  # type: ignore[no-untyped-def]
    """Two paid cases (one illness low-income, one illness exited) and a case checked late."""
    paid = pay_cases(ctx, 1, group="low_income") + pay_cases(ctx, 1, group="exited_low_standard")
    late = make_case(ctx, stage="checked", referred_on=ctx.clock.today() - timedelta(days=40))
    return {"paid": paid, "late": late}


def _ids(ctx, stmt) -> set[str]:  # type: ignore[no-untyped-def]
    with ctx.db.read() as session:
        return set(session.scalars(stmt))


def test_the_figures_and_the_cases_behind_each_bar(ctx, county) -> None:  # type: ignore[no-untyped-def]
    reviewer = person(ctx, "db-rev", "county_reviewer")
    today = ctx.clock.today()
    year = dash.parse_period("", today)
    with ctx.db.read() as session:
        d = dash.dashboard(session, reviewer, COUNTY, year, today=today)
        amounts = {c: a for c, a in session.execute(select(PaymentItem.case_id, PaymentItem.amount))}
        groups = {c: g for c, g in session.execute(select(Case.id, Case.household_group))}
    assert dict(d.by_stage) == {"paid": 2, "checked": 1}
    assert sum(n for _, n in d.by_month) == 3 and len(d.by_month) == 12
    assert (d.checks_on_time, d.checks_late) == (2, 1)
    relief = {(c, g): fen for c, g, fen in d.relief if fen}
    assert relief == {("illness", groups[c]): amounts[c] for c in county["paid"]}
    assert d.fund is not None and d.fund.paid == sum(amounts.values())
    assert (d.followups.due, d.followups.pending) == (2, 2)  # due 30 days after the settlement, still this year

    def behind(chart: str, period: dash.Period = year) -> set[str]:
        with ctx.db.read() as session:
            return _ids(ctx, dash.chart_cases(session, reviewer, COUNTY, period, chart, today=today))

    assert behind("stage:paid") == set(county["paid"]) and behind("stage:checked") == {county["late"]}
    assert behind("checks:late") == {county["late"]} and behind("checks:on_time") == set(county["paid"])
    assert behind("fund:paid") == set(county["paid"]) and behind("followups:due") == set(county["paid"])
    for c in county["paid"]:
        assert behind(f"relief:illness.{groups[c]}") == {c}
    assert behind("relief:disaster.low_income") == set()
    month = dash.parse_period(f"{today.year}-01", today)
    assert behind("new", month) == set()  # nothing was referred in January
    with ctx.db.read() as session:
        with pytest.raises(ValidationFailed):
            dash.chart_cases(session, reviewer, COUNTY, year, "stage:nonsense", today=today)
        far = person(ctx, "db-far", "county_reviewer", counties=("340224",))
        with pytest.raises(NotFound):
            dash.dashboard(session, far, COUNTY, year, today=today)
        with pytest.raises(NotFound):
            dash.chart_cases(session, far, COUNTY, year, "stage:paid", today=today)


def test_the_home_page_draws_the_charts_and_links_to_the_cases(ctx, client, users, county) -> None:  # type: ignore[no-untyped-def]
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
    from pagekit import Pages

    pages = Pages(client, users).as_("db-page-rev", "county_reviewer")
    home = pages.get("/")
    assert home.status_code == 200 and "<svg" in home.text and "<title>已支付：2 件</title>" in home.text
    links = [unescape(h) for h in re.findall(r'<a href="(/cases\?[^"]+)" class="bar-link">', home.text)]
    assert any("chart=stage%3Apaid" in h for h in links) and any("chart=followups%3Adue" in h for h in links)
    paid_link = next(h for h in links if "chart=stage%3Apaid" in h)
    listed = pages.get(paid_link)
    with ctx.db.read() as session:
        numbers = {c.id: c.number for c in session.scalars(select(Case))}
    assert listed.status_code == 200 and "按环节：已支付" in listed.text
    banner = re.search(r'<p class="panel" id="chart-filter">(.*?)</p>', listed.text, re.S)
    assert banner and f"（{COUNTY}）" in banner.group(1), "the banner names the county, not only its code"
    assert all(numbers[c] in listed.text for c in county["paid"]) and numbers[county["late"]] not in listed.text
    month = pages.get(f"/?period={ctx.clock.today().year}-01")
    assert month.status_code == 200 and "1月概况" in month.text and "<title>已支付：2 件" not in month.text
    assert pages.get("/?county=340224").status_code == 404  # another county's figures are not there
    assert pages.get(f"/cases?county_code=340224&period={ctx.clock.today().year}&chart=stage:paid").status_code \
        == 404
    bad = pages.get(f"/cases?county_code={COUNTY}&period={ctx.clock.today().year}&chart=stage:nonsense")
    assert bad.status_code == 422 and "没有这一项图表" in bad.text
    assert "<svg" in Pages(client, users).as_("db-page-sup", "insurer_supervisor").get("/").text
    assert "<svg" not in Pages(client, users).as_("db-page-clerk", "town_clerk").get("/").text
