"""What a walk through every role's everyday pages found (README "Walked again: …"): the field officer's home counts
overdue visits as the visits page groups them; the browser's own request for /favicon.ico finds the icon."""

from __future__ import annotations

import re
from datetime import timedelta

from factories import make_case
from pagekit import FACTORY_PASSWORD, officers_of


def _cards(html: str) -> dict[str, int]:
    return {t: int(n) for n, t in re.findall(r'<div class="count">(\d+)</div>\s*<div class="title">([^<]+)</div>',
                                               html)}


def test_the_officer_home_counts_a_visit_past_its_due_date_as_overdue(pages, ctx, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from verifier.store.tables import Visit

    past_due = make_case(ctx, stage="scheduled", head_name="周逾期")
    today = clock.today()
    with ctx.db.begin() as session:  # planned for a day after its due date (the demo's case 周文军 is such a one)
        session.execute(update(Visit).where(Visit.case_id == past_due, Visit.active.is_(True))
                        .values(visit_on=today + timedelta(days=2), due_on=today - timedelta(days=5)))
    officer = officers_of(ctx, past_due)[0]
    pages.login(officer, FACTORY_PASSWORD)
    visits = pages.get("/visits").text
    assert "已超过核查期限" in visits and "逾期 5 天" in visits
    cards = _cards(pages.get("/").text)
    assert cards["逾期未核查"] == 1 and cards["之后的走访"] == 0 and cards["今天的走访"] == 0


def test_the_browser_finds_its_icon_at_favicon_ico(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/favicon.ico", follow_redirects=False)
    assert r.status_code in (301, 302, 307, 308)
    icon = client.get(r.headers["location"])
    assert icon.status_code == 200 and "svg" in icon.headers["content-type"]
