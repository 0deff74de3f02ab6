"""The public notice is the village's chance to object. A clerk alone could date a notice back to the village
review held days before, so that its period has already run when it is entered, and close it at once: the notice
never hung on the wall and no objection could come in time. A notice is entered the day it goes up or the next."""

from __future__ import annotations

from datetime import timedelta

from factories import COUNTY, make_case
from sqlalchemy import select

from verifier.notices.models import Notice
from verifier.store.tables import Case


def test_attack_a_clerk_dates_a_notice_back_and_closes_it_the_same_day(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    checked_on = ctx.clock.today()
    case_id = make_case(ctx, village="东村")  # checked and determined today
    ctx.clock.advance(days=10)  # the case waited for its village review
    users.add("clerk", "town_clerk", counties=(COUNTY,))
    clerk = users.headers("clerk")
    r = client.post(f"/api/cases/{case_id}/village-review", headers=clerk,
                    json={"held_on": checked_on.isoformat(), "result": "pass", "note": ""})
    assert r.status_code == 201, r.text  # the meeting may be recorded after it was held
    body = {"county_code": COUNTY, "town": "城关镇", "village": "东村"}
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": checked_on.isoformat()})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["posted_on"], r.text
    two_days = (ctx.clock.today() - timedelta(days=2)).isoformat()
    assert client.post("/api/notices", headers=clerk, json={**body, "posted_on": two_days}).status_code == 422
    with ctx.db.read() as session:
        assert session.get(Case, case_id).status == "reviewed"
        assert session.scalar(select(Notice.id)) is None

    # Entered the day after it went up, it runs its full period from then: not closed before it ends.
    yesterday = (ctx.clock.today() - timedelta(days=1)).isoformat()
    r = client.post("/api/notices", headers=clerk, json={**body, "posted_on": yesterday})
    assert r.status_code == 201, r.text
    assert client.post(f"/api/notices/{r.json()['id']}/close", headers=clerk).status_code == 409
