"""A case left on a stale visit (its officers, or an account linked to one's by a password, make no check of it
again: `cases.service.stale_visits`).

- Reading which visits are stale costs the same few statements however many such cases there are: the password
  links of every barred officer are read at once (`linked_to_barred_of`), and the scheduling page reads them once
  (its list's households with them, at once).
- The planner takes such a case only if, once it is locked, it is still on a stale visit: a case scheduled anew by
  hand meanwhile is not planned again.
- One booking rule (`booking_visits`): a stale visit books nobody, for the planner and for scheduling by hand
  alike (an officer's daily capacity, a vehicle's one team)."""

from __future__ import annotations

from typing import Any

from factories import COUNTY, make_case, staff
from sqlalchemy import event, select

from verifier.accounts.auth import principal_of
from verifier.cases import service
from verifier.store.tables import Case, Check, User, Visit


def _left_stale(ctx: Any, officers: list[str], by: str) -> str:
    """A case checked by team 0 whose check was sent back, left `scheduled` on its visit held by `officers`."""
    case_id = make_case(ctx, stage="checked", team=0)
    with ctx.db.begin() as session:
        check = session.scalars(select(Check).where(Check.case_id == case_id)).one()
        check.sent_back_at, check.sent_back_by = ctx.clock.now(), by
        case = session.get(Case, case_id)
        assert case is not None
        case.status = "scheduled"
        visit = session.scalars(select(Visit).where(Visit.case_id == case_id).order_by(Visit.created_at.desc())).first()
        assert visit is not None
        visit.active, visit.officer_ids = True, list(officers)
    return case_id


def _counted(ctx: Any, fn: Any) -> tuple[int, Any]:
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    engines = {id(e): e for e in (ctx.db.engine, ctx.db.quick_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        out = fn()
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)
    return len(sent), out


def test_stale_cases_are_found_in_the_same_statements_however_many(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    team0 = staff(ctx, COUNTY, 0)
    sup = users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    pal = users.add("pal", "field_officer", counties=(COUNTY,))
    other = users.add("other", "field_officer", counties=(COUNTY,))
    with ctx.db.begin() as session:  # "pal" is team 0's first officer's second account
        session.get(User, pal).password_set_by = team0.officer1.id  # type: ignore[union-attr]
    with ctx.db.read() as session:
        principal = principal_of(session.get(User, sup))  # type: ignore[arg-type]

    def stale() -> list[str]:
        with ctx.db.read() as session:
            return service.stale_scheduled(session, principal)

    def schedule_page() -> str:
        r = client.get("/schedule", headers=users.headers("sup"))
        assert r.status_code == 200, r.text
        return str(r.text)

    first = _left_stale(ctx, [pal, other], sup)
    users.headers("sup")  # logged in before counting
    one, found = _counted(ctx, stale)
    assert found == [first]
    page_one, _ = _counted(ctx, schedule_page)
    more = [_left_stale(ctx, [pal, other], sup) for _ in range(3)]
    many, found = _counted(ctx, stale)
    assert found == sorted([first, *more])
    assert many == one <= 4, (one, many)
    page_many, text = _counted(ctx, schedule_page)
    assert page_many == page_one, (page_one, page_many)
    assert all(f'href="/cases/{c}/schedule">改派</a>' in text for c in [first, *more])


def test_the_planner_leaves_a_case_scheduled_anew_since_it_read_the_stale_ones(  # type: ignore[no-untyped-def]
        ctx, client, users, monkeypatch) -> None:
    """The stale cases are read before the cases are locked: one scheduled by hand in between (here: read as stale
    though its visit is not) is no longer on a stale visit once locked, and the plan leaves it be."""
    sup = users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    moved = make_case(ctx, stage="scheduled", team=1)
    screened = make_case(ctx, stage="screened")
    with ctx.db.read() as session:
        visit = session.scalar(select(Visit.id).where(Visit.case_id == moved, Visit.active.is_(True)))
    real = service.stale_scheduled
    monkeypatch.setattr(service, "stale_scheduled", lambda session, principal: sorted(
        {*real(session, principal), moved}))
    r = client.post("/api/schedule/plan", headers=users.headers("sup"),
                    json={"county_code": COUNTY, "from": ctx.clock.today().isoformat(), "days": 5, "apply": True})
    assert r.status_code == 200, r.text
    planned = {a["case_id"] for a in r.json()["assignments"]} | {u["case_id"] for u in r.json()["unplaced"]}
    assert moved not in planned and screened in planned, r.json()
    with ctx.db.read() as session:
        assert session.scalars(select(Visit.id).where(Visit.case_id == moved, Visit.active.is_(True))).all() == [visit]
    assert sup


def test_a_stale_visit_books_nobody_when_scheduling_by_hand(ctx, client, users) -> None:  # type: ignore[no-untyped-def]
    """Team 0 holds a stale visit today in 车000 (their check was sent back, the case left on it): they and the
    vehicle are free for another case, by hand as for the planner."""
    team0 = staff(ctx, COUNTY, 0)
    sup = users.add("sup", "insurer_supervisor", counties=(COUNTY,))
    stale_case = _left_stale(ctx, [team0.officer1.id, team0.officer2.id], sup)
    with ctx.db.read() as session:
        stale = session.scalars(select(Visit).where(Visit.case_id == stale_case, Visit.active.is_(True))).one()
        assert service.stale_visits(session, [stale]) == {stale.id}
        capacity = service.visit_calendar(session, session.get(Case, stale_case).contract_id).capacity_per_day  # type: ignore[union-attr]
        booked = service.booking_visits(session, [stale.visit_on])
    assert stale.id not in {v.id for v in booked}
    # fill the team's day with stale visits: none counts against its capacity
    for _ in range(capacity - 1):
        _left_stale(ctx, [team0.officer1.id, team0.officer2.id], sup)
    other = make_case(ctx, stage="screened")
    r = client.post(f"/api/cases/{other}/schedule", headers=users.headers("sup"), json={
        "officers": [team0.officer1.id, team0.officer2.id], "visit_on": stale.visit_on.isoformat(),
        "vehicle": stale.vehicle, "reason": "就近"})
    assert r.status_code == 200, r.text
    # a live visit still books them: another case that day in the same vehicle with others is refused
    team1 = staff(ctx, COUNTY, 1)
    third = make_case(ctx, stage="screened")
    r = client.post(f"/api/cases/{third}/schedule", headers=users.headers("sup"), json={
        "officers": [team1.officer1.id, team1.officer2.id], "visit_on": stale.visit_on.isoformat(),
        "vehicle": stale.vehicle, "reason": "就近"})
    assert r.status_code == 422, r.text
